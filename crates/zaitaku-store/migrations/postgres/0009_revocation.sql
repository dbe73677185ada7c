-- Issue 15: revocation at national scale. The serials each kept CRL lists, in
-- an index every process shares (looked up per token, never scanned), and a
-- counter that any change of anchors or CRLs moves, so a reload with nothing
-- changed is one cheap query.
CREATE TABLE revoked_serials (
    crl_id      BIGINT NOT NULL REFERENCES crls (id) ON DELETE CASCADE,
    -- Upper-case hex, as certificate summaries print serials.
    serial      TEXT NOT NULL,
    revoked_at  BIGINT NOT NULL,
    PRIMARY KEY (crl_id, serial)
);

CREATE INDEX crls_by_signer ON crls (signer_fingerprint, partition);

CREATE TABLE trust_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  BIGINT NOT NULL
);
INSERT INTO trust_generation (id, generation) VALUES (1, 0);

CREATE FUNCTION trust_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE trust_generation SET generation = generation + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER crls_changed AFTER INSERT ON crls
    FOR EACH ROW EXECUTE FUNCTION trust_changed();
CREATE TRIGGER trust_anchors_changed AFTER INSERT ON trust_anchors
    FOR EACH ROW EXECUTE FUNCTION trust_changed();

-- CRLs imported before this index have no serials in it; they must be
-- imported again (`zaitaku admin crl status` and the serve log name what is missing).
DELETE FROM crls;

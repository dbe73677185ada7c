-- Issue 15: revocation at national scale. The serials each kept CRL lists, in
-- an index every process shares (looked up per token, never scanned), and a
-- counter that any change of anchors or CRLs moves, so a reload with nothing
-- changed is one cheap query.
CREATE TABLE revoked_serials (
    crl_id      INTEGER NOT NULL REFERENCES crls (id) ON DELETE CASCADE,
    -- Upper-case hex, as certificate summaries print serials.
    serial      TEXT NOT NULL,
    revoked_at  INTEGER NOT NULL,
    PRIMARY KEY (crl_id, serial)
) WITHOUT ROWID;

CREATE INDEX crls_by_signer ON crls (signer_fingerprint, partition);

CREATE TABLE trust_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO trust_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER crls_changed AFTER INSERT ON crls
BEGIN
    UPDATE trust_generation SET generation = generation + 1;
END;
CREATE TRIGGER trust_anchors_changed AFTER INSERT ON trust_anchors
BEGIN
    UPDATE trust_generation SET generation = generation + 1;
END;

-- CRLs imported before this index have no serials in it; they must be
-- imported again (`zaitaku admin crl status` and the serve log name what is missing).
DELETE FROM crls;

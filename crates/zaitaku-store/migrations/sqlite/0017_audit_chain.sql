-- Issue 16, parts 6 and 7: a complete access log, and the consent history,
-- the access log and the login log hash-chained per institution (see
-- src/audit.rs). Rows already there are chained on the first start after
-- this migration, in id order, before the store serves (`audit::chain_pending`).

-- The access log: entries without a person (a list search, a settings change),
-- a detail (the filter, what changed), the device, and the CLI as the actor
-- (no staff, no institution for a person export without consents). SQLite
-- cannot drop NOT NULL in place: the table is rebuilt.
CREATE TABLE access_log_v17 (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    institution_id INTEGER REFERENCES institutions (id),
    staff_id       INTEGER,
    staff_login    TEXT NOT NULL,
    staff_name     TEXT NOT NULL,
    person_id      INTEGER REFERENCES insured_persons (id),
    action         TEXT NOT NULL,
    device_name    TEXT,
    detail         TEXT,
    chain_seq      INTEGER,
    chain_hash     TEXT
);
INSERT INTO access_log_v17 (id, at, institution_id, staff_id, staff_login, staff_name,
    person_id, action)
    SELECT id, at, institution_id, staff_id, staff_login, staff_name, person_id, action
    FROM access_log;
DROP TABLE access_log;
ALTER TABLE access_log_v17 RENAME TO access_log;
CREATE INDEX access_log_by_institution ON access_log (institution_id, id);
CREATE INDEX access_log_by_time ON access_log (at);
CREATE INDEX access_log_by_person ON access_log (person_id, id);

-- The consent history names its institution: its chain.
ALTER TABLE consent_history ADD COLUMN institution_id INTEGER REFERENCES institutions (id);
UPDATE consent_history
    SET institution_id = (SELECT c.institution_id FROM consents c WHERE c.id = consent_history.consent_id);
-- Issue 16: a patient-side change names the enrolled device that started its
-- flow (copied, as the access log copies names; NULL where anyone may start flows).
ALTER TABLE consent_history ADD COLUMN device_name TEXT;
ALTER TABLE consent_history ADD COLUMN chain_seq INTEGER;
ALTER TABLE consent_history ADD COLUMN chain_hash TEXT;

ALTER TABLE staff_logins ADD COLUMN chain_seq INTEGER;
ALTER TABLE staff_logins ADD COLUMN chain_hash TEXT;

-- One place per sequence number in each chain (a fork could not commit), the
-- chain in order for verification, and the rows still to chain.
CREATE UNIQUE INDEX consent_history_chain ON consent_history (COALESCE(institution_id, 0), chain_seq);
CREATE UNIQUE INDEX access_log_chain ON access_log (COALESCE(institution_id, 0), chain_seq);
CREATE UNIQUE INDEX staff_logins_chain ON staff_logins (COALESCE(institution_id, 0), chain_seq);
CREATE INDEX consent_history_unchained ON consent_history (id) WHERE chain_seq IS NULL;
CREATE INDEX access_log_unchained ON access_log (id) WHERE chain_seq IS NULL;
CREATE INDEX staff_logins_unchained ON staff_logins (id) WHERE chain_seq IS NULL;

-- Each chain's head (the row an append locks) and its checkpoint (where the
-- chain left by the retention purge starts). scope: the institution's id, 0
-- for the login log's entries without an institution.
CREATE TABLE audit_chains (
    chain      TEXT NOT NULL,
    scope      INTEGER NOT NULL,
    head_seq   INTEGER NOT NULL,
    head_hash  TEXT NOT NULL,
    start_seq  INTEGER NOT NULL,
    start_hash TEXT NOT NULL,
    PRIMARY KEY (chain, scope)
);

-- Each `admin audit verify` run, for the console. institution_id NULL: every chain.
CREATE TABLE audit_verifications (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    institution_id INTEGER REFERENCES institutions (id),
    intact         INTEGER NOT NULL,
    chains         INTEGER NOT NULL,
    findings       TEXT NOT NULL
);
CREATE INDEX audit_verifications_by_time ON audit_verifications (at);

-- A chained entry is never changed: an UPDATE is refused once the entry has
-- its hash (the append sets it once). Defence in depth only: whoever can drop
-- these triggers can edit rows, and the chain is what shows it. Deletions stay
-- allowed: the retention purge deletes a chain's oldest entries.
CREATE TRIGGER consent_history_sealed BEFORE UPDATE ON consent_history
    WHEN OLD.chain_hash IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'consent_history entries are never changed once chained'); END;
CREATE TRIGGER access_log_sealed BEFORE UPDATE ON access_log
    WHEN OLD.chain_hash IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'access_log entries are never changed once chained'); END;
CREATE TRIGGER staff_logins_sealed BEFORE UPDATE ON staff_logins
    WHEN OLD.chain_hash IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'staff_logins entries are never changed once chained'); END;

-- Issue 16: who may start flows at an institution's URL, and its enrolled
-- devices. Institutions that exist before this change keep 'anyone' (the
-- column's default); institutions added from now on are given 'enrolled' by
-- the program.
ALTER TABLE institutions ADD COLUMN flows_from TEXT NOT NULL DEFAULT 'anyone';

-- A browser enrolled as one institution's device. The browser holds one
-- random secret in a cookie; the store keeps its SHA-256 only. One browser may
-- be a device of several institutions (one row each). A revoked row stays,
-- for the record; the same browser enrolled again gets a new row.
CREATE TABLE institution_devices (
    id               INTEGER PRIMARY KEY,
    institution_id   INTEGER NOT NULL REFERENCES institutions (id),
    name             TEXT NOT NULL,
    credential_hash  TEXT NOT NULL,
    -- Who enrolled it: the staff account and its login copied at the time,
    -- or no account and 'admin CLI' (an activation code from the command line).
    enrolled_by_staff INTEGER REFERENCES staff (id) ON DELETE SET NULL,
    enrolled_by      TEXT NOT NULL,
    enrolled_at      INTEGER NOT NULL,
    last_seen_at     INTEGER,
    revoked_at       INTEGER,
    revoked_by_staff INTEGER REFERENCES staff (id) ON DELETE SET NULL,
    revoked_by       TEXT
);
-- The gate's one read: a live device of this browser at this institution.
CREATE UNIQUE INDEX institution_devices_live
    ON institution_devices (credential_hash, institution_id) WHERE revoked_at IS NULL;
CREATE INDEX institution_devices_by_institution ON institution_devices (institution_id);

-- One-time activation codes (SHA-256 of the canonical code), typed at /device.
CREATE TABLE device_activation_codes (
    code_hash         TEXT PRIMARY KEY,
    institution_id    INTEGER NOT NULL REFERENCES institutions (id),
    device_name       TEXT NOT NULL,
    created_by_staff  INTEGER REFERENCES staff (id) ON DELETE SET NULL,
    created_by        TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    used_at           INTEGER,
    device_id         INTEGER REFERENCES institution_devices (id)
);

-- Which enrolled device started a flow (none: a flow started where anyone may).
ALTER TABLE flows ADD COLUMN device_id INTEGER REFERENCES institution_devices (id);

-- Issue 16: the patient's own phone reaches an institution that only its
-- devices may use through a 2D code an enrolled device shows. The code carries
-- a single-use invitation (its SHA-256 here), valid minutes, tied to the
-- institution and to the device that showed it. Opening it admits that one
-- browser session to the institution for a short while.
CREATE TABLE invitations (
    token_hash     TEXT PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions (id),
    device_id      INTEGER NOT NULL REFERENCES institution_devices (id),
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    -- SHA-256 of the browser session the invitation admitted.
    session_hash   TEXT
);
-- The gate's read for a phone: the invitation its session used at this institution.
CREATE INDEX invitations_by_session ON invitations (session_hash, institution_id)
    WHERE session_hash IS NOT NULL;
CREATE INDEX invitations_by_expiry ON invitations (expires_at);
-- The cap on one device's unexpired invitations counts here.
CREATE INDEX invitations_by_device ON invitations (device_id, expires_at);

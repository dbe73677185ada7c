-- Issue 17: password attempts counted before the password is checked, per
-- account (unknown browsers) and per remembered device, with a growing wait.
CREATE TABLE login_throttles (
    -- 'account:<staff id>' or 'device:<SHA-256 of the device cookie>'
    key       TEXT PRIMARY KEY,
    staff_id  INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    attempts  INTEGER NOT NULL,
    next_at   INTEGER NOT NULL
);
CREATE INDEX login_throttles_by_staff ON login_throttles (staff_id);

-- Browsers where an account completed a login: their attempts count apart.
CREATE TABLE staff_devices (
    token_hash  TEXT PRIMARY KEY,
    staff_id    INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX staff_devices_by_staff ON staff_devices (staff_id);

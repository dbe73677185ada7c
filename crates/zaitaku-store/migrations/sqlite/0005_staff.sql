-- Issue 6: the institution's staff, their console sessions and every login.

-- One row per console account. Before enrolment completes, password_hash and
-- the second factor are empty and only the one-time enrolment token (its
-- SHA-256; the link holds the token) opens the account.
CREATE TABLE staff (
    id                   INTEGER PRIMARY KEY,
    institution_id       INTEGER NOT NULL REFERENCES institutions (id),
    login_name           TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    role                 TEXT NOT NULL,
    -- argon2id, as a PHC string.
    password_hash        TEXT,
    -- TOTP (RFC 6238) secret, base32; set when the enrolment link is made, in use once enrolled.
    totp_secret          TEXT NOT NULL,
    -- The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step       INTEGER,
    failed_attempts      INTEGER NOT NULL DEFAULT 0,
    locked_until         INTEGER,
    enrolment_token_hash TEXT UNIQUE,
    enrolment_expires_at INTEGER,
    created_at           INTEGER NOT NULL
);
CREATE INDEX staff_by_institution ON staff (institution_id);

-- Console sessions; the cookie holds the id, the table only its SHA-256. A
-- session begins at the login form ('login', no staff yet), becomes
-- 'password_ok' after the password and, under a new id, 'complete' after the code.
CREATE TABLE staff_sessions (
    id_hash      TEXT PRIMARY KEY,
    staff_id     INTEGER REFERENCES staff (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    -- The sooner of the idle and the absolute timeout.
    expires_at   INTEGER NOT NULL
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);

-- Every login attempt and enrolment. The login name is what was typed (cut to
-- 64 characters); staff and institution are known when an account has that name.
CREATE TABLE staff_logins (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    login_name     TEXT NOT NULL,
    staff_id       INTEGER REFERENCES staff (id) ON DELETE SET NULL,
    institution_id INTEGER REFERENCES institutions (id),
    outcome        TEXT NOT NULL
);
CREATE INDEX staff_logins_by_institution ON staff_logins (institution_id, at);

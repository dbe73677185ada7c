-- Instants are unix seconds (INTEGER); calendar dates are 'YYYY-MM-DD' (TEXT).

CREATE TABLE institutions (
    id                    INTEGER PRIMARY KEY,
    code                  TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    offered_items         TEXT NOT NULL,   -- item codes in display order, 'YZK,SRJ,TKK'
    e_prescription        TEXT NOT NULL,   -- 電子処方箋利用区分 0-3
    consent_validity_days INTEGER NOT NULL CHECK (consent_validity_days > 0),
    url_token             TEXT NOT NULL UNIQUE,
    created_at            INTEGER NOT NULL
);

CREATE TABLE insured_persons (
    id                     INTEGER PRIMARY KEY,
    insurer_number         TEXT NOT NULL,
    insurer_name           TEXT NOT NULL,
    symbol                 TEXT,
    number                 TEXT NOT NULL,
    branch                 TEXT,
    relationship           TEXT NOT NULL,
    name                   TEXT NOT NULL,
    name_kana              TEXT NOT NULL,
    sex                    TEXT NOT NULL,
    birth_date             TEXT NOT NULL,
    address                TEXT NOT NULL,
    postal_code            TEXT NOT NULL,
    acquired_on            TEXT NOT NULL,
    lost_on                TEXT,
    loss_reason            TEXT,
    valid_from             TEXT,
    valid_until            TEXT,
    burden_ratio           TEXT,
    elderly_valid_from     TEXT,
    elderly_valid_until    TEXT,
    elderly_burden_ratio   TEXT,
    limit_category         TEXT,
    limit_applied_category TEXT,
    specific_disease       TEXT,
    validity               TEXT NOT NULL
);

-- Made at health-insurance use registration: which card certificate is whose.
CREATE TABLE certificate_links (
    issuer     TEXT NOT NULL,
    serial     TEXT NOT NULL,
    person_id  INTEGER NOT NULL REFERENCES insured_persons (id),
    linked_at  INTEGER NOT NULL,
    PRIMARY KEY (issuer, serial)
);

-- Browser sessions; the cookie holds the id, the table only its SHA-256.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE flows (
    id             TEXT PRIMARY KEY,
    session_hash   TEXT NOT NULL,
    institution_id INTEGER NOT NULL REFERENCES institutions (id),
    purpose        TEXT NOT NULL,
    step           TEXT NOT NULL,
    choices        TEXT,
    failure        TEXT,
    challenge_ref  TEXT,
    person_id      INTEGER REFERENCES insured_persons (id),
    consent_id     INTEGER REFERENCES consents (id),
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL
);

-- Single-use, purpose-bound, session-bound authentication challenges.
CREATE TABLE challenges (
    reference    TEXT PRIMARY KEY,
    nonce        TEXT NOT NULL UNIQUE,
    flow_id      TEXT NOT NULL REFERENCES flows (id),
    session_hash TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    state        TEXT NOT NULL,   -- pending, succeeded, failed, cancelled
    failure      TEXT,
    settled_at   INTEGER
);
CREATE INDEX challenges_by_flow ON challenges (flow_id);

CREATE TABLE consents (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions (id),
    person_id      INTEGER NOT NULL REFERENCES insured_persons (id),
    choices        TEXT NOT NULL,
    status         TEXT NOT NULL,
    expires_on     TEXT NOT NULL,
    registered_at  INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    UNIQUE (institution_id, person_id)
);

CREATE TABLE consent_history (
    id              INTEGER PRIMARY KEY,
    consent_id      INTEGER NOT NULL REFERENCES consents (id),
    at              INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    channel         TEXT NOT NULL,
    auth_issuer     TEXT,
    auth_serial     TEXT,
    auth_revocation TEXT,
    old_choices     TEXT,
    old_status      TEXT,
    new_choices     TEXT NOT NULL,
    new_status      TEXT NOT NULL,
    flow_id         TEXT
);
CREATE INDEX consent_history_by_consent ON consent_history (consent_id);

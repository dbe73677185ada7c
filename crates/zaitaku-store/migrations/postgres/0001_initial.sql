-- Zaitaku on PostgreSQL: the schema of SQLite migrations 0001–0008 in one file
-- (PostgreSQL support starts here). The values are stored as on SQLite, so both
-- backends mean the same by every column: instants are unix seconds (BIGINT),
-- calendar dates 'YYYY-MM-DD' (TEXT, which sorts as dates), codes their codes.

CREATE TABLE institutions (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                  TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    offered_items         TEXT NOT NULL,
    e_prescription        TEXT NOT NULL,
    consent_validity_days BIGINT NOT NULL CHECK (consent_validity_days > 0),
    url_token             TEXT NOT NULL UNIQUE,
    created_at            BIGINT NOT NULL
);

CREATE TABLE insured_persons (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
CREATE UNIQUE INDEX insured_persons_by_key
    ON insured_persons (insurer_number, coalesce(symbol, ''), number, coalesce(branch, ''));

CREATE TABLE certificate_links (
    issuer     TEXT NOT NULL,
    serial     TEXT NOT NULL,
    person_id  BIGINT NOT NULL REFERENCES insured_persons (id),
    linked_at  BIGINT NOT NULL,
    PRIMARY KEY (issuer, serial)
);

CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    auth_method TEXT
);

CREATE TABLE consents (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    person_id      BIGINT NOT NULL REFERENCES insured_persons (id),
    choices        TEXT NOT NULL,
    status         TEXT NOT NULL,
    expires_on     TEXT NOT NULL,
    registered_at  BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL,
    UNIQUE (institution_id, person_id)
);
CREATE INDEX consents_by_institution ON consents (institution_id, registered_at);

CREATE TABLE flows (
    id             TEXT PRIMARY KEY,
    session_hash   TEXT NOT NULL,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    purpose        TEXT NOT NULL,
    step           TEXT NOT NULL,
    choices        TEXT,
    failure        TEXT,
    challenge_ref  TEXT,
    person_id      BIGINT REFERENCES insured_persons (id),
    consent_id     BIGINT REFERENCES consents (id),
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL,
    viewed_choices TEXT,
    viewed_version BIGINT
);

CREATE TABLE challenges (
    reference    TEXT PRIMARY KEY,
    nonce        TEXT NOT NULL UNIQUE,
    flow_id      TEXT NOT NULL REFERENCES flows (id),
    session_hash TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    state        TEXT NOT NULL,
    failure      TEXT,
    settled_at   BIGINT,
    claim_hash   TEXT,
    claimed_at   BIGINT
);
CREATE INDEX challenges_by_flow ON challenges (flow_id);

CREATE TABLE consent_history (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consent_id      BIGINT NOT NULL REFERENCES consents (id),
    at              BIGINT NOT NULL,
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

CREATE TABLE staff (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    institution_id       BIGINT NOT NULL REFERENCES institutions (id),
    login_name           TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    role                 TEXT NOT NULL,
    password_hash        TEXT,
    totp_secret          TEXT NOT NULL,
    totp_last_step       BIGINT,
    failed_attempts      BIGINT NOT NULL DEFAULT 0,
    locked_until         BIGINT,
    enrolment_token_hash TEXT UNIQUE,
    enrolment_expires_at BIGINT,
    created_at           BIGINT NOT NULL
);
CREATE INDEX staff_by_institution ON staff (institution_id);

CREATE TABLE staff_sessions (
    id_hash      TEXT PRIMARY KEY,
    staff_id     BIGINT REFERENCES staff (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);

CREATE TABLE staff_logins (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             BIGINT NOT NULL,
    login_name     TEXT NOT NULL,
    staff_id       BIGINT REFERENCES staff (id) ON DELETE SET NULL,
    institution_id BIGINT REFERENCES institutions (id),
    outcome        TEXT NOT NULL
);
CREATE INDEX staff_logins_by_institution ON staff_logins (institution_id, at);

CREATE TABLE medical_records (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES insured_persons (id),
    kind      TEXT NOT NULL,
    date      TEXT NOT NULL,
    provider  TEXT NOT NULL,
    name      TEXT NOT NULL,
    detail    TEXT NOT NULL,
    UNIQUE (person_id, kind, date, provider, name, detail)
);

CREATE TABLE trust_anchors (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    der            BYTEA NOT NULL,
    subject        TEXT NOT NULL,
    key_identifier TEXT,
    not_before     BIGINT NOT NULL,
    not_after      BIGINT NOT NULL,
    fingerprint    TEXT NOT NULL UNIQUE,
    added_at       BIGINT NOT NULL
);

CREATE TABLE crls (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    der                BYTEA NOT NULL,
    issuer             TEXT NOT NULL,
    signer_fingerprint TEXT NOT NULL REFERENCES trust_anchors (fingerprint),
    partition          TEXT,
    this_update        BIGINT NOT NULL,
    next_update        BIGINT,
    crl_number         TEXT,
    entries            BIGINT NOT NULL,
    imported_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX crls_newest_per_partition
    ON crls (issuer, signer_fingerprint, coalesce(partition, ''));

CREATE TABLE qualification_checks (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    institution_id         BIGINT NOT NULL REFERENCES institutions (id),
    person_id              BIGINT NOT NULL REFERENCES insured_persons (id),
    checked_at             BIGINT NOT NULL,
    source                 TEXT NOT NULL,
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
CREATE INDEX qualification_checks_by_parties
    ON qualification_checks (institution_id, person_id, id);

CREATE TABLE access_log (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             BIGINT NOT NULL,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    staff_id       BIGINT NOT NULL,
    staff_login    TEXT NOT NULL,
    staff_name     TEXT NOT NULL,
    person_id      BIGINT NOT NULL REFERENCES insured_persons (id),
    action         TEXT NOT NULL
);
CREATE INDEX access_log_by_institution ON access_log (institution_id, id);

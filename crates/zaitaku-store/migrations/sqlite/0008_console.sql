-- The institution console: what each qualification check found, and who looked
-- at which patient.

-- A copy of the insured person's record as one check (the registration's, or a
-- re-query (再照会) from the console) found it, so the next check can show what
-- changed. Same columns as insured_persons.
CREATE TABLE qualification_checks (
    id                     INTEGER PRIMARY KEY,
    institution_id         INTEGER NOT NULL REFERENCES institutions (id),
    person_id              INTEGER NOT NULL REFERENCES insured_persons (id),
    checked_at             INTEGER NOT NULL,
    source                 TEXT NOT NULL,   -- registration, requery
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

-- Every look at a patient's information from the console. Names are copied so
-- the log still reads true after an account is renamed.
CREATE TABLE access_log (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    institution_id INTEGER NOT NULL REFERENCES institutions (id),
    staff_id       INTEGER NOT NULL,
    staff_login    TEXT NOT NULL,
    staff_name     TEXT NOT NULL,
    person_id      INTEGER NOT NULL REFERENCES insured_persons (id),
    action         TEXT NOT NULL    -- view, requery, revoke
);
CREATE INDEX access_log_by_institution ON access_log (institution_id, id);

-- The console lists an institution's patients by when they registered.
CREATE INDEX consents_by_institution ON consents (institution_id, registered_at);

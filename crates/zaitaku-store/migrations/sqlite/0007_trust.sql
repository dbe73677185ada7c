-- Issue 6 (`zaitaku admin trust add`, `admin crl import`): the roots cards are
-- checked against, and the newest CRL of each root and partition, kept in the
-- database so every node of the service sees the same and picks up changes
-- without a restart. Each row keeps the DER it was made from; the other columns
-- are what the commands list and what the newest-CRL rule compares.
CREATE TABLE trust_anchors (
    id              INTEGER PRIMARY KEY,
    der             BLOB NOT NULL,
    subject         TEXT NOT NULL,
    key_identifier  TEXT,
    not_before      INTEGER NOT NULL,
    not_after       INTEGER NOT NULL,
    -- SHA-256 of the DER, AB:CD:… (as openssl prints it).
    fingerprint     TEXT NOT NULL UNIQUE,
    added_at        INTEGER NOT NULL
);

-- JPKI's root generations share one name, so a CRL belongs to the anchor that
-- signed it (its fingerprint) as well as to its issuer name.
CREATE TABLE crls (
    id                  INTEGER PRIMARY KEY,
    der                 BLOB NOT NULL,
    issuer              TEXT NOT NULL,
    signer_fingerprint  TEXT NOT NULL REFERENCES trust_anchors (fingerprint),
    -- The issuing distribution point of a partitioned CRL; NULL for a complete one.
    partition           TEXT,
    this_update         INTEGER NOT NULL,
    next_update         INTEGER,
    -- cRLNumber in upper-case hex without leading zeros.
    crl_number          TEXT,
    entries             INTEGER NOT NULL,
    imported_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX crls_newest_per_partition
    ON crls (issuer, signer_fingerprint, coalesce(partition, ''));

-- Issue 6 (`zaitaku admin records import`): the medical records an institution
-- may see while the patient's consent to their kind stands. A record is the
-- whole of its fields, so importing the same file again inserts nothing. An
-- absent detail is stored as '' so that it takes part in the uniqueness; the
-- unique index also serves the reads, which are per person and kind.
CREATE TABLE medical_records (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES insured_persons (id),
    kind      TEXT NOT NULL,   -- the consent item's code: YZK, SRJ, TKK, SHJ
    date      TEXT NOT NULL,   -- 調剤日・診療日・実施日・手術日, 'YYYY-MM-DD'
    provider  TEXT NOT NULL,
    name      TEXT NOT NULL,
    detail    TEXT NOT NULL,
    UNIQUE (person_id, kind, date, provider, name, detail)
);

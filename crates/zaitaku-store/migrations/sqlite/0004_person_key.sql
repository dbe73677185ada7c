-- Issue 6 (`zaitaku admin insured import`): an insured person is known by
-- insurer number, symbol, number and branch, so a re-import updates the person
-- it imported before (same id: certificate links and consents stay attached).
-- A missing symbol or branch counts as '' so that it is unique too; lookups use
-- the same expressions, which lets SQLite use this index for them.
CREATE UNIQUE INDEX insured_persons_by_key
    ON insured_persons (insurer_number, coalesce(symbol, ''), number, coalesce(branch, ''));

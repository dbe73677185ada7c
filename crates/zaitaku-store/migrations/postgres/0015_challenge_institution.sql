-- Each challenge names its institution, so the cap on challenges per
-- institution per minute counts the last minute's rows through an index
-- instead of joining every unexpired flow of the institution (a cost that grew
-- with each page left waiting there).
ALTER TABLE challenges ADD COLUMN institution_id BIGINT REFERENCES institutions (id);
UPDATE challenges
SET institution_id = (SELECT institution_id FROM flows WHERE flows.id = challenges.flow_id);
CREATE INDEX challenges_by_institution ON challenges (institution_id, created_at);

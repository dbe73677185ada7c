-- What the caps on flows and challenges count, in the transaction that would
-- start one: a session's live rows, and an institution's rows of the last minute.
CREATE INDEX flows_by_session ON flows (session_hash, expires_at);
CREATE INDEX flows_by_institution ON flows (institution_id, created_at);
CREATE INDEX challenges_by_session ON challenges (session_hash, expires_at);

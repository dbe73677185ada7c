-- Issue 17: the enrolment page shows a fresh TOTP secret on each visit, to one
-- console session; confirmation enrols exactly that secret. A used link is kept
-- (its hash, with enrolment_used_at) so it can say it was used.
ALTER TABLE staff ADD COLUMN enrolment_secret TEXT;
-- SHA-256 of the console session the secret was shown to.
ALTER TABLE staff ADD COLUMN enrolment_secret_session TEXT;
ALTER TABLE staff ADD COLUMN enrolment_used_at BIGINT;

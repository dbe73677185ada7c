-- Cross-device authentication (issue 5): an authenticator that fetches a
-- challenge claims it, once; only the claim's holder may answer it. Sessions
-- remember how the staff read cards (this smartphone, 2D code, IC card reader).
ALTER TABLE challenges ADD COLUMN claim_hash TEXT;
ALTER TABLE challenges ADD COLUMN claimed_at INTEGER;
ALTER TABLE sessions ADD COLUMN auth_method TEXT;

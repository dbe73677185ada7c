-- Issue 18: people and institutions come and go.

-- A console account is 'active', 'disabled' (kept; cannot log in; `enable`
-- brings it back) or 'removed' (a tombstone: password, second factor and
-- enrolment cleared for good; the row stays so that its login name is never
-- given to another person and the login and access logs keep naming one account).
ALTER TABLE staff ADD COLUMN status TEXT NOT NULL DEFAULT 'active';

-- When the institution stopped accepting patients; NULL while it accepts.
ALTER TABLE institutions ADD COLUMN deactivated_at INTEGER;

-- Removing a trust anchor moves the trust generation too, so every process reloads.
CREATE TRIGGER trust_anchors_removed AFTER DELETE ON trust_anchors
BEGIN
    UPDATE trust_generation SET generation = generation + 1;
END;

-- Flow B (inquiry and update): the consent as the first card authentication
-- showed it, kept on the flow until the update is saved or refused.
ALTER TABLE flows ADD COLUMN viewed_choices TEXT;
ALTER TABLE flows ADD COLUMN viewed_version INTEGER;

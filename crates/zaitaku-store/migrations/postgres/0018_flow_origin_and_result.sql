-- Each flow records the institution URL token it was started from, so that a
-- flow begun from a rotated-away URL stops at its next step; flows already
-- running are taken to have started from the institution's current URL.
ALTER TABLE flows ADD COLUMN url_token TEXT;
UPDATE flows
SET url_token = (SELECT url_token FROM institutions WHERE institutions.id = flows.institution_id);
ALTER TABLE flows ALTER COLUMN url_token SET NOT NULL;
-- When the staff closed a finished flow's result (「閉じる」): from then on its
-- page no longer shows the 資格情報 or the consent.
ALTER TABLE flows ADD COLUMN closed_at BIGINT;

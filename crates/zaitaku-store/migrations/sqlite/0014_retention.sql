-- Issue 18: the retention purge and one person's export or deletion. The purge
-- finds old rows by time; a person's rows are found by the person (and a
-- person's deletion checks each table that refers to them).
CREATE INDEX qualification_checks_by_time ON qualification_checks (checked_at);
CREATE INDEX qualification_checks_by_person ON qualification_checks (person_id);
CREATE INDEX access_log_by_time ON access_log (at);
CREATE INDEX access_log_by_person ON access_log (person_id, id);
CREATE INDEX staff_logins_by_time ON staff_logins (at);
CREATE INDEX consents_by_person ON consents (person_id);
CREATE INDEX consents_by_end ON consents (status, expires_on);
CREATE INDEX certificate_links_by_person ON certificate_links (person_id);
CREATE INDEX flows_by_person ON flows (person_id);
CREATE INDEX flows_by_consent ON flows (consent_id);
CREATE INDEX insured_persons_by_loss ON insured_persons (lost_on);

DROP INDEX claims_fund_queue;
ALTER TABLE claims ADD COLUMN rule_version TEXT;
ALTER TABLE claims DROP COLUMN queued_at;
DROP TABLE claim_assessments;

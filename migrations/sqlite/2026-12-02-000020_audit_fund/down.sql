ALTER TABLE idempotency_keys DROP COLUMN fund_code;
DROP INDEX audit_log_fund;

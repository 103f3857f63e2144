DROP TABLE audit_log;
DROP TABLE idempotency_keys;
DROP TABLE postings;
DROP TABLE journal_entries;
DROP FUNCTION mwf_refuse_change() CASCADE;
DROP TABLE accounts;
DROP TABLE funds;

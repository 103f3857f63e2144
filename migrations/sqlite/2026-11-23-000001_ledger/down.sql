DROP TABLE audit_log;
DROP TABLE idempotency_keys;
DROP TABLE postings;
DROP TABLE journal_entries;
DROP TABLE accounts;
DROP TABLE funds;

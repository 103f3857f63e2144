DROP INDEX workers_fund_document_number;
CREATE INDEX workers_fund_document_number ON workers (fund_id, document_number);
DELETE FROM summary_backfills WHERE name = 'worker_name_keys';
DROP INDEX workers_given_key;
DROP INDEX workers_family_key;
ALTER TABLE workers DROP COLUMN given_key;
ALTER TABLE workers DROP COLUMN family_key;

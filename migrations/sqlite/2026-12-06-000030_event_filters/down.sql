DROP INDEX events_subject;
DROP INDEX events_worker;
ALTER TABLE events DROP COLUMN worker_id;

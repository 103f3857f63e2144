-- The event feed filters by worker and by subject (a claim, a contribution, a
-- worker). Every event's payload names its worker; the column copies it so the
-- filter is an index range, not a scan of payloads.
ALTER TABLE events ADD COLUMN worker_id TEXT;
UPDATE events SET worker_id = payload::jsonb ->> 'worker_id';
CREATE INDEX events_worker ON events (worker_id, id);
CREATE INDEX events_subject ON events (subject_id, id);

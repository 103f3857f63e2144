-- Search of a fund's workers by a prefix of the family or the given name
-- (GET /v1/funds/{fund}/workers?name=): each name lower-cased as `mwf` does it
-- (Rust's Unicode to_lowercase, accents kept), kept beside the name by every
-- enrollment, and indexed per fund so that any page of a prefix is one range
-- of an index (ordered by the name, then the id).
ALTER TABLE workers ADD COLUMN family_key TEXT NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN given_key TEXT NOT NULL DEFAULT '';
-- SQLite's lower() folds ASCII only: right for ASCII names; every key is
-- recomputed by `mwf` right after migrating (the marker below).
UPDATE workers SET family_key = lower(family_name), given_key = lower(given_name);
CREATE INDEX workers_family_key ON workers (fund_id, family_key, id);
CREATE INDEX workers_given_key ON workers (fund_id, given_key, id);
INSERT INTO summary_backfills (name) VALUES ('worker_name_keys');
-- A worker by document number (`?document_number=`, ordered by id): with
-- the id in the index SQLite's planner takes it, not `(fund_id, id)` (which
-- read the whole fund per lookup).
DROP INDEX workers_fund_document_number;
CREATE INDEX workers_fund_document_number ON workers (fund_id, document_number, id);

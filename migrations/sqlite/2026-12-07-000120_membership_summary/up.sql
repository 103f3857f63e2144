-- Membership summary (issue 16): kept in the transaction of every change to
-- the records it summarises, so the membership statistics read counters only.
--
-- Each worker's active days (merged coverage with grace) cut where a contract
-- starts, each piece with the worker's sex, the destination of the latest
-- contract started by then and the worker's sector.
CREATE TABLE coverage_segments (
    worker_id TEXT NOT NULL REFERENCES workers (id),
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    start DATE NOT NULL,
    until DATE NOT NULL,
    sex TEXT NOT NULL,
    destination TEXT,
    sector TEXT,
    PRIMARY KEY (worker_id, start)
);

-- Counters: `active` +1 on a segment's start, -1 the day after its until;
-- `ever` +1 on a worker's first day of coverage. Each change is kept twice:
-- under the first day of its month (`month`) and under its day (`day`), so
-- "as of D" adds the months before D's month and the days of D's month up to
-- D. No destination or sector is ''; `ever` keys are '' throughout.
CREATE TABLE membership_counts (
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    counter TEXT NOT NULL CHECK (counter IN ('active', 'ever')),
    granularity TEXT NOT NULL CHECK (granularity IN ('month', 'day')),
    day DATE NOT NULL,
    sex TEXT NOT NULL,
    destination TEXT NOT NULL,
    sector TEXT NOT NULL,
    delta BIGINT NOT NULL,
    PRIMARY KEY (fund_id, counter, granularity, day, sex, destination, sector)
);

-- Summaries still to compute from the records: built by `mwf` right after
-- migrating (a database upgraded from a version without them), then removed.
CREATE TABLE summary_backfills (
    name TEXT PRIMARY KEY
);
INSERT INTO summary_backfills (name) VALUES ('membership');

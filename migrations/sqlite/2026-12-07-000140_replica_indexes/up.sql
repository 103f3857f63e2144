-- Found by tests/api/query_plans.rs (EXPLAIN of what requests issue): a claim's
-- riders were found by a scan of every claim.
CREATE INDEX claims_rider_of ON claims (rider_of) WHERE rider_of IS NOT NULL;
-- A page of a fund's workers, contributions or claims (ordered by id, after a
-- cursor) walks only that fund's rows, not the ids of every fund in the database.
CREATE INDEX workers_fund_id ON workers (fund_id, id);
CREATE INDEX contributions_fund_id ON contributions (fund_id, id);
CREATE INDEX claims_fund_id ON claims (fund_id, id);

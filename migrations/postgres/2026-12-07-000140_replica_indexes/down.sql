DROP INDEX claims_fund_id;
DROP INDEX contributions_fund_id;
DROP INDEX workers_fund_id;
DROP INDEX claims_rider_of;

DROP INDEX refunds_one_rebate_per_worker;
DELETE FROM refunds WHERE kind = 'rebate';
ALTER TABLE refunds
    DROP CONSTRAINT refunds_kind_fields,
    ALTER COLUMN contribution_id SET NOT NULL,
    ALTER COLUMN contract_id SET NOT NULL,
    DROP COLUMN rebate_code,
    DROP COLUMN kind;

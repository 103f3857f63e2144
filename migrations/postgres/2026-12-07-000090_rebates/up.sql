-- Rebates share the refunds table: a rebate is money back to a long-standing
-- member (a rule's `rebate`), requested, decided and paid like a refund, but
-- of no contribution or contract. `kind` tells them apart; a rebate names its
-- rule's `rebate_code`, granted once per worker.
ALTER TABLE refunds
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'refund' CHECK (kind IN ('refund', 'rebate')),
    ADD COLUMN rebate_code TEXT,
    ALTER COLUMN contribution_id DROP NOT NULL,
    ALTER COLUMN contract_id DROP NOT NULL,
    ADD CONSTRAINT refunds_kind_fields CHECK (
        (kind = 'refund' AND contribution_id IS NOT NULL AND contract_id IS NOT NULL AND rebate_code IS NULL)
        OR (kind = 'rebate' AND contribution_id IS NULL AND contract_id IS NULL AND rebate_code IS NOT NULL)
    );
-- A rebate is granted once per worker and rebate code.
CREATE UNIQUE INDEX refunds_one_rebate_per_worker ON refunds (worker_id, rebate_code)
    WHERE kind = 'rebate' AND status <> 'rejected';

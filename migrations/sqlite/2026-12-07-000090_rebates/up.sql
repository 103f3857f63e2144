-- Rebates share the refunds table: a rebate is money back to a long-standing
-- member (a rule's `rebate`), requested, decided and paid like a refund, but
-- of no contribution or contract. `kind` tells them apart; a rebate names its
-- rule's `rebate_code`, granted once per worker. SQLite cannot drop NOT NULL,
-- so the table is rebuilt with the same rows.
CREATE TABLE refunds_with_rebates (
    id TEXT PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    contribution_id TEXT REFERENCES contributions (id),
    worker_id TEXT NOT NULL REFERENCES workers (id),
    contract_id TEXT REFERENCES contracts (id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'paid')),
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    taxes_minor BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    decision_reason TEXT,
    decided_by TEXT,
    decided_at TIMESTAMP,
    approval_entry_id TEXT REFERENCES journal_entries (id),
    payment_reference TEXT,
    paid_by TEXT,
    paid_at TIMESTAMP,
    payment_entry_id TEXT REFERENCES journal_entries (id),
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'refund' CHECK (kind IN ('refund', 'rebate')),
    rebate_code TEXT,
    CHECK (
        (kind = 'refund' AND contribution_id IS NOT NULL AND contract_id IS NOT NULL AND rebate_code IS NULL)
        OR (kind = 'rebate' AND contribution_id IS NULL AND contract_id IS NULL AND rebate_code IS NOT NULL)
    )
);
INSERT INTO refunds_with_rebates (
    id, fund_id, contribution_id, worker_id, contract_id, reason, status, currency,
    amount_minor, taxes_minor, total_minor, decision_reason, decided_by, decided_at,
    approval_entry_id, payment_reference, paid_by, paid_at, payment_entry_id, created_at, created_by,
    kind, rebate_code
)
SELECT
    id, fund_id, contribution_id, worker_id, contract_id, reason, status, currency,
    amount_minor, taxes_minor, total_minor, decision_reason, decided_by, decided_at,
    approval_entry_id, payment_reference, paid_by, paid_at, payment_entry_id, created_at, created_by,
    'refund', NULL
FROM refunds;
DROP TABLE refunds;
ALTER TABLE refunds_with_rebates RENAME TO refunds;
CREATE INDEX refunds_fund ON refunds (fund_id, id);
-- A contribution is refunded once: at most one refund of it that was not rejected.
CREATE UNIQUE INDEX refunds_one_per_contribution ON refunds (contribution_id) WHERE status <> 'rejected';
-- A rebate is granted once per worker and rebate code.
CREATE UNIQUE INDEX refunds_one_rebate_per_worker ON refunds (worker_id, rebate_code)
    WHERE kind = 'rebate' AND status <> 'rejected';

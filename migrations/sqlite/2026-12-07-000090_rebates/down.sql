DELETE FROM refunds WHERE kind = 'rebate';
CREATE TABLE refunds_without_rebates (
    id TEXT PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    contribution_id TEXT NOT NULL REFERENCES contributions (id),
    worker_id TEXT NOT NULL REFERENCES workers (id),
    contract_id TEXT NOT NULL REFERENCES contracts (id),
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
    created_by TEXT NOT NULL
);
INSERT INTO refunds_without_rebates
SELECT id, fund_id, contribution_id, worker_id, contract_id, reason, status, currency,
    amount_minor, taxes_minor, total_minor, decision_reason, decided_by, decided_at,
    approval_entry_id, payment_reference, paid_by, paid_at, payment_entry_id, created_at, created_by
FROM refunds;
DROP TABLE refunds;
ALTER TABLE refunds_without_rebates RENAME TO refunds;
CREATE INDEX refunds_fund ON refunds (fund_id, id);
CREATE UNIQUE INDEX refunds_one_per_contribution ON refunds (contribution_id) WHERE status <> 'rejected';

-- Refunds of contributions whose contract was cancelled before it started.
-- A refund is requested, then approved (which books the contribution's income
-- and taxes back to 2200 "Refunds payable" and ends the coverage it bought)
-- or rejected, and an approved refund is paid (2200 to cash). Amounts are the
-- contribution's, in its currency, in minor units.
CREATE TABLE refunds (
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
CREATE INDEX refunds_fund ON refunds (fund_id, id);
-- A contribution is refunded once: at most one refund of it that was not rejected.
CREATE UNIQUE INDEX refunds_one_per_contribution ON refunds (contribution_id) WHERE status <> 'rejected';

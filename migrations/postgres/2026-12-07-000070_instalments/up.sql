-- Instalment benefits (a scholarship per school year, a monthly allowance):
-- the schedule of a claim whose benefit has `instalments`. Approval books the
-- first instalment's expense and writes the schedule; each later instalment
-- falls due on its date and is re-assessed and paid by a payment run. Amounts
-- are in the claim's currency, in minor units.
CREATE TABLE instalment_schedules (
    claim_id TEXT PRIMARY KEY REFERENCES claims (id),
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    every TEXT NOT NULL CHECK (every IN ('month', 'school_year')),
    created_at TIMESTAMP NOT NULL,
    -- Stopping a schedule is a decision with reasons.
    stopped_at TIMESTAMP,
    stopped_by TEXT,
    stop_reasons TEXT,
    stop_note TEXT
);
CREATE TABLE claim_instalments (
    claim_id TEXT NOT NULL REFERENCES instalment_schedules (claim_id),
    number INTEGER NOT NULL CHECK (number >= 1),
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    due_on DATE NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'due', 'paid', 'stopped', 'lapsed')),
    -- The facts of the latest re-assessment (JSON), and why it was not paid.
    assessed_at TIMESTAMP,
    assessment TEXT,
    hold_reasons TEXT,
    expense_entry_id TEXT REFERENCES journal_entries (id),
    payment_entry_id TEXT REFERENCES journal_entries (id),
    paid_on DATE,
    PRIMARY KEY (claim_id, number)
);
-- The payment run's question: a fund's open instalments, in due order.
CREATE INDEX claim_instalments_open ON claim_instalments (fund_id, status, due_on);
-- Proof for one instalment (enrolment for its school year).
CREATE TABLE claim_instalment_documents (
    claim_id TEXT NOT NULL REFERENCES instalment_schedules (claim_id),
    number INTEGER NOT NULL,
    line INTEGER NOT NULL,
    document_type TEXT NOT NULL,
    reference TEXT NOT NULL,
    added_at TIMESTAMP NOT NULL,
    added_by TEXT NOT NULL,
    PRIMARY KEY (claim_id, number, line)
);

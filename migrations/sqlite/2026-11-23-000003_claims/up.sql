-- Claims, their documents and approvals (SQLite).

CREATE TABLE claims (
    id TEXT PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    worker_id TEXT NOT NULL REFERENCES workers (id),
    benefit TEXT NOT NULL,
    rider_of TEXT REFERENCES claims (id),
    incident_date DATE NOT NULL,
    incident_phase TEXT NOT NULL,
    filed_on DATE NOT NULL,
    claimant_relationship TEXT NOT NULL,
    dependant_id TEXT REFERENCES dependants (id),
    claimed_amount_minor BIGINT,
    grade TEXT,
    description TEXT,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    rule_version TEXT,
    assessment TEXT NOT NULL,
    payable_minor BIGINT NOT NULL,
    decision_outcome TEXT,
    decided_amount_minor BIGINT,
    decision_reasons TEXT,
    decision_note TEXT,
    decided_by TEXT,
    decided_at TIMESTAMP,
    approved_at TIMESTAMP,
    approval_entry_id TEXT REFERENCES journal_entries (id),
    payment_entry_id TEXT REFERENCES journal_entries (id),
    paid_on DATE,
    payee_reference TEXT,
    appealed BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX claims_worker ON claims (worker_id);
CREATE INDEX claims_fund_status ON claims (fund_id, status, approved_at);

CREATE TABLE claim_documents (
    claim_id TEXT NOT NULL REFERENCES claims (id),
    line INTEGER NOT NULL,
    document_type TEXT NOT NULL,
    reference TEXT NOT NULL,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (claim_id, line)
);

CREATE TABLE claim_approvals (
    claim_id TEXT NOT NULL REFERENCES claims (id),
    approver TEXT NOT NULL,
    note TEXT,
    approved_at TIMESTAMP NOT NULL,
    PRIMARY KEY (claim_id, approver)
);

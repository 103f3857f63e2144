-- Every assessment of a claim is kept (when, why, rule version, outcome, payable),
-- so an auditor sees what the officer saw; claims waiting for funds remember when
-- they joined the queue. The claim's rule version is its assessment's (kept in
-- `assessment`), so the column that repeated it goes (SQLite).

CREATE TABLE claim_assessments (
    claim_id TEXT NOT NULL REFERENCES claims (id),
    line INTEGER NOT NULL,
    assessed_at TIMESTAMP NOT NULL,
    cause TEXT NOT NULL,
    assessed_by TEXT NOT NULL,
    rule_version TEXT,
    outcome TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    payable_minor BIGINT NOT NULL,
    assessment TEXT NOT NULL,
    PRIMARY KEY (claim_id, line)
);

ALTER TABLE claims ADD COLUMN queued_at TIMESTAMP;
ALTER TABLE claims DROP COLUMN rule_version;
CREATE INDEX claims_fund_queue ON claims (fund_id, status, queued_at);

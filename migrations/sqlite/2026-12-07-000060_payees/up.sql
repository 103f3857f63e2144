-- Payees and shares (issue 15): a dependant may be the worker's nominee (at
-- most one per worker, enforced here so that two processes can't register
-- two), and a claim of a benefit with `beneficiaries` pays one line per payee:
-- a registered dependant or the worker's estate, its share of the award as an
-- exact fraction, the guardian who receives for a minor, and once approved the
-- amount (largest remainder, in minor units), then its own payment entry.
ALTER TABLE dependants ADD COLUMN nominee BOOLEAN NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX dependants_one_nominee ON dependants (worker_id) WHERE nominee = 1;

CREATE TABLE claim_payees (
    claim_id TEXT NOT NULL REFERENCES claims (id),
    line INTEGER NOT NULL,
    dependant_id TEXT REFERENCES dependants (id),
    estate BOOLEAN NOT NULL,
    name TEXT NOT NULL,
    relationship TEXT,
    minor BOOLEAN NOT NULL,
    guardian_name TEXT,
    guardian_id_number TEXT,
    guardian_relationship TEXT,
    guardian_dependant_id TEXT REFERENCES dependants (id),
    share_numerator BIGINT NOT NULL CHECK (share_numerator > 0),
    share_denominator BIGINT NOT NULL CHECK (share_denominator >= share_numerator),
    amount_minor BIGINT CHECK (amount_minor >= 0),
    payment_entry_id TEXT REFERENCES journal_entries (id),
    paid_on DATE,
    PRIMARY KEY (claim_id, line),
    CHECK (estate = (dependant_id IS NULL))
);

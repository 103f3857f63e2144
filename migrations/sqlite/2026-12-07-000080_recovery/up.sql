-- Recovery from agencies and employers, and bulk receipts.
--
-- parties: a fund's registry of recruitment agencies and employers, with
-- licence numbers and an optional bond. recoveries: a claim's award marked
-- recoverable from a party, a receivable on 1200 "Receivables" (Dr 1200 /
-- Cr 4400 "Recoveries from agencies and employers") settled in cash or from
-- the party's bond (Dr 1000 / Cr 1200) or written off (Dr 6200 / Cr 1200).
-- receipts: one transfer from an agency, an employer or the government
-- (Dr 1000 / Cr 2300 "Unallocated receipts"), matched item by item to
-- workers' contributions booked from 2300 instead of cash. Amounts are in
-- minor units of the row's currency.
CREATE TABLE parties (
    id TEXT PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    kind TEXT NOT NULL CHECK (kind IN ('agency', 'employer')),
    name TEXT NOT NULL,
    licence_number TEXT NOT NULL,
    country TEXT NOT NULL,
    contact TEXT,
    bond_amount_minor BIGINT,
    bond_currency TEXT,
    bond_reference TEXT,
    bond_expires_on DATE,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL,
    CHECK ((bond_amount_minor IS NULL) = (bond_currency IS NULL))
);
-- A licence names one agency (or employer) in a fund.
CREATE UNIQUE INDEX parties_licence ON parties (fund_id, kind, licence_number);

CREATE TABLE recoveries (
    id TEXT PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    claim_id TEXT NOT NULL REFERENCES claims (id),
    party_id TEXT NOT NULL REFERENCES parties (id),
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    settled_minor BIGINT NOT NULL,
    written_off_minor BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'partly_settled', 'settled', 'written_off')),
    reason TEXT NOT NULL,
    legal_basis TEXT,
    opening_entry_id TEXT NOT NULL REFERENCES journal_entries (id),
    write_off_reason TEXT,
    write_off_entry_id TEXT REFERENCES journal_entries (id),
    written_off_by TEXT,
    written_off_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    CHECK (settled_minor + written_off_minor <= amount_minor)
);
CREATE INDEX recoveries_fund ON recoveries (fund_id, id);
CREATE INDEX recoveries_claim ON recoveries (claim_id);
-- One open recovery per claim and party.
CREATE UNIQUE INDEX recoveries_one_open ON recoveries (claim_id, party_id) WHERE status IN ('open', 'partly_settled');

CREATE TABLE recovery_settlements (
    id TEXT PRIMARY KEY,
    recovery_id TEXT NOT NULL REFERENCES recoveries (id),
    party_id TEXT NOT NULL REFERENCES parties (id),
    source TEXT NOT NULL CHECK (source IN ('cash', 'bond')),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    received_on DATE NOT NULL,
    reference TEXT,
    journal_entry_id TEXT NOT NULL REFERENCES journal_entries (id),
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX recovery_settlements_recovery ON recovery_settlements (recovery_id, id);
CREATE INDEX recovery_settlements_party ON recovery_settlements (party_id, source);

CREATE TABLE receipts (
    id TEXT PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    payer_type TEXT NOT NULL CHECK (payer_type IN ('agency', 'employer', 'government')),
    party_id TEXT REFERENCES parties (id),
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    received_on DATE NOT NULL,
    reference TEXT NOT NULL,
    journal_entry_id TEXT NOT NULL REFERENCES journal_entries (id),
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX receipts_fund ON receipts (fund_id, id);
-- A bank transfer is booked once.
CREATE UNIQUE INDEX receipts_reference ON receipts (fund_id, reference);

CREATE TABLE receipt_matches (
    contribution_id TEXT PRIMARY KEY REFERENCES contributions (id),
    receipt_id TEXT NOT NULL REFERENCES receipts (id),
    amount_minor BIGINT NOT NULL,
    matched_at TIMESTAMP NOT NULL,
    matched_by TEXT NOT NULL
);
CREATE INDEX receipt_matches_receipt ON receipt_matches (receipt_id, contribution_id);

-- 1200 holds recoveries as well as contributions now.
UPDATE accounts SET name = 'Receivables' WHERE code = '1200' AND name = 'Contributions receivable';

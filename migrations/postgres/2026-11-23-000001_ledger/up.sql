-- Funds, the ledger, idempotency keys and the audit log (PostgreSQL).
-- Money is BIGINT minor units; timestamps are UTC set by the application.

CREATE TABLE funds (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    closed_through DATE,
    last_sequence BIGINT NOT NULL DEFAULT 0,
    chain_head TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    account_type TEXT NOT NULL CHECK (account_type IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
    currency TEXT NOT NULL,
    allow_negative BOOLEAN NOT NULL,
    debits_minor BIGINT NOT NULL DEFAULT 0,
    credits_minor BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (fund_id, code)
);

CREATE TABLE journal_entries (
    id TEXT PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    sequence BIGINT NOT NULL,
    effective_date DATE NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    memo TEXT NOT NULL,
    source_type TEXT,
    source_id TEXT,
    created_by TEXT NOT NULL,
    reverses TEXT UNIQUE REFERENCES journal_entries (id),
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (fund_id, sequence)
);
CREATE INDEX journal_entries_fund_date ON journal_entries (fund_id, effective_date);

CREATE TABLE postings (
    id BIGSERIAL PRIMARY KEY,
    entry_id TEXT NOT NULL REFERENCES journal_entries (id),
    line INTEGER NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    side TEXT NOT NULL CHECK (side IN ('debit', 'credit')),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    effective_date DATE NOT NULL,
    UNIQUE (entry_id, line)
);
CREATE INDEX postings_account_date ON postings (account_id, effective_date);

-- Entries and postings are immutable: corrections are reversing entries.
CREATE FUNCTION mwf_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION mwf_refuse_change();
CREATE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION mwf_refuse_change();

CREATE TABLE idempotency_keys (
    actor TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (actor, idempotency_key)
);

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    fund_code TEXT,
    target TEXT,
    request_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    status INTEGER NOT NULL
);
CREATE INDEX audit_log_occurred_at ON audit_log (occurred_at);

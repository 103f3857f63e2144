-- Rules, workers, contracts, contributions and the event feed (PostgreSQL).

CREATE TABLE rule_versions (
    id BIGSERIAL PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    version TEXT NOT NULL,
    effective_from DATE NOT NULL,
    contribution_currency TEXT NOT NULL,
    document TEXT NOT NULL,
    published_at TIMESTAMP NOT NULL,
    published_by TEXT NOT NULL,
    UNIQUE (fund_id, version),
    UNIQUE (fund_id, effective_from)
);

CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    document_type TEXT NOT NULL,
    document_number TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unspecified')),
    phone TEXT,
    email TEXT,
    occupation_sector TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (fund_id, document_type, document_number)
);
CREATE INDEX workers_fund_document_number ON workers (fund_id, document_number);

CREATE TABLE dependants (
    id TEXT PRIMARY KEY,
    worker_id TEXT NOT NULL REFERENCES workers (id),
    name TEXT NOT NULL,
    relationship TEXT NOT NULL,
    date_of_birth DATE,
    deceased BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX dependants_worker ON dependants (worker_id);

CREATE TABLE contracts (
    id TEXT PRIMARY KEY,
    worker_id TEXT NOT NULL REFERENCES workers (id),
    employer TEXT NOT NULL,
    destination_country TEXT NOT NULL,
    occupation TEXT,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    monthly_wage_minor BIGINT,
    wage_currency TEXT,
    recruitment_agency TEXT,
    departed_on DATE,
    terminated_on DATE,
    returned_on DATE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX contracts_worker ON contracts (worker_id);

CREATE TABLE contributions (
    id TEXT PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    worker_id TEXT NOT NULL REFERENCES workers (id),
    contract_id TEXT REFERENCES contracts (id),
    rule_version TEXT NOT NULL,
    paid_on DATE NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    taxes TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    benefit_reserve_minor BIGINT NOT NULL,
    administration_minor BIGINT NOT NULL,
    external_ref TEXT,
    received_amount_minor BIGINT,
    received_currency TEXT,
    exchange_rate TEXT,
    coverage_start DATE NOT NULL,
    coverage_end DATE NOT NULL,
    coverage_basis TEXT NOT NULL,
    grace_days INTEGER NOT NULL,
    journal_entry_id TEXT NOT NULL REFERENCES journal_entries (id),
    status TEXT NOT NULL CHECK (status IN ('recorded', 'reversed')),
    reversal_entry_id TEXT REFERENCES journal_entries (id),
    reversal_reason TEXT,
    reversed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (fund_id, external_ref)
);
CREATE INDEX contributions_worker ON contributions (worker_id, paid_on);
CREATE INDEX contributions_fund_paid_on ON contributions (fund_id, paid_on);

CREATE TABLE contribution_payers (
    contribution_id TEXT NOT NULL REFERENCES contributions (id),
    line INTEGER NOT NULL,
    payer_type TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reference TEXT,
    PRIMARY KEY (contribution_id, line)
);

-- Domain events for partner systems. Ids are taken from event_counter inside the
-- writing transaction, so they are handed out in commit order.
CREATE TABLE events (
    id BIGINT PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    fund_code TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX events_fund ON events (fund_code, id);

CREATE TABLE event_counter (
    id INTEGER PRIMARY KEY,
    last_id BIGINT NOT NULL
);
INSERT INTO event_counter (id, last_id) VALUES (1, 0);

CREATE TRIGGER rule_versions_immutable BEFORE UPDATE OR DELETE ON rule_versions
    FOR EACH ROW EXECUTE FUNCTION mwf_refuse_change();

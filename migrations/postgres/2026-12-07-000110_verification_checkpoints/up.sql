-- Verification checkpoints: a verification that found no problem, signed off
-- with when and by whom; the chain was verified through `sequence`, whose
-- entry has `hash`. A run since the latest checkpoint walks only later
-- entries, starting from the account totals kept beside it.
CREATE TABLE verification_checkpoints (
    id BIGSERIAL PRIMARY KEY,
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    sequence BIGINT NOT NULL CHECK (sequence >= 0),
    hash TEXT NOT NULL,
    entries_checked BIGINT NOT NULL CHECK (entries_checked >= 0),
    "full" BOOLEAN NOT NULL,
    verified_at TIMESTAMP NOT NULL,
    verified_by TEXT NOT NULL
);
CREATE INDEX verification_checkpoints_by_fund
    ON verification_checkpoints (fund_id, sequence, id);

-- Each account's debits and credits re-added through the checkpoint's sequence.
CREATE TABLE verification_checkpoint_totals (
    checkpoint_id BIGINT NOT NULL REFERENCES verification_checkpoints (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    debits_minor BIGINT NOT NULL,
    credits_minor BIGINT NOT NULL,
    PRIMARY KEY (checkpoint_id, account_id)
);

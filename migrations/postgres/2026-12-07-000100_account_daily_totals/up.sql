-- Each account's debits and credits per effective date: what the balances as of
-- a date and a statement's opening balance sum (a few thousand rows per account
-- however long the history), kept by the Booking in the transaction that writes
-- the postings (`ledger::booking`), and checked against them by `mwf verify`
-- (`SUMMARY_MISMATCH`). A row exists only for a day with postings, so neither
-- figure of a row is ever both zero. The primary key's index carries the two
-- figures, so a range of days of one account is an index-only scan (rows of
-- one account are scattered over the heap: every day's rows are written
-- together, by every account).
CREATE TABLE account_daily_totals (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    day DATE NOT NULL,
    debits_minor BIGINT NOT NULL,
    credits_minor BIGINT NOT NULL,
    PRIMARY KEY (account_id, day) INCLUDE (debits_minor, credits_minor)
);

-- The ledger's limits (`ledger::limits`) keep an account's totals, and so any
-- day's, within 64 bits.
INSERT INTO account_daily_totals (account_id, day, debits_minor, credits_minor)
SELECT account_id, effective_date,
       SUM(CASE WHEN side = 'debit' THEN amount_minor ELSE 0 END),
       SUM(CASE WHEN side = 'credit' THEN amount_minor ELSE 0 END)
FROM postings
GROUP BY account_id, effective_date;

-- Contributions per month (GET /v1/funds/{fund}/reports/monthly): per fund,
-- month of the payment date (`paid_on`, the date of the contribution's
-- journal entry; kept under the month's first day), currency and payer type,
-- how many contributions and what they paid. The payer type '' is the row of
-- all contributions (count, and `total_minor`); any other is the payer lines
-- of that type (how many contributions it paid a share of, and the sum of
-- those shares). Written with the contributions (`contributions::insert`),
-- in their transaction; a later reversal or refund changes no row (the month
-- counts what was booked in it). `mwf verify` compares it with the records.
CREATE TABLE contribution_months (
    fund_id BIGINT NOT NULL REFERENCES funds (id),
    month DATE NOT NULL,
    currency TEXT NOT NULL,
    payer_type TEXT NOT NULL,
    contributions BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (fund_id, month, currency, payer_type)
) WITHOUT ROWID;

INSERT INTO contribution_months (fund_id, month, currency, payer_type, contributions, amount_minor)
SELECT fund_id, date(paid_on, 'start of month'), currency, '', COUNT(*), SUM(total_minor)
FROM contributions
GROUP BY fund_id, date(paid_on, 'start of month'), currency;

INSERT INTO contribution_months (fund_id, month, currency, payer_type, contributions, amount_minor)
SELECT c.fund_id, date(c.paid_on, 'start of month'), c.currency, p.payer_type,
       COUNT(DISTINCT c.id), SUM(p.amount_minor)
FROM contributions c JOIN contribution_payers p ON p.contribution_id = c.id
GROUP BY c.fund_id, date(c.paid_on, 'start of month'), c.currency, p.payer_type;

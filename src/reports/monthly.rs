//! A fund's figures month by month (the console's charts): month-end balances
//! of cash, the fund reserve and net assets, contributions booked in the month
//! by payer type, awards approved and benefits paid in the month, benefits paid
//! in the trailing twelve months and how many months of them the reserves
//! cover.
//!
//! Every figure is read from a summary or a short range of an index, so the
//! answer costs the months asked whatever the length of the fund's history:
//! balances from the per-account daily totals (`account_daily_totals`: the
//! balances before the first month, then the days of the months asked),
//! contributions from `contribution_months`, awards and payments from the
//! postings of benefits payable (2000) dated in the months asked and the eleven
//! before (index `postings_account_date`; only claims touch that account).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Months, NaiveDate};
use diesel::prelude::*;

use super::contribution_months::{self, ALL};
use crate::db::schema::{account_daily_totals, accounts, journal_entries, postings};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::funds::FundId;
use crate::ledger::account_code::{BENEFITS_PAYABLE, CASH, FUND_RESERVE};
use crate::ledger::{self, AccountType};
use crate::money::Currency;

/// Entry kinds that award a benefit (credit benefits payable).
pub const AWARD_KINDS: [&str; 2] = [
    crate::claims::APPROVAL_KIND,
    crate::claims::instalments::EXPENSE_KIND,
];
/// Entry kinds that pay a benefit (debit benefits payable, credit cash).
pub const PAYMENT_KINDS: [&str; 2] = [
    crate::claims::PAYMENT_KIND,
    crate::claims::instalments::PAYMENT_KIND,
];

/// Contributions of one currency in a month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContributionMonth {
    pub count: i64,
    pub amount_minor: i64,
    /// Payer type → (contributions it paid a share of, the sum of its shares).
    pub by_payer: BTreeMap<String, (i64, i64)>,
}

/// One month's figures; every per-currency map holds every currency the
/// fund keeps accounts in.
#[derive(Debug, Clone)]
pub struct MonthFigures {
    /// The month's first day.
    pub month: NaiveDate,
    /// The month's last day: the date the balances are taken at.
    pub end: NaiveDate,
    pub cash: BTreeMap<Currency, i128>,
    pub fund_reserve: BTreeMap<Currency, i128>,
    pub net_assets: BTreeMap<Currency, i128>,
    pub contributions: BTreeMap<Currency, ContributionMonth>,
    pub approved: BTreeMap<Currency, i128>,
    pub paid: BTreeMap<Currency, i128>,
    pub paid_last_12_months: BTreeMap<Currency, i128>,
}

impl MonthFigures {
    /// Months of the trailing twelve months' benefits (their monthly average)
    /// the net assets cover, per currency, rounded half-even to one decimal;
    /// `None` when nothing was paid in the currency in those months.
    pub fn coverage(&self) -> BTreeMap<Currency, Option<String>> {
        self.net_assets
            .iter()
            .map(|(c, assets)| {
                let paid = self.paid_last_12_months.get(c).copied().unwrap_or(0);
                (*c, (paid > 0).then(|| tenths(assets * 120, paid)))
            })
            .collect()
    }
}

/// `n / d` (d > 0) rounded half-even to a whole number of tenths, written
/// as a decimal with one decimal (`tenths(125, 10)` is 12.5 tenths: `1.2`).
fn tenths(n: i128, d: i128) -> String {
    let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
    let q = match (2 * r).cmp(&d) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal if q % 2 != 0 => q + 1,
        _ => q,
    };
    let sign = if q < 0 { "-" } else { "" };
    format!("{sign}{}.{}", q.abs() / 10, q.abs() % 10)
}

/// The first day of the month after `month`'s.
fn next(month: NaiveDate) -> NaiveDate {
    month + Months::new(1)
}

/// The fund's figures for each month from `from` to `to` (first days of
/// their months, `from` ≤ `to`).
pub fn monthly(
    conn: &mut DbConnection,
    fund_id: FundId,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<MonthFigures>> {
    let accounts = ledger::list_accounts(conn, fund_id)?;
    let by_id: HashMap<i64, &ledger::Account> = accounts.iter().map(|a| (a.id, a)).collect();
    let currencies: BTreeSet<Currency> = accounts.iter().map(|a| a.currency).collect();
    let zeros = || -> BTreeMap<Currency, i128> { currencies.iter().map(|c| (*c, 0)).collect() };
    let last_day = next(to).pred_opt().expect("a day before");

    // Balances: each account's (debits, credits) before `from`, then per day.
    let mut running: HashMap<i64, (i128, i128)> =
        ledger::balances_as_of(conn, fund_id, from.pred_opt().expect("a day before"))?
            .into_iter()
            .map(|(id, (d, c))| (id, (d as i128, c as i128)))
            .collect();
    let days: Vec<(i64, NaiveDate, i64, i64)> = account_daily_totals::table
        .inner_join(accounts::table)
        .filter(accounts::fund_id.eq(fund_id))
        .filter(account_daily_totals::day.ge(from))
        .filter(account_daily_totals::day.le(last_day))
        .order(account_daily_totals::day)
        .select((
            account_daily_totals::account_id,
            account_daily_totals::day,
            account_daily_totals::debits_minor,
            account_daily_totals::credits_minor,
        ))
        .load(conn)?;

    // Awards and payments: postings of benefits payable, from the eleven
    // months before `from` on (the trailing sums of the first months).
    let earliest = from - Months::new(11);
    let payable: Vec<i64> = accounts
        .iter()
        .filter(|a| is(a, BENEFITS_PAYABLE))
        .map(|a| a.id)
        .collect();
    let kinds: Vec<&str> = AWARD_KINDS.iter().chain(&PAYMENT_KINDS).copied().collect();
    let claim_postings: Vec<(i64, NaiveDate, String, i64, String)> = postings::table
        .inner_join(journal_entries::table)
        .filter(postings::account_id.eq_any(&payable))
        .filter(postings::effective_date.ge(earliest))
        .filter(postings::effective_date.le(last_day))
        .filter(journal_entries::kind.eq_any(&kinds))
        .select((
            postings::account_id,
            postings::effective_date,
            postings::side,
            postings::amount_minor,
            journal_entries::kind,
        ))
        .load(conn)?;
    // (month, currency) → (approved, paid).
    let mut claims: BTreeMap<(NaiveDate, Currency), (i128, i128)> = BTreeMap::new();
    for (account, day, side, amount, kind) in claim_postings {
        let Some(a) = by_id.get(&account) else {
            continue;
        };
        let slot = claims
            .entry((contribution_months::month_of(day), a.currency))
            .or_default();
        let amount = amount as i128;
        match (side.as_str(), kind.as_str()) {
            ("credit", k) if AWARD_KINDS.contains(&k) => slot.0 += amount,
            ("debit", k) if PAYMENT_KINDS.contains(&k) => slot.1 += amount,
            _ => {}
        }
    }

    let stored = contribution_months::stored(conn, fund_id, from, to)?;

    let mut out = Vec::new();
    let mut days = days.into_iter().peekable();
    let mut month = from;
    while month <= to {
        let end = next(month).pred_opt().expect("a day before");
        while let Some((account, _, d, c)) = days.next_if(|r| r.1 <= end) {
            let t = running.entry(account).or_default();
            t.0 += d as i128;
            t.1 += c as i128;
        }
        let (mut cash, mut fund_reserve, mut net_assets) = (zeros(), zeros(), zeros());
        for a in &accounts {
            let (d, c) = running.get(&a.id).copied().unwrap_or_default();
            let debit_balance = d - c;
            if is(a, CASH) {
                *cash.entry(a.currency).or_default() += debit_balance;
            }
            if is(a, FUND_RESERVE) {
                *fund_reserve.entry(a.currency).or_default() -= debit_balance;
            }
            // Net assets: assets less liabilities, each on its normal side.
            if matches!(a.account_type, AccountType::Asset | AccountType::Liability) {
                *net_assets.entry(a.currency).or_default() += debit_balance;
            }
        }
        let mut contributions: BTreeMap<Currency, ContributionMonth> = currencies
            .iter()
            .map(|c| (*c, ContributionMonth::default()))
            .collect();
        let range =
            (month, String::new(), String::new())..(next(month), String::new(), String::new());
        for ((_, currency, payer_type), (n, amount)) in stored.range(range) {
            let Ok(currency) = Currency::parse(currency) else {
                continue;
            };
            let slot = contributions.entry(currency).or_default();
            if payer_type == ALL {
                slot.count = *n;
                slot.amount_minor = *amount;
            } else {
                slot.by_payer.insert(payer_type.clone(), (*n, *amount));
            }
        }
        let (mut approved, mut paid, mut paid_last_12_months) = (zeros(), zeros(), zeros());
        let window = month - Months::new(11);
        for ((m, currency), (a, p)) in &claims {
            if *m == month {
                *approved.entry(*currency).or_default() += a;
                *paid.entry(*currency).or_default() += p;
            }
            if *m >= window && *m <= month {
                *paid_last_12_months.entry(*currency).or_default() += p;
            }
        }
        out.push(MonthFigures {
            month,
            end,
            cash,
            fund_reserve,
            net_assets,
            contributions,
            approved,
            paid,
            paid_last_12_months,
        });
        month = next(month);
    }
    Ok(out)
}

/// Whether `a` is the standard account `code` (in the fund's currency, or
/// its copy in another currency, `code-CCY`).
fn is(a: &ledger::Account, code: &str) -> bool {
    a.code == code
        || a.code
            .strip_prefix(code)
            .is_some_and(|rest| rest.starts_with('-'))
}

#[cfg(test)]
mod tests {
    use super::tenths;

    #[test]
    fn coverage_is_rounded_half_even_to_tenths() {
        assert_eq!(tenths(120, 10), "1.2");
        assert_eq!(tenths(125, 10), "1.2");
        assert_eq!(tenths(135, 10), "1.4");
        assert_eq!(tenths(-125, 10), "-1.2");
        assert_eq!(tenths(-135, 10), "-1.4");
        assert_eq!(tenths(7, 3), "0.2");
        assert_eq!(tenths(-1, 3), "0.0");
        assert_eq!(tenths(-5, 3), "-0.2");
        assert_eq!(tenths(1234, 1), "123.4");
    }
}

//! Contributions per month, kept beside the contributions (`contribution_months`):
//! per fund, month of the payment date, currency and payer type, how many
//! contributions and what they paid. The payer type `""` is the row of all
//! contributions (their count and `total_minor`); any other type is the payer
//! lines of that type (how many contributions it paid a share of, and the sum
//! of those shares).
//!
//! A month counts what was booked in it (`paid_on`, the date of the
//! contribution's journal entry): a later reversal or refund is an entry of
//! its own and changes no row here. So only [`add`], called by
//! `contributions::insert` (every way a contribution is recorded) in the
//! transaction that writes them, changes the table; [`verify`] (run by a full
//! `mwf verify`) compares it with the contributions.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::{contribution_months, contribution_payers, contributions};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::funds::FundId;
use crate::ledger::VerificationProblem;

/// The payer type of the row counting every contribution.
pub const ALL: &str = "";

/// (month's first day, currency, payer type) → (contributions, amount).
pub type Months = BTreeMap<(NaiveDate, String, String), (i64, i64)>;

/// The first day of `date`'s month.
pub fn month_of(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("every month has a first day")
}

/// One contribution as the summary counts it.
pub struct Counted<'a> {
    pub paid_on: NaiveDate,
    pub currency: &'a str,
    pub total_minor: i64,
    /// The payer lines: type and amount.
    pub payers: Vec<(&'a str, i64)>,
}

/// Adds `counted` to `months`, each contribution once per payer type it has.
fn count_into<'a>(months: &mut Months, counted: impl IntoIterator<Item = Counted<'a>>) {
    for c in counted {
        let month = month_of(c.paid_on);
        let all = months
            .entry((month, c.currency.to_string(), ALL.to_string()))
            .or_default();
        all.0 += 1;
        all.1 += c.total_minor;
        let mut by_type: BTreeMap<&str, i64> = BTreeMap::new();
        for (payer_type, amount) in &c.payers {
            *by_type.entry(payer_type).or_default() += amount;
        }
        for (payer_type, amount) in by_type {
            let row = months
                .entry((month, c.currency.to_string(), payer_type.to_string()))
                .or_default();
            row.0 += 1;
            row.1 += amount;
        }
    }
}

/// Adds newly recorded contributions to the fund's months, in the caller's
/// transaction (one multi-row upsert per few hundred keys; a batch has few).
pub fn add<'a>(
    conn: &mut DbConnection,
    fund_id: FundId,
    counted: impl IntoIterator<Item = Counted<'a>>,
) -> AppResult<()> {
    let mut months = Months::new();
    count_into(&mut months, counted);
    let rows: Vec<_> = months
        .iter()
        .map(|((month, currency, payer_type), (n, amount))| {
            (
                contribution_months::fund_id.eq(fund_id),
                contribution_months::month.eq(*month),
                contribution_months::currency.eq(currency.as_str()),
                contribution_months::payer_type.eq(payer_type.as_str()),
                contribution_months::contributions.eq(*n),
                contribution_months::amount_minor.eq(*amount),
            )
        })
        .collect();
    let key = (
        contribution_months::fund_id,
        contribution_months::month,
        contribution_months::currency,
        contribution_months::payer_type,
    );
    let sums = (
        contribution_months::contributions
            .eq(contribution_months::contributions + excluded(contribution_months::contributions)),
        contribution_months::amount_minor
            .eq(contribution_months::amount_minor + excluded(contribution_months::amount_minor)),
    );
    for chunk in rows.chunks(500) {
        match &mut *conn {
            DbConnection::Postgresql(c) => diesel::insert_into(contribution_months::table)
                .values(chunk)
                .on_conflict(key)
                .do_update()
                .set(sums)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(contribution_months::table)
                .values(chunk)
                .on_conflict(key)
                .do_update()
                .set(sums)
                .execute(c)?,
        };
    }
    Ok(())
}

/// The stored rows of the fund's months from `from` to `to` (first days), in key order.
pub fn stored(
    conn: &mut DbConnection,
    fund_id: FundId,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Months> {
    let rows: Vec<(NaiveDate, String, String, i64, i64)> = contribution_months::table
        .filter(contribution_months::fund_id.eq(fund_id))
        .filter(contribution_months::month.ge(from))
        .filter(contribution_months::month.le(to))
        .order((
            contribution_months::month,
            contribution_months::currency,
            contribution_months::payer_type,
        ))
        .select((
            contribution_months::month,
            contribution_months::currency,
            contribution_months::payer_type,
            contribution_months::contributions,
            contribution_months::amount_minor,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(m, c, p, n, a)| ((m, c, p), (n, a)))
        .collect())
}

/// The payer lines of the page `ids` (contribution ids in order): one range
/// scan of the payers' primary key from the first id to the last when the
/// page's contributions are most of the contributions in that range (the
/// lines of others in it are read too and never looked up), else the page's
/// ids looked up one by one, so that a small fund's page spread among a large
/// fund's contributions does not read theirs.
fn page_payers(conn: &mut DbConnection, ids: &[&str]) -> AppResult<Vec<(String, String, i64)>> {
    let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
        return Ok(Vec::new());
    };
    let in_range: i64 = contributions::table
        .filter(contributions::id.between(*first, *last))
        .count()
        .get_result(conn)?;
    let query = contribution_payers::table.select((
        contribution_payers::contribution_id,
        contribution_payers::payer_type,
        contribution_payers::amount_minor,
    ));
    if in_range as usize <= 2 * ids.len() {
        return Ok(query
            .filter(contribution_payers::contribution_id.between(*first, *last))
            .load(conn)?);
    }
    let mut rows = Vec::new();
    for chunk in ids.chunks(1_000) {
        rows.extend(
            query
                .filter(contribution_payers::contribution_id.eq_any(chunk))
                .load::<(String, String, i64)>(conn)?,
        );
    }
    Ok(rows)
}

/// Compares the fund's stored months with the contributions, a page of
/// contributions at a time (memory grows with the months, not the
/// contributions): a `SUMMARY_MISMATCH` per month, currency and payer type
/// that differs.
pub fn verify(conn: &mut DbConnection, fund_id: FundId) -> AppResult<Vec<VerificationProblem>> {
    const PAGE: i64 = 5_000;
    let mut expected = Months::new();
    let mut after = String::new();
    loop {
        let page: Vec<(String, NaiveDate, String, i64)> = contributions::table
            .filter(contributions::fund_id.eq(fund_id))
            .filter(contributions::id.gt(&after))
            .order(contributions::id)
            .limit(PAGE)
            .select((
                contributions::id,
                contributions::paid_on,
                contributions::currency,
                contributions::total_minor,
            ))
            .load(conn)?;
        let Some(last) = page.last().map(|p| p.0.clone()) else {
            break;
        };
        let ids: Vec<&str> = page.iter().map(|p| p.0.as_str()).collect();
        let payer_rows = page_payers(conn, &ids)?;
        let mut payers: HashMap<&str, Vec<(&str, i64)>> = HashMap::with_capacity(page.len());
        for (id, payer_type, amount) in &payer_rows {
            payers
                .entry(id.as_str())
                .or_default()
                .push((payer_type.as_str(), *amount));
        }
        // Added up under the page's own strings first (as `count_into` adds:
        // each contribution once in all payers and once per payer type it
        // has), then into `expected` once per key.
        let mut sums: HashMap<(NaiveDate, &str, &str), (i64, i64)> = HashMap::new();
        for (id, paid_on, currency, total) in &page {
            let month = month_of(*paid_on);
            let all = sums.entry((month, currency.as_str(), ALL)).or_default();
            all.0 += 1;
            all.1 += total;
            let lines = payers
                .get(id.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            for (i, &(payer_type, _)) in lines.iter().enumerate() {
                if lines[..i].iter().any(|(t, _)| *t == payer_type) {
                    continue;
                }
                let amount: i64 = lines[i..]
                    .iter()
                    .filter(|(t, _)| *t == payer_type)
                    .map(|(_, a)| a)
                    .sum();
                let row = sums
                    .entry((month, currency.as_str(), payer_type))
                    .or_default();
                row.0 += 1;
                row.1 += amount;
            }
        }
        for ((month, currency, payer_type), (n, amount)) in sums {
            let row = expected
                .entry((month, currency.to_string(), payer_type.to_string()))
                .or_default();
            row.0 += n;
            row.1 += amount;
        }
        after = last;
    }
    let (first, last) = (
        NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date"),
        NaiveDate::from_ymd_opt(2100, 12, 1).expect("a date"),
    );
    let stored = stored(conn, fund_id, first, last)?;
    let mut problems = Vec::new();
    let keys: std::collections::BTreeSet<_> = expected.keys().chain(stored.keys()).collect();
    for key in keys {
        let want = expected.get(key).copied().unwrap_or_default();
        let have = stored.get(key).copied().unwrap_or_default();
        if want != have {
            let (month, currency, payer_type) = key;
            let who = if payer_type.is_empty() {
                "all payers"
            } else {
                payer_type
            };
            problems.push(VerificationProblem {
                code: "SUMMARY_MISMATCH".to_string(),
                entry_id: None,
                sequence: None,
                account: None,
                detail: format!(
                    "contributions of {} in {currency} ({who}): the monthly summary holds {} for {} minor units but the records give {} for {}",
                    &month.to_string()[..7],
                    have.0,
                    have.1,
                    want.0,
                    want.1
                ),
            });
        }
    }
    Ok(problems)
}

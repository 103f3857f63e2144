//! Balances as of a date and account statements, summed from postings by
//! effective date (so back-dated entries show where they belong).

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::limits::narrow;
use super::{Account, Side};
use crate::db::schema::{accounts, journal_entries, postings};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::FundId;

/// The most lines one statement returns; a longer range is refused.
pub const MAX_STATEMENT_LINES: i64 = 10_000;

/// A sum of posting amounts in two parts: see [`sum_wide`].
pub(super) type SumWide = (i64, i64);

/// The part an amount is split at: a posting (at most 10^15) has a quotient of at
/// most 10^6 and a remainder below 10^9, so each part's sum stays inside 64 bits
/// for nine billion postings.
const SPLIT: i64 = 1_000_000_000;

/// `SUM(postings.amount_minor)` that cannot overflow on either backend (SQLite
/// fails a 64-bit SUM that overflows; PostgreSQL sums wide but its CAST back
/// fails): the quotients and the remainders of the amounts by 10^9 are summed
/// apart, and [`wide`] puts them together exactly.
pub(super) fn sum_wide() -> (
    diesel::expression::SqlLiteral<BigInt>,
    diesel::expression::SqlLiteral<BigInt>,
) {
    (
        sql::<BigInt>(&format!(
            "CAST(SUM(postings.amount_minor / {SPLIT}) AS BIGINT)"
        )),
        sql::<BigInt>(&format!(
            "CAST(SUM(postings.amount_minor % {SPLIT}) AS BIGINT)"
        )),
    )
}

/// The exact sum of a [`sum_wide`].
pub(super) fn wide((quotients, remainders): SumWide) -> i128 {
    quotients as i128 * SPLIT as i128 + remainders as i128
}

/// Debits and credits from per-side sums, each narrowed with a check.
fn by_side(
    rows: impl IntoIterator<Item = (String, SumWide)>,
    what: impl Fn() -> String,
) -> AppResult<(i64, i64)> {
    let (mut debits, mut credits) = (0i128, 0i128);
    for (side, sum) in rows {
        match Side::parse(&side) {
            Some(Side::Debit) => debits += wide(sum),
            Some(Side::Credit) => credits += wide(sum),
            None => unreachable!("stored sides are debit or credit"),
        }
    }
    Ok((narrow(debits, &what)?, narrow(credits, &what)?))
}

/// Debits and credits posted to each account of a fund with an effective date
/// on or before `as_of`, keyed by account id.
pub fn balances_as_of(
    conn: &mut DbConnection,
    fund_id: FundId,
    as_of: NaiveDate,
) -> AppResult<HashMap<i64, (i64, i64)>> {
    let rows: Vec<(i64, String, SumWide)> = postings::table
        .inner_join(accounts::table)
        .filter(accounts::fund_id.eq(fund_id))
        .filter(postings::effective_date.le(as_of))
        .group_by((postings::account_id, postings::side))
        .select((postings::account_id, postings::side, sum_wide()))
        .load(conn)?;
    let mut per_account: HashMap<i64, Vec<(String, SumWide)>> = HashMap::new();
    for (account_id, side, sum) in rows {
        per_account.entry(account_id).or_default().push((side, sum));
    }
    per_account
        .into_iter()
        .map(|(id, sums)| {
            let totals = by_side(sums, || format!("the postings of account id {id}"))?;
            Ok((id, totals))
        })
        .collect()
}

fn totals_before(
    conn: &mut DbConnection,
    account_id: i64,
    before: NaiveDate,
) -> AppResult<(i64, i64)> {
    let rows: Vec<(String, SumWide)> = postings::table
        .filter(postings::account_id.eq(account_id))
        .filter(postings::effective_date.lt(before))
        .group_by(postings::side)
        .select((postings::side, sum_wide()))
        .load(conn)?;
    by_side(rows, || format!("the postings of account id {account_id}"))
}

#[derive(Debug, Clone)]
pub struct StatementLine {
    pub entry_id: String,
    pub sequence: i64,
    pub effective_date: NaiveDate,
    pub kind: String,
    pub memo: String,
    pub side: Side,
    pub amount_minor: i64,
    pub balance_after_minor: i64,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub opening_balance_minor: i64,
    pub lines: Vec<StatementLine>,
    pub closing_balance_minor: i64,
}

/// The account's statement from `from` to `to` inclusive, by effective date:
/// the balance before `from`, each posting in date then sequence order with the
/// running balance, and the balance at the end of `to`.
pub fn statement(
    conn: &mut DbConnection,
    account: &Account,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Statement> {
    let (debits, credits) = totals_before(conn, account.id, from)?;
    let opening = account.account_type.balance(debits, credits);
    let rows: Vec<(String, i64, NaiveDate, String, String, String, i64)> = postings::table
        .inner_join(journal_entries::table)
        .filter(postings::account_id.eq(account.id))
        .filter(postings::effective_date.ge(from))
        .filter(postings::effective_date.le(to))
        .order((
            postings::effective_date.asc(),
            journal_entries::sequence.asc(),
            postings::line.asc(),
        ))
        .limit(MAX_STATEMENT_LINES + 1)
        .select((
            journal_entries::id,
            journal_entries::sequence,
            postings::effective_date,
            journal_entries::kind,
            journal_entries::memo,
            postings::side,
            postings::amount_minor,
        ))
        .load(conn)?;
    if rows.len() as i64 > MAX_STATEMENT_LINES {
        return Err(AppError::new(
            ErrorCode::LimitExceeded,
            format!("the statement has more than {MAX_STATEMENT_LINES} lines; ask for a shorter range or use the ledger export"),
        )
        .with("limit", MAX_STATEMENT_LINES));
    }
    // Running balances in i128, narrowed with a check: within the limits they
    // never leave ±MAX_ACCOUNT_TOTAL_MINOR.
    let mut balance = opening as i128;
    let normal = account.account_type.normal_side();
    let what = || format!("the postings of account {}", account.code);
    let lines = rows
        .into_iter()
        .map(
            |(entry_id, sequence, effective_date, kind, memo, side, amount_minor)| {
                let side = Side::parse(&side).expect("stored sides are valid");
                balance += if side == normal {
                    amount_minor as i128
                } else {
                    -(amount_minor as i128)
                };
                Ok(StatementLine {
                    entry_id,
                    sequence,
                    effective_date,
                    kind,
                    memo,
                    side,
                    amount_minor,
                    balance_after_minor: narrow(balance, what)?,
                })
            },
        )
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Statement {
        opening_balance_minor: opening,
        lines,
        closing_balance_minor: narrow(balance, what)?,
    })
}

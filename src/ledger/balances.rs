//! Balances as of a date and account statements by effective date (so
//! back-dated entries show where they belong). Balances and a statement's
//! opening balance add up `account_daily_totals` (one row per account and day
//! with postings, kept by the Booking in the postings' transaction), so their
//! cost grows with the days of history, not the entries; a statement's lines
//! are read from the postings.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::limits::narrow;
use super::{Account, Side};
use crate::db::schema::{account_daily_totals, accounts, journal_entries, postings};
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
    sum_wide_of("postings.amount_minor")
}

/// [`sum_wide`] of any `BIGINT` column. Whatever 64-bit values the rows hold
/// (even a database altered by hand), each part's sum fits in 64 bits for
/// nine billion rows; both backends truncate `/` and `%` toward zero, so
/// [`wide`] puts every value back together exactly.
fn sum_wide_of(
    column: &str,
) -> (
    diesel::expression::SqlLiteral<BigInt>,
    diesel::expression::SqlLiteral<BigInt>,
) {
    (
        sql::<BigInt>(&format!("CAST(SUM({column} / {SPLIT}) AS BIGINT)")),
        sql::<BigInt>(&format!("CAST(SUM({column} % {SPLIT}) AS BIGINT)")),
    )
}

/// The exact sum of a [`sum_wide`].
pub(super) fn wide((quotients, remainders): SumWide) -> i128 {
    quotients as i128 * SPLIT as i128 + remainders as i128
}

/// Debits and credits posted to each account of a fund with an effective date
/// on or before `as_of`, keyed by account id: the account's daily totals up to
/// that day, added up (a range of the primary key per account).
pub fn balances_as_of(
    conn: &mut DbConnection,
    fund_id: FundId,
    as_of: NaiveDate,
) -> AppResult<HashMap<i64, (i64, i64)>> {
    let rows: Vec<(i64, SumWide, SumWide)> = account_daily_totals::table
        .inner_join(accounts::table)
        .filter(accounts::fund_id.eq(fund_id))
        .filter(account_daily_totals::day.le(as_of))
        .group_by(account_daily_totals::account_id)
        .select((
            account_daily_totals::account_id,
            sum_wide_of("account_daily_totals.debits_minor"),
            sum_wide_of("account_daily_totals.credits_minor"),
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, debits, credits)| {
            let totals = narrow_totals(debits, credits, || {
                format!("the daily totals of account id {id}")
            })?;
            Ok((id, totals))
        })
        .collect()
}

/// The debits and credits of `account_id` with an effective date before
/// `before`, from its daily totals.
fn totals_before(
    conn: &mut DbConnection,
    account_id: i64,
    before: NaiveDate,
) -> AppResult<(i64, i64)> {
    let sums: Option<(SumWide, SumWide)> = account_daily_totals::table
        .filter(account_daily_totals::account_id.eq(account_id))
        .filter(account_daily_totals::day.lt(before))
        .group_by(account_daily_totals::account_id)
        .select((
            sum_wide_of("account_daily_totals.debits_minor"),
            sum_wide_of("account_daily_totals.credits_minor"),
        ))
        .first(conn)
        .optional()?;
    match sums {
        Some((debits, credits)) => narrow_totals(debits, credits, || {
            format!("the daily totals of account id {account_id}")
        }),
        None => Ok((0, 0)),
    }
}

/// Debits and credits from their [`sum_wide`]s, each narrowed with a check.
fn narrow_totals(
    debits: SumWide,
    credits: SumWide,
    what: impl Fn() -> String,
) -> AppResult<(i64, i64)> {
    Ok((narrow(wide(debits), &what)?, narrow(wide(credits), &what)?))
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

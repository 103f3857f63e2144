//! Balances as of a date and account statements, summed from postings by
//! effective date (so back-dated entries show where they belong).

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::{Account, Side};
use crate::db::schema::{accounts, journal_entries, postings};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode};

/// The most lines one statement returns; a longer range is refused.
pub const MAX_STATEMENT_LINES: i64 = 10_000;

pub(super) fn sum_amount() -> diesel::expression::SqlLiteral<BigInt> {
    sql::<BigInt>("CAST(SUM(postings.amount_minor) AS BIGINT)")
}

/// Debits and credits posted to each account of a fund with an effective date
/// on or before `as_of`, keyed by account id.
pub fn balances_as_of(
    conn: &mut DbConnection,
    fund_id: i64,
    as_of: NaiveDate,
) -> AppResult<HashMap<i64, (i64, i64)>> {
    let rows: Vec<(i64, String, i64)> = postings::table
        .inner_join(accounts::table)
        .filter(accounts::fund_id.eq(fund_id))
        .filter(postings::effective_date.le(as_of))
        .group_by((postings::account_id, postings::side))
        .select((postings::account_id, postings::side, sum_amount()))
        .load(conn)?;
    let mut totals: HashMap<i64, (i64, i64)> = HashMap::new();
    for (account_id, side, amount) in rows {
        let t = totals.entry(account_id).or_default();
        match Side::parse(&side) {
            Some(Side::Debit) => t.0 += amount,
            Some(Side::Credit) => t.1 += amount,
            None => unreachable!("stored sides are debit or credit"),
        }
    }
    Ok(totals)
}

fn totals_before(
    conn: &mut DbConnection,
    account_id: i64,
    before: NaiveDate,
) -> AppResult<(i64, i64)> {
    let rows: Vec<(String, i64)> = postings::table
        .filter(postings::account_id.eq(account_id))
        .filter(postings::effective_date.lt(before))
        .group_by(postings::side)
        .select((postings::side, sum_amount()))
        .load(conn)?;
    let mut totals = (0, 0);
    for (side, amount) in rows {
        match Side::parse(&side) {
            Some(Side::Debit) => totals.0 += amount,
            Some(Side::Credit) => totals.1 += amount,
            None => unreachable!("stored sides are debit or credit"),
        }
    }
    Ok(totals)
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
    let mut balance = opening;
    let normal = account.account_type.normal_side();
    let lines = rows
        .into_iter()
        .map(
            |(entry_id, sequence, effective_date, kind, memo, side, amount_minor)| {
                let side = Side::parse(&side).expect("stored sides are valid");
                balance += if side == normal {
                    amount_minor
                } else {
                    -amount_minor
                };
                StatementLine {
                    entry_id,
                    sequence,
                    effective_date,
                    kind,
                    memo,
                    side,
                    amount_minor,
                    balance_after_minor: balance,
                }
            },
        )
        .collect();
    Ok(Statement {
        opening_balance_minor: opening,
        lines,
        closing_balance_minor: balance,
    })
}

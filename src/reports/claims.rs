//! Claims statistics for a period: claims filed in it, counted and summed by
//! benefit, status and the worker's sex, and any combination of them. Payees
//! are counted too: a claim whose heirs share pays each of its payees, any
//! other claim its claimant.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::schema::{claims, workers};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::funds::FundId;
use crate::money::Currency;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Benefit,
    Status,
    Sex,
}

impl Dimension {
    pub const OFFERED: &'static [(&'static str, Dimension)] = &[
        ("benefit", Dimension::Benefit),
        ("status", Dimension::Status),
        ("sex", Dimension::Sex),
    ];
}

/// Amounts of one currency, in minor units. They are sums over any number of
/// claims (a claimed amount is the claimant's, bounded only per claim), so
/// they are kept in i128: no count of claims can overflow them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimAmounts {
    /// What claimants asked for (claims without a claimed amount add nothing).
    pub claimed_minor: i128,
    /// What the rules make payable.
    pub assessed_minor: i128,
    /// What was finally approved and booked as an expense.
    pub approved_minor: i128,
    /// What was paid out.
    pub paid_minor: i128,
}

#[derive(Debug, Clone)]
pub struct ClaimGroup {
    /// The values, in the order of the dimensions asked for.
    pub keys: Vec<String>,
    pub count: u64,
    /// The beneficiaries the claims pay: their payees, or the claimant.
    pub payees: u64,
    pub amounts: BTreeMap<Currency, ClaimAmounts>,
}

#[derive(Debug, Clone)]
pub struct ClaimStatistics {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: Vec<Dimension>,
    pub count: u64,
    /// The beneficiaries the claims pay: their payees, or the claimant.
    pub payees: u64,
    pub amounts: BTreeMap<Currency, ClaimAmounts>,
    /// Groups in key order.
    pub groups: Vec<ClaimGroup>,
}

/// The part amounts are split at, so that no SQL sum can overflow 64 bits: an
/// amount of at most 10^15 has a quotient of at most 10^6 and a remainder
/// below 10^9, and billions of them still add up inside 64 bits on both backends.
const SPLIT: i64 = 1_000_000_000;

/// `SUM(expression)` of non-negative amounts as two sums that cannot overflow
/// (SQLite fails a 64-bit SUM that would), put together by [`wide`].
fn sum_of(
    expression: &str,
) -> (
    diesel::expression::SqlLiteral<BigInt>,
    diesel::expression::SqlLiteral<BigInt>,
) {
    (
        sql::<BigInt>(&format!(
            "CAST(COALESCE(SUM(({expression}) / {SPLIT}), 0) AS BIGINT)"
        )),
        sql::<BigInt>(&format!(
            "CAST(COALESCE(SUM(({expression}) % {SPLIT}), 0) AS BIGINT)"
        )),
    )
}

fn wide((quotients, remainders): (i64, i64)) -> i128 {
    quotients as i128 * SPLIT as i128 + remainders as i128
}

type Sum = (i64, i64);
type Row = (String, String, String, String, i64, i64, Sum, Sum, Sum, Sum);

/// Claims filed from `from` to `to` inclusive, grouped by `by`.
pub fn claim_statistics(
    conn: &mut DbConnection,
    fund_id: FundId,
    from: NaiveDate,
    to: NaiveDate,
    by: Vec<Dimension>,
) -> AppResult<ClaimStatistics> {
    debug_assert!(from <= to, "the caller checked the period");
    let rows = sums_filed(conn, fund_id, from, to)?;
    let mut groups: BTreeMap<Vec<String>, ClaimGroup> = BTreeMap::new();
    let mut count = 0;
    let mut payees = 0;
    let mut amounts: BTreeMap<Currency, ClaimAmounts> = BTreeMap::new();
    for (benefit, status, sex, currency, n, paying, claimed, assessed, approved, paid) in rows {
        let currency = Currency::parse(&currency).map_err(AppError::internal)?;
        let keys: Vec<String> = by
            .iter()
            .map(|d| match d {
                Dimension::Benefit => benefit.clone(),
                Dimension::Status => status.clone(),
                Dimension::Sex => sex.clone(),
            })
            .collect();
        let group = groups.entry(keys.clone()).or_insert_with(|| ClaimGroup {
            keys,
            count: 0,
            payees: 0,
            amounts: BTreeMap::new(),
        });
        group.count += n as u64;
        count += n as u64;
        group.payees += paying as u64;
        payees += paying as u64;
        for target in [
            group.amounts.entry(currency).or_default(),
            amounts.entry(currency).or_default(),
        ] {
            target.claimed_minor += wide(claimed);
            target.assessed_minor += wide(assessed);
            target.approved_minor += wide(approved);
            target.paid_minor += wide(paid);
        }
    }
    debug_assert_eq!(
        groups.values().map(|g| g.count).sum::<u64>(),
        count,
        "the groups' counts add up to the total"
    );
    Ok(ClaimStatistics {
        from,
        to,
        by,
        count,
        payees,
        amounts,
        groups: groups.into_values().collect(),
    })
}

/// How many a claim pays: its payees, or its claimant when it has none.
const PAYEES_OF_CLAIM: &str =
    "COALESCE(NULLIF((SELECT COUNT(*) FROM claim_payees p WHERE p.claim_id = claims.id), 0), 1)";

/// What a claim not yet paid in full has paid its payees so far.
const PAID_TO_PAYEES: &str = "CAST((SELECT COALESCE(SUM(p.amount_minor), 0) FROM claim_payees p WHERE p.claim_id = claims.id AND p.paid_on IS NOT NULL) AS BIGINT)";

/// Claims filed from `from` to `to` inclusive, counted and summed by benefit,
/// status, the worker's sex and currency.
fn sums_filed(
    conn: &mut DbConnection,
    fund_id: FundId,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<Row>> {
    Ok(claims::table
        .inner_join(workers::table)
        .filter(claims::fund_id.eq(fund_id))
        .filter(claims::filed_on.ge(from))
        .filter(claims::filed_on.le(to))
        .group_by((
            claims::benefit,
            claims::status,
            workers::sex,
            claims::currency,
        ))
        .select((
            claims::benefit,
            claims::status,
            workers::sex,
            claims::currency,
            count_star(),
            sql::<BigInt>(&format!("CAST(COALESCE(SUM({PAYEES_OF_CLAIM}), 0) AS BIGINT)")),
            sum_of("claims.claimed_amount_minor"),
            sum_of("claims.payable_minor"),
            sum_of(
                "CASE WHEN claims.approval_entry_id IS NOT NULL THEN claims.decided_amount_minor ELSE 0 END",
            ),
            sum_of(&format!(
                "CASE WHEN claims.payment_entry_id IS NOT NULL THEN claims.decided_amount_minor ELSE {PAID_TO_PAYEES} END"
            )),
        ))
        .load(conn)?)
}

//! Publishing and reading rule versions. Versions are immutable (database
//! triggers refuse changes); a new version may not change the rules for records
//! already booked.

use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::document::RuleDocument;
use super::validate::validate;
use crate::db::schema::{contributions, rule_versions};
use crate::db::{is_unique_violation, DbConnection};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::{lock_fund, Fund};
use crate::ledger::{self, AccountType, NewAccount};
use crate::money::Currency;

/// A published rule version.
#[derive(Debug, Clone)]
pub struct RuleVersion {
    pub version: String,
    pub effective_from: NaiveDate,
    /// The day before the next version's `effective_from`, if there is one.
    pub effective_to: Option<NaiveDate>,
    pub document: RuleDocument,
    pub published_at: NaiveDateTime,
    pub published_by: String,
}

type VersionRow = (String, NaiveDate, String, NaiveDateTime, String);

/// All versions of a fund, oldest first, each with its end date.
pub fn versions_for_fund(conn: &mut DbConnection, fund_id: i64) -> AppResult<Vec<RuleVersion>> {
    let rows: Vec<VersionRow> = rule_versions::table
        .filter(rule_versions::fund_id.eq(fund_id))
        .order(rule_versions::effective_from.asc())
        .select((
            rule_versions::version,
            rule_versions::effective_from,
            rule_versions::document,
            rule_versions::published_at,
            rule_versions::published_by,
        ))
        .load(conn)?;
    let starts: Vec<NaiveDate> = rows.iter().map(|r| r.1).collect();
    rows.into_iter()
        .enumerate()
        .map(
            |(i, (version, effective_from, document, published_at, published_by))| {
                Ok(RuleVersion {
                    version,
                    effective_from,
                    effective_to: starts.get(i + 1).map(|next| *next - Days::new(1)),
                    document: serde_json::from_str(&document).map_err(|e| {
                        AppError::internal(format!("stored rule document does not parse: {e}"))
                    })?,
                    published_at,
                    published_by,
                })
            },
        )
        .collect()
}

/// The versions as a table for `evaluate::version_in_force`: start date, then
/// label and document.
pub fn version_table(
    conn: &mut DbConnection,
    fund_id: i64,
) -> AppResult<Vec<(NaiveDate, (String, RuleDocument))>> {
    Ok(versions_for_fund(conn, fund_id)?
        .into_iter()
        .map(|v| (v.effective_from, (v.version, v.document)))
        .collect())
}

/// Publishes a version after validating it. Refused (409) when its label or start
/// date is taken, or when it would change which rules govern a contribution
/// already recorded. Creates the accounts the contribution currency needs.
pub fn publish(
    conn: &mut DbConnection,
    fund: &Fund,
    doc: RuleDocument,
    published_by: &str,
) -> AppResult<RuleVersion> {
    let contribution_currency = validate(&doc, fund.currency).map_err(AppError::validation)?;
    // Bookings of the fund take this row lock before they read the rules, so
    // no contribution can slip in under the old rules while this commits.
    lock_fund(conn, fund.id)?;
    let existing = versions_for_fund(conn, fund.id)?;
    if let Some(same) = existing
        .iter()
        .find(|v| v.version == doc.version || v.effective_from == doc.effective_from)
    {
        return Err(AppError::new(
            ErrorCode::RuleVersionExists,
            format!(
                "version {} (effective from {}) already exists; published versions are immutable, publish a new version instead",
                same.version, same.effective_from
            ),
        )
        .with("version", &same.version));
    }
    let next_start = existing
        .iter()
        .map(|v| v.effective_from)
        .filter(|d| *d > doc.effective_from)
        .min();
    let mut affected = contributions::table
        .filter(contributions::fund_id.eq(fund.id))
        .filter(contributions::paid_on.ge(doc.effective_from))
        .into_boxed();
    if let Some(next) = next_start {
        affected = affected.filter(contributions::paid_on.lt(next));
    }
    let affected: Vec<(String, NaiveDate)> = affected
        .order(contributions::paid_on.asc())
        .limit(5)
        .select((contributions::id, contributions::paid_on))
        .load(conn)?;
    if let Some((first_id, first_date)) = affected.first() {
        return Err(AppError::new(
            ErrorCode::RulesWouldChangeRecords,
            format!(
                "a version effective from {} would change the rules for contributions already recorded (the first paid on {first_date}); \
                 choose an effective_from after the last recorded one",
                doc.effective_from
            ),
        )
        .with("contribution_id", first_id));
    }
    let now = crate::time::now();
    let text = serde_json::to_string(&doc)?;
    let inserted = diesel::insert_into(rule_versions::table)
        .values((
            rule_versions::fund_id.eq(fund.id),
            rule_versions::version.eq(&doc.version),
            rule_versions::effective_from.eq(doc.effective_from),
            rule_versions::contribution_currency.eq(contribution_currency.code()),
            rule_versions::document.eq(&text),
            rule_versions::published_at.eq(now),
            rule_versions::published_by.eq(published_by),
        ))
        .execute(conn);
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::new(
                ErrorCode::RuleVersionExists,
                "this version was published concurrently",
            ))
        }
        other => {
            other?;
        }
    }
    if contribution_currency != fund.currency {
        ensure_currency_accounts(conn, fund.id, contribution_currency)?;
    }
    Ok(RuleVersion {
        version: doc.version.clone(),
        effective_from: doc.effective_from,
        effective_to: next_start.map(|d| d - Days::new(1)),
        document: doc,
        published_at: now,
        published_by: published_by.to_string(),
    })
}

/// The code of one of the standard accounts in another currency: `1000-USD`.
pub fn currency_account(base: &str, fund_currency: Currency, currency: Currency) -> String {
    if currency == fund_currency {
        base.to_string()
    } else {
        format!("{base}-{}", currency.code())
    }
}

/// Creates cash, tax payable and contribution income accounts kept in a
/// contribution currency other than the fund's, if missing.
fn ensure_currency_accounts(
    conn: &mut DbConnection,
    fund_id: i64,
    currency: Currency,
) -> AppResult<()> {
    let wanted = [
        ("1000", "Cash at bank", AccountType::Asset, false),
        ("2100", "Taxes payable", AccountType::Liability, true),
        (
            "4000",
            "Contribution income: benefit reserve",
            AccountType::Revenue,
            true,
        ),
        (
            "4100",
            "Contribution income: administration",
            AccountType::Revenue,
            true,
        ),
    ];
    for (base, name, account_type, allow_negative) in wanted {
        let code = format!("{base}-{}", currency.code());
        if ledger::find_account(conn, fund_id, &code)?.is_none() {
            ledger::create_account(
                conn,
                fund_id,
                &NewAccount {
                    code,
                    name: format!("{name} ({})", currency.code()),
                    account_type,
                    currency,
                    allow_negative,
                },
            )?;
        }
    }
    Ok(())
}

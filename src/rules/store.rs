//! Publishing and reading rule versions. Versions are immutable (database
//! triggers refuse changes); a new version may not change the rules for records
//! already booked.

use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::document::RuleDocument;
use super::validate::validate;
use crate::db::schema::{claims, contributions, rule_versions};
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

/// The most claims a refusal to publish names (`claim_count` counts them all).
const MAX_NAMED_CLAIMS: i64 = 10;

/// Publishes a version after validating it. Refused (409) when its label or start
/// date is taken, or when it would change which version governs a record: a
/// contribution (the version in force on its `paid_on`) or a claim (the version
/// in force on its `incident_date`). Every claim counts, whatever its status: a
/// recorded claim keeps the rules it was assessed and decided under, and
/// withdrawn or rejected ones too (an appeal or an audit re-reads them under
/// the same rules), which keeps the rule simple to state and to check.
/// Creates the accounts the contribution currency needs.
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
    // The dates this version would govern: from its start to the next start.
    let mut affected = contributions::table
        .filter(contributions::fund_id.eq(fund.id))
        .filter(contributions::paid_on.ge(doc.effective_from))
        .into_boxed();
    if let Some(next) = next_start {
        affected = affected.filter(contributions::paid_on.lt(next));
    }
    let contribution: Option<(String, NaiveDate)> = affected
        .order((contributions::paid_on.asc(), contributions::id.asc()))
        .select((contributions::id, contributions::paid_on))
        .first(conn)
        .optional()?;
    let in_range = || {
        let mut q = claims::table
            .filter(claims::fund_id.eq(fund.id))
            .filter(claims::incident_date.ge(doc.effective_from))
            .into_boxed();
        if let Some(next) = next_start {
            q = q.filter(claims::incident_date.lt(next));
        }
        q
    };
    let claim_ids: Vec<String> = in_range()
        .order((claims::incident_date.asc(), claims::id.asc()))
        .limit(MAX_NAMED_CLAIMS)
        .select(claims::id)
        .load(conn)?;
    let claim_count = if claim_ids.is_empty() {
        0
    } else {
        in_range().count().get_result::<i64>(conn)?
    };
    if contribution.is_some() || claim_count > 0 {
        let mut recorded = Vec::new();
        if let Some((_, paid_on)) = &contribution {
            recorded.push(format!(
                "contributions already recorded (the first paid on {paid_on})"
            ));
        }
        if claim_count > 0 {
            recorded.push(format!(
                "{claim_count} claim{} already recorded (the first {})",
                if claim_count == 1 { "" } else { "s" },
                claim_ids[0]
            ));
        }
        let mut problem = AppError::new(
            ErrorCode::RulesWouldChangeRecords,
            format!(
                "a version effective from {} would change the rules for {}; \
                 choose an effective_from after the last recorded payment date and incident date",
                doc.effective_from,
                recorded.join(" and ")
            ),
        );
        if let Some((id, _)) = &contribution {
            problem = problem.with("contribution_id", id);
        }
        if claim_count > 0 {
            problem = problem
                .with("claims", &claim_ids)
                .with("claim_count", claim_count);
        }
        return Err(problem);
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

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
use crate::funds::{lock_fund, Fund, FundId};
use crate::ledger::{self, account_code, NewAccount};
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

/// What is read of a `rule_versions` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = rule_versions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct VersionRow {
    version: String,
    effective_from: NaiveDate,
    document: String,
    published_at: NaiveDateTime,
    published_by: String,
}

impl VersionRow {
    /// The version, which ends the day before `next_start`.
    fn into_version(self, next_start: Option<NaiveDate>) -> AppResult<RuleVersion> {
        Ok(RuleVersion {
            version: self.version,
            effective_from: self.effective_from,
            effective_to: next_start.map(|next| next - Days::new(1)),
            document: serde_json::from_str(&self.document).map_err(|e| {
                AppError::internal(format!("stored rule document does not parse: {e}"))
            })?,
            published_at: self.published_at,
            published_by: self.published_by,
        })
    }
}

/// A `rule_versions` row to insert.
#[derive(Insertable)]
#[diesel(table_name = rule_versions)]
struct NewVersionRow<'a> {
    fund_id: FundId,
    version: &'a str,
    effective_from: NaiveDate,
    contribution_currency: &'a str,
    document: &'a str,
    published_at: NaiveDateTime,
    published_by: &'a str,
}

/// All versions of a fund, oldest first, each with its end date.
pub fn versions_for_fund(conn: &mut DbConnection, fund_id: FundId) -> AppResult<Vec<RuleVersion>> {
    let rows: Vec<VersionRow> = rule_versions::table
        .filter(rule_versions::fund_id.eq(fund_id))
        .order(rule_versions::effective_from.asc())
        .select(VersionRow::as_select())
        .load(conn)?;
    let starts: Vec<NaiveDate> = rows.iter().map(|r| r.effective_from).collect();
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| row.into_version(starts.get(i + 1).copied()))
        .collect()
}

/// The versions as a table for `evaluate::version_in_force`: start date, then
/// label and document.
pub fn version_table(
    conn: &mut DbConnection,
    fund_id: FundId,
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
    refuse_taken_label_or_start(&existing, &doc)?;
    let governed = Governed::by(&doc, &existing);
    refuse_changing_records(conn, fund.id, &governed)?;
    let published_at = insert_version(conn, fund.id, &doc, contribution_currency, published_by)?;
    if contribution_currency != fund.currency {
        ensure_currency_accounts(conn, fund.id, contribution_currency)?;
    }
    Ok(RuleVersion {
        version: doc.version.clone(),
        effective_from: doc.effective_from,
        effective_to: governed.until.map(|d| d - Days::new(1)),
        document: doc,
        published_at,
        published_by: published_by.to_string(),
    })
}

/// Refuses a version whose label or start date a published version has.
fn refuse_taken_label_or_start(existing: &[RuleVersion], doc: &RuleDocument) -> AppResult<()> {
    let Some(same) = existing
        .iter()
        .find(|v| v.version == doc.version || v.effective_from == doc.effective_from)
    else {
        return Ok(());
    };
    Err(AppError::new(
        ErrorCode::RuleVersionExists,
        format!(
            "version {} (effective from {}) already exists; published versions are immutable, publish a new version instead",
            same.version, same.effective_from
        ),
    )
    .with("version", &same.version))
}

/// The dates a new version would govern: from its start to the next version's
/// start (excluded), or on without end.
struct Governed {
    from: NaiveDate,
    until: Option<NaiveDate>,
}

impl Governed {
    /// The dates `doc` would govern among the `existing` versions.
    fn by(doc: &RuleDocument, existing: &[RuleVersion]) -> Governed {
        Governed {
            from: doc.effective_from,
            until: existing
                .iter()
                .map(|v| v.effective_from)
                .filter(|d| *d > doc.effective_from)
                .min(),
        }
    }
}

/// The first contribution a new version would govern: what a refusal names.
#[derive(Queryable, Selectable)]
#[diesel(table_name = contributions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct GovernedContribution {
    id: String,
    paid_on: NaiveDate,
}

/// The claims a new version would govern: the first few by incident date, and
/// how many there are.
struct GovernedClaims {
    first: Vec<String>,
    count: i64,
}

/// Refuses a version that would govern a recorded contribution or claim.
fn refuse_changing_records(
    conn: &mut DbConnection,
    fund_id: FundId,
    governed: &Governed,
) -> AppResult<()> {
    let contribution = first_governed_contribution(conn, fund_id, governed)?;
    let claims = governed_claims(conn, fund_id, governed)?;
    if contribution.is_none() && claims.count == 0 {
        return Ok(());
    }
    Err(rules_would_change_records(
        governed.from,
        contribution.as_ref(),
        &claims,
    ))
}

fn first_governed_contribution(
    conn: &mut DbConnection,
    fund_id: FundId,
    governed: &Governed,
) -> AppResult<Option<GovernedContribution>> {
    let mut affected = contributions::table
        .filter(contributions::fund_id.eq(fund_id))
        .filter(contributions::paid_on.ge(governed.from))
        .into_boxed();
    if let Some(next) = governed.until {
        affected = affected.filter(contributions::paid_on.lt(next));
    }
    Ok(affected
        .order((contributions::paid_on.asc(), contributions::id.asc()))
        .select(GovernedContribution::as_select())
        .first(conn)
        .optional()?)
}

fn governed_claims(
    conn: &mut DbConnection,
    fund_id: FundId,
    governed: &Governed,
) -> AppResult<GovernedClaims> {
    let in_range = || {
        let mut q = claims::table
            .filter(claims::fund_id.eq(fund_id))
            .filter(claims::incident_date.ge(governed.from))
            .into_boxed();
        if let Some(next) = governed.until {
            q = q.filter(claims::incident_date.lt(next));
        }
        q
    };
    let first: Vec<String> = in_range()
        .order((claims::incident_date.asc(), claims::id.asc()))
        .limit(MAX_NAMED_CLAIMS)
        .select(claims::id)
        .load(conn)?;
    let count = if first.is_empty() {
        0
    } else {
        in_range().count().get_result::<i64>(conn)?
    };
    Ok(GovernedClaims { first, count })
}

/// The 409 naming the records a version starting `from` would change.
fn rules_would_change_records(
    from: NaiveDate,
    contribution: Option<&GovernedContribution>,
    claims: &GovernedClaims,
) -> AppError {
    let mut recorded = Vec::new();
    if let Some(first) = contribution {
        recorded.push(format!(
            "contributions already recorded (the first paid on {})",
            first.paid_on
        ));
    }
    if claims.count > 0 {
        recorded.push(format!(
            "{} claim{} already recorded (the first {})",
            claims.count,
            if claims.count == 1 { "" } else { "s" },
            claims.first[0]
        ));
    }
    let mut problem = AppError::new(
        ErrorCode::RulesWouldChangeRecords,
        format!(
            "a version effective from {from} would change the rules for {}; \
             choose an effective_from after the last recorded payment date and incident date",
            recorded.join(" and ")
        ),
    );
    if let Some(first) = contribution {
        problem = problem.with("contribution_id", &first.id);
    }
    if claims.count > 0 {
        problem = problem
            .with("claims", &claims.first)
            .with("claim_count", claims.count);
    }
    problem
}

/// Inserts the version; returns when it was published. A version with the
/// same label or start that committed since the check above is a 409.
fn insert_version(
    conn: &mut DbConnection,
    fund_id: FundId,
    doc: &RuleDocument,
    contribution_currency: Currency,
    published_by: &str,
) -> AppResult<NaiveDateTime> {
    let published_at = crate::time::now();
    let document = serde_json::to_string(doc)?;
    let inserted = diesel::insert_into(rule_versions::table)
        .values(NewVersionRow {
            fund_id,
            version: &doc.version,
            effective_from: doc.effective_from,
            contribution_currency: contribution_currency.code(),
            document: &document,
            published_at,
            published_by,
        })
        .execute(conn);
    match inserted {
        Ok(_) => Ok(published_at),
        Err(e) if is_unique_violation(&e) => Err(AppError::new(
            ErrorCode::RuleVersionExists,
            "this version was published concurrently",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The code of one of the standard accounts in another currency: `1000-USD`.
pub fn currency_account(base: &str, fund_currency: Currency, currency: Currency) -> String {
    if currency == fund_currency {
        base.to_string()
    } else {
        format!("{base}-{}", currency.code())
    }
}

/// The standard accounts a contribution currency other than the fund's needs:
/// cash, tax payable and contribution income.
const CURRENCY_ACCOUNTS: [&str; 4] = [
    account_code::CASH,
    account_code::TAXES_PAYABLE,
    account_code::CONTRIBUTION_INCOME_BENEFIT_RESERVE,
    account_code::CONTRIBUTION_INCOME_ADMINISTRATION,
];

/// Creates the [`CURRENCY_ACCOUNTS`] kept in a contribution currency other than
/// the fund's, if missing: each as in the chart of accounts, its code and name
/// suffixed with the currency.
fn ensure_currency_accounts(
    conn: &mut DbConnection,
    fund_id: FundId,
    currency: Currency,
) -> AppResult<()> {
    let standard = ledger::chart_of_accounts(currency)
        .into_iter()
        .filter(|a| CURRENCY_ACCOUNTS.contains(&a.code.as_str()));
    for account in standard {
        let code = format!("{}-{}", account.code, currency.code());
        if ledger::find_account(conn, fund_id, &code)?.is_none() {
            ledger::create_account(
                conn,
                fund_id,
                &NewAccount {
                    code,
                    name: format!("{} ({})", account.name, currency.code()),
                    ..account
                },
            )?;
        }
    }
    Ok(())
}

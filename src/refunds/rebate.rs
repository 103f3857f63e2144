//! Rebates: a sum a rule version grants a worker with `rebate.min_years`
//! years of contributions, once per worker and `rebate.code`. A rebate is a
//! refund record of kind `rebate`, decided and paid through the same steps
//! ([`super::decide`], [`super::pay`]): approval books benefit expense
//! (5000 "Benefit expense: other", in the fund's currency) to 2200 "Refunds
//! payable", payment moves 2200 to cash. Eligibility is checked under the
//! fund lock when the rebate is requested, decided and paid, against the rules
//! in force that day and the worker's recorded, not reversed contributions.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::{ensure_refunds_account, insert, Refund, RefundKind, RefundStatus, Request};
use crate::audit::events::NewEvent;
use crate::db::schema::refunds;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::{lock_fund, Fund, FundLock};
use crate::ledger::{self, account_code, JournalEntry, NewEntry, NewPosting, Side};
use crate::money::{format_minor, to_minor};
use crate::rules::evaluate::{version_in_force, years_of_contributions};
use crate::rules::version_table;
use crate::workers::coverage_periods;

/// Entry kind of a rebate's approval (its payment is a refund payment).
pub const APPROVAL_KIND: &str = "rebate_approval";

/// What the rules in force grant a worker.
struct Grant {
    code: String,
    amount_minor: i64,
}

/// Asks for the rebate the rules in force today grant `worker_id` (a worker
/// of `fund`, checked by the caller): refused unless the worker has the years
/// of contributions it asks, and when the worker already has that rebate
/// requested, approved or paid.
pub fn request(
    conn: &mut DbConnection,
    fund: &Fund,
    worker_id: &str,
    reason: &str,
    created_by: &str,
) -> AppResult<(Refund, NewEvent)> {
    let lock = lock_fund(conn, fund.id)?;
    let grant = granted(conn, fund, &lock, worker_id, crate::time::today())?;
    refuse_second(conn, &lock, worker_id, &grant.code)?;
    let request = Request {
        kind: RefundKind::Rebate,
        worker_id,
        contribution_id: None,
        contract_id: None,
        rebate_code: Some(grant.code),
        reason,
        currency: fund.currency,
        amount_minor: grant.amount_minor,
        taxes_minor: 0,
        created_by,
    };
    insert(conn, fund, request)
}

/// Books an approved rebate, after checking it is still granted: benefit
/// expense to refunds payable, in the fund's currency.
pub(super) fn approve(
    conn: &mut DbConnection,
    fund: &Fund,
    lock: &FundLock,
    rebate: &Refund,
    reason: &str,
    decided_by: &str,
) -> AppResult<JournalEntry> {
    still_granted(conn, fund, lock, rebate)?;
    debug_assert_eq!(
        rebate.currency, fund.currency,
        "rebates are in the fund's currency"
    );
    ensure_refunds_account(conn, fund, fund.currency)?;
    let posting = |account: &str, side| NewPosting {
        account: account.to_string(),
        side,
        amount_minor: rebate.total_minor,
        currency: fund.currency,
    };
    ledger::post_entry(
        conn,
        fund.id,
        NewEntry {
            effective_date: crate::time::today(),
            kind: APPROVAL_KIND,
            memo: format!(
                "Rebate {} ({}) to worker {}: {reason}",
                rebate.id,
                rebate.rebate_code.as_deref().unwrap_or_default(),
                rebate.worker_id
            ),
            source: Some(("refund".to_string(), rebate.id.clone())),
            created_by: decided_by.to_string(),
            reverses: None,
            postings: vec![
                posting(account_code::BENEFIT_EXPENSE_OTHER, Side::Debit),
                posting(account_code::REFUNDS_PAYABLE, Side::Credit),
            ],
        },
    )
}

/// Refuses, under the fund lock, a rebate the rules in force today no longer
/// grant the worker (too few years of contributions now that some were
/// reversed, or no rebate of that code in force).
pub(super) fn still_granted(
    conn: &mut DbConnection,
    fund: &Fund,
    lock: &FundLock,
    rebate: &Refund,
) -> AppResult<()> {
    debug_assert_eq!(rebate.kind, RefundKind::Rebate);
    let grant = granted(conn, fund, lock, &rebate.worker_id, crate::time::today())?;
    if Some(&grant.code) == rebate.rebate_code.as_ref() {
        return Ok(());
    }
    Err(not_eligible(format!(
        "the rules in force now grant rebate {}, not {}",
        grant.code,
        rebate.rebate_code.as_deref().unwrap_or_default()
    )))
}

/// The rebate the rules in force on `on` grant the worker, or why none.
fn granted(
    conn: &mut DbConnection,
    fund: &Fund,
    lock: &FundLock,
    worker_id: &str,
    on: NaiveDate,
) -> AppResult<Grant> {
    debug_assert!(
        lock.holds(fund),
        "eligibility is checked under the fund's lock"
    );
    let versions = version_table(conn, fund.id)?;
    let Some((label, doc)) = version_in_force(&versions, on) else {
        return Err(not_eligible(format!(
            "fund {} has no rules in force on {on}",
            fund.code
        )));
    };
    let Some(rule) = &doc.rebate else {
        return Err(not_eligible(format!("{label} grants no rebate")));
    };
    let periods: Vec<_> = coverage_periods(conn, worker_id)?
        .into_iter()
        .map(|p| p.period)
        .collect();
    let years = years_of_contributions(&periods, on);
    if years < rule.min_years {
        return Err(not_eligible(format!(
            "worker {worker_id} has {years} years of contributions; {label} grants rebate {} from {}",
            rule.code, rule.min_years
        ))
        .with("years_of_contributions", years)
        .with("min_years", rule.min_years));
    }
    let amount_minor = to_minor(rule.amount.0, fund.currency)
        .map_err(|_| AppError::internal("validated rebate amounts fit the fund's currency"))?;
    Ok(Grant {
        code: rule.code.clone(),
        amount_minor,
    })
}

/// Refuses a rebate the worker already has requested, approved or paid.
fn refuse_second(
    conn: &mut DbConnection,
    lock: &FundLock,
    worker_id: &str,
    code: &str,
) -> AppResult<()> {
    let existing: Option<(String, i64, String)> = refunds::table
        .filter(refunds::fund_id.eq(lock.fund_id()))
        .filter(refunds::kind.eq(RefundKind::Rebate.as_str()))
        .filter(refunds::worker_id.eq(worker_id))
        .filter(refunds::rebate_code.eq(code))
        .filter(refunds::status.ne(RefundStatus::Rejected.as_str()))
        .select((refunds::id, refunds::total_minor, refunds::currency))
        .first(conn)
        .optional()?;
    let Some((id, total_minor, currency)) = existing else {
        return Ok(());
    };
    let currency = crate::money::Currency::parse(&currency).expect("stored currencies are valid");
    Err(AppError::new(
        ErrorCode::AlreadyRebated,
        format!(
            "worker {worker_id} already has rebate {code} ({}): {id}",
            format_minor(total_minor, currency)
        ),
    )
    .with("refund_id", id))
}

fn not_eligible(message: String) -> AppError {
    AppError::new(ErrorCode::RebateNotEligible, message)
}

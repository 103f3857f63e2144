//! Refunds: a contribution paid back because its contract was cancelled before
//! it started (the departure never happened).
//!
//! A refund is requested, then approved or rejected, and an approved refund is
//! paid. Approval books the contribution's income and taxes back to 2200
//! "Refunds payable" (in the contribution's currency) and ends the coverage the
//! contribution bought; payment moves 2200 to cash, refused like a claim's
//! payment when cash does not cover it. Every step locks the fund and re-reads
//! what it depends on in its own transaction: the contribution still stands
//! and has no other refund, and (up to approval) the contract had not started
//! on the day the refund was requested and no departure has been recorded
//! since. A contract has started once a departure is recorded on it or its
//! start date has come; the refund itself is the record that the contract was
//! cancelled, so an approval after the start date it never reached stands.
//!
//! A rebate (`kind` `rebate`, [`rebate`]) is the same record for money a rule
//! grants a long-standing member: requested, decided and paid through the same
//! steps, its approval booking benefit expense to refunds payable.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::events::{kind as event_kind, EventType, NewEvent};
use crate::contributions::{self, Contribution};
use crate::db::schema::refunds;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::{lock_fund, Fund, FundId, FundLock};
use crate::ledger::{self, account_code, Booking, JournalEntry, NewEntry, NewPosting, Side};
use crate::money::{format_minor, Currency};
use crate::rules::currency_account;
use crate::workers::{find_contract, Contract};

pub mod rebate;

/// Entry kinds booked by refunds.
pub const APPROVAL_KIND: &str = "refund_approval";
pub const PAYMENT_KIND: &str = "refund_payment";

/// What is paid back: a contribution, or a rebate a rule grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundKind {
    /// A contribution whose contract was cancelled before it started.
    Refund,
    /// A sum granted to a worker with the years of contributions a rule asks (`rebate`).
    Rebate,
}

impl RefundKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundKind::Refund => "refund",
            RefundKind::Rebate => "rebate",
        }
    }

    fn parse(s: &str) -> RefundKind {
        match s {
            "refund" => RefundKind::Refund,
            "rebate" => RefundKind::Rebate,
            other => unreachable!("stored refund kinds are valid: {other}"),
        }
    }

    /// The event of each step, by kind: `refund.*` or `rebate.*`.
    fn event_type(self, status: RefundStatus) -> EventType {
        use RefundStatus::*;
        match (self, status) {
            (RefundKind::Refund, Requested) => event_kind::REFUND_REQUESTED,
            (RefundKind::Refund, Approved) => event_kind::REFUND_APPROVED,
            (RefundKind::Refund, Rejected) => event_kind::REFUND_REJECTED,
            (RefundKind::Refund, Paid) => event_kind::REFUND_PAID,
            (RefundKind::Rebate, Requested) => event_kind::REBATE_REQUESTED,
            (RefundKind::Rebate, Approved) => event_kind::REBATE_APPROVED,
            (RefundKind::Rebate, Rejected) => event_kind::REBATE_REJECTED,
            (RefundKind::Rebate, Paid) => event_kind::REBATE_PAID,
        }
    }
}

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Asked for; nothing booked yet.
    Requested,
    /// Booked to refunds payable; the contribution's coverage has ended.
    Approved,
    /// Refused; the contribution stands and may be asked back again.
    Rejected,
    /// Paid out of cash.
    Paid,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Requested => "requested",
            RefundStatus::Approved => "approved",
            RefundStatus::Rejected => "rejected",
            RefundStatus::Paid => "paid",
        }
    }

    fn parse(s: &str) -> RefundStatus {
        match s {
            "requested" => RefundStatus::Requested,
            "approved" => RefundStatus::Approved,
            "rejected" => RefundStatus::Rejected,
            "paid" => RefundStatus::Paid,
            other => unreachable!("stored refund statuses are valid: {other}"),
        }
    }
}

/// A refund's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = RefundOutcome)]
pub enum Outcome {
    /// Book the contribution back to refunds payable and end its coverage.
    Approve,
    Reject,
}

#[derive(Debug, Clone)]
pub struct Refund {
    pub id: String,
    pub fund_code: String,
    pub kind: RefundKind,
    /// The contribution refunded (none for a rebate).
    pub contribution_id: Option<String>,
    pub worker_id: String,
    /// The contract cancelled (none for a rebate).
    pub contract_id: Option<String>,
    /// The rule's `rebate.code` (rebates only).
    pub rebate_code: Option<String>,
    pub reason: String,
    pub status: RefundStatus,
    pub currency: Currency,
    /// The contribution without taxes.
    pub amount_minor: i64,
    pub taxes_minor: i64,
    /// What is paid back: the contribution with its taxes.
    pub total_minor: i64,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub approval_entry_id: Option<String>,
    pub payment_reference: Option<String>,
    pub paid_by: Option<String>,
    pub paid_at: Option<NaiveDateTime>,
    pub payment_entry_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub created_by: String,
}

/// The `data` of every `refund.*` event (built by [`event`]): the refund as it
/// stands after the change.
#[derive(Serialize, ToSchema)]
pub struct RefundEventData {
    #[schema(format = Uuid)]
    pub refund_id: String,
    pub kind: RefundKind,
    /// The contribution refunded; `null` for a rebate.
    #[schema(required = true, format = Uuid)]
    pub contribution_id: Option<String>,
    /// The rule's rebate code; `null` for a refund.
    #[schema(required = true)]
    pub rebate_code: Option<String>,
    #[schema(format = Uuid)]
    pub worker_id: String,
    pub status: RefundStatus,
    /// The contribution with its taxes, paid back.
    pub total: crate::money::DecimalString,
    pub currency: Currency,
    /// The entry of this step: the approval's or the payment's (none for a request or rejection).
    #[schema(required = true, format = Uuid)]
    pub journal_entry_id: Option<String>,
}

/// The event of a refund's step (its status now), with the entry that step booked.
fn event(refund: &Refund, entry_id: Option<&str>) -> NewEvent {
    NewEvent {
        fund_code: refund.fund_code.clone(),
        event_type: refund.kind.event_type(refund.status),
        subject_id: refund.id.clone(),
        payload: json!({
            "refund_id": refund.id,
            "kind": refund.kind,
            "contribution_id": refund.contribution_id,
            "rebate_code": refund.rebate_code,
            "worker_id": refund.worker_id,
            "status": refund.status,
            "total": format_minor(refund.total_minor, refund.currency),
            "currency": refund.currency.code(),
            "journal_entry_id": entry_id,
        }),
    }
}

/// Asks for `contribution` back: checks under the fund lock that it stands,
/// has no other refund and that its contract has not started today.
pub fn request(
    conn: &mut DbConnection,
    fund: &Fund,
    contribution_id: &str,
    reason: &str,
    created_by: &str,
) -> AppResult<(Refund, NewEvent)> {
    let lock = lock_fund(conn, fund.id)?;
    let contribution = standing_contribution(conn, &lock, contribution_id)?;
    let contract = contract_not_started(conn, &contribution, crate::time::today())?;
    let taxes_minor: i64 = contribution.taxes.iter().map(|t| t.amount_minor).sum();
    debug_assert_eq!(
        contribution.total_minor,
        contribution.amount_minor + taxes_minor
    );
    let request = Request {
        kind: RefundKind::Refund,
        worker_id: &contribution.worker_id,
        contribution_id: Some(contribution.id.clone()),
        contract_id: Some(contract.id),
        rebate_code: None,
        reason,
        currency: contribution.currency,
        amount_minor: contribution.amount_minor,
        taxes_minor,
        created_by,
    };
    insert(conn, fund, request)
}

/// What a request for a refund or a rebate says; nothing is decided yet.
struct Request<'a> {
    kind: RefundKind,
    worker_id: &'a str,
    contribution_id: Option<String>,
    contract_id: Option<String>,
    rebate_code: Option<String>,
    reason: &'a str,
    currency: Currency,
    amount_minor: i64,
    taxes_minor: i64,
    created_by: &'a str,
}

/// Inserts a requested refund or rebate; the refund and its `*.requested` event.
fn insert(conn: &mut DbConnection, fund: &Fund, request: Request) -> AppResult<(Refund, NewEvent)> {
    let row = RefundRow {
        id: Uuid::now_v7().to_string(),
        fund_id: fund.id,
        kind: request.kind.as_str().to_string(),
        contribution_id: request.contribution_id,
        worker_id: request.worker_id.to_string(),
        contract_id: request.contract_id,
        rebate_code: request.rebate_code,
        reason: request.reason.to_string(),
        status: RefundStatus::Requested.as_str().to_string(),
        currency: request.currency.code().to_string(),
        amount_minor: request.amount_minor,
        taxes_minor: request.taxes_minor,
        total_minor: request.amount_minor + request.taxes_minor,
        decision_reason: None,
        decided_by: None,
        decided_at: None,
        approval_entry_id: None,
        payment_reference: None,
        paid_by: None,
        paid_at: None,
        payment_entry_id: None,
        created_at: crate::time::now(),
        created_by: request.created_by.to_string(),
    };
    diesel::insert_into(refunds::table)
        .values(&row)
        .execute(conn)?;
    let refund = row.into_refund(fund.code.clone());
    let event = event(&refund, None);
    Ok((refund, event))
}

/// Approves or rejects a requested refund under the fund lock. Approval
/// re-checks the contribution and its contract, books the contribution's
/// income and taxes back to refunds payable and ends its coverage.
pub fn decide(
    conn: &mut DbConnection,
    fund: &Fund,
    refund_id: &str,
    outcome: Outcome,
    reason: &str,
    decided_by: &str,
) -> AppResult<(Refund, Vec<NewEvent>)> {
    let lock = lock_fund(conn, fund.id)?;
    let refund = current(conn, fund, refund_id)?;
    ensure_status(&refund, RefundStatus::Requested)?;
    let (status, entry, ended) = match outcome {
        Outcome::Reject => (RefundStatus::Rejected, None, None),
        Outcome::Approve => match refund.kind {
            RefundKind::Refund => {
                let (entry, ended) = approve(conn, fund, &lock, &refund, reason, decided_by)?;
                (RefundStatus::Approved, Some(entry), Some(ended))
            }
            RefundKind::Rebate => {
                let entry = rebate::approve(conn, fund, &lock, &refund, reason, decided_by)?;
                (RefundStatus::Approved, Some(entry), None)
            }
        },
    };
    let entry_id = entry.as_ref().map(|e| e.id.clone());
    diesel::update(refunds::table.find(&refund.id))
        .set((
            refunds::status.eq(status.as_str()),
            refunds::decision_reason.eq(reason),
            refunds::decided_by.eq(decided_by),
            refunds::decided_at.eq(crate::time::now()),
            refunds::approval_entry_id.eq(&entry_id),
        ))
        .execute(conn)?;
    let decided = current(conn, fund, refund_id)?;
    // A partner following contributions sees the refunded one end, as a reversal.
    let events = std::iter::once(event(&decided, entry_id.as_deref()))
        .chain(ended)
        .collect();
    Ok((decided, events))
}

/// Books an approval: re-checks the contribution (still standing, no other
/// refund) and its contract (not started on the day the refund was requested,
/// no departure since), books the entry and ends the contribution's coverage;
/// the entry and the contribution's `contribution.reversed` event.
fn approve(
    conn: &mut DbConnection,
    fund: &Fund,
    lock: &FundLock,
    refund: &Refund,
    reason: &str,
    decided_by: &str,
) -> AppResult<(JournalEntry, NewEvent)> {
    let contribution = (refund.contribution_id.as_deref())
        .map(|id| contributions::find(conn, id))
        .transpose()?
        .flatten()
        .ok_or_else(|| AppError::internal("a refund's contribution exists"))?;
    if contribution.status != "recorded" {
        return Err(reversed(&contribution));
    }
    contract_not_started(conn, &contribution, refund.created_at.date())?;
    ensure_refunds_account(conn, fund, contribution.currency)?;
    let entry = ledger::post_entry(
        conn,
        fund.id,
        NewEntry {
            effective_date: crate::time::today(),
            kind: APPROVAL_KIND,
            memo: format!(
                "Refund {} of contribution {}: {reason}",
                refund.id, contribution.id
            ),
            source: Some(("refund".to_string(), refund.id.clone())),
            created_by: decided_by.to_string(),
            reverses: None,
            postings: approval_postings(fund, &contribution),
        },
    )?;
    let ended = contributions::end_by_refund(
        conn,
        lock,
        &contribution,
        &entry.id,
        &format!("refunded by {}: {}", refund.id, refund.reason),
    )?;
    Ok((entry, ended))
}

/// Pays an approved refund out of cash under the fund lock, refused with
/// `INSUFFICIENT_FUNDS` (by the booking's guard) when cash does not cover it
/// as of today and every later day.
pub fn pay(
    conn: &mut DbConnection,
    fund: &Fund,
    refund_id: &str,
    reference: Option<&str>,
    paid_by: &str,
) -> AppResult<(Refund, NewEvent)> {
    let mut booking = Booking::open(conn, fund.id)?;
    let refund = current(conn, fund, refund_id)?;
    ensure_status(&refund, RefundStatus::Approved)?;
    if refund.kind == RefundKind::Rebate {
        rebate::still_granted(conn, fund, booking.lock(), &refund)?;
    }
    let account = |base: &str| currency_account(base, fund.currency, refund.currency);
    let posting = |base: &str, side| NewPosting {
        account: account(base),
        side,
        amount_minor: refund.total_minor,
        currency: refund.currency,
    };
    let entry = booking.post(
        conn,
        NewEntry {
            effective_date: crate::time::today(),
            kind: PAYMENT_KIND,
            memo: match &refund.contribution_id {
                Some(contribution) => {
                    format!(
                        "Payment of refund {} of contribution {contribution}",
                        refund.id
                    )
                }
                None => format!(
                    "Payment of rebate {} to worker {}",
                    refund.id, refund.worker_id
                ),
            },
            source: Some(("refund".to_string(), refund.id.clone())),
            created_by: paid_by.to_string(),
            reverses: None,
            postings: vec![
                posting(account_code::REFUNDS_PAYABLE, Side::Debit),
                posting(account_code::CASH, Side::Credit),
            ],
        },
    )?;
    booking.close(conn)?;
    diesel::update(refunds::table.find(&refund.id))
        .set((
            refunds::status.eq(RefundStatus::Paid.as_str()),
            refunds::payment_reference.eq(reference),
            refunds::paid_by.eq(paid_by),
            refunds::paid_at.eq(crate::time::now()),
            refunds::payment_entry_id.eq(&entry.id),
        ))
        .execute(conn)?;
    let paid = current(conn, fund, refund_id)?;
    let event = event(&paid, Some(&entry.id));
    Ok((paid, event))
}

/// The approval's postings, in the contribution's currency: its income and
/// taxes debited back (as its own entry credited them), refunds payable
/// credited with the total.
fn approval_postings(fund: &Fund, c: &Contribution) -> Vec<NewPosting> {
    let posting = |base: &str, side, amount_minor| NewPosting {
        account: currency_account(base, fund.currency, c.currency),
        side,
        amount_minor,
        currency: c.currency,
    };
    let income = [
        (
            account_code::CONTRIBUTION_INCOME_BENEFIT_RESERVE,
            c.benefit_reserve_minor,
        ),
        (
            account_code::CONTRIBUTION_INCOME_ADMINISTRATION,
            c.administration_minor,
        ),
    ];
    let taxes = (c.taxes.iter()).map(|t| (account_code::TAXES_PAYABLE, t.amount_minor));
    let mut postings: Vec<NewPosting> = (income.into_iter().chain(taxes))
        .filter(|(_, amount)| *amount > 0)
        .map(|(base, amount)| posting(base, Side::Debit, amount))
        .collect();
    postings.push(posting(
        account_code::REFUNDS_PAYABLE,
        Side::Credit,
        c.total_minor,
    ));
    postings
}

/// Creates refunds payable in the contribution's currency when the fund has
/// none yet (a currency other than the fund's gets its accounts when rules
/// name it; refunds payable is not among them).
fn ensure_refunds_account(
    conn: &mut DbConnection,
    fund: &Fund,
    currency: Currency,
) -> AppResult<()> {
    ledger::ensure_standard_account(
        conn,
        fund.id,
        fund.currency,
        account_code::REFUNDS_PAYABLE,
        currency,
    )?;
    Ok(())
}

/// The contribution under the fund lock, if it stands and has no refund
/// requested, approved or paid.
fn standing_contribution(
    conn: &mut DbConnection,
    lock: &FundLock,
    contribution_id: &str,
) -> AppResult<Contribution> {
    let contribution = contributions::find(conn, contribution_id)?
        .ok_or_else(|| AppError::not_found(format!("no contribution {contribution_id}")))?;
    let active: Option<String> = refunds::table
        .filter(refunds::fund_id.eq(lock.fund_id()))
        .filter(refunds::contribution_id.eq(contribution_id))
        .filter(refunds::status.ne(RefundStatus::Rejected.as_str()))
        .select(refunds::id)
        .first(conn)
        .optional()?;
    if let Some(refund_id) = active {
        return Err(AppError::new(
            ErrorCode::AlreadyRefunded,
            format!("contribution {contribution_id} already has refund {refund_id}"),
        )
        .with("refund_id", refund_id));
    }
    if contribution.status != "recorded" {
        return Err(reversed(&contribution));
    }
    Ok(contribution)
}

fn reversed(contribution: &Contribution) -> AppError {
    AppError::new(
        ErrorCode::AlreadyReversed,
        format!(
            "contribution {} is reversed: there is nothing to refund",
            contribution.id
        ),
    )
    .with("reversal_entry_id", &contribution.reversal_entry_id)
}

/// The contribution's contract, if it has not started on `on`: no departure
/// recorded and its start date still to come.
fn contract_not_started(
    conn: &mut DbConnection,
    contribution: &Contribution,
    on: NaiveDate,
) -> AppResult<Contract> {
    let Some(contract_id) = &contribution.contract_id else {
        return Err(AppError::new(
            ErrorCode::ContractRequired,
            format!(
                "contribution {} names no contract: a refund is for a contract cancelled before its start",
                contribution.id
            ),
        ));
    };
    let contract = find_contract(conn, &contribution.worker_id, contract_id)?
        .ok_or_else(|| AppError::internal("a contribution's contract exists"))?;
    if contract.departed_on.is_some() || contract.start_date <= on {
        return Err(AppError::new(
            ErrorCode::ContractStarted,
            format!(
                "contract {} started (start date {}, departure {}): its contribution is not refunded",
                contract.id,
                contract.start_date,
                contract
                    .departed_on
                    .map_or("not recorded".to_string(), |d| d.to_string())
            ),
        )
        .with("contract_id", &contract.id)
        .with("start_date", contract.start_date.to_string())
        .with("departed_on", contract.departed_on.map(|d| d.to_string())));
    }
    Ok(contract)
}

/// Refuses a step the refund's status does not allow.
fn ensure_status(refund: &Refund, wanted: RefundStatus) -> AppResult<()> {
    if refund.status == wanted {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::RefundStatusConflict,
        format!(
            "refund {} is {}, not {}",
            refund.id,
            refund.status.as_str(),
            wanted.as_str()
        ),
    )
    .with("refund_status", refund.status.as_str()))
}

/// The refund as committed, in `fund` (read under its lock).
fn current(conn: &mut DbConnection, fund: &Fund, id: &str) -> AppResult<Refund> {
    refunds::table
        .find(id)
        .filter(refunds::fund_id.eq(fund.id))
        .select(RefundRow::as_select())
        .first(conn)
        .optional()?
        .map(|row| row.into_refund(fund.code.clone()))
        .ok_or_else(|| AppError::not_found(format!("no refund {id}")))
}

/// A refund with its fund's code (the caller's scope is checked by the caller).
pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<Refund>> {
    let Some(row) = refunds::table
        .find(id)
        .select(RefundRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let fund_code = crate::funds::fund_code(conn, row.fund_id)?;
    Ok(Some(row.into_refund(fund_code)))
}

/// A fund's refunds in request order, after `after_id`.
pub fn list(
    conn: &mut DbConnection,
    fund: &Fund,
    after_id: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Refund>> {
    let mut query = refunds::table
        .filter(refunds::fund_id.eq(fund.id))
        .into_boxed();
    if let Some(after) = after_id {
        query = query.filter(refunds::id.gt(after.to_string()));
    }
    Ok(query
        .order(refunds::id.asc())
        .limit(limit)
        .select(RefundRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| row.into_refund(fund.code.clone()))
        .collect())
}

/// A `refunds` row, read and inserted whole.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = refunds, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
struct RefundRow {
    id: String,
    fund_id: FundId,
    contribution_id: Option<String>,
    worker_id: String,
    contract_id: Option<String>,
    reason: String,
    status: String,
    currency: String,
    amount_minor: i64,
    taxes_minor: i64,
    total_minor: i64,
    decision_reason: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    approval_entry_id: Option<String>,
    payment_reference: Option<String>,
    paid_by: Option<String>,
    paid_at: Option<NaiveDateTime>,
    payment_entry_id: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
    kind: String,
    rebate_code: Option<String>,
}

impl RefundRow {
    fn into_refund(self, fund_code: String) -> Refund {
        Refund {
            id: self.id,
            fund_code,
            kind: RefundKind::parse(&self.kind),
            contribution_id: self.contribution_id,
            worker_id: self.worker_id,
            contract_id: self.contract_id,
            rebate_code: self.rebate_code,
            reason: self.reason,
            status: RefundStatus::parse(&self.status),
            currency: Currency::parse(&self.currency).expect("stored currencies are valid"),
            amount_minor: self.amount_minor,
            taxes_minor: self.taxes_minor,
            total_minor: self.total_minor,
            decision_reason: self.decision_reason,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            approval_entry_id: self.approval_entry_id,
            payment_reference: self.payment_reference,
            paid_by: self.paid_by,
            paid_at: self.paid_at,
            payment_entry_id: self.payment_entry_id,
            created_at: self.created_at,
            created_by: self.created_by,
        }
    }
}

//! Instalment benefits: a scholarship per school year, a monthly allowance.
//!
//! A claim whose benefit has `instalments` is decided and approved like any
//! other, and its award is one instalment: approval books the first
//! instalment's expense (the claim's own award entry) and writes the schedule;
//! paying the claim pays the first instalment. Every later instalment falls due
//! on its date and is **re-assessed then**, under the fund lock in the payment
//! run's transaction: the award still stands on the records as they are now,
//! the claimant is still under the age limit on the due date (else it lapses,
//! with every later one), the proof the rules ask for is attached to it. Only
//! then is its expense booked and its payment made, while cash lasts, in due
//! order. Stopping a schedule is an officer's decision with reasons: nothing
//! more is booked, and an expense booked but not yet paid is reversed.
//!
//! The claims module calls in at four narrow places: the assessment (the age
//! limit on the incident date), final approval ([`schedule`]), a claim's payment
//! ([`first_paid`]), the reversal of an award ([`forget`]) and the payment run
//! ([`pay_due`]).

mod dates;
mod due;
mod stop;
mod store;

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::assess::{reason, Versions};
use super::{Claim, StoredAssessment, StoredCheck};
use crate::audit::events::{EventType, NewEvent};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::funds::{Fund, FundId};
use crate::money::{format_minor, Currency};
use crate::rules::document::{InstalmentFrequency, InstalmentRules, Relationship};
use crate::rules::evaluate::version_in_force;
use crate::rules::version_table;
use crate::workers::Worker;

pub use dates::{age_on, due_dates};
pub(super) use due::pay_due;
pub use stop::{add_documents, stop};

/// Entry kinds booked for instalments after the first (the first is the
/// claim's own award and payment).
pub const EXPENSE_KIND: &str = "claim_instalment_award";
pub const PAYMENT_KIND: &str = "claim_instalment_payment";
/// The reversal of an instalment's expense booked but not paid, when its
/// schedule is stopped or it lapses.
pub const REVERSAL_KIND: &str = "claim_instalment_reversal";

/// Where one instalment stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum InstalmentStatus {
    /// Not yet looked at by a payment run (its date may not have come).
    Scheduled,
    /// Its date has come and it is not paid: see its `reasons` (the first
    /// instalment is `due` from approval until the claim is paid).
    Due,
    Paid,
    /// Its schedule was stopped by a decision.
    Stopped,
    /// The claimant reached the age limit before it fell due.
    Lapsed,
}

impl InstalmentStatus {
    pub const ALL: [InstalmentStatus; 5] = [
        InstalmentStatus::Scheduled,
        InstalmentStatus::Due,
        InstalmentStatus::Paid,
        InstalmentStatus::Stopped,
        InstalmentStatus::Lapsed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InstalmentStatus::Scheduled => "scheduled",
            InstalmentStatus::Due => "due",
            InstalmentStatus::Paid => "paid",
            InstalmentStatus::Stopped => "stopped",
            InstalmentStatus::Lapsed => "lapsed",
        }
    }

    pub fn parse(text: &str) -> Option<InstalmentStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Still to be paid (or stopped, or lapsed).
    pub fn is_open(self) -> bool {
        matches!(self, InstalmentStatus::Scheduled | InstalmentStatus::Due)
    }
}

/// Why a due instalment was not paid (its `reasons`), or why it lapsed.
pub mod hold {
    /// The claim itself (the first instalment) is not paid yet, or was paid
    /// after the payment run's date.
    pub const FIRST_INSTALMENT_UNPAID: &str = "FIRST_INSTALMENT_UNPAID";
    /// The award no longer stands on the records as they are now; the claim's
    /// reason codes follow.
    pub const AWARD_NO_LONGER_STANDS: &str = "AWARD_NO_LONGER_STANDS";
    /// The proof the rules ask for each instalment is not attached to it.
    pub const MISSING_DOCUMENTS: &str = "MISSING_DOCUMENTS";
    /// Cash does not cover it (or an earlier instalment it may not overtake).
    pub const AWAITING_FUNDS: &str = "AWAITING_FUNDS";
    /// The claimant reached `max_age` on or before its due date.
    pub const AGE_LIMIT_REACHED: &str = super::reason::AGE_LIMIT_REACHED;
    /// The benefit stops at an age and the claimant's date of birth is not recorded.
    pub const DATE_OF_BIRTH_UNKNOWN: &str = "DATE_OF_BIRTH_UNKNOWN";
}

/// What the latest re-assessment of an instalment found, on its due date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InstalmentFacts {
    /// The due date it was assessed for.
    pub due_on: NaiveDate,
    /// The claimant's age on the due date, when the rules set an age limit.
    #[schema(required = true)]
    pub claimant_age: Option<u32>,
    /// Whether the claim's award still stood on the records as they were.
    pub award_stands: bool,
    /// Proof the rules ask for that was not attached to the instalment.
    pub missing_documents: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Instalment {
    pub claim_id: String,
    /// 1 for the first.
    pub number: u32,
    pub fund_id: FundId,
    pub due_on: NaiveDate,
    pub currency: Currency,
    pub amount_minor: i64,
    pub status: InstalmentStatus,
    pub assessed_at: Option<NaiveDateTime>,
    pub assessment: Option<InstalmentFacts>,
    pub hold_reasons: Vec<String>,
    pub expense_entry_id: Option<String>,
    pub payment_entry_id: Option<String>,
    pub paid_on: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct InstalmentDocument {
    pub number: u32,
    pub document_type: String,
    pub reference: String,
    pub added_at: NaiveDateTime,
    pub added_by: String,
}

/// An officer's decision to stop a schedule.
#[derive(Debug, Clone)]
pub struct StopDecision {
    pub at: NaiveDateTime,
    pub by: String,
    pub reasons: Vec<String>,
    pub note: Option<String>,
}

/// A claim's schedule of instalments.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub claim_id: String,
    pub every: InstalmentFrequency,
    pub created_at: NaiveDateTime,
    pub stop: Option<StopDecision>,
    pub instalments: Vec<Instalment>,
    pub documents: Vec<InstalmentDocument>,
}

impl Schedule {
    /// Whether any instalment is still to be paid.
    pub fn running(&self) -> bool {
        self.stop.is_none() && self.instalments.iter().any(|i| i.status.is_open())
    }

    /// The types of the documents attached to instalment `number`.
    fn document_types(&self, number: u32) -> Vec<&str> {
        self.documents
            .iter()
            .filter(|d| d.number == number)
            .map(|d| d.document_type.as_str())
            .collect()
    }
}

/// The schedule of a claim, if its benefit is paid in instalments.
pub fn find(conn: &mut DbConnection, claim_id: &str) -> AppResult<Option<Schedule>> {
    store::find(conn, claim_id)
}

/// The instalment rules of the claim's benefit under the version in force on
/// its incident date.
fn rules_for<'v>(versions: &'v Versions, claim: &Claim) -> Option<&'v InstalmentRules> {
    let (_, doc) = version_in_force(versions, claim.incident_date)?;
    doc.benefits
        .iter()
        .find(|b| b.code == claim.benefit)?
        .instalments
        .as_ref()
}

/// The claimant's date of birth: the worker's, or the dependant's if recorded.
fn claimant_born(worker: &Worker, claim: &Claim) -> Option<NaiveDate> {
    match (claim.claimant_relationship, &claim.dependant_id) {
        (Relationship::Worker, _) => Some(worker.date_of_birth),
        (_, Some(id)) => worker
            .dependants
            .iter()
            .find(|d| &d.id == id)
            .and_then(|d| d.date_of_birth),
        (_, None) => None,
    }
}

/// The assessment's age check (the first instalment falls due on the incident
/// date): where the benefit's instalments stop at `max_age`, the claimant was
/// under it on the incident date. A failure makes the claim ineligible, with
/// its reason code. A birth date not recorded does not refuse the claim (its
/// age is unknown, not too high); its later instalments wait for it
/// (`DATE_OF_BIRTH_UNKNOWN`).
pub(super) fn check_age(
    versions: &Versions,
    worker: &Worker,
    claim: &Claim,
    assessment: &mut StoredAssessment,
) {
    let Some(max_age) = rules_for(versions, claim).and_then(|r| r.max_age) else {
        return;
    };
    let failure = match claimant_born(worker, claim) {
        None => None,
        Some(born) if dates::reached(born, max_age, claim.incident_date) => Some((
            reason::AGE_LIMIT_REACHED,
            format!(
                "the claimant was {} on {}; the benefit is paid under {max_age}",
                age_on(born, claim.incident_date),
                claim.incident_date
            ),
        )),
        Some(_) => None,
    };
    assessment.checks.push(StoredCheck {
        check: "age_limit".to_string(),
        passed: failure.is_none(),
        reason: failure.as_ref().map(|f| f.0.to_string()),
        detail: failure.as_ref().map(|f| f.1.clone()),
    });
    if let Some((code, _)) = failure {
        assessment.reasons.push(code.to_string());
        assessment.outcome = super::assess::Outcome::Ineligible;
        assessment.payable_minor = 0;
    }
}

/// At final approval (the award's expense just booked as the claim's approval
/// entry): writes the schedule, its first instalment due on the incident date
/// and booked, the others scheduled. A benefit without instalments has none.
pub(super) fn schedule(conn: &mut DbConnection, fund: &Fund, claim: &Claim) -> AppResult<()> {
    let versions = version_table(conn, fund.id)?;
    let Some(rules) = rules_for(&versions, claim) else {
        return Ok(());
    };
    let worker = super::worker_of(conn, claim)?;
    let amount_minor = claim
        .decided_amount_minor
        .expect("an approved claim has an amount");
    let instalments: Vec<Instalment> =
        due_dates(rules, claim.incident_date, claimant_born(&worker, claim))
            .into_iter()
            .enumerate()
            .map(|(i, due_on)| Instalment {
                claim_id: claim.id.clone(),
                number: i as u32 + 1,
                fund_id: fund.id,
                due_on,
                currency: claim.currency,
                amount_minor,
                status: if i == 0 {
                    InstalmentStatus::Due
                } else {
                    InstalmentStatus::Scheduled
                },
                assessed_at: None,
                assessment: None,
                hold_reasons: Vec::new(),
                expense_entry_id: (i == 0).then(|| claim.approval_entry_id.clone()).flatten(),
                payment_entry_id: None,
                paid_on: None,
            })
            .collect();
    debug_assert!(
        !instalments.is_empty(),
        "the first instalment is always dated"
    );
    store::replace(conn, fund.id, rules.every, &instalments)
}

/// The claim was paid: so is its first instalment.
pub(super) fn first_paid(conn: &mut DbConnection, claim: &Claim) -> AppResult<()> {
    let Some(schedule) = store::find(conn, &claim.id)? else {
        return Ok(());
    };
    let mut first = schedule.instalments[0].clone();
    debug_assert_eq!(first.number, 1);
    first.status = InstalmentStatus::Paid;
    first.payment_entry_id = claim.payment_entry_id.clone();
    first.paid_on = claim.paid_on;
    first.hold_reasons.clear();
    store::update(conn, &first)
}

/// The claim's award was reversed (rejected or changed on review, before it
/// was paid): its instalments go with it; a new approval schedules them anew.
pub(super) fn forget(conn: &mut DbConnection, claim_id: &str) -> AppResult<()> {
    store::delete_instalments(conn, claim_id)
}

/// The `data` of the instalment events.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstalmentEventData {
    #[schema(format = Uuid)]
    pub claim_id: String,
    #[schema(format = Uuid)]
    pub worker_id: String,
    pub benefit: String,
    /// The instalment (absent when the event is about the whole schedule).
    #[schema(required = true)]
    pub number: Option<u32>,
    #[schema(required = true)]
    pub due_on: Option<NaiveDate>,
    #[schema(required = true)]
    pub amount: Option<crate::money::DecimalString>,
    #[schema(required = true)]
    pub status: Option<InstalmentStatus>,
    /// Why it lapsed, or why the schedule was stopped.
    pub reasons: Vec<String>,
}

fn event_payload(
    claim: &Claim,
    instalment: Option<&Instalment>,
    reasons: Option<&Vec<String>>,
) -> serde_json::Value {
    json!({
        "claim_id": claim.id,
        "worker_id": claim.worker_id,
        "benefit": claim.benefit,
        "number": instalment.map(|i| i.number),
        "due_on": instalment.map(|i| i.due_on),
        "amount": instalment.map(|i| format_minor(i.amount_minor, i.currency)),
        "status": instalment.map(|i| i.status),
        "reasons": reasons.cloned().or_else(|| instalment.map(|i| i.hold_reasons.clone())).unwrap_or_default(),
    })
}

fn instalment_event(
    fund: &Fund,
    kind: EventType,
    claim: &Claim,
    instalment: &Instalment,
) -> NewEvent {
    NewEvent {
        fund_code: fund.code.clone(),
        event_type: kind,
        subject_id: claim.id.clone(),
        payload: event_payload(claim, Some(instalment), None),
    }
}

/// Instalments counted and summed, in minor units, by status.
pub type InstalmentTotals = BTreeMap<InstalmentStatus, (u64, i128)>;

/// The instalments of the claims filed from `from` to `to`, per currency,
/// counted and summed by status (for the claims statistics).
pub fn statistics(
    conn: &mut DbConnection,
    fund_id: FundId,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<BTreeMap<Currency, InstalmentTotals>> {
    let mut totals: BTreeMap<Currency, InstalmentTotals> = BTreeMap::new();
    for (currency, status, amount_minor) in store::of_claims_filed(conn, fund_id, from, to)? {
        let currency = Currency::parse(&currency).map_err(AppError::internal)?;
        let status = InstalmentStatus::parse(&status)
            .ok_or_else(|| AppError::internal(format!("stored instalment status {status}")))?;
        let total = totals
            .entry(currency)
            .or_default()
            .entry(status)
            .or_default();
        total.0 += 1;
        total.1 += amount_minor as i128;
    }
    Ok(totals)
}

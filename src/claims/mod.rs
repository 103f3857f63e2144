//! Claims: submission (with riders), assessment against the rules in force on
//! the incident date, decisions with four-eyes and committee approval, booking of
//! the award and its payment from cash, withdrawal and appeal.
//!
//! Every change of a claim takes the fund lock first (through a ledger Booking or
//! `funds::lock_fund`) and re-reads the claim, so two processes can't decide, approve
//! or pay the same claim twice, and cash is never overdrawn.

pub mod assess;
mod store;

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use self::assess::{
    assess, ClaimFacts, Claimant, ContractFacts, DependantFacts, OtherClaim, Outcome, Versions,
    WorkerFacts,
};
pub use self::store::ClaimFilter;
use crate::audit::events::{kind as event_kind, NewEvent};
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::{lock_fund, Fund};
use crate::ledger::{Booking, NewEntry, NewPosting, Side};
use crate::money::{format_minor, to_minor, Currency};
use crate::rules::document::{Phase, Relationship, RuleDocument, Track};
use crate::rules::version_table;
use crate::workers::{self, Worker};

/// An assessment as stored with the claim.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredAssessment {
    pub rule_version: Option<String>,
    pub track: Option<Track>,
    pub outcome: Outcome,
    pub amount_minor: i64,
    pub payable_minor: i64,
    pub checks: Vec<StoredCheck>,
    pub reasons: Vec<String>,
    pub missing_documents: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredCheck {
    pub check: String,
    pub passed: bool,
    pub reason: Option<String>,
    pub detail: Option<String>,
}

impl From<assess::Assessment> for StoredAssessment {
    fn from(a: assess::Assessment) -> Self {
        StoredAssessment {
            rule_version: a.rule_version,
            track: a.track,
            outcome: a.outcome,
            amount_minor: a.amount_minor,
            payable_minor: a.payable_minor,
            checks: a
                .checks
                .into_iter()
                .map(|c| StoredCheck {
                    check: c.check.to_string(),
                    passed: c.passed,
                    reason: c.reason.map(str::to_string),
                    detail: c.detail,
                })
                .collect(),
            reasons: a.reasons.into_iter().map(str::to_string).collect(),
            missing_documents: a.missing_documents,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Claim {
    pub id: String,
    pub fund_id: i64,
    pub worker_id: String,
    pub benefit: String,
    pub rider_of: Option<String>,
    pub incident_date: NaiveDate,
    pub incident_phase: Phase,
    pub filed_on: NaiveDate,
    pub claimant_relationship: Relationship,
    pub dependant_id: Option<String>,
    pub claimed_amount_minor: Option<i64>,
    pub grade: Option<String>,
    pub description: Option<String>,
    pub currency: Currency,
    pub status: String,
    pub rule_version: Option<String>,
    pub assessment: StoredAssessment,
    pub payable_minor: i64,
    pub decision_outcome: Option<String>,
    pub decided_amount_minor: Option<i64>,
    pub decision_reasons: Vec<String>,
    pub decision_note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub approved_at: Option<NaiveDateTime>,
    pub approval_entry_id: Option<String>,
    pub payment_entry_id: Option<String>,
    pub paid_on: Option<NaiveDate>,
    pub payee_reference: Option<String>,
    pub appealed: bool,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    /// (type, reference)
    pub documents: Vec<(String, String)>,
    /// (approver, note, when)
    pub approvals: Vec<(String, Option<String>, NaiveDateTime)>,
}

/// A claim to submit, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewClaim {
    pub benefit: String,
    pub incident_date: NaiveDate,
    pub incident_phase: Phase,
    pub filed_on: NaiveDate,
    pub claimant: Claimant,
    pub claimed_amount_minor: Option<i64>,
    pub grade: Option<String>,
    pub documents: Vec<(String, String)>,
    pub description: Option<String>,
}

/// Claim statuses.
pub mod status {
    pub const SUBMITTED: &str = "submitted";
    pub const PENDING_DOCUMENTS: &str = "pending_documents";
    pub const AWAITING_SECOND_APPROVAL: &str = "awaiting_second_approval";
    pub const AWAITING_COMMITTEE: &str = "awaiting_committee";
    pub const APPROVED: &str = "approved";
    pub const PARTIALLY_APPROVED: &str = "partially_approved";
    pub const REJECTED: &str = "rejected";
    pub const AWAITING_FUNDS: &str = "awaiting_funds";
    pub const PAID: &str = "paid";
    pub const WITHDRAWN: &str = "withdrawn";
    pub const APPEALED: &str = "appealed";
}

/// Entry kinds booked by claims.
pub const APPROVAL_KIND: &str = "claim_approval";
pub const PAYMENT_KIND: &str = "claim_payment";

fn conflict(claim: &Claim, action: &str) -> AppError {
    AppError::new(
        ErrorCode::ClaimStatusConflict,
        format!(
            "claim {} is {}; it cannot be {action}",
            claim.id, claim.status
        ),
    )
    .with("claim_status", &claim.status)
}

fn event(fund: &Fund, kind: &'static str, claim: &Claim) -> NewEvent {
    NewEvent {
        fund_code: fund.code.clone(),
        event_type: kind,
        subject_id: claim.id.clone(),
        payload: json!({
            "claim_id": claim.id,
            "worker_id": claim.worker_id,
            "benefit": claim.benefit,
            "status": claim.status,
            "rider_of": claim.rider_of,
            "amount": claim.decided_amount_minor.map(|m| format_minor(m, claim.currency)),
        }),
    }
}

/// The benefit expense account for a benefit, by its kind.
pub fn expense_account(benefit: &str) -> &'static str {
    let b = benefit.to_ascii_uppercase();
    if b.contains("DEATH") || b.contains("BURIAL") || b.contains("FUNERAL") {
        "5100"
    } else if b.contains("DISAB") || b.contains("INVALID") {
        "5200"
    } else if b.contains("REPATRIAT") {
        "5300"
    } else if b.contains("MEDICAL") || b.contains("ILLNESS") {
        "5400"
    } else if b.contains("LEGAL") {
        "5500"
    } else if b.contains("SCHOLAR") || b.contains("EDUCATION") || b.contains("LIVELIHOOD") {
        "5600"
    } else {
        "5000"
    }
}

fn versions(conn: &mut DbConnection, fund: &Fund) -> AppResult<Versions> {
    version_table(conn, fund.id)
}

fn worker_facts(conn: &mut DbConnection, worker: &Worker) -> AppResult<WorkerFacts> {
    Ok(WorkerFacts {
        dependants: worker
            .dependants
            .iter()
            .map(|d| DependantFacts {
                id: d.id.clone(),
                relationship: d.relationship,
                deceased: d.deceased,
            })
            .collect(),
        contracts: worker
            .contracts
            .iter()
            .map(|c| ContractFacts {
                start_date: c.start_date,
                returned_on: c.returned_on,
            })
            .collect(),
        coverage: workers::coverage_periods(conn, &worker.id)?
            .into_iter()
            .map(|p| p.period)
            .collect(),
    })
}

fn facts(claim: &Claim) -> ClaimFacts {
    ClaimFacts {
        benefit: claim.benefit.clone(),
        incident_date: claim.incident_date,
        incident_phase: claim.incident_phase,
        filed_on: claim.filed_on,
        claimant: Claimant {
            relationship: claim.claimant_relationship,
            dependant_id: claim.dependant_id.clone(),
        },
        claimed_amount_minor: claim.claimed_amount_minor,
        grade: claim.grade.clone(),
        documents: claim
            .documents
            .iter()
            .map(|d| d.0.clone())
            .collect::<BTreeSet<_>>(),
    }
}

/// Assesses `claim` against everything else the worker has claimed.
fn reassess(
    conn: &mut DbConnection,
    fund: &Fund,
    versions: &Versions,
    worker: &Worker,
    claim: &mut Claim,
) -> AppResult<()> {
    let others: Vec<OtherClaim> = store::of_worker(conn, &worker.id)?
        .into_iter()
        .filter(|c| c.id != claim.id)
        .map(|c| OtherClaim {
            benefit: c.benefit,
            incident_date: c.incident_date,
            claimant: Claimant {
                relationship: c.claimant_relationship,
                dependant_id: c.dependant_id,
            },
            status: c.status,
            awarded_minor: c.decided_amount_minor.unwrap_or(0),
        })
        .collect();
    let assessment = assess(
        versions,
        fund.currency,
        &facts(claim),
        &worker_facts(conn, worker)?,
        &others,
    );
    claim.rule_version = assessment.rule_version.clone();
    claim.payable_minor = assessment.payable_minor;
    claim.assessment = assessment.into();
    Ok(())
}

fn status_after_assessment(claim: &Claim) -> &'static str {
    match claim.assessment.outcome {
        Outcome::PendingDocuments => status::PENDING_DOCUMENTS,
        _ if claim.appealed => status::APPEALED,
        _ => status::SUBMITTED,
    }
}

/// Submits a claim (and one claim per rider of its benefit) and assesses each.
pub fn submit(
    conn: &mut DbConnection,
    fund: &Fund,
    worker: &Worker,
    new: &NewClaim,
    created_by: &str,
) -> AppResult<(Claim, Vec<Claim>, Vec<NewEvent>)> {
    lock_fund(conn, fund.id)?;
    let versions = versions(conn, fund)?;
    let riders: Vec<String> =
        crate::rules::evaluate::version_in_force(&versions, new.incident_date)
            .and_then(|(_, doc): &(String, RuleDocument)| {
                doc.benefits.iter().find(|b| b.code == new.benefit)
            })
            .map(|b| b.riders.clone())
            .unwrap_or_default();
    let mut events = Vec::new();
    let main = submit_one(conn, fund, &versions, worker, new, None, created_by)?;
    events.push(event(fund, event_kind::CLAIM_SUBMITTED, &main));
    let mut rider_claims = Vec::new();
    for rider in riders {
        let rider_claim = NewClaim {
            benefit: rider,
            claimed_amount_minor: None,
            grade: None,
            ..new.clone()
        };
        let c = submit_one(
            conn,
            fund,
            &versions,
            worker,
            &rider_claim,
            Some(&main.id),
            created_by,
        )?;
        events.push(event(fund, event_kind::CLAIM_SUBMITTED, &c));
        rider_claims.push(c);
    }
    Ok((main, rider_claims, events))
}

fn submit_one(
    conn: &mut DbConnection,
    fund: &Fund,
    versions: &Versions,
    worker: &Worker,
    new: &NewClaim,
    rider_of: Option<&str>,
    created_by: &str,
) -> AppResult<Claim> {
    let mut claim = Claim {
        id: Uuid::now_v7().to_string(),
        fund_id: fund.id,
        worker_id: worker.id.clone(),
        benefit: new.benefit.clone(),
        rider_of: rider_of.map(str::to_string),
        incident_date: new.incident_date,
        incident_phase: new.incident_phase,
        filed_on: new.filed_on,
        claimant_relationship: new.claimant.relationship,
        dependant_id: new.claimant.dependant_id.clone(),
        claimed_amount_minor: new.claimed_amount_minor,
        grade: new.grade.clone(),
        description: new.description.clone(),
        currency: fund.currency,
        status: String::new(),
        rule_version: None,
        assessment: StoredAssessment {
            rule_version: None,
            track: None,
            outcome: Outcome::Ineligible,
            amount_minor: 0,
            payable_minor: 0,
            checks: Vec::new(),
            reasons: Vec::new(),
            missing_documents: Vec::new(),
        },
        payable_minor: 0,
        decision_outcome: None,
        decided_amount_minor: None,
        decision_reasons: Vec::new(),
        decision_note: None,
        decided_by: None,
        decided_at: None,
        approved_at: None,
        approval_entry_id: None,
        payment_entry_id: None,
        paid_on: None,
        payee_reference: None,
        appealed: false,
        created_at: crate::time::now(),
        created_by: created_by.to_string(),
        documents: new.documents.clone(),
        approvals: Vec::new(),
    };
    reassess(conn, fund, versions, worker, &mut claim)?;
    claim.status = status_after_assessment(&claim).to_string();
    store::insert(conn, &claim)?;
    Ok(claim)
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<Claim>> {
    store::find(conn, id)
}

pub fn riders_of(conn: &mut DbConnection, id: &str) -> AppResult<Vec<Claim>> {
    store::riders_of(conn, id)
}

pub fn list(conn: &mut DbConnection, fund: &Fund, filter: &ClaimFilter) -> AppResult<Vec<Claim>> {
    store::list(conn, fund.id, filter)
}

/// How many claims the fund holds in each status.
pub fn count_by_status(conn: &mut DbConnection, fund: &Fund) -> AppResult<Vec<(String, i64)>> {
    store::count_by_status(conn, fund.id)
}

/// Locks the fund and reads the claim afresh: the basis of every change.
fn fresh(conn: &mut DbConnection, fund: &Fund, id: &str) -> AppResult<Claim> {
    lock_fund(conn, fund.id)?;
    store::find(conn, id)?.ok_or_else(|| AppError::not_found(format!("no claim {id}")))
}

fn worker_of(conn: &mut DbConnection, claim: &Claim) -> AppResult<Worker> {
    workers::find_worker(conn, &claim.worker_id)?
        .ok_or_else(|| AppError::internal("a claim's worker is missing"))
}

/// Attaches documents (and the documented expense) and reassesses.
pub fn add_documents(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    documents: &[(String, String)],
    claimed_amount_minor: Option<i64>,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let mut claim = fresh(conn, fund, id)?;
    if ![
        status::SUBMITTED,
        status::PENDING_DOCUMENTS,
        status::APPEALED,
    ]
    .contains(&claim.status.as_str())
    {
        return Err(conflict(&claim, "given documents"));
    }
    let existing = claim.documents.len();
    claim.documents.extend(documents.iter().cloned());
    if claimed_amount_minor.is_some() {
        claim.claimed_amount_minor = claimed_amount_minor;
    }
    store::add_documents(conn, &claim.id, existing, &claim.documents)?;
    let worker = worker_of(conn, &claim)?;
    let versions = versions(conn, fund)?;
    reassess(conn, fund, &versions, &worker, &mut claim)?;
    claim.status = status_after_assessment(&claim).to_string();
    store::update(conn, &claim)?;
    Ok((
        claim.clone(),
        vec![event(fund, event_kind::CLAIM_REASSESSED, &claim)],
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    Approve,
    PartiallyApprove,
    Reject,
}

#[derive(Debug, Clone)]
pub struct Decision {
    pub outcome: DecisionOutcome,
    pub amount_minor: Option<i64>,
    pub reasons: Vec<String>,
    pub note: Option<String>,
}

fn approval_rules(conn: &mut DbConnection, fund: &Fund, claim: &Claim) -> AppResult<(i64, u32)> {
    let versions = versions(conn, fund)?;
    let (_, doc) = crate::rules::evaluate::version_in_force(&versions, claim.incident_date)
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::NoRulesInForce,
                "no rules are in force on the incident date",
            )
        })?;
    let threshold = to_minor(doc.approval.second_approval_above.0, fund.currency).unwrap_or(0);
    Ok((threshold, doc.approval.committee_size))
}

/// An officer's decision. Above the threshold an entitlement waits for a second
/// approver; a discretionary award waits for the committee; otherwise approval
/// is final and books the award.
pub fn decide(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    decision: &Decision,
    decider: &Caller,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let mut claim = fresh(conn, fund, id)?;
    let decidable = [status::SUBMITTED, status::APPEALED];
    let rejectable =
        decision.outcome == DecisionOutcome::Reject && claim.status == status::PENDING_DOCUMENTS;
    if !decidable.contains(&claim.status.as_str()) && !rejectable {
        return Err(conflict(&claim, "decided"));
    }
    let payable = claim.payable_minor;
    let amount = match decision.outcome {
        DecisionOutcome::Reject => {
            if decision.reasons.is_empty() {
                return Err(AppError::field(
                    "/reasons",
                    "required",
                    "a rejection gives its reasons",
                ));
            }
            0
        }
        DecisionOutcome::Approve => {
            let amount = decision.amount_minor.unwrap_or(payable);
            if payable == 0 || amount == 0 {
                return Err(AppError::new(
                    ErrorCode::DecisionExceedsPayable,
                    "the assessment leaves nothing payable; reject the claim instead",
                )
                .with("payable", format_minor(payable, claim.currency)));
            }
            amount
        }
        DecisionOutcome::PartiallyApprove => {
            let amount = decision.amount_minor.ok_or_else(|| {
                AppError::field("/amount", "required", "a partial approval names its amount")
            })?;
            if amount >= payable {
                return Err(AppError::field(
                    "/amount",
                    "not_partial",
                    "a partial approval is less than the payable amount; approve instead",
                ));
            }
            if decision.reasons.is_empty() && decision.note.is_none() {
                return Err(AppError::field(
                    "/reasons",
                    "required",
                    "a partial approval gives its reason",
                ));
            }
            amount
        }
    };
    if amount > payable {
        return Err(AppError::new(
            ErrorCode::DecisionExceedsPayable,
            format!(
                "{} is more than the payable {}",
                format_minor(amount, claim.currency),
                format_minor(payable, claim.currency)
            ),
        )
        .with("payable", format_minor(payable, claim.currency)));
    }
    claim.decision_outcome = Some(
        serde_json::to_value(decision.outcome)?
            .as_str()
            .unwrap_or_default()
            .to_string(),
    );
    claim.decided_amount_minor = Some(amount);
    claim.decision_reasons = decision.reasons.clone();
    claim.decision_note = decision.note.clone();
    claim.decided_by = Some(decider.subject.clone());
    claim.decided_at = Some(crate::time::now());
    let mut events = Vec::new();
    if decision.outcome == DecisionOutcome::Reject {
        claim.status = status::REJECTED.to_string();
        store::update(conn, &claim)?;
        events.push(event(fund, event_kind::CLAIM_REJECTED, &claim));
        return Ok((claim, events));
    }
    let (threshold, _) = approval_rules(conn, fund, &claim)?;
    claim.status = match claim.assessment.track {
        Some(Track::Discretionary) => status::AWAITING_COMMITTEE.to_string(),
        _ if amount > threshold => status::AWAITING_SECOND_APPROVAL.to_string(),
        _ => {
            finalize(conn, fund, &mut claim)?;
            claim.status.clone()
        }
    };
    store::update(conn, &claim)?;
    events.push(event(fund, event_kind::CLAIM_DECIDED, &claim));
    if claim.approved_at.is_some() {
        events.push(event(fund, event_kind::CLAIM_APPROVED, &claim));
    }
    Ok((claim, events))
}

/// Final approval: books benefit expense against benefits payable.
fn finalize(conn: &mut DbConnection, fund: &Fund, claim: &mut Claim) -> AppResult<()> {
    let amount = claim.decided_amount_minor.expect("decided");
    let mut booking = Booking::open(conn, fund.id)?;
    let entry = booking.post(
        conn,
        NewEntry {
            effective_date: crate::time::today(),
            kind: APPROVAL_KIND,
            memo: format!("Award of {} to claim {}", claim.benefit, claim.id),
            source: Some(("claim".to_string(), claim.id.clone())),
            created_by: claim.decided_by.clone().unwrap_or_default(),
            reverses: None,
            postings: vec![
                NewPosting {
                    account: expense_account(&claim.benefit).to_string(),
                    side: Side::Debit,
                    amount_minor: amount,
                    currency: claim.currency,
                },
                NewPosting {
                    account: "2000".to_string(),
                    side: Side::Credit,
                    amount_minor: amount,
                    currency: claim.currency,
                },
            ],
        },
    )?;
    booking.close(conn)?;
    claim.approval_entry_id = Some(entry.id);
    claim.approved_at = Some(crate::time::now());
    claim.status = if claim.decision_outcome.as_deref() == Some("partially_approve") {
        status::PARTIALLY_APPROVED.to_string()
    } else {
        status::APPROVED.to_string()
    };
    Ok(())
}

/// A second approval (above the threshold) or a committee member's approval.
pub fn approve(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    approver: &Caller,
    note: Option<String>,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let mut claim = fresh(conn, fund, id)?;
    if ![status::AWAITING_SECOND_APPROVAL, status::AWAITING_COMMITTEE]
        .contains(&claim.status.as_str())
    {
        return Err(conflict(&claim, "approved"));
    }
    if claim.decided_by.as_deref() == Some(approver.subject.as_str()) {
        return Err(AppError::new(
            ErrorCode::SelfApproval,
            "the officer who decided may not approve their own decision",
        ));
    }
    if claim.approvals.iter().any(|a| a.0 == approver.subject) {
        return Err(AppError::new(
            ErrorCode::AlreadyApproved,
            format!("{} has already approved this claim", approver.subject),
        ));
    }
    store::add_approval(conn, &claim.id, &approver.subject, note.as_deref())?;
    claim
        .approvals
        .push((approver.subject.clone(), note, crate::time::now()));
    let (_, committee_size) = approval_rules(conn, fund, &claim)?;
    let needed = if claim.status == status::AWAITING_COMMITTEE {
        committee_size as usize
    } else {
        1
    };
    let mut events = vec![event(fund, event_kind::CLAIM_APPROVAL_GIVEN, &claim)];
    if claim.approvals.len() >= needed {
        finalize(conn, fund, &mut claim)?;
        events.push(event(fund, event_kind::CLAIM_APPROVED, &claim));
    }
    store::update(conn, &claim)?;
    Ok((claim, events))
}

/// Pays an approved claim from cash, or leaves it waiting for funds.
pub fn pay(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    paid_on: NaiveDate,
    payee_reference: Option<String>,
    by: &str,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let mut booking = Booking::open(conn, fund.id)?;
    let mut claim =
        store::find(conn, id)?.ok_or_else(|| AppError::not_found(format!("no claim {id}")))?;
    if ![
        status::APPROVED,
        status::PARTIALLY_APPROVED,
        status::AWAITING_FUNDS,
    ]
    .contains(&claim.status.as_str())
    {
        return Err(conflict(&claim, "paid"));
    }
    claim.payee_reference = payee_reference.or(claim.payee_reference.clone());
    let events = pay_in(conn, &mut booking, fund, &mut claim, paid_on, by)?;
    booking.close(conn)?;
    Ok((claim, events))
}

fn pay_in(
    conn: &mut DbConnection,
    booking: &mut Booking,
    fund: &Fund,
    claim: &mut Claim,
    paid_on: NaiveDate,
    by: &str,
) -> AppResult<Vec<NewEvent>> {
    let amount = claim
        .decided_amount_minor
        .expect("approved claims have an amount");
    let entry = NewEntry {
        effective_date: paid_on,
        kind: PAYMENT_KIND,
        memo: format!("Payment of claim {} ({})", claim.id, claim.benefit),
        source: Some(("claim".to_string(), claim.id.clone())),
        created_by: by.to_string(),
        reverses: None,
        postings: vec![
            NewPosting {
                account: "2000".to_string(),
                side: Side::Debit,
                amount_minor: amount,
                currency: claim.currency,
            },
            NewPosting {
                account: "1000".to_string(),
                side: Side::Credit,
                amount_minor: amount,
                currency: claim.currency,
            },
        ],
    };
    match booking.prepare(entry) {
        Ok(prepared) => {
            let entry = booking.commit(conn, prepared)?;
            claim.payment_entry_id = Some(entry.id);
            claim.paid_on = Some(paid_on);
            claim.status = status::PAID.to_string();
            store::update(conn, claim)?;
            Ok(vec![event(fund, event_kind::CLAIM_PAID, claim)])
        }
        Err(e) if e.code == ErrorCode::InsufficientFunds => {
            let newly = claim.status != status::AWAITING_FUNDS;
            claim.status = status::AWAITING_FUNDS.to_string();
            store::update(conn, claim)?;
            Ok(if newly {
                vec![event(fund, event_kind::CLAIM_AWAITING_FUNDS, claim)]
            } else {
                Vec::new()
            })
        }
        Err(e) => Err(e),
    }
}

/// Pays claims waiting for funds, first approved first, while cash lasts; stops
/// at the first that cash does not cover, so none is overtaken.
pub fn payment_run(
    conn: &mut DbConnection,
    fund: &Fund,
    paid_on: NaiveDate,
    by: &str,
) -> AppResult<(Vec<Claim>, Vec<Claim>, Vec<NewEvent>)> {
    let mut booking = Booking::open(conn, fund.id)?;
    let mut paid = Vec::new();
    let mut waiting = Vec::new();
    let mut events = Vec::new();
    let mut stopped = false;
    for mut claim in store::awaiting_funds(conn, fund.id)? {
        if !stopped {
            events.extend(pay_in(conn, &mut booking, fund, &mut claim, paid_on, by)?);
        }
        if claim.status == status::PAID {
            paid.push(claim);
        } else {
            stopped = true;
            waiting.push(claim);
        }
    }
    booking.close(conn)?;
    Ok((paid, waiting, events))
}

/// Withdrawal by the claimant, before a decision.
pub fn withdraw(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let mut claim = fresh(conn, fund, id)?;
    if ![status::SUBMITTED, status::PENDING_DOCUMENTS].contains(&claim.status.as_str()) {
        return Err(conflict(&claim, "withdrawn"));
    }
    claim.status = status::WITHDRAWN.to_string();
    store::update(conn, &claim)?;
    Ok((
        claim.clone(),
        vec![event(fund, event_kind::CLAIM_WITHDRAWN, &claim)],
    ))
}

/// The one appeal of a rejection: the claim is assessed again and awaits a new decision.
pub fn appeal(conn: &mut DbConnection, fund: &Fund, id: &str) -> AppResult<(Claim, Vec<NewEvent>)> {
    let mut claim = fresh(conn, fund, id)?;
    if claim.status != status::REJECTED {
        return Err(conflict(&claim, "appealed"));
    }
    if claim.appealed {
        return Err(AppError::new(
            ErrorCode::AlreadyAppealed,
            "a rejection can be appealed once",
        ));
    }
    claim.appealed = true;
    claim.decision_outcome = None;
    claim.decided_amount_minor = None;
    claim.decided_by = None;
    claim.decided_at = None;
    let worker = worker_of(conn, &claim)?;
    let versions = versions(conn, fund)?;
    reassess(conn, fund, &versions, &worker, &mut claim)?;
    claim.status = status_after_assessment(&claim).to_string();
    store::update(conn, &claim)?;
    Ok((
        claim.clone(),
        vec![event(fund, event_kind::CLAIM_APPEALED, &claim)],
    ))
}

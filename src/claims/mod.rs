//! Claims: submission (with riders), assessment against the rules in force on
//! the incident date, decisions with four-eyes and committee approval, booking of
//! the award and its payment from cash, withdrawal and appeal.
//!
//! Every change of a claim takes the fund lock first (through a ledger Booking or
//! `funds::lock_fund`), re-reads the claim and **re-assesses it** against the
//! records as they are at that moment: awards approved since, contributions
//! reversed since, contracts changed since, documents added. What was assessed at
//! filing is a hint, never a permission; so two processes can't decide, approve
//! or pay past a cap or `max_claims`, and cash is never overdrawn. Every
//! assessment is kept in the claim's history. Status changes follow the one
//! table in [`status`].

pub mod assess;
pub mod instalments;
pub mod payees;
pub mod status;
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
pub use self::status::{Action, ClaimStatus};
pub use self::store::ClaimFilter;
use crate::audit::events::{kind as event_kind, EventType, NewEvent};
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::funds::{lock_fund, Fund, FundId, FundLock};
use crate::ledger::account_code;
use crate::ledger::{reverse_entry, Booking, NewEntry, NewPosting, Reversal, Side};
use crate::money::{format_minor, to_minor, Currency};
use crate::rules::document::{Phase, Relationship, RuleDocument, Track};
use crate::rules::version_table;
use crate::workers::{self, Worker};

/// An assessment as stored with the claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Why a claim was assessed, as its history says.
pub mod cause {
    pub const SUBMITTED: &str = "submitted";
    pub const DOCUMENTS: &str = "documents";
    pub const DECISION: &str = "decision";
    pub const APPROVAL: &str = "approval";
    pub const PAYMENT: &str = "payment";
    pub const PAYMENT_RUN: &str = "payment_run";
    pub const APPEAL: &str = "appeal";
    /// A later heir joined the claim.
    pub const BENEFICIARY: &str = "beneficiary";
}

/// One assessment in a claim's history: what the officer saw, when and why.
#[derive(Debug, Clone)]
pub struct AssessmentRecord {
    pub assessed_at: NaiveDateTime,
    /// One of [`cause`].
    pub cause: String,
    /// Who made the request that caused it.
    pub assessed_by: String,
    pub assessment: StoredAssessment,
}

#[derive(Debug, Clone)]
pub struct Claim {
    pub id: String,
    pub fund_id: FundId,
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
    pub status: ClaimStatus,
    pub rule_version: Option<String>,
    /// The latest assessment.
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
    /// When the claim joined the queue of claims waiting for funds.
    pub queued_at: Option<NaiveDateTime>,
    /// (type, reference)
    pub documents: Vec<(String, String)>,
    /// (approver, note, when)
    pub approvals: Vec<(String, Option<String>, NaiveDateTime)>,
    /// Every assessment, oldest first (the last is `assessment`).
    pub assessments: Vec<AssessmentRecord>,
    /// Who the claim pays, in line order, when its benefit has `beneficiaries`
    /// (empty otherwise: the claimant is paid).
    pub payees: Vec<payees::Payee>,
}

impl Claim {
    /// Moves the claim to `to` by `action`, as the table in [`status`] allows.
    fn move_to(&mut self, action: Action, to: ClaimStatus) -> AppResult<()> {
        if !status::allowed(action, self.status, to) {
            return Err(AppError::internal(format!(
                "claim {}: {action:?} may not move {} to {to}",
                self.id, self.status
            )));
        }
        self.status = to;
        Ok(())
    }

    /// Why a claim under review is there: the reason codes of the latest
    /// assessment (the one that found the decision no longer stands).
    pub fn review_reasons(&self) -> Option<Vec<String>> {
        (self.status == ClaimStatus::UnderReview).then(|| {
            let mut reasons = self.assessment.reasons.clone();
            if reasons.is_empty() {
                reasons.push(ErrorCode::DecisionExceedsPayable.as_str());
            }
            reasons
        })
    }

    /// An award that was approved and still stands: only awards approved
    /// before it count against its caps and limits.
    fn standing_award(&self) -> bool {
        self.status.is_award() && self.approved_at.is_some()
    }

    /// Whether other claims count this one as an award: an award, or a claim
    /// back under review some of whose payees were paid (its award is booked and
    /// partly paid out, and is never reversed below what was paid).
    fn counts_as_award(&self) -> bool {
        self.status.is_award()
            || (self.status == ClaimStatus::UnderReview && payees::paid_minor(self).is_some())
    }
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
    /// The beneficiaries the claim names (absent: the class of heirs that takes,
    /// in equal shares, when the benefit has `beneficiaries`).
    pub beneficiaries: Option<Vec<payees::NewBeneficiary>>,
    /// Riders claimed by someone other than the main claim's claimant (a
    /// scholarship for each child of a deceased worker): one rider claim per
    /// entry. A rider not named here is claimed by the main claimant.
    pub rider_claimants: Vec<RiderClaimant>,
}

/// Who claims one rider of the benefit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiderClaimant {
    pub benefit: String,
    pub claimant: Claimant,
}

/// Entry kinds booked by claims.
pub const APPROVAL_KIND: &str = "claim_approval";
pub const PAYMENT_KIND: &str = "claim_payment";
/// The reversal of an award's expense when a claim under review is rejected or reduced.
pub const AWARD_REVERSAL_KIND: &str = "claim_award_reversal";

fn event(fund: &Fund, kind: EventType, claim: &Claim) -> NewEvent {
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
            "reasons": claim.review_reasons(),
        }),
    }
}

/// The benefit expense account for a benefit, by its kind.
pub fn expense_account(benefit: &str) -> &'static str {
    let b = benefit.to_ascii_uppercase();
    if b.contains("DEATH") || b.contains("BURIAL") || b.contains("FUNERAL") {
        account_code::BENEFIT_EXPENSE_DEATH
    } else if b.contains("DISAB") || b.contains("INVALID") {
        account_code::BENEFIT_EXPENSE_DISABILITY
    } else if b.contains("REPATRIAT") {
        account_code::BENEFIT_EXPENSE_REPATRIATION
    } else if b.contains("MEDICAL") || b.contains("ILLNESS") {
        account_code::BENEFIT_EXPENSE_MEDICAL
    } else if b.contains("LEGAL") {
        account_code::BENEFIT_EXPENSE_LEGAL_ASSISTANCE
    } else if b.contains("SCHOLAR") || b.contains("EDUCATION") || b.contains("LIVELIHOOD") {
        account_code::BENEFIT_EXPENSE_EDUCATION_AND_LIVELIHOOD
    } else {
        account_code::BENEFIT_EXPENSE_OTHER
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
                nominee: d.nominee,
                date_of_birth: d.date_of_birth,
            })
            .collect(),
        contracts: worker
            .contracts
            .iter()
            .map(|c| ContractFacts {
                start_date: c.start_date,
                returned_on: c.returned_on,
                last_day: c.terminated_on.unwrap_or(c.end_date),
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
        payees: claim.payees.iter().map(payees::Payee::facts).collect(),
    }
}

/// The worker's other claims that rank before `claim`: every standing award
/// (or, when `claim` is itself a standing award, those approved before it), and
/// the open claims filed before it (for duplicates). A claim approved after
/// `claim` was assessed with `claim` counted, so it can't undermine it.
fn ranking_before(claim: &Claim, others: Vec<Claim>) -> Vec<OtherClaim> {
    let own_approval = (claim.approved_at, claim.id.as_str());
    let own_filing = (claim.created_at, claim.id.as_str());
    others
        .into_iter()
        .filter(|o| o.id != claim.id)
        .filter(|o| {
            if o.counts_as_award() {
                !claim.standing_award() || (o.approved_at, o.id.as_str()) < own_approval
            } else {
                o.status.is_closed_without_award() || (o.created_at, o.id.as_str()) < own_filing
            }
        })
        .map(|c| OtherClaim {
            // A partly paid claim under review counts as the award it stands on.
            status: if c.counts_as_award() && !c.status.is_award() {
                ClaimStatus::PartiallyApproved
            } else {
                c.status
            },
            benefit: c.benefit,
            incident_date: c.incident_date,
            claimant: Claimant {
                relationship: c.claimant_relationship,
                dependant_id: c.dependant_id,
            },
            awarded_minor: c.decided_amount_minor.unwrap_or(0),
        })
        .collect()
}

/// Assesses `claim` against the records as they are now (under the fund lock,
/// so nothing they say can change before the transaction ends), writing nothing.
fn assess_now(
    conn: &mut DbConnection,
    lock: &FundLock,
    fund: &Fund,
    versions: &Versions,
    worker: &Worker,
    claim: &Claim,
) -> AppResult<StoredAssessment> {
    debug_assert!(lock.holds(fund), "assessed under another fund's lock");
    let others = ranking_before(claim, store::of_worker(conn, &worker.id)?);
    let mut assessment: StoredAssessment = assess(
        versions,
        fund.currency,
        &facts(claim),
        &worker_facts(conn, worker)?,
        &others,
    )
    .into();
    instalments::check_age(versions, worker, claim, &mut assessment);
    Ok(assessment)
}

/// Makes `assessment` the claim's latest and adds it to the claim's history in
/// memory; [`keep_assessment`] also writes it.
fn adopt(claim: &mut Claim, assessment: StoredAssessment, cause: &str, by: &str) {
    claim.rule_version = assessment.rule_version.clone();
    claim.payable_minor = assessment.payable_minor;
    claim.assessment = assessment.clone();
    claim.assessments.push(AssessmentRecord {
        assessed_at: crate::time::now(),
        cause: cause.to_string(),
        assessed_by: by.to_string(),
        assessment,
    });
}

/// Writes the last assessment of the claim's history.
fn write_last_assessment(conn: &mut DbConnection, claim: &Claim) -> AppResult<()> {
    let line = claim.assessments.len();
    store::add_assessment(conn, &claim.id, line, &claim.assessments[line - 1])
}

/// Makes `assessment` the claim's latest and keeps it in the claim's history.
fn keep_assessment(
    conn: &mut DbConnection,
    claim: &mut Claim,
    assessment: StoredAssessment,
    cause: &str,
    by: &str,
) -> AppResult<()> {
    adopt(claim, assessment, cause, by);
    write_last_assessment(conn, claim)
}

/// Assesses `claim` against the records as they are now (under the fund lock)
/// and keeps the assessment in its history.
fn reassess(
    conn: &mut DbConnection,
    lock: &FundLock,
    fund: &Fund,
    claim: &mut Claim,
    cause: &str,
    by: &str,
) -> AppResult<()> {
    let worker = worker_of(conn, claim)?;
    let versions = versions(conn, fund)?;
    let assessment = assess_now(conn, lock, fund, &versions, &worker, claim)?;
    keep_assessment(conn, claim, assessment, cause, by)
}

fn status_after_assessment(claim: &Claim) -> ClaimStatus {
    match claim.assessment.outcome {
        Outcome::PendingDocuments => ClaimStatus::PendingDocuments,
        _ if claim.appealed => ClaimStatus::Appealed,
        _ => ClaimStatus::Submitted,
    }
}

/// Why the latest assessment does not allow an award, if it doesn't.
fn not_eligible(claim: &Claim) -> Option<AppError> {
    match claim.assessment.outcome {
        Outcome::Eligible | Outcome::PartiallyEligible if claim.payable_minor > 0 => None,
        _ => {
            let reasons = &claim.assessment.reasons;
            Some(
                AppError::new(
                    ErrorCode::ClaimNotEligible,
                    format!(
                        "claim {} is not eligible on the records as they are now: {}",
                        claim.id,
                        reasons.join(", ")
                    ),
                )
                .with("reasons", reasons)
                .with("payable", format_minor(0, claim.currency)),
            )
        }
    }
}

fn exceeds_payable(claim: &Claim, amount: i64) -> AppError {
    let payable = claim.payable_minor;
    AppError::new(
        ErrorCode::DecisionExceedsPayable,
        format!(
            "{} is more than the payable {} on the records as they are now",
            format_minor(amount, claim.currency),
            format_minor(payable, claim.currency)
        ),
    )
    .with("payable", format_minor(payable, claim.currency))
    .with("reasons", &claim.assessment.reasons)
}

/// Whether the claim's decided award no longer stands on its latest assessment.
fn undermined(claim: &Claim) -> bool {
    let awarded = claim.decided_amount_minor.unwrap_or(0);
    not_eligible(claim).is_some() || awarded > claim.payable_minor
}

/// Submits a claim (and one claim per rider of its benefit) and assesses each.
pub fn submit(
    conn: &mut DbConnection,
    fund: &Fund,
    worker: &Worker,
    new: &NewClaim,
    created_by: &str,
) -> AppResult<(Claim, Vec<Claim>, Vec<NewEvent>)> {
    let checked = check_submission(conn, fund, worker, new, created_by)?;
    checked.write(conn, fund, worker)
}

/// A submission whose every refusal has been decided, nothing written yet: the
/// claim and its riders as filed, under the fund's lock. [`Submission::write`]
/// assesses and writes them, and can only fail, never refuse; so a group of
/// submissions booked in one transaction (`http::group`) refuses one without
/// touching its neighbours.
pub struct Submission {
    lock: FundLock,
    versions: Versions,
    /// The main claim first, then its riders.
    claims: Vec<Claim>,
}

/// Locks the fund and makes every check of [`submit`] that can refuse (a claim
/// already filed for the incident, beneficiaries, rider claimants), reading
/// only.
pub fn check_submission(
    conn: &mut DbConnection,
    fund: &Fund,
    worker: &Worker,
    new: &NewClaim,
    created_by: &str,
) -> AppResult<Submission> {
    let lock = lock_fund(conn, fund.id)?;
    let versions = versions(conn, fund)?;
    let riders: Vec<String> =
        crate::rules::evaluate::version_in_force(&versions, new.incident_date)
            .and_then(|(_, doc): &(String, RuleDocument)| {
                doc.benefits.iter().find(|b| b.code == new.benefit)
            })
            .map(|b| b.riders.clone())
            .unwrap_or_default();
    if payees::rules_for(&versions, &new.benefit, new.incident_date).is_some() {
        payees::already_filed(
            &store::of_worker(conn, &worker.id)?,
            &new.benefit,
            new.incident_date,
        )?;
    }
    let facts_of_worker = worker_facts(conn, worker)?;
    let main = filed(
        &versions,
        fund,
        worker,
        &facts_of_worker,
        new,
        None,
        created_by,
    )?;
    check_rider_claimants(new, &riders)?;
    let mut claims = Vec::new();
    for (rider, claimant) in rider_claims_of(new, &riders) {
        let rider_claim = NewClaim {
            benefit: rider,
            claimant,
            claimed_amount_minor: None,
            grade: None,
            beneficiaries: None,
            rider_claimants: Vec::new(),
            ..new.clone()
        };
        claims.push(filed(
            &versions,
            fund,
            worker,
            &facts_of_worker,
            &rider_claim,
            Some(&main.id),
            created_by,
        )?);
    }
    claims.insert(0, main);
    Ok(Submission {
        lock,
        versions,
        claims,
    })
}

impl Submission {
    /// Assesses each claim against the records as they are now (under the
    /// fund's lock, so a rider sees its main claim and a claim sees every claim
    /// written before it in the transaction) and writes it. Answers the main
    /// claim, its riders and their events.
    pub fn write(
        self,
        conn: &mut DbConnection,
        fund: &Fund,
        worker: &Worker,
    ) -> AppResult<(Claim, Vec<Claim>, Vec<NewEvent>)> {
        let mut events = Vec::new();
        let mut written = Vec::with_capacity(self.claims.len());
        for mut claim in self.claims {
            let assessment = assess_now(conn, &self.lock, fund, &self.versions, worker, &claim)?;
            let created_by = claim.created_by.clone();
            adopt(&mut claim, assessment, cause::SUBMITTED, &created_by);
            claim.status = status_after_assessment(&claim);
            // The claim row first: its assessment history and payees reference it.
            store::insert(conn, &claim)?;
            payees::insert(conn, &claim)?;
            write_last_assessment(conn, &claim)?;
            events.push(event(fund, event_kind::CLAIM_SUBMITTED, &claim));
            written.push(claim);
        }
        let main = written.remove(0);
        Ok((main, written, events))
    }
}

/// Each named rider claimant claims a rider of the benefit; else a 422 naming it.
fn check_rider_claimants(new: &NewClaim, riders: &[String]) -> AppResult<()> {
    let errors: Vec<FieldError> = new
        .rider_claimants
        .iter()
        .enumerate()
        .filter(|(_, r)| !riders.contains(&r.benefit))
        .map(|(i, r)| {
            FieldError::new(
                format!("/rider_claimants/{i}/benefit"),
                "not_a_rider",
                format!(
                    "{} is not a rider of {} under the rules in force on the incident date",
                    r.benefit, new.benefit
                ),
            )
        })
        .collect();
    match errors.is_empty() {
        true => Ok(()),
        false => Err(AppError::validation(errors)),
    }
}

/// The rider claims to submit with `new`: one per rider claimant named for a
/// rider, else one by the main claimant.
fn rider_claims_of(new: &NewClaim, riders: &[String]) -> Vec<(String, Claimant)> {
    riders
        .iter()
        .flat_map(|rider| {
            let named: Vec<Claimant> = new
                .rider_claimants
                .iter()
                .filter(|r| &r.benefit == rider)
                .map(|r| r.claimant.clone())
                .collect();
            let claimants = if named.is_empty() {
                vec![new.claimant.clone()]
            } else {
                named
            };
            claimants.into_iter().map(move |c| (rider.clone(), c))
        })
        .collect()
}

/// One claim (the main one or a rider) as filed, with its payees, not yet
/// assessed or written: a refusal here leaves nothing behind. Seven arguments:
/// the fund, its versions and the worker's facts are read once by
/// [`check_submission`] for the claim and all its riders.
fn filed(
    versions: &Versions,
    fund: &Fund,
    worker: &Worker,
    worker_facts: &WorkerFacts,
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
        status: ClaimStatus::Submitted,
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
        queued_at: None,
        documents: new.documents.clone(),
        approvals: Vec::new(),
        assessments: Vec::new(),
        payees: Vec::new(),
    };
    claim.payees = payees::for_new_claim(
        payees::rules_for(versions, &claim.benefit, claim.incident_date),
        &facts(&claim),
        worker_facts,
        worker,
        new.beneficiaries.as_deref(),
    )?;
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
fn fresh(conn: &mut DbConnection, fund: &Fund, id: &str) -> AppResult<(FundLock, Claim)> {
    let lock = lock_fund(conn, fund.id)?;
    Ok((lock, found(conn, id)?))
}

fn found(conn: &mut DbConnection, id: &str) -> AppResult<Claim> {
    store::find(conn, id)?.ok_or_else(|| AppError::not_found(format!("no claim {id}")))
}

fn worker_of(conn: &mut DbConnection, claim: &Claim) -> AppResult<Worker> {
    workers::find_worker(conn, &claim.worker_id)?
        .ok_or_else(|| AppError::internal("a claim's worker is missing"))
}

/// What arrives after filing: documents, the documented expense, the
/// disability grade (medical boards grade later).
#[derive(Debug, Clone, Default)]
pub struct Supplement {
    pub documents: Vec<(String, String)>,
    pub claimed_amount_minor: Option<i64>,
    pub grade: Option<String>,
}

/// Attaches documents (and the documented expense or the grade) and reassesses.
pub fn add_documents(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    supplement: &Supplement,
    by: &str,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let (lock, mut claim) = fresh(conn, fund, id)?;
    status::ensure_may(&claim.id, Action::AddDocuments, claim.status)?;
    let existing = claim.documents.len();
    claim.documents.extend(supplement.documents.iter().cloned());
    if supplement.claimed_amount_minor.is_some() {
        claim.claimed_amount_minor = supplement.claimed_amount_minor;
    }
    if supplement.grade.is_some() {
        claim.grade = supplement.grade.clone();
    }
    store::add_documents(conn, &claim.id, existing, &claim.documents)?;
    reassess(conn, &lock, fund, &mut claim, cause::DOCUMENTS, by)?;
    let next = status_after_assessment(&claim);
    claim.move_to(Action::AddDocuments, next)?;
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

impl DecisionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionOutcome::Approve => "approve",
            DecisionOutcome::PartiallyApprove => "partially_approve",
            DecisionOutcome::Reject => "reject",
        }
    }
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

/// The amount an award decision gives, checked against the payable amount of
/// the fresh assessment.
fn award_amount(claim: &Claim, decision: &Decision) -> AppResult<i64> {
    if let Some(refusal) = not_eligible(claim) {
        return Err(refusal);
    }
    let payable = claim.payable_minor;
    let amount = match decision.outcome {
        DecisionOutcome::Reject => unreachable!("rejections award nothing"),
        DecisionOutcome::Approve => decision.amount_minor.unwrap_or(payable),
        DecisionOutcome::PartiallyApprove => {
            let amount = decision.amount_minor.ok_or_else(|| {
                AppError::field("/amount", "required", "a partial approval names its amount")
            })?;
            if amount > payable {
                return Err(exceeds_payable(claim, amount));
            }
            if amount == payable {
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
        return Err(exceeds_payable(claim, amount));
    }
    if amount == 0 {
        return Err(AppError::field(
            "/amount",
            "not_positive",
            "an award is more than zero; reject the claim instead",
        ));
    }
    Ok(amount)
}

/// Reverses the expense booked when the claim was approved (a claim under
/// review rejected or reduced). Its entry keeps the claim as its source.
fn reverse_award(
    conn: &mut DbConnection,
    fund: &Fund,
    claim: &mut Claim,
    by: &str,
) -> AppResult<()> {
    let Some(entry_id) = claim.approval_entry_id.take() else {
        return Ok(());
    };
    let mut booking = Booking::open(conn, fund.id)?;
    reverse_entry(
        conn,
        &mut booking,
        Reversal {
            entry_id: &entry_id,
            only_kind: Some(APPROVAL_KIND),
            effective_date: crate::time::today(),
            memo: format!(
                "Reversal of the award to claim {} ({}) on review",
                claim.id, claim.benefit
            ),
            created_by: by,
            kind: AWARD_REVERSAL_KIND,
        },
    )?;
    booking.close(conn)?;
    claim.approved_at = None;
    instalments::forget(conn, &claim.id)?;
    Ok(())
}

/// An officer's decision, on a fresh assessment. Above the threshold an
/// entitlement waits for a second approver; a discretionary award waits for the
/// committee; otherwise approval is final and books the award. A claim under
/// review whose award was booked keeps that booking when the officer confirms
/// the same amount; rejecting or changing it reverses the booking first.
pub fn decide(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    decision: &Decision,
    decider: &Caller,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let (lock, mut claim) = fresh(conn, fund, id)?;
    let action = match decision.outcome {
        DecisionOutcome::Reject => Action::Reject,
        _ => Action::Award,
    };
    status::ensure_may(&claim.id, action, claim.status)?;
    if action == Action::Reject && decision.reasons.is_empty() {
        return Err(AppError::field(
            "/reasons",
            "required",
            "a rejection gives its reasons",
        ));
    }
    reassess(
        conn,
        &lock,
        fund,
        &mut claim,
        cause::DECISION,
        &decider.subject,
    )?;
    if let Some(paid) = payees::paid_minor(&claim) {
        let events = payees::decide_partly_paid(conn, fund, &mut claim, decision, decider, paid)?;
        return Ok((claim, events));
    }
    let amount = match action {
        Action::Reject => 0,
        _ => award_amount(&claim, decision)?,
    };
    let booked = claim
        .approval_entry_id
        .is_some()
        .then(|| claim.decided_amount_minor.unwrap_or(0));
    let mut events = Vec::new();
    if booked.is_some() && booked != Some(amount) {
        reverse_award(conn, fund, &mut claim, &decider.subject)?;
        payees::forget_split(conn, &mut claim)?;
        events.push(event(fund, event_kind::CLAIM_AWARD_REVERSED, &claim));
    }
    if claim.status == ClaimStatus::UnderReview {
        // A new decision: the approvals of the one under review no longer count.
        store::clear_approvals(conn, &claim.id)?;
        claim.approvals.clear();
    }
    record_decision(&mut claim, decision, decider, amount);
    if action == Action::Reject {
        claim.move_to(action, ClaimStatus::Rejected)?;
        store::update(conn, &claim)?;
        events.push(event(fund, event_kind::CLAIM_REJECTED, &claim));
        return Ok((claim, events));
    }
    if booked == Some(amount) {
        // Confirming the award already booked and approved: it stands again,
        // ranked from now.
        claim.approved_at = Some(crate::time::now());
        claim.move_to(action, approved_status(decision.outcome))?;
    } else {
        send_award_on(conn, fund, &mut claim, amount)?;
    }
    store::update(conn, &claim)?;
    events.push(event(fund, event_kind::CLAIM_DECIDED, &claim));
    if claim.approved_at.is_some() {
        events.push(event(fund, event_kind::CLAIM_APPROVED, &claim));
    }
    Ok((claim, events))
}

/// Writes the decision on the claim (in memory).
fn record_decision(claim: &mut Claim, decision: &Decision, decider: &Caller, amount: i64) {
    claim.decision_outcome = Some(decision.outcome.as_str().to_string());
    claim.decided_amount_minor = Some(amount);
    claim.decision_reasons = decision.reasons.clone();
    claim.decision_note = decision.note.clone();
    // The principal (issuer and subject), so four-eyes compares people, not spellings.
    claim.decided_by = Some(decider.principal().to_string());
    claim.decided_at = Some(crate::time::now());
}

/// Where a new award goes: to the committee (a discretionary benefit), to a
/// second approver (above the fund's threshold), or straight to approval,
/// which books it.
fn send_award_on(
    conn: &mut DbConnection,
    fund: &Fund,
    claim: &mut Claim,
    amount: i64,
) -> AppResult<()> {
    let (threshold, _) = approval_rules(conn, fund, claim)?;
    match claim.assessment.track {
        Some(Track::Discretionary) => claim.move_to(Action::Award, ClaimStatus::AwaitingCommittee),
        _ if amount > threshold => {
            claim.move_to(Action::Award, ClaimStatus::AwaitingSecondApproval)
        }
        _ => finalize(conn, fund, claim, Action::Award),
    }
}

fn approved_status(outcome: DecisionOutcome) -> ClaimStatus {
    if outcome == DecisionOutcome::PartiallyApprove {
        ClaimStatus::PartiallyApproved
    } else {
        ClaimStatus::Approved
    }
}

/// Final approval: books benefit expense against benefits payable.
fn finalize(
    conn: &mut DbConnection,
    fund: &Fund,
    claim: &mut Claim,
    action: Action,
) -> AppResult<()> {
    let amount = claim.decided_amount_minor.expect("decided");
    let mut booking = Booking::open(conn, fund.id)?;
    // One payable per payee (the whole award when the claimant alone is paid).
    let payables = payees::split_award(conn, claim, amount)?;
    let mut postings = vec![NewPosting {
        account: expense_account(&claim.benefit).to_string(),
        side: Side::Debit,
        amount_minor: amount,
        currency: claim.currency,
    }];
    postings.extend(payables.into_iter().map(|part| NewPosting {
        account: account_code::BENEFITS_PAYABLE.to_string(),
        side: Side::Credit,
        amount_minor: part,
        currency: claim.currency,
    }));
    let entry = booking.post(
        conn,
        NewEntry {
            effective_date: crate::time::today(),
            kind: APPROVAL_KIND,
            memo: format!("Award of {} to claim {}", claim.benefit, claim.id),
            source: Some(("claim".to_string(), claim.id.clone())),
            created_by: crate::auth::displayed_subject(
                claim.decided_by.as_deref().unwrap_or_default(),
            )
            .to_string(),
            reverses: None,
            postings,
        },
    )?;
    booking.close(conn)?;
    claim.approval_entry_id = Some(entry.id);
    claim.approved_at = Some(crate::time::now());
    instalments::schedule(conn, fund, claim)?;
    let outcome = match claim.decision_outcome.as_deref() {
        Some("partially_approve") => DecisionOutcome::PartiallyApprove,
        _ => DecisionOutcome::Approve,
    };
    claim.move_to(action, approved_status(outcome))
}

/// A second approval (above the threshold) or a committee member's approval, on
/// a fresh assessment: an award the records no longer allow is refused (and
/// [`review`] then sends the claim back to an officer).
pub fn approve(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    approver: &Caller,
    note: Option<String>,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let (lock, mut claim) = fresh(conn, fund, id)?;
    status::ensure_may(&claim.id, Action::Approve, claim.status)?;
    if claim.decided_by.as_deref().is_some_and(|d| approver.is(d)) {
        return Err(AppError::new(
            ErrorCode::SelfApproval,
            "the officer who decided may not approve their own decision",
        ));
    }
    if claim.approvals.iter().any(|a| approver.is(&a.0)) {
        return Err(AppError::new(
            ErrorCode::AlreadyApproved,
            format!("{} has already approved this claim", approver.subject),
        ));
    }
    reassess(
        conn,
        &lock,
        fund,
        &mut claim,
        cause::APPROVAL,
        &approver.subject,
    )?;
    if let Some(refusal) = not_eligible(&claim) {
        return Err(refusal);
    }
    let amount = claim.decided_amount_minor.unwrap_or(0);
    if amount > claim.payable_minor {
        return Err(exceeds_payable(&claim, amount));
    }
    store::add_approval(conn, &claim.id, approver.principal(), note.as_deref())?;
    claim
        .approvals
        .push((approver.principal().to_string(), note, crate::time::now()));
    let (_, committee_size) = approval_rules(conn, fund, &claim)?;
    let needed = if claim.status == ClaimStatus::AwaitingCommittee {
        committee_size as usize
    } else {
        1
    };
    let mut events = vec![event(fund, event_kind::CLAIM_APPROVAL_GIVEN, &claim)];
    if claim.approvals.len() >= needed {
        finalize(conn, fund, &mut claim, Action::Approve)?;
        events.push(event(fund, event_kind::CLAIM_APPROVED, &claim));
    }
    store::update(conn, &claim)?;
    Ok((claim, events))
}

/// After a decision or approval was refused as no longer allowed (its own
/// transaction rolled back): re-assesses the claim afresh under the fund lock and
/// keeps that assessment, so the claim shows what the officer now sees; a
/// decision waiting for approval that no longer stands goes back to an officer
/// (`under_review`). Returns `None` when the claim has moved on meanwhile or
/// its assessment is unchanged.
pub fn review(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    cause: &str,
    by: &str,
) -> AppResult<Option<(Claim, Vec<NewEvent>)>> {
    let (lock, mut claim) = fresh(conn, fund, id)?;
    let action = match claim.status {
        ClaimStatus::AwaitingSecondApproval | ClaimStatus::AwaitingCommittee => Action::Approve,
        ClaimStatus::Submitted | ClaimStatus::Appealed | ClaimStatus::UnderReview => Action::Award,
        _ => return Ok(None),
    };
    let worker = worker_of(conn, &claim)?;
    let versions = versions(conn, fund)?;
    let assessment = assess_now(conn, &lock, fund, &versions, &worker, &claim)?;
    if assessment == claim.assessment {
        // Nothing changed since the last assessment: the refusal was the request's own.
        return Ok(None);
    }
    keep_assessment(conn, &mut claim, assessment, cause, by)?;
    let mut events = vec![event(fund, event_kind::CLAIM_REASSESSED, &claim)];
    if action == Action::Approve && undermined(&claim) {
        claim.move_to(action, ClaimStatus::UnderReview)?;
        events.push(event(fund, event_kind::CLAIM_REVIEW_REQUIRED, &claim));
    }
    store::update(conn, &claim)?;
    Ok(Some((claim, events)))
}

/// A payment's date: no earlier than the approval, no later than today.
fn check_paid_on(claim: &Claim, paid_on: NaiveDate) -> AppResult<()> {
    let today = crate::time::today();
    let approved_on = claim.approved_at.map(|t| t.date());
    let problem = if paid_on > today {
        Some((
            "in_future",
            format!("a payment is dated today ({today}) or earlier"),
        ))
    } else {
        approved_on.filter(|a| paid_on < *a).map(|approved_on| {
            (
                "before_approval",
                format!(
                    "claim {} was approved on {approved_on}; its payment is dated on or after that",
                    claim.id
                ),
            )
        })
    };
    match problem {
        None => Ok(()),
        Some((code, message)) => Err(AppError::validation(vec![FieldError::new(
            "/paid_on", code, message,
        )])),
    }
}

/// Pays an approved claim from cash, on a fresh assessment. An award the records
/// no longer allow is not paid: the claim goes back to an officer
/// (`under_review`). A claim does not overtake claims already waiting for funds:
/// it joins the queue behind them. When cash would go below zero as of any date
/// from `paid_on` on, it waits for funds.
pub fn pay(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    paid_on: NaiveDate,
    payee_reference: Option<String>,
    by: &str,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let mut booking = Booking::open(conn, fund.id)?;
    let mut claim = found(conn, id)?;
    status::ensure_may(&claim.id, Action::Pay, claim.status)?;
    check_paid_on(&claim, paid_on)?;
    claim.payee_reference = payee_reference.or(claim.payee_reference.clone());
    // Claims are paid in the fund's currency, so the fund's queue is the
    // currency's: a claim not at its head would overtake the claims before it.
    let head = store::head_of_queue(conn, fund.id)?;
    let events = if head.is_some_and(|h| h != claim.id) {
        reassess(conn, booking.lock(), fund, &mut claim, cause::PAYMENT, by)?;
        if undermined(&claim) {
            send_to_review(fund, &mut claim, Action::Pay)?
        } else {
            queue_for_funds(fund, &mut claim, Action::Pay)?
        }
    } else {
        pay_in(
            conn,
            &mut booking,
            fund,
            &mut claim,
            paid_on,
            by,
            Action::Pay,
        )?
    };
    store::update(conn, &claim)?;
    booking.close(conn)?;
    Ok((claim, events))
}

fn send_to_review(fund: &Fund, claim: &mut Claim, action: Action) -> AppResult<Vec<NewEvent>> {
    claim.move_to(action, ClaimStatus::UnderReview)?;
    claim.queued_at = None;
    Ok(vec![event(fund, event_kind::CLAIM_REVIEW_REQUIRED, claim)])
}

fn queue_for_funds(fund: &Fund, claim: &mut Claim, action: Action) -> AppResult<Vec<NewEvent>> {
    if claim.status == ClaimStatus::AwaitingFunds {
        return Ok(Vec::new());
    }
    claim.move_to(action, ClaimStatus::AwaitingFunds)?;
    claim.queued_at = Some(crate::time::now());
    Ok(vec![event(fund, event_kind::CLAIM_AWAITING_FUNDS, claim)])
}

/// The entry paying `amount` of a claim's award: benefits payable to cash.
fn payment_entry(
    claim: &Claim,
    amount: i64,
    memo: String,
    paid_on: NaiveDate,
    by: &str,
) -> NewEntry {
    NewEntry {
        effective_date: paid_on,
        kind: PAYMENT_KIND,
        memo,
        source: Some(("claim".to_string(), claim.id.clone())),
        created_by: by.to_string(),
        reverses: None,
        postings: vec![
            NewPosting {
                account: account_code::BENEFITS_PAYABLE.to_string(),
                side: Side::Debit,
                amount_minor: amount,
                currency: claim.currency,
            },
            NewPosting {
                account: account_code::CASH.to_string(),
                side: Side::Credit,
                amount_minor: amount,
                currency: claim.currency,
            },
        ],
    }
}

/// Re-assesses and pays one claim inside an open booking; the caller writes
/// the claim.
fn pay_in(
    conn: &mut DbConnection,
    booking: &mut Booking,
    fund: &Fund,
    claim: &mut Claim,
    paid_on: NaiveDate,
    by: &str,
    action: Action,
) -> AppResult<Vec<NewEvent>> {
    let cause = match action {
        Action::PaymentRun => cause::PAYMENT_RUN,
        _ => cause::PAYMENT,
    };
    reassess(conn, booking.lock(), fund, claim, cause, by)?;
    if undermined(claim) {
        return send_to_review(fund, claim, action);
    }
    if !claim.payees.is_empty() {
        return payees::pay(conn, booking, fund, claim, paid_on, by, action);
    }
    let amount = claim
        .decided_amount_minor
        .expect("approved claims have an amount");
    let memo = format!("Payment of claim {} ({})", claim.id, claim.benefit);
    let entry = payment_entry(claim, amount, memo, paid_on, by);
    match booking.prepare(conn, entry) {
        Ok(prepared) => {
            let entry = booking.commit(conn, prepared)?;
            claim.payment_entry_id = Some(entry.id);
            claim.paid_on = Some(paid_on);
            claim.queued_at = None;
            claim.move_to(action, ClaimStatus::Paid)?;
            instalments::first_paid(conn, claim)?;
            Ok(vec![event(fund, event_kind::CLAIM_PAID, claim)])
        }
        Err(e) if e.code() == ErrorCode::InsufficientFunds => queue_for_funds(fund, claim, action),
        Err(e) => Err(e),
    }
}

/// What a payment run did.
#[derive(Debug)]
pub struct PaymentRun {
    /// Claims paid, in queue order.
    pub paid: Vec<Claim>,
    /// Claims still waiting for funds.
    pub waiting: Vec<Claim>,
    /// The instalments it looked at (paid, still due with their reasons, or lapsed).
    pub instalments: Vec<instalments::Instalment>,
    pub events: Vec<NewEvent>,
}

/// Pays claims waiting for funds, in queue order, while cash lasts; stops at
/// the first that cash does not cover (as of any date from `paid_on` on), so
/// none is overtaken. Each claim is re-assessed first; one whose award no
/// longer stands goes back to an officer and the run goes on. Then the
/// instalments due on or before `paid_on` ([`instalments::pay_due`]).
pub fn payment_run(
    conn: &mut DbConnection,
    fund: &Fund,
    paid_on: NaiveDate,
    by: &str,
) -> AppResult<PaymentRun> {
    let mut booking = Booking::open(conn, fund.id)?;
    let queue = store::awaiting_funds(conn, fund.id)?;
    for claim in &queue {
        check_paid_on(claim, paid_on)?;
    }
    let mut paid = Vec::new();
    let mut waiting = Vec::new();
    let mut events = Vec::new();
    let mut stopped = false;
    for mut claim in queue {
        if stopped {
            waiting.push(claim);
            continue;
        }
        events.extend(pay_in(
            conn,
            &mut booking,
            fund,
            &mut claim,
            paid_on,
            by,
            Action::PaymentRun,
        )?);
        store::update(conn, &claim)?;
        match claim.status {
            ClaimStatus::Paid => paid.push(claim),
            ClaimStatus::UnderReview => {}
            _ => {
                stopped = true;
                waiting.push(claim);
            }
        }
    }
    let (instalments, instalment_events) =
        instalments::pay_due(conn, &mut booking, fund, paid_on, by, stopped)?;
    events.extend(instalment_events);
    booking.close(conn)?;
    Ok(PaymentRun {
        paid,
        waiting,
        instalments,
        events,
    })
}

/// Withdrawal by the claimant, before a decision.
pub fn withdraw(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let (_lock, mut claim) = fresh(conn, fund, id)?;
    status::ensure_may(&claim.id, Action::Withdraw, claim.status)?;
    claim.move_to(Action::Withdraw, ClaimStatus::Withdrawn)?;
    store::update(conn, &claim)?;
    Ok((
        claim.clone(),
        vec![event(fund, event_kind::CLAIM_WITHDRAWN, &claim)],
    ))
}

/// The one appeal of a rejection: the claim is assessed again and awaits a new decision.
pub fn appeal(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    by: &str,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let (lock, mut claim) = fresh(conn, fund, id)?;
    status::ensure_may(&claim.id, Action::Appeal, claim.status)?;
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
    reassess(conn, &lock, fund, &mut claim, cause::APPEAL, by)?;
    let next = status_after_assessment(&claim);
    claim.move_to(Action::Appeal, next)?;
    store::update(conn, &claim)?;
    Ok((
        claim.clone(),
        vec![event(fund, event_kind::CLAIM_APPEALED, &claim)],
    ))
}

//! Claim routes: submit, read, list, documents, decision, approvals, payment,
//! payment runs, withdrawal, appeal.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::request_id;
use super::extract::Query;
use super::group;
use super::page::PageRequest;
use super::workers::{of_own_worker, worker_in_scope, WorkerRecordsQuery};
use super::write::{in_fund, Done, Mutation};
use super::{fund_in_scope, read, AppState, Page};
use crate::audit::events::NewEvent;
use crate::auth::{Act, Caller};
use crate::claims::assess::{Claimant, Outcome};
use crate::claims::{
    self, AssessmentRecord, Claim, ClaimFilter, ClaimStatus, Decision, DecisionOutcome, NewClaim,
    StoredAssessment, Supplement,
};
use crate::db::DbConnection;
use crate::envelope::{Envelope, Sealed};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::funds::Fund;
use crate::money::{format_minor, to_minor, Currency, DecimalString};
use crate::rules::document::{Phase, Relationship};
use crate::workers::Worker;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(submit_claim)
        .service(list_worker_claims)
        .service(get_claim)
        .service(list_claims)
        .service(add_claim_documents)
        .service(decide_claim)
        .service(approve_claim)
        .service(pay_claim)
        .service(payment_run)
        .service(withdraw_claim)
        .service(appeal_claim);
}

const MAX_DOCUMENTS: usize = 50;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"relationship": "spouse", "dependant_id": "0193b0c4-7f40-7c63-9e51-4da08f3c6b92"}))]
pub struct ClaimantRequest {
    /// `worker`, `spouse`, `child`, `parent`, `sibling` or `other`.
    pub relationship: Relationship,
    /// The dependant claiming, as registered on the worker (absent when the worker claims).
    #[schema(format = Uuid)]
    pub dependant_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"type": "DEATH_CERTIFICATE", "reference": "DC-2026-004211"}))]
pub struct DocumentRequest {
    /// A document type the benefit asks for (`DEATH_CERTIFICATE`).
    #[serde(rename = "type")]
    #[schema(max_length = 64)]
    pub document_type: String,
    /// Where the document is kept (a file number, a scan's id).
    #[schema(max_length = 200)]
    pub reference: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"benefit": "DEATH_NATURAL", "incident_date": "2026-06-15", "incident_phase": "abroad", "filed_on": "2026-06-20", "claimant": {"relationship": "spouse", "dependant_id": "0193b0c4-7f40-7c63-9e51-4da08f3c6b92"}, "claimed_amount": "300000.00", "grade": "1", "documents": [{"type": "DEATH_CERTIFICATE", "reference": "DC-2026-004211"}, {"type": "PROOF_OF_RELATIONSHIP", "reference": "MC-1998-0042"}, {"type": "CLAIMANT_ID", "reference": "ID-22334455"}], "description": "Died of a heart attack in Riyadh"}))]
pub struct ClaimRequest {
    /// A benefit code of the rules in force on the incident date.
    #[schema(example = "DEATH_NATURAL")]
    pub benefit: String,
    #[serde(deserialize_with = "crate::date::strict")]
    pub incident_date: NaiveDate,
    /// `before_departure`, `abroad`, `home_on_leave` or `after_return`.
    pub incident_phase: Phase,
    /// The day the claim was lodged (perhaps at an embassy); today when absent.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub filed_on: Option<NaiveDate>,
    pub claimant: ClaimantRequest,
    /// The documented expense, for reimbursement benefits (fund currency).
    pub claimed_amount: Option<DecimalString>,
    /// A key of the benefit's `grades` (`"2"`), for schedule benefits; may also be
    /// given later with the documents (medical boards grade later).
    #[schema(max_length = 16)]
    pub grade: Option<String>,
    #[serde(default)]
    pub documents: Vec<DocumentRequest>,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Who the claim pays, for a benefit with `beneficiaries`: registered
    /// dependants of the class of heirs that takes (or the estate), their
    /// shares and a minor's guardian. Absent: the class that takes, in equal
    /// shares (a minor's guardian being the claimant).
    pub beneficiaries: Option<Vec<super::payees::BeneficiaryRequest>>,
    /// Riders claimed by someone other than `claimant` (a scholarship for each
    /// child of a deceased worker): one rider claim per entry.
    #[serde(default)]
    pub rider_claimants: Vec<super::instalments::RiderClaimantRequest>,
}

pub(super) fn documents(
    items: &[DocumentRequest],
    at: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<(String, String)> {
    if items.len() > MAX_DOCUMENTS {
        errors.push(FieldError::new(
            at,
            "too_many",
            format!("at most {MAX_DOCUMENTS} documents"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let ok = !d.document_type.is_empty()
                && d.document_type.len() <= 64
                && d.document_type
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                errors.push(FieldError::new(
                    format!("{at}/{i}/type"),
                    "invalid_format",
                    "upper-case letters, digits or '_'",
                ));
            }
            if d.reference.trim().is_empty() || d.reference.chars().count() > 200 {
                errors.push(
                    FieldError::new(
                        format!("{at}/{i}/reference"),
                        "invalid_length",
                        "must be 1 to 200 characters",
                    )
                    .with_limit(200),
                );
            }
            (d.document_type.clone(), d.reference.trim().to_string())
        })
        .collect()
}

fn claimed(
    amount: &Option<DecimalString>,
    currency: Currency,
    errors: &mut Vec<FieldError>,
) -> Option<i64> {
    amount.as_ref().and_then(|a| {
        to_minor(a.0, currency)
            .map_err(|e| errors.push(FieldError::money("/claimed_amount", &e)))
            .ok()
    })
}

const MAX_GRADE: usize = 16;

fn check_grade(grade: &Option<String>, errors: &mut Vec<FieldError>) {
    if grade
        .as_ref()
        .is_some_and(|g| g.is_empty() || g.chars().count() > MAX_GRADE)
    {
        errors.push(
            FieldError::new(
                "/grade",
                "invalid_length",
                format!("must be 1 to {MAX_GRADE} characters"),
            )
            .with_limit(MAX_GRADE),
        );
    }
}

impl ClaimRequest {
    fn validate(&self, fund: &Fund, dependants: &[String]) -> AppResult<NewClaim> {
        let mut errors = Vec::new();
        let today = crate::time::today();
        let filed_on = self.filed_on.unwrap_or(today);
        check_claim_dates(self.incident_date, filed_on, today, &mut errors);
        check_benefit_code(&self.benefit, &mut errors);
        check_claimant(&self.claimant, dependants, &mut errors);
        let claimed_amount_minor = claimed(&self.claimed_amount, fund.currency, &mut errors);
        check_grade(&self.grade, &mut errors);
        let documents = documents(&self.documents, "/documents", &mut errors);
        let beneficiaries = self
            .beneficiaries
            .as_ref()
            .map(|items| super::payees::parse_beneficiaries(items, &mut errors));
        let rider_claimants =
            super::instalments::rider_claimants(&self.rider_claimants, dependants, &mut errors);
        if self
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 2000)
        {
            errors.push(
                FieldError::new("/description", "too_long", "at most 2000 characters")
                    .with_limit(2000),
            );
        }
        if !errors.is_empty() {
            return Err(AppError::validation(errors));
        }
        Ok(NewClaim {
            benefit: self.benefit.clone(),
            incident_date: self.incident_date,
            incident_phase: self.incident_phase,
            filed_on,
            claimant: Claimant {
                relationship: self.claimant.relationship,
                dependant_id: self.claimant.dependant_id.clone(),
            },
            claimed_amount_minor,
            grade: self.grade.clone(),
            documents,
            description: self.description.clone(),
            beneficiaries,
            rider_claimants,
        })
    }
}

/// A claim is filed no later than today, and its incident no later than its filing.
fn check_claim_dates(
    incident_date: NaiveDate,
    filed_on: NaiveDate,
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) {
    if filed_on > today {
        errors.push(FieldError::new(
            "/filed_on",
            "in_future",
            "must not be in the future",
        ));
    }
    if incident_date > filed_on {
        errors.push(FieldError::new(
            "/incident_date",
            "after_filing",
            "must not be after filed_on",
        ));
    }
}

/// The benefit's code has the form of a code (whether the rules have it is
/// the assessment's `BENEFIT_NOT_COVERED`).
fn check_benefit_code(benefit: &str, errors: &mut Vec<FieldError>) {
    let code_ok = !benefit.is_empty()
        && benefit.len() <= 64
        && benefit
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !code_ok {
        errors.push(FieldError::new(
            "/benefit",
            "invalid_format",
            "a benefit code: upper-case letters, digits or '_'",
        ));
    }
}

/// The worker claims without a dependant; anyone else names a dependant
/// registered on the worker (one of `dependants`).
fn check_claimant(claimant: &ClaimantRequest, dependants: &[String], errors: &mut Vec<FieldError>) {
    match (&claimant.relationship, &claimant.dependant_id) {
        (Relationship::Worker, Some(_)) => errors.push(FieldError::new(
            "/claimant/dependant_id",
            "not_applicable",
            "the worker claims for themselves",
        )),
        (Relationship::Worker, None) => {}
        (_, None) => errors.push(FieldError::new(
            "/claimant/dependant_id",
            "required",
            "name the dependant who claims",
        )),
        (_, Some(id)) if !dependants.contains(id) => errors.push(FieldError::new(
            "/claimant/dependant_id",
            "unknown_dependant",
            "is not a dependant registered on the worker",
        )),
        _ => {}
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckResponse {
    pub check: String,
    pub passed: bool,
    #[schema(required = true, value_type = Option<crate::claims::assess::ReasonCode>)]
    pub reason: Option<String>,
    #[schema(required = true)]
    pub detail: Option<String>,
}

/// The assessment against the rules in force on the incident date.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssessmentResponse {
    #[schema(required = true)]
    pub rule_version: Option<String>,
    pub outcome: Outcome,
    /// What may be awarded: the benefit's amount reduced by caps; 0 when ineligible.
    #[schema(value_type = crate::money::DecimalString)]
    pub payable: String,
    /// The benefit's amount before caps.
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    /// Every check, with the reason code of each failure.
    pub checks: Vec<CheckResponse>,
    #[schema(value_type = Vec<crate::claims::assess::ReasonCode>)]
    pub reasons: Vec<String>,
    pub missing_documents: Vec<String>,
}

/// One assessment in the claim's history: what the officer saw, when and why.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssessmentHistoryResponse {
    #[schema(format = DateTime)]
    pub assessed_at: String,
    /// Why the claim was assessed: `submitted`, `documents`, `decision`, `approval`,
    /// `payment`, `payment_run`, `appeal` or `beneficiary` (an heir joined).
    pub trigger: String,
    /// Who made the request that caused it.
    pub assessed_by: String,
    #[schema(required = true)]
    pub rule_version: Option<String>,
    pub outcome: Outcome,
    #[schema(value_type = crate::money::DecimalString)]
    pub payable: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    #[schema(value_type = Vec<crate::claims::assess::ReasonCode>)]
    pub reasons: Vec<String>,
}

/// Why a claim is under review: the decision no longer stands on the records as
/// they are now, and waits for an officer's new decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewResponse {
    /// Reason codes of the re-assessment that undermined the decision.
    pub reasons: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RiderResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub benefit: String,
    pub status: ClaimStatus,
    pub assessment: AssessmentResponse,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionResponse {
    #[schema(value_type = crate::claims::DecisionOutcome)]
    pub outcome: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    pub reasons: Vec<String>,
    #[schema(required = true)]
    pub note: Option<String>,
    pub decided_by: String,
    #[schema(format = DateTime)]
    pub decided_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApprovalResponse {
    pub approver: String,
    #[schema(required = true)]
    pub note: Option<String>,
    #[schema(format = DateTime)]
    pub approved_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentResponse {
    pub paid_on: NaiveDate,
    #[schema(required = true)]
    pub payee_reference: Option<String>,
    #[schema(format = Uuid)]
    pub journal_entry_id: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClaimDocumentResponse {
    #[serde(rename = "type")]
    pub document_type: String,
    pub reference: String,
}

/// A claim with its assessment, decision, approvals and payment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "01a24cf6-efa0-705d-a12f-66241f7d28f6", "fund": "KE-MWF", "worker_id": "01a24cf6-ef49-7603-96a4-c8763bd474f9", "benefit": "DEATH_NATURAL", "rider_of": null, "riders": [{"id": "01a24cf6-efa1-71ab-abdd-cc47e9114e79", "benefit": "REPATRIATION_OF_REMAINS", "status": "pending_documents", "assessment": {"rule_version": "KE-MWF-2026", "outcome": "pending_documents", "payable": "0.00", "amount": "0.00", "checks": [{"check": "rules_in_force", "passed": true, "reason": null, "detail": null}, {"check": "amount", "passed": false, "reason": "CLAIMED_AMOUNT_REQUIRED", "detail": "a reimbursement needs the documented expense as claimed_amount"}, {"check": "documents", "passed": false, "reason": "MISSING_DOCUMENTS", "detail": "missing: TRANSPORT_RECEIPTS"}], "reasons": ["CLAIMED_AMOUNT_REQUIRED", "MISSING_DOCUMENTS"], "missing_documents": ["TRANSPORT_RECEIPTS"]}}], "incident_date": "2026-06-15", "incident_phase": "abroad", "filed_on": "2026-06-20", "claimant_relationship": "spouse", "dependant_id": "01a24cf6-ef49-7603-96a4-c87793ae8033", "claimed_amount": "300000.00", "grade": "1", "description": "Died of a heart attack in Riyadh", "documents": [{"type": "DEATH_CERTIFICATE", "reference": "DC-2026-004211"}, {"type": "PROOF_OF_RELATIONSHIP", "reference": "MC-1998-0042"}, {"type": "CLAIMANT_ID", "reference": "ID-22334455"}], "currency": "KES", "status": "awaiting_second_approval", "assessment": {"rule_version": "KE-MWF-2026", "outcome": "eligible", "payable": "300000.00", "amount": "300000.00", "checks": [{"check": "rules_in_force", "passed": true, "reason": null, "detail": null}, {"check": "active_membership", "passed": true, "reason": null, "detail": null}, {"check": "documents", "passed": true, "reason": null, "detail": null}], "reasons": [], "missing_documents": []}, "assessments": [{"assessed_at": "2026-12-06T20:06:21.344988Z", "trigger": "submitted", "assessed_by": "officer.njeri", "rule_version": "KE-MWF-2026", "outcome": "eligible", "payable": "300000.00", "amount": "300000.00", "reasons": []}, {"assessed_at": "2026-12-06T20:06:21.351663Z", "trigger": "decision", "assessed_by": "officer.njeri", "rule_version": "KE-MWF-2026", "outcome": "eligible", "payable": "300000.00", "amount": "300000.00", "reasons": []}], "review": null, "queued_at": null, "decision": {"outcome": "approve", "amount": "300000.00", "reasons": [], "note": "Documents verified with the embassy", "decided_by": "officer.njeri", "decided_at": "2026-12-06T20:06:21.351743Z"}, "approvals": [], "approval_entry_id": null, "approved_at": null, "payment": null, "payees": [], "appealed": false, "created_at": "2026-12-06T20:06:21.344055Z", "created_by": "officer.njeri"}))]
pub struct ClaimResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub fund: String,
    #[schema(format = Uuid)]
    pub worker_id: String,
    pub benefit: String,
    /// The main claim, when this claim is a rider of it.
    #[schema(required = true, format = Uuid)]
    pub rider_of: Option<String>,
    pub riders: Vec<RiderResponse>,
    pub incident_date: NaiveDate,
    pub incident_phase: Phase,
    pub filed_on: NaiveDate,
    pub claimant_relationship: Relationship,
    #[schema(required = true, format = Uuid)]
    pub dependant_id: Option<String>,
    #[schema(required = true, value_type = Option<crate::money::DecimalString>)]
    pub claimed_amount: Option<String>,
    #[schema(required = true)]
    pub grade: Option<String>,
    #[schema(required = true)]
    pub description: Option<String>,
    pub documents: Vec<ClaimDocumentResponse>,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// Where the claim stands (README, "Claim statuses").
    pub status: ClaimStatus,
    /// The latest assessment, made at the last action on the claim.
    pub assessment: AssessmentResponse,
    /// Every assessment, oldest first: the claim is assessed again at every
    /// decision, approval, payment, payment run, document and appeal.
    pub assessments: Vec<AssessmentHistoryResponse>,
    /// Present while the claim is `under_review`.
    #[schema(required = true)]
    pub review: Option<ReviewResponse>,
    /// When the claim joined the queue of claims waiting for funds.
    #[schema(required = true, format = DateTime)]
    pub queued_at: Option<String>,
    #[schema(required = true)]
    pub decision: Option<DecisionResponse>,
    pub approvals: Vec<ApprovalResponse>,
    /// The final approval's journal entry (benefit expense against benefits payable).
    #[schema(required = true, format = Uuid)]
    pub approval_entry_id: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub approved_at: Option<String>,
    /// The payment: for a claim with payees, the last payee's (each payee's is in `payees`).
    #[schema(required = true)]
    pub payment: Option<PaymentResponse>,
    /// Who the claim pays when its benefit has `beneficiaries`, with their
    /// shares, parts and payments; empty otherwise (the claimant is paid).
    pub payees: Vec<super::payees::PayeeResponse>,
    pub appealed: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
    /// The schedule, when the benefit is paid in instalments and the claim was approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub instalments: Option<super::instalments::InstalmentScheduleResponse>,
}

fn history_response(r: &AssessmentRecord, currency: Currency) -> AssessmentHistoryResponse {
    let a = &r.assessment;
    AssessmentHistoryResponse {
        assessed_at: crate::time::rfc3339(r.assessed_at),
        trigger: r.cause.clone(),
        assessed_by: r.assessed_by.clone(),
        rule_version: a.rule_version.clone(),
        outcome: a.outcome,
        payable: format_minor(a.payable_minor, currency),
        amount: format_minor(a.amount_minor, currency),
        reasons: a.reasons.clone(),
    }
}

fn assessment_response(c: &Claim) -> AssessmentResponse {
    let a: &StoredAssessment = &c.assessment;
    AssessmentResponse {
        rule_version: a.rule_version.clone(),
        outcome: a.outcome,
        payable: format_minor(a.payable_minor, c.currency),
        amount: format_minor(a.amount_minor, c.currency),
        checks: a
            .checks
            .iter()
            .map(|k| CheckResponse {
                check: k.check.clone(),
                passed: k.passed,
                reason: k.reason.clone(),
                detail: k.detail.clone(),
            })
            .collect(),
        reasons: a.reasons.clone(),
        missing_documents: a.missing_documents.clone(),
    }
}

fn claim_response(c: Claim, fund_code: &str, riders: Vec<Claim>) -> ClaimResponse {
    let cur = c.currency;
    ClaimResponse {
        assessment: assessment_response(&c),
        riders: riders.iter().map(rider_response).collect(),
        decision: decision_response(&c),
        approvals: c
            .approvals
            .iter()
            .map(|(approver, note, at)| ApprovalResponse {
                approver: crate::auth::displayed_subject(approver).to_string(),
                note: note.clone(),
                approved_at: crate::time::rfc3339(*at),
            })
            .collect(),
        payment: payment_response(&c),
        payees: c
            .payees
            .iter()
            .map(|p| super::payees::payee_response(p, cur))
            .collect(),
        documents: c
            .documents
            .iter()
            .map(|(t, r)| ClaimDocumentResponse {
                document_type: t.clone(),
                reference: r.clone(),
            })
            .collect(),
        assessments: c
            .assessments
            .iter()
            .map(|r| history_response(r, cur))
            .collect(),
        review: c.review_reasons().map(|reasons| ReviewResponse { reasons }),
        queued_at: c.queued_at.map(crate::time::rfc3339),
        claimed_amount: c.claimed_amount_minor.map(|m| format_minor(m, cur)),
        approved_at: c.approved_at.map(crate::time::rfc3339),
        approval_entry_id: c.approval_entry_id.clone(),
        created_at: crate::time::rfc3339(c.created_at),
        currency: cur.code().to_string(),
        fund: fund_code.to_string(),
        id: c.id,
        worker_id: c.worker_id,
        benefit: c.benefit,
        rider_of: c.rider_of,
        incident_date: c.incident_date,
        incident_phase: c.incident_phase,
        filed_on: c.filed_on,
        claimant_relationship: c.claimant_relationship,
        dependant_id: c.dependant_id,
        grade: c.grade,
        description: c.description,
        status: c.status,
        appealed: c.appealed,
        created_by: c.created_by,
        instalments: None,
    }
}

fn rider_response(r: &Claim) -> RiderResponse {
    RiderResponse {
        id: r.id.clone(),
        benefit: r.benefit.clone(),
        status: r.status,
        assessment: assessment_response(r),
    }
}

/// The decision, once an officer has made one.
fn decision_response(c: &Claim) -> Option<DecisionResponse> {
    match (&c.decision_outcome, &c.decided_by, c.decided_at) {
        (Some(outcome), Some(by), Some(at)) => Some(DecisionResponse {
            outcome: outcome.clone(),
            amount: format_minor(c.decided_amount_minor.unwrap_or(0), c.currency),
            reasons: c.decision_reasons.clone(),
            note: c.decision_note.clone(),
            decided_by: crate::auth::displayed_subject(by).to_string(),
            decided_at: crate::time::rfc3339(at),
        }),
        _ => None,
    }
}

/// The payment, once the claim is paid.
fn payment_response(c: &Claim) -> Option<PaymentResponse> {
    match (c.paid_on, &c.payment_entry_id) {
        (Some(paid_on), Some(entry)) => Some(PaymentResponse {
            paid_on,
            payee_reference: c.payee_reference.clone(),
            journal_entry_id: entry.clone(),
        }),
        _ => None,
    }
}

fn full_response(conn: &mut DbConnection, claim: Claim, fund: &Fund) -> AppResult<ClaimResponse> {
    let riders = claims::riders_of(conn, &claim.id)?;
    let instalments = super::instalments::schedule_of(conn, &claim.id)?;
    Ok(ClaimResponse {
        instalments,
        ..claim_response(claim, &fund.code, riders)
    })
}

/// The claim with `id` if the caller's token covers its fund and, for a
/// `worker` token, it is a claim of its own worker (else 404), and the fund.
pub(super) fn claim_in_scope(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> AppResult<(Claim, Fund)> {
    let missing = || AppError::not_found(format!("no claim {id}"));
    let claim = claims::find(conn, id)?.ok_or_else(missing)?;
    if !of_own_worker(conn, caller, &claim.worker_id)? {
        return Err(missing());
    }
    let code = crate::funds::fund_code(conn, claim.fund_id)?;
    let fund = fund_in_scope(conn, caller, &code).map_err(|_| missing())?;
    Ok((claim, fund))
}

/// What the audit log says a claim action did: the claim and the status it
/// left it in, with the reasons when it went back to an officer
/// (`claim 0193… under_review MEMBERSHIP_INACTIVE`).
fn audit_target(claim: &Claim) -> String {
    match claim.review_reasons() {
        Some(reasons) => format!("claim {} {} {}", claim.id, claim.status, reasons.join(",")),
        None => format!("claim {} {}", claim.id, claim.status),
    }
}

/// Runs a change of one claim: scope check, the service call, the full claim as the answer.
pub(super) async fn claim_action<T, F>(
    mutation: Mutation,
    req: &HttpRequest,
    id: String,
    body: web::Bytes,
    change: F,
) -> AppResult<HttpResponse>
where
    T: serde::de::DeserializeOwned + Send + 'static,
    F: FnOnce(&mut DbConnection, &Caller, &Fund, &str, T) -> AppResult<(Claim, Vec<NewEvent>)>
        + Send
        + 'static,
{
    mutation
        .run(req, body, move |conn, caller, input: T| {
            let (_, fund) = claim_in_scope(conn, caller, &id)?;
            in_fund(&fund.code, || {
                let (claim, events) = change(conn, caller, &fund, &id, input)?;
                Ok(
                    Done::ok(audit_target(&claim), full_response(conn, claim, &fund)?)
                        .with_events(events),
                )
            })
        })
        .await
}

/// After a decision or approval was refused because the records no longer allow
/// it (its transaction rolled back), keeps a fresh assessment in its own
/// transaction so the claim shows what the officer now sees, and sends a decision
/// waiting for approval back to an officer (`under_review`). The refusal is the
/// answer either way; a failure here is logged, not answered.
async fn keep_fresh_assessment(
    state: web::Data<AppState>,
    caller: Caller,
    request_id: String,
    id: String,
    cause: &'static str,
    refusal: AppError,
) -> AppError {
    if !matches!(
        refusal.code(),
        ErrorCode::ClaimNotEligible | ErrorCode::DecisionExceedsPayable
    ) {
        return refusal;
    }
    let kept = web::block(move || -> AppResult<()> {
        let mut conn = state.pool.get()?;
        crate::db::write_transaction(&mut conn, |conn| {
            let (_, fund) = claim_in_scope(conn, &caller, &id)?;
            let Some((claim, events)) = claims::review(conn, &fund, &id, cause, &caller.subject)?
            else {
                return Ok(());
            };
            // Not an act of the caller's but a consequence of one: audited
            // under its own action, with the refused request's id.
            let envelope = Envelope {
                caller,
                action: "claim.reassess",
                fund_code: Some(fund.code.clone()),
                request_id,
                keyed: None,
            };
            let done = Done::ok(audit_target(&claim), ()).with_events(events);
            envelope.seal(conn, done).map(drop)
        })
    })
    .await;
    match kept {
        Ok(Ok(())) => {}
        Ok(Err(e)) => log::error!("could not keep the fresh assessment of a refused decision: {e}"),
        Err(e) => log::error!("could not keep the fresh assessment of a refused decision: {e}"),
    }
    refusal
}

/// Submit a claim for a worker (admin, officer, ministry; a `worker` token for its
/// holder only); riders of the benefit are claimed with it, each assessed on its own.
#[utoipa::path(
    tag = "claims",
    request_body = ClaimRequest,
    params(("id" = uuid::Uuid, Path, description = "Worker id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "Submitted and assessed", body = ClaimResponse),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/workers/{id}/claims")]
pub async fn submit_claim(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let worker_id = path.into_inner();
    let committer = state.claim_committer.clone();
    Mutation::new(&req, state, caller, Act::SubmitClaim)
        .run_grouped(
            &req,
            body,
            |_, input: ClaimRequest| Ok(ClaimSubmission { worker_id, input }),
            |envelope, submission| committer.submit(envelope, submission),
        )
        .await
}

/// A claim to submit: the worker of the path and the request as parsed. Every
/// check that reads the database is made by the committer, in the group's
/// transaction.
pub struct ClaimSubmission {
    worker_id: String,
    input: ClaimRequest,
}

/// Claim submissions, booked in groups by a committer ([`group`]): in one
/// transaction, fund by fund in ascending id order and in the order they
/// arrived within a fund, each checked, assessed and written before the next
/// is assessed, so each sees the claims submitted before it (caps,
/// `max_claims`, a claim already filed for the incident). Every refusal is
/// decided before the submission writes anything (`claims::check_submission`),
/// so it leaves its neighbours as they were.
pub struct ClaimSubmissions;

impl group::Kind for ClaimSubmissions {
    type Change = ClaimSubmission;
    const NAME: &'static str = "claim submission";

    fn book(
        conn: &mut DbConnection,
        jobs: &[&group::Job<ClaimSubmission>],
    ) -> AppResult<Vec<AppResult<Sealed>>> {
        let mut results: Vec<Option<AppResult<Sealed>>> = jobs.iter().map(|_| None).collect();
        // Each worker with its fund, read before any lock, to lock the funds
        // in one order on every process.
        let mut found: Vec<Option<(Worker, Fund)>> = jobs.iter().map(|_| None).collect();
        for (i, job) in jobs.iter().enumerate() {
            match worker_in_scope(conn, &job.envelope.caller, &job.change.worker_id) {
                Ok(worker_and_fund) => found[i] = Some(worker_and_fund),
                Err(refusal @ AppError::Refused(_)) => results[i] = Some(Err(refusal)),
                Err(failure) => return Err(failure),
            }
        }
        let mut order: Vec<usize> = (0..jobs.len()).filter(|&i| found[i].is_some()).collect();
        order.sort_by_key(|&i| found[i].as_ref().map(|(_, fund)| fund.id));
        for i in order {
            let (worker, fund) = found[i].take().expect("filtered above");
            let (envelope, input) = (&jobs[i].envelope, &jobs[i].change.input);
            let checked = check_submission(conn, &envelope.caller, &worker, &fund, input)
                .map_err(|e| e.in_fund(&fund.code));
            let submission = match checked {
                Ok(submission) => submission,
                Err(refusal @ AppError::Refused(_)) => {
                    results[i] = Some(Err(refusal));
                    continue;
                }
                Err(failure) => return Err(failure),
            };
            // Only a failure is possible from here: it spoils the group.
            let (claim, riders, events) = submission.write(conn, &fund, &worker)?;
            let done = Done::created(
                format!("claim {}", claim.id),
                claim_response(claim, &fund.code, riders),
            )
            .with_events(events)
            .in_fund(&fund.code);
            results[i] = Some(Ok(envelope.succeeded(done)?));
        }
        Ok((results.into_iter())
            .map(|r| r.expect("every job has a result"))
            .collect())
    }
}

/// Every check of a submission that can refuse it, in the order a request
/// meets them: who may file, the request's fields, then the claim against the
/// records under the fund's lock (nothing written yet).
fn check_submission(
    conn: &mut DbConnection,
    caller: &Caller,
    worker: &Worker,
    fund: &Fund,
    input: &ClaimRequest,
) -> AppResult<claims::Submission> {
    claimed_by_the_caller(caller, worker, &input.claimant)?;
    super::instalments::riders_claimed_by_the_caller(caller, &input.rider_claimants)?;
    let dependants: Vec<String> = worker.dependants.iter().map(|d| d.id.clone()).collect();
    let new = input.validate(fund, &dependants)?;
    claims::check_submission(conn, fund, worker, &new, &caller.subject)
}

/// A `worker` token files only as its holder: the worker with relationship
/// `worker`, a dependant with their registered relationship and their own
/// `dependant_id`. Anyone else is refused 403, naming the field that names
/// someone else.
fn claimed_by_the_caller(
    caller: &Caller,
    worker: &Worker,
    claimant: &ClaimantRequest,
) -> AppResult<()> {
    let Some(person) = caller.own_records() else {
        return Ok(());
    };
    // The worker was found within the token's self scope: its holder is the
    // worker, or one of the worker's dependants.
    let (relationship, dependant_id) = match worker.dependants.iter().find(|d| d.id == person) {
        Some(dependant) => (dependant.relationship, Some(person)),
        None => (Relationship::Worker, None),
    };
    let mut errors = Vec::new();
    if claimant.relationship != relationship {
        errors.push(FieldError::new(
            "/claimant/relationship",
            "not_the_caller",
            format!(
                "a worker's token files claims only for its holder: must be {}",
                relationship.as_str()
            ),
        ));
    }
    if claimant.dependant_id.as_deref() != dependant_id {
        errors.push(FieldError::new(
            "/claimant/dependant_id",
            "not_the_caller",
            match dependant_id {
                Some(id) => format!("a worker's token files claims only for its holder: must be {id}"),
                None => "a worker's token files claims only for its holder: the worker names no dependant".into(),
            },
        ));
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::RoleNotPermitted,
        "a worker's token files claims only for its holder",
    )
    .with_errors(errors))
}

/// Read a claim with its assessment, riders, decision, approvals and payment.
#[utoipa::path(
    tag = "claims",
    params(("id" = uuid::Uuid, Path, description = "Claim id")),
    responses((status = 200, description = "The claim", body = ClaimResponse), (status = 404, description = "`NOT_FOUND`", body = crate::error::Problem)),
    security(("bearer" = []))
)]
#[get("/v1/claims/{id}")]
pub async fn get_claim(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> AppResult<web::Json<ClaimResponse>> {
    caller.require(Act::ReadWorkerRecords)?;
    let id = path.into_inner();
    let response = read(&state, move |conn| {
        let (claim, fund) = claim_in_scope(conn, &caller, &id)?;
        full_response(conn, claim, &fund)
    })
    .await?;
    Ok(web::Json(response))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    pub status: Option<ClaimStatus>,
    pub benefit: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// List a fund's claims, oldest first, by status and benefit.
#[utoipa::path(
    tag = "claims",
    params(("fund" = String, Path, description = "Fund code"), ClaimQuery),
    responses((status = 200, description = "A page of claims", body = Page<ClaimResponse>), (status = "4XX", description = "Refusals", body = crate::error::Problem)),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/claims")]
pub async fn list_claims(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<ClaimQuery>,
) -> AppResult<Page<ClaimResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let request = PageRequest::new(q.after, q.limit)?;
    let page = super::read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let filter = ClaimFilter {
            worker_id: None,
            status: q.status.map(|s| s.as_str().to_string()),
            benefit: q.benefit,
            after_id: request.after.clone(),
            limit: request.rows(),
        };
        let (rows, next) = request.cut(claims::list(conn, &fund, &filter)?, |c| c.id.clone());
        let items = rows
            .into_iter()
            .map(|c| full_response(conn, c, &fund))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Page { items, next })
    })
    .await?;
    Ok(page)
}

/// List one worker's claims, oldest first, riders among them (a `worker` token:
/// its own, with their decisions and payments).
#[utoipa::path(
    tag = "claims",
    params(("id" = uuid::Uuid, Path, description = "Worker id"), WorkerRecordsQuery),
    responses(
        (status = 200, description = "A page of the worker's claims", body = Page<ClaimResponse>),
        (status = "4XX", description = "Refusals (problem+json); 404 `NOT_FOUND` also for another worker's records", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/workers/{id}/claims")]
pub async fn list_worker_claims(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<WorkerRecordsQuery>,
) -> AppResult<Page<ClaimResponse>> {
    caller.require(Act::ReadWorkerRecords)?;
    let id = path.into_inner();
    let q = query.0;
    let request = PageRequest::new(q.after, q.limit)?;
    let page = read(&state, move |conn| {
        let (worker, fund) = worker_in_scope(conn, &caller, &id)?;
        let filter = ClaimFilter {
            worker_id: Some(worker.id),
            after_id: request.after.clone(),
            limit: request.rows(),
            ..ClaimFilter::default()
        };
        let (rows, next) = request.cut(claims::list(conn, &fund, &filter)?, |c| c.id.clone());
        let items = rows
            .into_iter()
            .map(|c| full_response(conn, c, &fund))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Page { items, next })
    })
    .await?;
    Ok(page)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"documents": [{"type": "TRANSPORT_RECEIPTS", "reference": "AWB-176-55501234"}], "claimed_amount": "180000.00", "grade": "1"}))]
pub struct AddDocuments {
    pub documents: Vec<DocumentRequest>,
    /// The documented expense, for reimbursement benefits.
    pub claimed_amount: Option<DecimalString>,
    /// The disability grade, for schedule benefits (a key of the benefit's `grades`).
    #[schema(max_length = 16)]
    pub grade: Option<String>,
}

/// Attach documents (and the documented expense or the disability grade) to a claim;
/// it is assessed again.
#[utoipa::path(
    tag = "claims",
    request_body = AddDocuments,
    params(("id" = uuid::Uuid, Path, description = "Claim id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "The reassessed claim", body = ClaimResponse), (status = "4XX", description = "Refusals", body = crate::error::Problem)),
    security(("bearer" = []))
)]
#[post("/v1/claims/{id}/documents")]
pub async fn add_claim_documents(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let mutation = Mutation::new(&req, state, caller, Act::AddClaimDocuments);
    claim_action(
        mutation,
        &req,
        path.into_inner(),
        body,
        |conn, caller, fund, id, input: AddDocuments| {
            let mut errors = Vec::new();
            let supplement = Supplement {
                documents: documents(&input.documents, "/documents", &mut errors),
                claimed_amount_minor: claimed(&input.claimed_amount, fund.currency, &mut errors),
                grade: input.grade,
            };
            check_grade(&supplement.grade, &mut errors);
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            claims::add_documents(conn, fund, id, &supplement, &caller.subject)
        },
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "approve", "amount": "300000.00", "reasons": [], "note": "Documents verified with the embassy"}))]
pub struct DecisionRequest {
    pub outcome: DecisionOutcome,
    /// The award (default: the payable amount); less than it for `partially_approve`.
    pub amount: Option<DecimalString>,
    /// Reason codes (required to reject or partially approve).
    #[serde(default)]
    pub reasons: Vec<String>,
    pub note: Option<String>,
}

/// Decide a claim (admin, officer): approve, partially approve or reject.
///
/// An entitlement award above the rules' `second_approval_above` waits for a second approver;
/// a discretionary award waits for the committee. A final approval books benefit expense
/// against benefits payable.
///
/// A claim under review some of whose payees were paid keeps its award's booking: it is
/// confirmed, reduced to no less than what was paid (`/amount` `below_paid`; the rest is
/// booked back with a `claim_award_reduction` entry and shared by the payees not yet
/// paid), never raised (`/amount` `exceeds_award`); a rejection stops the payees not yet
/// paid and closes the claim as `paid` with what was paid.
#[utoipa::path(
    tag = "claims",
    request_body = DecisionRequest,
    params(("id" = uuid::Uuid, Path, description = "Claim id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The decided claim", body = ClaimResponse),
        (status = 409, description = "`CLAIM_STATUS_CONFLICT` (see `claim_status`)", body = crate::error::Problem),
        (status = 422, description = "`DECISION_EXCEEDS_PAYABLE`, `VALIDATION_FAILED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/claims/{id}/decision")]
pub async fn decide_claim(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let review = (state.clone(), caller.clone(), request_id(&req));
    let id = path.into_inner();
    let mutation = Mutation::new(&req, state, caller, Act::DecideClaim);
    let answer = claim_action(
        mutation,
        &req,
        id.clone(),
        body,
        |conn, caller, fund, id, input: DecisionRequest| {
            let mut errors = Vec::new();
            let amount_minor = input.amount.as_ref().and_then(|a| {
                to_minor(a.0, fund.currency)
                    .map_err(|e| errors.push(FieldError::money("/amount", &e)))
                    .ok()
            });
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            let decision = Decision {
                outcome: input.outcome,
                amount_minor,
                reasons: input.reasons,
                note: input.note,
            };
            claims::decide(conn, fund, id, &decision, caller)
        },
    )
    .await;
    match answer {
        Err(e) => {
            let (state, caller, request) = review;
            Err(keep_fresh_assessment(state, caller, request, id, claims::cause::DECISION, e).await)
        }
        ok => ok,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Checked against the embassy's report"}))]
pub struct NoteRequest {
    pub note: Option<String>,
}

/// A second or committee approval (admin, approver); never by the officer who decided.
#[utoipa::path(
    tag = "claims",
    request_body = NoteRequest,
    params(("id" = uuid::Uuid, Path, description = "Claim id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The claim", body = ClaimResponse),
        (status = 409, description = "`SELF_APPROVAL`, `ALREADY_APPROVED`, `CLAIM_STATUS_CONFLICT`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/claims/{id}/approvals")]
pub async fn approve_claim(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let review = (state.clone(), caller.clone(), request_id(&req));
    let id = path.into_inner();
    let mutation = Mutation::new(&req, state, caller, Act::ApproveClaim);
    let answer = claim_action(
        mutation,
        &req,
        id.clone(),
        body,
        |conn, caller, fund, id, input: NoteRequest| {
            claims::approve(conn, fund, id, caller, input.note)
        },
    )
    .await;
    match answer {
        Err(e) => {
            let (state, caller, request) = review;
            Err(keep_fresh_assessment(state, caller, request, id, claims::cause::APPROVAL, e).await)
        }
        ok => ok,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"paid_on": "2026-07-01", "payee_reference": "KCB-0112233445"}))]
pub struct PaymentRequest {
    #[serde(deserialize_with = "crate::date::strict")]
    pub paid_on: NaiveDate,
    pub payee_reference: Option<String>,
}

/// Pay an approved claim (admin, officer): books benefits payable against cash, or leaves
/// the claim `awaiting_funds` when cash would go negative.
#[utoipa::path(
    tag = "claims",
    request_body = PaymentRequest,
    params(("id" = uuid::Uuid, Path, description = "Claim id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "`paid`, or `awaiting_funds`", body = ClaimResponse),
        (status = 409, description = "`CLAIM_STATUS_CONFLICT`, `PERIOD_CLOSED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/claims/{id}/payment")]
pub async fn pay_claim(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let mutation = Mutation::new(&req, state, caller, Act::PayClaim);
    claim_action(
        mutation,
        &req,
        path.into_inner(),
        body,
        |conn, caller, fund, id, input: PaymentRequest| {
            claims::pay(
                conn,
                fund,
                id,
                input.paid_on,
                input.payee_reference,
                &caller.subject,
            )
        },
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"paid_on": "2026-07-01"}))]
pub struct PaymentRunRequest {
    #[serde(deserialize_with = "crate::date::strict")]
    pub paid_on: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentRunResponse {
    /// Claims paid, in approval order.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub paid: Vec<String>,
    /// Claims still waiting (cash ran out at the first of them).
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub waiting: Vec<String>,
    /// Instalments due on or before `paid_on` that the run looked at, in due
    /// order: paid, still due (with the reasons), or lapsed.
    pub instalments: Vec<super::instalments::InstalmentRunResponse>,
}

/// Pay the claims waiting for funds, first approved first, while cash lasts (admin, officer).
#[utoipa::path(
    tag = "claims",
    request_body = PaymentRunRequest,
    params(("fund" = String, Path, description = "Fund code"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "What was paid", body = PaymentRunResponse), (status = "4XX", description = "Refusals", body = crate::error::Problem)),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/payment-runs")]
pub async fn payment_run(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    Mutation::new(&req, state, caller, Act::RunPayments)
        .fund(&code)
        .run(&req, body, move |conn, caller, input: PaymentRunRequest| {
            let fund = fund_in_scope(conn, caller, &code)?;
            let run = claims::payment_run(conn, &fund, input.paid_on, &caller.subject)?;
            let events = run.events;
            let response = PaymentRunResponse {
                paid: run.paid.into_iter().map(|c| c.id).collect(),
                waiting: run.waiting.into_iter().map(|c| c.id).collect(),
                instalments: run
                    .instalments
                    .iter()
                    .map(super::instalments::run_response)
                    .collect(),
            };
            Ok(Done::ok(
                format!("payment run: {} paid", response.paid.len()),
                response,
            )
            .with_events(events))
        })
        .await
}

/// Withdraw a claim before it is decided (admin, officer, ministry).
#[utoipa::path(
    tag = "claims",
    request_body = NoteRequest,
    params(("id" = uuid::Uuid, Path, description = "Claim id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "The withdrawn claim", body = ClaimResponse), (status = 409, description = "`CLAIM_STATUS_CONFLICT`", body = crate::error::Problem), (status = "4XX", description = "Other refusals", body = crate::error::Problem)),
    security(("bearer" = []))
)]
#[post("/v1/claims/{id}/withdrawal")]
pub async fn withdraw_claim(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let mutation = Mutation::new(&req, state, caller, Act::WithdrawClaim);
    claim_action(
        mutation,
        &req,
        path.into_inner(),
        body,
        |conn, _, fund, id, _: NoteRequest| claims::withdraw(conn, fund, id),
    )
    .await
}

/// Appeal a rejection, once (admin, officer, ministry): the claim is assessed again.
#[utoipa::path(
    tag = "claims",
    request_body = NoteRequest,
    params(("id" = uuid::Uuid, Path, description = "Claim id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "The appealed claim", body = ClaimResponse), (status = 409, description = "`CLAIM_STATUS_CONFLICT`, `ALREADY_APPEALED`", body = crate::error::Problem), (status = "4XX", description = "Other refusals", body = crate::error::Problem)),
    security(("bearer" = []))
)]
#[post("/v1/claims/{id}/appeal")]
pub async fn appeal_claim(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let mutation = Mutation::new(&req, state, caller, Act::AppealClaim);
    claim_action(
        mutation,
        &req,
        path.into_inner(),
        body,
        |conn, caller, fund, id, _: NoteRequest| claims::appeal(conn, fund, id, &caller.subject),
    )
    .await
}

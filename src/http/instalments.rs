//! Instalment routes: a claim's schedule, proof for one instalment, stopping
//! a schedule; and the parts of a claim request and answer that concern
//! instalments (riders claimed by their own claimant, the schedule shown).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::claims::{claim_in_scope, documents, ClaimDocumentResponse, DocumentRequest};
use super::write::{in_fund, Done, Mutation};
use super::{read, AppState};
use crate::auth::{Act, Caller};
use crate::claims::assess::Claimant;
use crate::claims::instalments::{self, Instalment, InstalmentFacts, InstalmentStatus, Schedule};
use crate::claims::RiderClaimant;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::money::format_minor;
use crate::rules::document::{InstalmentFrequency, Relationship};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_instalments)
        .service(add_instalment_documents)
        .service(stop_instalments);
}

/// The most riders a claim request may name claimants for.
const MAX_RIDER_CLAIMANTS: usize = 20;
/// The most reasons a stop decision may give, and the longest of each and of its note.
const MAX_REASONS: usize = 20;
const MAX_REASON: usize = 64;
const MAX_NOTE: usize = 2000;

/// Who claims one rider of the benefit (a scholarship for one child of a
/// deceased worker), instead of the main claim's claimant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"benefit": "CHILD_SCHOLARSHIP", "relationship": "child", "dependant_id": "0193b0c4-7f40-7c63-9e51-4da08f3c6b93"}))]
pub struct RiderClaimantRequest {
    /// A rider of the claimed benefit.
    #[schema(example = "CHILD_SCHOLARSHIP")]
    pub benefit: String,
    pub relationship: Relationship,
    /// The dependant claiming the rider, as registered on the worker.
    #[schema(format = Uuid)]
    pub dependant_id: Option<String>,
}

/// Parses the rider claimants of a claim request: each names a dependant
/// registered on the worker (or the worker, naming none).
pub(super) fn rider_claimants(
    items: &[RiderClaimantRequest],
    dependants: &[String],
    errors: &mut Vec<FieldError>,
) -> Vec<RiderClaimant> {
    if items.len() > MAX_RIDER_CLAIMANTS {
        errors.push(
            FieldError::new(
                "/rider_claimants",
                "too_many",
                format!("at most {MAX_RIDER_CLAIMANTS} rider claimants"),
            )
            .with_limit(MAX_RIDER_CLAIMANTS),
        );
    }
    for (i, item) in items.iter().enumerate() {
        let at = |field: &str| format!("/rider_claimants/{i}/{field}");
        match (item.relationship, &item.dependant_id) {
            (Relationship::Worker, Some(_)) => errors.push(FieldError::new(
                at("dependant_id"),
                "not_applicable",
                "the worker claims for themselves",
            )),
            (Relationship::Worker, None) => {}
            (_, None) => errors.push(FieldError::new(
                at("dependant_id"),
                "required",
                "name the dependant who claims the rider",
            )),
            (_, Some(id)) if !dependants.contains(id) => errors.push(FieldError::new(
                at("dependant_id"),
                "unknown_dependant",
                "is not a dependant registered on the worker",
            )),
            _ => {}
        }
    }
    items
        .iter()
        .map(|item| RiderClaimant {
            benefit: item.benefit.clone(),
            claimant: Claimant {
                relationship: item.relationship,
                dependant_id: item.dependant_id.clone(),
            },
        })
        .collect()
}

/// A `worker` token files only for its holder, so it names no one else for a rider.
pub(super) fn riders_claimed_by_the_caller(
    caller: &Caller,
    items: &[RiderClaimantRequest],
) -> AppResult<()> {
    if caller.own_records().is_none() || items.is_empty() {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::RoleNotPermitted,
        "a worker's token files claims only for its holder",
    )
    .with_errors(vec![FieldError::new(
        "/rider_claimants",
        "not_the_caller",
        "a worker's token names no other claimant",
    )]))
}

/// One instalment of a schedule.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InstalmentResponse {
    /// 1 for the first (the claim's own award and payment).
    pub number: u32,
    pub due_on: NaiveDate,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    pub status: InstalmentStatus,
    /// Why a due instalment is not paid, or why it lapsed: `FIRST_INSTALMENT_UNPAID`,
    /// `AWARD_NO_LONGER_STANDS` (with the claim's reason codes), `MISSING_DOCUMENTS`,
    /// `AWAITING_FUNDS`, `AGE_LIMIT_REACHED`.
    pub reasons: Vec<String>,
    /// What its latest re-assessment found (later instalments, from their due date).
    #[schema(required = true)]
    pub assessment: Option<InstalmentFacts>,
    #[schema(required = true, format = DateTime)]
    pub assessed_at: Option<String>,
    /// The entry that booked its expense against benefits payable.
    #[schema(required = true, format = Uuid)]
    pub expense_entry_id: Option<String>,
    /// The entry that paid it from cash.
    #[schema(required = true, format = Uuid)]
    pub payment_entry_id: Option<String>,
    #[schema(required = true)]
    pub paid_on: Option<NaiveDate>,
    /// Proof attached to it (enrolment for its school year).
    pub documents: Vec<ClaimDocumentResponse>,
}

/// The decision that stopped a schedule.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StopResponse {
    pub reasons: Vec<String>,
    #[schema(required = true)]
    pub note: Option<String>,
    pub stopped_by: String,
    #[schema(format = DateTime)]
    pub stopped_at: String,
}

/// A claim's schedule of instalments.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"claim_id": "01a24cf6-efa0-705d-a12f-66241f7d28f6", "every": "school_year", "running": false, "stopped": {"reasons": ["LEFT_SCHOOL"], "note": "The school confirms she left in March", "stopped_by": "officer.njeri", "stopped_at": "2026-12-06T20:06:21.351743Z"}, "instalments": [{"number": 1, "due_on": "2023-03-01", "amount": "25000.00", "status": "paid", "reasons": [], "assessment": null, "assessed_at": null, "expense_entry_id": "01a24cf6-efa1-71ab-abdd-cc47e9114e79", "payment_entry_id": "01a24cf6-efa1-71ab-abdd-cc47e9114e80", "paid_on": "2026-12-06", "documents": []}, {"number": 2, "due_on": "2023-04-14", "amount": "25000.00", "status": "stopped", "reasons": [], "assessment": {"due_on": "2023-04-14", "claimant_age": 12, "award_stands": true, "missing_documents": ["SCHOOL_ENROLMENT"]}, "assessed_at": "2026-12-06T20:06:21.344988Z", "expense_entry_id": null, "payment_entry_id": null, "paid_on": null, "documents": []}]}))]
pub struct InstalmentScheduleResponse {
    #[schema(format = Uuid)]
    pub claim_id: String,
    pub every: InstalmentFrequency,
    /// Whether instalments are still to be paid.
    pub running: bool,
    #[schema(required = true)]
    pub stopped: Option<StopResponse>,
    pub instalments: Vec<InstalmentResponse>,
}

fn instalment_response(i: &Instalment, schedule: &Schedule) -> InstalmentResponse {
    InstalmentResponse {
        number: i.number,
        due_on: i.due_on,
        amount: format_minor(i.amount_minor, i.currency),
        status: i.status,
        reasons: i.hold_reasons.clone(),
        assessment: i.assessment.clone(),
        assessed_at: i.assessed_at.map(crate::time::rfc3339),
        expense_entry_id: i.expense_entry_id.clone(),
        payment_entry_id: i.payment_entry_id.clone(),
        paid_on: i.paid_on,
        documents: schedule
            .documents
            .iter()
            .filter(|d| d.number == i.number)
            .map(|d| ClaimDocumentResponse {
                document_type: d.document_type.clone(),
                reference: d.reference.clone(),
            })
            .collect(),
    }
}

pub(super) fn schedule_response(schedule: &Schedule) -> InstalmentScheduleResponse {
    InstalmentScheduleResponse {
        claim_id: schedule.claim_id.clone(),
        every: schedule.every,
        running: schedule.running(),
        stopped: schedule.stop.as_ref().map(|s| StopResponse {
            reasons: s.reasons.clone(),
            note: s.note.clone(),
            stopped_by: crate::auth::displayed_subject(&s.by).to_string(),
            stopped_at: crate::time::rfc3339(s.at),
        }),
        instalments: schedule
            .instalments
            .iter()
            .map(|i| instalment_response(i, schedule))
            .collect(),
    }
}

/// The schedule of a claim, if it has one (for the claim's answer).
pub(super) fn schedule_of(
    conn: &mut DbConnection,
    claim_id: &str,
) -> AppResult<Option<InstalmentScheduleResponse>> {
    Ok(instalments::find(conn, claim_id)?.map(|s| schedule_response(&s)))
}

/// One instalment a payment run looked at.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InstalmentRunResponse {
    #[schema(format = Uuid)]
    pub claim_id: String,
    pub number: u32,
    pub due_on: NaiveDate,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    /// `paid`, `due` (not paid: see `reasons`) or `lapsed`.
    pub status: InstalmentStatus,
    pub reasons: Vec<String>,
}

pub(super) fn run_response(i: &Instalment) -> InstalmentRunResponse {
    InstalmentRunResponse {
        claim_id: i.claim_id.clone(),
        number: i.number,
        due_on: i.due_on,
        amount: format_minor(i.amount_minor, i.currency),
        status: i.status,
        reasons: i.hold_reasons.clone(),
    }
}

/// Read a claim's schedule of instalments.
#[utoipa::path(
    tag = "claims",
    params(("id" = uuid::Uuid, Path, description = "Claim id")),
    responses(
        (status = 200, description = "The schedule", body = InstalmentScheduleResponse),
        (status = 404, description = "`NOT_FOUND`: no such claim, or it is not paid in instalments", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/claims/{id}/instalments")]
pub async fn get_instalments(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> AppResult<web::Json<InstalmentScheduleResponse>> {
    caller.require(Act::ReadWorkerRecords)?;
    let id = path.into_inner();
    let response = read(&state, move |conn| {
        let (claim, _) = claim_in_scope(conn, &caller, &id)?;
        schedule_of(conn, &claim.id)?
            .ok_or_else(|| AppError::not_found(format!("claim {id} is not paid in instalments")))
    })
    .await?;
    Ok(web::Json(response))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"documents": [{"type": "SCHOOL_ENROLMENT", "reference": "ENR-2024-0142"}]}))]
pub struct InstalmentDocumentsRequest {
    pub documents: Vec<DocumentRequest>,
}

/// Attach proof to one instalment still to pay (enrolment for its school year;
/// admin, officer, ministry); it is checked when the instalment is re-assessed.
#[utoipa::path(
    tag = "claims",
    request_body = InstalmentDocumentsRequest,
    params(
        ("id" = uuid::Uuid, Path, description = "Claim id"),
        ("number" = u32, Path, description = "Instalment number (1 for the first)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "The schedule", body = InstalmentScheduleResponse),
        (status = 409, description = "`INSTALMENT_STATUS_CONFLICT`: the instalment is paid, stopped or lapsed", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/claims/{id}/instalments/{number}/documents")]
pub async fn add_instalment_documents(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    // The number is read after the role check, so a caller who may not attach
    // proof is refused 403 whatever the path says.
    let (id, number) = path.into_inner();
    Mutation::new(&req, state, caller, Act::AddInstalmentDocuments)
        .run(
            &req,
            body,
            move |conn, caller, input: InstalmentDocumentsRequest| {
                let (claim, fund) = claim_in_scope(conn, caller, &id)?;
                let number: u32 = number.parse().map_err(|_| {
                    AppError::not_found(format!("claim {id} has no instalment {number}"))
                })?;
                in_fund(&fund.code, || {
                    let mut errors = Vec::new();
                    if input.documents.is_empty() {
                        errors.push(FieldError::new(
                            "/documents",
                            "required",
                            "attach at least one document",
                        ));
                    }
                    let documents = documents(&input.documents, "/documents", &mut errors);
                    if !errors.is_empty() {
                        return Err(AppError::validation(errors));
                    }
                    let (schedule, events) = instalments::add_documents(
                        conn,
                        &fund,
                        &claim.id,
                        number,
                        &documents,
                        &caller.subject,
                    )?;
                    Ok(Done::ok(
                        format!("claim {} instalment {number}", claim.id),
                        schedule_response(&schedule),
                    )
                    .with_events(events))
                })
            },
        )
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reasons": ["LEFT_SCHOOL"], "note": "The school confirms she left in March"}))]
pub struct StopInstalmentsRequest {
    /// Reason codes (at least one): why no more instalments are paid.
    pub reasons: Vec<String>,
    pub note: Option<String>,
}

impl StopInstalmentsRequest {
    /// The reasons (each a code) and the note, bounded.
    fn validate(self) -> AppResult<(Vec<String>, Option<String>)> {
        let mut errors = Vec::new();
        if self.reasons.is_empty() {
            errors.push(FieldError::new(
                "/reasons",
                "required",
                "stopping a schedule gives its reasons",
            ));
        }
        if self.reasons.len() > MAX_REASONS {
            errors.push(
                FieldError::new(
                    "/reasons",
                    "too_many",
                    format!("at most {MAX_REASONS} reasons"),
                )
                .with_limit(MAX_REASONS),
            );
        }
        for (i, reason) in self.reasons.iter().enumerate() {
            let code = !reason.is_empty()
                && reason.len() <= MAX_REASON
                && reason
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !code {
                errors.push(FieldError::new(
                    format!("/reasons/{i}"),
                    "invalid_format",
                    format!("a reason code: 1 to {MAX_REASON} upper-case letters, digits or '_'"),
                ));
            }
        }
        let note = self
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
            errors.push(
                FieldError::new(
                    "/note",
                    "too_long",
                    format!("at most {MAX_NOTE} characters"),
                )
                .with_limit(MAX_NOTE),
            );
        }
        match errors.is_empty() {
            true => Ok((self.reasons, note)),
            false => Err(AppError::validation(errors)),
        }
    }
}

/// Stop a claim's schedule of instalments (admin, officer): a decision with
/// reasons. Its instalments still to pay are stopped; an expense booked for one
/// and not paid is reversed; nothing more is booked.
#[utoipa::path(
    tag = "claims",
    request_body = StopInstalmentsRequest,
    params(("id" = uuid::Uuid, Path, description = "Claim id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The stopped schedule", body = InstalmentScheduleResponse),
        (status = 409, description = "`INSTALMENT_STATUS_CONFLICT`: no running schedule (see `claim_status`)", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/claims/{id}/instalments/stop")]
pub async fn stop_instalments(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::StopInstalments)
        .run(
            &req,
            body,
            move |conn, caller, input: StopInstalmentsRequest| {
                let (claim, fund) = claim_in_scope(conn, caller, &id)?;
                in_fund(&fund.code, || {
                    let (reasons, note) = input.validate()?;
                    let (schedule, events) =
                        instalments::stop(conn, &fund, &claim.id, reasons, note, &caller.subject)?;
                    Ok(Done::ok(
                        format!("claim {} instalments stopped", claim.id),
                        schedule_response(&schedule),
                    )
                    .with_events(events))
                })
            },
        )
        .await
}

/// How many instalments, and how much.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct InstalmentCount {
    pub count: u64,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
}

/// The instalments of the claims filed in the period, in one currency, by status.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InstalmentStatisticsResponse {
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    pub scheduled: InstalmentCount,
    pub due: InstalmentCount,
    pub paid: InstalmentCount,
    pub stopped: InstalmentCount,
    pub lapsed: InstalmentCount,
}

/// The claims statistics' instalments: per currency, by status.
pub(super) fn statistics_response(
    conn: &mut DbConnection,
    fund_id: crate::funds::FundId,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<InstalmentStatisticsResponse>> {
    let totals = instalments::statistics(conn, fund_id, from, to)?;
    Ok(totals
        .into_iter()
        .map(|(currency, by_status)| {
            let of = |status| {
                let (count, amount) = by_status.get(&status).copied().unwrap_or_default();
                InstalmentCount {
                    count,
                    amount: crate::ledger::limits::format_wide(amount, currency),
                }
            };
            InstalmentStatisticsResponse {
                currency: currency.code().to_string(),
                scheduled: of(InstalmentStatus::Scheduled),
                due: of(InstalmentStatus::Due),
                paid: of(InstalmentStatus::Paid),
                stopped: of(InstalmentStatus::Stopped),
                lapsed: of(InstalmentStatus::Lapsed),
            }
        })
        .collect())
}

//! Recovery routes: mark a claim's award recoverable from a party, record
//! money received (in cash or from the party's bond), write off, read, list.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::page::PageRequest;
use super::refunds::bounded;
use super::write::{in_fund, Done, Mutation};
use super::{fund_in_scope, read, AppState, Page};
use crate::auth::{Act, Caller};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, FieldError};
use crate::funds::Fund;
use crate::money::{format_minor, to_minor, Currency, DecimalString};
use crate::recoveries::{
    self, NewRecovery, NewSettlement, Recovery, RecoveryFilter, RecoveryStatus, Settlement,
    SettlementSource,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(open_recovery)
        .service(settle_recovery)
        .service(write_off_recovery)
        .service(get_recovery)
        .service(list_recoveries);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"party_id": "01a24cf6-ef90-7d2e-8f3a-6b2c1d4e5f60", "amount": "50000.00", "reason": "Repatriation after the employer abandoned the worker", "legal_basis": "RA 8042 s. 15: repatriation is the agency's primary responsibility"}))]
pub struct RecoveryRequest {
    /// The agency or employer liable (a party of the claim's fund).
    #[schema(format = Uuid)]
    pub party_id: String,
    /// In the claim's currency; the recoveries of a claim add up to no more than its award.
    pub amount: DecimalString,
    pub reason: String,
    /// The law or contract clause that makes the party liable.
    pub legal_basis: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "20000.00", "received_on": "2026-12-01", "reference": "KCB-IN-2026-5521", "source": "cash"}))]
pub struct SettlementRequest {
    /// No more than is outstanding (and, from a bond, no more than remains of it).
    pub amount: DecimalString,
    /// The day the money arrived (default today): from the day the recovery was opened to today.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub received_on: Option<NaiveDate>,
    /// The bank's reference of the transfer, or the bond call's.
    pub reference: Option<String>,
    /// `cash` (the default) or `bond`: drawn from the party's bond.
    pub source: Option<SettlementSource>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The agency's licence was cancelled and it has no assets; the committee decided to write off"}))]
pub struct WriteOffRequest {
    /// The decision and its reasons.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub source: SettlementSource,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    pub received_on: NaiveDate,
    #[schema(required = true)]
    pub reference: Option<String>,
    /// The entry that booked it (cash against receivables).
    #[schema(format = Uuid)]
    pub journal_entry_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WriteOffResponse {
    pub reason: String,
    /// The entry that booked it (receivables written off against receivables).
    #[schema(format = Uuid)]
    pub journal_entry_id: String,
    pub written_off_by: String,
    #[schema(format = DateTime)]
    pub written_off_at: String,
}

/// A claim's award recoverable from an agency or employer: a receivable.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01a24cf6-efa0-7e3f-9a4b-7c3d2e5f6a70", "fund": "KE-MWF", "claim_id": "01a24cf6-ef60-7b1e-8c2d-4a5b6c7d8e90", "party_id": "01a24cf6-ef90-7d2e-8f3a-6b2c1d4e5f60", "currency": "KES", "amount": "50000.00", "settled": "20000.00", "written_off": "0.00", "outstanding": "30000.00", "status": "partly_settled", "reason": "Repatriation after the employer abandoned the worker", "legal_basis": "RA 8042 s. 15: repatriation is the agency's primary responsibility", "opening_entry_id": "01a24cf6-efa1-7f40-8b5c-8d4e3f6a7b81", "settlements": [{"id": "01a24cf6-efa2-7051-9c6d-9e5f4a7b8c92", "source": "cash", "amount": "20000.00", "received_on": "2026-12-01", "reference": "KCB-IN-2026-5521", "journal_entry_id": "01a24cf6-efa3-7162-8d7e-af6a5b8c9da3", "created_at": "2026-12-01T09:00:00.000000Z", "created_by": "officer.njeri"}], "write_off": null, "created_at": "2026-11-20T09:00:00.000000Z", "created_by": "officer.njeri"}))]
pub struct RecoveryResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub fund: String,
    #[schema(format = Uuid)]
    pub claim_id: String,
    #[schema(format = Uuid)]
    pub party_id: String,
    pub currency: Currency,
    /// What was booked as receivable.
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub settled: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub written_off: String,
    /// Still owed: amount less settled and written off.
    #[schema(value_type = crate::money::DecimalString)]
    pub outstanding: String,
    pub status: RecoveryStatus,
    pub reason: String,
    #[schema(required = true)]
    pub legal_basis: Option<String>,
    /// The entry that booked the receivable (receivables against recoveries).
    #[schema(format = Uuid)]
    pub opening_entry_id: String,
    pub settlements: Vec<SettlementResponse>,
    #[schema(required = true)]
    pub write_off: Option<WriteOffResponse>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
}

fn settlement_response(s: Settlement, currency: Currency) -> SettlementResponse {
    SettlementResponse {
        id: s.id,
        source: s.source,
        amount: format_minor(s.amount_minor, currency),
        received_on: s.received_on,
        reference: s.reference,
        journal_entry_id: s.journal_entry_id,
        created_at: crate::time::rfc3339(s.created_at),
        created_by: s.created_by,
    }
}

fn recovery_response(r: Recovery, settlements: Vec<Settlement>) -> RecoveryResponse {
    let money = |minor| format_minor(minor, r.currency);
    let write_off = match (r.write_off_entry_id, r.written_off_at) {
        (Some(journal_entry_id), Some(at)) => Some(WriteOffResponse {
            reason: r.write_off_reason.unwrap_or_default(),
            journal_entry_id,
            written_off_by: r.written_off_by.unwrap_or_default(),
            written_off_at: crate::time::rfc3339(at),
        }),
        _ => None,
    };
    RecoveryResponse {
        amount: money(r.amount_minor),
        settled: money(r.settled_minor),
        written_off: money(r.written_off_minor),
        outstanding: money(r.amount_minor - r.settled_minor - r.written_off_minor),
        id: r.id,
        fund: r.fund_code,
        claim_id: r.claim_id,
        party_id: r.party_id,
        currency: r.currency,
        status: r.status,
        reason: r.reason,
        legal_basis: r.legal_basis,
        opening_entry_id: r.opening_entry_id,
        settlements: (settlements.into_iter())
            .map(|s| settlement_response(s, r.currency))
            .collect(),
        write_off,
        created_at: crate::time::rfc3339(r.created_at),
        created_by: r.created_by,
    }
}

/// The recovery with its settlements, as a response.
fn full_response(conn: &mut DbConnection, recovery: Recovery) -> AppResult<RecoveryResponse> {
    let settlements = recoveries::settlements_of(conn, &recovery.id)?;
    Ok(recovery_response(recovery, settlements))
}

/// The recovery with `id` and its fund, if the caller's token covers it.
fn recovery_in_scope(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> AppResult<(Recovery, Fund)> {
    let missing = || AppError::not_found(format!("no recovery {id}"));
    let recovery = recoveries::find(conn, id)?.ok_or_else(missing)?;
    let fund = fund_in_scope(conn, caller, &recovery.fund_code).map_err(|_| missing())?;
    Ok((recovery, fund))
}

/// `amount` in minor units of `currency`, or a refusal naming `/amount`.
fn amount_in(amount: &DecimalString, currency: Currency) -> AppResult<i64> {
    to_minor(amount.0, currency)
        .map_err(|e| AppError::validation(vec![FieldError::money("/amount", &e)]))
}

/// Mark a claim's award recoverable from an agency or employer (admin, officer).
///
/// The claim's award must stand (approved, awaiting funds or paid): else 409
/// `CLAIM_NOT_RECOVERABLE`. Books a receivable: 1200 receivables against 4400 recoveries, dated
/// today. The recoveries of a claim (less what was written off) add up to no more than its award
/// (422 `RECOVERY_EXCEEDS_AWARD`), and a claim has one open recovery per party (409
/// `RECOVERY_ALREADY_OPEN`).
#[utoipa::path(
    tag = "recovery",
    request_body = RecoveryRequest,
    params(("id" = uuid::Uuid, Path, description = "Claim id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "The recovery, open", body = RecoveryResponse),
        (status = 409, description = "`CLAIM_NOT_RECOVERABLE`, `RECOVERY_ALREADY_OPEN`, `PERIOD_CLOSED`", body = crate::error::Problem),
        (status = 422, description = "`RECOVERY_EXCEEDS_AWARD`, `VALIDATION_FAILED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/claims/{id}/recovery")]
pub async fn open_recovery(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::OpenRecovery)
        .run(&req, body, move |conn, caller, input: RecoveryRequest| {
            let missing = || AppError::not_found(format!("no claim {id}"));
            let claim = crate::claims::find(conn, &id)?.ok_or_else(missing)?;
            let code = crate::funds::fund_code(conn, claim.fund_id)?;
            let fund = fund_in_scope(conn, caller, &code).map_err(|_| missing())?;
            in_fund(&fund.code, || {
                let new = NewRecovery {
                    amount_minor: amount_in(&input.amount, claim.currency)?,
                    reason: bounded("/reason", &input.reason)?.to_string(),
                    legal_basis: match input.legal_basis.as_deref() {
                        Some(b) => Some(bounded("/legal_basis", b)?.to_string()),
                        None => None,
                    },
                    party_id: input.party_id,
                };
                let (recovery, event) =
                    recoveries::open(conn, &fund, &claim.id, &new, &caller.subject)?;
                Ok(Done::created(
                    format!("recovery {} of claim {}", recovery.id, claim.id),
                    full_response(conn, recovery)?,
                )
                .with_events(vec![event]))
            })
        })
        .await
}

/// Record money received against a recovery, in cash or drawn from the party's bond (admin, officer).
///
/// Books 1000 cash against 1200 receivables on `received_on`. More than is outstanding is 409
/// `SETTLEMENT_EXCEEDS_OUTSTANDING`; from a bond, more than remains of it (or no bond, another
/// currency, expired) is 409 `BOND_NOT_AVAILABLE`; a recovery settled or written off is 409
/// `RECOVERY_STATUS_CONFLICT`.
#[utoipa::path(
    tag = "recovery",
    request_body = SettlementRequest,
    params(("id" = uuid::Uuid, Path, description = "Recovery id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "The recovery, with the settlement", body = RecoveryResponse),
        (status = 409, description = "`SETTLEMENT_EXCEEDS_OUTSTANDING`, `BOND_NOT_AVAILABLE`, `RECOVERY_STATUS_CONFLICT`, `PERIOD_CLOSED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/recoveries/{id}/settlements")]
pub async fn settle_recovery(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::SettleRecovery)
        .run(&req, body, move |conn, caller, input: SettlementRequest| {
            let (recovery, fund) = recovery_in_scope(conn, caller, &id)?;
            in_fund(&fund.code, || {
                let new = NewSettlement {
                    source: input.source.unwrap_or(SettlementSource::Cash),
                    amount_minor: amount_in(&input.amount, recovery.currency)?,
                    received_on: input.received_on.unwrap_or_else(crate::time::today),
                    reference: match input.reference.as_deref() {
                        Some(r) => Some(bounded("/reference", r)?.to_string()),
                        None => None,
                    },
                };
                let (settled, settlement, event) =
                    recoveries::settle(conn, &fund, &recovery.id, &new, &caller.subject)?;
                Ok(Done::created(
                    format!(
                        "recovery {} settlement {} {}",
                        settled.id,
                        settlement.id,
                        settled.status.as_str()
                    ),
                    full_response(conn, settled)?,
                )
                .with_events(vec![event]))
            })
        })
        .await
}

/// Write off what a recovery still owes, by a decision with its reasons (admin, officer).
///
/// Books 6200 receivables written off against 1200 receivables for the outstanding amount,
/// dated today. A recovery settled or written off already is 409 `RECOVERY_STATUS_CONFLICT`.
#[utoipa::path(
    tag = "recovery",
    request_body = WriteOffRequest,
    params(("id" = uuid::Uuid, Path, description = "Recovery id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The recovery, written off", body = RecoveryResponse),
        (status = 409, description = "`RECOVERY_STATUS_CONFLICT`, `PERIOD_CLOSED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/recoveries/{id}/write-off")]
pub async fn write_off_recovery(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::WriteOffRecovery)
        .run(&req, body, move |conn, caller, input: WriteOffRequest| {
            let (recovery, fund) = recovery_in_scope(conn, caller, &id)?;
            in_fund(&fund.code, || {
                let reason = bounded("/reason", &input.reason)?;
                let (written_off, event) =
                    recoveries::write_off(conn, &fund, &recovery.id, reason, &caller.subject)?;
                Ok(Done::ok(
                    format!("recovery {} written_off", written_off.id),
                    full_response(conn, written_off)?,
                )
                .with_events(vec![event]))
            })
        })
        .await
}

/// Read one recovery with its settlements.
#[utoipa::path(
    tag = "recovery",
    params(("id" = uuid::Uuid, Path, description = "Recovery id")),
    responses(
        (status = 200, description = "The recovery", body = RecoveryResponse),
        (status = 404, description = "`NOT_FOUND`", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/recoveries/{id}")]
pub async fn get_recovery(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> AppResult<web::Json<RecoveryResponse>> {
    caller.require(Act::ReadFunds)?;
    let id = path.into_inner();
    let response = read(&state, move |conn| {
        let (recovery, _) = recovery_in_scope(conn, &caller, &id)?;
        full_response(conn, recovery)
    })
    .await?;
    Ok(web::Json(response))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecoveryQuery {
    pub status: Option<RecoveryStatus>,
    pub party_id: Option<String>,
    pub claim_id: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// List a fund's recoveries in the order they were opened.
#[utoipa::path(
    tag = "recovery",
    params(("fund" = String, Path, description = "Fund code"), RecoveryQuery),
    responses(
        (status = 200, description = "A page of recoveries", body = Page<RecoveryResponse>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/recoveries")]
pub async fn list_recoveries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<RecoveryQuery>,
) -> AppResult<Page<RecoveryResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let request = PageRequest::new(q.after, q.limit)?;
    super::read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let filter = RecoveryFilter {
            status: q.status,
            party_id: q.party_id,
            claim_id: q.claim_id,
            after: request.after.clone(),
            limit: request.rows(),
        };
        let found = recoveries::list(conn, &fund, &filter)?;
        let (rows, next) = request.cut(found, |r| r.id.clone());
        let items = (rows.into_iter())
            .map(|r| full_response(conn, r))
            .collect::<AppResult<_>>()?;
        Ok(Page { items, next })
    })
    .await
}

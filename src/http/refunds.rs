//! Refund routes: request a contribution back (or a rebate for a worker),
//! decide, pay, read, list. Rebates are refunds of kind `rebate` and share
//! every route after their request.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::page::PageRequest;
use super::write::{in_fund, Done, Mutation};
use super::{fund_in_scope, read, AppState, Page};
use crate::auth::{Act, Caller};
use crate::contributions;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::funds::Fund;
use crate::money::{format_minor, Currency};
use crate::refunds::{self, Outcome, Refund, RefundKind, RefundStatus};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(request_refund)
        .service(request_rebate)
        .service(decide_refund)
        .service(pay_refund)
        .service(get_refund)
        .service(list_refunds);
}

/// The longest reason or payment reference accepted.
const MAX_TEXT: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The departure was cancelled: the employer withdrew the job offer"}))]
pub struct RefundRequest {
    /// Why the contract was cancelled before it started.
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Ten years of contributions: long-membership rebate"}))]
pub struct RebateRequest {
    /// Why the rebate is asked for.
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "approve", "reason": "The visa was refused; the worker never left"}))]
pub struct RefundDecisionRequest {
    pub outcome: Outcome,
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reference": "KCB-TRF-2026-0042"}))]
pub struct RefundPaymentRequest {
    /// The bank's or mobile money's reference of the transfer to the worker.
    pub reference: Option<String>,
}

/// A refund of a contribution, or a rebate granted to a worker (`kind`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01a24cf6-ef80-7c1e-9d2b-5a1f0c3e7b21", "fund": "KE-MWF", "kind": "refund", "contribution_id": "01a24cf6-ef75-769b-b0c2-9370a9b69af0", "worker_id": "01a24cf6-ef49-7603-96a4-c8763bd474f9", "contract_id": "01a24cf6-ef49-7603-96a4-c8780b99f05c", "rebate_code": null, "reason": "The departure was cancelled: the employer withdrew the job offer", "status": "paid", "currency": "KES", "amount": "2000.00", "taxes": "0.00", "total": "2000.00", "decision_reason": "The visa was refused; the worker never left", "decided_by": "officer.njeri", "decided_at": "2026-12-06T21:10:00.000000Z", "approval_entry_id": "01a24cf6-ef81-7a10-8c55-3d2e4f6a7b80", "payment_reference": "KCB-TRF-2026-0042", "paid_by": "officer.njeri", "paid_at": "2026-12-06T21:20:00.000000Z", "payment_entry_id": "01a24cf6-ef82-7b21-9d66-4e3f5a7b8c91", "created_at": "2026-12-06T21:00:00.000000Z", "created_by": "officer.njeri"}))]
pub struct RefundResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub fund: String,
    pub kind: RefundKind,
    /// The contribution paid back; `null` for a rebate.
    #[schema(required = true, format = Uuid)]
    pub contribution_id: Option<String>,
    #[schema(format = Uuid)]
    pub worker_id: String,
    /// The contract cancelled before its start; `null` for a rebate.
    #[schema(required = true, format = Uuid)]
    pub contract_id: Option<String>,
    /// The rule's `rebate.code`; `null` for a refund.
    #[schema(required = true)]
    pub rebate_code: Option<String>,
    pub reason: String,
    pub status: RefundStatus,
    pub currency: Currency,
    /// The contribution without taxes.
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    /// The taxes collected with it, paid back too.
    #[schema(value_type = crate::money::DecimalString)]
    pub taxes: String,
    /// What is paid back.
    #[schema(value_type = crate::money::DecimalString)]
    pub total: String,
    #[schema(required = true)]
    pub decision_reason: Option<String>,
    #[schema(required = true)]
    pub decided_by: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub decided_at: Option<String>,
    /// The entry that booked the approval (income and taxes to refunds payable).
    #[schema(required = true, format = Uuid)]
    pub approval_entry_id: Option<String>,
    #[schema(required = true)]
    pub payment_reference: Option<String>,
    #[schema(required = true)]
    pub paid_by: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub paid_at: Option<String>,
    /// The entry that paid it (refunds payable to cash).
    #[schema(required = true, format = Uuid)]
    pub payment_entry_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
}

fn refund_response(r: Refund) -> RefundResponse {
    let money = |minor| format_minor(minor, r.currency);
    RefundResponse {
        amount: money(r.amount_minor),
        taxes: money(r.taxes_minor),
        total: money(r.total_minor),
        id: r.id,
        fund: r.fund_code,
        kind: r.kind,
        contribution_id: r.contribution_id,
        worker_id: r.worker_id,
        contract_id: r.contract_id,
        rebate_code: r.rebate_code,
        reason: r.reason,
        status: r.status,
        currency: r.currency,
        decision_reason: r.decision_reason,
        decided_by: r.decided_by,
        decided_at: r.decided_at.map(crate::time::rfc3339),
        approval_entry_id: r.approval_entry_id,
        payment_reference: r.payment_reference,
        paid_by: r.paid_by,
        paid_at: r.paid_at.map(crate::time::rfc3339),
        payment_entry_id: r.payment_entry_id,
        created_at: crate::time::rfc3339(r.created_at),
        created_by: r.created_by,
    }
}

/// `text` trimmed, if it is 1 to [`MAX_TEXT`] characters long; else a refusal naming `field`.
pub(super) fn bounded<'a>(field: &str, text: &'a str) -> AppResult<&'a str> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return Err(AppError::field(
            field,
            "invalid_length",
            format!("must be 1 to {MAX_TEXT} characters"),
        ));
    }
    Ok(text)
}

/// The refund with `id` and its fund, if the caller's token covers it.
fn refund_in_scope(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> AppResult<(Refund, Fund)> {
    let missing = || AppError::not_found(format!("no refund {id}"));
    let refund = refunds::find(conn, id)?.ok_or_else(missing)?;
    let fund = fund_in_scope(conn, caller, &refund.fund_code).map_err(|_| missing())?;
    Ok((refund, fund))
}

/// Ask for a contribution back: its contract was cancelled before it started (admin, officer, ministry).
///
/// Refused while the contract has started (a departure recorded, or its start date come):
/// 409 `CONTRACT_STARTED`; for a reversed contribution (`ALREADY_REVERSED`) and one with a
/// refund requested, approved or paid (`ALREADY_REFUNDED`).
#[utoipa::path(
    tag = "contributions",
    request_body = RefundRequest,
    params(("id" = uuid::Uuid, Path, description = "Contribution id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "The refund, requested", body = RefundResponse),
        (status = 409, description = "`CONTRACT_STARTED`, `ALREADY_REFUNDED`, `ALREADY_REVERSED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/contributions/{id}/refunds")]
pub async fn request_refund(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::RequestRefund)
        .run(&req, body, move |conn, caller, input: RefundRequest| {
            let missing = || AppError::not_found(format!("no contribution {id}"));
            let contribution = contributions::find(conn, &id)?.ok_or_else(missing)?;
            let fund =
                fund_in_scope(conn, caller, &contribution.fund_code).map_err(|_| missing())?;
            in_fund(&fund.code, || {
                let reason = bounded("/reason", &input.reason)?;
                let (refund, event) =
                    refunds::request(conn, &fund, &contribution.id, reason, &caller.subject)?;
                Ok(Done::created(
                    format!("refund {} requested", refund.id),
                    refund_response(refund),
                )
                .with_events(vec![event]))
            })
        })
        .await
}

/// Ask for the rebate the rules in force today grant a worker (admin, officer, ministry).
///
/// The version in force today must have a `rebate`, and the worker at least its `min_years`
/// years of contributions (the days covered by recorded, not reversed contributions, up to
/// today, divided by 365): else 422 `REBATE_NOT_ELIGIBLE` with `years_of_contributions` and
/// `min_years`. One rebate per worker and rebate code: a second is 409 `ALREADY_REBATED`. The
/// rebate is a refund of kind `rebate`, decided and paid through the refund routes; eligibility
/// is checked again when it is decided and paid.
#[utoipa::path(
    tag = "contributions",
    request_body = RebateRequest,
    params(("id" = uuid::Uuid, Path, description = "Worker id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "The rebate, requested", body = RefundResponse),
        (status = 409, description = "`ALREADY_REBATED`", body = crate::error::Problem),
        (status = 422, description = "`REBATE_NOT_ELIGIBLE`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/workers/{id}/rebates")]
pub async fn request_rebate(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::RequestRefund)
        .run(&req, body, move |conn, caller, input: RebateRequest| {
            let (worker, fund) = super::workers::worker_in_scope(conn, caller, &id)?;
            in_fund(&fund.code, || {
                let reason = bounded("/reason", &input.reason)?;
                let (rebate, event) =
                    refunds::rebate::request(conn, &fund, &worker.id, reason, &caller.subject)?;
                Ok(Done::created(
                    format!("rebate {} requested", rebate.id),
                    refund_response(rebate),
                )
                .with_events(vec![event]))
            })
        })
        .await
}

/// Approve or reject a requested refund (admin, officer).
///
/// Approval re-checks the contribution and its contract, books the contribution's income and
/// taxes back to 2200 refunds payable (in its currency) and ends the coverage it bought.
/// A rebate's approval re-checks that the rules in force still grant it (422
/// `REBATE_NOT_ELIGIBLE`) and books 5000 benefit expense to 2200 refunds payable.
/// A refund already decided is 409 `REFUND_STATUS_CONFLICT`.
#[utoipa::path(
    tag = "contributions",
    request_body = RefundDecisionRequest,
    params(("id" = uuid::Uuid, Path, description = "Refund id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The refund, approved or rejected", body = RefundResponse),
        (status = 409, description = "`REFUND_STATUS_CONFLICT`, `CONTRACT_STARTED`, `ALREADY_REVERSED`, `PERIOD_CLOSED`", body = crate::error::Problem),
        (status = 422, description = "`REBATE_NOT_ELIGIBLE`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/refunds/{id}/decision")]
pub async fn decide_refund(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::DecideRefund)
        .run(
            &req,
            body,
            move |conn, caller, input: RefundDecisionRequest| {
                let (refund, fund) = refund_in_scope(conn, caller, &id)?;
                in_fund(&fund.code, || {
                    let reason = bounded("/reason", &input.reason)?;
                    let (decided, events) = refunds::decide(
                        conn,
                        &fund,
                        &refund.id,
                        input.outcome,
                        reason,
                        &caller.subject,
                    )?;
                    Ok(Done::ok(
                        format!("refund {} {}", decided.id, decided.status.as_str()),
                        refund_response(decided),
                    )
                    .with_events(events))
                })
            },
        )
        .await
}

/// Pay an approved refund out of cash (admin, officer).
///
/// Books refunds payable to cash, dated today; refused with 409 `INSUFFICIENT_FUNDS` when cash
/// does not cover it, and `REFUND_STATUS_CONFLICT` unless the refund is approved. A rebate is
/// paid only while the rules in force still grant it (422 `REBATE_NOT_ELIGIBLE`).
#[utoipa::path(
    tag = "contributions",
    request_body = RefundPaymentRequest,
    params(("id" = uuid::Uuid, Path, description = "Refund id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The refund, paid", body = RefundResponse),
        (status = 422, description = "`REBATE_NOT_ELIGIBLE`", body = crate::error::Problem),
        (status = 409, description = "`REFUND_STATUS_CONFLICT`, `INSUFFICIENT_FUNDS`, `PERIOD_CLOSED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/refunds/{id}/payment")]
pub async fn pay_refund(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::PayRefund)
        .run(
            &req,
            body,
            move |conn, caller, input: RefundPaymentRequest| {
                let (refund, fund) = refund_in_scope(conn, caller, &id)?;
                in_fund(&fund.code, || {
                    let reference = match input.reference.as_deref() {
                        Some(r) => Some(bounded("/reference", r)?),
                        None => None,
                    };
                    let (paid, event) =
                        refunds::pay(conn, &fund, &refund.id, reference, &caller.subject)?;
                    Ok(
                        Done::ok(format!("refund {} paid", paid.id), refund_response(paid))
                            .with_events(vec![event]),
                    )
                })
            },
        )
        .await
}

/// Read one refund.
#[utoipa::path(
    tag = "contributions",
    params(("id" = uuid::Uuid, Path, description = "Refund id")),
    responses(
        (status = 200, description = "The refund", body = RefundResponse),
        (status = 404, description = "`NOT_FOUND`", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/refunds/{id}")]
pub async fn get_refund(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> AppResult<web::Json<RefundResponse>> {
    caller.require(Act::ReadFunds)?;
    let id = path.into_inner();
    let refund = read(&state, move |conn| {
        Ok(refund_in_scope(conn, &caller, &id)?.0)
    })
    .await?;
    Ok(web::Json(refund_response(refund)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RefundQuery {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// List a fund's refunds in request order.
#[utoipa::path(
    tag = "contributions",
    params(("fund" = String, Path, description = "Fund code"), RefundQuery),
    responses(
        (status = 200, description = "A page of refunds", body = Page<RefundResponse>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/refunds")]
pub async fn list_refunds(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<RefundQuery>,
) -> AppResult<Page<RefundResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let request = PageRequest::new(q.after, q.limit)?;
    super::read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let found = refunds::list(conn, &fund, request.after.as_deref(), request.rows())?;
        let (rows, next) = request.cut(found, |r| r.id.clone());
        Ok(Page {
            items: rows.into_iter().map(refund_response).collect(),
            next,
        })
    })
    .await
}

//! Bulk receipt routes: book a transfer, match it to workers' contributions,
//! read, list.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::contributions::{contribution_response, ContributionRequest, ContributionResponse};
use super::extract::Query;
use super::page::PageRequest;
use super::parties::text;
use super::write::{in_fund, Done, Mutation};
use super::{fund_in_scope, read, AppState, Page};
use crate::auth::{Act, Caller};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, FieldError};
use crate::funds::Fund;
use crate::money::{format_minor, to_minor, Currency, DecimalString};
use crate::receipts::{self, NewPayer, NewReceipt, Receipt, MAX_MATCH_ITEMS};
use crate::rules::document::PayerType;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(record_receipt)
        .service(match_receipt)
        .service(get_receipt)
        .service(list_receipts);
}

/// Who sent the transfer: a registered agency or employer of the fund, or the government.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReceiptPayerRequest {
    /// A party of the fund's registry; the contributions matched name its kind as payer.
    #[schema(title = "PartyPayer")]
    Party {
        #[schema(format = Uuid)]
        party_id: String,
    },
    /// The government (a matching contribution); the contributions matched name `government`.
    #[schema(title = "GovernmentPayer")]
    Government,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"payer": {"type": "party", "party_id": "01a24cf6-ef90-7d2e-8f3a-6b2c1d4e5f60"}, "amount": "6000.00", "currency": "KES", "received_on": "2026-02-01", "reference": "KCB-IN-2026-7781"}))]
pub struct ReceiptRequest {
    pub payer: ReceiptPayerRequest,
    /// The whole transfer.
    pub amount: DecimalString,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// The value date of the transfer: not after today.
    #[serde(deserialize_with = "crate::date::strict")]
    pub received_on: NaiveDate,
    /// The bank's reference: one receipt per reference in a fund.
    pub reference: String,
}

impl ReceiptRequest {
    fn validate(self) -> AppResult<NewReceipt> {
        let mut errors = Vec::new();
        let currency = Currency::parse(&self.currency)
            .map_err(|e| errors.push(FieldError::money("/currency", &e)))
            .ok();
        let amount = currency.and_then(|c| {
            to_minor(self.amount.0, c)
                .map_err(|e| errors.push(FieldError::money("/amount", &e)))
                .ok()
        });
        if self.received_on > crate::time::today() {
            errors.push(FieldError::new(
                "/received_on",
                "in_future",
                "must not be after today (UTC)",
            ));
        }
        let reference = text("/reference", &self.reference, &mut errors);
        match (currency, amount, reference) {
            (Some(currency), Some(amount_minor), Some(reference)) if errors.is_empty() => {
                Ok(NewReceipt {
                    payer: match self.payer {
                        ReceiptPayerRequest::Party { party_id } => NewPayer::Party(party_id),
                        ReceiptPayerRequest::Government => NewPayer::Government,
                    },
                    amount_minor,
                    currency,
                    received_on: self.received_on,
                    reference,
                })
            }
            _ => Err(AppError::validation(errors)),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [{"worker_id": "0193b0c4-5d2e-7a41-9c3f-2b8e6d1a4f70", "contract_id": "0193b0c4-6e3f-7b52-8d40-3c9f7e2b5a81", "paid_on": "2026-02-01", "amount": "2000.00", "currency": "KES", "payers": [{"type": "agency", "amount": "2000.00", "reference": "NEA/RA/2024/117"}], "external_ref": "KCB-IN-2026-7781/1"}]}))]
pub struct MatchRequest {
    /// Each worker's contribution paid by the transfer, as `POST /v1/funds/{fund}/contributions`
    /// takes it: in the receipt's currency, paid on or after it was received, its payers the
    /// receipt's payer. 1 to 1000 items.
    pub items: Vec<ContributionRequest>,
}

/// A contribution matched to a receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchResponse {
    #[schema(format = Uuid)]
    pub contribution_id: String,
    #[schema(format = Uuid)]
    pub worker_id: String,
    /// The contribution with its taxes.
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    /// False once the contribution was reversed: its money is unmatched again.
    pub standing: bool,
    #[schema(format = DateTime)]
    pub matched_at: String,
    pub matched_by: String,
}

/// A bulk transfer and what of it is matched to workers' contributions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01a24cf6-efb0-7a4b-8c5d-6e7f8a9b0c1d", "fund": "KE-MWF", "payer_type": "agency", "party_id": "01a24cf6-ef90-7d2e-8f3a-6b2c1d4e5f60", "currency": "KES", "amount": "6000.00", "matched": "2000.00", "unmatched": "4000.00", "received_on": "2026-12-01", "reference": "KCB-IN-2026-7781", "journal_entry_id": "01a24cf6-efb1-7b5c-9d6e-7f8a9b0c1d2e", "matches": [{"contribution_id": "01a24cf6-efb2-7c6d-8e7f-8a9b0c1d2e3f", "worker_id": "0193b0c4-5d2e-7a41-9c3f-2b8e6d1a4f70", "amount": "2000.00", "standing": true, "matched_at": "2026-12-01T10:00:00.000000Z", "matched_by": "officer.njeri"}], "created_at": "2026-12-01T09:00:00.000000Z", "created_by": "officer.njeri"}))]
pub struct ReceiptResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub fund: String,
    pub payer_type: PayerType,
    #[schema(required = true, format = Uuid)]
    pub party_id: Option<String>,
    pub currency: Currency,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    /// What its standing matched contributions hold.
    #[schema(value_type = crate::money::DecimalString)]
    pub matched: String,
    /// What is still to match (held on 2300 unallocated receipts).
    #[schema(value_type = crate::money::DecimalString)]
    pub unmatched: String,
    pub received_on: NaiveDate,
    pub reference: String,
    /// The entry that booked it (cash against unallocated receipts).
    #[schema(format = Uuid)]
    pub journal_entry_id: String,
    pub matches: Vec<MatchResponse>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
}

/// What a match request answers: the receipt after, and the contributions it matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchedResponse {
    pub receipt: ReceiptResponse,
    /// One per item, in order: recorded now, or matched by an earlier request with the same
    /// `external_ref`.
    pub contributions: Vec<ContributionResponse>,
}

fn receipt_response(conn: &mut DbConnection, r: Receipt) -> AppResult<ReceiptResponse> {
    let money = |minor| format_minor(minor, r.currency);
    let matches = receipts::matches_of(conn, &r.id)?
        .into_iter()
        .map(|m| MatchResponse {
            amount: money(m.amount_minor),
            contribution_id: m.contribution_id,
            worker_id: m.worker_id,
            standing: m.standing,
            matched_at: crate::time::rfc3339(m.matched_at),
            matched_by: m.matched_by,
        })
        .collect();
    Ok(ReceiptResponse {
        amount: money(r.amount_minor),
        matched: money(r.matched_minor),
        unmatched: money(r.amount_minor - r.matched_minor),
        id: r.id,
        fund: r.fund_code,
        payer_type: r.payer_type,
        party_id: r.party_id,
        currency: r.currency,
        received_on: r.received_on,
        reference: r.reference,
        journal_entry_id: r.journal_entry_id,
        matches,
        created_at: crate::time::rfc3339(r.created_at),
        created_by: r.created_by,
    })
}

/// The receipt with `id` and its fund, if the caller's token covers it.
fn receipt_in_scope(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> AppResult<(Receipt, Fund)> {
    let missing = || AppError::not_found(format!("no receipt {id}"));
    let receipt = receipts::find(conn, id)?.ok_or_else(missing)?;
    let fund = fund_in_scope(conn, caller, &receipt.fund_code).map_err(|_| missing())?;
    Ok((receipt, fund))
}

/// Book a bulk transfer from an agency, an employer or the government (admin, officer).
///
/// Books 1000 cash against 2300 unallocated receipts on `received_on`. A bank reference already
/// recorded in the fund is 409 `RECEIPT_ALREADY_RECORDED` naming its `receipt_id`.
#[utoipa::path(
    tag = "recovery",
    request_body = ReceiptRequest,
    params(("fund" = String, Path, description = "Fund code"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "The receipt, nothing matched yet", body = ReceiptResponse),
        (status = 409, description = "`RECEIPT_ALREADY_RECORDED`, `PERIOD_CLOSED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/receipts")]
pub async fn record_receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    Mutation::new(&req, state, caller, Act::RecordReceipt)
        .fund(&code)
        .run(&req, body, move |conn, caller, input: ReceiptRequest| {
            let fund = fund_in_scope(conn, caller, &code)?;
            let new = input.validate()?;
            let (receipt, event) = receipts::record(conn, &fund, &new, &caller.subject)?;
            Ok(Done::created(
                format!("receipt {} {}", receipt.id, receipt.reference),
                receipt_response(conn, receipt)?,
            )
            .with_events(vec![event]))
        })
        .await
}

/// Match a bulk transfer to the workers' contributions it pays (admin, officer).
///
/// Each item is recorded as a contribution with every check `POST .../contributions` makes, its
/// total debited to 2300 unallocated receipts instead of cash, and gives the worker coverage.
/// All or nothing: a refused item refuses the request, naming `/items/{i}`; items adding up to
/// more than the receipt has unmatched are 409 `RECEIPT_OVER_MATCHED`. An item whose
/// `external_ref` names a contribution this receipt matched already is that contribution again.
#[utoipa::path(
    tag = "recovery",
    request_body = MatchRequest,
    params(("id" = uuid::Uuid, Path, description = "Receipt id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "Contributions recorded and matched", body = MatchedResponse),
        (status = 200, description = "Every item was matched already", body = MatchedResponse),
        (status = 409, description = "`RECEIPT_OVER_MATCHED`, `EXTERNAL_REF_CONFLICT`, `PERIOD_CLOSED`", body = crate::error::Problem),
        (status = 422, description = "`CONTRIBUTION_AMOUNT_MISMATCH`, `VALIDATION_FAILED` and the other refusals of a contribution, under `/items/{i}`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/receipts/{id}/matches")]
pub async fn match_receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::MatchReceipt)
        .run(&req, body, move |conn, caller, input: MatchRequest| {
            let (receipt, fund) = receipt_in_scope(conn, caller, &id)?;
            in_fund(&fund.code, || {
                if input.items.is_empty() || input.items.len() > MAX_MATCH_ITEMS {
                    return Err(AppError::validation(vec![FieldError::new(
                        "/items",
                        "out_of_range",
                        format!("name 1 to {MAX_MATCH_ITEMS} items"),
                    )
                    .with_limit(MAX_MATCH_ITEMS)]));
                }
                let items = (input.items.iter().enumerate())
                    .map(|(i, item)| item.validate(&format!("/items/{i}")))
                    .collect::<AppResult<Vec<_>>>()?;
                let (after, matched, events) =
                    receipts::match_items(conn, &fund, &receipt.id, &items, &caller.subject)?;
                let response = MatchedResponse {
                    receipt: receipt_response(conn, after)?,
                    contributions: matched.into_iter().map(contribution_response).collect(),
                };
                let target = format!("receipt {} matched", receipt.id);
                let done = if events.is_empty() {
                    Done::ok(target, response)
                } else {
                    Done::created(target, response)
                };
                Ok(done.with_events(events))
            })
        })
        .await
}

/// Read one receipt with its matches.
#[utoipa::path(
    tag = "recovery",
    params(("id" = uuid::Uuid, Path, description = "Receipt id")),
    responses(
        (status = 200, description = "The receipt", body = ReceiptResponse),
        (status = 404, description = "`NOT_FOUND`", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/receipts/{id}")]
pub async fn get_receipt(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> AppResult<web::Json<ReceiptResponse>> {
    caller.require(Act::ReadFunds)?;
    let id = path.into_inner();
    let response = read(&state, move |conn| {
        let (receipt, _) = receipt_in_scope(conn, &caller, &id)?;
        receipt_response(conn, receipt)
    })
    .await?;
    Ok(web::Json(response))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// List a fund's receipts in the order recorded.
#[utoipa::path(
    tag = "recovery",
    params(("fund" = String, Path, description = "Fund code"), ReceiptQuery),
    responses(
        (status = 200, description = "A page of receipts", body = Page<ReceiptResponse>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/receipts")]
pub async fn list_receipts(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<ReceiptQuery>,
) -> AppResult<Page<ReceiptResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let request = PageRequest::new(q.after, q.limit)?;
    super::read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let found = receipts::list(conn, &fund, request.after.as_deref(), request.rows())?;
        let (rows, next) = request.cut(found, |r| r.id.clone());
        let items = (rows.into_iter())
            .map(|r| receipt_response(conn, r))
            .collect::<AppResult<_>>()?;
        Ok(Page { items, next })
    })
    .await
}

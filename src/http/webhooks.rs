//! Webhook routes: a fund's subscriptions, their delivery logs, redelivery.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::extract::UndocumentedBody;
use super::page::PageRequest;
use super::write::{Done, Mutation};
use super::{fund_in_scope, read, AppState, Page};
use crate::auth::{Act, Caller};
use crate::error::{AppError, AppResult};
use crate::webhooks::{self, Delivery, DeliveryStatus, NewSubscription, Subscription};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(delete_webhook)
        .service(list_deliveries)
        .service(redeliver);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://partner.example.org/mwf/webhooks", "event_types": ["claim.approved", "claim.paid"]}))]
pub struct CreateWebhook {
    /// Where deliveries are POSTed: an absolute `http://` or `https://` URL, without credentials.
    #[schema(
        example = "https://partner.example.org/mwf/webhooks",
        max_length = 2000
    )]
    pub url: String,
    /// The event types to deliver; empty or absent means every type.
    #[serde(default)]
    #[schema(value_type = Vec<crate::audit::events::EventType>, example = json!(["claim.paid"]))]
    pub event_types: Vec<String>,
}

/// A webhook subscription (its secret is shown only when it is created).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub fund: String,
    pub url: String,
    /// The event types delivered; empty means every type.
    #[schema(value_type = Vec<crate::audit::events::EventType>)]
    pub event_types: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the subscription was deleted; nothing is delivered after.
    #[schema(required = true, format = DateTime)]
    pub disabled_at: Option<String>,
}

impl From<Subscription> for WebhookResponse {
    fn from(s: Subscription) -> Self {
        WebhookResponse {
            id: s.id,
            fund: s.fund_code,
            url: s.url,
            event_types: s.event_types,
            created_at: crate::time::rfc3339(s.created_at),
            disabled_at: s.disabled_at.map(crate::time::rfc3339),
        }
    }
}

/// A new subscription with its signing secret, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhookResponse {
    #[serde(flatten)]
    pub webhook: WebhookResponse,
    /// `whsec_` and the base64 of 32 random bytes: the key of every delivery's
    /// `webhook-signature` (Standard Webhooks). Keep it; it is never shown again.
    #[schema(pattern = "^whsec_[A-Za-z0-9+/]+={0,2}$")]
    pub secret: String,
}

/// Subscribe a receiver to the fund's events (admin; a ministry for its funds).
///
/// Every event of the fund of the chosen types is POSTed to `url` as
/// `{"type", "timestamp", "data"}` (`data` is the event as `GET /v1/events` shows it),
/// signed as the Standard Webhooks specification says: headers `webhook-id` (the delivery's id,
/// the same on every retry), `webhook-timestamp` (unix seconds of the attempt) and
/// `webhook-signature` (`v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed
/// with the secret's decoded bytes). A 2xx answer delivers; anything else or no answer within the
/// timeout is retried with exponential backoff, then the delivery is marked `failed`. A fund's
/// events arrive in order: a delivery waits while an earlier one is pending.
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhook,
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 201, description = "Created, with its secret", body = CreatedWebhookResponse),
        (status = 400, description = "`LIMIT_EXCEEDED`: the fund has the most subscriptions it may have", body = crate::error::Problem),
        (status = 404, description = "`NOT_FOUND` (also for funds outside the token's scope)", body = crate::error::Problem),
        (status = 422, description = "`VALIDATION_FAILED`: a bad `/url` or an unknown `/event_types/N`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/webhooks")]
pub async fn create_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    Mutation::new(&req, state, caller, Act::SubscribeWebhook)
        .fund(&code)
        .run(&req, body, move |conn, caller, input: CreateWebhook| {
            let new = NewSubscription::parse(&input.url, &input.event_types)
                .map_err(AppError::validation)?;
            let fund = fund_in_scope(conn, caller, &code)?;
            let created = webhooks::subscribe(conn, &fund, caller.principal(), new)?;
            let target = format!("webhook {}", created.subscription.id);
            let body = CreatedWebhookResponse {
                webhook: created.subscription.into(),
                secret: created.secret,
            };
            Ok(Done::created(target, body))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookPageQuery {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// List the fund's webhook subscriptions, deleted ones included, oldest first
/// (admin, ministry, auditor).
#[utoipa::path(
    tag = "webhooks",
    params(("fund" = String, Path, description = "Fund code"), WebhookPageQuery),
    responses(
        (status = 200, description = "A page of subscriptions", body = Page<WebhookResponse>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<WebhookPageQuery>,
) -> AppResult<web::Json<Page<WebhookResponse>>> {
    caller.require(Act::ReadWebhooks)?;
    let code = path.into_inner();
    let request = PageRequest::new(query.0.after, query.0.limit)?;
    let page = read(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let rows = webhooks::list(conn, &fund.code, request.after.as_deref(), request.rows())?;
        let (rows, next) = request.cut(rows, |s| s.id.clone());
        Ok(Page {
            items: rows.into_iter().map(WebhookResponse::from).collect(),
            next,
        })
    })
    .await?;
    Ok(web::Json(page))
}

/// Read one webhook subscription (admin, ministry, auditor).
#[utoipa::path(
    tag = "webhooks",
    params(("fund" = String, Path, description = "Fund code"), ("id" = uuid::Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription", body = WebhookResponse),
        (status = 404, description = "`NOT_FOUND`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> AppResult<web::Json<WebhookResponse>> {
    caller.require(Act::ReadWebhooks)?;
    let (code, id) = path.into_inner();
    let subscription = read(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        webhooks::find(conn, &fund.code, &id)
    })
    .await?;
    Ok(web::Json(subscription.into()))
}

/// The body of a request the path says all of: nothing, or `{}` (not
/// documented: clients send no body).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoBody {}

/// Delete a webhook subscription (admin; a ministry for its funds).
///
/// Nothing more is delivered: its pending deliveries are marked `failed`. The subscription and
/// its delivery log stay readable, with `disabled_at` set. Send no body (or `{}`).
#[utoipa::path(
    tag = "webhooks",
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("id" = uuid::Uuid, Path, description = "Subscription id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "The deleted subscription", body = WebhookResponse),
        (status = 404, description = "`NOT_FOUND` (also for a subscription already deleted)", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[delete("/v1/funds/{fund}/webhooks/{id}")]
pub async fn delete_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    UndocumentedBody(body): UndocumentedBody,
) -> AppResult<HttpResponse> {
    let (code, id) = path.into_inner();
    Mutation::new(&req, state, caller, Act::DeleteWebhook)
        .fund(&code)
        .bodiless()
        .run(&req, body, move |conn, caller, _: NoBody| {
            let fund = fund_in_scope(conn, caller, &code)?;
            let subscription = webhooks::disable(conn, &fund.code, &id)?;
            Ok(Done::ok(
                format!("webhook {id}"),
                WebhookResponse::from(subscription),
            ))
        })
        .await
}

/// One attempt to deliver.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttemptResponse {
    #[schema(format = DateTime)]
    pub attempted_at: String,
    /// The receiver's HTTP status, if it answered.
    #[schema(required = true)]
    pub status_code: Option<i32>,
    /// Why the attempt failed (a status other than 2xx, a timeout, a refused connection).
    #[schema(required = true)]
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// One delivery of an event to a subscription, with its attempts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryResponse {
    /// Also the `webhook-id` header of every attempt.
    #[schema(format = Uuid)]
    pub id: String,
    pub event_id: i64,
    #[schema(value_type = crate::audit::events::EventType)]
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Attempts since it was written or last redelivered.
    pub attempts: i32,
    /// When it is next sent, while `pending`.
    #[schema(required = true, format = DateTime)]
    pub next_attempt_at: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub delivered_at: Option<String>,
    #[schema(required = true)]
    pub last_error: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Every attempt, oldest first (redeliveries included).
    pub attempt_log: Vec<AttemptResponse>,
}

impl From<Delivery> for DeliveryResponse {
    fn from(d: Delivery) -> Self {
        use crate::time::rfc3339;
        DeliveryResponse {
            next_attempt_at: (d.status == DeliveryStatus::Pending)
                .then(|| rfc3339(d.next_attempt_at)),
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            delivered_at: d.delivered_at.map(rfc3339),
            last_error: d.last_error,
            created_at: rfc3339(d.created_at),
            attempt_log: (d.log.into_iter())
                .map(|a| AttemptResponse {
                    attempted_at: rfc3339(a.attempted_at),
                    status_code: a.status_code,
                    error: a.error,
                    duration_ms: a.duration_ms,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only deliveries in this status.
    pub status: Option<DeliveryStatus>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// The delivery log of a subscription: its deliveries in event order, each
/// with its attempts (admin, ministry, auditor).
#[utoipa::path(
    tag = "webhooks",
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("id" = uuid::Uuid, Path, description = "Subscription id"),
        DeliveryQuery
    ),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<DeliveryResponse>),
        (status = 404, description = "`NOT_FOUND`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    query: Query<DeliveryQuery>,
) -> AppResult<web::Json<Page<DeliveryResponse>>> {
    caller.require(Act::ReadWebhooks)?;
    let (code, id) = path.into_inner();
    let q = query.0;
    let request = PageRequest::new(q.after, q.limit)?.by_position()?;
    let page = read(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let subscription = webhooks::find(conn, &fund.code, &id)?;
        let rows = webhooks::deliveries(
            conn,
            &subscription.id,
            q.status,
            request.after,
            request.rows(),
        )?;
        let (rows, next) = request.cut(rows, |d| d.event_id);
        Ok(Page {
            items: rows.into_iter().map(DeliveryResponse::from).collect(),
            next,
        })
    })
    .await?;
    Ok(web::Json(page))
}

/// Send a delivery again (admin; a ministry for its funds).
///
/// The delivery is pending again, due now, its attempts counted from zero (its log is kept),
/// with the same `webhook-id`. It goes in its event's place: later pending deliveries of the
/// subscription wait for it. Send no body (or `{}`).
#[utoipa::path(
    tag = "webhooks",
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("id" = uuid::Uuid, Path, description = "Subscription id"),
        ("delivery" = uuid::Uuid, Path, description = "Delivery id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 202, description = "Queued again", body = DeliveryResponse),
        (status = 404, description = "`NOT_FOUND` (also when the subscription was deleted)", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/webhooks/{id}/deliveries/{delivery}/redeliver")]
pub async fn redeliver(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    UndocumentedBody(body): UndocumentedBody,
) -> AppResult<HttpResponse> {
    let (code, id, delivery_id) = path.into_inner();
    let worker = state.clone();
    let response = Mutation::new(&req, state, caller, Act::RedeliverWebhook)
        .fund(&code)
        .bodiless()
        .run(&req, body, move |conn, caller, _: NoBody| {
            let fund = fund_in_scope(conn, caller, &code)?;
            let subscription = webhooks::find_active(conn, &fund.code, &id)?;
            let delivery = webhooks::redeliver(conn, &subscription.id, &delivery_id)?;
            Ok(Done::new(
                202,
                format!("webhook {id} delivery {delivery_id}"),
                DeliveryResponse::from(delivery),
            ))
        })
        .await?;
    worker.webhooks.wake();
    Ok(response)
}

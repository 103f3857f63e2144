//! The event feed route: filtered pages of domain events, and long polling for
//! partners that want new events as they are committed.

use std::time::{Duration, Instant};

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::page::PageRequest;
use super::{fund_in_scope, read, AppState, Page};
use crate::audit::events::{self, EventFilter, EventType};
use crate::auth::{Act, Caller};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};

/// The longest a request may wait for new events: under the 60 seconds after
/// which common proxies close an idle request.
pub const MAX_WAIT_SECONDS: u64 = 30;
/// How often a waiting request looks for new events. The feed is read from the
/// database, so an event committed by any process is seen within this time.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_events);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// The `next` cursor (or the last `id`) seen; events after it are returned.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// Only this fund's events (a fund code in the token's scope; another is 404).
    pub fund: Option<String>,
    /// Only events of these types, comma-separated (`claim.approved,claim.paid`).
    #[serde(rename = "type")]
    #[param(value_type = Option<Vec<EventType>>, style = Form, explode = false)]
    pub types: Option<String>,
    /// Only events about this worker: its enrollment, contributions and claims.
    pub worker: Option<String>,
    /// Only events whose subject is this claim.
    pub claim: Option<String>,
    /// Seconds to wait, 0 to 30 (default 0), when no event after `after` passes
    /// the filters yet: the answer comes as soon as one is committed, or empty
    /// when the time is up.
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
}

impl EventQuery {
    /// The filter the query asks for, within the caller's scope.
    fn filter(&self, caller: &Caller) -> AppResult<EventFilter> {
        Ok(EventFilter {
            scope: (!caller.all_funds()).then(|| caller.fund_codes().to_vec()),
            fund_code: self.fund.clone(),
            types: event_types(self.types.as_deref())?,
            worker_id: self.worker.clone(),
            subject_id: self.claim.clone(),
        })
    }

    /// How long to wait for an event, checked against [`MAX_WAIT_SECONDS`].
    fn wait(&self) -> AppResult<Duration> {
        match self.wait {
            None => Ok(Duration::ZERO),
            Some(s) if s <= MAX_WAIT_SECONDS => Ok(Duration::from_secs(s)),
            Some(s) => Err(query_refused(
                "wait",
                "out_of_range",
                format!("must be 0 to {MAX_WAIT_SECONDS} seconds, got {s}"),
            )),
        }
    }
}

/// Reads `claim.paid,claim.approved` as event types; an unknown one is refused by name.
fn event_types(list: Option<&str>) -> AppResult<Vec<EventType>> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .map(|name| {
            EventType::parse(name).ok_or_else(|| {
                query_refused(
                    "type",
                    "unknown_event_type",
                    format!("{name:?} is not an event type"),
                )
            })
        })
        .collect()
}

fn query_refused(field: &str, code: &str, message: String) -> AppError {
    AppError::new(ErrorCode::InvalidQuery, format!("{field}: {message}"))
        .with_errors(vec![FieldError::new(field, code, message)])
}

/// One domain event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventResponse {
    /// Increases in commit order: remember the last one seen and ask for events after it.
    pub id: i64,
    /// What happened (`worker.enrolled`, `claim.paid`, …).
    #[serde(rename = "type")]
    #[schema(value_type = crate::audit::events::EventType)]
    pub event_type: String,
    pub fund: String,
    pub subject_id: String,
    pub occurred_at: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<events::Event> for EventResponse {
    fn from(e: events::Event) -> Self {
        EventResponse {
            id: e.id,
            event_type: e.event_type,
            fund: e.fund_code,
            subject_id: e.subject_id,
            occurred_at: crate::time::rfc3339(e.occurred_at),
            data: e.payload,
        }
    }
}

/// Domain events in commit order, for partner systems that poll, filtered by
/// fund, type, worker and claim. A token limited to some funds sees only their
/// events. With `wait`, an empty page is held until an event arrives or the
/// wait is over (long polling): ask again with the last `next` or `id`.
#[utoipa::path(
    tag = "events",
    params(EventQuery),
    responses(
        (status = 200, description = "A page of events (empty when none arrived within `wait`)", body = Page<crate::audit::events::FeedEvent>),
        (status = 404, description = "The `fund` filter names a fund outside the token's scope", body = crate::error::Problem),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<EventQuery>,
) -> AppResult<Page<EventResponse>> {
    caller.require(Act::ReadFunds)?;
    let query = query.0;
    let filter = query.filter(&caller)?;
    let deadline = Instant::now() + query.wait()?;
    let request = PageRequest::new(query.after, query.limit)?.by_position()?;
    if let Some(code) = query.fund {
        read(&state, move |conn| {
            fund_in_scope(conn, &caller, &code).map(drop)
        })
        .await?;
    }
    loop {
        let (after, rows, filter) = (request.after, request.rows(), filter.clone());
        let found = read(&state, move |conn| events::list(conn, &filter, after, rows)).await?;
        let now = Instant::now();
        if !found.is_empty() || now >= deadline {
            let (found, next) = request.cut(found, |e| e.id);
            let items = found.into_iter().map(EventResponse::from).collect();
            return Ok(Page { items, next });
        }
        actix_web::rt::time::sleep(POLL_INTERVAL.min(deadline - now)).await;
    }
}

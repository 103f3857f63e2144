//! The event feed route.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::page::PageRequest;
use super::{read, AppState, Page};
use crate::audit::events;
use crate::auth::{Act, Caller};
use crate::error::AppResult;

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

/// Domain events in commit order, for partner systems that poll. A token limited
/// to some funds sees only their events.
#[utoipa::path(
    tag = "events",
    params(EventQuery),
    responses(
        (status = 200, description = "A page of events", body = Page<crate::audit::events::FeedEvent>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<EventQuery>,
) -> AppResult<web::Json<Page<EventResponse>>> {
    caller.require(Act::ReadFunds)?;
    let request = PageRequest::new(query.0.after, query.0.limit)?.by_position()?;
    let page = read(&state, move |conn| {
        let scope = (!caller.all_funds()).then(|| caller.fund_codes().to_vec());
        let rows = events::list(conn, scope.as_deref(), request.after, request.rows())?;
        let (rows, next) = request.cut(rows, |e| e.id);
        Ok(Page {
            items: rows
                .into_iter()
                .map(|e| EventResponse {
                    id: e.id,
                    event_type: e.event_type,
                    fund: e.fund_code,
                    subject_id: e.subject_id,
                    occurred_at: crate::time::rfc3339(e.occurred_at),
                    data: e.payload,
                })
                .collect(),
            next,
        })
    })
    .await?;
    Ok(web::Json(page))
}

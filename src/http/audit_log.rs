//! The audit log route.

use actix_web::{get, web};
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::page::{self, PageRequest};
use super::{read_replica, AppState, Page};
use crate::audit::{self, AuditFilter};
use crate::auth::{Act, Caller};
use crate::error::AppResult;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_audit_log);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// First day, inclusive (UTC).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub from: Option<NaiveDate>,
    /// Last day, inclusive (UTC).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub to: Option<NaiveDate>,
    /// Only this actor (the token's `sub`).
    pub actor: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// One audit record: who did what to which target, when, and how it ended.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryResponse {
    pub id: i64,
    #[schema(format = DateTime)]
    pub occurred_at: String,
    /// The token's `sub`.
    pub actor: String,
    #[schema(value_type = crate::auth::Role)]
    pub role: String,
    /// What was attempted (`fund.create`, `journal_entry.post`, …).
    pub action: String,
    #[schema(required = true)]
    pub fund: Option<String>,
    /// The record created or changed (`journal_entry 0193…`).
    #[schema(required = true)]
    pub target: Option<String>,
    pub request_id: String,
    /// `succeeded` or `refused:<CODE>`.
    pub outcome: String,
    /// The HTTP status answered.
    pub status: i32,
}

/// The audit records a caller may see between two days (inclusive, UTC), of
/// one actor if given, after a cursor.
pub fn audit_filter(
    caller: &Caller,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    actor: Option<String>,
    after: Option<&str>,
    limit: i64,
) -> AppResult<AuditFilter> {
    if let (Some(from), Some(to)) = (from, to) {
        crate::reports::check_period(from, to)?;
    }
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0);
    Ok(AuditFilter {
        from: from.and_then(midnight),
        to: to
            .and_then(|d| d.checked_add_days(Days::new(1)))
            .and_then(midnight),
        actor,
        fund_codes: (!caller.all_funds()).then(|| caller.fund_codes().to_vec()),
        after_id: page::position(after)?,
        limit,
    })
}

/// List the audit log, oldest first (admin, auditor). A token limited to some
/// funds sees only their records.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit records", body = Page<AuditEntryResponse>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/audit-log")]
pub async fn list_audit_log(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<AuditQuery>,
) -> AppResult<Page<AuditEntryResponse>> {
    caller.require(Act::ReadAuditTrail)?;
    let q = query.0;
    // The cursor is read by the filter, after the period is checked.
    let request = PageRequest::new(q.after, q.limit)?;
    let filter = audit_filter(
        &caller,
        q.from,
        q.to,
        q.actor,
        request.after.as_deref(),
        request.rows(),
    )?;
    let page = read_replica(&state, move |conn| {
        let (rows, next) = request.cut(audit::list(conn, &filter)?, |r| r.id);
        Ok(Page {
            items: rows
                .into_iter()
                .map(|r| AuditEntryResponse {
                    id: r.id,
                    occurred_at: crate::time::rfc3339(r.occurred_at),
                    actor: r.actor,
                    role: r.role,
                    action: r.action,
                    fund: r.fund_code,
                    target: r.target,
                    request_id: r.request_id,
                    outcome: r.outcome,
                    status: r.status,
                })
                .collect(),
            next,
        })
    })
    .await?;
    Ok(page)
}

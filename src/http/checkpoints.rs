//! Verification checkpoints of a fund's ledger: each verification that found
//! no problem, signed off with when and by whom.

use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::Query;
use super::page::PageRequest;
use super::{fund_in_scope, read, AppState, Page};
use crate::auth::{Act, Caller};
use crate::error::AppResult;
use crate::ledger::{self, VerificationCheckpoint};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_checkpoints);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckpointQuery {
    /// The `next` of the page before.
    pub after: Option<String>,
    /// At most this many checkpoints (1 to 500, default 50).
    pub limit: Option<i64>,
}

/// List a fund's verification checkpoints, oldest first (whoever may verify
/// the ledger): each verification that found no problem, with the sequence
/// and hash it verified through, how many entries it walked, whether it
/// walked the whole chain, and when and by whom. A run with
/// `since=checkpoint` starts from the one of the highest sequence.
#[utoipa::path(
    tag = "ledger",
    params(("fund" = String, Path, description = "Fund code"), CheckpointQuery),
    responses(
        (status = 200, description = "A page of checkpoints", body = Page<VerificationCheckpoint>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/ledger/checkpoints")]
pub async fn list_checkpoints(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<CheckpointQuery>,
) -> AppResult<Page<VerificationCheckpoint>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let request = PageRequest::new(q.after, q.limit)?.by_position()?;
    read(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let rows = ledger::list_checkpoints(conn, fund.id, request.after, request.rows())?;
        let (items, next) = request.cut(rows, |c| c.id);
        Ok(Page { items, next })
    })
    .await
}

//! The HTTP layer: routes, request and response types, pagination, errors,
//! authentication extraction and idempotency. It calls the domain services and
//! never touches the schema; the actix traits of domain types (the caller as an
//! extractor, errors as responses) live here too.

mod accounts;
mod audit_log;
mod batch;
mod caller;
mod checkpoints;
mod claims;
mod collect;
pub(crate) mod console;
mod contributions;
pub(crate) mod conventions;
pub(crate) mod deadline;
pub(crate) mod docs;
mod events;
mod exports;
mod extract;
mod funds;
pub(crate) mod group;
mod instalments;
mod journal;
mod openapi;
mod page;
mod parties;
mod payees;
pub(crate) mod problem;
mod receipts;
mod recoveries;
mod refunds;
pub(crate) mod replica;
mod reports;
mod rules;
mod stream;
mod system;
pub(crate) mod text;
mod webhooks;
mod workers;
mod write;

use actix_web::web;

pub use openapi::{openapi, openapi_json};
use page::Page;

use crate::auth::Caller;
use crate::db::{DbConnection, DbPool};
use crate::error::{AppError, AppResult};
use crate::funds::{find_fund, Fund};

/// Shared state of the running service.
pub(crate) struct AppState {
    pub pool: DbPool,
    /// Connections for the reads that tolerate a replica's lag ([`replica`]).
    pub reads: crate::db::ReadPools,
    /// Books single contribution requests in groups ([`group`]).
    pub committer: group::Committer<group::Contributions>,
    /// Books claim submissions in groups ([`group`]).
    pub claim_committer: group::Committer<claims::ClaimSubmissions>,
    /// Sends webhook deliveries; stops when the server does.
    pub webhooks: crate::webhooks::Worker,
}

/// The largest JSON body accepted by ordinary endpoints.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Runs `f` with a pooled connection on the blocking thread pool, inside one
/// read-only snapshot: a response read in several queries (verification, a
/// statement, entries with their postings) is never torn by a booking that
/// commits meanwhile.
async fn read<T, F>(state: &web::Data<AppState>, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
{
    let state = state.clone();
    web::block(move || {
        let mut conn = state.pool.get()?;
        crate::db::read_snapshot(&mut conn, f)
    })
    .await?
}

/// Like [`read`], for a fund-wide read that tolerates a replica's lag (the
/// rule is in [`replica`]): on the read replica when one is configured, with
/// the source noted for the `X-Mwf-Read-Source` header.
async fn read_replica<T, F>(state: &web::Data<AppState>, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
{
    read_replica_pooled(state, |conn, _| f(conn)).await
}

/// [`read_replica`], giving `f` the pool its connection came from as well
/// (a verification reads on its free connections beside its snapshot).
async fn read_replica_pooled<T, F>(state: &web::Data<AppState>, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection, &crate::db::DbPool) -> AppResult<T> + Send + 'static,
{
    let state = state.clone();
    let (outcome, source) = web::block(move || match state.reads.get() {
        Ok((mut conn, source)) => {
            let pool = state.reads.pool_of(source);
            (crate::db::read_snapshot(&mut conn, |c| f(c, pool)), source)
        }
        Err(e) => (Err(e.into()), None),
    })
    .await?;
    if let Some(source) = source {
        replica::note(source);
    }
    outcome
}

/// The fund with `code` if the caller's token covers it. A fund outside the
/// token's scope is reported exactly like a missing one.
fn fund_in_scope(conn: &mut DbConnection, caller: &Caller, code: &str) -> AppResult<Fund> {
    let missing = || AppError::not_found(format!("no fund {code}"));
    if !caller.may_access_fund(code) {
        return Err(missing());
    }
    find_fund(conn, code)?.ok_or_else(missing)
}

/// Registers every route of the API on `cfg`.
pub(crate) fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(system::healthz)
        .service(system::readyz)
        .configure(funds::routes)
        .configure(accounts::routes)
        .configure(journal::routes)
        .configure(rules::routes)
        .configure(workers::routes)
        .configure(contributions::routes)
        .configure(claims::routes)
        .configure(refunds::routes)
        .configure(payees::routes)
        .configure(instalments::routes)
        .configure(events::routes)
        .configure(reports::routes)
        .configure(exports::routes)
        .configure(audit_log::routes)
        .configure(webhooks::routes)
        .configure(parties::routes)
        .configure(recoveries::routes)
        .configure(receipts::routes)
        .configure(checkpoints::routes);
}

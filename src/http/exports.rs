//! Export routes: the ledger of a fund and the audit log, streamed.

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::audit_log::audit_filter;
use super::extract::Query;
use super::stream::{stream, stream_pooled, write_failed, StreamHead};
use super::{fund_in_scope, AppState};
use crate::auth::{Act, Caller};
use crate::error::AppResult;
use crate::export::{self, AuditFormat, LedgerExportRequest, LedgerFormat};
use crate::progress::Progress;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(export_ledger).service(export_audit_log);
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LedgerExportFormat {
    Csv,
    Jsonl,
    Beancount,
    Hledger,
}

impl From<LedgerExportFormat> for LedgerFormat {
    fn from(f: LedgerExportFormat) -> LedgerFormat {
        match f {
            LedgerExportFormat::Csv => LedgerFormat::Csv,
            LedgerExportFormat::Jsonl => LedgerFormat::Jsonl,
            LedgerExportFormat::Beancount => LedgerFormat::Beancount,
            LedgerExportFormat::Hledger => LedgerFormat::Hledger,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerExportQuery {
    /// `csv`, `jsonl`, `beancount` or `hledger`.
    #[param(inline)]
    pub format: LedgerExportFormat,
    /// First effective date, inclusive (default: the first entry). The export
    /// then opens with the balances at the end of the day before.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub from: Option<NaiveDate>,
    /// Last effective date, inclusive (default: the last entry). Closing
    /// balances are as of its end.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub to: Option<NaiveDate>,
    /// csv and jsonl only: start after this sequence (the `next_after` of the
    /// previous page).
    pub after: Option<i64>,
    /// csv and jsonl only: at most this many entries (1 to 1,000,000); more
    /// entries are announced by `next_after` and a `Link: rel="next"` header.
    pub limit: Option<i64>,
}

fn next_link(fund: &str, q: &LedgerExportRequest, format: &str, after: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("format", format);
    if let Some(from) = q.from {
        query.append_pair("from", &from.to_string());
    }
    if let Some(to) = q.to {
        query.append_pair("to", &to.to_string());
    }
    query.append_pair("after", &after.to_string());
    if let Some(limit) = q.limit {
        query.append_pair("limit", &limit.to_string());
    }
    format!(
        "</v1/funds/{fund}/exports/ledger?{}>; rel=\"next\"",
        query.finish()
    )
}

/// Export a fund's ledger (admin, auditor), streamed.
///
/// Entries with an effective date in the range, in sequence order, each with
/// its sequence, id, hash and previous hash; the fund's chain head; the opening
/// balances when `from` is given and the closing balances (equal to
/// `GET /accounts?as_of=to`, or to the current balances without `to`).
/// beancount and hledger files state the closing balances as balance
/// assertions that `bean-check` and `hledger check` enforce to the minor unit.
/// Headers: `X-Mwf-Chain-Head` (`sequence:hash`), and `X-Mwf-Next-After` with a
/// `Link: rel="next"` when a page is limited and more entries follow.
#[utoipa::path(
    tag = "exports",
    params(("fund" = String, Path, description = "Fund code"), LedgerExportQuery),
    responses(
        (status = 200, description = "The export, streamed", content(
            (String = "text/csv"),
            (String = "application/jsonl"),
            (String = "text/plain")
        ), headers(("X-Mwf-Chain-Head" = String), ("X-Mwf-Next-After" = i64), ("Link" = String))),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/exports/ledger")]
pub async fn export_ledger(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<LedgerExportQuery>,
) -> AppResult<HttpResponse> {
    caller.require(Act::ReadAuditTrail)?;
    let code = path.into_inner();
    let q = query.0;
    let format = LedgerFormat::from(q.format);
    let request = LedgerExportRequest {
        format,
        from: q.from,
        to: q.to,
        after: q.after,
        limit: q.limit,
    };
    // The frame is read in one snapshot; the entries a page at a time, each
    // page on a connection taken from the pool for that read only.
    stream_pooled(&state, move |pool, starter| {
        let mut conn = pool.get()?;
        let export = crate::db::read_snapshot(&mut conn, |conn| {
            let fund = fund_in_scope(conn, &caller, &code)?;
            export::prepare(conn, fund, request)
        })?;
        drop(conn);
        let name = LedgerFormat::ALL
            .iter()
            .find(|(_, f)| *f == format)
            .map(|(n, _)| *n)
            .unwrap_or("csv");
        let range = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or("all".into());
        let mut headers = vec![
            (
                "content-disposition",
                format!(
                    "attachment; filename=\"{}-ledger-{}-{}.{}\"",
                    export.fund.code,
                    range(export.request.from),
                    range(export.request.to),
                    format.extension()
                ),
            ),
            (
                "x-mwf-chain-head",
                format!("{}:{}", export.chain_sequence, export.chain_head),
            ),
        ];
        if let Some(after) = export.next_after() {
            headers.push(("x-mwf-next-after", after.to_string()));
            headers.push((
                "link",
                next_link(&export.fund.code, &export.request, name, after),
            ));
        }
        let mut out = starter.start(StreamHead {
            content_type: format.content_type(),
            headers,
        });
        export::write_pooled(pool, &export, &mut out, &mut Progress::hidden())
            .map_err(write_failed)?;
        Ok(())
    })
    .await
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuditExportFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditExportQuery {
    /// `csv` or `jsonl`.
    #[param(inline)]
    pub format: AuditExportFormat,
    /// First day, inclusive (UTC).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub from: Option<NaiveDate>,
    /// Last day, inclusive (UTC).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub to: Option<NaiveDate>,
    /// Only this actor (the token's `sub`).
    pub actor: Option<String>,
    /// Start after this record id.
    pub after: Option<String>,
}

/// Export the audit log (admin, auditor), streamed, oldest first: id, time,
/// actor, role, action, fund, target, request id, outcome and status of every
/// record the filters select. A token limited to some funds sees only theirs.
#[utoipa::path(
    tag = "exports",
    params(AuditExportQuery),
    responses(
        (status = 200, description = "The export, streamed", content(
            (String = "text/csv"),
            (String = "application/jsonl")
        )),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/audit-log/export")]
pub async fn export_audit_log(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<AuditExportQuery>,
) -> AppResult<HttpResponse> {
    caller.require(Act::ReadAuditTrail)?;
    let q = query.0;
    let format = match q.format {
        AuditExportFormat::Csv => AuditFormat::Csv,
        AuditExportFormat::Jsonl => AuditFormat::Jsonl,
    };
    let filter = audit_filter(&caller, q.from, q.to, q.actor, q.after.as_deref(), 0)?;
    stream(&state, move |conn, starter| {
        let mut out = starter.start(StreamHead {
            content_type: format.content_type(),
            headers: vec![(
                "content-disposition",
                "attachment; filename=\"audit-log\"".to_string(),
            )],
        });
        export::write_audit_log(conn, filter, format, &mut out, &mut Progress::hidden())
            .map_err(write_failed)?;
        Ok(())
    })
    .await
}

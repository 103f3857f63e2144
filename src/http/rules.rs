//! Rule routes: publish a version, list versions, read one.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::write::{Done, Mutation};
use super::{fund_in_scope, read, AppState};
use crate::auth::{Act, Caller};
use crate::error::{AppError, AppResult};
use crate::rules::{self, RuleDocument, RuleVersion};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(publish_rules)
        .service(list_rules)
        .service(get_rules);
}

/// A published rule version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RuleVersionResponse {
    pub version: String,
    pub effective_from: NaiveDate,
    /// The last day in force: the day before the next version starts (absent for the latest).
    #[schema(required = true)]
    pub effective_to: Option<NaiveDate>,
    #[schema(format = DateTime)]
    pub published_at: String,
    pub published_by: String,
    pub document: RuleDocument,
}

impl From<RuleVersion> for RuleVersionResponse {
    fn from(v: RuleVersion) -> Self {
        RuleVersionResponse {
            version: v.version,
            effective_from: v.effective_from,
            effective_to: v.effective_to,
            published_at: crate::time::rfc3339(v.published_at),
            published_by: v.published_by,
            document: v.document,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleVersionList {
    /// Versions oldest first.
    pub items: Vec<RuleVersionResponse>,
}

/// Publish a rule version (admin).
///
/// The whole document is validated (RULES.md); every bad field is listed by JSON path. Versions
/// are immutable: a label or start date already used is 409 `RULE_VERSION_EXISTS`, and a version
/// that would change which version governs a record already made is 409
/// `RULES_WOULD_CHANGE_RECORDS`: a contribution (the version in force on its `paid_on`;
/// `contribution_id` names the first) or a claim of any status (the version in force on its
/// `incident_date`; `claims` names up to 10, `claim_count` counts them). Start a new version
/// after the last payment date and incident date. When contributions are charged in another currency than the
/// fund's, cash, tax and income accounts in that currency are created (`1000-USD`, ...).
#[utoipa::path(
    tag = "rules",
    request_body = RuleDocument,
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 201, description = "Published", body = RuleVersionResponse),
        (status = 409, description = "`RULE_VERSION_EXISTS`, `RULES_WOULD_CHANGE_RECORDS`", body = crate::error::Problem),
        (status = 422, description = "`VALIDATION_FAILED` with every bad field", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/rules")]
pub async fn publish_rules(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    Mutation::new(&req, state, caller, Act::PublishRules)
        .fund(&code)
        .run(&req, body, move |conn, caller, body: serde_json::Value| {
            let fund = fund_in_scope(conn, caller, &code)?;
            // Every bad field at once: type errors, then the rules' own checks on
            // the fields the type errors leave alone.
            let mut read = super::collect::deserialize_all::<RuleDocument>(body, "");
            if let Some(doc) = &read.value {
                if let Err(errors) = rules::validate::validate(doc, fund.currency) {
                    read.add_checked(errors);
                }
            }
            let doc = match read.value {
                Some(doc) if read.errors.is_empty() => doc,
                _ => return Err(AppError::validation(read.errors)),
            };
            let version = rules::publish(conn, &fund, doc, &caller.subject)?;
            Ok(Done::created(
                format!("rules {}", version.version),
                RuleVersionResponse::from(version),
            ))
        })
        .await
}

/// List a fund's rule versions, oldest first.
#[utoipa::path(
    tag = "rules",
    params(("fund" = String, Path, description = "Fund code")),
    responses(
        (status = 200, description = "The versions", body = RuleVersionList),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/rules")]
pub async fn list_rules(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> AppResult<web::Json<RuleVersionList>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let versions = read(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        rules::versions_for_fund(conn, fund.id)
    })
    .await?;
    Ok(web::Json(RuleVersionList {
        items: versions
            .into_iter()
            .map(RuleVersionResponse::from)
            .collect(),
    }))
}

/// Read one rule version.
#[utoipa::path(
    tag = "rules",
    params(("fund" = String, Path, description = "Fund code"), ("version" = String, Path, description = "Version label")),
    responses(
        (status = 200, description = "The version", body = RuleVersionResponse),
        (status = 404, description = "`NOT_FOUND`", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/rules/{version}")]
pub async fn get_rules(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> AppResult<web::Json<RuleVersionResponse>> {
    caller.require(Act::ReadFunds)?;
    let (code, label) = path.into_inner();
    let version = read(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        rules::versions_for_fund(conn, fund.id)?
            .into_iter()
            .find(|v| v.version == label)
            .ok_or_else(|| {
                AppError::not_found(format!("fund {} has no rule version {label}", fund.code))
            })
    })
    .await?;
    Ok(web::Json(version.into()))
}

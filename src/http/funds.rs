//! Fund routes: create, list, read, close a period.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::page::PageRequest;
use super::write::{Done, Mutation};
use super::{fund_in_scope, read, AppState, Page};
use crate::auth::{Act, Caller};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::funds::{self, is_country, is_fund_code, Fund, NewFund};
use crate::money::Currency;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_fund)
        .service(list_funds)
        .service(get_fund)
        .service(close_period);
}

/// The longest fund name accepted.
const MAX_NAME_LENGTH: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "KE-MWF", "country": "KE", "name": "Kenya Migrant Workers Welfare Fund", "currency": "KES"}))]
pub struct CreateFund {
    /// Upper-case letters, digits and hyphens, starting with a letter (`KE-MWF`).
    #[schema(
        example = "KE-MWF",
        pattern = "^[A-Z][A-Z0-9-]*[A-Z0-9]$",
        min_length = 2,
        max_length = 32
    )]
    pub code: String,
    /// ISO 3166-1 alpha-2 country of origin.
    #[schema(example = "KE", pattern = "^[A-Z]{2}$", max_length = 2)]
    pub country: String,
    #[schema(example = "Kenya Migrant Workers Welfare Fund", max_length = 200)]
    pub name: String,
    /// ISO 4217 currency in which benefits are paid; the chart of accounts is kept in it.
    #[schema(value_type = crate::money::Currency, example = "KES")]
    pub currency: String,
}

impl CreateFund {
    fn validate(self) -> AppResult<NewFund> {
        let mut errors = Vec::new();
        if !is_fund_code(&self.code) {
            errors.push(FieldError::new(
                "/code",
                "invalid_format",
                "must be 2 to 32 upper-case letters, digits and hyphens, starting with a letter",
            ));
        }
        if !is_country(&self.country) {
            errors.push(FieldError::new(
                "/country",
                "unknown_country",
                "must be an ISO 3166-1 alpha-2 code such as \"KE\"",
            ));
        }
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > MAX_NAME_LENGTH {
            errors.push(
                FieldError::new(
                    "/name",
                    "invalid_length",
                    format!("must be 1 to {MAX_NAME_LENGTH} characters"),
                )
                .with_limit(MAX_NAME_LENGTH),
            );
        }
        let currency = Currency::parse(&self.currency)
            .map_err(|e| errors.push(FieldError::money("/currency", &e)));
        match (errors.is_empty(), currency) {
            (true, Ok(currency)) => Ok(NewFund {
                code: self.code,
                country: self.country,
                name,
                currency,
            }),
            _ => Err(AppError::validation(errors)),
        }
    }
}

/// A fund.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"code": "KE-MWF", "country": "KE", "name": "Kenya Migrant Workers Welfare Fund", "currency": "KES", "closed_through": null, "entries": 0, "chain_head": "0000000000000000000000000000000000000000000000000000000000000000", "created_at": "2026-12-06T20:06:21.214724Z"}))]
pub struct FundResponse {
    pub code: String,
    pub country: String,
    pub name: String,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// The last day of the closed accounting period, if any: no entry may be dated on or before it.
    #[schema(required = true)]
    pub closed_through: Option<NaiveDate>,
    /// How many journal entries the fund's ledger holds (its last sequence number).
    pub entries: i64,
    /// The hash of the last journal entry (64 zeros before the first).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub chain_head: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<Fund> for FundResponse {
    fn from(f: Fund) -> Self {
        FundResponse {
            code: f.code,
            country: f.country,
            name: f.name,
            currency: f.currency.code().to_string(),
            closed_through: f.closed_through,
            entries: f.last_sequence,
            chain_head: f.chain_head,
            created_at: crate::time::rfc3339(f.created_at),
        }
    }
}

/// Create a fund with its standard chart of accounts (admin).
///
/// The chart: 1000 cash at bank (may not go negative), 1100 cash in transit, 1200 contributions
/// receivable, 2000 benefits payable, 2100 taxes payable, 2200 refunds payable, 3000 fund reserve,
/// 3100 opening balances, 4000–4300 income, 5000–5600 benefit expense by benefit type, 6000
/// administrative expenses, 6100 bank charges; all in the fund's currency.
#[utoipa::path(
    tag = "funds",
    request_body = CreateFund,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "Created", body = FundResponse),
        (status = 409, description = "`FUND_ALREADY_EXISTS`", body = crate::error::Problem),
        (status = 422, description = "`VALIDATION_FAILED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds")]
pub async fn create_fund(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    Mutation::new(&req, state, caller, Act::CreateFund)
        .run(&req, body, |conn, caller, input: CreateFund| {
            let new = input.validate()?;
            if !caller.may_access_fund(&new.code) {
                return Err(AppError::new(
                    ErrorCode::FundNotInScope,
                    format!("the token's funds do not include {}", new.code),
                ));
            }
            let fund = funds::create_fund(conn, &new)?;
            let code = fund.code.clone();
            Ok(Done::created(format!("fund {code}"), FundResponse::from(fund)).in_fund(&code))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

/// List the funds the token may see, oldest first.
#[utoipa::path(
    tag = "funds",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of funds", body = Page<FundResponse>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds")]
pub async fn list_funds(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<PageQuery>,
) -> AppResult<Page<FundResponse>> {
    caller.require(Act::ReadFunds)?;
    let request = PageRequest::new(query.0.after, query.0.limit)?.by_position()?;
    let page = read(&state, move |conn| {
        let scope = (!caller.all_funds()).then(|| caller.fund_codes().to_vec());
        let rows = funds::list_funds(conn, scope.as_deref(), request.after, request.rows())?;
        let (rows, next) = request.cut(rows, |f| f.id);
        Ok(Page {
            items: rows.into_iter().map(FundResponse::from).collect(),
            next,
        })
    })
    .await?;
    Ok(page)
}

/// Read one fund.
#[utoipa::path(
    tag = "funds",
    params(("fund" = String, Path, description = "Fund code, e.g. KE-MWF")),
    responses(
        (status = 200, description = "The fund", body = FundResponse),
        (status = 404, description = "`NOT_FOUND` (also for funds outside the token's scope)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}")]
pub async fn get_fund(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> AppResult<web::Json<FundResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let fund = read(&state, move |conn| fund_in_scope(conn, &caller, &code)).await?;
    Ok(web::Json(fund.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"through": "2026-01-31"}))]
pub struct ClosePeriod {
    /// The last day of the period to close; not in the future.
    #[serde(deserialize_with = "crate::date::strict")]
    pub through: NaiveDate,
}

/// Close the books through a date (admin).
///
/// Afterwards no journal entry may be dated on or before `through` (`PERIOD_CLOSED`); corrections
/// are dated in the open period. A close only moves forward (`PERIOD_ALREADY_CLOSED`).
#[utoipa::path(
    tag = "funds",
    request_body = ClosePeriod,
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "The fund with its new `closed_through`", body = FundResponse),
        (status = 409, description = "`PERIOD_ALREADY_CLOSED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/periods/close")]
pub async fn close_period(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    Mutation::new(&req, state, caller, Act::ClosePeriod)
        .fund(&code)
        .run(&req, body, move |conn, caller, input: ClosePeriod| {
            let fund = fund_in_scope(conn, caller, &code)?;
            if input.through > crate::time::today() {
                return Err(AppError::field(
                    "/through",
                    "in_future",
                    "must not be after today (UTC)",
                ));
            }
            let fund = funds::close_period(conn, &fund, input.through)?;
            Ok(Done::ok(
                format!("fund {}", fund.code),
                FundResponse::from(fund),
            ))
        })
        .await
}

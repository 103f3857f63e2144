//! Worker routes: enrollment (one or a batch), search, read, dependants,
//! contracts and their events, membership.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::batch::{
    item_path, parse_items, refusal_or_fatal, Batch, BatchItemResult, BatchRequest, BatchResponse,
    MAX_BATCH_BODY_BYTES,
};
use super::contributions::{contribution_response, ContributionResponse};
use super::extract::{read_body, Query};
use super::page::PageRequest;
use super::write::{in_fund, Done, Mutation};
use super::{fund_in_scope, read, AppState, Page};
use crate::auth::{Act, Caller};
use crate::contributions::ContributionFilter;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode, FieldError, Refusal};
use crate::funds::{is_country, Fund};
use crate::money::{format_minor, to_minor, Currency, DecimalString};
use crate::rules::document::Relationship;
use crate::rules::evaluate::{active_on, active_spans};
use crate::workers::{
    self, Contract, ContractEvents, Dependant, NewContract, NewDependant, NewWorker, Sex, Worker,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(enroll_worker)
        .service(enroll_workers_batch)
        .service(search_workers)
        .service(get_worker)
        .service(add_dependant)
        .service(add_contract)
        .service(update_contract)
        .service(get_membership)
        .service(list_worker_contributions);
}

const MAX_TEXT: usize = 200;

fn text(field: String, value: &str, errors: &mut Vec<FieldError>) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_TEXT {
        errors.push(
            FieldError::new(
                field,
                "invalid_length",
                format!("must be 1 to {MAX_TEXT} characters"),
            )
            .with_limit(MAX_TEXT),
        );
    }
    trimmed.to_string()
}

fn optional_text(
    field: String,
    value: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    value.as_ref().map(|v| text(field, v, errors))
}

fn past_date(field: String, date: NaiveDate, errors: &mut Vec<FieldError>) {
    if date > crate::time::today() {
        errors.push(FieldError::new(
            field,
            "in_future",
            "must not be in the future",
        ));
    } else if date < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date") {
        errors.push(FieldError::new(
            field,
            "too_early",
            "must not be before 1900-01-01",
        ));
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Amina Wanjiru", "relationship": "child", "date_of_birth": "2015-04-02", "deceased": false}))]
pub struct DependantRequest {
    #[schema(max_length = 200)]
    pub name: String,
    /// `spouse`, `child`, `parent`, `sibling` or `other`.
    pub relationship: Relationship,
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub date_of_birth: Option<NaiveDate>,
    /// True when the dependant has died (they no longer block other claimants).
    #[serde(default)]
    pub deceased: bool,
    /// True for the worker's nominee, whom benefits with a `nominee` class of
    /// `beneficiaries` pay before any heir; at most one per worker (a second is
    /// 409 `NOMINEE_ALREADY_REGISTERED`).
    #[serde(default)]
    pub nominee: bool,
}

impl DependantRequest {
    fn validate(&self, at: &str, errors: &mut Vec<FieldError>) -> NewDependant {
        if self.relationship == Relationship::Worker {
            errors.push(FieldError::new(
                format!("{at}/relationship"),
                "invalid_value",
                "a dependant cannot be the worker",
            ));
        }
        if let Some(born) = self.date_of_birth {
            past_date(format!("{at}/date_of_birth"), born, errors);
        }
        if self.nominee && self.deceased {
            errors.push(FieldError::new(
                format!("{at}/nominee"),
                "deceased",
                "a deceased dependant cannot be the nominee",
            ));
        }
        NewDependant {
            name: text(format!("{at}/name"), &self.name, errors),
            relationship: self.relationship,
            date_of_birth: self.date_of_birth,
            deceased: self.deceased,
            nominee: self.nominee,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"employer": "Al Noor Household Services", "destination_country": "SA", "occupation": "Domestic worker", "start_date": "2026-02-01", "end_date": "2027-01-31", "monthly_wage": "1200.00", "wage_currency": "SAR", "recruitment_agency": "Nairobi Placement Ltd"}))]
pub struct ContractRequest {
    #[schema(max_length = 200)]
    pub employer: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "SA", pattern = "^[A-Z]{2}$", max_length = 2)]
    pub destination_country: String,
    #[schema(max_length = 200)]
    pub occupation: Option<String>,
    #[serde(deserialize_with = "crate::date::strict")]
    pub start_date: NaiveDate,
    #[serde(deserialize_with = "crate::date::strict")]
    pub end_date: NaiveDate,
    /// Declared monthly wage (needed where contributions are a share of the wage); required
    /// with `wage_currency`.
    #[schema(example = "1200.00")]
    pub monthly_wage: Option<DecimalString>,
    /// ISO 4217 currency of the wage; required with `monthly_wage`.
    #[schema(value_type = Option<crate::money::Currency>)]
    pub wage_currency: Option<String>,
    #[schema(max_length = 200)]
    pub recruitment_agency: Option<String>,
}

impl ContractRequest {
    fn validate(&self, at: &str, errors: &mut Vec<FieldError>) -> NewContract {
        if !is_country(&self.destination_country) {
            errors.push(FieldError::new(
                format!("{at}/destination_country"),
                "unknown_country",
                "must be an ISO 3166-1 alpha-2 code",
            ));
        }
        if self.end_date < self.start_date {
            errors.push(FieldError::new(
                format!("{at}/end_date"),
                "before_start",
                "must not be before start_date",
            ));
        }
        let (mut wage, mut currency) = (None, None);
        match (&self.monthly_wage, &self.wage_currency) {
            (Some(amount), Some(code)) => match Currency::parse(code) {
                Ok(c) => {
                    currency = Some(c);
                    match to_minor(amount.0, c) {
                        Ok(minor) => wage = Some(minor),
                        Err(e) => errors.push(FieldError::money(format!("{at}/monthly_wage"), &e)),
                    }
                }
                Err(e) => errors.push(FieldError::money(format!("{at}/wage_currency"), &e)),
            },
            (Some(_), None) => errors.push(FieldError::new(
                format!("{at}/wage_currency"),
                "required",
                "is required with monthly_wage",
            )),
            (None, Some(_)) => errors.push(FieldError::new(
                format!("{at}/monthly_wage"),
                "required",
                "is required with wage_currency",
            )),
            (None, None) => {}
        }
        NewContract {
            employer: text(format!("{at}/employer"), &self.employer, errors),
            destination_country: self.destination_country.clone(),
            occupation: optional_text(format!("{at}/occupation"), &self.occupation, errors),
            start_date: self.start_date,
            end_date: self.end_date,
            monthly_wage_minor: wage,
            wage_currency: currency,
            recruitment_agency: optional_text(
                format!("{at}/recruitment_agency"),
                &self.recruitment_agency,
                errors,
            ),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"document_type": "passport", "document_number": "AK1234567", "given_name": "Grace", "family_name": "Wanjiru", "date_of_birth": "1992-07-14", "sex": "female", "phone": "+254712345678", "email": "grace.wanjiru@example.org", "occupation_sector": "domestic_work", "dependants": [{"name": "Peter Kamau", "relationship": "spouse", "date_of_birth": "1990-03-09", "deceased": false}], "contracts": [{"employer": "Al Noor Household Services", "destination_country": "SA", "occupation": "Domestic worker", "start_date": "2026-02-01", "end_date": "2027-01-31", "monthly_wage": "1200.00", "wage_currency": "SAR", "recruitment_agency": "Nairobi Placement Ltd"}]}))]
pub struct EnrollWorker {
    /// `passport`, `national_id`, ... (lower-case letters and `_`).
    #[schema(example = "passport", max_length = 32)]
    pub document_type: String,
    /// Compared upper-cased without spaces.
    #[schema(example = "P1234567")]
    pub document_number: String,
    #[schema(max_length = 200)]
    pub given_name: String,
    #[schema(max_length = 200)]
    pub family_name: String,
    #[serde(deserialize_with = "crate::date::strict")]
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    #[schema(max_length = 32)]
    pub phone: Option<String>,
    #[schema(max_length = 200)]
    pub email: Option<String>,
    #[schema(example = "domestic_work", max_length = 200)]
    pub occupation_sector: Option<String>,
    #[serde(default)]
    pub dependants: Vec<DependantRequest>,
    #[serde(default)]
    pub contracts: Vec<ContractRequest>,
}

impl EnrollWorker {
    /// Validates the request; `at` prefixes field paths (`/items/3` in a batch).
    pub fn validate(&self, at: &str) -> AppResult<NewWorker> {
        let mut errors = Vec::new();
        let document_type = document_type(at, &self.document_type, &mut errors);
        let document_number = document_number(at, &self.document_number, &mut errors);
        past_date(
            format!("{at}/date_of_birth"),
            self.date_of_birth,
            &mut errors,
        );
        check_email(at, &self.email, &mut errors);
        check_phone(at, &self.phone, &mut errors);
        if self.dependants.len() > 50 || self.contracts.len() > 50 {
            errors.push(FieldError::new(
                format!("{at}/dependants"),
                "too_many",
                "at most 50 dependants and 50 contracts",
            ));
        }
        let worker = NewWorker {
            document_type,
            document_number,
            given_name: text(format!("{at}/given_name"), &self.given_name, &mut errors),
            family_name: text(format!("{at}/family_name"), &self.family_name, &mut errors),
            date_of_birth: self.date_of_birth,
            sex: self.sex,
            phone: self.phone.clone(),
            email: self.email.clone(),
            occupation_sector: optional_text(
                format!("{at}/occupation_sector"),
                &self.occupation_sector,
                &mut errors,
            ),
            dependants: self
                .dependants
                .iter()
                .enumerate()
                .map(|(i, d)| d.validate(&format!("{at}/dependants/{i}"), &mut errors))
                .collect(),
            contracts: self
                .contracts
                .iter()
                .enumerate()
                .map(|(i, c)| c.validate(&format!("{at}/contracts/{i}"), &mut errors))
                .collect(),
        };
        for (i, _) in worker
            .dependants
            .iter()
            .enumerate()
            .filter(|(_, d)| d.nominee)
            .skip(1)
        {
            errors.push(FieldError::new(
                format!("{at}/dependants/{i}/nominee"),
                "duplicate",
                "a worker has at most one nominee",
            ));
        }
        if errors.is_empty() {
            Ok(worker)
        } else {
            Err(AppError::validation(errors))
        }
    }
}

/// The identity document's type, trimmed: 1 to 32 lower-case letters or '_'.
fn document_type(at: &str, raw: &str, errors: &mut Vec<FieldError>) -> String {
    let document_type = raw.trim().to_string();
    if document_type.is_empty()
        || document_type.len() > 32
        || !document_type
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        errors.push(FieldError::new(
            format!("{at}/document_type"),
            "invalid_format",
            "must be 1 to 32 lower-case letters or '_' (passport, national_id)",
        ));
    }
    document_type
}

/// The identity document's number as compared (upper-cased, without spaces):
/// 1 to 64 letters, digits, '-' or '/'.
fn document_number(at: &str, raw: &str, errors: &mut Vec<FieldError>) -> String {
    let document_number = workers::normalize_document_number(raw);
    if document_number.is_empty()
        || document_number.len() > 64
        || !document_number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/')
    {
        errors.push(FieldError::new(
            format!("{at}/document_number"),
            "invalid_format",
            "must be 1 to 64 letters, digits, '-' or '/'",
        ));
    }
    document_number
}

/// An e-mail address, if given: something with an '@', of at most [`MAX_TEXT`] characters.
fn check_email(at: &str, email: &Option<String>, errors: &mut Vec<FieldError>) {
    if let Some(email) = email {
        if !email.contains('@') || email.chars().count() > MAX_TEXT {
            errors.push(FieldError::new(
                format!("{at}/email"),
                "invalid_format",
                "must be an e-mail address",
            ));
        }
    }
}

/// A phone number, if given: 4 to 32 digits, spaces, '+', '-', '(' or ')'.
fn check_phone(at: &str, phone: &Option<String>, errors: &mut Vec<FieldError>) {
    if let Some(phone) = phone {
        let ok = (4..=32).contains(&phone.len())
            && phone
                .bytes()
                .all(|b| b.is_ascii_digit() || b" +-()".contains(&b));
        if !ok {
            errors.push(FieldError::new(
                format!("{at}/phone"),
                "invalid_format",
                "must be 4 to 32 digits, spaces, '+', '-', '(' or ')'",
            ));
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DependantResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub relationship: Relationship,
    #[schema(required = true)]
    pub date_of_birth: Option<NaiveDate>,
    pub deceased: bool,
    /// The worker's nominee.
    pub nominee: bool,
}

impl From<Dependant> for DependantResponse {
    fn from(d: Dependant) -> Self {
        DependantResponse {
            id: d.id,
            name: d.name,
            relationship: d.relationship,
            date_of_birth: d.date_of_birth,
            deceased: d.deceased,
            nominee: d.nominee,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContractResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub employer: String,
    pub destination_country: String,
    #[schema(required = true)]
    pub occupation: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    #[schema(required = true, value_type = Option<crate::money::DecimalString>)]
    pub monthly_wage: Option<String>,
    #[schema(required = true, value_type = Option<crate::money::Currency>)]
    pub wage_currency: Option<String>,
    #[schema(required = true)]
    pub recruitment_agency: Option<String>,
    #[schema(required = true)]
    pub departed_on: Option<NaiveDate>,
    /// Early termination, when the contract ended before `end_date`.
    #[schema(required = true)]
    pub terminated_on: Option<NaiveDate>,
    #[schema(required = true)]
    pub returned_on: Option<NaiveDate>,
}

impl From<Contract> for ContractResponse {
    fn from(c: Contract) -> Self {
        ContractResponse {
            monthly_wage: c
                .monthly_wage_minor
                .zip(c.wage_currency)
                .map(|(m, cur)| format_minor(m, cur)),
            wage_currency: c.wage_currency.map(|cur| cur.code().to_string()),
            id: c.id,
            employer: c.employer,
            destination_country: c.destination_country,
            occupation: c.occupation,
            start_date: c.start_date,
            end_date: c.end_date,
            recruitment_agency: c.recruitment_agency,
            departed_on: c.departed_on,
            terminated_on: c.terminated_on,
            returned_on: c.returned_on,
        }
    }
}

/// A worker with dependants and contracts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "01a24cf6-ef49-7603-96a4-c8763bd474f9", "fund": "KE-MWF", "document_type": "passport", "document_number": "AK1234567", "given_name": "Grace", "family_name": "Wanjiru", "date_of_birth": "1992-07-14", "sex": "female", "phone": "+254712345678", "email": "grace.wanjiru@example.org", "occupation_sector": "domestic_work", "dependants": [{"id": "01a24cf6-ef49-7603-96a4-c87793ae8033", "name": "Peter Kamau", "relationship": "spouse", "date_of_birth": "1990-03-09", "deceased": false, "nominee": false}], "contracts": [{"id": "01a24cf6-ef49-7603-96a4-c8780b99f05c", "employer": "Al Noor Household Services", "destination_country": "SA", "occupation": "Domestic worker", "start_date": "2026-02-01", "end_date": "2027-01-31", "monthly_wage": "1200.00", "wage_currency": "SAR", "recruitment_agency": "Nairobi Placement Ltd", "departed_on": null, "terminated_on": null, "returned_on": null}], "created_at": "2026-12-06T20:06:21.257723Z", "created_by": "officer.njeri"}))]
pub struct WorkerResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub fund: String,
    pub document_type: String,
    pub document_number: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    #[schema(required = true)]
    pub phone: Option<String>,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub occupation_sector: Option<String>,
    pub dependants: Vec<DependantResponse>,
    pub contracts: Vec<ContractResponse>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
}

fn worker_response(w: Worker, fund_code: &str) -> WorkerResponse {
    WorkerResponse {
        id: w.id,
        fund: fund_code.to_string(),
        document_type: w.document_type,
        document_number: w.document_number,
        given_name: w.given_name,
        family_name: w.family_name,
        date_of_birth: w.date_of_birth,
        sex: w.sex,
        phone: w.phone,
        email: w.email,
        occupation_sector: w.occupation_sector,
        dependants: w
            .dependants
            .into_iter()
            .map(DependantResponse::from)
            .collect(),
        contracts: w
            .contracts
            .into_iter()
            .map(ContractResponse::from)
            .collect(),
        created_at: crate::time::rfc3339(w.created_at),
        created_by: w.created_by,
    }
}

/// Enroll a worker (admin, officer, ministry).
///
/// The same identity document (type and number) in the fund is 409 `WORKER_ALREADY_ENROLLED`
/// with the existing `worker_id`.
#[utoipa::path(
    tag = "workers",
    request_body = EnrollWorker,
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 201, description = "Enrolled", body = WorkerResponse),
        (status = 409, description = "`WORKER_ALREADY_ENROLLED` (see `worker_id`)", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/workers")]
pub async fn enroll_worker(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    Mutation::new(&req, state, caller, Act::EnrollWorker)
        .fund(&code)
        .run(&req, body, move |conn, caller, input: EnrollWorker| {
            let fund = fund_in_scope(conn, caller, &code)?;
            let new = input.validate("")?;
            let lock = crate::funds::lock_fund(conn, fund.id)?;
            let worker = workers::enroll(conn, &lock, &new, &caller.subject)?;
            let event = workers::enrolled_event(&fund.code, &worker);
            Ok(Done::created(
                format!("worker {}", worker.id),
                worker_response(worker, &fund.code),
            )
            .with_events(vec![event]))
        })
        .await
}

/// Enroll up to 10,000 workers (admin, officer, ministry), answering per item.
///
/// Each item is enrolled on its own or not at all: a bad item is reported with its problem and
/// does not block the others. The batch commits once.
#[utoipa::path(
    tag = "workers",
    request_body(content = Batch<EnrollWorker>, example = json!({"items": [{"document_type": "passport", "document_number": "AK7654321", "given_name": "Joseph", "family_name": "Otieno", "date_of_birth": "1988-11-02", "sex": "male", "phone": "+254722000111", "email": "joseph.otieno@example.org", "occupation_sector": "construction", "dependants": [], "contracts": [{"employer": "Gulf Build Contracting", "destination_country": "AE", "occupation": "Mason", "start_date": "2026-03-01", "end_date": "2028-02-29", "monthly_wage": "2500.00", "wage_currency": "AED", "recruitment_agency": "Mombasa Manpower Ltd"}]}]})),
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "Per-item results, in request order", body = BatchResponse),
        (status = "4XX", description = "Refusals of the whole batch (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/workers/batch")]
pub async fn enroll_workers_batch(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let body = read_body(payload, MAX_BATCH_BODY_BYTES).await?;
    Mutation::new(&req, state, caller, Act::EnrollWorkers)
        .fund(&code)
        .run(&req, body, move |conn, caller, input: BatchRequest| {
            let fund = fund_in_scope(conn, caller, &code)?;
            let items: Vec<Result<NewWorker, Refusal>> = parse_items::<EnrollWorker>(input)?
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    refusal_or_fatal(item.and_then(|r| r.validate(&item_path(index))))
                })
                .collect::<AppResult<_>>()?;
            let lock = crate::funds::lock_fund(conn, fund.id)?;
            let valid: Vec<&NewWorker> = items.iter().flatten().collect();
            let mut enrolled =
                workers::enroll_many(conn, &lock, &valid, &caller.subject)?.into_iter();
            let mut events = Vec::new();
            let mut results = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                let outcome =
                    item.and_then(|_| enrolled.next().expect("one outcome per valid item"));
                results.push(match outcome {
                    Ok(worker) => {
                        events.push(workers::enrolled_event(&fund.code, &worker));
                        BatchItemResult::created(index, json!({"worker_id": worker.id}))
                    }
                    Err(refusal) => BatchItemResult::failed(index, refusal),
                });
            }
            let response = BatchResponse::new(results);
            let target = format!(
                "workers: {} enrolled, {} failed",
                response.created, response.failed
            );
            Ok(Done::ok(target, response).with_events(events))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkerQuery {
    /// Only workers with this identity document number.
    pub document_number: Option<String>,
    /// Only workers whose family name or given name starts with this, 2 to 200
    /// characters: compared lower-cased (Unicode), runs of white space as one
    /// space, accents as written (`jose` does not find `José`). The page is
    /// ordered by the name that matched (the family name when both do), then
    /// by enrollment. Not with `document_number`.
    #[param(min_length = 2, max_length = 200)]
    pub name: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// The shortest and the longest name prefix a search takes, in characters.
const NAME_PREFIX: (usize, usize) = (2, MAX_TEXT);

/// The search key of the `name` parameter ([`workers::name_key`]), if it is
/// one: 2 to 200 characters, and not given with `document_number`.
fn name_prefix(query: &WorkerQuery) -> AppResult<Option<String>> {
    let Some(name) = &query.name else {
        return Ok(None);
    };
    let refused = |error: FieldError| {
        AppError::new(ErrorCode::InvalidQuery, format!("name: {}", error.message))
            .with_errors(vec![error])
    };
    if query.document_number.is_some() {
        return Err(refused(FieldError::new(
            "name",
            "conflict",
            "search by name or by document_number, not both",
        )));
    }
    let key = workers::name_key(name);
    let (min, max) = NAME_PREFIX;
    if !(min..=max).contains(&key.chars().count()) {
        return Err(refused(
            FieldError::new(
                "name",
                "invalid_length",
                format!("must be {min} to {max} characters"),
            )
            .with_limit(max),
        ));
    }
    Ok(Some(key))
}

/// Search a fund's workers: in enrollment order, or by a prefix of their name.
#[utoipa::path(
    tag = "workers",
    params(("fund" = String, Path, description = "Fund code"), WorkerQuery),
    responses(
        (status = 200, description = "A page of workers", body = Page<WorkerResponse>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/workers")]
pub async fn search_workers(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<WorkerQuery>,
) -> AppResult<Page<WorkerResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let name = name_prefix(&q)?;
    let request = PageRequest::new(q.after, q.limit)?;
    let page = super::read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let rows = match &name {
            Some(prefix) => workers::search_by_name(
                conn,
                fund.id,
                prefix,
                request.after.as_deref(),
                request.rows(),
            )?
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidQuery,
                    "after: is not a cursor returned by this search",
                )
                .with_errors(vec![FieldError::new(
                    "after",
                    "invalid_cursor",
                    "is not a cursor returned by this search",
                )])
            })?,
            None => workers::search(
                conn,
                fund.id,
                q.document_number.as_deref(),
                request.after.as_deref(),
                request.rows(),
            )?,
        };
        let (rows, next) = request.cut(rows, |w| w.id.clone());
        let items = (workers::with_details(conn, rows)?.into_iter())
            .map(|w| worker_response(w, &fund.code))
            .collect();
        Ok(Page { items, next })
    })
    .await?;
    Ok(page)
}

/// The worker with `id` if the caller's token covers its fund and, for a
/// `worker` token, the worker is its own (else 404), and the fund.
pub fn worker_in_scope(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> AppResult<(Worker, Fund)> {
    let missing = || AppError::not_found(format!("no worker {id}"));
    let worker = workers::find_worker(conn, id)?.ok_or_else(missing)?;
    if !is_own(caller, &worker) {
        return Err(missing());
    }
    let fund_code = crate::funds::fund_code(conn, worker.fund_id)?;
    let fund = fund_in_scope(conn, caller, &fund_code).map_err(|_| missing())?;
    Ok((worker, fund))
}

/// True unless the caller is a `worker` token and `worker` is neither its
/// holder nor the worker its holder is registered on as a dependant: a family
/// shares its records (coverage, contributions and claims concern them all).
pub fn is_own(caller: &Caller, worker: &Worker) -> bool {
    caller.own_records().is_none_or(|person| {
        worker.id == person || worker.dependants.iter().any(|d| d.id == person)
    })
}

/// True when the record of the worker `worker_id` is within the caller's
/// self scope ([`is_own`]); looks the worker up only for a `worker` token.
pub fn of_own_worker(conn: &mut DbConnection, caller: &Caller, worker_id: &str) -> AppResult<bool> {
    if caller.own_records().is_none() {
        return Ok(true);
    }
    Ok(workers::find_worker(conn, worker_id)?.is_some_and(|w| is_own(caller, &w)))
}

/// Read a worker with dependants and contracts.
#[utoipa::path(
    tag = "workers",
    params(("id" = uuid::Uuid, Path, description = "Worker id")),
    responses(
        (status = 200, description = "The worker", body = WorkerResponse),
        (status = 404, description = "`NOT_FOUND` (also outside the token's funds)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/workers/{id}")]
pub async fn get_worker(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> AppResult<web::Json<WorkerResponse>> {
    caller.require(Act::ReadWorkerRecords)?;
    let id = path.into_inner();
    let response = read(&state, move |conn| {
        let (worker, fund) = worker_in_scope(conn, &caller, &id)?;
        Ok(worker_response(worker, &fund.code))
    })
    .await?;
    Ok(web::Json(response))
}

/// Register a dependant of a worker (admin, officer, ministry).
#[utoipa::path(
    tag = "workers",
    request_body = DependantRequest,
    params(("id" = uuid::Uuid, Path, description = "Worker id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "Registered", body = DependantResponse),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/workers/{id}/dependants")]
pub async fn add_dependant(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::AddDependant)
        .run(&req, body, move |conn, caller, input: DependantRequest| {
            let (worker, fund) = worker_in_scope(conn, caller, &id)?;
            in_fund(&fund.code, || {
                let mut errors = Vec::new();
                let new = input.validate("", &mut errors);
                if !errors.is_empty() {
                    return Err(AppError::validation(errors));
                }
                if new.nominee {
                    // Nominees of a fund are registered one at a time.
                    crate::funds::lock_fund(conn, fund.id)?;
                }
                let dependant = workers::add_dependant(conn, &worker.id, &new)?;
                Ok(Done::created(
                    format!("worker {} dependant {}", worker.id, dependant.id),
                    DependantResponse::from(dependant),
                ))
            })
        })
        .await
}

/// Add a contract to a worker (admin, officer, ministry).
#[utoipa::path(
    tag = "workers",
    request_body = ContractRequest,
    params(("id" = uuid::Uuid, Path, description = "Worker id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "Added", body = ContractResponse),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/workers/{id}/contracts")]
pub async fn add_contract(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::AddContract)
        .run(&req, body, move |conn, caller, input: ContractRequest| {
            let (worker, fund) = worker_in_scope(conn, caller, &id)?;
            in_fund(&fund.code, || {
                let mut errors = Vec::new();
                let new = input.validate("", &mut errors);
                if !errors.is_empty() {
                    return Err(AppError::validation(errors));
                }
                let contract = workers::add_contract(conn, &worker.id, &new)?;
                Ok(Done::created(
                    format!("worker {} contract {}", worker.id, contract.id),
                    ContractResponse::from(contract),
                ))
            })
        })
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"departed_on": "2026-02-03", "terminated_on": "2026-10-30", "returned_on": "2026-11-02"}))]
pub struct ContractEventsRequest {
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub departed_on: Option<NaiveDate>,
    /// An early end: on or after the start and before `end_date`. Shortens the coverage of
    /// contributions that cover "until the contract ends". A departure, early end or return
    /// also moves the coverage of contributions anchored on the contract's events
    /// (`contract_events` validity).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub terminated_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub returned_on: Option<NaiveDate>,
}

/// Record a departure, early termination or return (admin, officer, ministry).
#[utoipa::path(
    tag = "workers",
    request_body = ContractEventsRequest,
    params(
        ("id" = uuid::Uuid, Path, description = "Worker id"),
        ("contract_id" = uuid::Uuid, Path, description = "Contract id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "The contract", body = ContractResponse),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[patch("/v1/workers/{id}/contracts/{contract_id}")]
pub async fn update_contract(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (id, contract_id) = path.into_inner();
    Mutation::new(&req, state, caller, Act::UpdateContract)
        .run(
            &req,
            body,
            move |conn, caller, input: ContractEventsRequest| {
                let (worker, fund) = worker_in_scope(conn, caller, &id)?;
                in_fund(&fund.code, || {
                    let contract = workers::find_contract(conn, &worker.id, &contract_id)?
                        .ok_or_else(|| {
                            AppError::not_found(format!(
                                "worker {} has no contract {contract_id}",
                                worker.id
                            ))
                        })?;
                    let events = contract_events(&input, &contract)?;
                    let updated = workers::record_contract_events(conn, &contract, &events)?;
                    Ok(Done::ok(
                        format!("worker {} contract {}", worker.id, updated.id),
                        ContractResponse::from(updated),
                    ))
                })
            },
        )
        .await
}

/// The events of the request, if they fit the contract: none in the future, an
/// early end within the contract, a return not before the departure, and at
/// least one event given. Every bad field is reported at once.
fn contract_events(
    input: &ContractEventsRequest,
    contract: &Contract,
) -> AppResult<ContractEvents> {
    let mut errors = Vec::new();
    for (field, date) in [
        ("departed_on", input.departed_on),
        ("terminated_on", input.terminated_on),
        ("returned_on", input.returned_on),
    ] {
        if let Some(d) = date {
            if d > crate::time::today() + Days::new(1) {
                errors.push(FieldError::new(
                    format!("/{field}"),
                    "in_future",
                    "records what has happened: must not be in the future",
                ));
            }
        }
    }
    if let Some(t) = input.terminated_on {
        if t < contract.start_date || t >= contract.end_date {
            errors.push(FieldError::new(
                "/terminated_on",
                "out_of_range",
                format!(
                    "an early end lies from {} to the day before {}",
                    contract.start_date, contract.end_date
                ),
            ));
        }
    }
    let departed = input.departed_on.or(contract.departed_on);
    if let (Some(returned), Some(departed)) = (input.returned_on, departed) {
        if returned < departed {
            errors.push(FieldError::new(
                "/returned_on",
                "before_departure",
                "must not be before departed_on",
            ));
        }
    }
    if input.departed_on.is_none() && input.terminated_on.is_none() && input.returned_on.is_none() {
        errors.push(FieldError::new(
            "/",
            "required",
            "give departed_on, terminated_on or returned_on",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    Ok(ContractEvents {
        departed_on: input.departed_on,
        terminated_on: input.terminated_on,
        returned_on: input.returned_on,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembershipQuery {
    /// The date asked about (default: today, UTC).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub on: Option<NaiveDate>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CoveragePeriodResponse {
    pub start: NaiveDate,
    pub end: NaiveDate,
    #[schema(format = Uuid)]
    pub contribution_id: String,
    pub rule_version: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"worker_id": "01a24cf6-ef49-7603-96a4-c8763bd474f9", "on": "2026-06-30", "active": true, "active_until": "2028-03-01", "periods": [{"start": "2026-02-01", "end": "2028-01-31", "contribution_id": "01a24cf6-ef75-769b-b0c2-9370a9b69af0", "rule_version": "KE-MWF-2026"}], "merged": [{"start": "2026-02-01", "end": "2028-01-31", "grace_days": 30, "active_until": "2028-03-01"}]}))]
pub struct MembershipResponse {
    #[schema(format = Uuid)]
    pub worker_id: String,
    pub on: NaiveDate,
    /// Whether the worker is active on `on`: inside the active span (coverage
    /// plus that period's own grace) of some standing contribution.
    pub active: bool,
    /// The last day of the merged active span containing `on` (the last day the
    /// worker counts as active without paying again), when active.
    #[schema(required = true)]
    pub active_until: Option<NaiveDate>,
    /// Coverage bought by each standing contribution (reversed ones excluded).
    pub periods: Vec<CoveragePeriodResponse>,
    /// The active spans of those periods (each from its start to its end plus
    /// its own grace), merged where they overlap or touch, in date order.
    pub merged: Vec<MergedPeriod>,
}

/// Periods whose active spans overlap or touch, merged.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MergedPeriod {
    /// The first day of its earliest period.
    pub start: NaiveDate,
    /// The last day of coverage of any of its periods (grace excluded).
    pub end: NaiveDate,
    /// Days from `end` to `active_until`: the grace that outlasts the coverage.
    pub grace_days: u32,
    /// The last active day of the span: the latest of its periods' end plus own grace.
    pub active_until: NaiveDate,
}

/// A worker's membership on a date, from the coverage of their contributions.
#[utoipa::path(
    tag = "workers",
    params(("id" = uuid::Uuid, Path, description = "Worker id"), MembershipQuery),
    responses(
        (status = 200, description = "Membership", body = MembershipResponse),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/workers/{id}/membership")]
pub async fn get_membership(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<MembershipQuery>,
) -> AppResult<web::Json<MembershipResponse>> {
    caller.require(Act::ReadWorkerRecords)?;
    let id = path.into_inner();
    let on = query.0.on.unwrap_or_else(crate::time::today);
    let response = read(&state, move |conn| {
        let (worker, _) = worker_in_scope(conn, &caller, &id)?;
        let coverage = workers::coverage_periods(conn, &worker.id)?;
        let periods: Vec<_> = coverage.iter().map(|c| c.period).collect();
        let until = active_on(&periods, on);
        Ok(MembershipResponse {
            worker_id: worker.id,
            on,
            active: until.is_some(),
            active_until: until,
            merged: active_spans(&periods)
                .into_iter()
                .map(|s| MergedPeriod {
                    start: s.start,
                    end: s.end,
                    grace_days: s.grace_days(),
                    active_until: s.until,
                })
                .collect(),
            periods: coverage
                .into_iter()
                .map(|c| CoveragePeriodResponse {
                    start: c.period.start,
                    end: c.period.end,
                    contribution_id: c.contribution_id,
                    rule_version: c.rule_version,
                })
                .collect(),
        })
    })
    .await?;
    Ok(web::Json(response))
}

/// A page of one worker's records: where it starts and how long it is.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkerRecordsQuery {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// List one worker's contributions in recording order (a `worker` token: its own).
#[utoipa::path(
    tag = "workers",
    params(("id" = uuid::Uuid, Path, description = "Worker id"), WorkerRecordsQuery),
    responses(
        (status = 200, description = "A page of the worker's contributions", body = Page<ContributionResponse>),
        (status = "4XX", description = "Refusals (problem+json); 404 `NOT_FOUND` also for another worker's records", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/workers/{id}/contributions")]
pub async fn list_worker_contributions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<WorkerRecordsQuery>,
) -> AppResult<Page<ContributionResponse>> {
    caller.require(Act::ReadWorkerRecords)?;
    let id = path.into_inner();
    let q = query.0;
    let request = PageRequest::new(q.after, q.limit)?;
    let page = read(&state, move |conn| {
        let (worker, fund) = worker_in_scope(conn, &caller, &id)?;
        let filter = ContributionFilter {
            worker_id: Some(worker.id),
            from: None,
            to: None,
            after_id: request.after.clone(),
            limit: request.rows(),
        };
        let rows = crate::contributions::list(conn, &fund, &filter)?;
        let (rows, next) = request.cut(rows, |c| c.id.clone());
        Ok(Page {
            items: rows.into_iter().map(contribution_response).collect(),
            next,
        })
    })
    .await?;
    Ok(page)
}

//! Registry routes: a fund's recruitment agencies and employers.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::page::PageRequest;
use super::refunds::bounded;
use super::write::{Done, Mutation};
use super::{fund_in_scope, read, AppState, Page};
use crate::auth::{Act, Caller};
use crate::error::{AppError, AppResult, FieldError};
use crate::funds::is_country;
use crate::money::{format_minor, to_minor, Currency, DecimalString};
use crate::parties::{
    self, Bond, NewParty, Party, PartyChange, PartyFilter, PartyKind, PartyStatus,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(register_party)
        .service(list_parties)
        .service(get_party)
        .service(update_party);
}

/// The longest licence number accepted.
const MAX_LICENCE: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "500000.00", "currency": "KES", "reference": "KCB-GTEE-2024-0091", "expires_on": "2027-12-31"}))]
pub struct BondRequest {
    pub amount: DecimalString,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// The bank guarantee's or deposit's reference.
    pub reference: Option<String>,
    /// The last day the bond may be drawn.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub expires_on: Option<NaiveDate>,
}

impl BondRequest {
    fn validate(&self, errors: &mut Vec<FieldError>) -> Option<Bond> {
        let currency = Currency::parse(&self.currency)
            .map_err(|e| errors.push(FieldError::money("/bond/currency", &e)))
            .ok()?;
        let amount_minor = to_minor(self.amount.0, currency)
            .map_err(|e| errors.push(FieldError::money("/bond/amount", &e)))
            .ok()?;
        let reference =
            (self.reference.as_deref()).and_then(|r| text("/bond/reference", r, errors));
        Some(Bond {
            amount_minor,
            currency,
            reference,
            expires_on: self.expires_on,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "agency", "name": "Nairobi Placement Ltd", "licence_number": "NEA/RA/2024/117", "country": "KE", "contact": "compliance@nairobiplacement.example", "bond": {"amount": "500000.00", "currency": "KES", "reference": "KCB-GTEE-2024-0091", "expires_on": "2027-12-31"}}))]
pub struct PartyRequest {
    pub kind: PartyKind,
    pub name: String,
    /// The licence (or registration) number: unique per fund and kind.
    pub licence_number: String,
    /// ISO 3166 alpha-2: where the party is established.
    pub country: String,
    /// How to reach it (an address, an email, a phone number).
    pub contact: Option<String>,
    pub bond: Option<BondRequest>,
}

/// `value` trimmed, if 1 to 500 characters long; else its refusal goes to `errors`.
pub(super) fn text(field: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match bounded(field, value) {
        Ok(t) => Some(t.to_string()),
        Err(AppError::Refused(r)) => {
            errors.extend(r.errors);
            None
        }
        Err(e) => {
            errors.push(FieldError::new(field, "invalid", e.detail()));
            None
        }
    }
}

fn country(value: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    if is_country(value) {
        return Some(value.to_string());
    }
    errors.push(FieldError::new(
        "/country",
        "unknown_country",
        "must be an ISO 3166 alpha-2 code",
    ));
    None
}

impl PartyRequest {
    fn validate(&self) -> AppResult<NewParty> {
        let mut errors = Vec::new();
        let name = text("/name", &self.name, &mut errors);
        let licence = self.licence_number.trim();
        if licence.is_empty()
            || licence.chars().count() > MAX_LICENCE
            || licence.chars().any(char::is_control)
        {
            errors.push(
                FieldError::new(
                    "/licence_number",
                    "invalid_length",
                    format!("must be 1 to {MAX_LICENCE} characters"),
                )
                .with_limit(MAX_LICENCE),
            );
        }
        let country = country(&self.country, &mut errors);
        let contact = (self.contact.as_deref()).and_then(|c| text("/contact", c, &mut errors));
        let bond = self.bond.as_ref().and_then(|b| b.validate(&mut errors));
        match (name, country) {
            (Some(name), Some(country)) if errors.is_empty() => Ok(NewParty {
                kind: self.kind,
                name,
                licence_number: licence.to_string(),
                country,
                contact,
                bond,
            }),
            _ => Err(AppError::validation(errors)),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "suspended", "contact": "receiver@nairobiplacement.example", "bond": {"amount": "750000.00", "currency": "KES", "reference": "KCB-GTEE-2026-0212", "expires_on": "2028-12-31"}}))]
pub struct PartyUpdateRequest {
    pub name: Option<String>,
    pub country: Option<String>,
    pub contact: Option<String>,
    /// A new bond in place of the old: never less than what was drawn from it.
    pub bond: Option<BondRequest>,
    /// `suspended` when the licence is suspended, `active` when it stands again.
    pub status: Option<PartyStatus>,
}

impl PartyUpdateRequest {
    fn validate(&self) -> AppResult<PartyChange> {
        let mut errors = Vec::new();
        let change = PartyChange {
            name: (self.name.as_deref()).and_then(|n| text("/name", n, &mut errors)),
            country: (self.country.as_deref()).and_then(|c| country(c, &mut errors)),
            contact: (self.contact.as_deref()).and_then(|c| text("/contact", c, &mut errors)),
            bond: self.bond.as_ref().and_then(|b| b.validate(&mut errors)),
            status: self.status,
        };
        if errors.is_empty() {
            Ok(change)
        } else {
            Err(AppError::validation(errors))
        }
    }
}

/// A party's bond, with what was drawn from it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BondResponse {
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    pub currency: Currency,
    #[schema(required = true)]
    pub reference: Option<String>,
    #[schema(required = true)]
    pub expires_on: Option<NaiveDate>,
    /// What settlements of recoveries drew from it.
    #[schema(value_type = crate::money::DecimalString)]
    pub drawn: String,
    /// What remains to draw.
    #[schema(value_type = crate::money::DecimalString)]
    pub remaining: String,
}

/// An agency or employer in a fund's registry.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01a24cf6-ef90-7d2e-8f3a-6b2c1d4e5f60", "fund": "KE-MWF", "kind": "agency", "name": "Nairobi Placement Ltd", "licence_number": "NEA/RA/2024/117", "country": "KE", "contact": "compliance@nairobiplacement.example", "bond": {"amount": "500000.00", "currency": "KES", "reference": "KCB-GTEE-2024-0091", "expires_on": "2027-12-31", "drawn": "0.00", "remaining": "500000.00"}, "status": "active", "created_at": "2026-12-06T21:00:00.000000Z", "created_by": "officer.njeri", "updated_at": "2026-12-06T21:00:00.000000Z", "updated_by": "officer.njeri"}))]
pub struct PartyResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub fund: String,
    pub kind: PartyKind,
    pub name: String,
    pub licence_number: String,
    pub country: String,
    #[schema(required = true)]
    pub contact: Option<String>,
    #[schema(required = true)]
    pub bond: Option<BondResponse>,
    pub status: PartyStatus,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub updated_by: String,
}

fn party_response(p: Party) -> PartyResponse {
    let bond = p.bond.as_ref().map(|b| BondResponse {
        amount: format_minor(b.amount_minor, b.currency),
        currency: b.currency,
        reference: b.reference.clone(),
        expires_on: b.expires_on,
        drawn: format_minor(p.bond_drawn_minor, b.currency),
        remaining: format_minor(b.amount_minor - p.bond_drawn_minor, b.currency),
    });
    PartyResponse {
        id: p.id,
        fund: p.fund_code,
        kind: p.kind,
        name: p.name,
        licence_number: p.licence_number,
        country: p.country,
        contact: p.contact,
        bond,
        status: p.status,
        created_at: crate::time::rfc3339(p.created_at),
        created_by: p.created_by,
        updated_at: crate::time::rfc3339(p.updated_at),
        updated_by: p.updated_by,
    }
}

/// Register an agency or employer in the fund (admin, officer).
///
/// A licence number already registered in the fund for the same kind is 409
/// `PARTY_ALREADY_REGISTERED`, naming the `party_id` that holds it.
#[utoipa::path(
    tag = "recovery",
    request_body = PartyRequest,
    params(("fund" = String, Path, description = "Fund code"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "The party, registered", body = PartyResponse),
        (status = 409, description = "`PARTY_ALREADY_REGISTERED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/parties")]
pub async fn register_party(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    Mutation::new(&req, state, caller, Act::RegisterParty)
        .fund(&code)
        .run(&req, body, move |conn, caller, input: PartyRequest| {
            let fund = fund_in_scope(conn, caller, &code)?;
            let new = input.validate()?;
            let (party, event) = parties::register(conn, &fund, &new, &caller.subject)?;
            Ok(Done::created(
                format!("party {} {}", party.id, party.licence_number),
                party_response(party),
            )
            .with_events(vec![event]))
        })
        .await
}

/// Change a party's details, bond or status (admin, officer).
///
/// Fields left out stay as they are. A new bond is never less than what settlements drew
/// from the old one (`/bond/amount`, `below_drawn`).
#[utoipa::path(
    tag = "recovery",
    request_body = PartyUpdateRequest,
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("id" = uuid::Uuid, Path, description = "Party id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 200, description = "The party", body = PartyResponse),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[patch("/v1/funds/{fund}/parties/{id}")]
pub async fn update_party(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (code, id) = path.into_inner();
    Mutation::new(&req, state, caller, Act::UpdateParty)
        .fund(&code)
        .run(
            &req,
            body,
            move |conn, caller, input: PartyUpdateRequest| {
                let fund = fund_in_scope(conn, caller, &code)?;
                let change = input.validate()?;
                let (party, event) = parties::update(conn, &fund, &id, &change, &caller.subject)?;
                Ok(Done::ok(
                    format!("party {} {}", party.id, party.status.as_str()),
                    party_response(party),
                )
                .with_events(vec![event]))
            },
        )
        .await
}

/// Read one party, with what remains of its bond.
#[utoipa::path(
    tag = "recovery",
    params(("fund" = String, Path, description = "Fund code"), ("id" = uuid::Uuid, Path, description = "Party id")),
    responses(
        (status = 200, description = "The party", body = PartyResponse),
        (status = 404, description = "`NOT_FOUND`", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/parties/{id}")]
pub async fn get_party(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> AppResult<web::Json<PartyResponse>> {
    caller.require(Act::ReadFunds)?;
    let (code, id) = path.into_inner();
    let party = read(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        parties::in_fund(conn, &fund, &id)
    })
    .await?;
    Ok(web::Json(party_response(party)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartyQuery {
    pub kind: Option<PartyKind>,
    pub status: Option<PartyStatus>,
    /// Exactly this licence number.
    pub licence_number: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// List a fund's agencies and employers in registration order.
#[utoipa::path(
    tag = "recovery",
    params(("fund" = String, Path, description = "Fund code"), PartyQuery),
    responses(
        (status = 200, description = "A page of parties", body = Page<PartyResponse>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/parties")]
pub async fn list_parties(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<PartyQuery>,
) -> AppResult<Page<PartyResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let request = PageRequest::new(q.after, q.limit)?;
    super::read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let filter = PartyFilter {
            kind: q.kind,
            status: q.status,
            licence_number: q.licence_number,
            after: request.after.clone(),
            limit: request.rows(),
        };
        let found = parties::list(conn, &fund, &filter)?;
        let (rows, next) = request.cut(found, |p| p.id.clone());
        Ok(Page {
            items: rows.into_iter().map(party_response).collect(),
            next,
        })
    })
    .await
}

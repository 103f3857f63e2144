//! Payees and shares on the wire: the beneficiaries a claim names, a later
//! heir joining a claim (`POST /v1/claims/{id}/beneficiaries`), and the payees
//! a claim shows with their shares, parts and payments.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::claims::claim_action;
use super::write::Mutation;
use super::AppState;
use crate::auth::{Act, Caller};
use crate::claims::payees::{
    self, Guardian, NewBeneficiary, Payee, Recipient, Share, MAX_BENEFICIARIES,
};
use crate::error::{AppError, AppResult, FieldError};
use crate::money::{format_minor, Currency, DecimalString};
use crate::rules::document::Relationship;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(join_claim);
}

/// Someone outside the register who receives for a minor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Rosa Cruz", "id_number": "PH-UMID-0011-2233-4455", "relationship": "aunt"}))]
pub struct GuardianRequest {
    #[schema(max_length = 200)]
    pub name: String,
    /// The guardian's identity document number.
    #[schema(max_length = 64)]
    pub id_number: String,
    /// How the guardian is related to the minor (`aunt`, `court-appointed`).
    #[schema(max_length = 64)]
    pub relationship: Option<String>,
}

/// One beneficiary a claim names: a registered dependant or the estate, their
/// share, and for a minor the guardian who receives.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"dependant_id": "0193b0c4-7f40-7c63-9e51-4da08f3c6b92", "share": "0.5", "guardian_dependant_id": "0193b0c4-7f40-7c63-9e51-4da08f3c6b93"}))]
pub struct BeneficiaryRequest {
    /// A dependant registered on the worker (or `estate: true`).
    #[schema(format = Uuid)]
    pub dependant_id: Option<String>,
    /// The worker's estate: only when no heir of any class lives and the rules let it take.
    #[serde(default)]
    pub estate: bool,
    /// The beneficiary's share (`"0.5"`, at most 10 decimal places); the shares
    /// of a claim add up to exactly 1. Given for every beneficiary or for none
    /// (none: equal shares).
    pub share: Option<DecimalString>,
    /// Who receives for a minor, when not a registered dependant.
    pub guardian: Option<GuardianRequest>,
    /// Who receives for a minor: a living adult dependant registered on the worker.
    #[schema(format = Uuid)]
    pub guardian_dependant_id: Option<String>,
}

/// A later heir joining a claim: the shares are split equally again over everyone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"dependant_id": "0193b0c4-7f40-7c63-9e51-4da08f3c6b94", "guardian": {"name": "Rosa Cruz", "id_number": "PH-UMID-0011-2233-4455", "relationship": "aunt"}}))]
pub struct JoinRequest {
    /// The heir: a dependant registered on the worker, of the class that takes.
    #[schema(format = Uuid)]
    pub dependant_id: String,
    /// Who receives for a minor, when not a registered dependant.
    pub guardian: Option<GuardianRequest>,
    /// Who receives for a minor: a living adult dependant registered on the worker.
    #[schema(format = Uuid)]
    pub guardian_dependant_id: Option<String>,
}

const MAX_NAME: usize = 200;
const MAX_CODE: usize = 64;

fn bounded(at: String, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        errors.push(
            FieldError::new(
                at,
                "invalid_length",
                format!("must be 1 to {max} characters"),
            )
            .with_limit(max),
        );
    }
    value.to_string()
}

/// Who, and who receives: exactly one of a dependant and the estate; at most
/// one guardian.
fn recipient_and_guardian(
    at: &str,
    dependant_id: &Option<String>,
    estate: bool,
    guardian: &Option<GuardianRequest>,
    guardian_dependant_id: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> (Recipient, Option<Guardian>) {
    let recipient = match (dependant_id, estate) {
        (Some(id), false) => {
            Recipient::Dependant(bounded(format!("{at}/dependant_id"), id, MAX_CODE, errors))
        }
        (None, true) => Recipient::Estate,
        (Some(_), true) => {
            errors.push(FieldError::new(
                format!("{at}/estate"),
                "conflict",
                "name a dependant or the estate, not both",
            ));
            Recipient::Estate
        }
        (None, false) => {
            errors.push(FieldError::new(
                format!("{at}/dependant_id"),
                "required",
                "name the dependant (or estate: true)",
            ));
            Recipient::Estate
        }
    };
    let guardian = match (guardian, guardian_dependant_id) {
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                format!("{at}/guardian"),
                "conflict",
                "name the guardian or guardian_dependant_id, not both",
            ));
            None
        }
        (Some(g), None) => Some(Guardian::Named {
            name: bounded(format!("{at}/guardian/name"), &g.name, MAX_NAME, errors),
            id_number: bounded(
                format!("{at}/guardian/id_number"),
                &g.id_number,
                MAX_CODE,
                errors,
            ),
            relationship: g
                .relationship
                .as_ref()
                .map(|r| bounded(format!("{at}/guardian/relationship"), r, MAX_CODE, errors)),
        }),
        (None, Some(id)) => Some(Guardian::Dependant(bounded(
            format!("{at}/guardian_dependant_id"),
            id,
            MAX_CODE,
            errors,
        ))),
        (None, None) => None,
    };
    (recipient, guardian)
}

/// The beneficiaries a claim names, parsed: 1 to [`MAX_BENEFICIARIES`], each
/// valid, shares for all or for none adding up to exactly 1. Whether they may
/// take is the domain's check (it knows the register and the rules).
pub fn parse_beneficiaries(
    items: &[BeneficiaryRequest],
    errors: &mut Vec<FieldError>,
) -> Vec<NewBeneficiary> {
    let at = "/beneficiaries";
    if items.is_empty() || items.len() > MAX_BENEFICIARIES {
        errors.push(
            FieldError::new(
                at,
                "invalid_length",
                format!("name 1 to {MAX_BENEFICIARIES} beneficiaries, or leave them out"),
            )
            .with_limit(MAX_BENEFICIARIES),
        );
    }
    let named_shares = items.iter().filter(|b| b.share.is_some()).count();
    let parsed: Vec<NewBeneficiary> = items
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let here = format!("{at}/{i}");
            let (recipient, guardian) = recipient_and_guardian(
                &here,
                &b.dependant_id,
                b.estate,
                &b.guardian,
                &b.guardian_dependant_id,
                errors,
            );
            let share = match &b.share {
                Some(s) => share(&format!("{here}/share"), s.0, errors),
                None if named_shares > 0 => {
                    errors.push(FieldError::new(
                        format!("{here}/share"),
                        "required",
                        "name every beneficiary's share, or none for equal shares",
                    ));
                    None
                }
                None => None,
            };
            NewBeneficiary {
                recipient,
                share,
                guardian,
            }
        })
        .collect();
    // The sum is checked once every share is itself a share.
    if named_shares > 0 && parsed.iter().all(|b| b.share.is_some()) {
        let sum: Decimal = items
            .iter()
            .filter_map(|b| b.share.as_ref())
            .map(|s| s.0)
            .sum();
        if sum != Decimal::ONE {
            errors.push(FieldError::new(
                at,
                "shares_not_one",
                format!("the shares add up to {sum}, not exactly 1"),
            ));
        }
    }
    parsed
}

fn share(at: &str, value: Decimal, errors: &mut Vec<FieldError>) -> Option<Share> {
    let parsed = Share::from_decimal(value);
    if parsed.is_none() {
        errors.push(FieldError::new(
            at,
            "out_of_range",
            format!(
                "a share is greater than 0 and at most 1, with at most {} decimal places",
                payees::share::MAX_SHARE_DECIMALS
            ),
        ));
    }
    parsed
}

impl JoinRequest {
    fn parse(&self) -> AppResult<NewBeneficiary> {
        let mut errors = Vec::new();
        let (recipient, guardian) = recipient_and_guardian(
            "",
            &Some(self.dependant_id.clone()),
            false,
            &self.guardian,
            &self.guardian_dependant_id,
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(AppError::validation(errors));
        }
        Ok(NewBeneficiary {
            recipient,
            share: None,
            guardian,
        })
    }
}

/// Who receives for a minor.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GuardianResponse {
    pub name: String,
    /// The identity document of a guardian outside the register.
    #[schema(required = true)]
    pub id_number: Option<String>,
    #[schema(required = true)]
    pub relationship: Option<String>,
    /// The guardian, when a dependant registered on the worker.
    #[schema(required = true, format = Uuid)]
    pub dependant_id: Option<String>,
}

/// One payee of a claim whose benefit has `beneficiaries`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PayeeResponse {
    /// 1, 2, …: the order payees are paid in.
    pub line: i32,
    /// The dependant paid (`null` for the estate).
    #[schema(required = true, format = Uuid)]
    pub dependant_id: Option<String>,
    pub estate: bool,
    /// The dependant's name as registered, or "Estate of …".
    pub name: String,
    #[schema(required = true)]
    pub relationship: Option<Relationship>,
    /// A minor on the incident date: the guardian receives.
    pub minor: bool,
    /// The share of the award as a decimal (exact, or rounded to 10 places for
    /// a fraction such as 1/3, whose exact value is `share_fraction`).
    #[schema(value_type = crate::money::DecimalString)]
    pub share: String,
    /// The exact share (`"1/3"`).
    #[schema(example = "1/3")]
    pub share_fraction: String,
    #[schema(required = true)]
    pub guardian: Option<GuardianResponse>,
    /// Who receives the money: the guardian for a minor, else the payee.
    pub receiver: String,
    /// The payee's part of the award, once approved (split by the largest remainder).
    #[schema(required = true, value_type = Option<crate::money::DecimalString>)]
    pub amount: Option<String>,
    #[schema(required = true)]
    pub paid_on: Option<NaiveDate>,
    /// The entry that paid the payee.
    #[schema(required = true, format = Uuid)]
    pub payment_entry_id: Option<String>,
}

pub fn payee_response(p: &Payee, currency: Currency) -> PayeeResponse {
    let (id_number, dependant_id) = p
        .guardian
        .as_ref()
        .map(Guardian::identity)
        .unwrap_or_default();
    PayeeResponse {
        line: p.line,
        dependant_id: p.recipient.dependant_id(),
        estate: p.recipient == Recipient::Estate,
        name: p.name.clone(),
        relationship: p.relationship,
        minor: p.minor,
        share: p.share.to_decimal_string(),
        share_fraction: p.share.to_fraction_string(),
        guardian: p.guardian_name.as_ref().map(|name| GuardianResponse {
            name: name.clone(),
            id_number,
            relationship: p.guardian_relationship.clone(),
            dependant_id,
        }),
        receiver: p.receiver().to_string(),
        amount: p.amount_minor.map(|m| format_minor(m, currency)),
        paid_on: p.paid_on,
        payment_entry_id: p.payment_entry_id.clone(),
    }
}

/// A later heir joins a claim (admin, officer, ministry): one death is one
/// benefit, so an heir joins the claim already filed rather than filing
/// another. Only while the claim is undecided, and only for a benefit with
/// `beneficiaries`; the shares are split equally again over every payee and
/// the claim is assessed again.
#[utoipa::path(
    tag = "claims",
    request_body = JoinRequest,
    params(("id" = uuid::Uuid, Path, description = "Claim id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The claim with the heir among its payees, assessed again", body = super::claims::ClaimResponse),
        (status = 409, description = "`BENEFICIARY_ALREADY_ON_CLAIM`, `CLAIM_STATUS_CONFLICT`", body = crate::error::Problem),
        (status = 422, description = "`VALIDATION_FAILED`: the heir may not take (`/dependant_id`), a minor has no guardian (`/guardian`)", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/claims/{id}/beneficiaries")]
pub async fn join_claim(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let mutation = Mutation::new(&req, state, caller, Act::JoinClaim);
    claim_action(
        mutation,
        &req,
        path.into_inner(),
        body,
        |conn, caller, fund, id, input: JoinRequest| {
            let new = input.parse()?;
            payees::join(conn, fund, id, &new, caller)
        },
    )
    .await
}

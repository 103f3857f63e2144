//! Contribution routes: quote, record (one or a batch), list, read, reverse.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::batch::{
    item_path, parse_items, refusal_or_fatal, Batch, BatchItemResult, BatchRequest, BatchResponse,
    MAX_BATCH_BODY_BYTES,
};
use super::extract::{read_body, Query};
use super::page::PageRequest;
use super::workers::of_own_worker;
use super::write::{in_fund, Done, Mutation};
use super::{fund_in_scope, read, AppState, Page};
use crate::auth::{Act, Caller};
use crate::contributions::{
    self, Contribution, ContributionFilter, FundRules, NewContribution, NewPayer, Received,
    Recorded,
};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, FieldError, Refusal};
use crate::funds::Fund;
use crate::money::{format_minor, to_minor, Currency, DecimalString};
use crate::rules::document::PayerType;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(quote_contribution)
        .service(record_contribution)
        .service(record_contributions_batch)
        .service(list_contributions)
        .service(get_contribution)
        .service(reverse_contribution);
}

const MAX_PAYERS: usize = 10;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"type": "worker", "amount": "2000.00", "reference": "MPESA-QF72K1"}))]
pub struct PayerRequest {
    #[serde(rename = "type")]
    pub payer_type: PayerType,
    #[schema(example = "1000.00")]
    pub amount: DecimalString,
    /// The payer's own reference (receipt, agency licence).
    pub reference: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "15.50", "currency": "USD", "exchange_rate": "129.00"}))]
pub struct ReceivedRequest {
    /// The amount as received, in its own currency.
    #[schema(example = "3200.00")]
    pub amount: DecimalString,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// Units of the contribution currency per unit of the received currency.
    #[schema(example = "0.0078")]
    pub exchange_rate: DecimalString,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"worker_id": "0193b0c4-5d2e-7a41-9c3f-2b8e6d1a4f70", "contract_id": "0193b0c4-6e3f-7b52-8d40-3c9f7e2b5a81", "paid_on": "2026-02-01", "amount": "2000.00", "currency": "KES", "payers": [{"type": "worker", "amount": "2000.00", "reference": "MPESA-QF72K1"}], "external_ref": "KCB-2026-000123", "received": {"amount": "15.50", "currency": "USD", "exchange_rate": "129.00"}}))]
pub struct ContributionRequest {
    #[schema(format = Uuid)]
    pub worker_id: String,
    /// The contract paid for: required when the amount or coverage depends on it.
    #[schema(format = Uuid)]
    pub contract_id: Option<String>,
    /// The payment date; the rules in force on it apply. Not after tomorrow (UTC).
    #[serde(deserialize_with = "crate::date::strict")]
    pub paid_on: NaiveDate,
    /// The contribution without taxes; must equal what the rules expect.
    #[schema(example = "2000.00")]
    pub amount: DecimalString,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// Who paid what: the parts add up to the contribution with its taxes (`total` of the quote).
    pub payers: Vec<PayerRequest>,
    /// The partner system's own id: a repeat with the same `external_ref` returns the recorded
    /// contribution instead of booking again.
    pub external_ref: Option<String>,
    pub received: Option<ReceivedRequest>,
}

/// How far the received amount converted at its rate may be from what the payers
/// paid: 1 % of it (exchange rates are quoted to a few decimals), and never less
/// than one minor unit.
pub const RECEIVED_TOLERANCE_PERCENT: i64 = 1;

/// Whether `received` converted at its rate is what the payers paid (`paid_minor`
/// in the contribution currency), within [`RECEIVED_TOLERANCE_PERCENT`].
fn received_matches(
    received: &Received,
    paid_minor: i64,
    currency: Currency,
    at: &str,
) -> Result<(), FieldError> {
    let converted = crate::money::from_minor(received.amount_minor, received.currency)
        .checked_mul(received.exchange_rate);
    let paid = crate::money::from_minor(paid_minor, currency);
    let tolerance = (paid * Decimal::new(RECEIVED_TOLERANCE_PERCENT, 2))
        .max(crate::money::from_minor(1, currency));
    match converted {
        Some(converted) if (converted - paid).abs() <= tolerance => Ok(()),
        _ => Err(FieldError::new(
            format!("{at}/received/exchange_rate"),
            "inconsistent",
            format!(
                "{} {} at {} is {} {currency}, not the {} {currency} the payers paid (tolerance {RECEIVED_TOLERANCE_PERCENT} %)",
                crate::money::format_minor(received.amount_minor, received.currency),
                received.currency,
                received.exchange_rate,
                converted
                    .map(|c| c.round_dp(currency.exponent()).to_string())
                    .unwrap_or_else(|| "too large".to_string()),
                crate::money::format_minor(paid_minor, currency),
            ),
        )),
    }
}

impl ContributionRequest {
    pub fn validate(&self, at: &str) -> AppResult<NewContribution> {
        let mut errors = Vec::new();
        if self.paid_on > crate::time::today() + Days::new(1) {
            errors.push(FieldError::new(
                format!("{at}/paid_on"),
                "in_future",
                "must not be after tomorrow (UTC)",
            ));
        }
        let currency = Currency::parse(&self.currency)
            .map_err(|e| errors.push(FieldError::money(format!("{at}/currency"), &e)))
            .ok();
        let (amount_minor, payers) = match currency {
            Some(c) => self.amounts_in(c, at, &mut errors),
            None => (0, Vec::new()),
        };
        if self.payers.is_empty() || self.payers.len() > MAX_PAYERS {
            errors.push(FieldError::new(
                format!("{at}/payers"),
                "out_of_range",
                format!("name 1 to {MAX_PAYERS} payers"),
            ));
        }
        check_external_ref(at, &self.external_ref, &mut errors);
        let received = self
            .received
            .as_ref()
            .and_then(|r| r.validate(at, &mut errors));
        if let (Some(r), Some(c)) = (&received, currency) {
            let paid: i64 = payers.iter().map(|p| p.amount_minor).sum();
            if let Err(problem) = received_matches(r, paid, c, at) {
                errors.push(problem);
            }
        }
        match currency {
            Some(currency) if errors.is_empty() => Ok(NewContribution {
                worker_id: self.worker_id.clone(),
                contract_id: self.contract_id.clone(),
                paid_on: self.paid_on,
                amount_minor,
                currency,
                payers,
                external_ref: self.external_ref.clone(),
                received,
            }),
            _ => Err(AppError::validation(errors)),
        }
    }

    /// The amount and each payer's part in minor units of `currency`; a part
    /// that is not a valid amount is reported and left out.
    fn amounts_in(
        &self,
        currency: Currency,
        at: &str,
        errors: &mut Vec<FieldError>,
    ) -> (i64, Vec<NewPayer>) {
        let mut amount_minor = 0;
        match to_minor(self.amount.0, currency) {
            Ok(m) => amount_minor = m,
            Err(e) => errors.push(FieldError::money(format!("{at}/amount"), &e)),
        }
        let mut payers = Vec::new();
        for (i, p) in self.payers.iter().enumerate() {
            match to_minor(p.amount.0, currency) {
                Ok(m) => payers.push(NewPayer {
                    payer_type: p.payer_type,
                    amount_minor: m,
                    reference: p.reference.clone(),
                }),
                Err(e) => errors.push(FieldError::money(format!("{at}/payers/{i}/amount"), &e)),
            }
        }
        (amount_minor, payers)
    }
}

/// The partner's own id, if given: 1 to 128 visible ASCII characters.
fn check_external_ref(at: &str, external_ref: &Option<String>, errors: &mut Vec<FieldError>) {
    if let Some(r) = external_ref {
        if r.is_empty() || r.len() > 128 || !r.bytes().all(|b| b.is_ascii_graphic()) {
            errors.push(
                FieldError::new(
                    format!("{at}/external_ref"),
                    "invalid_format",
                    "must be 1 to 128 visible ASCII characters",
                )
                .with_limit(128),
            );
        }
    }
}

impl ReceivedRequest {
    /// The amount as received, if its currency, amount and rate are valid; the
    /// first bad one is reported.
    fn validate(&self, at: &str, errors: &mut Vec<FieldError>) -> Option<Received> {
        let c = Currency::parse(&self.currency)
            .map_err(|e| errors.push(FieldError::money(format!("{at}/received/currency"), &e)))
            .ok()?;
        let amount = to_minor(self.amount.0, c)
            .map_err(|e| errors.push(FieldError::money(format!("{at}/received/amount"), &e)))
            .ok()?;
        if self.exchange_rate.0 <= Decimal::ZERO {
            errors.push(FieldError::new(
                format!("{at}/received/exchange_rate"),
                "not_positive",
                "must be positive",
            ));
            return None;
        }
        Some(Received {
            amount_minor: amount,
            currency: c,
            exchange_rate: self.exchange_rate.0,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TaxResponse {
    pub code: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub rate: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CoverageResponse {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PayerResponse {
    #[serde(rename = "type")]
    #[schema(value_type = PayerType)]
    pub payer_type: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    #[schema(required = true)]
    pub reference: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceivedResponse {
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub exchange_rate: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReversalResponse {
    #[schema(format = Uuid)]
    pub journal_entry_id: String,
    pub reason: String,
    #[schema(format = DateTime)]
    pub reversed_at: String,
}

/// Whether a contribution stands: `recorded`, or `reversed` (a bounced
/// payment, which buys no coverage).
#[derive(ToSchema)]
#[allow(
    dead_code,
    reason = "describes ContributionResponse::status in the document"
)]
pub enum ContributionStatus {
    #[schema(rename = "recorded")]
    Recorded,
    #[schema(rename = "reversed")]
    Reversed,
}

/// A recorded contribution.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "01a24cf6-ef75-769b-b0c2-9370a9b69af0", "fund": "KE-MWF", "worker_id": "01a24cf6-ef49-7603-96a4-c8763bd474f9", "contract_id": "01a24cf6-ef49-7603-96a4-c8780b99f05c", "rule_version": "KE-MWF-2026", "paid_on": "2026-02-01", "currency": "KES", "amount": "2000.00", "taxes": [], "total": "2000.00", "benefit_reserve": "1800.00", "administration": "200.00", "payers": [{"type": "worker", "amount": "2000.00", "reference": "MPESA-QF72K1"}], "external_ref": "KCB-2026-000123", "received": {"amount": "15.50", "currency": "USD", "exchange_rate": "129.00"}, "coverage": {"start": "2026-02-01", "end": "2028-01-31"}, "status": "recorded", "journal_entry_id": "01a24cf6-ef75-769b-b0c2-93717dc49ba5", "reversal": null, "created_at": "2026-12-06T20:06:21.302013Z", "created_by": "officer.njeri"}))]
pub struct ContributionResponse {
    #[schema(format = Uuid)]
    pub id: String,
    pub fund: String,
    #[schema(format = Uuid)]
    pub worker_id: String,
    #[schema(required = true, format = Uuid)]
    pub contract_id: Option<String>,
    /// The rule version in force on `paid_on`, which set the amount and coverage.
    pub rule_version: String,
    pub paid_on: NaiveDate,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    pub taxes: Vec<TaxResponse>,
    #[schema(value_type = crate::money::DecimalString)]
    pub total: String,
    /// The amount's split into benefit-reserve and administration income.
    #[schema(value_type = crate::money::DecimalString)]
    pub benefit_reserve: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub administration: String,
    pub payers: Vec<PayerResponse>,
    #[schema(required = true)]
    pub external_ref: Option<String>,
    #[schema(required = true)]
    pub received: Option<ReceivedResponse>,
    pub coverage: CoverageResponse,
    /// `recorded` or `reversed` (a reversed contribution buys no coverage).
    #[schema(value_type = ContributionStatus)]
    pub status: String,
    #[schema(format = Uuid)]
    pub journal_entry_id: String,
    #[schema(required = true)]
    pub reversal: Option<ReversalResponse>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
}

/// What recording one contribution answers: 201 with the new contribution,
/// or 200 with the one already recorded under its `external_ref`.
pub fn recorded_done(recorded: Recorded) -> Done<ContributionResponse> {
    match recorded {
        Recorded::Created(c, event) => {
            let target = format!("contribution {}", c.id);
            Done::created(target, contribution_response(c)).with_events(vec![event])
        }
        Recorded::Existing(c) => {
            let target = format!("contribution {} (existing)", c.id);
            Done::ok(target, contribution_response(c))
        }
    }
}

pub fn contribution_response(c: Contribution) -> ContributionResponse {
    let cur = c.currency;
    ContributionResponse {
        id: c.id,
        fund: c.fund_code,
        worker_id: c.worker_id,
        contract_id: c.contract_id,
        rule_version: c.rule_version,
        paid_on: c.paid_on,
        currency: cur.code().to_string(),
        amount: format_minor(c.amount_minor, cur),
        taxes: c
            .taxes
            .into_iter()
            .map(|t| TaxResponse {
                code: t.code,
                rate: t.rate,
                amount: format_minor(t.amount_minor, cur),
            })
            .collect(),
        total: format_minor(c.total_minor, cur),
        benefit_reserve: format_minor(c.benefit_reserve_minor, cur),
        administration: format_minor(c.administration_minor, cur),
        payers: c
            .payers
            .into_iter()
            .map(|p| PayerResponse {
                payer_type: p.payer_type,
                amount: format_minor(p.amount_minor, cur),
                reference: p.reference,
            })
            .collect(),
        external_ref: c.external_ref,
        received: c.received.map(|(amount, currency, rate)| ReceivedResponse {
            amount: format_minor(amount, currency),
            currency: currency.code().to_string(),
            exchange_rate: rate,
        }),
        coverage: CoverageResponse {
            start: c.coverage_start,
            end: c.coverage_end,
        },
        status: c.status,
        journal_entry_id: c.journal_entry_id,
        reversal: c.reversal_entry_id.map(|id| ReversalResponse {
            journal_entry_id: id,
            reason: c.reversal_reason.unwrap_or_default(),
            reversed_at: c.reversed_at.map(crate::time::rfc3339).unwrap_or_default(),
        }),
        created_at: crate::time::rfc3339(c.created_at),
        created_by: c.created_by,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    pub worker_id: String,
    /// Required when the amount or coverage depends on the contract.
    pub contract_id: Option<String>,
    /// The payment date (default: today, UTC).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub paid_on: Option<NaiveDate>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"rule_version": "KE-MWF-2026", "paid_on": "2026-02-01", "currency": "KES", "amount": "2000.00", "taxes": [], "total": "2000.00", "benefit_reserve": "1800.00", "administration": "200.00", "payers": ["worker", "employer", "agency", "government"], "coverage": {"start": "2026-02-01", "end": "2028-01-31"}, "grace_days": 30, "pricing": "standard"}))]
pub struct QuoteResponse {
    pub rule_version: String,
    pub paid_on: NaiveDate,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// The contribution without taxes: send this as `amount`.
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    pub taxes: Vec<TaxResponse>,
    /// What the payers pay: amount plus taxes.
    #[schema(value_type = crate::money::DecimalString)]
    pub total: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub benefit_reserve: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub administration: String,
    /// Who may pay this worker under this version: the employer alone where the
    /// version puts the worker's sector on it (`employer_pays_for_sectors`).
    pub payers: Vec<PayerType>,
    pub coverage: CoverageResponse,
    /// Days membership stays active after the coverage ends.
    pub grace_days: u32,
    /// Which price applied: `standard` (the tiers) or `renewal` (the version's
    /// renewal tiers, for a worker who already has a standing contribution paid
    /// on an earlier day).
    pub pricing: crate::rules::evaluate::Pricing,
}

/// What the rules in force on `paid_on` expect from this worker for this contract.
#[utoipa::path(
    tag = "contributions",
    params(("fund" = String, Path, description = "Fund code"), QuoteQuery),
    responses(
        (status = 200, description = "The quote", body = QuoteResponse),
        (status = 422, description = "`NO_RULES_IN_FORCE`, `CONTRACT_REQUIRED`, `CONTRACT_ENDED`, `WAGE_REQUIRED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/contributions/quote")]
pub async fn quote_contribution(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<QuoteQuery>,
) -> AppResult<web::Json<QuoteResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let paid_on = q.paid_on.unwrap_or_else(crate::time::today);
    let response = read(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let (_, contract) = contributions::worker_and_contract(
            conn,
            &fund,
            &q.worker_id,
            q.contract_id.as_deref(),
            "",
        )?;
        let rules = FundRules::load(conn, &fund)?;
        // The worker's earlier contributions matter only where a version prices renewals.
        let first_paid_on = if rules.price_renewals() {
            contributions::first_paid_on(conn, fund.id, &[&q.worker_id])?.remove(&q.worker_id)
        } else {
            None
        };
        let v = rules.quote(contract.as_ref(), paid_on, first_paid_on)?;
        // The worker's sector matters only where the version lists some.
        let sector = if v.employer_pays_for_sectors.is_empty() {
            None
        } else {
            contributions::sector_of(conn, fund.id, &q.worker_id)?
        };
        let payers = v.payers_for(sector.as_deref());
        let cur = v.quote.currency;
        Ok(QuoteResponse {
            rule_version: v.rule_version,
            paid_on,
            currency: cur.code().to_string(),
            amount: format_minor(v.quote.amount_minor, cur),
            taxes: v
                .quote
                .taxes
                .iter()
                .map(|t| TaxResponse {
                    code: t.code.clone(),
                    rate: t.rate.to_string(),
                    amount: format_minor(t.amount_minor, cur),
                })
                .collect(),
            total: format_minor(v.quote.total_minor, cur),
            benefit_reserve: format_minor(v.quote.benefit_reserve_minor, cur),
            administration: format_minor(v.quote.administration_minor, cur),
            payers,
            coverage: CoverageResponse {
                start: v.quote.coverage_start,
                end: v.quote.coverage_end,
            },
            grace_days: v.quote.grace_days,
            pricing: v.quote.pricing,
        })
    })
    .await?;
    Ok(web::Json(response))
}

/// Record a contribution (admin, officer, ministry) and book it.
///
/// The amount must equal what the rules in force on `paid_on` expect (else 422
/// `CONTRIBUTION_AMOUNT_MISMATCH` with `expected`); the payers' parts must add up to the total
/// with taxes (`PAYERS_DO_NOT_ADD_UP`). Books cash against benefit-reserve income,
/// administration income and tax payable in one journal entry, in the same transaction. A repeat
/// with the same `external_ref` answers 200 with the contribution already recorded.
#[utoipa::path(
    tag = "contributions",
    request_body = ContributionRequest,
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 201, description = "Recorded and booked", body = ContributionResponse),
        (status = 200, description = "Already recorded under this `external_ref`", body = ContributionResponse),
        (status = 409, description = "`EXTERNAL_REF_CONFLICT`, `PERIOD_CLOSED`, `IDEMPOTENCY_KEY_REUSED`", body = crate::error::Problem),
        (status = 422, description = "`CONTRIBUTION_AMOUNT_MISMATCH`, `PAYERS_DO_NOT_ADD_UP`, `NO_RULES_IN_FORCE`, `CONTRACT_REQUIRED`, `VALIDATION_FAILED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/contributions")]
pub async fn record_contribution(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let committer = state.committer.clone();
    Mutation::new(&req, state, caller, Act::RecordContribution)
        .fund(&code)
        .run_grouped(
            &req,
            body,
            |caller, input: ContributionRequest| {
                if !caller.may_access_fund(&code) {
                    return Err(AppError::not_found(format!("no fund {code}")));
                }
                input.validate("")
            },
            |envelope, new| committer.submit(envelope, new),
        )
        .await
}

/// Record up to 10,000 contributions (admin, officer, ministry), answering per item.
///
/// Each item is recorded and booked on its own or not at all; a bad item is reported with its
/// problem and does not block the others. Items are idempotent by `external_ref`: one already
/// recorded answers `existing` with its id. The batch commits once.
#[utoipa::path(
    tag = "contributions",
    request_body(content = Batch<ContributionRequest>, example = json!({"items": [{"worker_id": "0193b0c4-5d2e-7a41-9c3f-2b8e6d1a4f70", "contract_id": "0193b0c4-6e3f-7b52-8d40-3c9f7e2b5a81", "paid_on": "2026-02-01", "amount": "2000.00", "currency": "KES", "payers": [{"type": "employer", "amount": "2000.00", "reference": "INV-2026-0098"}], "external_ref": "KCB-2026-000124", "received": {"amount": "15.50", "currency": "USD", "exchange_rate": "129.00"}}]})),
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
#[post("/v1/funds/{fund}/contributions/batch")]
pub async fn record_contributions_batch(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let body = read_body(payload, MAX_BATCH_BODY_BYTES).await?;
    Mutation::new(&req, state, caller, Act::RecordContributions)
        .fund(&code)
        .run(&req, body, move |conn, caller, input: BatchRequest| {
            let fund = fund_in_scope(conn, caller, &code)?;
            let items: Vec<Result<NewContribution, Refusal>> =
                parse_items::<ContributionRequest>(input)?
                    .into_iter()
                    .enumerate()
                    .map(|(index, item)| {
                        refusal_or_fatal(item.and_then(|r| r.validate(&item_path(index))))
                    })
                    .collect::<AppResult<_>>()?;
            let valid: Vec<(&NewContribution, &str)> = items
                .iter()
                .flatten()
                .map(|new| (new, caller.subject.as_str()))
                .collect();
            let mut recorded = contributions::record_many(conn, &fund, &valid)?.into_iter();
            let mut events = Vec::new();
            let mut results = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                results.push(
                    match item.map(|_| recorded.next().expect("one outcome per valid item")) {
                        Ok(Ok(Recorded::Created(c, event))) => {
                            events.push(event);
                            BatchItemResult::created(index, json!({"contribution_id": c.id}))
                        }
                        Ok(Ok(Recorded::Existing(c))) => {
                            BatchItemResult::existing(index, json!({"contribution_id": c.id}))
                        }
                        Ok(Err(refusal)) => BatchItemResult::refused(index, refusal),
                        Err(invalid) => BatchItemResult::failed(index, invalid),
                    },
                );
            }
            let response = BatchResponse::new(results);
            let target = format!(
                "contributions: {} recorded, {} existing, {} failed",
                response.created, response.existing, response.failed
            );
            Ok(Done::ok(target, response).with_events(events))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContributionQuery {
    pub worker_id: Option<String>,
    /// First payment date, inclusive.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub from: Option<NaiveDate>,
    /// Last payment date, inclusive.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub to: Option<NaiveDate>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// List a fund's contributions in recording order.
#[utoipa::path(
    tag = "contributions",
    params(("fund" = String, Path, description = "Fund code"), ContributionQuery),
    responses(
        (status = 200, description = "A page of contributions", body = Page<ContributionResponse>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/contributions")]
pub async fn list_contributions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<ContributionQuery>,
) -> AppResult<Page<ContributionResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let request = PageRequest::new(q.after, q.limit)?;
    let page = super::read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let filter = ContributionFilter {
            worker_id: q.worker_id,
            from: q.from,
            to: q.to,
            after_id: request.after.clone(),
            limit: request.rows(),
        };
        let (rows, next) =
            request.cut(contributions::list(conn, &fund, &filter)?, |c| c.id.clone());
        Ok(Page {
            items: rows.into_iter().map(contribution_response).collect(),
            next,
        })
    })
    .await?;
    Ok(page)
}

/// The contribution with `id` if the caller's token covers its fund and, for a
/// `worker` token, it is of its own worker (else 404), and the fund.
fn contribution_in_scope(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> AppResult<(Contribution, Fund)> {
    let missing = || AppError::not_found(format!("no contribution {id}"));
    let contribution = contributions::find(conn, id)?.ok_or_else(missing)?;
    if !of_own_worker(conn, caller, &contribution.worker_id)? {
        return Err(missing());
    }
    let fund = fund_in_scope(conn, caller, &contribution.fund_code).map_err(|_| missing())?;
    Ok((contribution, fund))
}

/// Read one contribution (a `worker` token: one of its own).
#[utoipa::path(
    tag = "contributions",
    params(("id" = uuid::Uuid, Path, description = "Contribution id")),
    responses(
        (status = 200, description = "The contribution", body = ContributionResponse),
        (status = 404, description = "`NOT_FOUND`", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/contributions/{id}")]
pub async fn get_contribution(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> AppResult<web::Json<ContributionResponse>> {
    caller.require(Act::ReadWorkerRecords)?;
    let id = path.into_inner();
    let c = read(&state, move |conn| {
        Ok(contribution_in_scope(conn, &caller, &id)?.0)
    })
    .await?;
    Ok(web::Json(contribution_response(c)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The bank returned the payment"}))]
pub struct ReverseContribution {
    #[schema(example = "Cheque returned unpaid")]
    pub reason: String,
}

/// Reverse a contribution, e.g. a bounced payment (admin, officer).
///
/// Books the reversing entry (dated today, or the payment date if later) and removes the
/// coverage the contribution bought. A second reversal is 409 `ALREADY_REVERSED`.
#[utoipa::path(
    tag = "contributions",
    request_body = ReverseContribution,
    params(("id" = uuid::Uuid, Path, description = "Contribution id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "The contribution, now reversed", body = ContributionResponse),
        (status = 409, description = "`ALREADY_REVERSED`, `INSUFFICIENT_FUNDS`, `PERIOD_CLOSED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/contributions/{id}/reversal")]
pub async fn reverse_contribution(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    Mutation::new(&req, state, caller, Act::ReverseContribution)
        .run(
            &req,
            body,
            move |conn, caller, input: ReverseContribution| {
                let (contribution, fund) = contribution_in_scope(conn, caller, &id)?;
                in_fund(&fund.code, || {
                    let reason = input.reason.trim();
                    if reason.is_empty() || reason.chars().count() > 500 {
                        return Err(AppError::field(
                            "/reason",
                            "invalid_length",
                            "must be 1 to 500 characters",
                        ));
                    }
                    let (reversed, event) = contributions::reverse(
                        conn,
                        &fund,
                        &contribution,
                        reason,
                        &caller.subject,
                    )?;
                    Ok(Done::ok(
                        format!("contribution {}", reversed.id),
                        contribution_response(reversed),
                    )
                    .with_events(vec![event]))
                })
            },
        )
        .await
}

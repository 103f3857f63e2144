//! Account routes: the chart of accounts, balances (now or as of a date) and statements.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::write::{Done, Mutation};
use super::{fund_in_scope, read, AppState};
use crate::auth::{Act, Caller};
use crate::error::{AppError, AppResult, FieldError};
use crate::funds::FundId;
use crate::ledger::{self, Account, AccountType, NewAccount, Side};
use crate::money::{format_minor, Currency};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_accounts)
        .service(create_account)
        .service(get_account)
        .service(account_statement);
}

const MAX_ACCOUNT_CODE_LENGTH: usize = 32;
const MAX_ACCOUNT_NAME_LENGTH: usize = 200;

/// An account with its balance.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountResponse {
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub account_type: AccountType,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// `debit` for assets and expenses, `credit` otherwise.
    pub normal_side: Side,
    /// Whether the balance may go below zero on its normal side.
    pub allow_negative: bool,
    /// Total debits posted (as of `as_of` when given).
    #[schema(value_type = crate::money::DecimalString, example = "1500.00")]
    pub debits: String,
    /// Total credits posted.
    #[schema(value_type = crate::money::DecimalString)]
    pub credits: String,
    /// The balance on the normal side: debits − credits for assets and expenses,
    /// credits − debits otherwise. May be negative.
    #[schema(value_type = crate::money::DecimalString)]
    pub balance: String,
    /// The date the figures are as of (by effective date); absent for current balances.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub as_of: Option<NaiveDate>,
}

fn account_response(
    a: &Account,
    totals: Option<(i64, i64)>,
    as_of: Option<NaiveDate>,
) -> AccountResponse {
    let (debits, credits) = totals.unwrap_or((a.debits_minor, a.credits_minor));
    AccountResponse {
        code: a.code.clone(),
        name: a.name.clone(),
        account_type: a.account_type,
        currency: a.currency.code().to_string(),
        normal_side: a.account_type.normal_side(),
        allow_negative: a.allow_negative,
        debits: format_minor(debits, a.currency),
        credits: format_minor(credits, a.currency),
        balance: format_minor(a.account_type.balance(debits, credits), a.currency),
        as_of,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// Balances as of the end of this date, by effective date. Omit for current balances.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub items: Vec<AccountResponse>,
}

/// List a fund's accounts with their balances, now or as of a date.
#[utoipa::path(
    tag = "ledger",
    params(("fund" = String, Path, description = "Fund code"), AsOfQuery),
    responses(
        (status = 200, description = "Accounts in code order", body = AccountList),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/accounts")]
pub async fn list_accounts(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<AsOfQuery>,
) -> AppResult<web::Json<AccountList>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let as_of = query.0.as_of;
    let items = super::read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let accounts = ledger::list_accounts(conn, fund.id)?;
        let totals = match as_of {
            Some(date) => Some(ledger::balances_as_of(conn, fund.id, date)?),
            None => None,
        };
        Ok(accounts
            .iter()
            .map(|a| {
                let t = totals
                    .as_ref()
                    .map(|t| t.get(&a.id).copied().unwrap_or_default());
                account_response(a, t, as_of)
            })
            .collect())
    })
    .await?;
    Ok(web::Json(AccountList { items }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "1010", "name": "Cash at bank: USD account", "type": "asset", "currency": "USD", "allow_negative": false}))]
pub struct CreateAccount {
    /// Unique in the fund; letters, digits, `.`, `-`, `_` (e.g. `1010`).
    #[schema(example = "1010", max_length = 32)]
    pub code: String,
    #[schema(example = "Cash at bank: USD account", max_length = 200)]
    pub name: String,
    #[serde(rename = "type")]
    pub account_type: AccountType,
    /// ISO 4217; may differ from the fund's currency.
    #[schema(value_type = crate::money::Currency, example = "USD")]
    pub currency: String,
    /// Whether the balance may go below zero on its normal side (default true).
    #[serde(default)]
    pub allow_negative: Option<bool>,
}

impl CreateAccount {
    fn validate(self) -> AppResult<NewAccount> {
        let mut errors = Vec::new();
        let code_ok = !self.code.is_empty()
            && self.code.len() <= MAX_ACCOUNT_CODE_LENGTH
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !code_ok {
            errors.push(
                FieldError::new(
                    "/code",
                    "invalid_format",
                    format!(
                        "must be 1 to {MAX_ACCOUNT_CODE_LENGTH} letters, digits, '.', '-' or '_'"
                    ),
                )
                .with_limit(MAX_ACCOUNT_CODE_LENGTH),
            );
        }
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > MAX_ACCOUNT_NAME_LENGTH {
            errors.push(
                FieldError::new(
                    "/name",
                    "invalid_length",
                    format!("must be 1 to {MAX_ACCOUNT_NAME_LENGTH} characters"),
                )
                .with_limit(MAX_ACCOUNT_NAME_LENGTH),
            );
        }
        let currency = Currency::parse(&self.currency)
            .map_err(|e| errors.push(FieldError::money("/currency", &e)));
        match currency {
            Ok(currency) if errors.is_empty() => Ok(NewAccount {
                code: self.code,
                name,
                account_type: self.account_type,
                currency,
                allow_negative: self.allow_negative.unwrap_or(true),
            }),
            _ => Err(AppError::validation(errors)),
        }
    }
}

/// Add an account to a fund's chart (admin).
#[utoipa::path(
    tag = "ledger",
    request_body = CreateAccount,
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 201, description = "Created", body = AccountResponse),
        (status = 409, description = "`ACCOUNT_ALREADY_EXISTS`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/accounts")]
pub async fn create_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    Mutation::new(&req, state, caller, Act::CreateAccount)
        .fund(&code)
        .run(&req, body, move |conn, caller, input: CreateAccount| {
            let fund = fund_in_scope(conn, caller, &code)?;
            let new = input.validate()?;
            let account = ledger::create_account(conn, fund.id, &new)?;
            Ok(Done::created(
                format!("account {}", account.code),
                account_response(&account, None, None),
            ))
        })
        .await
}

fn account_in_fund(
    conn: &mut crate::db::DbConnection,
    fund_id: FundId,
    code: &str,
) -> AppResult<Account> {
    ledger::find_account(conn, fund_id, code)?
        .ok_or_else(|| AppError::not_found(format!("no account {code} in this fund")))
}

/// Read one account with its current balance.
#[utoipa::path(
    tag = "ledger",
    params(("fund" = String, Path, description = "Fund code"), ("code" = String, Path, description = "Account code")),
    responses(
        (status = 200, description = "The account", body = AccountResponse),
        (status = 404, description = "`NOT_FOUND`", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/accounts/{code}")]
pub async fn get_account(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> AppResult<web::Json<AccountResponse>> {
    caller.require(Act::ReadFunds)?;
    let (fund_code, code) = path.into_inner();
    let account = read(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &fund_code)?;
        account_in_fund(conn, fund.id, &code)
    })
    .await?;
    Ok(web::Json(account_response(&account, None, None)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// First day, inclusive (by effective date).
    #[serde(deserialize_with = "crate::date::strict")]
    pub from: NaiveDate,
    /// Last day, inclusive.
    #[serde(deserialize_with = "crate::date::strict")]
    pub to: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatementLineResponse {
    #[schema(format = Uuid)]
    pub entry_id: String,
    pub sequence: i64,
    pub effective_date: NaiveDate,
    pub kind: String,
    pub memo: String,
    pub side: Side,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    /// The account's balance after this line.
    #[schema(value_type = crate::money::DecimalString)]
    pub balance: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatementResponse {
    pub account: String,
    pub name: String,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The balance at the end of the day before `from`.
    #[schema(value_type = crate::money::DecimalString)]
    pub opening_balance: String,
    /// Postings from `from` to `to`, by effective date then sequence.
    pub entries: Vec<StatementLineResponse>,
    /// The balance at the end of `to`.
    #[schema(value_type = crate::money::DecimalString)]
    pub closing_balance: String,
}

/// An account statement for a date range (at most 10,000 lines).
#[utoipa::path(
    tag = "ledger",
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("code" = String, Path, description = "Account code"),
        StatementQuery
    ),
    responses(
        (status = 200, description = "The statement", body = StatementResponse),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/accounts/{code}/statement")]
pub async fn account_statement(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    query: Query<StatementQuery>,
) -> AppResult<web::Json<StatementResponse>> {
    caller.require(Act::ReadFunds)?;
    let (fund_code, code) = path.into_inner();
    let StatementQuery { from, to } = query.0;
    if from > to {
        return Err(AppError::new(
            crate::error::ErrorCode::InvalidQuery,
            "from must not be after to",
        )
        .with_errors(vec![FieldError::new(
            "from",
            "after_to",
            "must not be after to",
        )]));
    }
    let response = super::read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &fund_code)?;
        let account = account_in_fund(conn, fund.id, &code)?;
        let statement = ledger::statement(conn, &account, from, to)?;
        let c = account.currency;
        Ok(StatementResponse {
            account: account.code.clone(),
            name: account.name.clone(),
            currency: c.code().to_string(),
            from,
            to,
            opening_balance: format_minor(statement.opening_balance_minor, c),
            entries: statement
                .lines
                .into_iter()
                .map(|l| StatementLineResponse {
                    entry_id: l.entry_id,
                    sequence: l.sequence,
                    effective_date: l.effective_date,
                    kind: l.kind,
                    memo: l.memo,
                    side: l.side,
                    amount: format_minor(l.amount_minor, c),
                    balance: format_minor(l.balance_after_minor, c),
                })
                .collect(),
            closing_balance: format_minor(statement.closing_balance_minor, c),
        })
    })
    .await?;
    Ok(web::Json(response))
}

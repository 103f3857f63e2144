//! Report routes: the trial balance, membership statistics and claims statistics.

use std::collections::BTreeMap;

use actix_web::{get, web};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::{fund_in_scope, read_replica, AppState};
use crate::auth::{Act, Caller};
use crate::error::AppResult;
use crate::ledger::limits::format_wide;
use crate::ledger::{AccountType, Side};
use crate::money::{format_minor, Currency};
use crate::reports::{self, ClaimAmounts, ClaimDimension, MembershipDimension};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_trial_balance)
        .service(get_membership_statistics)
        .service(get_claim_statistics)
        .service(get_monthly_report);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrialBalanceQuery {
    /// The end of this date, by effective date (default: today, UTC).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub as_of: Option<NaiveDate>,
}

/// One account's line of the trial balance.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TrialBalanceLineResponse {
    pub account: String,
    pub name: String,
    #[serde(rename = "type")]
    pub account_type: AccountType,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// Debits posted up to `as_of`.
    #[schema(value_type = crate::money::DecimalString)]
    pub debits: String,
    /// Credits posted up to `as_of`.
    #[schema(value_type = crate::money::DecimalString)]
    pub credits: String,
    /// The balance on the account's normal side (may be negative).
    #[schema(value_type = crate::money::DecimalString)]
    pub balance: String,
    /// The net balance in the debit column (`0.00` when it stands on the credit side).
    #[schema(value_type = crate::money::DecimalString)]
    pub debit_balance: String,
    /// The net balance in the credit column.
    #[schema(value_type = crate::money::DecimalString)]
    pub credit_balance: String,
}

/// One currency's column totals; `balanced` says debits equal credits.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TrialBalanceTotals {
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub debits: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub credits: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub debit_balances: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub credit_balances: String,
    pub balanced: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TrialBalanceResponse {
    pub fund: String,
    pub as_of: NaiveDate,
    /// Every account in code order, including those without postings.
    pub lines: Vec<TrialBalanceLineResponse>,
    /// Per currency, in code order.
    pub totals: Vec<TrialBalanceTotals>,
}

/// The trial balance of a fund as of a date: every account's debits, credits
/// and balance, and per currency the totals that prove debits equal credits.
#[utoipa::path(
    tag = "reports",
    params(("fund" = String, Path, description = "Fund code"), TrialBalanceQuery),
    responses(
        (status = 200, description = "The trial balance", body = TrialBalanceResponse),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/reports/trial-balance")]
pub async fn get_trial_balance(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<TrialBalanceQuery>,
) -> AppResult<web::Json<TrialBalanceResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let as_of = query.0.as_of.unwrap_or_else(crate::time::today);
    let response = read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let tb = reports::trial_balance(conn, fund.id, as_of)?;
        let lines = tb
            .lines
            .iter()
            .map(|l| {
                let c = l.account.currency;
                let (side, net) = l.net();
                let column = |s: Side| format_minor(if side == s { net } else { 0 }, c);
                TrialBalanceLineResponse {
                    account: l.account.code.clone(),
                    name: l.account.name.clone(),
                    account_type: l.account.account_type,
                    currency: c.code().to_string(),
                    debits: format_minor(l.debits_minor, c),
                    credits: format_minor(l.credits_minor, c),
                    balance: format_minor(
                        l.account
                            .account_type
                            .balance(l.debits_minor, l.credits_minor),
                        c,
                    ),
                    debit_balance: column(Side::Debit),
                    credit_balance: column(Side::Credit),
                }
            })
            .collect();
        let totals = tb
            .totals
            .iter()
            .map(|(c, t)| TrialBalanceTotals {
                currency: c.code().to_string(),
                debits: format_minor(t.debits_minor, *c),
                credits: format_minor(t.credits_minor, *c),
                debit_balances: format_minor(t.debit_balances_minor, *c),
                credit_balances: format_minor(t.credit_balances_minor, *c),
                balanced: t.balanced(),
            })
            .collect();
        Ok(TrialBalanceResponse {
            fund: fund.code,
            as_of,
            lines,
            totals,
        })
    })
    .await?;
    Ok(web::Json(response))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembershipStatisticsQuery {
    /// The date counted (default: today, UTC).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub as_of: Option<NaiveDate>,
    /// Comma-separated dimensions to group by, in the order wanted: `sex`,
    /// `destination`, `sector` (default `sex`; empty for the total only).
    #[param(example = "sex,destination")]
    pub by: Option<String>,
}

/// Active workers sharing the values of the dimensions asked for; a dimension
/// not asked for is absent. A worker without a contract started by `as_of`, or
/// without a declared sector, counts under `unknown`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MembershipGroupResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<crate::workers::Sex>)]
    pub sex: Option<String>,
    /// Destination country (ISO 3166-1 alpha-2) of the latest contract started by `as_of`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub destination: Option<String>,
    /// Occupation sector declared at enrollment.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub sector: Option<String>,
    pub active: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MembershipStatisticsResponse {
    pub fund: String,
    pub as_of: NaiveDate,
    pub by: Vec<String>,
    /// Workers active on `as_of`: covered by a standing contribution, counting grace days.
    pub active: u64,
    /// Workers covered at some time before `as_of` but not on it.
    pub lapsed: u64,
    /// Groups with active workers, in key order; their counts add up to `active`.
    pub groups: Vec<MembershipGroupResponse>,
}

/// Membership statistics as of a date: active workers by sex, destination
/// country and occupation sector, or any combination of them.
#[utoipa::path(
    tag = "reports",
    params(("fund" = String, Path, description = "Fund code"), MembershipStatisticsQuery),
    responses(
        (status = 200, description = "Membership statistics", body = MembershipStatisticsResponse),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/reports/membership")]
pub async fn get_membership_statistics(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<MembershipStatisticsQuery>,
) -> AppResult<web::Json<MembershipStatisticsResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let as_of = q.as_of.unwrap_or_else(crate::time::today);
    let by = reports::parse_dimensions(
        q.by.as_deref(),
        MembershipDimension::OFFERED,
        &[MembershipDimension::Sex],
    )?;
    let response = read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let stats = reports::membership_statistics(conn, fund.id, as_of, by)?;
        let groups = stats
            .groups
            .into_iter()
            .map(|g| {
                let value = |d: MembershipDimension| key_of(&stats.by, &g.keys, d);
                MembershipGroupResponse {
                    sex: value(MembershipDimension::Sex),
                    destination: value(MembershipDimension::Destination),
                    sector: value(MembershipDimension::Sector),
                    active: g.active,
                }
            })
            .collect();
        Ok(MembershipStatisticsResponse {
            fund: fund.code,
            as_of,
            by: names(MembershipDimension::OFFERED, &stats.by),
            active: stats.active,
            lapsed: stats.lapsed,
            groups,
        })
    })
    .await?;
    Ok(web::Json(response))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClaimStatisticsQuery {
    /// First filing date, inclusive.
    #[serde(deserialize_with = "crate::date::strict")]
    pub from: NaiveDate,
    /// Last filing date, inclusive.
    #[serde(deserialize_with = "crate::date::strict")]
    pub to: NaiveDate,
    /// Comma-separated dimensions to group by, in the order wanted: `benefit`,
    /// `status`, `sex` (the worker's; default `benefit`; empty for the totals only).
    #[param(example = "benefit,status")]
    pub by: Option<String>,
}

/// Amounts of one currency.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClaimAmountsResponse {
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// What claimants asked for (claims without a claimed amount add nothing).
    #[schema(value_type = crate::money::DecimalString)]
    pub claimed: String,
    /// What the fund's rules make payable.
    #[schema(value_type = crate::money::DecimalString)]
    pub assessed: String,
    /// What was finally approved and booked as benefit expense.
    #[schema(value_type = crate::money::DecimalString)]
    pub approved: String,
    /// What was paid out.
    #[schema(value_type = crate::money::DecimalString)]
    pub paid: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClaimGroupResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub benefit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<crate::claims::ClaimStatus>)]
    pub status: Option<String>,
    /// The worker's sex.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<crate::workers::Sex>)]
    pub sex: Option<String>,
    pub count: u64,
    /// The beneficiaries the group's claims pay: each payee of a claim whose
    /// heirs share it, else the claimant.
    pub payees: u64,
    pub amounts: Vec<ClaimAmountsResponse>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClaimStatisticsResponse {
    pub fund: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: Vec<String>,
    /// Claims filed in the period (riders included).
    pub count: u64,
    /// The beneficiaries those claims pay: each payee of a claim whose heirs
    /// share it, else the claimant.
    pub payees: u64,
    pub amounts: Vec<ClaimAmountsResponse>,
    /// Groups in key order; their counts add up to `count`.
    pub groups: Vec<ClaimGroupResponse>,
    /// The instalments of the claims filed in the period paid in instalments,
    /// per currency, counted and summed by status.
    pub instalments: Vec<super::instalments::InstalmentStatisticsResponse>,
}

fn amounts_response(amounts: &BTreeMap<Currency, ClaimAmounts>) -> Vec<ClaimAmountsResponse> {
    amounts
        .iter()
        .map(|(c, a)| ClaimAmountsResponse {
            currency: c.code().to_string(),
            claimed: format_wide(a.claimed_minor, *c),
            assessed: format_wide(a.assessed_minor, *c),
            approved: format_wide(a.approved_minor, *c),
            paid: format_wide(a.paid_minor, *c),
        })
        .collect()
}

/// Claims statistics for a period: claims filed in it, counted and summed by
/// benefit, status and the worker's sex, or any combination of them.
#[utoipa::path(
    tag = "reports",
    params(("fund" = String, Path, description = "Fund code"), ClaimStatisticsQuery),
    responses(
        (status = 200, description = "Claims statistics", body = ClaimStatisticsResponse),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/reports/claims")]
pub async fn get_claim_statistics(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<ClaimStatisticsQuery>,
) -> AppResult<web::Json<ClaimStatisticsResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    reports::check_period(q.from, q.to)?;
    let by = reports::parse_dimensions(
        q.by.as_deref(),
        ClaimDimension::OFFERED,
        &[ClaimDimension::Benefit],
    )?;
    let (from, to) = (q.from, q.to);
    let response = read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let stats = reports::claim_statistics(conn, fund.id, from, to, by)?;
        let instalments = super::instalments::statistics_response(conn, fund.id, from, to)?;
        let groups = stats
            .groups
            .iter()
            .map(|g| {
                let value = |d: ClaimDimension| key_of(&stats.by, &g.keys, d);
                ClaimGroupResponse {
                    benefit: value(ClaimDimension::Benefit),
                    status: value(ClaimDimension::Status),
                    sex: value(ClaimDimension::Sex),
                    count: g.count,
                    payees: g.payees,
                    amounts: amounts_response(&g.amounts),
                }
            })
            .collect();
        Ok(ClaimStatisticsResponse {
            fund: fund.code,
            from,
            to,
            by: names(ClaimDimension::OFFERED, &stats.by),
            count: stats.count,
            payees: stats.payees,
            amounts: amounts_response(&stats.amounts),
            groups,
            instalments,
        })
    })
    .await?;
    Ok(web::Json(response))
}

/// The most months one monthly report answers.
pub const MAX_MONTHS: u32 = 120;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MonthlyReportQuery {
    /// The first month, `YYYY-MM` (default: 23 months before `to`).
    #[param(example = "2024-07")]
    pub from: Option<String>,
    /// The last month, `YYYY-MM` (default: this month, UTC). At most 120
    /// months from `from` to `to`, both included.
    #[param(example = "2026-06")]
    pub to: Option<String>,
}

/// An amount of one currency.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CurrencyAmountResponse {
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
}

/// One payer type's share of a month's contributions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PayerMonthResponse {
    /// `worker`, `employer`, `agency`, `government`, … as recorded.
    pub payer_type: String,
    /// Contributions this payer type paid a share of (a shared contribution
    /// counts once for each of its payer types).
    pub count: i64,
    /// The sum of this payer type's shares.
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
}

/// Contributions of one currency booked in the month.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContributionMonthResponse {
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// Contributions whose payment date (`paid_on`, the effective date of
    /// their journal entry) falls in the month, including any reversed or
    /// refunded since: a reversal or refund is an entry of its own and
    /// changes no month's contributions.
    pub count: i64,
    /// What they paid: the sum of their `total` (amount and taxes), in the
    /// contribution's currency.
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    /// The same contributions by payer type, in type order; types without a
    /// contribution are absent.
    pub by_payer: Vec<PayerMonthResponse>,
}

/// Months of recent benefits the reserves cover, in one currency.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReserveCoverageResponse {
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    /// `reserves / (paid_last_12_months / 12)`, rounded half-even to one
    /// decimal; `null` when no benefit was paid in the currency in those
    /// twelve months. Negative when liabilities exceed assets.
    #[schema(example = "14.2")]
    pub months: Option<String>,
}

/// A fund's figures for one month. Every list holds one item per currency
/// the fund keeps accounts in, in code order (zero when nothing happened).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MonthResponse {
    /// The month, `YYYY-MM`.
    #[schema(example = "2026-06")]
    pub month: String,
    /// Its last day: the balances below are as of the end of it, by
    /// effective date, as the trial balance `as_of` that day gives them.
    pub end: NaiveDate,
    /// The balance of cash at bank (account 1000, and 1000-CCY in another
    /// currency) at the end of the month, on its normal (debit) side.
    pub cash: Vec<CurrencyAmountResponse>,
    /// The balance of the fund reserve (account 3000, and 3000-CCY) at the
    /// end of the month, on its normal (credit) side: what was booked to the
    /// reserve (opening balances, adjustments); the year's result is not
    /// closed into it.
    pub fund_reserve: Vec<CurrencyAmountResponse>,
    /// The fund's net assets at the end of the month: the balances of every
    /// asset account less those of every liability account (benefits,
    /// refunds and taxes payable, unallocated receipts), which equals the
    /// equity accounts (3000, 3100) plus every revenue less every expense up
    /// to that day. What the reserves cover is measured against this.
    pub reserves: Vec<CurrencyAmountResponse>,
    /// Contributions booked in the month, per currency (from the monthly
    /// contribution summary).
    pub contributions: Vec<ContributionMonthResponse>,
    /// Awards approved in the month: credits to benefits payable (2000) in
    /// `claim_approval` entries (a claim's final approval, dated the day it
    /// was approved) and `claim_instalment_award` entries (an instalment's
    /// award, dated the day it is paid), by effective date. An award reversed
    /// or reduced later stays in the month it was approved.
    pub approved: Vec<CurrencyAmountResponse>,
    /// Benefits paid in the month: debits to benefits payable (2000) in
    /// `claim_payment` and `claim_instalment_payment` entries (each against
    /// cash), by effective date (the payment date).
    pub paid: Vec<CurrencyAmountResponse>,
    /// `paid` summed over this month and the eleven before it.
    pub paid_last_12_months: Vec<CurrencyAmountResponse>,
    /// Months of the trailing twelve months' average monthly benefits that
    /// `reserves` cover.
    pub coverage: Vec<ReserveCoverageResponse>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MonthlyReportResponse {
    pub fund: String,
    /// The first month, `YYYY-MM`.
    pub from: String,
    /// The last month, `YYYY-MM`.
    pub to: String,
    /// One item per month from `from` to `to`, in order.
    pub months: Vec<MonthResponse>,
}

/// Parses `YYYY-MM` (1900-01 to 2100-12) into its month's first day.
fn parse_month(field: &str, text: &str) -> AppResult<NaiveDate> {
    let bad = || {
        crate::error::AppError::query(
            field,
            "invalid_month",
            format!("{text:?} is not a month written YYYY-MM between 1900-01 and 2100-12"),
        )
    };
    let b = text.as_bytes();
    if b.len() != 7
        || b[4] != b'-'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit())
    {
        return Err(bad());
    }
    let year: i32 = text[..4].parse().map_err(|_| bad())?;
    let month: u32 = text[5..].parse().map_err(|_| bad())?;
    if !(1900..=2100).contains(&year) {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)
}

fn month_text(month: NaiveDate) -> String {
    month.format("%Y-%m").to_string()
}

fn amounts(map: &BTreeMap<Currency, i128>) -> Vec<CurrencyAmountResponse> {
    map.iter()
        .map(|(c, a)| CurrencyAmountResponse {
            currency: c.code().to_string(),
            amount: format_wide(*a, *c),
        })
        .collect()
}

/// A fund's figures month by month, for charts: month-end balances of cash,
/// the fund reserve and net assets, contributions booked in the month by
/// payer type, awards approved and benefits paid in the month, and how many
/// months of the last twelve months' benefit payments the reserves cover.
/// Read from summaries kept with the records (daily account totals, monthly
/// contribution counts) and the postings of benefits payable in the months
/// asked, so it costs the same whatever the length of the fund's history.
#[utoipa::path(
    tag = "reports",
    params(("fund" = String, Path, description = "Fund code"), MonthlyReportQuery),
    responses(
        (status = 200, description = "The fund's figures, one item per month", body = MonthlyReportResponse),
        (status = "4XX", description = "Refusals (problem+json): a month not written YYYY-MM (`invalid_month`), `to` before `from` (`before_from`), more than 120 months (`too_many_months`)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/reports/monthly")]
pub async fn get_monthly_report(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<MonthlyReportQuery>,
) -> AppResult<web::Json<MonthlyReportResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let to = match q.to.as_deref() {
        Some(t) => parse_month("to", t)?,
        None => reports::contribution_months::month_of(crate::time::today()),
    };
    let from = match q.from.as_deref() {
        Some(f) => parse_month("from", f)?,
        None => to - chrono::Months::new(23),
    };
    if to < from {
        return Err(crate::error::AppError::query(
            "to",
            "before_from",
            format!("{} is before from ({})", month_text(to), month_text(from)),
        ));
    }
    let span = (to.year() - from.year()) * 12 + to.month0() as i32 - from.month0() as i32 + 1;
    if span > MAX_MONTHS as i32 {
        return Err(crate::error::AppError::query(
            "to",
            "too_many_months",
            format!("{span} months asked, at most {MAX_MONTHS}"),
        )
        .with("limit", MAX_MONTHS));
    }
    let response = read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let figures = reports::monthly::monthly(conn, fund.id, from, to)?;
        let months = figures
            .iter()
            .map(|m| MonthResponse {
                month: month_text(m.month),
                end: m.end,
                cash: amounts(&m.cash),
                fund_reserve: amounts(&m.fund_reserve),
                reserves: amounts(&m.net_assets),
                contributions: m
                    .contributions
                    .iter()
                    .map(|(c, x)| ContributionMonthResponse {
                        currency: c.code().to_string(),
                        count: x.count,
                        amount: format_minor(x.amount_minor, *c),
                        by_payer: x
                            .by_payer
                            .iter()
                            .map(|(t, (n, a))| PayerMonthResponse {
                                payer_type: t.clone(),
                                count: *n,
                                amount: format_minor(*a, *c),
                            })
                            .collect(),
                    })
                    .collect(),
                approved: amounts(&m.approved),
                paid: amounts(&m.paid),
                paid_last_12_months: amounts(&m.paid_last_12_months),
                coverage: m
                    .coverage()
                    .into_iter()
                    .map(|(c, months)| ReserveCoverageResponse {
                        currency: c.code().to_string(),
                        months,
                    })
                    .collect(),
            })
            .collect();
        Ok(MonthlyReportResponse {
            fund: fund.code,
            from: month_text(from),
            to: month_text(to),
            months,
        })
    })
    .await?;
    Ok(web::Json(response))
}

/// The group's value for dimension `d`, if it was asked for.
fn key_of<D: PartialEq>(by: &[D], keys: &[String], d: D) -> Option<String> {
    by.iter().position(|x| *x == d).map(|i| keys[i].clone())
}

fn names<D: PartialEq + Copy>(offered: &[(&str, D)], by: &[D]) -> Vec<String> {
    by.iter()
        .map(|d| {
            offered
                .iter()
                .find(|(_, o)| o == d)
                .map(|(n, _)| n.to_string())
                .expect("chosen dimensions are offered")
        })
        .collect()
}

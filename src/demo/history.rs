//! A worker's history abroad: contracts one after another (with departure,
//! sometimes an early end, and return), and the contributions paid for them
//! under the rules in force on each payment date: before departure, renewed
//! near expiry while the contract lasts, by the worker or (where the rules
//! allow) an employer, an agency or a government subsidy.

use chrono::{Datelike, Months, NaiveDate};
use fastrand::Rng;
use rust_decimal::Decimal;

use super::people::{destination, sector, Origin};
use super::plan::{add_days, day_between, months_before, pick, weighted, years_before};
use super::plan::{ContractPlan, PaymentPlan};
use crate::claims::assess::Versions;
use crate::contributions::{NewPayer, Received};
use crate::money::{round_to_minor, Currency};
use crate::rules::document::{PayerType, Validity};
use crate::rules::evaluate::{quote, version_in_force, ContractTerms};
use crate::workers::NewContract;

/// Share of contracts (percent) that end early.
const EARLY_END_PERCENT: u32 = 8;
/// Share of renewals (percent) a worker skips, letting membership lapse mid-contract.
const MISSED_RENEWAL_PERCENT: u32 = 6;

/// How a worker's years abroad are drawn: the ordinary demo's short careers,
/// or a mature national fund's members working contract after contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Share of workers (percent) who paid once and never again.
    pub lapsing_percent: u32,
    /// The first contract (of a worker who does not lapse) starts from this
    /// many months before the fund's history begins…
    pub first_from_months: u32,
    /// …to this many months after it (`None`: up to the demo's today).
    pub first_until_months: Option<u32>,
    /// Contracts a worker has at most.
    pub max_contracts: usize,
    /// Chance (percent) that a worker stops going abroad after a contract.
    pub stop_percent: u32,
    /// Days at home between two contracts, at least and at most.
    pub home_days: (i64, i64),
}

impl Shape {
    /// `mwf demo`: one to four contracts, workers joining all through the
    /// history (about 2.7 contributions per worker over ten years).
    pub const DEMO: Shape = Shape {
        lapsing_percent: 15,
        first_from_months: 18,
        first_until_months: None,
        max_contracts: 4,
        stop_percent: 25,
        home_days: (30, 240),
    };
    /// `mwf demo --fund`: a fund's members at national size, most of them
    /// abroad when its history begins or in its first four years and then on
    /// contract after contract, a few weeks to four months at home between
    /// them (about five contributions per worker over ten years on the
    /// Philippine fund's 24-month membership).
    pub const NATIONAL: Shape = Shape {
        lapsing_percent: 8,
        first_from_months: 24,
        first_until_months: Some(48),
        max_contracts: 12,
        stop_percent: 8,
        home_days: (14, 120),
    };
}

const EMPLOYER_WORDS: &[&str] = &[
    "Golden",
    "Star",
    "Pacific",
    "Summit",
    "Harbour",
    "Emerald",
    "Crescent",
    "Unity",
    "Prime",
    "Evergreen",
    "Horizon",
    "Silver",
];

/// A new contract in `country`: employer, occupation, wage in the local currency.
fn contract_terms(
    rng: &mut Rng,
    origin: &Origin,
    sector_code: &str,
    country: &str,
    start: NaiveDate,
    months: u32,
) -> NewContract {
    let sector = sector(sector_code);
    let place = destination(country);
    let city = pick(rng, place.cities);
    let employer = if sector.code == "domestic_work" {
        format!("Private household, {city}")
    } else {
        format!(
            "{} {}, {city}",
            pick(rng, EMPLOYER_WORDS),
            pick(rng, sector.employers)
        )
    };
    let currency = Currency::parse(place.currency).expect("destinations use ISO currencies");
    let units = place.base_wage_units * sector.wage_percent * rng.i64(90..=115) / 10_000;
    let end_date = start
        .checked_add_months(Months::new(months))
        .and_then(|d| d.pred_opt())
        .expect("contract dates stay in the calendar");
    NewContract {
        employer,
        destination_country: country.to_string(),
        occupation: Some(pick(rng, sector.occupations).to_string()),
        start_date: start,
        end_date,
        monthly_wage_minor: Some(units * 10i64.pow(currency.exponent())),
        wage_currency: Some(currency),
        recruitment_agency: (rng.u32(0..100) < 85).then(|| pick(rng, origin.agencies).to_string()),
    }
}

/// Contracts in a row as `shape` draws them, with the time at home between
/// them. A worker who lapses works one contract, early in the fund's history.
pub fn contracts(
    rng: &mut Rng,
    shape: &Shape,
    origin: &Origin,
    sector: &str,
    window_start: NaiveDate,
    lapses: bool,
    today: NaiveDate,
) -> Vec<ContractPlan> {
    let latest_start = add_days(today, -20);
    let long_ago = years_before(today, 3);
    let lapses = lapses && months_before(window_start, 6) < long_ago;
    let mut start = if lapses {
        day_between(rng, months_before(window_start, 6), long_ago)
    } else {
        let latest_first = shape.first_until_months.map_or(latest_start, |months| {
            window_start
                .checked_add_months(Months::new(months))
                .expect("dates stay in the calendar")
                .min(latest_start)
        });
        day_between(
            rng,
            months_before(window_start, shape.first_from_months),
            latest_first,
        )
    };
    let mut country = weighted(rng, origin.destinations);
    let mut out: Vec<ContractPlan> = Vec::new();
    loop {
        let months = weighted(rng, &[(12, 15), (18, 5), (24, 50), (36, 20), (48, 10)]);
        let new = contract_terms(rng, origin, sector, country, start, months);
        let departed = add_days(start, rng.i64(0..=10));
        let departed_on = (departed <= today).then_some(departed);
        let (mut terminated_on, mut returned_on) = (None, None);
        let length = (new.end_date - start).num_days();
        if rng.u32(0..100) < EARLY_END_PERCENT && length > 60 {
            let ended = add_days(start, rng.i64(30..length));
            if ended <= today && departed_on.is_some_and(|d| d <= ended) {
                terminated_on = Some(ended);
                let back = add_days(ended, rng.i64(1..=14));
                returned_on = (back <= today).then_some(back);
            }
        } else if departed_on.is_some() {
            let back = add_days(new.end_date, rng.i64(0..=10));
            returned_on = (back <= today).then_some(back);
        }
        let home_from = returned_on.or(terminated_on).unwrap_or(new.end_date);
        out.push(ContractPlan {
            new,
            departed_on,
            terminated_on,
            returned_on,
        });
        let next = add_days(home_from, rng.i64(shape.home_days.0..=shape.home_days.1));
        if lapses
            || out.len() == shape.max_contracts
            || next > latest_start
            || rng.u32(0..100) < shape.stop_percent
        {
            return out;
        }
        start = next;
        if rng.u32(0..100) >= 60 {
            country = weighted(rng, origin.destinations);
        }
    }
}

/// The contributions paid for the contracts: before departure (or when the
/// fund's history begins, for a worker already abroad), renewed near expiry while
/// the contract lasts under `fixed_months` rules.
#[allow(clippy::too_many_arguments)]
pub fn payments(
    rng: &mut Rng,
    fund_code: &str,
    sector: &str,
    versions: &Versions,
    fund_currency: Currency,
    contracts: &[ContractPlan],
    window_start: NaiveDate,
    lapses: bool,
    today: NaiveDate,
    index: usize,
) -> Vec<PaymentPlan> {
    let mut out = Vec::new();
    for (number, contract) in contracts.iter().enumerate() {
        let last_day = contract.last_day().min(today);
        let mut paid_on = add_days(contract.new.start_date, -rng.i64(3..=30));
        if paid_on < window_start {
            paid_on = add_days(window_start, rng.i64(0..=60));
        }
        let terms = ContractTerms {
            start_date: contract.new.start_date,
            end_date: contract.new.end_date,
            terminated_on: None,
            monthly_wage_minor: contract.new.monthly_wage_minor,
            wage_currency: contract.new.wage_currency,
            departed_on: None,
            returned_on: None,
        };
        while paid_on <= last_day {
            let Some((_, doc)) = version_in_force(versions, paid_on) else {
                break;
            };
            let first_paid_on = out.first().map(|p: &PaymentPlan| p.paid_on);
            let Ok(q) = quote(doc, paid_on, Some(&terms), first_paid_on) else {
                break;
            };
            out.push(PaymentPlan {
                contract: number,
                paid_on,
                amount_minor: q.amount_minor,
                currency: q.currency,
                payers: if doc.contribution.employer_must_pay(Some(sector)) {
                    vec![employer_pays(rng, q.total_minor)]
                } else {
                    payers(rng, &doc.contribution.payers, q.total_minor, q.currency)
                },
                received: received(rng, q.total_minor, q.currency, fund_currency, paid_on),
                external_ref: format!("{fund_code}-{index:06}-{}", out.len() + 1),
                coverage_end: q.coverage_end,
                until_contract_end: q.validity == Validity::ContractEnd,
                anchors: doc
                    .membership
                    .anchors
                    .filter(|_| q.validity == Validity::ContractEvents),
                grace_days: q.grace_days,
            });
            if lapses {
                return out;
            }
            let one_per_contract =
                matches!(q.validity, Validity::ContractEnd | Validity::ContractEvents);
            if one_per_contract || rng.u32(0..100) < MISSED_RENEWAL_PERCENT {
                break;
            }
            paid_on = add_days(q.coverage_end, rng.i64(-20..=25)).max(add_days(paid_on, 1));
        }
    }
    out
}

/// The employer paying the whole contribution through its payroll, as the rules
/// require for some sectors (Indonesia's domestic workers from July 2021).
fn employer_pays(rng: &mut Rng, total_minor: i64) -> NewPayer {
    NewPayer {
        payer_type: PayerType::Employer,
        amount_minor: total_minor,
        reference: Some(format!("PAYROLL-{:06}", rng.u32(0..1_000_000))),
    }
}

/// Who pays: the worker alone where the rules allow nobody else; otherwise
/// sometimes the employer, the agency or a government subsidy, alone or in part.
fn payers(
    rng: &mut Rng,
    allowed: &[PayerType],
    total_minor: i64,
    currency: Currency,
) -> Vec<NewPayer> {
    use PayerType::*;
    let one = |payer_type, amount_minor, reference: Option<String>| NewPayer {
        payer_type,
        amount_minor,
        reference,
    };
    let reference =
        |rng: &mut Rng, prefix: &str| Some(format!("{prefix}-{:06}", rng.u32(0..1_000_000)));
    let whole = 10i64.pow(currency.exponent());
    let half = total_minor / 2 / whole * whole;
    let quarter = total_minor / 4 / whole * whole;
    let options: &[(u8, u32)] = &[(0, 50), (1, 20), (2, 15), (3, 10), (4, 10), (5, 10)];
    loop {
        let payers = match weighted(rng, options) {
            0 => vec![one(Worker, total_minor, None)],
            1 => vec![one(Employer, total_minor, reference(rng, "PAYROLL"))],
            2 => vec![
                one(Worker, total_minor - half, None),
                one(Employer, half, reference(rng, "PAYROLL")),
            ],
            3 => vec![one(Agency, total_minor, reference(rng, "LICENCE"))],
            4 => vec![
                one(Worker, total_minor - half, None),
                one(Agency, half, reference(rng, "LICENCE")),
            ],
            _ => vec![
                one(Worker, total_minor - quarter, None),
                one(Government, quarter, reference(rng, "SUBSIDY")),
            ],
        };
        if payers
            .iter()
            .all(|p| allowed.contains(&p.payer_type) && p.amount_minor > 0)
        {
            return payers;
        }
    }
}

/// Pesos per US dollar by year, for Philippine contributions paid in pesos.
const PESOS_PER_DOLLAR: &[(i32, &str)] = &[
    (2019, "51.80"),
    (2020, "49.60"),
    (2021, "49.25"),
    (2022, "54.50"),
    (2023, "55.60"),
    (2024, "57.30"),
    (2025, "57.80"),
    (2026, "58.40"),
];

/// Half the contributions charged in dollars to a peso fund are paid in pesos:
/// the as-received amount and the rate (dollars per peso).
fn received(
    rng: &mut Rng,
    total_minor: i64,
    currency: Currency,
    fund_currency: Currency,
    paid_on: NaiveDate,
) -> Option<Received> {
    if currency.code() != "USD" || fund_currency.code() != "PHP" || rng.bool() {
        return None;
    }
    let (_, rate) = PESOS_PER_DOLLAR
        .iter()
        .rev()
        .find(|(year, _)| *year <= paid_on.year())
        .unwrap_or(&PESOS_PER_DOLLAR[0]);
    let pesos_per_dollar: Decimal = rate.parse().expect("the table holds decimals");
    let dollars = crate::money::from_minor(total_minor, currency);
    Some(Received {
        amount_minor: round_to_minor(dollars * pesos_per_dollar, fund_currency)
            .expect("small amounts fit"),
        currency: fund_currency,
        exchange_rate: (Decimal::ONE / pesos_per_dollar).round_dp(8),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::plan::first_payment_day;
    use crate::demo::plan::tests::{plans, versions};
    use crate::demo::Calendar;

    #[test]
    fn contracts_and_payments_stay_within_the_history_and_the_rules() {
        let today = Calendar::DEMO.today;
        for (code, currency) in [("KE-MWF", "KES"), ("BD-WEWB", "BDT"), ("PH-OWWA", "PHP")] {
            let v = versions(code);
            let first = first_payment_day(&v, &Calendar::DEMO);
            for plan in plans(code, currency, 300) {
                for c in &plan.contracts {
                    assert!(c.new.start_date <= today && c.new.start_date <= c.new.end_date);
                    for event in [c.departed_on, c.terminated_on, c.returned_on] {
                        assert!(event.is_none_or(|d| d <= today));
                    }
                    if let (Some(d), Some(r)) = (c.departed_on, c.returned_on) {
                        assert!(d <= r);
                    }
                    if let Some(t) = c.terminated_on {
                        assert!(c.new.start_date <= t && t < c.new.end_date);
                    }
                }
                for p in &plan.payments {
                    assert!(
                        first <= p.paid_on && p.paid_on <= today,
                        "{code} {}",
                        p.paid_on
                    );
                    let total: i64 = p.payers.iter().map(|x| x.amount_minor).sum();
                    assert!(total >= p.amount_minor);
                }
            }
        }
    }

    #[test]
    fn indonesian_domestic_workers_are_paid_for_by_their_employers_from_july_2021() {
        let from = NaiveDate::from_ymd_opt(2021, 7, 15).expect("a date");
        let mut employer_paid = 0;
        for plan in plans("ID-BPJS-PMI", "IDR", 300) {
            let domestic = plan.worker.occupation_sector.as_deref() == Some("domestic_work");
            for p in plan.payments.iter().filter(|p| p.paid_on >= from) {
                let by_employer = (p.payers.iter()).all(|x| x.payer_type == PayerType::Employer);
                assert!(!domestic || by_employer, "{:?}", p.payers);
                employer_paid += usize::from(domestic);
            }
        }
        assert!(employer_paid > 10, "{employer_paid}");
    }

    #[test]
    fn sri_lankan_workers_who_pay_again_pay_the_renewal_price() {
        let renewal = 480_000;
        let (mut first, mut renewed) = (0, 0);
        for plan in plans("LK-SLBFE", "LKR", 300) {
            for (i, p) in plan.payments.iter().enumerate() {
                assert_eq!(
                    p.amount_minor == renewal,
                    i > 0,
                    "payment {i}: {}",
                    p.amount_minor
                );
                if i == 0 {
                    first += 1;
                } else {
                    renewed += 1;
                }
            }
        }
        assert!(
            first > 10 && renewed > 10,
            "{first} first, {renewed} renewed"
        );
    }

    #[test]
    fn indonesian_coverage_from_2023_follows_the_contract_events() {
        let from = NaiveDate::from_ymd_opt(2023, 3, 31).expect("a date");
        let mut anchored = 0;
        for plan in plans("ID-BPJS-PMI", "IDR", 300) {
            for p in plan.payments.iter().filter(|p| p.paid_on >= from) {
                let contract = &plan.contracts[p.contract];
                let back = contract.returned_on.unwrap_or_else(|| contract.last_day());
                let anchors = p.anchors.expect("ID-PMI-2023 anchors its coverage");
                assert_eq!(anchors.after_return_months, 1);
                let covered = plan.coverage(&[]);
                assert!(
                    covered.iter().any(|c| c.end >= back),
                    "coverage reaches the return {back}: {covered:?}"
                );
                anchored += 1;
            }
        }
        assert!(anchored > 10, "{anchored}");
    }

    #[test]
    fn kenyan_contributions_are_shared_among_payers_and_some_workers_lapse() {
        let ke = plans("KE-MWF", "KES", 300);
        let shared = ke
            .iter()
            .flat_map(|p| &p.payments)
            .filter(|p| p.payers.len() > 1)
            .count();
        assert!(shared > 10, "{shared}");
        let ph = plans("PH-OWWA", "PHP", 300);
        let lapsed = ph
            .iter()
            .filter(|p| {
                p.coverage(&[])
                    .iter()
                    .all(|c| c.end < years_before(Calendar::DEMO.today, 1))
            })
            .count();
        assert!(lapsed > 20, "{lapsed}");
        assert!(ph
            .iter()
            .flat_map(|p| &p.payments)
            .any(|p| p.received.is_some()));
    }
}

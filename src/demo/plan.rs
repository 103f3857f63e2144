//! Plans each demo worker before anything is written: who they are, their
//! dependants, their contracts (with departure, early end and return) and the
//! contributions they pay under the rules in force on each payment date. Pure:
//! a seeded generator and the fund's rule versions in, plans out.

use chrono::{Datelike, Days, Months, NaiveDate};
use fastrand::Rng;

use super::history::{self, Shape};
use super::people::{Origin, Weighted};
use super::Calendar;
use crate::claims::assess::Versions;
use crate::contributions::{NewPayer, Received};
use crate::money::Currency;
use crate::rules::document::{CoverageAnchors, Relationship};
use crate::rules::evaluate::{anchored_coverage, ContractTerms, Period};
use crate::workers::{NewContract, NewDependant, NewWorker, Sex};

/// A contract and what has happened to it by the demo's today.
#[derive(Debug, Clone)]
pub struct ContractPlan {
    pub new: NewContract,
    pub departed_on: Option<NaiveDate>,
    pub terminated_on: Option<NaiveDate>,
    pub returned_on: Option<NaiveDate>,
}

impl ContractPlan {
    /// The last day of the contract: its early end, else its end date.
    pub fn last_day(&self) -> NaiveDate {
        self.terminated_on.unwrap_or(self.new.end_date)
    }

    /// The days the worker was abroad on this contract, up to `today`.
    pub fn abroad(&self, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let from = self.departed_on?;
        let until = match self.returned_on {
            Some(back) => back.pred_opt().expect("dates stay in the calendar"),
            None => self.last_day(),
        }
        .min(today);
        (from <= until).then_some((from, until))
    }

    /// The contract as the rules read it, with its events.
    pub fn terms(&self) -> ContractTerms {
        ContractTerms {
            start_date: self.new.start_date,
            end_date: self.new.end_date,
            terminated_on: self.terminated_on,
            monthly_wage_minor: self.new.monthly_wage_minor,
            wage_currency: self.new.wage_currency,
            departed_on: self.departed_on,
            returned_on: self.returned_on,
        }
    }

    /// True when nothing has ended the contract by `today`.
    pub fn ongoing(&self, today: NaiveDate) -> bool {
        self.terminated_on.is_none() && self.returned_on.is_none() && self.new.end_date > today
    }
}

/// A contribution the worker pays: what the rules in force on `paid_on` quote.
#[derive(Debug, Clone)]
pub struct PaymentPlan {
    /// Index into the worker's contracts.
    pub contract: usize,
    pub paid_on: NaiveDate,
    pub amount_minor: i64,
    pub currency: Currency,
    pub payers: Vec<NewPayer>,
    pub received: Option<Received>,
    pub external_ref: String,
    /// The coverage as quoted (before an early end of the contract shortens it).
    pub coverage_end: NaiveDate,
    pub until_contract_end: bool,
    /// Coverage anchored on the contract's departure and return, if the rules say so.
    pub anchors: Option<CoverageAnchors>,
    pub grace_days: u32,
}

/// A worker and their history.
#[derive(Debug, Clone)]
pub struct WorkerPlan {
    /// Enrolled with the dependants and the first contract; later contracts are added later.
    pub worker: NewWorker,
    pub contracts: Vec<ContractPlan>,
    pub payments: Vec<PaymentPlan>,
}

impl WorkerPlan {
    /// The coverage bought by the payments not in `reversed`, as it stands once
    /// early ends are recorded (they shorten coverage "until the contract ends").
    pub fn coverage(&self, reversed: &[usize]) -> Vec<Period> {
        self.payments
            .iter()
            .enumerate()
            .filter(|(i, _)| !reversed.contains(i))
            .map(|(_, p)| {
                let contract = &self.contracts[p.contract];
                let (start, end) = match (p.anchors, p.until_contract_end, contract.terminated_on) {
                    (Some(anchors), _, _) => {
                        // As recording the contract's events leaves it: never ending before it starts.
                        let (start, end) = anchored_coverage(p.paid_on, &contract.terms(), anchors);
                        (start, end.max(start))
                    }
                    (None, true, Some(last)) => (p.paid_on, last.max(p.paid_on)),
                    _ => (p.paid_on, p.coverage_end),
                };
                Period {
                    start,
                    end,
                    grace_days: p.grace_days,
                }
            })
            .collect()
    }
}

/// Picks one value by weight.
pub fn weighted<T: Copy>(rng: &mut Rng, items: Weighted<T>) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.u32(0..total);
    for (value, weight) in items {
        if roll < *weight {
            return *value;
        }
        roll -= weight;
    }
    unreachable!("the roll is below the total weight")
}

pub fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.usize(0..items.len())]
}

pub fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        date + Days::new(days as u64)
    } else {
        date - Days::new(days.unsigned_abs())
    }
}

/// A day from `from` to `to`, both included (`from` when the range is empty).
pub fn day_between(rng: &mut Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0);
    add_days(from, rng.i64(0..=span))
}

pub fn months_before(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(months))
        .expect("dates stay in the calendar")
}

pub fn years_before(date: NaiveDate, years: u32) -> NaiveDate {
    months_before(date, 12 * years)
}

/// The first day the demo records contributions for a fund: the start of its
/// history, or its first rule version if later.
pub fn first_payment_day(versions: &Versions, calendar: &Calendar) -> NaiveDate {
    versions
        .iter()
        .map(|(from, _)| *from)
        .min()
        .map_or(calendar.history_start, |first| {
            first.max(calendar.history_start)
        })
}

/// Plans worker number `index` of the fund, their years abroad drawn as `shape` says.
#[allow(clippy::too_many_arguments)]
pub fn plan_worker(
    rng: &mut Rng,
    shape: &Shape,
    origin: &Origin,
    versions: &Versions,
    fund_currency: Currency,
    calendar: &Calendar,
    index: usize,
) -> WorkerPlan {
    let today = calendar.today;
    let sex = pick_sex(rng, origin);
    let female = named_as_female(rng, sex);
    let given_name = pick_given_name(rng, origin, female);
    let family_name = pick(rng, origin.family_names);
    let age_days = rng.i64(23 * 365..=55 * 365);
    let date_of_birth = add_days(today, -age_days);
    let sector = pick_sector(rng, origin, female);
    let email = maybe_email(rng, given_name, family_name, index);
    let phone = Some(phone_number(rng, origin));
    let dependants = dependants(rng, origin, family_name, date_of_birth, female, today);
    let window_start = first_payment_day(versions, calendar);
    let lapses = rng.u32(0..100) < shape.lapsing_percent;
    let contracts = history::contracts(rng, shape, origin, sector, window_start, lapses, today);
    let payments = history::payments(
        rng,
        origin.fund,
        sector,
        versions,
        fund_currency,
        &contracts,
        window_start,
        lapses,
        today,
        index,
    );
    debug_assert!(!contracts.is_empty(), "every worker has a first contract");
    debug_assert!(
        payments.iter().all(|p| p.contract < contracts.len()),
        "payments pay for the worker's own contracts"
    );
    WorkerPlan {
        worker: NewWorker {
            document_type: "passport".to_string(),
            document_number: format!("{}{:07}", origin.passport_prefix, 3_100_000 + index),
            given_name: given_name.to_string(),
            family_name: family_name.to_string(),
            date_of_birth,
            sex,
            phone,
            email,
            occupation_sector: Some(sector.to_string()),
            dependants,
            contracts: vec![contracts[0].new.clone()],
        },
        contracts,
        payments,
    }
}

/// A few workers are of another or unspecified sex; the rest female in the
/// origin's share.
fn pick_sex(rng: &mut Rng, origin: &Origin) -> Sex {
    match rng.u32(0..1000) {
        0..=4 => Sex::Other,
        5..=9 => Sex::Unspecified,
        _ if rng.u32(0..100) < origin.female_percent => Sex::Female,
        _ => Sex::Male,
    }
}

/// Whether the worker's name (and sector) are drawn from the female lists: by
/// sex, and at random for another or unspecified sex.
fn named_as_female(rng: &mut Rng, sex: Sex) -> bool {
    match sex {
        Sex::Female => true,
        Sex::Male => false,
        _ => rng.bool(),
    }
}

/// A given name from the origin's list of women's or men's names.
fn pick_given_name(rng: &mut Rng, origin: &Origin, female: bool) -> &'static str {
    pick(
        rng,
        if female {
            origin.female_names
        } else {
            origin.male_names
        },
    )
}

/// An occupation sector, weighted as the origin's women or men work.
fn pick_sector(rng: &mut Rng, origin: &Origin, female: bool) -> &'static str {
    weighted(
        rng,
        if female {
            origin.female_sectors
        } else {
            origin.male_sectors
        },
    )
}

/// An e-mail address for three workers in ten, unique by the worker's `index`.
fn maybe_email(rng: &mut Rng, given_name: &str, family_name: &str, index: usize) -> Option<String> {
    (rng.u32(0..100) < 30).then(|| {
        format!(
            "{}.{}{}@example.org",
            given_name.replace(' ', "").to_lowercase(),
            family_name.replace(' ', "").to_lowercase(),
            index
        )
    })
}

/// A mobile number under the origin's prefix.
fn phone_number(rng: &mut Rng, origin: &Origin) -> String {
    format!(
        "{}{:08}",
        origin.phone_prefix,
        rng.u32(10_000_000..100_000_000)
    )
}

fn dependant(
    rng: &mut Rng,
    origin: &Origin,
    family_name: &str,
    relationship: Relationship,
    born: NaiveDate,
    female: Option<bool>,
) -> NewDependant {
    let female = female.unwrap_or_else(|| rng.bool());
    let given = pick(
        rng,
        if female {
            origin.female_names
        } else {
            origin.male_names
        },
    );
    NewDependant {
        name: format!("{given} {family_name}"),
        relationship,
        date_of_birth: Some(born),
        deceased: false,
        nominee: false,
    }
}

/// A spouse (more often past thirty), their children, sometimes a parent or a sibling.
fn dependants(
    rng: &mut Rng,
    origin: &Origin,
    family_name: &str,
    born: NaiveDate,
    female: bool,
    today: NaiveDate,
) -> Vec<NewDependant> {
    let mut out = Vec::new();
    let age = today.year() - born.year();
    let married = rng.u32(0..100) < if age > 30 { 75 } else { 45 };
    if married {
        let spouse_born = add_days(born, rng.i64(-6 * 365..=4 * 365));
        out.push(dependant(
            rng,
            origin,
            family_name,
            Relationship::Spouse,
            spouse_born,
            Some(!female),
        ));
        let children = weighted(rng, &[(0, 20), (1, 30), (2, 32), (3, 18)]);
        let first_possible = add_days(born, 20 * 365);
        let last_possible = add_days(today, -365);
        for _ in 0..children {
            if first_possible < last_possible {
                let child_born = day_between(rng, first_possible, last_possible);
                out.push(dependant(
                    rng,
                    origin,
                    family_name,
                    Relationship::Child,
                    child_born,
                    None,
                ));
            }
        }
    }
    if rng.u32(0..100) < 35 {
        let parent_born = add_days(born, -rng.i64(20 * 365..=35 * 365));
        let mother = rng.u32(0..100) < 60;
        let mut parent = dependant(
            rng,
            origin,
            family_name,
            Relationship::Parent,
            parent_born,
            Some(mother),
        );
        parent.deceased = rng.u32(0..100) < 8;
        out.push(parent);
    }
    if rng.u32(0..100) < 10 {
        let sibling_born = add_days(born, rng.i64(-8 * 365..=8 * 365));
        out.push(dependant(
            rng,
            origin,
            family_name,
            Relationship::Sibling,
            sibling_born,
            None,
        ));
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::demo::{fund_file, people};
    use crate::rules::document::RuleDocument;

    pub fn versions(code: &str) -> Versions {
        fund_file(code)
            .unwrap()
            .versions
            .into_iter()
            .map(|v| {
                let doc: RuleDocument = serde_json::from_value(v).unwrap();
                (doc.effective_from, (doc.version.clone(), doc))
            })
            .collect()
    }

    pub fn plans(code: &str, currency: &str, n: usize) -> Vec<WorkerPlan> {
        let origin = people::origin(code).unwrap();
        let v = versions(code);
        let mut rng = Rng::with_seed(7);
        (0..n)
            .map(|i| {
                plan_worker(
                    &mut rng,
                    &Shape::DEMO,
                    origin,
                    &v,
                    Currency::parse(currency).unwrap(),
                    &Calendar::DEMO,
                    i,
                )
            })
            .collect()
    }

    /// Contributions per worker over `years` of history up to the demo's today.
    fn per_worker(code: &str, currency: &str, shape: &Shape, years: u32, n: usize) -> f64 {
        let origin = people::origin(code).unwrap();
        let v = versions(code);
        let calendar = Calendar {
            history_start: years_before(Calendar::DEMO.today, years),
            today: Calendar::DEMO.today,
        };
        let mut rng = Rng::with_seed(11);
        let currency = Currency::parse(currency).unwrap();
        let payments: usize = (0..n)
            .map(|i| plan_worker(&mut rng, shape, origin, &v, currency, &calendar, i))
            .map(|p| p.payments.len())
            .sum();
        payments as f64 / n as f64
    }

    #[test]
    fn a_national_fund_pays_about_five_contributions_per_worker_in_ten_years() {
        let national = per_worker("PH-OWWA", "PHP", &Shape::NATIONAL, 10, 4000);
        assert!((4.6..=5.4).contains(&national), "{national} per worker");
        let demo = per_worker("PH-OWWA", "PHP", &Shape::DEMO, 10, 4000);
        assert!(demo < 3.2, "the ordinary demo keeps its shape: {demo}");
    }

    #[test]
    fn the_same_seed_plans_the_same_workers() {
        let a = plans("NP-FEWF", "NPR", 50);
        let b = plans("NP-FEWF", "NPR", 50);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.worker.given_name, y.worker.given_name);
            assert_eq!(x.worker.date_of_birth, y.worker.date_of_birth);
            assert_eq!(x.payments.len(), y.payments.len());
        }
    }
}

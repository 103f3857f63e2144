//! The oracle's own reading of the example funds' rule documents, written from
//! `RULES.md` and not from the service's code: the benefits with their limits,
//! and membership computed from the contributions the test itself recorded.

use chrono::{Days, Months, NaiveDate};
use rust_decimal::Decimal;
use serde_json::Value;

/// How a benefit's amount is computed (only what the test needs to send a claim).
#[derive(Debug, Clone)]
pub enum AmountRule {
    Fixed,
    /// A share of the documented expense, at most `cap`.
    Reimbursement {
        cap: Decimal,
    },
    /// A share of a maximum by grade; the grades' keys.
    Schedule {
        grades: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Benefit {
    pub code: String,
    pub amount: AmountRule,
    pub requires_active_membership: bool,
    pub claimants: Vec<String>,
    pub documents: Vec<String>,
    pub max_claims: Option<usize>,
    pub per_family_limit: Option<usize>,
    pub annual_cap: Option<Decimal>,
    pub lifetime_cap: Option<Decimal>,
    pub cap_group: Option<String>,
    pub riders: Vec<String>,
    /// Heirs share it (`beneficiaries`): one claim per death, later heirs join it.
    pub shared: bool,
}

impl Benefit {
    /// Caps are shared by every benefit of a `cap_group`, else per benefit.
    pub fn cap_key(&self) -> &str {
        self.cap_group.as_deref().unwrap_or(&self.code)
    }
}

#[derive(Debug, Clone)]
pub struct Version {
    pub label: String,
    pub effective_from: NaiveDate,
    pub validity: String,
    pub months: u32,
    pub grace_days: u64,
    /// `contract_events` validity: months before the departure, after the return.
    pub anchors: Option<(u32, u32)>,
    pub benefits: Vec<Benefit>,
}

#[derive(Debug, Clone)]
pub struct FundRules {
    pub code: String,
    pub currency: String,
    /// Oldest first.
    pub versions: Vec<Version>,
    /// The contract every worker of the run has (start, end), with no departure
    /// or return recorded: what `contract_events` coverage is anchored on.
    pub contract: Option<(NaiveDate, NaiveDate)>,
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

fn date(v: &Value) -> NaiveDate {
    text(v).parse().expect("an ISO date")
}

fn decimal(v: &Value) -> Option<Decimal> {
    v.as_str().map(|s| s.parse().expect("a decimal string"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_default()
}

fn count(v: &Value) -> Option<usize> {
    v.as_u64().map(|n| n as usize)
}

fn benefit(b: &Value) -> Benefit {
    let amount = &b["amount"];
    let amount = match amount["kind"].as_str() {
        Some("fixed") => AmountRule::Fixed,
        Some("reimbursement") => AmountRule::Reimbursement {
            cap: decimal(&amount["cap"]).expect("a reimbursement cap"),
        },
        Some("schedule") => AmountRule::Schedule {
            grades: amount["grades"]
                .as_object()
                .expect("grades")
                .keys()
                .cloned()
                .collect(),
        },
        other => panic!("unknown amount kind {other:?}"),
    };
    Benefit {
        code: text(&b["code"]),
        amount,
        requires_active_membership: b["requires_active_membership"] == true,
        claimants: strings(&b["claimants"]),
        documents: strings(&b["documents"]),
        max_claims: count(&b["max_claims"]),
        per_family_limit: count(&b["per_family_limit"]),
        annual_cap: decimal(&b["annual_cap"]),
        lifetime_cap: decimal(&b["lifetime_cap"]),
        cap_group: b["cap_group"].as_str().map(str::to_string),
        riders: strings(&b["riders"]),
        shared: b.get("beneficiaries").is_some_and(|x| !x.is_null()),
    }
}

impl FundRules {
    /// Reads the example fund's file (the one `load_fund` publishes).
    pub fn load(code: &str) -> FundRules {
        let path = format!("{}/demo/funds/{code}.json", env!("CARGO_MANIFEST_DIR"));
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("the fund file"))
                .expect("JSON");
        let mut versions: Vec<Version> = file["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .map(|v| Version {
                label: text(&v["version"]),
                effective_from: date(&v["effective_from"]),
                validity: text(&v["membership"]["validity"]),
                months: v["membership"]["months"].as_u64().unwrap_or(0) as u32,
                grace_days: v["membership"]["grace_days"].as_u64().unwrap_or(0),
                anchors: v["membership"]["anchors"].as_object().map(|a| {
                    let months = |k: &str| a[k].as_u64().expect("months") as u32;
                    (
                        months("before_departure_months"),
                        months("after_return_months"),
                    )
                }),
                benefits: v["benefits"]
                    .as_array()
                    .expect("benefits")
                    .iter()
                    .map(benefit)
                    .collect(),
            })
            .collect();
        versions.sort_by_key(|v| v.effective_from);
        FundRules {
            code: code.to_string(),
            currency: text(&file["fund"]["currency"]),
            versions,
            contract: None,
        }
    }

    /// The version in force on `on`: the latest that started on or before it.
    pub fn in_force(&self, on: NaiveDate) -> Option<&Version> {
        self.versions.iter().rev().find(|v| v.effective_from <= on)
    }

    pub fn benefit(&self, incident: NaiveDate, code: &str) -> Option<&Benefit> {
        self.in_force(incident)?
            .benefits
            .iter()
            .find(|b| b.code == code)
    }
}

/// The last day covered by a `fixed_months` contribution: through the day before
/// the same day `months` later (a missing day falls back to the month's last).
pub fn coverage_end(paid_on: NaiveDate, months: u32) -> NaiveDate {
    paid_on
        .checked_add_months(Months::new(months))
        .expect("a date")
        .checked_sub_days(Days::new(1))
        .expect("a date")
}

/// A contribution as the test recorded it.
#[derive(Debug, Clone)]
pub struct Paid {
    pub id: String,
    pub paid_on: NaiveDate,
    pub reversed: bool,
}

/// Whether the worker is active on `on`: inside some contribution's active span
/// (its coverage plus the grace of the version it was paid under). Reversed
/// contributions count only with `counting_reversed`.
pub fn active_on(
    rules: &FundRules,
    contributions: &[Paid],
    on: NaiveDate,
    counting_reversed: bool,
) -> bool {
    contributions
        .iter()
        .filter(|c| counting_reversed || !c.reversed)
        .any(|c| {
            let Some(version) = rules.in_force(c.paid_on) else {
                return false;
            };
            let (first, last) = covered(rules, version, c.paid_on);
            first <= on && on <= last + Days::new(version.grace_days)
        })
}

/// The first and last day a contribution paid on `paid_on` under `version`
/// covers: `months` from the payment (`fixed_months`), or from `before` months
/// before the contract's start (never before the payment) to `after` months
/// after its end (`contract_events`, no departure or return recorded).
fn covered(rules: &FundRules, version: &Version, paid_on: NaiveDate) -> (NaiveDate, NaiveDate) {
    match version.validity.as_str() {
        "fixed_months" => (paid_on, coverage_end(paid_on, version.months)),
        "contract_events" => {
            let (start, end) = rules.contract.expect("the run's contract");
            let (before, after) = version.anchors.expect("contract_events has anchors");
            let earliest = start
                .checked_sub_months(Months::new(before))
                .expect("a date");
            let last = end.checked_add_months(Months::new(after)).expect("a date");
            (paid_on.max(earliest), last)
        }
        other => panic!(
            "{}: the model computes fixed_months and contract_events membership only ({}: {other})",
            rules.code, version.label
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn coverage_follows_the_rules_example() {
        assert_eq!(coverage_end(d("2017-03-01"), 24), d("2019-02-28"));
        assert_eq!(coverage_end(d("2024-01-15"), 31), d("2026-08-14"));
    }

    #[test]
    fn kenya_membership_has_thirty_days_of_grace_and_ignores_reversed_contributions() {
        let rules = FundRules::load("KE-MWF");
        let paid = |reversed| Paid {
            id: "c".into(),
            paid_on: d("2026-01-05"),
            reversed,
        };
        assert!(active_on(&rules, &[paid(false)], d("2028-02-03"), false));
        assert!(!active_on(&rules, &[paid(false)], d("2028-02-04"), false));
        assert!(!active_on(&rules, &[paid(false)], d("2026-01-04"), false));
        assert!(!active_on(&rules, &[paid(true)], d("2026-03-01"), false));
        assert!(active_on(&rules, &[paid(true)], d("2026-03-01"), true));
    }
}

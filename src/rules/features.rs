//! Pure evaluation of the rules real funds write (issue 15): which price a
//! contribution pays (first registration or renewal), what coverage anchored
//! on a contract's departure and return spans, and how many years of
//! contributions a worker has (rebates).

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::document::{ContributionRules, CoverageAnchors, Tier};
use super::evaluate::{active_spans, ContractTerms, Period};

/// Which price a contribution pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pricing {
    /// `contribution.tiers`: a first registration, or any contribution where
    /// the version prices renewals no differently.
    Standard,
    /// `contribution.renewal.tiers`: the worker already has a recorded, not
    /// reversed contribution paid on an earlier day.
    Renewal,
}

/// The pricing of a contribution paid on `paid_on` by a worker whose earliest
/// standing contribution was paid on `first_paid_on`.
pub fn pricing(
    rules: &ContributionRules,
    paid_on: NaiveDate,
    first_paid_on: Option<NaiveDate>,
) -> Pricing {
    let renews = first_paid_on.is_some_and(|first| first < paid_on);
    if renews && rules.renewal.is_some() {
        Pricing::Renewal
    } else {
        Pricing::Standard
    }
}

/// The tiers that price a contribution under `pricing`.
pub fn tiers_for(rules: &ContributionRules, pricing: Pricing) -> &[Tier] {
    match (pricing, &rules.renewal) {
        (Pricing::Renewal, Some(renewal)) => &renewal.tiers,
        _ => &rules.tiers,
    }
}

/// Coverage anchored on the contract's events: from `before_departure_months`
/// before the departure (recorded, else the contract's start date) but not
/// before the payment, through `after_return_months` after the return
/// (recorded, else the contract's last day). A day missing in the target
/// month falls back to that month's last day.
pub fn anchored_coverage(
    paid_on: NaiveDate,
    contract: &ContractTerms,
    anchors: CoverageAnchors,
) -> (NaiveDate, NaiveDate) {
    let departure = contract.departed_on.unwrap_or(contract.start_date);
    let back = contract.returned_on.unwrap_or_else(|| contract.last_day());
    let earliest = departure
        .checked_sub_months(Months::new(anchors.before_departure_months))
        .expect("coverage dates stay within the calendar");
    let end = back
        .checked_add_months(Months::new(anchors.after_return_months))
        .expect("coverage dates stay within the calendar");
    (paid_on.max(earliest), end)
}

/// Whole years of contributions on `on`: the days covered by `periods` (the
/// worker's standing contributions; overlapping or touching periods counted
/// once, grace excluded) up to and including `on`, divided by 365, rounded down.
pub fn years_of_contributions(periods: &[Period], on: NaiveDate) -> u32 {
    let without_grace: Vec<Period> = periods
        .iter()
        .map(|p| Period {
            grace_days: 0,
            ..*p
        })
        .collect();
    let days: i64 = active_spans(&without_grace)
        .iter()
        .filter(|s| s.start <= on)
        .map(|s| (s.end.min(on) - s.start).num_days() + 1)
        .sum();
    debug_assert!(days >= 0, "spans end on or after they start");
    (days / 365) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn contract(departed: Option<&str>, returned: Option<&str>) -> ContractTerms {
        ContractTerms {
            start_date: d("2024-06-01"),
            end_date: d("2026-05-31"),
            terminated_on: None,
            monthly_wage_minor: None,
            wage_currency: None,
            departed_on: departed.map(d),
            returned_on: returned.map(d),
        }
    }

    const INDONESIA: CoverageAnchors = CoverageAnchors {
        before_departure_months: 5,
        after_return_months: 1,
    };

    #[test]
    fn anchored_coverage_reaches_five_months_before_departure_and_a_month_after_return() {
        let planned = contract(None, None);
        assert_eq!(
            anchored_coverage(d("2023-10-01"), &planned, INDONESIA),
            (d("2024-01-01"), d("2026-06-30"))
        );
        assert_eq!(
            anchored_coverage(d("2024-03-15"), &planned, INDONESIA),
            (d("2024-03-15"), d("2026-06-30"))
        );
        let travelled = contract(Some("2024-07-10"), Some("2025-11-20"));
        assert_eq!(
            anchored_coverage(d("2023-10-01"), &travelled, INDONESIA),
            (d("2024-02-10"), d("2025-12-20"))
        );
    }

    #[test]
    fn years_of_contributions_count_covered_days_once_up_to_the_day() {
        let p = |s: &str, e: &str| Period {
            start: d(s),
            end: d(e),
            grace_days: 90,
        };
        let periods = [
            p("2010-01-01", "2014-12-31"),
            p("2013-01-01", "2016-12-31"),
            p("2018-01-01", "2022-12-31"),
        ];
        // 2010-2016 (7 years) and 2018-2022 (5 years), leap days included.
        assert_eq!(years_of_contributions(&periods, d("2030-01-01")), 12);
        assert_eq!(years_of_contributions(&periods, d("2019-12-31")), 9);
        assert_eq!(years_of_contributions(&periods, d("2009-12-31")), 0);
        assert_eq!(years_of_contributions(&[], d("2030-01-01")), 0);
    }
}

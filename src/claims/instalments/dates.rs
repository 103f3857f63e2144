//! When instalments fall due and how old the claimant is then: pure functions
//! over the rule and the dates, tested without a database.

use chrono::{Datelike, Months, NaiveDate};

use crate::rules::document::{InstalmentFrequency, InstalmentRules};
use crate::rules::validate::MAX_INSTALMENTS;

/// The claimant's age in whole years on `on`.
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> u32 {
    let mut years = on.year() - date_of_birth.year();
    if (on.month(), on.day()) < (date_of_birth.month(), date_of_birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// Whether a claimant born on `date_of_birth` has reached `max_age` on `on`.
pub fn reached(date_of_birth: NaiveDate, max_age: u32, on: NaiveDate) -> bool {
    age_on(date_of_birth, on) >= max_age
}

/// The due date of every instalment, first to last. The first falls due on
/// the incident date; later ones a month apart (`month`, the day kept, or the
/// month's last day where it has no such day) or at the start of each school
/// year after the incident (`school_year`). With no `count`, instalments run
/// while the claimant is under `max_age` (validation makes one of them
/// present); with the birth date unknown, as many as a newborn would have
/// (each waits for the birth date when it falls due).
pub fn due_dates(
    rules: &InstalmentRules,
    incident_date: NaiveDate,
    date_of_birth: Option<NaiveDate>,
) -> Vec<NaiveDate> {
    let per_year = match rules.every {
        InstalmentFrequency::Month => 12,
        InstalmentFrequency::SchoolYear => 1,
    };
    let newborn_limit = rules.max_age.unwrap_or(0).saturating_mul(per_year);
    let limit = rules
        .count
        .unwrap_or(newborn_limit)
        .clamp(1, MAX_INSTALMENTS) as usize;
    let open_ended = rules.count.is_none();
    let mut dates = Vec::new();
    let mut next = Some(incident_date);
    while let Some(due) = next {
        if dates.len() == limit {
            break;
        }
        let under_age = match (rules.max_age, date_of_birth) {
            (Some(max_age), Some(born)) => !reached(born, max_age, due),
            (Some(_), None) => true,
            (None, _) => true,
        };
        if open_ended && !under_age {
            break;
        }
        dates.push(due);
        next = following(rules, incident_date, dates.len() as u32);
    }
    dates
}

/// The due date of instalment `number + 1` (`number` ≥ 1 have been dated).
fn following(rules: &InstalmentRules, incident_date: NaiveDate, number: u32) -> Option<NaiveDate> {
    match rules.every {
        InstalmentFrequency::Month => incident_date.checked_add_months(Months::new(number)),
        InstalmentFrequency::SchoolYear => {
            let (month, day) = rules.school_year_start()?;
            let start_in = |year: i32| NaiveDate::from_ymd_opt(year, month, day);
            let first = start_in(incident_date.year())
                .filter(|d| *d > incident_date)
                .or_else(|| start_in(incident_date.year() + 1))?;
            start_in(first.year() + number as i32 - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rules(json: serde_json::Value) -> InstalmentRules {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn ages_count_whole_years_up_to_the_birthday() {
        assert_eq!(age_on(d("2008-04-20"), d("2026-04-19")), 17);
        assert_eq!(age_on(d("2008-04-20"), d("2026-04-20")), 18);
        assert_eq!(age_on(d("2008-02-29"), d("2026-02-28")), 17);
        assert_eq!(age_on(d("2008-02-29"), d("2026-03-01")), 18);
    }

    #[test]
    fn monthly_instalments_keep_the_day_or_fall_back_to_the_month_end() {
        let monthly = rules(serde_json::json!({"every": "month", "count": 4}));
        assert_eq!(
            due_dates(&monthly, d("2026-01-31"), None),
            vec![
                d("2026-01-31"),
                d("2026-02-28"),
                d("2026-03-31"),
                d("2026-04-30")
            ]
        );
    }

    #[test]
    fn school_years_start_after_the_incident_and_stop_at_the_age_limit() {
        let yearly = rules(serde_json::json!({
            "every": "school_year", "school_year_starts": "04-14", "max_age": 18
        }));
        // Born 2008-06-01: 18 on 2026-06-01, so the 2026-04-14 school year is the last.
        assert_eq!(
            due_dates(&yearly, d("2023-03-01"), Some(d("2008-06-01"))),
            vec![
                d("2023-03-01"),
                d("2023-04-14"),
                d("2024-04-14"),
                d("2025-04-14"),
                d("2026-04-14")
            ]
        );
        // An incident on the first day of a school year: the next starts a year later.
        let counted = rules(serde_json::json!({
            "every": "school_year", "school_year_starts": "04-14", "count": 3
        }));
        assert_eq!(
            due_dates(&counted, d("2023-04-14"), None),
            vec![d("2023-04-14"), d("2024-04-14"), d("2025-04-14")]
        );
    }

    #[test]
    fn a_counted_schedule_keeps_its_count_past_the_age_limit_for_the_run_to_lapse() {
        let counted = rules(serde_json::json!({"every": "month", "count": 3, "max_age": 18}));
        assert_eq!(
            due_dates(&counted, d("2026-01-10"), Some(d("2008-02-01"))).len(),
            3
        );
    }
}

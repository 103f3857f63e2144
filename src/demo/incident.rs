//! When and where a claim's incident happened, and when the claim was filed:
//! a day on which the worker was where the benefit covers them (abroad, before
//! departure, back home within the days the rules allow), covered by their
//! contributions and past the waiting period, or for a rejection a day on which
//! the membership had lapsed or a filing past the window.

use chrono::NaiveDate;
use fastrand::Rng;

use super::plan::{add_days, day_between, WorkerPlan};
use super::scenario::Goal;
use crate::rules::document::{BenefitRules, FilingWindowFrom, Phase};
use crate::rules::evaluate::active_spans;

/// Days from the incident to the filing, at most (a few days at least).
const FILING_DELAY_DAYS: i64 = 45;
/// Open claims had their incident in the demo's last this many days.
const RECENT_DAYS: i64 = 120;
/// Incidents happen at least this many days before the demo's today.
const LAST_INCIDENT_DAYS: i64 = 5;

/// Where and when it happened, and when the claim was lodged.
#[derive(Debug, Clone, Copy)]
pub struct Incident {
    pub date: NaiveDate,
    pub phase: Phase,
    pub filed_on: NaiveDate,
}

/// An incident for a claim of `benefit` (as its latest version has it, first
/// offered on `first_offered`) by the worker of `plan`, fit to end as `goal`.
/// A death is the worker's last event. `None` when the history allows none.
#[allow(clippy::too_many_arguments)]
pub fn choose(
    rng: &mut Rng,
    plan: &WorkerPlan,
    reversed: &[usize],
    benefit: &BenefitRules,
    first_offered: NaiveDate,
    death: bool,
    goal: Goal,
    today: NaiveDate,
) -> Option<Incident> {
    let phase = choose_phase(rng, &benefit.covered_phases);
    let window = benefit.filing_window_days as i64;
    // A window counted from the contract's end may still be open long after
    // the incident: such claims are refused for a lapsed membership instead.
    let window_from_incident = benefit
        .filing_window_from
        .is_none_or(|from| from == FilingWindowFrom::Incident);
    let late_filing = goal.is_refused() && rng.bool() && window_from_incident;
    let mut latest = add_days(today, -LAST_INCIDENT_DAYS);
    if late_filing {
        latest = add_days(latest, -window - 15);
    }
    let earliest = if goal.is_open() {
        add_days(today, -RECENT_DAYS).max(first_offered)
    } else {
        first_offered
    };
    let coverage: Vec<Span> = active_spans(&plan.coverage(reversed))
        .into_iter()
        .map(|s| (s.start, s.until))
        .collect();
    let waited = add_days(coverage.first()?.0, benefit.waiting_days as i64);
    let spans = intersect(
        &phase_spans(plan, phase, benefit, death, today)?,
        &[(earliest.max(waited), latest)],
    );
    let date = match (
        goal.is_refused() && !late_filing,
        benefit.requires_active_membership,
    ) {
        (true, false) => return None,
        (true, true) => day_in(rng, &subtract(&spans, &coverage))?,
        (false, true) => day_in(rng, &intersect(&spans, &coverage))?,
        (false, false) => day_in(rng, &spans)?,
    };
    let filed_on = if late_filing {
        let first_late = add_days(date, window + 10);
        day_between(rng, first_late, add_days(first_late, 80).min(today))
    } else {
        add_days(date, rng.i64(3..=FILING_DELAY_DAYS)).min(today)
    };
    Some(Incident {
        date,
        phase,
        filed_on,
    })
}

type Span = (NaiveDate, NaiveDate);

pub fn intersect(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    for (a0, a1) in a {
        for (b0, b1) in b {
            let (from, to) = (*a0.max(b0), *a1.min(b1));
            if from <= to {
                out.push((from, to));
            }
        }
    }
    out
}

fn subtract(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut out = a.to_vec();
    for (b0, b1) in b {
        out = out
            .into_iter()
            .flat_map(|(a0, a1)| {
                let mut parts = Vec::new();
                if a0 < *b0 {
                    parts.push((a0, a1.min(add_days(*b0, -1))));
                }
                if a1 > *b1 {
                    parts.push((a0.max(add_days(*b1, 1)), a1));
                }
                parts
                    .into_iter()
                    .filter(|(f, t)| f <= t)
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    out
}

/// A day from the spans, each day equally likely.
fn day_in(rng: &mut Rng, spans: &[Span]) -> Option<NaiveDate> {
    let days: Vec<i64> = spans
        .iter()
        .map(|(f, t)| (*t - *f).num_days() + 1)
        .collect();
    let total: i64 = days.iter().sum();
    if total <= 0 {
        return None;
    }
    let mut roll = rng.i64(0..total);
    for ((from, _), n) in spans.iter().zip(days) {
        if roll < n {
            return Some(add_days(*from, roll));
        }
        roll -= n;
    }
    None
}

/// Mostly abroad, where most incidents happen, when the benefit covers it.
fn choose_phase(rng: &mut Rng, covered: &[Phase]) -> Phase {
    if covered.contains(&Phase::Abroad) && rng.u32(0..100) < 75 {
        return Phase::Abroad;
    }
    covered[rng.usize(0..covered.len())]
}

/// The days on which an incident in `phase` could have happened to the worker.
fn phase_spans(
    plan: &WorkerPlan,
    phase: Phase,
    benefit: &BenefitRules,
    death: bool,
    today: NaiveDate,
) -> Option<Vec<Span>> {
    let last = plan.contracts.len() - 1;
    let contracts: Vec<usize> = if death {
        vec![last]
    } else {
        (0..=last).collect()
    };
    let mut spans = Vec::new();
    for i in contracts {
        let c = &plan.contracts[i];
        match phase {
            Phase::Abroad | Phase::HomeOnLeave => {
                if death && !c.ongoing(today) {
                    continue;
                }
                spans.extend(c.abroad(today));
            }
            Phase::BeforeDeparture if !death => {
                let leaves = c.departed_on.unwrap_or(today);
                spans.push((add_days(c.new.start_date, -45), add_days(leaves, -1)));
            }
            Phase::AfterReturn => {
                // The rules look at the contract that started last before the
                // incident: the time after a return ends when the next one starts.
                if let Some(back) = c.returned_on {
                    let days = benefit.days_after_return.unwrap_or(0) as i64;
                    let next_start = plan.contracts.get(i + 1).map(|n| n.new.start_date);
                    let until = next_start.map_or(add_days(back, days), |next| {
                        add_days(back, days).min(add_days(next, -1))
                    });
                    spans.push((back, until));
                }
            }
            Phase::BeforeDeparture => {}
        }
    }
    if death {
        let last_paid = plan.payments.iter().map(|p| p.paid_on).max()?;
        spans = intersect(&spans, &[(add_days(last_paid, 1), today)]);
    }
    Some(spans)
}

pub fn description(code: &str, phase: Phase, country: &Option<String>) -> String {
    let place = match (phase, country) {
        (Phase::Abroad, Some(c)) | (Phase::HomeOnLeave, Some(c)) => format!(" (contract in {c})"),
        _ => String::new(),
    };
    let what = code.to_lowercase().replace('_', " ");
    let when = match phase {
        Phase::BeforeDeparture => "before departure",
        Phase::Abroad => "abroad",
        Phase::HomeOnLeave => "while home on leave",
        Phase::AfterReturn => "after return",
    };
    format!("Claim for {what}, incident {when}{place}")
}

/// The destination of the contract that started last on or before `date`.
pub fn destination_on(plan: &WorkerPlan, date: NaiveDate) -> Option<String> {
    plan.contracts
        .iter()
        .filter(|c| c.new.start_date <= date)
        .max_by_key(|c| c.new.start_date)
        .map(|c| c.new.destination_country.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn spans_intersect_and_subtract_day_by_day() {
        let a = [(d("2024-01-01"), d("2024-01-31"))];
        let b = [(d("2024-01-10"), d("2024-01-20"))];
        assert_eq!(intersect(&a, &b), vec![(d("2024-01-10"), d("2024-01-20"))]);
        assert_eq!(
            subtract(&a, &b),
            vec![
                (d("2024-01-01"), d("2024-01-09")),
                (d("2024-01-21"), d("2024-01-31"))
            ]
        );
        assert!(subtract(&b, &a).is_empty());
        let mut rng = Rng::with_seed(1);
        for _ in 0..100 {
            let day = day_in(&mut rng, &subtract(&a, &b)).unwrap();
            assert!(!(d("2024-01-10")..=d("2024-01-20")).contains(&day));
        }
        assert_eq!(day_in(&mut rng, &[]), None);
    }
}

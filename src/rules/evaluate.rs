//! Pure evaluation of the rules: which version is in force, what a contribution
//! costs, what coverage it buys, and whether a worker is active on a date.
//! No database, no clock: everything it needs is passed in.

use chrono::{Days, Months, NaiveDate};
use rust_decimal::Decimal;

use super::document::{Basis, ContributionRules, RuleDocument, Tier, Validity};
pub use super::features::{anchored_coverage, pricing, tiers_for, years_of_contributions, Pricing};
use crate::money::{from_minor, round_to_minor, to_minor, Currency};

/// The version in force on `date`: the one with the latest `effective_from` on
/// or before it. `versions` may be in any order.
pub fn version_in_force<T>(versions: &[(NaiveDate, T)], date: NaiveDate) -> Option<&T> {
    versions
        .iter()
        .filter(|(from, _)| *from <= date)
        .max_by_key(|(from, _)| *from)
        .map(|(_, v)| v)
}

/// A contract's length in months, a started month counting as a whole one:
/// 2018-02-01 to 2021-01-31 is 36 months, to 2021-02-01 is 37.
pub fn contract_months(start: NaiveDate, end: NaiveDate) -> u32 {
    use chrono::Datelike;
    if end < start {
        return 0;
    }
    let whole = (end.year() - start.year()) * 12 + end.month() as i32 - start.month() as i32;
    let started = if end.day() >= start.day() { 1 } else { 0 };
    (whole + started).max(1) as u32
}

/// The last day covered by `months` from `paid_on`: the day before the same day
/// `months` later, a missing day falling back to that month's last day
/// (paid 2017-03-01 for 24 months: through 2019-02-28).
pub fn fixed_coverage_end(paid_on: NaiveDate, months: u32) -> NaiveDate {
    let same_day_later = paid_on
        .checked_add_months(Months::new(months))
        .expect("coverage dates stay within the calendar");
    same_day_later - Days::new(1)
}

/// What the rules need to know about the contract a contribution pays for.
#[derive(Debug, Clone)]
pub struct ContractTerms {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub terminated_on: Option<NaiveDate>,
    pub monthly_wage_minor: Option<i64>,
    pub wage_currency: Option<Currency>,
    /// The departure and return as recorded (`contract_events` coverage).
    pub departed_on: Option<NaiveDate>,
    pub returned_on: Option<NaiveDate>,
}

impl ContractTerms {
    /// The contract's last day: its early termination if recorded, else its end.
    pub fn last_day(&self) -> NaiveDate {
        self.terminated_on.unwrap_or(self.end_date)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxCharge {
    pub code: String,
    pub rate: Decimal,
    pub amount_minor: i64,
}

/// What a contribution costs and buys under one rule version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub currency: Currency,
    /// The contribution itself, without taxes.
    pub amount_minor: i64,
    pub taxes: Vec<TaxCharge>,
    /// amount + taxes: what the payers pay.
    pub total_minor: i64,
    /// The amount's split: benefit-reserve and administration income.
    pub benefit_reserve_minor: i64,
    pub administration_minor: i64,
    pub coverage_start: NaiveDate,
    pub coverage_end: NaiveDate,
    pub grace_days: u32,
    pub validity: Validity,
    /// Which price applied: the tiers, or the renewal tiers.
    pub pricing: Pricing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteError {
    /// The amount depends on the contract (tiers, wage, contract-end validity).
    ContractRequired(&'static str),
    /// The contract ended before the payment date, so it buys no coverage.
    ContractEndedBeforePayment(NaiveDate),
    WageRequired,
    WageCurrencyMismatch {
        wage: Currency,
        contribution: Currency,
    },
    /// A computed amount is beyond what the ledger accepts.
    AmountTooLarge,
}

impl std::fmt::Display for QuoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuoteError::ContractRequired(why) => {
                write!(f, "name the contract (contract_id): {why}")
            }
            QuoteError::ContractEndedBeforePayment(d) => {
                write!(
                    f,
                    "the contract ended on {d}, before the payment date, so it buys no coverage"
                )
            }
            QuoteError::WageRequired => write!(
                f,
                "the contract has no declared monthly wage, which this contribution is a share of"
            ),
            QuoteError::WageCurrencyMismatch { wage, contribution } => {
                write!(f, "the wage is declared in {wage} but contributions are charged in {contribution}")
            }
            QuoteError::AmountTooLarge => write!(
                f,
                "the computed amount is larger than the largest amount accepted"
            ),
        }
    }
}

/// Whether the amount or coverage under `doc` depends on the contract.
pub fn needs_contract(doc: &RuleDocument) -> Option<&'static str> {
    if doc.membership.validity == Validity::ContractEnd {
        Some("coverage runs to the end of the contract the contribution pays for")
    } else if doc.membership.validity == Validity::ContractEvents {
        Some("coverage follows the departure and return of the contract the contribution pays for")
    } else if doc.contribution.basis == Basis::PercentOfWage {
        Some("the contribution is a share of the contract's declared wage")
    } else if doc.contribution.tiers.len() > 1 {
        Some("the amount depends on the contract's length")
    } else {
        None
    }
}

/// Quotes a contribution paid on `paid_on` under `doc` (already validated).
/// `first_paid_on` is the payment date of the worker's earliest standing
/// contribution, if any: it decides whether renewal pricing applies.
pub fn quote(
    doc: &RuleDocument,
    paid_on: NaiveDate,
    contract: Option<&ContractTerms>,
    first_paid_on: Option<NaiveDate>,
) -> Result<Quote, QuoteError> {
    let rules = &doc.contribution;
    let currency =
        Currency::parse(&rules.currency).expect("validated documents have valid currencies");
    if let Some(why) = needs_contract(doc) {
        if contract.is_none() {
            return Err(QuoteError::ContractRequired(why));
        }
    }
    let pricing = pricing(rules, paid_on, first_paid_on);
    let amount_minor = match rules.basis {
        Basis::Flat => flat_amount(tiers_for(rules, pricing), currency, contract),
        Basis::PercentOfWage => {
            percent_of_wage_amount(doc, currency, contract.expect("checked above"))?
        }
    };
    let taxes = tax_charges(rules, amount_minor, currency)?;
    let total_minor = amount_minor + taxes.iter().map(|t| t.amount_minor).sum::<i64>();
    let benefit_reserve_minor = round_to_minor(
        from_minor(amount_minor, currency) * rules.allocation.benefit_reserve.0,
        currency,
    )
    .map_err(|_| QuoteError::AmountTooLarge)?;
    debug_assert!(
        (0..=amount_minor).contains(&benefit_reserve_minor),
        "the benefit reserve is a share of the amount, at most all of it"
    );
    let (coverage_start, coverage_end) = coverage(doc, paid_on, contract)?;
    Ok(Quote {
        currency,
        amount_minor,
        taxes,
        total_minor,
        benefit_reserve_minor,
        administration_minor: amount_minor - benefit_reserve_minor,
        coverage_start,
        coverage_end,
        grace_days: doc.membership.grace_days,
        validity: doc.membership.validity,
        pricing,
    })
}

/// A flat contribution: the amount of the first tier that takes the contract's
/// length (the open last tier when no contract is named).
fn flat_amount(tiers: &[Tier], currency: Currency, contract: Option<&ContractTerms>) -> i64 {
    let months = contract.map(|c| contract_months(c.start_date, c.end_date));
    let tier = tiers
        .iter()
        .find(|t| match (t.max_contract_months, months) {
            (None, _) => true,
            (Some(max), Some(m)) => m <= max,
            (Some(_), None) => false,
        })
        .expect("validated documents end with an open tier");
    to_minor(tier.amount.0, currency).expect("validated tier amounts fit the currency")
}

/// A share of the contract's declared wage: `rate` × wage × membership months,
/// clamped to `[minimum, maximum]`, rounded half-even.
fn percent_of_wage_amount(
    doc: &RuleDocument,
    currency: Currency,
    contract: &ContractTerms,
) -> Result<i64, QuoteError> {
    let rules = &doc.contribution;
    let wage = contract
        .monthly_wage_minor
        .ok_or(QuoteError::WageRequired)?;
    let wage_currency = contract.wage_currency.ok_or(QuoteError::WageRequired)?;
    if wage_currency != currency {
        return Err(QuoteError::WageCurrencyMismatch {
            wage: wage_currency,
            contribution: currency,
        });
    }
    let months = Decimal::from(
        doc.membership
            .months
            .expect("validated: percent_of_wage has months"),
    );
    let rate = rules.rate.expect("validated: percent_of_wage has a rate").0;
    let mut amount = rate * from_minor(wage, currency) * months;
    if let Some(min) = &rules.minimum {
        amount = amount.max(min.0);
    }
    if let Some(max) = &rules.maximum {
        amount = amount.min(max.0);
    }
    round_to_minor(amount, currency).map_err(|_| QuoteError::AmountTooLarge)
}

/// Each tax of the rules charged on `amount_minor`, in the rules' order.
fn tax_charges(
    rules: &ContributionRules,
    amount_minor: i64,
    currency: Currency,
) -> Result<Vec<TaxCharge>, QuoteError> {
    let mut taxes = Vec::new();
    for tax in &rules.taxes {
        let amount = round_to_minor(from_minor(amount_minor, currency) * tax.rate.0, currency)
            .map_err(|_| QuoteError::AmountTooLarge)?;
        taxes.push(TaxCharge {
            code: tax.code.clone(),
            rate: tax.rate.0,
            amount_minor: amount,
        });
    }
    Ok(taxes)
}

/// The first and last day a contribution paid on `paid_on` covers: from the
/// payment `months` later, or to the contract's last day, or around the
/// contract's departure and return; the last day must not be before the first.
fn coverage(
    doc: &RuleDocument,
    paid_on: NaiveDate,
    contract: Option<&ContractTerms>,
) -> Result<(NaiveDate, NaiveDate), QuoteError> {
    let (start, end) = match doc.membership.validity {
        Validity::FixedMonths => (
            paid_on,
            fixed_coverage_end(paid_on, doc.membership.months.expect("validated")),
        ),
        Validity::ContractEnd => (
            paid_on,
            contract
                .expect("quote refuses contract-end coverage without a contract")
                .last_day(),
        ),
        Validity::ContractEvents => anchored_coverage(
            paid_on,
            contract.expect("quote refuses anchored coverage without a contract"),
            doc.membership
                .anchors
                .expect("validated: contract_events has anchors"),
        ),
    };
    if end < start {
        return Err(QuoteError::ContractEndedBeforePayment(end));
    }
    Ok((start, end))
}

/// A coverage period bought by one contribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub grace_days: u32,
}

/// The days a worker counts as active, from one or more coverage periods
/// whose active spans overlap or touch (RULES.md, `membership`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveSpan {
    /// The first day of the earliest period.
    pub start: NaiveDate,
    /// The last day of coverage of any of its periods (grace excluded).
    pub end: NaiveDate,
    /// The last active day: the latest of its periods' end plus own grace.
    pub until: NaiveDate,
}

impl ActiveSpan {
    /// The days of grace after the last day of coverage (`until` − `end`).
    pub fn grace_days(&self) -> u32 {
        (self.until - self.end).num_days() as u32
    }
}

/// The active spans of `periods`, in date order. Each period keeps its own
/// grace: its active span runs from its start to its end plus its
/// `grace_days`. Spans that overlap or touch (one ends the day before the
/// next starts) merge; a gap of a day or more keeps them apart. So paying
/// again never shortens cover: a period with less grace bought inside another
/// period's span extends that span or leaves it as it is.
pub fn active_spans(periods: &[Period]) -> Vec<ActiveSpan> {
    let mut spans: Vec<ActiveSpan> = periods
        .iter()
        .map(|p| ActiveSpan {
            start: p.start,
            end: p.end,
            until: p.end + Days::new(p.grace_days as u64),
        })
        .collect();
    spans.sort_by_key(|s| (s.start, s.until));
    let mut merged: Vec<ActiveSpan> = Vec::with_capacity(spans.len());
    for s in spans {
        match merged.last_mut() {
            Some(last) if s.start <= last.until + Days::new(1) => {
                last.end = last.end.max(s.end);
                last.until = last.until.max(s.until);
            }
            _ => merged.push(s),
        }
    }
    merged
}

/// Whether the worker is active on `date`, and the last day they count as
/// active: the last day of the merged active span containing `date`.
pub fn active_on(periods: &[Period], date: NaiveDate) -> Option<NaiveDate> {
    active_spans(periods)
        .into_iter()
        .find(|s| s.start <= date && date <= s.until)
        .map(|s| s.until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn started_months_count_as_whole_months() {
        assert_eq!(contract_months(d("2018-02-01"), d("2021-01-31")), 36);
        assert_eq!(contract_months(d("2018-02-01"), d("2021-02-01")), 37);
        assert_eq!(contract_months(d("2018-01-31"), d("2018-02-28")), 1);
        assert_eq!(contract_months(d("2018-01-15"), d("2018-01-15")), 1);
        assert_eq!(contract_months(d("2018-01-15"), d("2019-01-14")), 12);
        assert_eq!(contract_months(d("2018-01-15"), d("2019-01-15")), 13);
    }

    #[test]
    fn fixed_coverage_ends_the_day_before_the_same_day_later() {
        assert_eq!(fixed_coverage_end(d("2017-03-01"), 24), d("2019-02-28"));
        assert_eq!(fixed_coverage_end(d("2016-02-29"), 12), d("2017-02-27"));
        assert_eq!(fixed_coverage_end(d("2017-01-31"), 1), d("2017-02-27"));
        assert_eq!(fixed_coverage_end(d("2019-12-15"), 24), d("2021-12-14"));
    }

    #[test]
    fn the_version_in_force_is_the_latest_started_one() {
        let versions = vec![
            (d("2017-07-31"), "2017"),
            (d("2008-02-20"), "2008"),
            (d("2020-01-19"), "2020"),
        ];
        assert_eq!(version_in_force(&versions, d("2017-07-30")), Some(&"2008"));
        assert_eq!(version_in_force(&versions, d("2017-07-31")), Some(&"2017"));
        assert_eq!(version_in_force(&versions, d("2025-01-01")), Some(&"2020"));
        assert_eq!(version_in_force(&versions, d("2000-01-01")), None);
    }

    fn p(s: &str, e: &str, g: u32) -> Period {
        Period {
            start: d(s),
            end: d(e),
            grace_days: g,
        }
    }

    fn span(s: &str, e: &str, until: &str) -> ActiveSpan {
        ActiveSpan {
            start: d(s),
            end: d(e),
            until: d(until),
        }
    }

    #[test]
    fn adjacent_and_overlapping_periods_merge_and_grace_extends_activity() {
        let spans = active_spans(&[
            p("2020-01-01", "2020-06-30", 0),
            p("2020-07-01", "2020-12-31", 10),
            p("2020-03-01", "2020-04-01", 0),
            p("2022-01-01", "2022-12-31", 0),
        ]);
        assert_eq!(
            spans,
            vec![
                span("2020-01-01", "2020-12-31", "2021-01-10"),
                span("2022-01-01", "2022-12-31", "2022-12-31")
            ]
        );
        assert_eq!(spans[0].grace_days(), 10);
        let periods = vec![p("2020-01-01", "2020-12-31", 30)];
        assert_eq!(active_on(&periods, d("2021-01-30")), Some(d("2021-01-30")));
        assert_eq!(active_on(&periods, d("2021-01-31")), None);
        assert_eq!(active_on(&periods, d("2019-12-31")), None);
    }

    #[test]
    fn a_second_payment_with_less_grace_never_shortens_cover() {
        // Bought inside the first period's grace, with no grace of its own.
        let periods = [
            p("2020-01-01", "2020-12-31", 90),
            p("2021-01-15", "2021-01-31", 0),
        ];
        assert_eq!(
            active_spans(&periods),
            vec![span("2020-01-01", "2021-01-31", "2021-03-31")]
        );
        for date in ["2021-01-05", "2021-01-20", "2021-02-15", "2021-03-31"] {
            assert_eq!(
                active_on(&periods, d(date)),
                Some(d("2021-03-31")),
                "{date}"
            );
        }
        assert_eq!(active_on(&periods, d("2021-04-01")), None);
        // Overlapping coverage that ends later with less grace: still A's grace.
        let periods = [
            p("2020-01-01", "2020-12-31", 90),
            p("2020-12-01", "2021-01-31", 0),
        ];
        assert_eq!(active_on(&periods, d("2021-02-15")), Some(d("2021-03-31")));
        // A period that outlasts the first's grace carries the span on.
        let periods = [
            p("2020-01-01", "2020-12-31", 90),
            p("2021-03-15", "2021-05-14", 0),
        ];
        assert_eq!(active_on(&periods, d("2021-01-20")), Some(d("2021-05-14")));
    }

    #[test]
    fn spans_that_touch_merge_and_a_day_apart_do_not() {
        // Active through 2021-01-30; the next period starts the day after.
        let touching = [
            p("2020-01-01", "2020-12-31", 30),
            p("2021-01-31", "2021-06-30", 0),
        ];
        assert_eq!(
            active_spans(&touching),
            vec![span("2020-01-01", "2021-06-30", "2021-06-30")]
        );
        assert_eq!(active_on(&touching, d("2021-01-15")), Some(d("2021-06-30")));
        // One day with no cover in between: two spans, inactive that day.
        let apart = [
            p("2020-01-01", "2020-12-31", 30),
            p("2021-02-01", "2021-06-30", 0),
        ];
        assert_eq!(
            active_spans(&apart),
            vec![
                span("2020-01-01", "2020-12-31", "2021-01-30"),
                span("2021-02-01", "2021-06-30", "2021-06-30")
            ]
        );
        assert_eq!(active_on(&apart, d("2021-01-15")), Some(d("2021-01-30")));
        assert_eq!(active_on(&apart, d("2021-01-31")), None);
        assert_eq!(active_on(&apart, d("2021-02-01")), Some(d("2021-06-30")));
        assert_eq!(active_spans(&[]), vec![]);
    }
}

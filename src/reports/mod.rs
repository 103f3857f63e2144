//! Reports for administrators, ministries and auditors: the trial balance as of
//! a date, membership statistics as of a date and claims statistics for a
//! period, grouped by the dimensions the caller asks for.
//!
//! Every figure is computed from the records (postings, contributions' coverage,
//! claims) inside the caller's read snapshot; nothing is cached.

mod claims;
pub mod contribution_months;
mod membership;
pub mod membership_summary;
pub mod monthly;
mod trial_balance;

pub use claims::{
    claim_statistics, ClaimAmounts, ClaimGroup, ClaimStatistics, Dimension as ClaimDimension,
};
pub use membership::membership_statistics_from_records;
pub use membership::{
    membership_statistics, Dimension as MembershipDimension, MembershipGroup, MembershipStatistics,
};
pub use trial_balance::{trial_balance, CurrencyTotals, TrialBalance, TrialBalanceLine};

use crate::error::{AppError, AppResult};

/// Parses a `by` list (`sex,destination`) against the dimensions a report
/// offers, refusing unknown and repeated names. Absent gives `default`; empty
/// gives no dimension (the totals only).
pub fn parse_dimensions<D: Copy + PartialEq>(
    by: Option<&str>,
    offered: &[(&str, D)],
    default: &[D],
) -> AppResult<Vec<D>> {
    let Some(text) = by.map(str::trim) else {
        return Ok(default.to_vec());
    };
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = offered.iter().map(|(n, _)| *n).collect();
    let mut chosen = Vec::new();
    for name in text.split(',').map(str::trim) {
        let Some((_, d)) = offered.iter().find(|(n, _)| *n == name) else {
            return Err(AppError::query(
                "by",
                "unknown_dimension",
                format!("{name:?} is not one of {}", names.join(", ")),
            ));
        };
        if chosen.contains(d) {
            return Err(AppError::query(
                "by",
                "repeated_dimension",
                format!("{name:?} is named twice"),
            ));
        }
        chosen.push(*d);
    }
    Ok(chosen)
}

/// Refuses a period whose end comes before its start.
pub fn check_period(from: chrono::NaiveDate, to: chrono::NaiveDate) -> AppResult<()> {
    if to < from {
        return Err(AppError::query(
            "to",
            "before_from",
            format!("{to} is before from ({from})"),
        ));
    }
    Ok(())
}

/// The value a record has for a dimension it lacks (no sector declared, no contract).
pub const UNKNOWN: &str = "unknown";

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum D {
        A,
        B,
    }

    const OFFERED: &[(&str, D)] = &[("a", D::A), ("b", D::B)];

    #[test]
    fn dimensions_are_parsed_in_the_order_given() {
        assert_eq!(
            parse_dimensions(Some("b, a"), OFFERED, &[D::A]).unwrap(),
            vec![D::B, D::A]
        );
        assert_eq!(
            parse_dimensions(None, OFFERED, &[D::A]).unwrap(),
            vec![D::A]
        );
        assert_eq!(parse_dimensions(Some(""), OFFERED, &[]).unwrap(), vec![]);
    }

    #[test]
    fn unknown_and_repeated_dimensions_are_refused_naming_by() {
        let e = parse_dimensions(Some("a,c"), OFFERED, &[])
            .unwrap_err()
            .problem();
        assert_eq!(e.errors[0].code, "unknown_dimension");
        assert_eq!(e.errors[0].field, "by");
        let e = parse_dimensions(Some("a,a"), OFFERED, &[])
            .unwrap_err()
            .problem();
        assert_eq!(e.errors[0].code, "repeated_dimension");
    }
}

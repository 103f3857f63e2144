//! The range of every figure the ledger keeps, and the checks that hold it.
//!
//! A posting carries at most [`MAX_AMOUNT_MINOR`] (10^15) minor units and is
//! always positive, so an account's debit total and credit total only grow.
//! The Booking refuses (`AMOUNT_LIMIT_EXCEEDED`) an entry that would take
//!
//! * either total of an account past [`MAX_ACCOUNT_TOTAL_MINOR`]
//!   (9 × 10^15). Then an account's balance (the difference of its totals), its
//!   balance as of any date and every running balance of a statement (differences
//!   of partial sums of the same postings) lie within ±9 × 10^15, which is below
//!   2^53: each is exact even as a JSON number read into a double (the JSON Lines
//!   export's `amount_minor` and `balance_minor`);
//! * a fund's debits in one currency (equal to its credits, entries being
//!   balanced) past [`MAX_FUND_TOTAL_MINOR`] (9 × 10^18, just under `i64::MAX`
//!   ≈ 9.22 × 10^18). Every sum across accounts — a trial balance's columns of
//!   debits, credits, debit balances and credit balances per currency — is at
//!   most that total, so it fits in an `i64` however many accounts a fund has.
//!
//! Reads sum in `i128` (SQL sums in two parts, see `balances::sum_wide`) and
//! narrow with a check, so a database altered behind the ledger's back is
//! reported (and `verify` names the account) instead of wrapping silently.

use crate::error::{AppError, AppResult, ErrorCode};
use crate::money::{format_minor, Currency};

#[cfg(doc)]
use crate::money::MAX_AMOUNT_MINOR;

/// The most an account's debit total, and its credit total, may reach: 9 × 10^15
/// minor units (90 trillion in a two-decimal currency).
pub const MAX_ACCOUNT_TOTAL_MINOR: i64 = 9_000_000_000_000_000;

/// The most a fund's debits (and so its credits) in one currency may add up to:
/// 9 × 10^18 minor units, so that sums over all of a fund's accounts fit in 64 bits.
pub const MAX_FUND_TOTAL_MINOR: i64 = 9_000_000_000_000_000_000;

// What the comments above rely on, checked when the crate compiles: account
// figures are exact as doubles (below 2^53); the fund limit fits in 64 bits and
// leaves room for a thousand accounts at the account limit.
const _: () = assert!(MAX_ACCOUNT_TOTAL_MINOR < 1 << 53);
const _: () = assert!(MAX_FUND_TOTAL_MINOR < i64::MAX);
const _: () = assert!(MAX_FUND_TOTAL_MINOR / MAX_ACCOUNT_TOTAL_MINOR >= 1_000);

/// Whether `total` is a total an account may hold.
pub fn within_account_limit(total: i128) -> bool {
    (0..=MAX_ACCOUNT_TOTAL_MINOR as i128).contains(&total)
}

/// The refusal of an entry that would take `account`'s `side` total to `total`.
pub(super) fn account_limit_exceeded(
    account: &str,
    side: super::Side,
    currency: Currency,
    total: i128,
) -> AppError {
    let limit = format_minor(MAX_ACCOUNT_TOTAL_MINOR, currency);
    AppError::new(
        ErrorCode::AmountLimitExceeded,
        format!(
            "the {} total of account {account} would reach {} {currency}; an account's debits and \
             its credits may each add up to at most {limit} {currency}",
            side.as_str(),
            format_wide(total, currency),
        ),
    )
    .with("account", account)
    .with("side", side.as_str())
    .with("currency", currency.code())
    .with("limit", limit)
}

/// The refusal of an entry that would take a fund's debits in `currency` to `total`.
pub(super) fn fund_limit_exceeded(currency: Currency, total: i128) -> AppError {
    let limit = format_minor(MAX_FUND_TOTAL_MINOR, currency);
    AppError::new(
        ErrorCode::AmountLimitExceeded,
        format!(
            "the fund's postings in {currency} would add up to {} on each side; they may add up \
             to at most {limit} {currency}",
            format_wide(total, currency),
        ),
    )
    .with("currency", currency.code())
    .with("limit", limit)
}

/// Minor units of any size as a decimal string (for messages about figures
/// past the limits).
pub fn format_wide(minor: i128, currency: Currency) -> String {
    match i64::try_from(minor) {
        Ok(m) => format_minor(m, currency),
        Err(_) => {
            let digits = minor.unsigned_abs().to_string();
            let exponent = currency.exponent() as usize;
            let sign = if minor < 0 { "-" } else { "" };
            if exponent == 0 {
                format!("{sign}{digits}")
            } else {
                let (whole, fraction) = digits.split_at(digits.len() - exponent);
                format!("{sign}{whole}.{fraction}")
            }
        }
    }
}

/// Narrows a sum read from the database to `i64`, or reports that the stored
/// records add up beyond the ledger's range (only an altered database can).
pub fn narrow(sum: i128, what: impl FnOnce() -> String) -> AppResult<i64> {
    i64::try_from(sum).map_err(|_| {
        AppError::internal(format!(
            "{} add up to {sum} minor units, beyond the ledger's range; run `mwf verify`",
            what()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{AccountType, Side};

    #[test]
    fn balances_at_the_limit_are_exact_on_either_side() {
        let max = MAX_ACCOUNT_TOTAL_MINOR;
        assert_eq!(AccountType::Asset.balance(max, 0), max);
        assert_eq!(AccountType::Revenue.balance(max, 0), -max);
        assert_eq!(AccountType::Asset.balance(0, max), -max);
    }

    #[test]
    fn totals_outside_the_limit_are_refused_naming_it() {
        assert!(within_account_limit(MAX_ACCOUNT_TOTAL_MINOR as i128));
        assert!(!within_account_limit(MAX_ACCOUNT_TOTAL_MINOR as i128 + 1));
        assert!(!within_account_limit(-1));
        let kes = Currency::parse("KES").unwrap();
        let e = account_limit_exceeded("5000", Side::Debit, kes, 9_000_000_000_000_001);
        assert_eq!(e.code(), ErrorCode::AmountLimitExceeded);
        let p = e.problem();
        assert_eq!(p.extra["limit"], "90000000000000.00");
        assert_eq!(p.extra["account"], "5000");
        assert!(p.detail.contains("90000000000000.01"), "{}", p.detail);
        let p = fund_limit_exceeded(kes, 10_000_000_000_000_000_000).problem();
        assert_eq!(p.extra["limit"], "90000000000000000.00");
        assert!(p.detail.contains("100000000000000000.00"), "{}", p.detail);
    }

    #[test]
    fn wide_figures_are_formatted_exactly() {
        let kes = Currency::parse("KES").unwrap();
        let ugx = Currency::parse("UGX").unwrap();
        assert_eq!(format_wide(-1200, kes), "-12.00");
        assert_eq!(
            format_wide(10_000_000_000_000_000_000, kes),
            "100000000000000000.00"
        );
        assert_eq!(
            format_wide(-10_000_000_000_000_000_000, ugx),
            "-10000000000000000000"
        );
        assert!(narrow(i64::MAX as i128 + 1, || "x".into()).is_err());
        assert_eq!(narrow(-5, || "x".into()).unwrap(), -5);
    }
}

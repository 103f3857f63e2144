//! Shares of an award and the split of an amount over them.
//!
//! A share is an exact fraction: equal shares of three heirs are 1/3 each, not
//! 0.3333, so the shares of a claim add up to exactly 1 and nobody loses a
//! fraction to rounding. An amount is split once, in minor units, by the
//! largest remainder: each payee gets the whole minor units of their share, and
//! the units left over go one each to the largest remainders (the earlier line
//! first on a tie), so the parts add up to the amount exactly.

use std::cmp::Ordering;

use rust_decimal::Decimal;

/// The most decimal places a share named in a claim may have.
pub const MAX_SHARE_DECIMALS: u32 = 10;

/// A share of an award: `numerator / denominator`, in lowest terms, greater
/// than 0 and at most 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    numerator: i64,
    denominator: i64,
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Share {
    /// The fraction `numerator / denominator` in lowest terms, if it is a share
    /// (greater than 0, at most 1).
    pub fn new(numerator: i64, denominator: i64) -> Option<Share> {
        if numerator <= 0 || denominator < numerator {
            return None;
        }
        let g = gcd(numerator, denominator);
        Some(Share {
            numerator: numerator / g,
            denominator: denominator / g,
        })
    }

    /// The whole award.
    pub fn whole() -> Share {
        Share {
            numerator: 1,
            denominator: 1,
        }
    }

    /// One of `payees` equal shares.
    pub fn equal(payees: usize) -> Share {
        assert!(payees > 0, "an equal share of nobody");
        Share::new(1, payees as i64).expect("1/n is a share")
    }

    /// A decimal share as a claim names it (`"0.25"`): greater than 0, at most
    /// 1, with at most [`MAX_SHARE_DECIMALS`] decimal places.
    pub fn from_decimal(value: Decimal) -> Option<Share> {
        let value = value.normalize();
        if value.scale() > MAX_SHARE_DECIMALS || value <= Decimal::ZERO || value > Decimal::ONE {
            return None;
        }
        let numerator = i64::try_from(value.mantissa()).ok()?;
        Share::new(numerator, 10i64.pow(value.scale()))
    }

    pub fn numerator(self) -> i64 {
        self.numerator
    }

    pub fn denominator(self) -> i64 {
        self.denominator
    }

    /// The share as a decimal string: exact when the fraction ends within
    /// [`MAX_SHARE_DECIMALS`] places (`"0.25"`), else rounded to that many
    /// (`"0.3333333333"`).
    pub fn to_decimal_string(self) -> String {
        let value = Decimal::from(self.numerator) / Decimal::from(self.denominator);
        value
            .round_dp_with_strategy(
                MAX_SHARE_DECIMALS,
                rust_decimal::RoundingStrategy::MidpointNearestEven,
            )
            .normalize()
            .to_string()
    }

    /// The fraction as `"1/3"`.
    pub fn to_fraction_string(self) -> String {
        format!("{}/{}", self.numerator, self.denominator)
    }
}

/// The shares of some payees made relative to one another, so that they add
/// up to exactly 1: what the payees not yet paid share of the rest of an award
/// reduced after others were paid. `None` when their common denominator is
/// beyond `i64` (never for the shares a claim can have: decimals of at most
/// [`MAX_SHARE_DECIMALS`] places, or equal shares).
pub fn relative(shares: &[Share]) -> Option<Vec<Share>> {
    let common = shares.iter().try_fold(1i64, |l, s| {
        l.checked_mul(s.denominator / gcd(l, s.denominator))
    })?;
    let weights: Vec<i64> = shares
        .iter()
        .map(|s| s.numerator.checked_mul(common / s.denominator))
        .collect::<Option<_>>()?;
    let total = weights.iter().try_fold(0i64, |t, w| t.checked_add(*w))?;
    weights.into_iter().map(|w| Share::new(w, total)).collect()
}

/// Whether `shares` add up to exactly 1.
pub fn add_up_to_one(shares: &[Share]) -> bool {
    // Summed as a fraction over the product-free common denominator, step by
    // step in lowest terms: denominators are at most 10^10 or a count of payees.
    let mut sum = (0i128, 1i128);
    for s in shares {
        let (n, d) = (s.numerator as i128, s.denominator as i128);
        let numerator = sum.0 * d + n * sum.1;
        let denominator = sum.1 * d;
        let g = gcd_wide(numerator.abs(), denominator);
        sum = (numerator / g, denominator / g);
        if sum.0 > sum.1 {
            return false;
        }
    }
    sum.0 == sum.1
}

fn gcd_wide(a: i128, b: i128) -> i128 {
    if b == 0 {
        a.max(1)
    } else {
        gcd_wide(b, a % b)
    }
}

/// Splits `amount_minor` over `shares` (which add up to 1) by the largest
/// remainder: the parts, in the shares' order, add up to `amount_minor` and
/// each is within one minor unit of its exact share.
pub fn split(amount_minor: i64, shares: &[Share]) -> Vec<i64> {
    assert!(add_up_to_one(shares), "split over shares that add up to 1");
    assert!(amount_minor >= 0, "amounts are never negative");
    let exact: Vec<(i64, i128, i128)> = shares
        .iter()
        .map(|s| {
            let product = amount_minor as i128 * s.numerator as i128;
            let denominator = s.denominator as i128;
            (
                (product / denominator) as i64,
                product % denominator,
                denominator,
            )
        })
        .collect();
    let mut parts: Vec<i64> = exact.iter().map(|e| e.0).collect();
    let left = amount_minor - parts.iter().sum::<i64>();
    debug_assert!(
        (0..shares.len() as i64).contains(&left) || shares.is_empty(),
        "fewer units are left over than there are payees"
    );
    let mut order: Vec<usize> = (0..shares.len()).collect();
    // Largest remainder first (r_i / d_i compared as r_i * d_j against r_j * d_i),
    // the earlier line first on a tie.
    order.sort_by(|&i, &j| {
        let (_, ri, di) = exact[i];
        let (_, rj, dj) = exact[j];
        match (rj * di).cmp(&(ri * dj)) {
            Ordering::Equal => i.cmp(&j),
            unequal => unequal,
        }
    });
    for &i in order.iter().take(left as usize) {
        parts[i] += 1;
    }
    assert_eq!(
        parts.iter().sum::<i64>(),
        amount_minor,
        "the parts add up to the amount"
    );
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn relative_shares_add_up_to_one_in_proportion() {
        let quarter = Share::new(1, 4).unwrap();
        let half = Share::new(1, 2).unwrap();
        let thirds = relative(&[quarter, half]).unwrap();
        assert_eq!(
            thirds,
            vec![Share::new(1, 3).unwrap(), Share::new(2, 3).unwrap()]
        );
        assert!(add_up_to_one(&thirds));
        let decimals = [
            Share::from_decimal(Decimal::new(1234567891, 10)).unwrap(),
            Share::from_decimal(Decimal::new(3, 1)).unwrap(),
        ];
        let both = relative(&decimals).unwrap();
        assert!(add_up_to_one(&both));
        assert_eq!(split(4234567891, &both), vec![1234567891, 3000000000]);
        assert_eq!(relative(&[Share::equal(3)]).unwrap(), vec![Share::whole()]);
    }

    #[test]
    fn three_equal_shares_of_a_hundred_thousand_pesos_add_up_to_the_award() {
        let thirds = [Share::equal(3); 3];
        assert!(add_up_to_one(&thirds));
        assert_eq!(
            split(10_000_000, &thirds),
            vec![3_333_334, 3_333_333, 3_333_333]
        );
        assert_eq!(Share::equal(3).to_decimal_string(), "0.3333333333");
        assert_eq!(Share::equal(3).to_fraction_string(), "1/3");
    }

    #[test]
    fn named_decimal_shares_are_exact_and_must_add_up_to_one() {
        let half = Share::from_decimal("0.5".parse().unwrap()).unwrap();
        let quarter = Share::from_decimal("0.25".parse().unwrap()).unwrap();
        assert_eq!(half.to_fraction_string(), "1/2");
        assert_eq!(quarter.to_decimal_string(), "0.25");
        assert!(add_up_to_one(&[half, quarter, quarter]));
        assert!(!add_up_to_one(&[half, quarter]));
        assert!(!add_up_to_one(&[half, half, quarter]));
        assert_eq!(split(101, &[half, quarter, quarter]), vec![51, 25, 25]);
        assert_eq!(Share::from_decimal(Decimal::ZERO), None);
        assert_eq!(Share::from_decimal("1.01".parse().unwrap()), None);
        assert_eq!(Share::from_decimal("0.00000000001".parse().unwrap()), None);
    }

    #[test]
    fn the_larger_remainder_gets_the_unit_left_over() {
        let a = Share::from_decimal("0.3".parse().unwrap()).unwrap();
        let b = Share::from_decimal("0.7".parse().unwrap()).unwrap();
        // 0.3 × 5 = 1.5, 0.7 × 5 = 3.5: a tie, the earlier line first.
        assert_eq!(split(5, &[a, b]), vec![2, 3]);
        // 0.3 × 7 = 2.1, 0.7 × 7 = 4.9: the larger remainder.
        assert_eq!(split(7, &[a, b]), vec![2, 5]);
    }

    proptest! {
        #[test]
        fn equal_parts_add_up_and_differ_by_at_most_one_unit(
            amount in 0i64..=1_000_000_000_000_000,
            payees in 1usize..=50,
        ) {
            let parts = split(amount, &vec![Share::equal(payees); payees]);
            prop_assert_eq!(parts.iter().sum::<i64>(), amount);
            let (low, high) = (parts.iter().min().unwrap(), parts.iter().max().unwrap());
            prop_assert!(high - low <= 1);
            prop_assert_eq!(*low, amount / payees as i64);
        }

        #[test]
        fn named_parts_are_within_one_unit_of_their_exact_share(
            amount in 0i64..=1_000_000_000_000_000,
            first in 1i64..10_000_000_000,
        ) {
            let a = Share::new(first, 10_000_000_000).unwrap();
            let b = Share::new(10_000_000_000 - first, 10_000_000_000);
            let shares: Vec<Share> = std::iter::once(a).chain(b).collect();
            let parts = split(amount, &shares);
            prop_assert_eq!(parts.iter().sum::<i64>(), amount);
            for (part, share) in parts.iter().zip(&shares) {
                let exact = amount as i128 * share.numerator() as i128;
                let scaled = *part as i128 * share.denominator() as i128;
                prop_assert!((scaled - exact).abs() < share.denominator() as i128);
            }
        }
    }
}

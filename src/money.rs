//! Small value types for money: ISO 4217 currencies with their minor units, and
//! exact conversion between decimal strings and integer minor units.
//!
//! Amounts travel as decimal strings in JSON and as `i64` minor units in the
//! database. Converting a decimal to minor units never rounds: an amount with more
//! decimal places than the currency allows is refused. Computed amounts (a share of
//! a wage) are rounded half-even once, by [`round_to_minor`].

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount a single posting may carry, in minor units (10^15, i.e.
/// ten trillion in a two-decimal currency). Keeps every balance sum far from
/// `i64` overflow.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

/// Active ISO 4217 codes. Every code has two minor-unit digits unless listed in
/// [`ZERO_DECIMAL`], [`THREE_DECIMAL`] or [`FOUR_DECIMAL`].
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND \
BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN \
ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD \
JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU \
MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB \
RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD \
TZS UAH UGX USD UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";
const ZERO_DECIMAL: &str = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
const THREE_DECIMAL: &str = "BHD IQD JOD KWD LYD OMR TND";
const FOUR_DECIMAL: &str = "CLF UYW";

/// Whether `code` is in `list`, a sorted list of three-letter codes each
/// followed by one space but the last: a binary search (every stored amount
/// read back parses its currency, so this is on the path of every posting).
fn listed(list: &str, code: &str) -> bool {
    let (list, code) = (list.as_bytes(), code.as_bytes());
    let at = |i: usize| &list[4 * i..4 * i + 3];
    let (mut low, mut high) = (0, list.len().div_ceil(4));
    while low < high {
        let middle = (low + high) / 2;
        match at(middle).cmp(code) {
            std::cmp::Ordering::Less => low = middle + 1,
            std::cmp::Ordering::Greater => high = middle,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// An ISO 4217 currency with the number of digits of its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be an ISO 4217 currency code such as \"KES\"")]
    UnknownCurrency,
    #[error("must be a decimal string such as \"1500.00\"")]
    NotADecimal,
    #[error("must be positive")]
    NotPositive,
    #[error("has more decimal places than {currency} allows ({allowed})")]
    TooManyDecimals { currency: String, allowed: u32 },
    #[error("is larger than the largest amount accepted")]
    TooLarge,
}

impl Currency {
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        if code.len() != 3 || !listed(ISO_4217, code) {
            return Err(MoneyError::UnknownCurrency);
        }
        let exponent = if listed(ZERO_DECIMAL, code) {
            0
        } else if listed(THREE_DECIMAL, code) {
            3
        } else if listed(FOUR_DECIMAL, code) {
            4
        } else {
            2
        };
        let bytes = code.as_bytes();
        Ok(Currency {
            code: [bytes[0], bytes[1], bytes[2]],
            exponent,
        })
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).expect("currency codes are ASCII")
    }

    /// Digits of the minor unit: 2 for KES, 0 for UGX, 3 for KWD.
    pub fn exponent(&self) -> u32 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// In the OpenAPI document: the three capital letters of an ISO 4217 code
/// (the service accepts only codes it knows).
impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some("An ISO 4217 currency code."))
            .pattern(Some("^[A-Z]{3}$"))
            .max_length(Some(3))
            .examples(["KES"])
            .into()
    }
}

impl utoipa::ToSchema for Currency {}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A decimal number written as a JSON string (`"1500.00"`). JSON numbers are
/// refused so that no amount ever passes through a float. Accepts an optional
/// leading `-`, digits, and an optional fraction; no exponent, no spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(
    as = Decimal,
    value_type = String,
    pattern = r"^-?[0-9]+(\.[0-9]+)?$",
    max_length = 40,
    example = "1500.00"
)]
pub struct DecimalString(pub Decimal);

impl DecimalString {
    pub fn parse(s: &str) -> Result<Self, MoneyError> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (digits, None),
        };
        let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) || s.len() > 40 {
            return Err(MoneyError::NotADecimal);
        }
        Decimal::from_str_exact(s)
            .map(DecimalString)
            .map_err(|_| MoneyError::NotADecimal)
    }
}

impl<'de> Deserialize<'de> for DecimalString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = DecimalString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal number written as a string, such as \"1500.00\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                DecimalString::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}

impl Serialize for DecimalString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

/// Converts a positive decimal amount to minor units of `currency`, refusing
/// (never rounding) an amount with more decimal places than the currency has.
pub fn to_minor(amount: Decimal, currency: Currency) -> Result<i64, MoneyError> {
    if amount <= Decimal::ZERO {
        return Err(MoneyError::NotPositive);
    }
    to_minor_signed(amount, currency)
}

/// Like [`to_minor`] but accepts zero and negative amounts. An amount is
/// written with at most the currency's decimals: `"1500.000"` is refused for a
/// two-decimal currency even though its last digit is zero, because a partner
/// who sends three decimals has made an error somewhere that we should not hide.
pub fn to_minor_signed(amount: Decimal, currency: Currency) -> Result<i64, MoneyError> {
    if amount.scale() > currency.exponent() {
        return Err(MoneyError::TooManyDecimals {
            currency: currency.code().to_string(),
            allowed: currency.exponent(),
        });
    }
    let scaled = amount
        .checked_mul(Decimal::from(10i64.pow(currency.exponent())))
        .ok_or(MoneyError::TooLarge)?;
    let minor = i64::try_from(scaled).map_err(|_| MoneyError::TooLarge)?;
    if minor.unsigned_abs() > MAX_AMOUNT_MINOR as u64 {
        return Err(MoneyError::TooLarge);
    }
    Ok(minor)
}

/// Rounds a computed amount half-even to the currency's minor unit, once, and
/// returns it in minor units.
pub fn round_to_minor(amount: Decimal, currency: Currency) -> Result<i64, MoneyError> {
    let rounded =
        amount.round_dp_with_strategy(currency.exponent(), RoundingStrategy::MidpointNearestEven);
    to_minor_signed(rounded, currency)
}

/// The decimal value of `minor` units of `currency`.
pub fn from_minor(minor: i64, currency: Currency) -> Decimal {
    Decimal::new(minor, currency.exponent())
}

/// Formats minor units as the decimal string the API uses: always with the
/// currency's number of decimals (`150000` KES → `"1500.00"`; UGX → `"1500"`).
pub fn format_minor(minor: i64, currency: Currency) -> String {
    from_minor(minor, currency).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kes() -> Currency {
        Currency::parse("KES").unwrap()
    }

    #[test]
    fn the_code_lists_are_sorted_three_letter_codes_one_space_apart() {
        for list in [ISO_4217, ZERO_DECIMAL, THREE_DECIMAL, FOUR_DECIMAL] {
            let codes: Vec<&str> = list.split(' ').collect();
            assert!(codes
                .iter()
                .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
            assert!(codes.windows(2).all(|w| w[0] < w[1]), "{list}");
            assert_eq!(list.len(), 4 * codes.len() - 1);
            for (i, code) in codes.iter().enumerate() {
                assert!(listed(list, code), "{code}");
                // Codes between two listed ones, and before the first, are not listed.
                let before = format!("{}{}", &code[..2], (code.as_bytes()[2] - 1) as char);
                if i == 0 || codes[i - 1] != before {
                    assert!(!listed(list, &before), "{before}");
                }
            }
            assert!(!listed(list, "ZZZ") && !listed(list, "AAA"));
        }
        for list in [ZERO_DECIMAL, THREE_DECIMAL, FOUR_DECIMAL] {
            assert!(list.split(' ').all(|c| listed(ISO_4217, c)), "{list}");
        }
    }

    #[test]
    fn currencies_know_their_minor_units() {
        assert_eq!(Currency::parse("KES").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("UGX").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().exponent(), 3);
        assert_eq!(Currency::parse("kes"), Err(MoneyError::UnknownCurrency));
        assert_eq!(Currency::parse("XYZ"), Err(MoneyError::UnknownCurrency));
        assert_eq!(Currency::parse("US"), Err(MoneyError::UnknownCurrency));
    }

    #[test]
    fn excess_decimals_are_refused_not_rounded() {
        let d = DecimalString::parse("10.005").unwrap().0;
        assert!(matches!(
            to_minor(d, kes()),
            Err(MoneyError::TooManyDecimals { allowed: 2, .. })
        ));
        let ugx = Currency::parse("UGX").unwrap();
        assert!(to_minor(Decimal::from_str("1500.5").unwrap(), ugx).is_err());
        assert_eq!(to_minor(Decimal::from_str("1500").unwrap(), ugx), Ok(1500));
    }

    #[test]
    fn more_decimals_than_the_currency_has_are_refused_even_when_zero() {
        let d = DecimalString::parse("1500.000").unwrap().0;
        assert!(matches!(
            to_minor(d, kes()),
            Err(MoneyError::TooManyDecimals { allowed: 2, .. })
        ));
        let d = DecimalString::parse("10.50").unwrap().0;
        assert_eq!(to_minor(d, kes()), Ok(1050));
        let d = DecimalString::parse("10.5").unwrap().0;
        assert_eq!(to_minor(d, kes()), Ok(1050));
    }

    #[test]
    fn non_decimal_strings_are_refused() {
        for bad in [
            "", "1e5", "1.", ".5", " 1", "1,000.00", "0x10", "+5", "--1", "NaN",
        ] {
            assert_eq!(
                DecimalString::parse(bad),
                Err(MoneyError::NotADecimal),
                "{bad}"
            );
        }
    }

    #[test]
    fn json_numbers_are_refused_for_decimal_strings() {
        assert!(serde_json::from_str::<DecimalString>("1500.00").is_err());
        assert!(serde_json::from_str::<DecimalString>("\"1500.00\"").is_ok());
    }

    #[test]
    fn zero_and_negative_amounts_are_refused() {
        assert_eq!(to_minor(Decimal::ZERO, kes()), Err(MoneyError::NotPositive));
        assert_eq!(
            to_minor(Decimal::from(-1), kes()),
            Err(MoneyError::NotPositive)
        );
    }

    #[test]
    fn amounts_past_the_limit_are_refused() {
        let d = DecimalString::parse("99999999999999999999.00").unwrap().0;
        assert_eq!(to_minor(d, kes()), Err(MoneyError::TooLarge));
    }

    #[test]
    fn rounding_is_half_even_at_the_minor_unit() {
        let r = |s: &str| round_to_minor(Decimal::from_str(s).unwrap(), kes()).unwrap();
        assert_eq!(r("10.125"), 1012);
        assert_eq!(r("10.135"), 1014);
        assert_eq!(r("10.1251"), 1013);
        assert_eq!(r("-10.125"), -1012);
    }

    #[test]
    fn formatting_uses_the_currency_decimals() {
        assert_eq!(format_minor(150000, kes()), "1500.00");
        assert_eq!(format_minor(-5, kes()), "-0.05");
        assert_eq!(format_minor(1500, Currency::parse("UGX").unwrap()), "1500");
        assert_eq!(format_minor(1, Currency::parse("KWD").unwrap()), "0.001");
    }

    proptest! {
        #[test]
        fn minor_units_round_trip_through_their_decimal_string(minor in 1i64..=MAX_AMOUNT_MINOR) {
            for code in ["KES", "UGX", "KWD"] {
                let c = Currency::parse(code).unwrap();
                let text = format_minor(minor, c);
                let parsed = DecimalString::parse(&text).unwrap().0;
                prop_assert_eq!(to_minor(parsed, c), Ok(minor));
            }
        }

        #[test]
        fn rounding_moves_at_most_half_a_minor_unit(units in -1_000_000_000i64..1_000_000_000, extra in 0u32..10_000) {
            let c = kes();
            let exact = Decimal::new(units, 2) + Decimal::new(extra as i64, 6);
            let rounded = from_minor(round_to_minor(exact, c).unwrap(), c);
            prop_assert!((rounded - exact).abs() <= Decimal::new(5, 3));
        }
    }
}

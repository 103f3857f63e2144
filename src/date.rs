//! The dates the API accepts: strictly `YYYY-MM-DD`, from [`EARLIEST`] to
//! [`LATEST`]. Every date field of a request body or query is read through
//! [`strict`] or [`strict_option`] (`#[serde(deserialize_with = ...)]`), so no
//! other spelling (`2026-1-1`, `+2026-01-01`, a time) and no day outside the range
//! (`0000-01-01`, which PostgreSQL cannot store before 4713 BC anyway) gets past
//! the edge, on either database.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

/// The first day the API accepts.
pub const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("1900-01-01 is a date"),
};

/// The last day the API accepts.
pub const LATEST: NaiveDate = match NaiveDate::from_ymd_opt(2100, 12, 31) {
    Some(d) => d,
    None => panic!("2100-12-31 is a date"),
};

/// Why a string is not an accepted date. Its `Display` is the message a field
/// error carries; [`DateError::code_of`] reads the code back from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("is not a date of the form YYYY-MM-DD")]
    Invalid,
    #[error("is outside the accepted range 1900-01-01 to 2100-12-31")]
    OutOfRange,
}

impl DateError {
    /// The stable problem code of this refusal.
    pub fn code(self) -> &'static str {
        match self {
            DateError::Invalid => "invalid_date",
            DateError::OutOfRange => "date_out_of_range",
        }
    }

    /// The code of a deserialization message produced by this module, if it is one.
    pub fn code_of(message: &str) -> Option<&'static str> {
        [DateError::Invalid, DateError::OutOfRange]
            .into_iter()
            .find(|e| message == e.to_string())
            .map(DateError::code)
    }
}

/// Parses `YYYY-MM-DD` (exactly ten characters, a real day) within the range.
pub fn parse(text: &str) -> Result<NaiveDate, DateError> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(DateError::Invalid);
    }
    let number = |range: std::ops::Range<usize>| -> u32 {
        text[range].parse().expect("checked to be digits")
    };
    let date = NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10))
        .ok_or(DateError::Invalid)?;
    if !(EARLIEST..=LATEST).contains(&date) {
        return Err(DateError::OutOfRange);
    }
    Ok(date)
}

/// Deserializes a required date with [`parse`].
pub fn strict<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// Deserializes an optional date with [`parse`] (`null` or absent is `None`;
/// use with `#[serde(default)]`).
pub fn strict_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<NaiveDate>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    text.map(|t| parse(&t).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ten_character_days_in_range_are_dates() {
        assert_eq!(
            parse("2026-01-31"),
            NaiveDate::from_ymd_opt(2026, 1, 31).ok_or(DateError::Invalid)
        );
        assert_eq!(parse("1900-01-01"), Ok(EARLIEST));
        assert_eq!(parse("2100-12-31"), Ok(LATEST));
        for bad in [
            "2026-1-1",
            "2026-01-1",
            "-4714-01-01",
            "+2026-01-01",
            "2026-02-30",
            "2026-13-01",
            "2026-01-01T00:00:00",
            " 2026-01-01",
            "2026/01/01",
            "",
            "２０２６-01-01",
        ] {
            assert_eq!(parse(bad), Err(DateError::Invalid), "{bad}");
        }
        for far in ["0000-01-01", "1899-12-31", "2101-01-01", "9999-12-31"] {
            assert_eq!(parse(far), Err(DateError::OutOfRange), "{far}");
        }
    }

    /// Every date field of a request type (a `Deserialize` struct of `http/`, not
    /// a `...Response`, and the rule document) is read by `strict`: a plain
    /// `NaiveDate` would accept `2026-1-1` and `0000-01-01` again.
    #[test]
    fn every_request_date_field_is_read_strictly() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files: Vec<_> = std::fs::read_dir(root.join("http"))
            .expect("src/http")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.push(root.join("rules/document.rs"));
        let mut loose = Vec::new();
        for file in files {
            let source = std::fs::read_to_string(&file).expect("source");
            let lines: Vec<&str> = source.lines().collect();
            let (mut derives, mut inside) = (false, false);
            for (i, line) in lines.iter().enumerate() {
                if line.starts_with("#[derive(") {
                    derives = line.contains("Deserialize");
                } else if let Some(rest) = line.strip_prefix("pub struct ") {
                    let name = rest.split([' ', '{', '<']).next().unwrap_or("");
                    inside = derives && !name.ends_with("Response") && name != "MergedPeriod";
                } else if line.starts_with('}') {
                    inside = false;
                } else if inside
                    && line.contains("NaiveDate")
                    && !lines[i - 1].contains("crate::date::strict")
                {
                    loose.push(format!("{}:{}", file.display(), i + 1));
                }
            }
        }
        assert!(
            loose.is_empty(),
            "date fields not read by date::strict: {loose:?}"
        );
    }

    #[test]
    fn a_message_gives_back_its_code() {
        assert_eq!(
            DateError::code_of(&DateError::Invalid.to_string()),
            Some("invalid_date")
        );
        assert_eq!(
            DateError::code_of(&DateError::OutOfRange.to_string()),
            Some("date_out_of_range")
        );
        assert_eq!(DateError::code_of("invalid type: integer"), None);
    }
}

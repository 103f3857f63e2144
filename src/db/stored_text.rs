//! Dates and times as diesel stores them on SQLite (text), read by hand on
//! the hot paths that read whole ledgers (exports, verification): diesel
//! tries up to 18 chrono formats per value; these read its own shape
//! directly and fall back to the same formats for any other.

use chrono::{NaiveDate, NaiveDateTime};

use crate::error::{AppError, AppResult};

/// A journal entry's row as the whole-ledger readers select it on SQLite
/// (id, sequence, effective date, recorded at, kind, memo, source type, source
/// id, created by, reverses, previous hash, hash), its date and time as the
/// stored text, read with [`stored_date`] and [`stored_time`] or their fast
/// forms.
pub(crate) type SqliteHeaderRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
);

/// `digits` ASCII digits read as a number, or `None`.
fn digits(s: &[u8]) -> Option<u32> {
    s.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + (b - b'0') as u32)
    })
}

/// A date as diesel stores it on SQLite (`%F`: `2026-01-31`).
pub(crate) fn fast_date(s: &[u8]) -> Option<NaiveDate> {
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&s[0..4])? as i32,
        digits(&s[5..7])?,
        digits(&s[8..10])?,
    )
}

/// A time as diesel stores it on SQLite (`%F %T%.f`: `2026-01-31 08:00:00`,
/// then a point and 1 to 9 digits of the second, or nothing).
pub(crate) fn fast_time(s: &[u8]) -> Option<NaiveDateTime> {
    if s.len() < 19 || s[10] != b' ' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let date = fast_date(&s[..10])?;
    let (hour, minute, second) = (
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    );
    let nanos = match &s[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            digits(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    date.and_hms_nano_opt(hour, minute, second, nanos)
}

/// A stored date, as diesel reads it: by hand when it has diesel's own shape.
pub(crate) fn stored_date(s: &str) -> AppResult<NaiveDate> {
    fast_date(s.as_bytes())
        .or_else(|| NaiveDate::parse_from_str(s, "%F").ok())
        .ok_or_else(|| AppError::internal(format!("stored date {s:?}")))
}

/// The formats diesel reads a SQLite timestamp in, after its own.
const TIME_FORMATS: [&str; 18] = [
    "%F %T%.f",
    "%F %T%.f%:z",
    "%F %T",
    "%F %T%:z",
    "%F %R",
    "%F %RZ",
    "%F %R%:z",
    "%F %TZ",
    "%F %T%.fZ",
    "%FT%R",
    "%FT%RZ",
    "%FT%R%:z",
    "%FT%T",
    "%FT%TZ",
    "%FT%T%:z",
    "%FT%T%.f",
    "%FT%T%.fZ",
    "%FT%T%.f%:z",
];

/// A stored time, as diesel reads it: by hand when it has diesel's own shape,
/// else in the formats diesel tries.
pub(crate) fn stored_time(s: &str) -> AppResult<NaiveDateTime> {
    fast_time(s.as_bytes())
        .or_else(|| {
            TIME_FORMATS
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        })
        .ok_or_else(|| AppError::internal(format!("stored time {s:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn stored_times_read_as_diesel_reads_them(days in 0i64..3_000_000, secs in 0u32..86_400, ns in 0u32..1_000_000_000, millis in any::<bool>()) {
            let date = NaiveDate::from_ymd_opt(1000, 1, 1).unwrap() + chrono::Days::new(days as u64 % 3_000_000);
            let ns = if millis { ns / 1_000_000 * 1_000_000 } else { ns };
            let t = date.and_hms_nano_opt(secs / 3600, secs / 60 % 60, secs % 60, ns).unwrap();
            // What diesel writes on SQLite.
            let stored = t.format("%F %T%.f").to_string();
            prop_assert_eq!(fast_time(stored.as_bytes()), Some(t));
            prop_assert_eq!(stored_time(&stored).unwrap(), t);
            let d = date.format("%F").to_string();
            prop_assert_eq!(fast_date(d.as_bytes()), Some(date));
        }
    }

    #[test]
    fn other_shapes_fall_back_to_the_formats_diesel_reads() {
        let t = NaiveDate::from_ymd_opt(2026, 1, 31)
            .unwrap()
            .and_hms_opt(8, 5, 0)
            .unwrap();
        for s in [
            "2026-01-31T08:05:00",
            "2026-01-31 08:05",
            "2026-01-31T08:05:00Z",
        ] {
            assert_eq!(fast_time(s.as_bytes()), None, "{s}");
            assert_eq!(stored_time(s).unwrap(), t, "{s}");
        }
        assert!(stored_time("yesterday").is_err());
        assert!(stored_date("2026-02-30").is_err());
    }
}

//! The service's clock: UTC, truncated to microseconds so that both databases
//! store exactly what the hash chain covered.

use chrono::{Datelike, NaiveDate, NaiveDateTime, SubsecRound, Timelike, Utc};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// RFC 3339 UTC with microseconds, as the API writes timestamps.
/// Written field by field: exports format millions of these, and chrono's
/// `format` parses its pattern on every call.
pub fn rfc3339(t: NaiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 1_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_the_chain_format() {
        for text in ["2026-02-01T09:30:00.000000Z", "0999-12-31T23:59:59.999999Z"] {
            let t = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.6fZ").unwrap();
            assert_eq!(rfc3339(t), text);
            assert_eq!(
                rfc3339(t),
                t.format(crate::ledger::chain::RECORDED_AT_FORMAT)
                    .to_string()
            );
        }
    }
}

//! The service's clock: UTC, truncated to microseconds so that both databases
//! store exactly what the hash chain covered.

use chrono::{NaiveDate, NaiveDateTime, SubsecRound, Utc};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// RFC 3339 UTC with microseconds, as the API writes timestamps.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

//! Hand-written formatting into a reusable byte buffer for the exports' hot
//! loop: integers, amounts in minor units, dates and times, JSON strings and
//! CSV cells, each byte for byte what the general-purpose path writes
//! (`i64::to_string`, [`format_minor`](crate::money::format_minor), chrono's
//! `Display`, [`rfc3339`](crate::time::rfc3339), `serde_json` and the `csv`
//! crate's writer with its defaults). The tests below check each against it.

use std::io::Write;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

/// `n` in decimal, at least `width` digits (zero-padded).
fn push_padded(buf: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(digits.len() - width.min(digits.len()));
    buf.extend_from_slice(&digits[start..]);
}

/// `n` as `n.to_string()` writes it.
pub(super) fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_padded(buf, n.unsigned_abs(), 1);
}

/// Minor units as the API's decimal string with `exponent` decimals, as
/// `format_minor` writes it: `150000`, 2 → `1500.00`; `-5`, 2 → `-0.05`;
/// `1500`, 0 → `1500`.
pub(super) fn push_minor(buf: &mut Vec<u8>, minor: i64, exponent: u32) {
    if minor < 0 {
        buf.push(b'-');
    }
    let exponent = exponent as usize;
    if exponent == 0 {
        push_padded(buf, minor.unsigned_abs(), 1);
        return;
    }
    // At least one digit before the point; the last `exponent` digits after it.
    push_padded(buf, minor.unsigned_abs(), exponent + 1);
    let point = buf.len() - exponent;
    buf.insert(point, b'.');
}

/// A date as chrono writes it (`2026-01-31`), which is how `serde` writes it too.
pub(super) fn push_date(buf: &mut Vec<u8>, d: NaiveDate) {
    let year = d.year();
    if (0..=9999).contains(&year) {
        push_padded(buf, year as u64, 4);
        buf.push(b'-');
        push_padded(buf, d.month() as u64, 2);
        buf.push(b'-');
        push_padded(buf, d.day() as u64, 2);
    } else {
        write!(buf, "{d}").expect("writing to a Vec");
    }
}

/// A time as [`crate::time::rfc3339`] writes it: `2026-01-31T08:00:00.000000Z`.
pub(super) fn push_rfc3339(buf: &mut Vec<u8>, t: NaiveDateTime) {
    if !(0..=9999).contains(&t.year()) {
        buf.extend_from_slice(crate::time::rfc3339(t).as_bytes());
        return;
    }
    push_date(buf, t.date());
    buf.push(b'T');
    push_padded(buf, t.hour() as u64, 2);
    buf.push(b':');
    push_padded(buf, t.minute() as u64, 2);
    buf.push(b':');
    push_padded(buf, t.second() as u64, 2);
    buf.push(b'.');
    push_padded(buf, (t.nanosecond() / 1_000) as u64, 6);
    buf.push(b'Z');
}

/// A JSON string as `serde_json` writes it: plain text is copied between
/// quotes; text with a quote, a backslash or a control character goes through
/// `serde_json` itself.
pub(super) fn push_json_str(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        serde_json::to_writer(&mut *buf, s).expect("writing a string to a Vec");
    }
}

/// An optional JSON string: `null` when absent.
pub(super) fn push_json_opt(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_json_str(buf, s),
        None => buf.extend_from_slice(b"null"),
    }
}

/// Whether the `csv` writer (its defaults: `,`, `"` doubled, `\n` records)
/// quotes a field holding these bytes.
fn csv_needs_quotes(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
}

/// A CSV field as the `csv` writer writes it: quoted (quotes doubled) only
/// when it holds a comma, a quote or a line break. Numbers go through here.
pub(super) fn push_csv(buf: &mut Vec<u8>, s: &str) {
    push_csv_prefixed(buf, false, s);
}

/// A text cell of a CSV export: [`super::csv_text`] (a leading `'` before
/// what a spreadsheet could read as a formula), then [`push_csv`].
pub(super) fn push_csv_text(buf: &mut Vec<u8>, s: &str) {
    push_csv_prefixed(buf, s.starts_with(['=', '+', '-', '@', '\t', '\r']), s);
}

fn push_csv_prefixed(buf: &mut Vec<u8>, apostrophe: bool, s: &str) {
    // A leading `'` never needs quotes itself, so whether the cell is quoted
    // depends on `s` alone.
    if !csv_needs_quotes(s) {
        if apostrophe {
            buf.push(b'\'');
        }
        buf.extend_from_slice(s.as_bytes());
        return;
    }
    buf.push(b'"');
    if apostrophe {
        buf.push(b'\'');
    }
    for part in s.split('"').enumerate() {
        if part.0 > 0 {
            buf.extend_from_slice(b"\"\"");
        }
        buf.extend_from_slice(part.1.as_bytes());
    }
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{format_minor, Currency};
    use proptest::prelude::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut buf = b"x".to_vec();
        f(&mut buf);
        String::from_utf8(buf[1..].to_vec()).unwrap()
    }

    /// What the `csv` crate writes for one field of a two-field record.
    fn csv_crate(s: &str) -> String {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        w.write_record([s, "z"]).unwrap();
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        out.strip_suffix(",z\n").unwrap().to_string()
    }

    #[test]
    fn edge_values_read_as_the_general_path_writes_them() {
        for n in [0, 1, -1, 9, 10, -10, 99_999, i64::MAX, i64::MIN] {
            assert_eq!(text(|b| push_i64(b, n)), n.to_string());
            for code in ["KES", "UGX", "KWD", "CLF"] {
                let c = Currency::parse(code).unwrap();
                let ours = text(|b| push_minor(b, n, c.exponent()));
                assert_eq!(ours, format_minor(n, c), "{n} {code}");
            }
        }
        for s in [
            "",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "cr\r",
            "-1",
            "=1+1",
            "'x",
            "é ü",
        ] {
            assert_eq!(text(|b| push_csv(b, s)), csv_crate(s), "{s:?}");
            let neutral = super::super::csv_text(s);
            assert_eq!(text(|b| push_csv_text(b, s)), csv_crate(&neutral), "{s:?}");
            assert_eq!(
                text(|b| push_json_str(b, s)),
                serde_json::to_string(s).unwrap()
            );
        }
        assert_eq!(text(|b| push_json_opt(b, None)), "null");
        for (y, m, d) in [
            (2026, 1, 31),
            (1, 2, 3),
            (0, 1, 1),
            (9999, 12, 31),
            (-1, 1, 1),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(text(|b| push_date(b, date)), date.to_string());
            assert_eq!(
                format!("\"{}\"", text(|b| push_date(b, date))),
                serde_json::to_string(&date).unwrap()
            );
            for (ns, h) in [(0, 0), (123_456_789, 23), (1_999_999_999, 23)] {
                let t = date.and_hms_nano_opt(h, 59, 59, ns).unwrap();
                assert_eq!(text(|b| push_rfc3339(b, t)), crate::time::rfc3339(t));
            }
        }
    }

    proptest! {
        #[test]
        fn numbers_and_amounts_match_the_general_path(n in any::<i64>(), e in 0u32..=4) {
            prop_assert_eq!(text(|b| push_i64(b, n)), n.to_string());
            let ours = text(|b| push_minor(b, n, e));
            prop_assert_eq!(ours, rust_decimal::Decimal::new(n, e).to_string());
        }

        #[test]
        fn strings_match_serde_json_and_the_csv_crate(s in any::<String>()) {
            prop_assert_eq!(text(|b| push_json_str(b, &s)), serde_json::to_string(&s).unwrap());
            prop_assert_eq!(text(|b| push_csv(b, &s)), csv_crate(&s));
            let neutral = super::super::csv_text(&s);
            prop_assert_eq!(text(|b| push_csv_text(b, &s)), csv_crate(&neutral));
        }

        #[test]
        fn ascii_punctuation_matches_too(s in "[\\x00-\\x7f]{0,12}") {
            prop_assert_eq!(text(|b| push_json_str(b, &s)), serde_json::to_string(&s).unwrap());
            prop_assert_eq!(text(|b| push_csv(b, &s)), csv_crate(&s));
            let neutral = super::super::csv_text(&s);
            prop_assert_eq!(text(|b| push_csv_text(b, &s)), csv_crate(&neutral));
        }

        #[test]
        fn dates_and_times_match_chrono_and_rfc3339(days in 0i64..4_000_000, secs in 0u32..86_400, ns in 0u32..1_000_000_000) {
            let date = NaiveDate::from_ymd_opt(-1000, 1, 1).unwrap() + chrono::Days::new(days as u64);
            prop_assert_eq!(text(|b| push_date(b, date)), date.to_string());
            let t = date.and_hms_nano_opt(secs / 3600, secs / 60 % 60, secs % 60, ns).unwrap();
            prop_assert_eq!(text(|b| push_rfc3339(b, t)), crate::time::rfc3339(t));
        }
    }
}

//! The per-fund hash chain.
//!
//! `hash = hex(SHA-256(previous_hash || canonical))`, where `previous_hash` is the
//! 64-character lowercase hex hash of the fund's previous entry (64 zeros for
//! the first) and `canonical` is the compact JSON object below, keys in this
//! order, strings escaped as JSON, amounts in integer minor units:
//!
//! ```text
//! {"fund":"KE-MWF","sequence":1,"id":"0193…","effective_date":"2026-01-31",
//!  "recorded_at":"2026-02-01T09:30:00.000000Z","kind":"adjustment","memo":"…",
//!  "source_type":null,"source_id":null,"created_by":"alice","reverses":null,
//!  "postings":[{"account":"1000","side":"debit","amount_minor":150000,"currency":"KES"},…]}
//! ```
//!
//! Anyone holding an export can recompute it with any SHA-256 and JSON library.

use std::io::Write;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::entries::EntryHeader;
use super::Side;
use crate::money::Currency;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Timestamp format inside the canonical form: RFC 3339 UTC, microseconds.
pub const RECORDED_AT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

#[derive(Debug, Serialize)]
pub struct CanonicalEntry<'a> {
    pub fund: &'a str,
    pub sequence: i64,
    pub id: &'a str,
    pub effective_date: String,
    pub recorded_at: String,
    pub kind: &'a str,
    pub memo: &'a str,
    pub source_type: Option<&'a str>,
    pub source_id: Option<&'a str>,
    pub created_by: &'a str,
    pub reverses: Option<&'a str>,
    pub postings: Vec<CanonicalPosting<'a>>,
}

#[derive(Debug, Serialize)]
pub struct CanonicalPosting<'a> {
    pub account: &'a str,
    pub side: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
}

/// The chained hash of `entry` after `previous_hash`.
pub fn entry_hash(previous_hash: &str, entry: &CanonicalEntry) -> String {
    let canonical = serde_json::to_vec(entry).expect("canonical entries serialise");
    let mut hasher = Sha256::new();
    hasher.update(previous_hash.as_bytes());
    hasher.update(&canonical);
    hex::encode(hasher.finalize())
}

/// The canonical form of a stored entry written straight into `out`, byte for
/// byte what `serde_json` writes for its [`CanonicalEntry`], without building
/// the entry's strings: verification hashes millions of entries.
pub(crate) fn write_canonical<'p>(
    out: &mut Vec<u8>,
    fund: &str,
    header: &EntryHeader,
    postings: impl Iterator<Item = (&'p str, Side, i64, Currency)>,
) {
    out.extend_from_slice(b"{\"fund\":");
    json_str(out, fund);
    out.extend_from_slice(b",\"sequence\":");
    json_i64(out, header.sequence);
    out.extend_from_slice(b",\"id\":");
    json_str(out, &header.id);
    out.extend_from_slice(b",\"effective_date\":\"");
    write_date(out, header.effective_date);
    out.extend_from_slice(b"\",\"recorded_at\":\"");
    write_recorded_at(out, header.recorded_at);
    out.extend_from_slice(b"\",\"kind\":");
    json_str(out, &header.kind);
    out.extend_from_slice(b",\"memo\":");
    json_str(out, &header.memo);
    out.extend_from_slice(b",\"source_type\":");
    json_opt_str(out, header.source_type.as_deref());
    out.extend_from_slice(b",\"source_id\":");
    json_opt_str(out, header.source_id.as_deref());
    out.extend_from_slice(b",\"created_by\":");
    json_str(out, &header.created_by);
    out.extend_from_slice(b",\"reverses\":");
    json_opt_str(out, header.reverses.as_deref());
    out.extend_from_slice(b",\"postings\":[");
    for (i, (account, side, amount_minor, currency)) in postings.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"account\":");
        json_str(out, account);
        out.extend_from_slice(b",\"side\":");
        json_str(out, side.as_str());
        out.extend_from_slice(b",\"amount_minor\":");
        json_i64(out, amount_minor);
        out.extend_from_slice(b",\"currency\":");
        json_str(out, currency.code());
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
}

/// The chained hash of a canonical form after `previous_hash`, as lowercase
/// hex in a fixed buffer (compared with the stored hash without allocating).
pub(crate) fn entry_hash_hex(previous_hash: &str, canonical: &[u8]) -> [u8; 64] {
    let mut hasher = Sha256::new();
    hasher.update(previous_hash.as_bytes());
    hasher.update(canonical);
    let mut hex = [0u8; 64];
    hex::encode_to_slice(hasher.finalize(), &mut hex).expect("64 hex digits for 32 bytes");
    hex
}

/// A JSON string as `serde_json` writes it: plain text is copied, anything
/// it escapes (quotes, backslashes, control characters) goes through it.
fn json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        serde_json::to_writer(&mut *out, s).expect("strings serialise");
    } else {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

fn json_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => json_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn json_i64(out: &mut Vec<u8>, n: i64) {
    let _ = write!(out, "{n}");
}

/// Digits of `n` zero-padded to `width` (`n` fits in it).
fn digits(out: &mut Vec<u8>, n: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(b'0' + (n / 10u32.pow(place) % 10) as u8);
    }
}

/// `NaiveDate`'s `Display` (`%Y-%m-%d`), field by field for years 0 to 9999.
fn write_date(out: &mut Vec<u8>, date: NaiveDate) {
    if (0..=9999).contains(&date.year()) {
        digits(out, date.year() as u32, 4);
        out.push(b'-');
        digits(out, date.month(), 2);
        out.push(b'-');
        digits(out, date.day(), 2);
    } else {
        let _ = write!(out, "{date}");
    }
}

/// [`RECORDED_AT_FORMAT`], field by field for years 0 to 9999 (chrono's
/// `format` parses its pattern on every call); a leap second is written as
/// chrono writes it (second 60).
fn write_recorded_at(out: &mut Vec<u8>, t: NaiveDateTime) {
    if !(0..=9999).contains(&t.year()) {
        let _ = write!(out, "{}", t.format(RECORDED_AT_FORMAT));
        return;
    }
    write_date(out, t.date());
    out.push(b'T');
    digits(out, t.hour(), 2);
    out.push(b':');
    digits(out, t.minute(), 2);
    out.push(b':');
    digits(out, t.second() + t.nanosecond() / 1_000_000_000, 2);
    out.push(b'.');
    digits(out, t.nanosecond() / 1_000 % 1_000_000, 6);
    out.push(b'Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(memo: &str, amount: i64) -> CanonicalEntry<'_> {
        CanonicalEntry {
            fund: "KE-MWF",
            sequence: 1,
            id: "0193a0d2-0000-7000-8000-000000000001",
            effective_date: "2026-01-31".into(),
            recorded_at: "2026-02-01T09:30:00.000000Z".into(),
            kind: "adjustment",
            memo,
            source_type: None,
            source_id: None,
            created_by: "alice",
            reverses: None,
            postings: vec![
                CanonicalPosting {
                    account: "1000",
                    side: "debit",
                    amount_minor: amount,
                    currency: "KES",
                },
                CanonicalPosting {
                    account: "3000",
                    side: "credit",
                    amount_minor: amount,
                    currency: "KES",
                },
            ],
        }
    }

    #[test]
    fn the_hash_matches_an_independent_computation() {
        // echo -n "$GENESIS$CANONICAL" | sha256sum, computed outside this code.
        let canonical = r#"{"fund":"KE-MWF","sequence":1,"id":"0193a0d2-0000-7000-8000-000000000001","effective_date":"2026-01-31","recorded_at":"2026-02-01T09:30:00.000000Z","kind":"adjustment","memo":"opening","source_type":null,"source_id":null,"created_by":"alice","reverses":null,"postings":[{"account":"1000","side":"debit","amount_minor":150000,"currency":"KES"},{"account":"3000","side":"credit","amount_minor":150000,"currency":"KES"}]}"#;
        assert_eq!(
            serde_json::to_string(&entry("opening", 150000)).unwrap(),
            canonical
        );
        let mut hasher = Sha256::new();
        hasher.update(format!("{GENESIS_HASH}{canonical}").as_bytes());
        assert_eq!(
            entry_hash(GENESIS_HASH, &entry("opening", 150000)),
            hex::encode(hasher.finalize())
        );
    }

    #[test]
    fn changing_any_amount_or_the_previous_hash_changes_the_hash() {
        let base = entry_hash(GENESIS_HASH, &entry("opening", 150000));
        assert_ne!(base, entry_hash(GENESIS_HASH, &entry("opening", 150001)));
        assert_ne!(base, entry_hash(GENESIS_HASH, &entry("opening ", 150000)));
        let other_previous = "1".repeat(64);
        assert_ne!(base, entry_hash(&other_previous, &entry("opening", 150000)));
        assert_eq!(base.len(), 64);
    }

    fn header(sequence: i64, memo: &str, recorded_at: NaiveDateTime) -> EntryHeader {
        EntryHeader {
            id: "0193a0d2-0000-7000-8000-000000000001".into(),
            sequence,
            effective_date: recorded_at.date(),
            recorded_at,
            kind: "adjustment".into(),
            memo: memo.into(),
            source_type: (sequence % 2 == 0).then(|| "claim".into()),
            source_id: (sequence % 2 == 0).then(|| "c\"1\\".into()),
            created_by: "alice".into(),
            reverses: None,
            previous_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn the_written_canonical_form_is_byte_for_byte_serde_jsons() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let times = [
            date(2026, 2, 1).and_hms_micro_opt(9, 30, 0, 0).unwrap(),
            date(2026, 12, 31)
                .and_hms_micro_opt(23, 59, 59, 999_999)
                .unwrap(),
            date(2016, 12, 31)
                .and_hms_micro_opt(23, 59, 59, 1_500_000)
                .unwrap(),
            date(1, 1, 1)
                .and_hms_nano_opt(0, 0, 7, 123_456_789)
                .unwrap(),
            date(12026, 5, 5).and_hms_opt(1, 2, 3).unwrap(),
            date(-44, 3, 15).and_hms_opt(1, 2, 3).unwrap(),
        ];
        let memos = [
            "plain",
            "",
            "quote \" and \\ backslash",
            "controls \u{1}\u{8}\t\n\r\u{c}\u{1f}\u{7f}",
            "unicode é ✓ 👍 / slash",
        ];
        let kes = Currency::parse("KES").unwrap();
        let usd = Currency::parse("USD").unwrap();
        for (i, t) in times.iter().enumerate() {
            for (j, memo) in memos.iter().enumerate() {
                let header = header((i * memos.len() + j) as i64 - 3, memo, *t);
                let postings = [
                    ("1000", Side::Debit, 150_000, kes),
                    ("3\"000", Side::Credit, -1, usd),
                    ("x", Side::Credit, i64::MIN, kes),
                ];
                let canonical = CanonicalEntry {
                    fund: "KE-MWF\n",
                    sequence: header.sequence,
                    id: &header.id,
                    effective_date: header.effective_date.to_string(),
                    recorded_at: header.recorded_at.format(RECORDED_AT_FORMAT).to_string(),
                    kind: &header.kind,
                    memo: &header.memo,
                    source_type: header.source_type.as_deref(),
                    source_id: header.source_id.as_deref(),
                    created_by: &header.created_by,
                    reverses: header.reverses.as_deref(),
                    postings: postings
                        .iter()
                        .map(|(account, side, amount_minor, currency)| CanonicalPosting {
                            account,
                            side: side.as_str(),
                            amount_minor: *amount_minor,
                            currency: currency.code(),
                        })
                        .collect(),
                };
                let mut written = Vec::new();
                write_canonical(&mut written, "KE-MWF\n", &header, postings.iter().copied());
                assert_eq!(
                    String::from_utf8(written.clone()).unwrap(),
                    serde_json::to_string(&canonical).unwrap()
                );
                let hex = entry_hash_hex(GENESIS_HASH, &written);
                assert_eq!(
                    std::str::from_utf8(&hex).unwrap(),
                    entry_hash(GENESIS_HASH, &canonical)
                );
            }
        }
    }

    #[test]
    fn a_chain_detects_a_change_in_an_earlier_entry() {
        let first = entry_hash(GENESIS_HASH, &entry("one", 100));
        let second = entry_hash(&first, &entry("two", 200));
        let tampered_first = entry_hash(GENESIS_HASH, &entry("one", 101));
        assert_ne!(second, entry_hash(&tampered_first, &entry("two", 200)));
    }
}

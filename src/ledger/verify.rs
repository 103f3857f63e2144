//! Ledger verification: recompute the hash chain, re-add every entry and compare
//! with the stored balances. Reports each problem with the entry or account it
//! concerns; never stops at the first.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::chain::{entry_hash, GENESIS_HASH};
use super::entries::{list_entries, totals_by_currency, EntryFilter};
use super::limits::{format_wide, within_account_limit, MAX_FUND_TOTAL_MINOR};
use super::{list_accounts, Account, Side};
use crate::db::schema::funds;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::progress::Progress;

/// Entries read per round trip while verifying; memory stays flat.
const VERIFY_CHUNK: i64 = 1_000;
/// Problems reported at most; a broken chain past that is summarised.
const MAX_PROBLEMS: usize = 1_000;

/// One disagreement found by verification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationProblem {
    /// `SEQUENCE_GAP`, `PREVIOUS_HASH_MISMATCH`, `HASH_MISMATCH`,
    /// `ENTRY_UNBALANCED`, `BALANCE_MISMATCH`, `CHAIN_HEAD_MISMATCH`, or
    /// `AMOUNT_LIMIT_EXCEEDED` (an account's postings or stored totals, or a
    /// currency's postings, add up past the ledger's limits).
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    pub fund: String,
    pub ok: bool,
    pub entries_checked: i64,
    /// The hash of the last entry (64 zeros when the ledger is empty).
    pub chain_head: String,
    pub problems: Vec<VerificationProblem>,
}

impl Verification {
    fn problem(
        &mut self,
        code: &str,
        entry: Option<(&str, i64)>,
        account: Option<&str>,
        detail: String,
    ) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(VerificationProblem {
                code: code.to_string(),
                entry_id: entry.map(|e| e.0.to_string()),
                sequence: entry.map(|e| e.1),
                account: account.map(str::to_string),
                detail,
            });
        }
    }
}

/// Verifies one fund's ledger, reading in chunks. Call it inside one read-only
/// snapshot (`db::read_snapshot`; every HTTP read runs in one), so that bookings
/// committing meanwhile neither tear the report nor wait for it.
pub fn verify_fund(conn: &mut DbConnection, fund_id: i64) -> AppResult<Verification> {
    verify_fund_showing(conn, fund_id, &mut Progress::hidden())
}

/// [`verify_fund`], counting entries on `progress` (for `mwf verify`).
pub fn verify_fund_showing(
    conn: &mut DbConnection,
    fund_id: i64,
    progress: &mut Progress,
) -> AppResult<Verification> {
    let (fund_code, stored_head, last_sequence): (String, String, i64) = funds::table
        .find(fund_id)
        .select((funds::code, funds::chain_head, funds::last_sequence))
        .first(conn)?;
    progress.set_total(last_sequence as u64);
    let mut report = Verification {
        fund: fund_code,
        ok: true,
        entries_checked: 0,
        chain_head: GENESIS_HASH.to_string(),
        problems: Vec::new(),
    };
    // Added in i128 from the postings themselves: no sum of stored amounts can
    // wrap, so an overflow is seen as a total past the limit, never as a match.
    let mut recomputed: HashMap<String, (i128, i128)> = HashMap::new();
    let mut expected_sequence = 1;
    let mut previous_stored = GENESIS_HASH.to_string();
    let mut after = 0;
    loop {
        let chunk = list_entries(
            conn,
            fund_id,
            &EntryFilter {
                after_sequence: Some(after),
                limit: VERIFY_CHUNK,
                ..EntryFilter::default()
            },
        )?;
        let Some(last) = chunk.last() else { break };
        after = last.sequence;
        progress.add(chunk.len() as u64);
        for entry in &chunk {
            let at = Some((entry.id.as_str(), entry.sequence));
            report.entries_checked += 1;
            if entry.sequence != expected_sequence {
                report.problem(
                    "SEQUENCE_GAP",
                    at,
                    None,
                    format!(
                        "expected sequence {expected_sequence}, found {}",
                        entry.sequence
                    ),
                );
            }
            expected_sequence = entry.sequence + 1;
            if entry.previous_hash != previous_stored {
                report.problem(
                    "PREVIOUS_HASH_MISMATCH",
                    at,
                    None,
                    "previous_hash is not the hash of the entry before it".to_string(),
                );
            }
            // Each entry is checked on its own (its contents against its stored hash)
            // and by its link to the entry before: an edit names exactly one entry.
            let hash = entry_hash(&entry.previous_hash, &entry.canonical());
            if hash != entry.hash {
                report.problem(
                    "HASH_MISMATCH",
                    at,
                    None,
                    format!("stored hash {} but its contents hash to {hash}", entry.hash),
                );
            }
            let totals = totals_by_currency(
                entry
                    .postings
                    .iter()
                    .map(|p| (p.side, p.amount_minor, p.currency)),
            );
            for (currency, (debits, credits)) in totals {
                if debits != credits {
                    report.problem(
                        "ENTRY_UNBALANCED",
                        at,
                        None,
                        format!("{currency}: debits {debits} ≠ credits {credits} (minor units)"),
                    );
                }
            }
            if entry.postings.len() < 2 {
                report.problem(
                    "ENTRY_UNBALANCED",
                    at,
                    None,
                    "fewer than two postings".to_string(),
                );
            }
            for p in &entry.postings {
                let t = recomputed.entry(p.account.clone()).or_default();
                match p.side {
                    Side::Debit => t.0 += p.amount_minor as i128,
                    Side::Credit => t.1 += p.amount_minor as i128,
                }
            }
            previous_stored = entry.hash.clone();
        }
    }
    if expected_sequence - 1 != last_sequence {
        report.problem(
            "SEQUENCE_GAP",
            None,
            None,
            format!(
                "the fund records {last_sequence} entries but the chain ends at {}",
                expected_sequence - 1
            ),
        );
    }
    if stored_head != previous_stored {
        report.problem(
            "CHAIN_HEAD_MISMATCH",
            None,
            None,
            format!("the fund's chain head {stored_head} is not the last entry's hash {previous_stored}"),
        );
    }
    report.chain_head = previous_stored;
    check_accounts(&mut report, &list_accounts(conn, fund_id)?, &recomputed);
    report.ok = report.problems.is_empty();
    Ok(report)
}

/// Compares each account's stored totals with its postings' and both with the
/// limits, and each currency's postings with the fund's limit.
fn check_accounts(
    report: &mut Verification,
    accounts: &[Account],
    recomputed: &HashMap<String, (i128, i128)>,
) {
    let mut per_currency: BTreeMap<_, i128> = BTreeMap::new();
    for account in accounts {
        let (debits, credits) = recomputed.get(&account.code).copied().unwrap_or_default();
        *per_currency.entry(account.currency).or_default() += debits;
        let stored = (account.debits_minor as i128, account.credits_minor as i128);
        let posted_within = within_account_limit(debits) && within_account_limit(credits);
        let stored_within = within_account_limit(stored.0) && within_account_limit(stored.1);
        if !posted_within || !stored_within {
            let whose = match (posted_within, stored_within) {
                (false, false) => "its postings and its stored totals",
                (false, true) => "its postings",
                _ => "its stored totals",
            };
            report.problem(
                "AMOUNT_LIMIT_EXCEEDED",
                None,
                Some(&account.code),
                format!(
                    "{whose} pass the limit of {} minor units per side: postings add up to debits {debits} / \
                     credits {credits}, stored debits {} / credits {}",
                    super::limits::MAX_ACCOUNT_TOTAL_MINOR,
                    account.debits_minor,
                    account.credits_minor
                ),
            );
        }
        if (debits, credits) != stored {
            report.problem(
                "BALANCE_MISMATCH",
                None,
                Some(&account.code),
                format!(
                    "stored debits {} / credits {} but the postings add up to {debits} / {credits} (minor units)",
                    account.debits_minor, account.credits_minor
                ),
            );
        }
    }
    for (currency, debits) in per_currency {
        if debits > MAX_FUND_TOTAL_MINOR as i128 {
            report.problem(
                "AMOUNT_LIMIT_EXCEEDED",
                None,
                None,
                format!(
                    "the fund's postings in {currency} add up to {} {currency} on each side, past the limit of {} {currency}",
                    format_wide(debits, currency),
                    format_wide(MAX_FUND_TOTAL_MINOR as i128, currency)
                ),
            );
        }
    }
}

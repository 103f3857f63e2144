//! Ledger verification: recompute the hash chain, re-add every entry and compare
//! with the stored balances. Reports each problem with the entry or account it
//! concerns; never stops at the first.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::chain::{entry_hash, GENESIS_HASH};
use super::entries::{totals_by_currency, JournalEntry};
use super::limits::{format_wide, within_account_limit, MAX_FUND_TOTAL_MINOR};
use super::reader::{EntryRange, EntryReader, StoredEntry};
use super::{list_accounts, Account, Side};
use crate::db::schema::{accounts, funds};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::funds::FundId;
use crate::progress::Progress;
use crate::reports::membership_summary::verify_membership_summary as verify_summary;

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
pub fn verify_fund(conn: &mut DbConnection, fund_id: FundId) -> AppResult<Verification> {
    verify_fund_showing(conn, fund_id, &mut Progress::hidden())
}

/// [`verify_fund`], counting entries on `progress` (for `mwf verify`).
pub fn verify_fund_showing(
    conn: &mut DbConnection,
    fund_id: FundId,
    progress: &mut Progress,
) -> AppResult<Verification> {
    let fund = FundHead::read(conn, fund_id)?;
    progress.set_total(fund.last_sequence as u64);
    let accounts = list_accounts(conn, fund_id)?;
    let mut codes = AccountCodes::of(&accounts);
    let mut report = Verification {
        fund: fund.code.clone(),
        ok: true,
        entries_checked: 0,
        chain_head: GENESIS_HASH.to_string(),
        problems: Vec::new(),
    };
    let mut walk = ChainWalk::new();
    let mut reader = EntryReader::new(fund_id, EntryRange::default());
    while let Some(page) = reader.next_page(conn)? {
        progress.add(page.len() as u64);
        for stored in page {
            let entry = codes.journal_entry(conn, &fund.code, stored)?;
            walk.check(&mut report, &entry);
        }
    }
    walk.check_end(&mut report, &fund);
    report.chain_head = walk.previous_hash;
    check_accounts(&mut report, &accounts, &walk.recomputed);
    report.problems.extend(verify_summary(conn, fund_id)?);
    report.ok = report.problems.is_empty();
    Ok(report)
}

/// What the fund row says of its chain: where it ends.
struct FundHead {
    code: String,
    chain_head: String,
    last_sequence: i64,
}

impl FundHead {
    fn read(conn: &mut DbConnection, fund_id: FundId) -> AppResult<FundHead> {
        let (code, chain_head, last_sequence): (String, String, i64) = funds::table
            .find(fund_id)
            .select((funds::code, funds::chain_head, funds::last_sequence))
            .first(conn)?;
        Ok(FundHead {
            code,
            chain_head,
            last_sequence,
        })
    }
}

/// Account codes by id, which an entry's hash covers: the fund's accounts,
/// and any other account a posting names (only an altered database holds
/// one), read when first met.
struct AccountCodes(HashMap<i64, String>);

impl AccountCodes {
    fn of(accounts: &[Account]) -> AccountCodes {
        AccountCodes(accounts.iter().map(|a| (a.id, a.code.clone())).collect())
    }

    fn code(&mut self, conn: &mut DbConnection, id: i64) -> AppResult<String> {
        if let Some(code) = self.0.get(&id) {
            return Ok(code.clone());
        }
        let code: String = accounts::table
            .find(id)
            .select(accounts::code)
            .first(conn)?;
        self.0.insert(id, code.clone());
        Ok(code)
    }

    /// The stored entry as the API shows it (its postings by account code),
    /// which is what its hash covers.
    fn journal_entry(
        &mut self,
        conn: &mut DbConnection,
        fund_code: &str,
        stored: StoredEntry,
    ) -> AppResult<JournalEntry> {
        let mut postings = Vec::with_capacity(stored.postings.len());
        for p in stored.postings {
            let code = self.code(conn, p.account_id)?;
            postings.push(p.with_account(code));
        }
        Ok(JournalEntry::from_header(
            stored.header,
            fund_code.to_string(),
            None,
            postings,
        ))
    }
}

/// What verification carries from one entry to the next.
struct ChainWalk {
    expected_sequence: i64,
    /// The stored hash of the entry before (64 zeros before the first).
    previous_hash: String,
    /// Each account's debits and credits, added in i128 from the postings
    /// themselves: no sum of stored amounts can wrap, so an overflow is seen
    /// as a total past the limit, never as a match.
    recomputed: HashMap<String, (i128, i128)>,
}

impl ChainWalk {
    fn new() -> ChainWalk {
        ChainWalk {
            expected_sequence: 1,
            previous_hash: GENESIS_HASH.to_string(),
            recomputed: HashMap::new(),
        }
    }

    /// Checks the entry's link to the one before and its own contents, and
    /// adds its postings.
    fn check(&mut self, report: &mut Verification, entry: &JournalEntry) {
        report.entries_checked += 1;
        self.check_link(report, entry);
        check_contents(report, entry);
        for p in &entry.postings {
            let t = self.recomputed.entry(p.account.clone()).or_default();
            match p.side {
                Side::Debit => t.0 += p.amount_minor as i128,
                Side::Credit => t.1 += p.amount_minor as i128,
            }
        }
        self.expected_sequence = entry.sequence + 1;
        self.previous_hash.clone_from(&entry.hash);
    }

    /// The entry's sequence follows the one before, and its `previous_hash`
    /// is that entry's stored hash.
    fn check_link(&self, report: &mut Verification, entry: &JournalEntry) {
        let at = Some((entry.id.as_str(), entry.sequence));
        if entry.sequence != self.expected_sequence {
            report.problem(
                "SEQUENCE_GAP",
                at,
                None,
                format!(
                    "expected sequence {}, found {}",
                    self.expected_sequence, entry.sequence
                ),
            );
        }
        if entry.previous_hash != self.previous_hash {
            report.problem(
                "PREVIOUS_HASH_MISMATCH",
                at,
                None,
                "previous_hash is not the hash of the entry before it".to_string(),
            );
        }
    }

    /// The chain ends where the fund row says: at its last sequence and its
    /// chain head.
    fn check_end(&self, report: &mut Verification, fund: &FundHead) {
        let last_sequence = fund.last_sequence;
        let chain_end = self.expected_sequence - 1;
        if chain_end != last_sequence {
            report.problem(
                "SEQUENCE_GAP",
                None,
                None,
                format!(
                    "the fund records {last_sequence} entries but the chain ends at {chain_end}"
                ),
            );
        }
        if fund.chain_head != self.previous_hash {
            report.problem(
                "CHAIN_HEAD_MISMATCH",
                None,
                None,
                format!(
                    "the fund's chain head {} is not the last entry's hash {}",
                    fund.chain_head, self.previous_hash
                ),
            );
        }
    }
}

/// The entry on its own: its contents hash to its stored hash (so an edit
/// names exactly one entry), and it has two postings or more that balance
/// per currency.
fn check_contents(report: &mut Verification, entry: &JournalEntry) {
    let at = Some((entry.id.as_str(), entry.sequence));
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

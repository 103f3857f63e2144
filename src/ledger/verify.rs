//! Ledger verification: recompute the hash chain, re-add every entry and compare
//! with the stored balances. Reports each problem with the entry or account it
//! concerns; never stops at the first.
//!
//! A verification that finds no problem may be recorded as a checkpoint
//! (`ledger::checkpoints`); a run [since the latest checkpoint](verify_fund_since_checkpoint)
//! walks only the entries after it, starting from the checkpoint's hash and
//! account totals.
//!
//! The walk reads pages of entries on one thread while it checks the page
//! before on another ([`read_ahead`]), and writes each entry's canonical form
//! into one reused buffer ([`write_canonical`]) instead of building it. Given
//! a pool with connections free ([`Helpers`]), a full run reads each page's
//! postings on a second connection while the next page's entries are read
//! ([`read_ahead_in_two`]), and checks the membership summary and the
//! contribution months on a third meanwhile, each in a read snapshot of its
//! own: entries never change, so the postings read later are those of the
//! entries read in the run's snapshot, and each summary is compared with the
//! records of its own snapshot.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::chain::{entry_hash_hex, write_canonical, GENESIS_HASH};
use super::checkpoints::{self, VerificationCheckpoint};
use super::entries::totals_by_currency;
use super::limits::{format_wide, within_account_limit, MAX_FUND_TOTAL_MINOR};
use super::pages::{HeaderReader, PostingReader, StoredEntry};
use super::reader::{read_ahead, read_ahead_in_two, EntryRange};
use super::{list_accounts, Account, Side};
use crate::db::schema::{account_daily_totals, accounts, funds};
use crate::db::{DbConnection, DbPool, PooledDb, SqliteCache};
use crate::error::{AppError, AppResult};
use crate::funds::FundId;
use crate::money::Currency;
use crate::progress::Progress;
use crate::reports::membership_summary::verify_membership_summary as verify_summary;

/// Problems reported at most; a broken chain past that is summarised.
const MAX_PROBLEMS: usize = 1_000;

/// One disagreement found by verification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationProblem {
    /// `SEQUENCE_GAP`, `PREVIOUS_HASH_MISMATCH`, `HASH_MISMATCH`,
    /// `ENTRY_UNBALANCED`, `BALANCE_MISMATCH`, `CHAIN_HEAD_MISMATCH`,
    /// `AMOUNT_LIMIT_EXCEEDED` (an account's postings or stored totals, or a
    /// currency's postings, add up past the ledger's limits),
    /// `SUMMARY_MISMATCH` (a summary kept beside the records disagrees with
    /// them: an account's daily totals with its postings of that day, the
    /// membership counters and coverage segments with the contributions and
    /// contracts, or a month's contributions by currency and payer type with
    /// the contributions; checked on full runs), or
    /// `CHECKPOINT_MISMATCH` (a run since a checkpoint found the entry at the
    /// checkpoint's sequence no longer has the checkpoint's hash; it then
    /// verified the whole chain instead).
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
    /// The entries this run walked: all of them on a full run, those after
    /// the checkpoint on a run since one.
    pub entries_checked: i64,
    /// The first sequence this run walked: 1 on a full run, the checkpoint's
    /// sequence + 1 on a run since a checkpoint.
    pub from_sequence: i64,
    /// The checkpoint this run started from (its hash and account totals
    /// taken as verified); null on a full run, including a run since a
    /// checkpoint that fell back to the whole chain.
    pub checkpoint: Option<VerificationCheckpoint>,
    /// The hash of the last entry (64 zeros when the ledger is empty).
    pub chain_head: String,
    pub problems: Vec<VerificationProblem>,
    /// The last sequence the chain walk reached.
    #[serde(skip)]
    pub(super) last_sequence: i64,
    /// Each account's debits and credits re-added up to `last_sequence`, by
    /// account id (what a checkpoint keeps).
    #[serde(skip)]
    pub(super) account_totals: Vec<(i64, i128, i128)>,
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

/// Where a verification may read besides the connection it is given:
/// connections of a pool, taken when the run starts (a pool with room opens
/// them). A pool that has none to give within [`HELPER_WAIT`] is not waited
/// for longer: the run then reads on its own connection, as with
/// [`Helpers::NONE`].
#[derive(Clone, Copy)]
pub struct Helpers<'a>(pub Option<&'a DbPool>);

/// How long a verification waits for each helper connection.
const HELPER_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

impl Helpers<'_> {
    pub const NONE: Helpers<'static> = Helpers(None);

    fn take(&self) -> Option<PooledDb> {
        self.0.and_then(|pool| pool.get_timeout(HELPER_WAIT).ok())
    }
}

/// Verifies one fund's ledger, reading in chunks on `conn` alone. Call it
/// inside one read-only snapshot (`db::read_snapshot`; every HTTP read runs
/// in one), so that bookings committing meanwhile neither tear the report nor
/// wait for it.
pub fn verify_fund(conn: &mut DbConnection, fund_id: FundId) -> AppResult<Verification> {
    verify_fund_showing(conn, Helpers::NONE, fund_id, &mut Progress::hidden())
}

/// [`verify_fund`], reading on `helpers` too and counting entries on
/// `progress` (for `mwf verify`).
pub fn verify_fund_showing(
    conn: &mut DbConnection,
    helpers: Helpers<'_>,
    fund_id: FundId,
    progress: &mut Progress,
) -> AppResult<Verification> {
    verify_fund_from(conn, helpers, fund_id, false, progress)
}

/// Verifies only the entries after the fund's latest checkpoint (the one of
/// the highest sequence): first that the entry at the checkpoint's sequence
/// still has the checkpoint's hash, then the chain from there, each later
/// entry's contents, and every account's stored totals against the
/// checkpoint's totals plus the later postings. Entries before the checkpoint
/// are taken as verified: an edit to them is seen only by a full run. When
/// the checkpoint's entry no longer has its hash, it reports
/// `CHECKPOINT_MISMATCH` and verifies the whole chain instead; without a
/// checkpoint it is a full run. Call inside one read snapshot.
pub fn verify_fund_since_checkpoint(
    conn: &mut DbConnection,
    helpers: Helpers<'_>,
    fund_id: FundId,
    progress: &mut Progress,
) -> AppResult<Verification> {
    verify_fund_from(conn, helpers, fund_id, true, progress)
}

fn verify_fund_from(
    conn: &mut DbConnection,
    helpers: Helpers<'_>,
    fund_id: FundId,
    since_checkpoint: bool,
    progress: &mut Progress,
) -> AppResult<Verification> {
    crate::db::with_sqlite_cache(conn, WIDE_READS, |conn| {
        verify_fund_reading(conn, helpers, fund_id, since_checkpoint, progress)
    })
}

/// What a verification reads SQLite with: a page of entries is read twice
/// (entries, then their postings joined to them), 2.5 MB of rows, more than
/// SQLite's default 2 MB cache, so each page came from the file twice;
/// mapping the file spares a copy of each page read.
const WIDE_READS: SqliteCache = SqliteCache {
    cache_size: -65_536,
    mmap_size: 1 << 30,
    temp_store: 0,
};

/// [`verify_fund_from`] on a connection set up for it. A full run takes two
/// helper connections, one for the walk's postings, one for the summaries;
/// a run since a checkpoint, as short as what is new, waits for none.
fn verify_fund_reading(
    conn: &mut DbConnection,
    helpers: Helpers<'_>,
    fund_id: FundId,
    since_checkpoint: bool,
    progress: &mut Progress,
) -> AppResult<Verification> {
    let fund = FundHead::read(conn, fund_id)?;
    let accounts = list_accounts(conn, fund_id)?;
    let mut report = Verification {
        fund: fund.code.clone(),
        ok: true,
        entries_checked: 0,
        from_sequence: 1,
        checkpoint: None,
        chain_head: GENESIS_HASH.to_string(),
        problems: Vec::new(),
        last_sequence: 0,
        account_totals: Vec::new(),
    };
    let mut walk = ChainWalk::new(fund.code.clone(), &accounts);
    if since_checkpoint {
        if let Some(checkpoint) = checkpoints::latest(conn, fund_id)? {
            start_at_checkpoint(conn, fund_id, &mut report, &mut walk, checkpoint)?;
        }
    }
    progress.set_total((fund.last_sequence - walk.expected_sequence + 1).max(0) as u64);
    // The summaries are compared with all the records on a full run only: a
    // nightly run since a checkpoint stays as short as what is new.
    let full = report.checkpoint.is_none();
    let (mut postings_conn, summaries_conn) = if full {
        (helpers.take(), helpers.take())
    } else {
        (None, None)
    };
    std::thread::scope(|scope| -> AppResult<()> {
        let apart = summaries_conn.map(|mut helper| {
            scope.spawn(move || {
                crate::db::read_snapshot(&mut helper, |helper| {
                    crate::db::with_sqlite_cache(helper, WIDE_READS, |helper| {
                        check_summaries(helper, fund_id)
                    })
                })
            })
        });
        match postings_conn.as_deref_mut() {
            Some(helper) => crate::db::with_sqlite_cache(helper, WIDE_READS, |helper| {
                walk.walk(conn, Some(helper), fund_id, &mut report, progress)
            })?,
            None => walk.walk(conn, None, fund_id, &mut report, progress)?,
        }
        walk.check_end(&mut report, &fund);
        report.last_sequence = walk.expected_sequence - 1;
        report.chain_head = walk.previous_hash.clone();
        check_accounts(&mut report, &accounts, &walk.recomputed);
        report.account_totals = walk
            .recomputed
            .iter()
            .map(|(id, (debits, credits))| (*id, *debits, *credits))
            .collect();
        report.account_totals.sort_unstable();
        if full {
            let daily = std::mem::take(&mut walk.daily);
            check_daily_totals(conn, &mut report, fund_id, &accounts, daily)?;
            let summaries = match apart {
                Some(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
                None => check_summaries(conn, fund_id)?,
            };
            report.problems.extend(summaries);
        }
        Ok(())
    })?;
    report.ok = report.problems.is_empty();
    Ok(report)
}

/// What the summaries kept beside the records say against the records: the
/// membership summary, then the contribution months.
fn check_summaries(
    conn: &mut DbConnection,
    fund_id: FundId,
) -> AppResult<Vec<VerificationProblem>> {
    let mut problems = verify_summary(conn, fund_id)?;
    problems.extend(crate::reports::contribution_months::verify(conn, fund_id)?);
    Ok(problems)
}

/// Starts the walk after `checkpoint` when the entry at its sequence still
/// has its hash; otherwise reports `CHECKPOINT_MISMATCH` and leaves the walk
/// at the start of the chain.
fn start_at_checkpoint(
    conn: &mut DbConnection,
    fund_id: FundId,
    report: &mut Verification,
    walk: &mut ChainWalk,
    checkpoint: VerificationCheckpoint,
) -> AppResult<()> {
    let stored = checkpoints::entry_at(conn, fund_id, checkpoint.sequence)?;
    let holds = match &stored {
        Some((_, hash)) => *hash == checkpoint.hash,
        None => checkpoint.sequence == 0 && checkpoint.hash == GENESIS_HASH,
    };
    if !holds {
        let detail = match &stored {
            Some((_, hash)) => format!(
                "checkpoint {} verified entry #{} with hash {}, it now has hash {hash}; \
                 the whole chain was verified instead",
                checkpoint.id, checkpoint.sequence, checkpoint.hash
            ),
            None => format!(
                "checkpoint {} verified entry #{} with hash {}, there is no such entry now; \
                 the whole chain was verified instead",
                checkpoint.id, checkpoint.sequence, checkpoint.hash
            ),
        };
        let at = stored
            .as_ref()
            .map(|(id, _)| (id.as_str(), checkpoint.sequence));
        report.problem("CHECKPOINT_MISMATCH", at, None, detail);
        return Ok(());
    }
    for (account_id, debits, credits) in checkpoints::totals(conn, checkpoint.id)? {
        walk.recomputed
            .insert(account_id, (debits as i128, credits as i128));
    }
    walk.expected_sequence = checkpoint.sequence + 1;
    walk.previous_hash.clone_from(&checkpoint.hash);
    report.from_sequence = checkpoint.sequence + 1;
    report.checkpoint = Some(checkpoint);
    Ok(())
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

/// A page of entries and the codes of accounts its postings name that were
/// not known before (only an altered database holds any).
type Page = (Vec<StoredEntry>, Vec<(i64, String)>);

/// What verification carries from one entry to the next.
struct ChainWalk {
    fund_code: String,
    /// Account codes by id, which an entry's hash covers: the fund's
    /// accounts, and any other account a posting names, read when first met.
    codes: HashMap<i64, String>,
    expected_sequence: i64,
    /// The stored hash of the entry before (64 zeros before the first).
    previous_hash: String,
    /// Each account's debits and credits by account id, added in i128 from
    /// the postings themselves: no sum of stored amounts can wrap, so an
    /// overflow is seen as a total past the limit, never as a match.
    recomputed: HashMap<i64, (i128, i128)>,
    /// Each account's debits and credits of each day, by account id and the
    /// postings' effective date, added from the postings the walk reads (what
    /// a full run compares `account_daily_totals` with): a few thousand
    /// days × accounts, however many entries.
    daily: HashMap<(i64, NaiveDate), (i128, i128)>,
    /// The canonical form of the entry being hashed (reused).
    canonical: Vec<u8>,
}

impl ChainWalk {
    fn new(fund_code: String, accounts: &[Account]) -> ChainWalk {
        ChainWalk {
            fund_code,
            codes: accounts.iter().map(|a| (a.id, a.code.clone())).collect(),
            expected_sequence: 1,
            previous_hash: GENESIS_HASH.to_string(),
            recomputed: HashMap::new(),
            daily: HashMap::new(),
            canonical: Vec::with_capacity(1024),
        }
    }

    /// Walks the entries after the expected sequence: pages are read on a
    /// second thread (which also reads the codes of accounts not met
    /// before) while this one checks the page before; with a `helper`
    /// connection, each page's postings on a third while the next page's
    /// entries are read.
    fn walk(
        &mut self,
        conn: &mut DbConnection,
        helper: Option<&mut DbConnection>,
        fund_id: FundId,
        report: &mut Verification,
        progress: &mut Progress,
    ) -> AppResult<()> {
        let range = EntryRange {
            after: Some(self.expected_sequence - 1).filter(|after| *after > 0),
            ..EntryRange::default()
        };
        let mut headers = HeaderReader::new(fund_id, range);
        let mut postings = PostingReader::new(fund_id);
        let mut known: HashSet<i64> = self.codes.keys().copied().collect();
        let consume = |(page, new_codes): Page| -> AppResult<()> {
            self.codes.extend(new_codes);
            progress.add(page.len() as u64);
            for entry in &page {
                self.check(report, entry)?;
            }
            Ok(())
        };
        match helper {
            None => read_ahead(
                || -> AppResult<Option<Page>> {
                    let Some(page) = headers.next_page(conn)? else {
                        return Ok(None);
                    };
                    let page = postings.attach(conn, page)?;
                    let new_codes = codes_not_known(conn, &mut known, &page)?;
                    Ok(Some((page, new_codes)))
                },
                consume,
            ),
            Some(helper) => read_ahead_in_two(
                || headers.next_page(conn),
                |page| -> AppResult<Page> {
                    let page = postings.attach(helper, page)?;
                    let new_codes = codes_not_known(helper, &mut known, &page)?;
                    Ok((page, new_codes))
                },
                consume,
            ),
        }
    }

    /// Checks the entry's link to the one before and its own contents, and
    /// adds its postings.
    fn check(&mut self, report: &mut Verification, entry: &StoredEntry) -> AppResult<()> {
        report.entries_checked += 1;
        self.check_link(report, entry);
        self.check_contents(report, entry)?;
        for p in &entry.postings {
            let amount = p.amount_minor as i128;
            let t = self.recomputed.entry(p.account_id).or_default();
            let d = self
                .daily
                .entry((p.account_id, p.effective_date))
                .or_default();
            match p.side {
                Side::Debit => (t.0 += amount, d.0 += amount),
                Side::Credit => (t.1 += amount, d.1 += amount),
            };
        }
        self.expected_sequence = entry.header.sequence + 1;
        self.previous_hash.clone_from(&entry.header.hash);
        Ok(())
    }

    /// The entry's sequence follows the one before, and its `previous_hash`
    /// is that entry's stored hash.
    fn check_link(&self, report: &mut Verification, entry: &StoredEntry) {
        let header = &entry.header;
        let at = Some((header.id.as_str(), header.sequence));
        if header.sequence != self.expected_sequence {
            report.problem(
                "SEQUENCE_GAP",
                at,
                None,
                format!(
                    "expected sequence {}, found {}",
                    self.expected_sequence, header.sequence
                ),
            );
        }
        if header.previous_hash != self.previous_hash {
            report.problem(
                "PREVIOUS_HASH_MISMATCH",
                at,
                None,
                "previous_hash is not the hash of the entry before it".to_string(),
            );
        }
    }

    /// The entry on its own: its contents (postings by account code, as the
    /// API shows them) hash to its stored hash, so an edit names exactly one
    /// entry, and it has two postings or more that balance per currency.
    fn check_contents(&mut self, report: &mut Verification, entry: &StoredEntry) -> AppResult<()> {
        let header = &entry.header;
        let at = Some((header.id.as_str(), header.sequence));
        if let Some(p) = entry
            .postings
            .iter()
            .find(|p| !self.codes.contains_key(&p.account_id))
        {
            return Err(AppError::internal(format!(
                "no code read for account {}",
                p.account_id
            )));
        }
        let codes = &self.codes;
        self.canonical.clear();
        write_canonical(
            &mut self.canonical,
            &self.fund_code,
            header,
            entry.postings.iter().map(|p| {
                let code = codes[&p.account_id].as_str();
                (code, p.side, p.amount_minor, p.currency)
            }),
        );
        let hash = entry_hash_hex(&header.previous_hash, &self.canonical);
        if hash != header.hash.as_bytes() {
            let hash = String::from_utf8_lossy(&hash);
            report.problem(
                "HASH_MISMATCH",
                at,
                None,
                format!(
                    "stored hash {} but its contents hash to {hash}",
                    header.hash
                ),
            );
        }
        for (currency, (debits, credits)) in entry_totals(entry) {
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
        Ok(())
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

/// The codes of the accounts the postings of `page` name that are not in
/// `known` (only an altered database has any), added to it.
fn codes_not_known(
    conn: &mut DbConnection,
    known: &mut HashSet<i64>,
    page: &[StoredEntry],
) -> AppResult<Vec<(i64, String)>> {
    let mut new_codes = Vec::new();
    for p in page.iter().flat_map(|e| &e.postings) {
        if known.insert(p.account_id) {
            let code: String = accounts::table
                .find(p.account_id)
                .select(accounts::code)
                .first(conn)?;
            new_codes.push((p.account_id, code));
        }
    }
    Ok(new_codes)
}

/// The entry's debits and credits per currency: added without a map when
/// all its postings share one currency (almost every entry).
fn entry_totals(entry: &StoredEntry) -> Vec<(Currency, (i128, i128))> {
    let postings = &entry.postings;
    let Some(first) = postings.first().map(|p| p.currency) else {
        return Vec::new();
    };
    if postings.iter().all(|p| p.currency == first) {
        let mut totals = (0i128, 0i128);
        for p in postings {
            match p.side {
                Side::Debit => totals.0 += p.amount_minor as i128,
                Side::Credit => totals.1 += p.amount_minor as i128,
            }
        }
        return vec![(first, totals)];
    }
    totals_by_currency(
        postings
            .iter()
            .map(|p| (p.side, p.amount_minor, p.currency)),
    )
    .into_iter()
    .collect()
}

/// Compares each account's stored totals with its postings' and both with the
/// limits, and each currency's postings with the fund's limit.
fn check_accounts(
    report: &mut Verification,
    accounts: &[Account],
    recomputed: &HashMap<i64, (i128, i128)>,
) {
    let mut per_currency: BTreeMap<_, i128> = BTreeMap::new();
    for account in accounts {
        let (debits, credits) = recomputed.get(&account.id).copied().unwrap_or_default();
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

/// Compares `account_daily_totals` with the postings, both ways: each (account,
/// day) of the fund's postings, summed by the chain walk as it read them
/// (`recomputed`), must have a stored row with the same debits and credits,
/// and each stored row must have postings (the Booking writes a row only for a
/// day with postings, so a row of zeros is a mismatch too). Each disagreement
/// is a `SUMMARY_MISMATCH` naming the account and the day.
fn check_daily_totals(
    conn: &mut DbConnection,
    report: &mut Verification,
    fund_id: FundId,
    accounts: &[Account],
    mut recomputed: HashMap<(i64, NaiveDate), (i128, i128)>,
) -> AppResult<()> {
    let stored: Vec<(i64, NaiveDate, i64, i64)> = account_daily_totals::table
        .inner_join(accounts::table)
        .filter(accounts::fund_id.eq(fund_id))
        .select((
            account_daily_totals::account_id,
            account_daily_totals::day,
            account_daily_totals::debits_minor,
            account_daily_totals::credits_minor,
        ))
        .load(conn)?;
    let codes: HashMap<i64, &str> = accounts.iter().map(|a| (a.id, a.code.as_str())).collect();
    let code = |id: i64| codes.get(&id).copied().unwrap_or("?").to_string();
    for (account_id, day, debits, credits) in stored {
        let stored = (debits as i128, credits as i128);
        let posted = recomputed.remove(&(account_id, day));
        if posted == Some(stored) {
            continue;
        }
        let account = code(account_id);
        let (posted_debits, posted_credits) = posted.unwrap_or_default();
        report.problem(
            "SUMMARY_MISMATCH",
            None,
            Some(&account),
            format!(
                "account {account} on {day}: daily totals debits {debits} / credits {credits} but \
                 the postings of that day add up to {posted_debits} / {posted_credits} (minor units)"
            ),
        );
    }
    let mut unstored: Vec<_> = recomputed.into_iter().collect();
    unstored.sort_unstable();
    for ((account_id, day), (debits, credits)) in unstored {
        let account = code(account_id);
        report.problem(
            "SUMMARY_MISMATCH",
            None,
            Some(&account),
            format!(
                "account {account} on {day}: no daily totals, but the postings of that day add up \
                 to debits {debits} / credits {credits} (minor units)"
            ),
        );
    }
    Ok(())
}

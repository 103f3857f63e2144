//! Ledger exports for auditors, streamed: entries are read a page at a time in
//! sequence order and written straight to the output, so memory stays flat
//! however large the ledger.
//!
//! An export is made in two steps: [`prepare`] checks the request and reads, in
//! one read snapshot, what frames the entries (accounts, opening and closing
//! balances, the chain head, where the page ends) — a refusal here is still a
//! clean 4xx; then [`write`] streams the entries and the closing records. The
//! entries are bounded by the chain head's sequence read in `prepare`: entries
//! are append-only, so every read after it sees exactly the entries up to that
//! sequence, and [`write_pooled`] reads each page in its own short read with a
//! connection taken from the pool for that page only (a slow client never holds
//! one). Pages are read on a second thread while the page before is written
//! ([`crate::ledger::read_ahead`]), into lean rows (the ledger's whole-ledger
//! reader, `src/ledger/pages.rs`), and each entry is written by hand into one
//! buffer handed to the output in large pieces (`bytes.rs`), byte for byte what
//! the general formatters would write. Every format carries each entry's
//! sequence, hash and previous hash, the fund's chain head, and closing balances
//! equal to the API's to the minor unit: CSV and JSON Lines as records, beancount
//! and hledger as balance assertions that their own checkers enforce.

mod audit;
mod beancount;
mod bytes;
mod csv;
mod hledger;
mod journal;
mod jsonl;

pub use audit::{write_audit_log, AuditFormat};

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

use chrono::{Days, NaiveDate, NaiveDateTime};

use crate::db::{DbConnection, DbPool};
use crate::error::{AppError, AppResult};
use crate::funds::{Fund, FundId};
use crate::ledger::{self, Account, AccountType, EntryRange};
use crate::ledger::{HeaderReader, PageReader, PostingReader, StoredEntry as Entry};
use crate::progress::Progress;

/// The formats a ledger can be exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerFormat {
    Csv,
    Jsonl,
    Beancount,
    Hledger,
}

impl LedgerFormat {
    pub const ALL: &'static [(&'static str, LedgerFormat)] = &[
        ("csv", LedgerFormat::Csv),
        ("jsonl", LedgerFormat::Jsonl),
        ("beancount", LedgerFormat::Beancount),
        ("hledger", LedgerFormat::Hledger),
    ];

    pub fn parse(s: &str) -> Option<LedgerFormat> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, f)| *f)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            LedgerFormat::Csv => "text/csv; charset=utf-8",
            LedgerFormat::Jsonl => "application/jsonl; charset=utf-8",
            LedgerFormat::Beancount | LedgerFormat::Hledger => "text/plain; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            LedgerFormat::Csv => "csv",
            LedgerFormat::Jsonl => "jsonl",
            LedgerFormat::Beancount => "beancount",
            LedgerFormat::Hledger => "journal",
        }
    }

    /// Whether the format may be cut into pages: the plain-text journals carry
    /// balance assertions that only hold over a whole date range.
    pub fn pageable(self) -> bool {
        matches!(self, LedgerFormat::Csv | LedgerFormat::Jsonl)
    }
}

/// What to export: entries with an effective date from `from` to `to`
/// (inclusive; open ends when absent), in sequence order, optionally one page
/// of at most `limit` entries after sequence `after`.
#[derive(Debug, Clone)]
pub struct LedgerExportRequest {
    pub format: LedgerFormat,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

/// A balance at a date: debits and credits posted up to its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub debits_minor: i64,
    pub credits_minor: i64,
}

impl Totals {
    /// Debits less credits, the sign both journal tools give a balance. The
    /// totals lie within the ledger's limits, so this cannot overflow (it
    /// asserts so; see `ledger::limits`).
    pub fn debits_less_credits(self) -> i64 {
        AccountType::Asset.balance(self.debits_minor, self.credits_minor)
    }
}

/// Balances at the end of `date`: each account's debits and credits posted up
/// to it, by account id.
#[derive(Debug, Clone)]
pub struct BalancesAt {
    pub date: NaiveDate,
    totals: HashMap<i64, Totals>,
}

/// Everything that frames an export, read in the same snapshot as its entries.
pub struct LedgerExport {
    pub request: LedgerExportRequest,
    pub fund: Fund,
    pub generated_at: NaiveDateTime,
    /// The fund's accounts in code order, and their position by id.
    pub accounts: Vec<Account>,
    account_index: HashMap<i64, usize>,
    /// Names of the accounts in the plain-text journals, by id.
    pub journal_names: HashMap<i64, String>,
    /// The fund's last sequence and chain head when the export was made.
    pub chain_sequence: i64,
    pub chain_head: String,
    /// Balances at the end of the day before `from`, when this is the first
    /// page and `from` is given.
    pub opening: Option<BalancesAt>,
    /// Balances at the date they are asserted at (the end of `to`, or of the
    /// last effective date), when this is the last page.
    pub closing: Option<BalancesAt>,
    /// The earliest effective date in the export (where accounts open).
    pub first_date: NaiveDate,
    /// The last sequence of this page when there is another page.
    pub page_end: Option<i64>,
    /// Whether the entries are on PostgreSQL, where [`write_pooled`] reads a
    /// page's entries and the page before's postings at once.
    on_postgres: bool,
}

impl LedgerExport {
    pub fn account(&self, id: i64) -> &Account {
        &self.accounts[self.account_index[&id]]
    }

    pub fn journal_name(&self, id: i64) -> &str {
        &self.journal_names[&id]
    }

    /// The `after` of the next page, if there is one.
    pub fn next_after(&self) -> Option<i64> {
        self.page_end
    }

    /// Every account in code order with its totals in `balances` (zero when
    /// nothing was posted to it): what each format's balance records list.
    fn account_balances<'a>(
        &'a self,
        balances: &'a BalancesAt,
    ) -> impl Iterator<Item = (&'a Account, Totals)> + 'a {
        self.accounts.iter().map(|a| {
            let totals = balances.totals.get(&a.id).copied().unwrap_or_default();
            (a, totals)
        })
    }

    /// The entries this export (or page) holds: up to the end of the page,
    /// or the chain head's sequence when the export was prepared (entries
    /// booked since are not part of it, whenever its pages are read).
    fn entry_range(&self) -> EntryRange {
        EntryRange {
            from: self.request.from,
            to: self.request.to,
            after: self.request.after,
            through: Some(self.page_end.unwrap_or(self.chain_sequence)),
        }
    }
}

/// Counts of what an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub entries: u64,
    pub postings: u64,
    pub last_sequence: Option<i64>,
}

/// One output format: a header, each entry, and the closing records, each
/// appended to the export's buffer (which [`write_pages`] hands to the output
/// in large pieces).
trait LedgerWriter {
    fn begin(&mut self, x: &LedgerExport, out: &mut Vec<u8>) -> io::Result<()>;
    fn entry(&mut self, x: &LedgerExport, e: &Entry, out: &mut Vec<u8>) -> io::Result<()>;
    fn finish(
        &mut self,
        x: &LedgerExport,
        summary: &ExportSummary,
        out: &mut Vec<u8>,
    ) -> io::Result<()>;
}

fn writer_for(format: LedgerFormat) -> Box<dyn LedgerWriter> {
    match format {
        LedgerFormat::Csv => Box::new(csv::CsvWriter::new()),
        LedgerFormat::Jsonl => Box::new(jsonl::JsonlWriter::new()),
        LedgerFormat::Beancount => Box::new(beancount::BeancountWriter),
        LedgerFormat::Hledger => Box::new(hledger::HledgerWriter),
    }
}

/// The largest page a client may ask for.
pub const MAX_EXPORT_LIMIT: i64 = 1_000_000;

/// Checks the request and reads the export's frame. Call inside the same read
/// snapshot as [`write`].
pub fn prepare(
    conn: &mut DbConnection,
    fund: Fund,
    request: LedgerExportRequest,
) -> AppResult<LedgerExport> {
    check_request(&request)?;
    let accounts = ledger::list_accounts(conn, fund.id)?;
    let account_index = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id, i))
        .collect();
    let journal_names = journal::journal_names(&accounts);
    let (first, last) = ledger::effective_dates(conn, fund.id)?;
    let today = crate::time::today();
    let first_date = request.from.or(first).unwrap_or(today);
    let page_end = page_end(conn, fund.id, &request)?;
    let opening = match (request.after, request.from) {
        (None, Some(from)) => Some(balances_at(conn, fund.id, from - Days::new(1))?),
        _ => None,
    };
    let closing = match (page_end, request.to) {
        (Some(_), _) => None,
        (None, Some(to)) => Some(balances_at(conn, fund.id, to)?),
        (None, None) => Some(stored_balances(
            &accounts,
            last.unwrap_or(today).max(first_date),
        )),
    };
    Ok(LedgerExport {
        chain_sequence: fund.last_sequence,
        chain_head: fund.chain_head.clone(),
        request,
        fund,
        generated_at: crate::time::now(),
        accounts,
        account_index,
        journal_names,
        opening,
        closing,
        first_date,
        page_end,
        on_postgres: matches!(conn, DbConnection::Postgresql(_)),
    })
}

fn check_request(r: &LedgerExportRequest) -> AppResult<()> {
    if let (Some(from), Some(to)) = (r.from, r.to) {
        crate::reports::check_period(from, to)?;
    }
    if !r.format.pageable() {
        for (field, given) in [("after", r.after.is_some()), ("limit", r.limit.is_some())] {
            if given {
                return Err(AppError::query(
                    field,
                    "not_pageable",
                    "beancount and hledger exports are whole files (their balance assertions hold over \
                     the whole range); page csv or jsonl, or narrow from/to",
                ));
            }
        }
    }
    if let Some(limit) = r.limit {
        if !(1..=MAX_EXPORT_LIMIT).contains(&limit) {
            return Err(AppError::query(
                "limit",
                "out_of_range",
                format!("must be 1 to {MAX_EXPORT_LIMIT}"),
            )
            .with("limit", MAX_EXPORT_LIMIT));
        }
    }
    if let Some(after) = r.after {
        if after < 0 {
            return Err(AppError::query(
                "after",
                "invalid_cursor",
                "must be a sequence number (0 or more)",
            ));
        }
    }
    Ok(())
}

/// The last sequence of a limited page, when entries remain after it.
fn page_end(
    conn: &mut DbConnection,
    fund_id: FundId,
    request: &LedgerExportRequest,
) -> AppResult<Option<i64>> {
    let Some(limit) = request.limit else {
        return Ok(None);
    };
    let range = EntryRange {
        from: request.from,
        to: request.to,
        after: request.after,
        through: None,
    };
    ledger::page_end(conn, fund_id, &range, limit)
}

/// The balances at the end of `date`, from the postings dated up to it.
fn balances_at(conn: &mut DbConnection, fund_id: FundId, date: NaiveDate) -> AppResult<BalancesAt> {
    let totals = ledger::balances_as_of(conn, fund_id, date)?
        .into_iter()
        .map(|(id, (debits_minor, credits_minor))| {
            let totals = Totals {
                debits_minor,
                credits_minor,
            };
            (id, totals)
        })
        .collect();
    Ok(BalancesAt { date, totals })
}

/// The accounts' stored totals, stated at `date` (the last effective date:
/// nothing is posted after it).
fn stored_balances(accounts: &[Account], date: NaiveDate) -> BalancesAt {
    let totals = accounts
        .iter()
        .map(|a| {
            let totals = Totals {
                debits_minor: a.debits_minor,
                credits_minor: a.credits_minor,
            };
            (a.id, totals)
        })
        .collect();
    BalancesAt { date, totals }
}

/// Writes the export's entries and closing records to `out`, reading entries
/// a page at a time on `conn` (call inside the same read snapshot as
/// [`prepare`], or at least after it). `progress` counts entries.
pub fn write(
    conn: &mut DbConnection,
    export: &LedgerExport,
    out: &mut dyn Write,
    progress: &mut Progress,
) -> io::Result<ExportSummary> {
    write_pages(export, out, progress, |write_page| {
        let mut reader = PageReader::new(export.fund.id, export.entry_range());
        ledger::read_ahead(|| reader.next_page(conn).map_err(io_error), write_page)
    })
}

/// [`write`], taking a connection from `pool` for each read and reading in
/// its own read snapshot, then giving the connection back before the page is
/// written: a client that reads slowly (or not at all) holds no database
/// connection. On PostgreSQL a page's entries and its postings are read on
/// two threads, each with a connection of its own, so the next page's
/// entries are read while the postings of the page before are (and the
/// server works while the rows of the other read are decoded); SQLite, with
/// no server to keep busy, reads a page at a time. The pages hold the same entries
/// as [`write`]'s: the export is bounded by the sequence [`prepare`] read,
/// and entries never change.
pub fn write_pooled(
    pool: &DbPool,
    export: &LedgerExport,
    out: &mut dyn Write,
    progress: &mut Progress,
) -> io::Result<ExportSummary> {
    if !export.on_postgres {
        return write_pages(export, out, progress, |write_page| {
            let mut reader = PageReader::new(export.fund.id, export.entry_range());
            ledger::read_ahead(
                || pooled_read(pool, |conn| reader.next_page(conn)),
                write_page,
            )
        });
    }
    write_pages(export, out, progress, |write_page| {
        let mut headers = HeaderReader::new(export.fund.id, export.entry_range());
        let mut postings = PostingReader::new(export.fund.id);
        ledger::read_ahead_in_two(
            || pooled_read(pool, |conn| headers.next_page(conn)),
            |page| pooled_read(pool, |conn| postings.attach(conn, page)),
            write_page,
        )
    })
}

/// `read` in a read snapshot of its own, on a connection taken from `pool`
/// for it alone.
fn pooled_read<T>(
    pool: &DbPool,
    read: impl FnOnce(&mut DbConnection) -> AppResult<T>,
) -> io::Result<T> {
    let mut conn = pool.get().map_err(|e| io_error(e.into()))?;
    crate::db::read_snapshot(&mut conn, read).map_err(io_error)
}

/// Writes the export's records, with `pages` reading the entries and handing
/// each page to the function it is given, in sequence order.
fn write_pages(
    export: &LedgerExport,
    out: &mut dyn Write,
    progress: &mut Progress,
    pages: impl FnOnce(&mut dyn FnMut(Vec<Entry>) -> io::Result<()>) -> io::Result<()>,
) -> io::Result<ExportSummary> {
    let mut writer = writer_for(export.request.format);
    let mut buf = Vec::with_capacity(OUT_BYTES + OUT_BYTES / 4);
    writer.begin(export, &mut buf)?;
    let mut summary = ExportSummary::default();
    pages(&mut |page| {
        for entry in &page {
            writer.entry(export, entry, &mut buf)?;
            summary.entries += 1;
            summary.postings += entry.postings.len() as u64;
            summary.last_sequence = Some(entry.header.sequence);
            if buf.len() >= OUT_BYTES {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        progress.add(page.len() as u64);
        Ok(())
    })?;
    writer.finish(export, &summary, &mut buf)?;
    out.write_all(&buf)?;
    out.flush()?;
    Ok(summary)
}

/// Bytes gathered before they are handed to the output in one write.
const OUT_BYTES: usize = 256 * 1024;

/// A database failure in the middle of a stream: the stream is cut.
fn io_error(e: AppError) -> io::Error {
    io::Error::other(e.to_string())
}

/// The balance of `totals` on the account's normal side.
pub fn normal_balance(account: &Account, totals: Totals) -> i64 {
    account
        .account_type
        .balance(totals.debits_minor, totals.credits_minor)
}

/// A text cell of a CSV export, safe to open in a spreadsheet (OWASP, "CSV
/// injection"): a value that begins with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'`, so a spreadsheet shows it as text and
/// never evaluates it as a formula. Only text columns go through here; amounts
/// and other numbers are written as they are (`-12.00` stays a number).
pub(crate) fn csv_text(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::csv_text;

    #[test]
    fn csv_text_cells_that_could_be_formulas_are_quoted() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_text(s), format!("'{s}"));
        }
        for s in ["", "plain", "1-2", " =x", "'=x", "KES"] {
            assert_eq!(csv_text(s), s);
        }
    }
}

//! The reader of a fund's entries with their postings, in sequence order
//! and a page at a time, so memory stays flat however large the ledger:
//! verification walks the ledger through it (the exports read the same pages
//! into lean rows of their own, `src/export/rows.rs`). A page costs two
//! queries: its entries, then their postings by sequence range; the next page
//! starts after the last sequence read (keyset pagination on `(fund_id,
//! sequence)`, never an offset). [`read_ahead`] reads the next page on a
//! second thread while the caller handles the one before.

use chrono::NaiveDate;
use diesel::dsl::{max, min, sql};
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::entries::{EntryHeader, Posting, PostingRow};
use super::Side;
use crate::db::schema::{journal_entries, postings};
use crate::db::stored_text::{fast_date, fast_time, SqliteHeaderRow};
use crate::db::{DbBackend, DbConnection};
use crate::error::AppResult;
use crate::funds::FundId;
use crate::money::Currency;

/// Entries read per query: large enough that round trips and the per-query
/// cost don't dominate, small enough that a page's memory (about 1 KiB an
/// entry, two pages in flight with [`read_ahead`]) doesn't matter.
const PAGE_SIZE: i64 = 5_000;

/// Which of a fund's entries to read: effective dates from `from` to `to`
/// (inclusive; open ends when absent), sequences after `after` up to
/// `through`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after: Option<i64>,
    pub through: Option<i64>,
}

/// An entry as stored, with its postings in line order.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub header: EntryHeader,
    pub postings: Vec<StoredPosting>,
}

/// A posting as stored: its account by id.
#[derive(Debug, Clone)]
pub struct StoredPosting {
    pub account_id: i64,
    pub side: Side,
    pub amount_minor: i64,
    pub currency: Currency,
    /// The posting's own effective date (its entry's, as booked), which the
    /// daily totals are kept by.
    pub effective_date: NaiveDate,
}

impl StoredPosting {
    /// The posting as the API shows it, naming its account by `code`.
    pub(super) fn with_account(self, code: String) -> Posting {
        Posting {
            account: code,
            side: self.side,
            amount_minor: self.amount_minor,
            currency: self.currency,
        }
    }
}

type EntriesQuery<'a> = journal_entries::BoxedQuery<'a, DbBackend>;

/// A fund's entries in `range`, in no particular order.
pub(super) fn entries_in_range<'a>(fund_id: FundId, range: &EntryRange) -> EntriesQuery<'a> {
    let mut query = journal_entries::table
        .filter(journal_entries::fund_id.eq(fund_id))
        .into_boxed();
    if let Some(from) = range.from {
        query = query.filter(journal_entries::effective_date.ge(from));
    }
    if let Some(to) = range.to {
        query = query.filter(journal_entries::effective_date.le(to));
    }
    if let Some(after) = range.after {
        query = query.filter(journal_entries::sequence.gt(after));
    }
    if let Some(through) = range.through {
        query = query.filter(journal_entries::sequence.le(through));
    }
    query
}

/// Walks a fund's entries in `range` in sequence order, a page at a time.
pub struct EntryReader {
    fund_id: FundId,
    /// What remains to read: its `after` is the last sequence read.
    remaining: EntryRange,
    done: bool,
}

impl EntryReader {
    pub fn new(fund_id: FundId, range: EntryRange) -> EntryReader {
        EntryReader {
            fund_id,
            remaining: range,
            done: false,
        }
    }

    /// The next page of entries with their postings, or `None` at the end.
    pub fn next_page(&mut self, conn: &mut DbConnection) -> AppResult<Option<Vec<StoredEntry>>> {
        if self.done {
            return Ok(None);
        }
        let headers = self.read_headers(conn)?;
        self.done = (headers.len() as i64) < PAGE_SIZE;
        let (Some(first), Some(last)) = (headers.first(), headers.last()) else {
            return Ok(None);
        };
        let (first, last) = (first.sequence, last.sequence);
        debug_assert!(
            self.remaining.after.is_none_or(|after| first > after),
            "each page starts after the one before"
        );
        self.remaining.after = Some(last);
        let postings = self.read_postings(conn, &headers, first, last)?;
        Ok(Some(attach_postings(headers, postings)))
    }

    /// The next page's entries, without their postings. On SQLite the dates
    /// and times are read as their stored text and parsed by hand (diesel
    /// parses each with chrono's format parser, trying format after format);
    /// a page holding one in another shape is read again through diesel.
    fn read_headers(&self, conn: &mut DbConnection) -> AppResult<Vec<EntryHeader>> {
        let query = || {
            entries_in_range(self.fund_id, &self.remaining)
                .order(journal_entries::sequence.asc())
                .limit(PAGE_SIZE)
        };
        if let DbConnection::Sqlite(_) = conn {
            let rows: Vec<SqliteHeaderRow> = query()
                .select((
                    journal_entries::id,
                    journal_entries::sequence,
                    sql::<Text>("journal_entries.effective_date"),
                    sql::<Text>("journal_entries.recorded_at"),
                    journal_entries::kind,
                    journal_entries::memo,
                    journal_entries::source_type,
                    journal_entries::source_id,
                    journal_entries::created_by,
                    journal_entries::reverses,
                    journal_entries::previous_hash,
                    journal_entries::hash,
                ))
                .load(conn)?;
            let parsed: Option<Vec<EntryHeader>> = rows
                .into_iter()
                .map(|r| {
                    Some(EntryHeader {
                        effective_date: fast_date(r.2.as_bytes())?,
                        recorded_at: fast_time(r.3.as_bytes())?,
                        id: r.0,
                        sequence: r.1,
                        kind: r.4,
                        memo: r.5,
                        source_type: r.6,
                        source_id: r.7,
                        created_by: r.8,
                        reverses: r.9,
                        previous_hash: r.10,
                        hash: r.11,
                    })
                })
                .collect();
            if let Some(headers) = parsed {
                return Ok(headers);
            }
        }
        Ok(query().select(EntryHeader::as_select()).load(conn)?)
    }

    /// The postings of the fund's entries from sequence `first` to `last`, by
    /// sequence and line: on SQLite those of entries outside the date range
    /// too, which [`attach_postings`] passes over (one range scan beats a list
    /// of ids). On PostgreSQL the page's entry ids are given as well: without
    /// them it joins by hashing the page's entries and scanning every posting
    /// of the database on each page (a cost that grows with the ledger, as
    /// `src/export/rows.rs` found); `entry_id = ANY(ids)` has it look each one
    /// up in the postings' `(entry_id, line)` index.
    fn read_postings(
        &self,
        conn: &mut DbConnection,
        headers: &[EntryHeader],
        first: i64,
        last: i64,
    ) -> AppResult<Vec<(i64, StoredPosting)>> {
        let query = || {
            postings::table
                .inner_join(journal_entries::table)
                .filter(journal_entries::fund_id.eq(self.fund_id))
                .filter(journal_entries::sequence.ge(first))
                .filter(journal_entries::sequence.le(last))
                .order((journal_entries::sequence.asc(), postings::line.asc()))
                .into_boxed()
        };
        if let DbConnection::Postgresql(_) = conn {
            let ids: Vec<&str> = headers.iter().map(|h| h.id.as_str()).collect();
            return parse_postings(
                query()
                    .filter(postings::entry_id.eq_any(ids))
                    .select((journal_entries::sequence, PostingRow::as_select()))
                    .load(conn)?,
            );
        }
        // SQLite: the date as stored text, parsed by hand once per entry; a
        // page holding one in another shape is read again through diesel.
        let rows: Vec<(i64, i64, String, i64, String, String)> = query()
            .select((
                journal_entries::sequence,
                postings::account_id,
                postings::side,
                postings::amount_minor,
                postings::currency,
                sql::<Text>("postings.effective_date"),
            ))
            .load(conn)?;
        let mut date: Option<(String, NaiveDate)> = None;
        let parsed: Option<Vec<(i64, PostingRow)>> = rows
            .into_iter()
            .map(
                |(sequence, account_id, side, amount_minor, currency, day)| {
                    let effective_date = match &date {
                        Some((text, parsed)) if *text == day => *parsed,
                        _ => {
                            let parsed = fast_date(day.as_bytes())?;
                            date = Some((day, parsed));
                            parsed
                        }
                    };
                    let row =
                        PostingRow::new(account_id, side, amount_minor, currency, effective_date);
                    Some((sequence, row))
                },
            )
            .collect();
        match parsed {
            Some(rows) => parse_postings(rows),
            None => parse_postings(
                query()
                    .select((journal_entries::sequence, PostingRow::as_select()))
                    .load(conn)?,
            ),
        }
    }
}

/// Postings rows with their sides and currencies read.
fn parse_postings(rows: Vec<(i64, PostingRow)>) -> AppResult<Vec<(i64, StoredPosting)>> {
    let mut currency = None;
    rows.into_iter()
        .map(|(sequence, row)| Ok((sequence, row.parse_after(&mut currency)?)))
        .collect()
}

/// Reads with `read` on a second thread, one item ahead, while `consume`
/// handles the item before on this one: the database read of the next page
/// overlaps the hashing or writing of the last. Stops at the first error of
/// either side (the reader then stops at its next item) or when `read` gives
/// `None`.
pub fn read_ahead<T, E>(
    read: impl FnMut() -> Result<Option<T>, E> + Send,
    mut consume: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    E: Send,
{
    std::thread::scope(|scope| {
        let (rx, reader) = read_on(scope, read);
        let mut outcome = Ok(());
        for item in rx.iter() {
            if let Err(e) = item.and_then(&mut consume) {
                outcome = Err(e);
                break;
            }
        }
        drop(rx);
        if let Err(panic) = reader.join() {
            std::panic::resume_unwind(panic);
        }
        outcome
    })
}

/// [`read_ahead`] in two stages, each on a thread of its own: `first` reads
/// an item (a page's entries), `second` completes the item before (their
/// postings), and `consume` handles the one before that, so two reads are in
/// flight at once (on two connections) while the last item is handled.
pub fn read_ahead_in_two<A, B, E>(
    first: impl FnMut() -> Result<Option<A>, E> + Send,
    mut second: impl FnMut(A) -> Result<B, E> + Send,
    consume: impl FnMut(B) -> Result<(), E>,
) -> Result<(), E>
where
    A: Send,
    B: Send,
    E: Send,
{
    std::thread::scope(|scope| {
        let (rx, reader) = read_on(scope, first);
        let outcome = read_ahead(
            move || match rx.recv() {
                Ok(item) => item.and_then(&mut second).map(Some),
                Err(_) => Ok(None),
            },
            consume,
        );
        if let Err(panic) = reader.join() {
            std::panic::resume_unwind(panic);
        }
        outcome
    })
}

/// Calls `read` on a thread of `scope` until it gives `None` or an error, or
/// until the receiver is dropped, sending each item one ahead.
fn read_on<'scope, T, E>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    mut read: impl FnMut() -> Result<Option<T>, E> + Send + 'scope,
) -> (
    std::sync::mpsc::Receiver<Result<T, E>>,
    std::thread::ScopedJoinHandle<'scope, ()>,
)
where
    T: Send + 'scope,
    E: Send + 'scope,
{
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<T, E>>(1);
    let reader = scope.spawn(move || loop {
        let item = match read() {
            Ok(Some(item)) => Ok(item),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        let failed = item.is_err();
        if tx.send(item).is_err() || failed {
            return;
        }
    });
    (rx, reader)
}

/// Gives each entry its postings, both in sequence order; postings of
/// sequences without an entry (outside the date range) are dropped.
fn attach_postings(
    headers: Vec<EntryHeader>,
    postings: Vec<(i64, StoredPosting)>,
) -> Vec<StoredEntry> {
    let mut postings = postings.into_iter().peekable();
    let mut entries = Vec::with_capacity(headers.len());
    for header in headers {
        let mut own = Vec::with_capacity(2);
        while let Some((sequence, posting)) = postings.next_if(|(s, _)| *s <= header.sequence) {
            if sequence == header.sequence {
                own.push(posting);
            }
        }
        entries.push(StoredEntry {
            header,
            postings: own,
        });
    }
    entries
}

/// The last sequence of the first `limit` entries of `range`, when entries of
/// the range remain after them (where a limited page ends).
pub fn page_end(
    conn: &mut DbConnection,
    fund_id: FundId,
    range: &EntryRange,
    limit: i64,
) -> AppResult<Option<i64>> {
    let ends: Vec<i64> = entries_in_range(fund_id, range)
        .order(journal_entries::sequence.asc())
        .select(journal_entries::sequence)
        .offset(limit - 1)
        .limit(2)
        .load(conn)?;
    Ok((ends.len() == 2).then(|| ends[0]))
}

/// The earliest and the latest effective date of the fund's entries.
pub fn effective_dates(
    conn: &mut DbConnection,
    fund_id: FundId,
) -> AppResult<(Option<NaiveDate>, Option<NaiveDate>)> {
    Ok(journal_entries::table
        .filter(journal_entries::fund_id.eq(fund_id))
        .select((
            min(journal_entries::effective_date),
            max(journal_entries::effective_date),
        ))
        .first(conn)?)
}

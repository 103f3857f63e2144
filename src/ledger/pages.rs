//! The whole-ledger reader of a fund's entries with their postings, in
//! sequence order and a page at a time, so memory stays flat however large
//! the ledger: the exports and verification both walk the ledger through it.
//! A page costs two queries: its entries (keyset pages on `(fund_id,
//! sequence)`, never an offset; [`HeaderReader`]), then their postings
//! ([`PostingReader`]: by sequence range on SQLite, as one range of entry ids
//! on PostgreSQL, see [`pg_postings`]), which a caller with a pool reads on
//! two threads with a connection each (`read_ahead_in_two`). Rows are lean
//! (a posting's side, currency and date read without a `String` of their
//! own) and read on each backend's own connection rather than through the
//! [`DbConnection`] enum; on SQLite the dates and times are read from their
//! stored text by hand instead of chrono's format parser (which tries
//! diesel's formats one after another).

use chrono::NaiveDate;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::sql_types::{Date, Text};
use diesel::sqlite::{Sqlite, SqliteValue};

use super::entries::EntryHeader;
use super::reader::fund_entries_in;
use super::{EntryRange, Side};
use crate::db::schema::{journal_entries, postings};
use crate::db::stored_text::{fast_date, stored_date, stored_time, SqliteHeaderRow};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::funds::FundId;
use crate::money::Currency;

/// Entries read per page: two pages are in memory at once (one read ahead
/// while the other is handled), about 1 KiB an entry.
pub(crate) const PAGE_SIZE: i64 = 5_000;

/// An entry as stored, with its postings in line order.
#[derive(Debug, Clone)]
pub(crate) struct StoredEntry {
    pub header: EntryHeader,
    pub postings: Vec<StoredPosting>,
}

/// A posting as stored: its line in the entry, its account by id, side,
/// amount, currency and its own effective date (its entry's, as booked),
/// which the daily totals are kept by.
#[derive(Debug, Clone)]
pub(crate) struct StoredPosting {
    pub line: i32,
    pub account_id: i64,
    pub side: Side,
    pub amount_minor: i64,
    pub currency: Currency,
    pub effective_date: NaiveDate,
}

/// Walks the entries of `range` a page at a time, in sequence order, on one
/// connection: each page's entries ([`HeaderReader`]), then their postings
/// ([`PostingReader`]).
pub(crate) struct PageReader {
    headers: HeaderReader,
    postings: PostingReader,
}

/// Reads the entries of `range` a page at a time, without their postings.
pub(crate) struct HeaderReader {
    fund_id: FundId,
    remaining: EntryRange,
    done: bool,
}

/// Reads a page's postings and gives each entry its own.
pub(crate) struct PostingReader {
    fund_id: FundId,
    /// On PostgreSQL, whether pages still read their postings as one range
    /// of the postings' index (see [`pg_postings`]).
    by_range: bool,
}

/// A posting row: the entry's sequence, line, account, side, amount,
/// currency, effective date.
type PostingRow = (i64, i32, i64, SideCell, i64, CodeCell, DateCell);

/// A posting's side, read from the row's text without a `String` of its own.
#[derive(FromSqlRow)]
struct SideCell(Side);

/// A posting's currency code as stored (three bytes), read without a
/// `String` of its own; [`attach`] makes it a [`Currency`].
#[derive(FromSqlRow)]
struct CodeCell([u8; 3]);

impl SideCell {
    fn read(text: &[u8]) -> deserialize::Result<SideCell> {
        match text {
            b"debit" => Ok(SideCell(Side::Debit)),
            b"credit" => Ok(SideCell(Side::Credit)),
            _ => Err(format!("stored side {:?}", String::from_utf8_lossy(text)).into()),
        }
    }
}

impl CodeCell {
    fn read(text: &[u8]) -> deserialize::Result<CodeCell> {
        match text {
            [a, b, c] => Ok(CodeCell([*a, *b, *c])),
            _ => Err(format!("stored currency {:?}", String::from_utf8_lossy(text)).into()),
        }
    }
}

/// `FromSql` of text on both backends for a cell made by its `read`.
macro_rules! text_cell {
    ($cell:ty) => {
        impl FromSql<Text, Pg> for $cell {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                <$cell>::read(value.as_bytes())
            }
        }

        impl FromSql<Text, Sqlite> for $cell {
            fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
                <$cell>::read(value.read_text().as_bytes())
            }
        }
    };
}

text_cell!(SideCell);
text_cell!(CodeCell);

/// A posting's effective date, read on SQLite from its stored text by hand
/// (chrono's format parser only for a shape diesel does not write).
#[derive(FromSqlRow)]
struct DateCell(NaiveDate);

impl FromSql<Date, Pg> for DateCell {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDate as FromSql<Date, Pg>>::from_sql(value).map(DateCell)
    }
}

impl FromSql<Date, Sqlite> for DateCell {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = value.read_text();
        match fast_date(text.as_bytes()) {
            Some(date) => Ok(DateCell(date)),
            None => Ok(DateCell(stored_date(text).map_err(|e| e.to_string())?)),
        }
    }
}

/// A posting's entry id on PostgreSQL, kept inline when it is a UUID (as
/// every entry id is): no `String` per posting row.
#[derive(FromSqlRow)]
enum IdCell {
    Uuid([u8; 36]),
    Other(Box<[u8]>),
}

impl IdCell {
    fn as_bytes(&self) -> &[u8] {
        match self {
            IdCell::Uuid(b) => b,
            IdCell::Other(b) => b,
        }
    }
}

impl FromSql<Text, Pg> for IdCell {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let text = value.as_bytes();
        Ok(match <[u8; 36]>::try_from(text) {
            Ok(uuid) => IdCell::Uuid(uuid),
            Err(_) => IdCell::Other(text.into()),
        })
    }
}

/// A page of the fund's entries in `range`, for one backend.
macro_rules! entries_in_range {
    ($backend:ty, $fund_id:expr, $range:expr) => {
        fund_entries_in!($backend, $fund_id, $range)
            .order(journal_entries::sequence.asc())
            .limit(PAGE_SIZE)
    };
}

/// A posting row's columns after `$entry`, the column naming its entry: line,
/// account, side, amount, currency, effective date.
macro_rules! posting_columns {
    ($entry:expr) => {
        (
            $entry,
            postings::line,
            postings::account_id,
            postings::side,
            postings::amount_minor,
            postings::currency,
            postings::effective_date,
        )
    };
}

/// The postings of the fund's entries from sequence `first` to `last`.
macro_rules! postings_between {
    ($fund_id:expr, $first:expr, $last:expr) => {
        postings::table
            .inner_join(journal_entries::table)
            .filter(journal_entries::fund_id.eq($fund_id))
            .filter(journal_entries::sequence.ge($first))
            .filter(journal_entries::sequence.le($last))
            .order((journal_entries::sequence.asc(), postings::line.asc()))
            .select(posting_columns!(journal_entries::sequence))
    };
}

impl PageReader {
    pub(crate) fn new(fund_id: FundId, range: EntryRange) -> PageReader {
        PageReader {
            headers: HeaderReader::new(fund_id, range),
            postings: PostingReader::new(fund_id),
        }
    }

    /// The next page of entries with their postings, or `None` at the end.
    pub(crate) fn next_page(
        &mut self,
        conn: &mut DbConnection,
    ) -> AppResult<Option<Vec<StoredEntry>>> {
        match self.headers.next_page(conn)? {
            Some(headers) => self.postings.attach(conn, headers).map(Some),
            None => Ok(None),
        }
    }
}

impl HeaderReader {
    pub(crate) fn new(fund_id: FundId, range: EntryRange) -> HeaderReader {
        HeaderReader {
            fund_id,
            remaining: range,
            done: false,
        }
    }

    /// The next page's entries, or `None` at the end.
    pub(crate) fn next_page(
        &mut self,
        conn: &mut DbConnection,
    ) -> AppResult<Option<Vec<EntryHeader>>> {
        if self.done {
            return Ok(None);
        }
        let fund_id = self.fund_id;
        let headers: Vec<EntryHeader> = match conn {
            DbConnection::Sqlite(c) => {
                let rows: Vec<SqliteHeaderRow> =
                    entries_in_range!(diesel::sqlite::Sqlite, fund_id, &self.remaining)
                        .select((
                            journal_entries::id,
                            journal_entries::sequence,
                            diesel::dsl::sql::<diesel::sql_types::Text>(
                                "journal_entries.effective_date",
                            ),
                            diesel::dsl::sql::<diesel::sql_types::Text>(
                                "journal_entries.recorded_at",
                            ),
                            journal_entries::kind,
                            journal_entries::memo,
                            journal_entries::source_type,
                            journal_entries::source_id,
                            journal_entries::created_by,
                            journal_entries::reverses,
                            journal_entries::previous_hash,
                            journal_entries::hash,
                        ))
                        .load(c)?;
                rows.into_iter()
                    .map(sqlite_header)
                    .collect::<AppResult<Vec<_>>>()?
            }
            DbConnection::Postgresql(c) => {
                entries_in_range!(diesel::pg::Pg, fund_id, &self.remaining)
                    .select(EntryHeader::as_select())
                    .load(c)?
            }
        };
        self.done = (headers.len() as i64) < PAGE_SIZE;
        let Some(last) = headers.last() else {
            return Ok(None);
        };
        self.remaining.after = Some(last.sequence);
        Ok(Some(headers))
    }
}

impl PostingReader {
    pub(crate) fn new(fund_id: FundId) -> PostingReader {
        PostingReader {
            fund_id,
            by_range: true,
        }
    }

    /// The entries of a page read by [`HeaderReader`], with their postings.
    pub(crate) fn attach(
        &mut self,
        conn: &mut DbConnection,
        headers: Vec<EntryHeader>,
    ) -> AppResult<Vec<StoredEntry>> {
        let postings = match conn {
            DbConnection::Sqlite(c) => match (headers.first(), headers.last()) {
                (Some(first), Some(last)) => {
                    postings_between!(self.fund_id, first.sequence, last.sequence)
                        .load::<PostingRow>(c)?
                }
                _ => Vec::new(),
            },
            DbConnection::Postgresql(c) => pg_postings(c, &headers, &mut self.by_range)?,
        };
        attach(headers, postings)
    }
}

/// Rows of the postings' `(entry_id, line)` index read for one page at most,
/// per entry of the page (and at least [`RANGE_ROWS_MIN`]), before the range
/// is given up for lookups by id: reading a row of the range costs
/// PostgreSQL about a tenth of looking an entry up.
const RANGE_ROWS_PER_ENTRY: usize = 16;
const RANGE_ROWS_MIN: usize = 1_000;

/// A posting row on PostgreSQL: its entry by id, then as [`PostingRow`].
type PgPostingRow = (IdCell, i32, i64, SideCell, i64, CodeCell, DateCell);

/// The postings of a page's entries on PostgreSQL, in sequence and line order.
///
/// Looking each entry up in the postings' `(entry_id, line)` index
/// (`entry_id = ANY(ids)`) costs PostgreSQL a descent of the index per entry
/// (about 3 µs each, most of a page's time). Entry ids are UUIDv7, in the
/// order they were booked in, so a page's postings lie together in that
/// index: they are read as one range, from the page's lowest id to its
/// highest, and kept when their entry is on the page (the range may hold
/// other funds' postings booked meanwhile, and other entries of the fund
/// outside a date range). When the range holds far more than the page
/// (ids out of order, a small fund among busy ones) the page, and the
/// export's later pages, look their entries up by id instead; and a page
/// whose range misses an entry (ids the database orders otherwise) is read
/// again by id. The range is read in the index's order, though the rows are
/// put in sequence order here: with `LIMIT` and no `ORDER BY`, PostgreSQL may
/// take a range it expects to be large (other funds' postings booked among
/// the page's) for a sequential scan of every posting, stopping only when
/// the limit is reached; in the index's order it reads the index and stops
/// at the limit. The sort this costs when it expects a small range is ~3 ms
/// a page of 10,000 postings (its bitmap read ~3 ms).
fn pg_postings(
    c: &mut diesel::pg::PgConnection,
    headers: &[EntryHeader],
    by_range: &mut bool,
) -> AppResult<Vec<PostingRow>> {
    let mut sequences = PageIds::new(headers);
    let (Some(low), Some(high)) = (sequences.low(), sequences.high()) else {
        return Ok(Vec::new());
    };
    if *by_range {
        let most = (RANGE_ROWS_PER_ENTRY * headers.len()).max(RANGE_ROWS_MIN);
        let rows: Vec<PgPostingRow> = postings::table
            .filter(postings::entry_id.between(low, high))
            .select(posting_columns!(postings::entry_id))
            .order((postings::entry_id, postings::line))
            .limit(most as i64 + 1)
            .load(c)?;
        if rows.len() <= most {
            let (postings, entries) = own_postings(rows, &mut sequences);
            if entries == headers.len() {
                return Ok(postings);
            }
        } else {
            *by_range = false;
        }
    }
    let ids: Vec<&str> = headers.iter().map(|h| h.id.as_str()).collect();
    let rows: Vec<PgPostingRow> = postings::table
        .filter(postings::entry_id.eq_any(&ids))
        .select(posting_columns!(postings::entry_id))
        .load(c)?;
    Ok(own_postings(rows, &mut sequences).0)
}

/// The rows whose entry is in `sequences`, by sequence and line, and how
/// many entries they belong to.
fn own_postings(rows: Vec<PgPostingRow>, sequences: &mut PageIds) -> (Vec<PostingRow>, usize) {
    let mut postings: Vec<PostingRow> = rows
        .into_iter()
        .filter_map(
            |(entry_id, line, account_id, side, amount_minor, currency, date)| {
                let sequence = sequences.sequence(entry_id.as_bytes())?;
                Some((
                    sequence,
                    line,
                    account_id,
                    side,
                    amount_minor,
                    currency,
                    date,
                ))
            },
        )
        .collect();
    postings.sort_by_key(|p| (p.0, p.1));
    let mut entries = 0;
    let mut last = None;
    for p in &postings {
        if last != Some(p.0) {
            entries += 1;
            last = Some(p.0);
        }
    }
    (postings, entries)
}

/// A page's entry ids in byte order with their sequences, for finding each
/// posting row's entry: the rows come in the index's order, so a row's entry
/// is nearly always the last row's or the one after it, and only the others
/// are searched for.
struct PageIds<'a> {
    ids: Vec<(&'a str, i64)>,
    at: usize,
}

impl<'a> PageIds<'a> {
    fn new(headers: &'a [EntryHeader]) -> PageIds<'a> {
        let mut ids: Vec<(&str, i64)> = headers
            .iter()
            .map(|h| (h.id.as_str(), h.sequence))
            .collect();
        ids.sort_unstable();
        PageIds { ids, at: 0 }
    }

    fn low(&self) -> Option<&'a str> {
        self.ids.first().map(|(id, _)| *id)
    }

    fn high(&self) -> Option<&'a str> {
        self.ids.last().map(|(id, _)| *id)
    }

    /// The sequence of the page's entry `id`, if it is on the page.
    fn sequence(&mut self, id: &[u8]) -> Option<i64> {
        for at in [self.at, self.at + 1] {
            match self.ids.get(at) {
                Some((own, sequence)) if own.as_bytes() == id => {
                    self.at = at;
                    return Some(*sequence);
                }
                _ => {}
            }
        }
        let at = self
            .ids
            .binary_search_by(|(own, _)| own.as_bytes().cmp(id))
            .ok()?;
        self.at = at;
        Some(self.ids[at].1)
    }
}

fn sqlite_header(r: SqliteHeaderRow) -> AppResult<EntryHeader> {
    Ok(EntryHeader {
        effective_date: stored_date(&r.2)?,
        recorded_at: stored_time(&r.3)?,
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
}

/// Gives each entry its postings, both in sequence order; postings of
/// sequences without an entry (outside the date range) are dropped.
fn attach(headers: Vec<EntryHeader>, postings: Vec<PostingRow>) -> AppResult<Vec<StoredEntry>> {
    let mut postings = postings.into_iter().peekable();
    let mut entries = Vec::with_capacity(headers.len());
    let mut currency: Option<Currency> = None;
    for header in headers {
        let mut own = Vec::with_capacity(2);
        while let Some((
            sequence,
            line,
            account_id,
            SideCell(side),
            amount_minor,
            CodeCell(code),
            DateCell(effective_date),
        )) = postings.next_if(|p| p.0 <= header.sequence)
        {
            if sequence != header.sequence {
                continue;
            }
            let c = match currency {
                Some(c) if c.code().as_bytes() == code => c,
                _ => std::str::from_utf8(&code)
                    .map_err(AppError::internal)
                    .and_then(|code| Currency::parse(code).map_err(AppError::internal))?,
            };
            currency = Some(c);
            own.push(StoredPosting {
                line,
                account_id,
                side,
                amount_minor,
                currency: c,
                effective_date,
            });
        }
        entries.push(StoredEntry {
            header,
            postings: own,
        });
    }
    Ok(entries)
}

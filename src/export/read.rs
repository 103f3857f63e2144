//! Reading an export's entries a page at a time: one query for a page of
//! entries and one for their postings, joined by sequence range.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::LedgerExport;
use crate::db::schema::{journal_entries, postings};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::ledger::Side;
use crate::money::Currency;

/// Entries read per query: large enough that round trips don't dominate, small
/// enough that a page's memory doesn't matter.
pub const PAGE_SIZE: i64 = 2_000;

#[derive(Debug, Clone)]
pub struct ExportPosting {
    pub line: i32,
    pub account_id: i64,
    pub side: Side,
    pub amount_minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone)]
pub struct ExportEntry {
    pub id: String,
    pub sequence: i64,
    pub effective_date: NaiveDate,
    pub recorded_at: NaiveDateTime,
    pub kind: String,
    pub memo: String,
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    pub created_by: String,
    pub reverses: Option<String>,
    pub previous_hash: String,
    pub hash: String,
    pub postings: Vec<ExportPosting>,
}

pub type EntriesQuery<'a> = journal_entries::BoxedQuery<'a, crate::db::DbBackend>;

/// A fund's entries with an effective date in the range, after a sequence.
pub fn entries_in_range<'a>(
    fund_id: i64,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    after: Option<i64>,
) -> EntriesQuery<'a> {
    let mut query = journal_entries::table
        .filter(journal_entries::fund_id.eq(fund_id))
        .into_boxed();
    if let Some(from) = from {
        query = query.filter(journal_entries::effective_date.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(journal_entries::effective_date.le(to));
    }
    if let Some(after) = after {
        query = query.filter(journal_entries::sequence.gt(after));
    }
    query
}

type EntryRow = (
    String,
    i64,
    NaiveDate,
    NaiveDateTime,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
);

/// Walks the export's entries in sequence order.
pub struct EntryReader {
    fund_id: i64,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    /// The last sequence read.
    position: i64,
    /// The last sequence to read (the page end), if the export is limited.
    end: Option<i64>,
    done: bool,
}

impl EntryReader {
    pub fn new(x: &LedgerExport) -> EntryReader {
        EntryReader {
            fund_id: x.fund.id,
            from: x.request.from,
            to: x.request.to,
            position: x.request.after.unwrap_or(0),
            end: x.page_end,
            done: false,
        }
    }

    /// The next page of entries with their postings, or `None` at the end.
    pub fn next_page(&mut self, conn: &mut DbConnection) -> AppResult<Option<Vec<ExportEntry>>> {
        if self.done {
            return Ok(None);
        }
        let mut query = entries_in_range(self.fund_id, self.from, self.to, Some(self.position));
        if let Some(end) = self.end {
            query = query.filter(journal_entries::sequence.le(end));
        }
        let rows: Vec<EntryRow> = query
            .order(journal_entries::sequence.asc())
            .limit(PAGE_SIZE)
            .select((
                journal_entries::id,
                journal_entries::sequence,
                journal_entries::effective_date,
                journal_entries::recorded_at,
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
        if (rows.len() as i64) < PAGE_SIZE {
            self.done = true;
        }
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(None);
        };
        let (first, last) = (first.1, last.1);
        self.position = last;
        // Postings of the page's sequence range; entries of the range outside
        // the date filter are dropped by matching on sequence below.
        let posting_rows: Vec<(i64, i32, i64, String, i64, String)> = postings::table
            .inner_join(journal_entries::table)
            .filter(journal_entries::fund_id.eq(self.fund_id))
            .filter(journal_entries::sequence.ge(first))
            .filter(journal_entries::sequence.le(last))
            .order((journal_entries::sequence.asc(), postings::line.asc()))
            .select((
                journal_entries::sequence,
                postings::line,
                postings::account_id,
                postings::side,
                postings::amount_minor,
                postings::currency,
            ))
            .load(conn)?;
        let mut posting_rows = posting_rows.into_iter().peekable();
        let mut entries = Vec::with_capacity(rows.len());
        for r in rows {
            let mut postings = Vec::new();
            while let Some(p) = posting_rows.next_if(|p| p.0 <= r.1) {
                if p.0 < r.1 {
                    continue; // an entry outside the date range
                }
                postings.push(ExportPosting {
                    line: p.1,
                    account_id: p.2,
                    side: Side::parse(&p.3).ok_or_else(|| AppError::internal("stored side"))?,
                    amount_minor: p.4,
                    currency: Currency::parse(&p.5).map_err(AppError::internal)?,
                });
            }
            entries.push(ExportEntry {
                id: r.0,
                sequence: r.1,
                effective_date: r.2,
                recorded_at: r.3,
                kind: r.4,
                memo: r.5,
                source_type: r.6,
                source_id: r.7,
                created_by: r.8,
                reverses: r.9,
                previous_hash: r.10,
                hash: r.11,
                postings,
            });
        }
        Ok(Some(entries))
    }
}

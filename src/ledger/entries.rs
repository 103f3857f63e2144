//! Journal entries as the API shows them (postings by account code, and the
//! entry that reversed each), read by id or listed by date and sequence; and
//! the typed rows every reader of entries loads.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::chain::{CanonicalEntry, CanonicalPosting, RECORDED_AT_FORMAT};
use super::reader::{entries_in_range, EntryRange};
use super::Side;
use crate::db::schema::{accounts, funds, journal_entries, postings};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::funds::FundId;
use crate::money::Currency;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: String,
    pub side: Side,
    pub amount_minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone)]
pub struct JournalEntry {
    pub id: String,
    pub fund_code: String,
    pub sequence: i64,
    pub effective_date: NaiveDate,
    pub recorded_at: NaiveDateTime,
    pub kind: String,
    pub memo: String,
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    pub created_by: String,
    pub reverses: Option<String>,
    pub reversed_by: Option<String>,
    pub previous_hash: String,
    pub hash: String,
    pub postings: Vec<Posting>,
}

impl JournalEntry {
    /// The entry of a stored row, its fund's code, the entry that reversed it
    /// and its postings.
    pub(super) fn from_header(
        header: EntryHeader,
        fund_code: String,
        reversed_by: Option<String>,
        postings: Vec<Posting>,
    ) -> JournalEntry {
        JournalEntry {
            id: header.id,
            fund_code,
            sequence: header.sequence,
            effective_date: header.effective_date,
            recorded_at: header.recorded_at,
            kind: header.kind,
            memo: header.memo,
            source_type: header.source_type,
            source_id: header.source_id,
            created_by: header.created_by,
            reverses: header.reverses,
            reversed_by,
            previous_hash: header.previous_hash,
            hash: header.hash,
            postings,
        }
    }

    pub fn canonical(&self) -> CanonicalEntry<'_> {
        CanonicalEntry {
            fund: &self.fund_code,
            sequence: self.sequence,
            id: &self.id,
            effective_date: self.effective_date.to_string(),
            recorded_at: self.recorded_at.format(RECORDED_AT_FORMAT).to_string(),
            kind: &self.kind,
            memo: &self.memo,
            source_type: self.source_type.as_deref(),
            source_id: self.source_id.as_deref(),
            created_by: &self.created_by,
            reverses: self.reverses.as_deref(),
            postings: self
                .postings
                .iter()
                .map(|p| CanonicalPosting {
                    account: &p.account,
                    side: p.side.as_str(),
                    amount_minor: p.amount_minor,
                    currency: p.currency.code(),
                })
                .collect(),
        }
    }
}

/// Debits and credits per currency of a set of postings, in i128 (verification
/// adds stored postings, which it does not trust to be small).
pub(super) fn totals_by_currency<'a>(
    postings: impl Iterator<Item = (Side, i64, Currency)> + 'a,
) -> BTreeMap<Currency, (i128, i128)> {
    let mut totals: BTreeMap<Currency, (i128, i128)> = BTreeMap::new();
    for (side, amount, currency) in postings {
        let t = totals.entry(currency).or_default();
        match side {
            Side::Debit => t.0 += amount as i128,
            Side::Credit => t.1 += amount as i128,
        }
    }
    totals
}

/// A journal entry's row: everything but its fund (whoever reads it knows
/// which) and its postings.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(
    table_name = journal_entries,
    check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg)
)]
pub struct EntryHeader {
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
}

/// A posting's row (in line order) as the API lists it: side, amount and
/// currency (its account is read by code beside it).
#[derive(Debug, Queryable, Selectable)]
#[diesel(
    table_name = postings,
    check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg)
)]
struct PostingRow {
    side: String,
    amount_minor: i64,
    currency: String,
}

impl PostingRow {
    /// The posting, naming its account by `code`. A value that does not read
    /// is a database altered behind the ledger's back: a failure, not
    /// something to carry on with.
    fn with_account(self, code: String) -> AppResult<Posting> {
        let side = Side::parse(&self.side)
            .ok_or_else(|| AppError::internal(format!("stored side {:?}", self.side)))?;
        let currency = Currency::parse(&self.currency).map_err(AppError::internal)?;
        Ok(Posting {
            account: code,
            side,
            amount_minor: self.amount_minor,
            currency,
        })
    }
}

/// Which entries to list: by effective date range and after a sequence.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after_sequence: Option<i64>,
    pub limit: i64,
}

/// Entries of a fund in sequence order, with their postings.
pub fn list_entries(
    conn: &mut DbConnection,
    fund_id: FundId,
    filter: &EntryFilter,
) -> AppResult<Vec<JournalEntry>> {
    let range = EntryRange {
        from: filter.from,
        to: filter.to,
        after: filter.after_sequence,
        through: None,
    };
    let headers: Vec<EntryHeader> = entries_in_range(fund_id, &range)
        .order(journal_entries::sequence.asc())
        .limit(filter.limit)
        .select(EntryHeader::as_select())
        .load(conn)?;
    with_postings(conn, fund_id, headers)
}

pub fn find_entry(
    conn: &mut DbConnection,
    fund_id: FundId,
    entry_id: &str,
) -> AppResult<Option<JournalEntry>> {
    let headers: Vec<EntryHeader> = journal_entries::table
        .filter(journal_entries::fund_id.eq(fund_id))
        .filter(journal_entries::id.eq(entry_id))
        .select(EntryHeader::as_select())
        .load(conn)?;
    Ok(with_postings(conn, fund_id, headers)?.pop())
}

/// The entries of `headers` with their fund's code, their postings and the
/// entries that reversed them: three queries whatever their number.
fn with_postings(
    conn: &mut DbConnection,
    fund_id: FundId,
    headers: Vec<EntryHeader>,
) -> AppResult<Vec<JournalEntry>> {
    if headers.is_empty() {
        return Ok(Vec::new());
    }
    let fund_code: String = funds::table.find(fund_id).select(funds::code).first(conn)?;
    let ids: Vec<&str> = headers.iter().map(|h| h.id.as_str()).collect();
    let mut postings = postings_by_entry(conn, &ids)?;
    let reversed_by = reversed_by(conn, &ids)?;
    Ok(headers
        .into_iter()
        .map(|header| {
            let reversed_by = reversed_by.get(&header.id).cloned();
            let postings = postings.remove(&header.id).unwrap_or_default();
            JournalEntry::from_header(header, fund_code.clone(), reversed_by, postings)
        })
        .collect())
}

/// The postings of the entries `ids`, by entry id, in line order.
fn postings_by_entry(
    conn: &mut DbConnection,
    ids: &[&str],
) -> AppResult<HashMap<String, Vec<Posting>>> {
    let rows: Vec<(String, String, PostingRow)> = postings::table
        .inner_join(accounts::table)
        .filter(postings::entry_id.eq_any(ids))
        .order((postings::entry_id.asc(), postings::line.asc()))
        .select((postings::entry_id, accounts::code, PostingRow::as_select()))
        .load(conn)?;
    let mut by_entry: HashMap<String, Vec<Posting>> = HashMap::new();
    for (entry_id, account, row) in rows {
        let posting = row.with_account(account)?;
        by_entry.entry(entry_id).or_default().push(posting);
    }
    Ok(by_entry)
}

/// The entry that reversed each of the entries `ids` that has been reversed.
fn reversed_by(conn: &mut DbConnection, ids: &[&str]) -> AppResult<HashMap<String, String>> {
    let reversals: Vec<(Option<String>, String)> = journal_entries::table
        .filter(journal_entries::reverses.eq_any(ids))
        .select((journal_entries::reverses, journal_entries::id))
        .load(conn)?;
    Ok(reversals
        .into_iter()
        .filter_map(|(reverses, id)| reverses.map(|r| (r, id)))
        .collect())
}

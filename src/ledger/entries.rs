//! Journal entries: posting (with the balance, period and overdraft checks and
//! the hash chain), reversal and reading.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use super::booking::Booking;
use super::chain::{CanonicalEntry, CanonicalPosting, RECORDED_AT_FORMAT};
use super::limits::format_wide;
use super::Side;
use crate::db::schema::{accounts, funds, journal_entries, postings};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::money::{Currency, MAX_AMOUNT_MINOR};

/// The most postings one entry may carry.
pub const MAX_POSTINGS_PER_ENTRY: usize = 200;

#[derive(Debug, Clone)]
pub struct NewPosting {
    pub account: String,
    pub side: Side,
    pub amount_minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone)]
pub struct NewEntry {
    pub effective_date: NaiveDate,
    pub kind: &'static str,
    pub memo: String,
    /// The domain record the entry books (`("contribution", id)`).
    pub source: Option<(String, String)>,
    pub created_by: String,
    pub reverses: Option<String>,
    pub postings: Vec<NewPosting>,
}

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

pub(super) fn check_shape(entry: &NewEntry) -> AppResult<()> {
    if entry.postings.len() < 2 {
        return Err(AppError::field(
            "/postings",
            "too_few",
            "an entry needs at least two postings",
        ));
    }
    if entry.postings.len() > MAX_POSTINGS_PER_ENTRY {
        return Err(AppError::field(
            "/postings",
            "too_many",
            format!("an entry may have at most {MAX_POSTINGS_PER_ENTRY} postings"),
        ));
    }
    for p in &entry.postings {
        assert!(
            p.amount_minor > 0 && p.amount_minor <= MAX_AMOUNT_MINOR,
            "postings are validated positive before they reach the ledger"
        );
    }
    Ok(())
}

pub(super) fn check_balanced(entry: &NewEntry) -> AppResult<()> {
    let totals = totals_by_currency(
        entry
            .postings
            .iter()
            .map(|p| (p.side, p.amount_minor, p.currency)),
    );
    let unbalanced: Vec<_> = totals
        .iter()
        .filter(|(_, (d, c))| d != c)
        .map(|(currency, (d, c))| {
            json!({
                "currency": currency.code(),
                "debits": format_wide(*d, *currency),
                "credits": format_wide(*c, *currency),
            })
        })
        .collect();
    if !unbalanced.is_empty() {
        let detail = unbalanced
            .iter()
            .map(|u| {
                format!(
                    "{}: debits {} ≠ credits {}",
                    u["currency"].as_str().unwrap_or_default(),
                    u["debits"].as_str().unwrap_or_default(),
                    u["credits"].as_str().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(AppError::new(
            ErrorCode::EntryUnbalanced,
            format!("debits must equal credits in every currency: {detail}"),
        )
        .with("imbalances", unbalanced));
    }
    Ok(())
}

/// Books one entry in fund `fund_id` inside the caller's transaction: opens a
/// [`Booking`], posts, closes. See [`Booking::post`] for the checks.
pub fn post_entry(
    conn: &mut DbConnection,
    fund_id: i64,
    entry: NewEntry,
) -> AppResult<JournalEntry> {
    let mut booking = Booking::open(conn, fund_id)?;
    let booked = booking.post(conn, entry)?;
    booking.close(conn)?;
    Ok(booked)
}

pub(super) fn already_reversed(entry_id: &str) -> AppError {
    AppError::new(
        ErrorCode::AlreadyReversed,
        format!("entry {entry_id} has already been reversed; an entry is reversed once"),
    )
    .with("entry_id", entry_id)
}

/// A reversal to book: which entry, when, why and by whom.
#[derive(Debug, Clone)]
pub struct Reversal<'a> {
    pub entry_id: &'a str,
    /// Only entries of this kind may be reversed this way (manual reversals
    /// may not undo entries that a contribution or claim booked).
    pub only_kind: Option<&'a str>,
    pub effective_date: NaiveDate,
    pub memo: String,
    pub created_by: &'a str,
    /// The kind of the reversing entry.
    pub kind: &'static str,
}

/// Books the reversal of an entry: the same postings on opposite sides. An
/// entry is reversed at most once (a unique index on `reverses` holds this
/// across processes).
pub fn reverse_entry(
    conn: &mut DbConnection,
    booking: &mut Booking,
    reversal: Reversal,
) -> AppResult<JournalEntry> {
    let fund_id = booking.fund_id();
    let entry_id = reversal.entry_id;
    let original = find_entry(conn, fund_id, entry_id)?
        .ok_or_else(|| AppError::not_found(format!("no journal entry {entry_id} in this fund")))?;
    if let Some(kind) = reversal.only_kind {
        if original.kind != kind {
            return Err(AppError::new(
                ErrorCode::NotReversible,
                format!(
                    "entry {} is a {} entry booked for {} {}; reverse it through that record",
                    original.id,
                    original.kind,
                    original.source_type.as_deref().unwrap_or("another record"),
                    original.source_id.as_deref().unwrap_or_default()
                ),
            ));
        }
    }
    if let Some(by) = &original.reversed_by {
        return Err(already_reversed(&original.id).with("reversed_by", by));
    }
    booking.post(
        conn,
        NewEntry {
            effective_date: reversal.effective_date,
            kind: reversal.kind,
            memo: reversal.memo,
            source: original.source_type.clone().zip(original.source_id.clone()),
            created_by: reversal.created_by.to_string(),
            reverses: Some(original.id.clone()),
            postings: original
                .postings
                .iter()
                .map(|p| NewPosting {
                    account: p.account.clone(),
                    side: p.side.opposite(),
                    amount_minor: p.amount_minor,
                    currency: p.currency,
                })
                .collect(),
        },
    )
}

/// Books one reversal on its own: opens a [`Booking`], reverses, closes.
pub fn book_reversal(
    conn: &mut DbConnection,
    fund_id: i64,
    reversal: Reversal,
) -> AppResult<JournalEntry> {
    let mut booking = Booking::open(conn, fund_id)?;
    let entry = reverse_entry(conn, &mut booking, reversal)?;
    booking.close(conn)?;
    Ok(entry)
}

/// Which entries to list: by effective date range and after a sequence.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after_sequence: Option<i64>,
    pub limit: i64,
}

type EntryRow = (
    String,
    i64,
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

/// Entries of a fund in sequence order, with their postings.
pub fn list_entries(
    conn: &mut DbConnection,
    fund_id: i64,
    filter: &EntryFilter,
) -> AppResult<Vec<JournalEntry>> {
    let mut query = journal_entries::table
        .filter(journal_entries::fund_id.eq(fund_id))
        .into_boxed();
    if let Some(from) = filter.from {
        query = query.filter(journal_entries::effective_date.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(journal_entries::effective_date.le(to));
    }
    if let Some(after) = filter.after_sequence {
        query = query.filter(journal_entries::sequence.gt(after));
    }
    let rows: Vec<EntryRow> = query
        .order(journal_entries::sequence.asc())
        .limit(filter.limit)
        .select(journal_entries::all_columns)
        .load(conn)?;
    with_postings(conn, rows)
}

pub fn find_entry(
    conn: &mut DbConnection,
    fund_id: i64,
    entry_id: &str,
) -> AppResult<Option<JournalEntry>> {
    let rows: Vec<EntryRow> = journal_entries::table
        .filter(journal_entries::fund_id.eq(fund_id))
        .filter(journal_entries::id.eq(entry_id))
        .select(journal_entries::all_columns)
        .load(conn)?;
    Ok(with_postings(conn, rows)?.pop())
}

fn with_postings(conn: &mut DbConnection, rows: Vec<EntryRow>) -> AppResult<Vec<JournalEntry>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let fund_id = rows[0].1;
    let fund_code: String = funds::table.find(fund_id).select(funds::code).first(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let posting_rows: Vec<(String, String, String, i64, String)> = postings::table
        .inner_join(accounts::table)
        .filter(postings::entry_id.eq_any(&ids))
        .order((postings::entry_id.asc(), postings::line.asc()))
        .select((
            postings::entry_id,
            accounts::code,
            postings::side,
            postings::amount_minor,
            postings::currency,
        ))
        .load(conn)?;
    let reversals: Vec<(Option<String>, String)> = journal_entries::table
        .filter(journal_entries::reverses.eq_any(&ids))
        .select((journal_entries::reverses, journal_entries::id))
        .load(conn)?;
    let reversed_by: HashMap<String, String> = reversals
        .into_iter()
        .filter_map(|(reverses, id)| reverses.map(|r| (r, id)))
        .collect();
    let mut by_entry: HashMap<String, Vec<Posting>> = HashMap::new();
    for (entry_id, account, side, amount_minor, currency) in posting_rows {
        by_entry.entry(entry_id).or_default().push(Posting {
            account,
            side: Side::parse(&side).expect("stored sides are valid"),
            amount_minor,
            currency: Currency::parse(&currency).expect("stored currencies are valid"),
        });
    }
    Ok(rows
        .into_iter()
        .map(|r| JournalEntry {
            reversed_by: reversed_by.get(&r.0).cloned(),
            postings: by_entry.remove(&r.0).unwrap_or_default(),
            id: r.0,
            fund_code: fund_code.clone(),
            sequence: r.2,
            effective_date: r.3,
            recorded_at: r.4,
            kind: r.5,
            memo: r.6,
            source_type: r.7,
            source_id: r.8,
            created_by: r.9,
            reverses: r.10,
            previous_hash: r.11,
            hash: r.12,
        })
        .collect())
}

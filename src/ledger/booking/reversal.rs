//! Reversing an entry: the same postings on opposite sides, booked once.

use chrono::NaiveDate;

use super::{Booking, NewEntry, NewPosting};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::FundId;
use crate::ledger::entries::{find_entry, JournalEntry};

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

/// Books one reversal on its own: opens a [`Booking`], reverses, closes.
pub fn book_reversal(
    conn: &mut DbConnection,
    fund_id: FundId,
    reversal: Reversal,
) -> AppResult<JournalEntry> {
    super::book_alone(conn, fund_id, |conn, booking| {
        reverse_entry(conn, booking, reversal)
    })
}

/// Books the reversal of an entry: the same postings on opposite sides. An
/// entry is reversed at most once (a unique index on `reverses` holds this
/// across processes).
pub fn reverse_entry(
    conn: &mut DbConnection,
    booking: &mut Booking,
    reversal: Reversal,
) -> AppResult<JournalEntry> {
    let original = find_reversible(conn, booking.fund_id(), &reversal)?;
    booking.post(conn, reversing_entry(&original, reversal))
}

/// The entry to reverse: one of the fund's, of the kind the reversal allows,
/// not reversed yet.
fn find_reversible(
    conn: &mut DbConnection,
    fund_id: FundId,
    reversal: &Reversal,
) -> AppResult<JournalEntry> {
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
    Ok(original)
}

/// The entry that undoes `original`: its postings on opposite sides, for the
/// same source record.
fn reversing_entry(original: &JournalEntry, reversal: Reversal) -> NewEntry {
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
    }
}

/// The refusal of a second reversal of `entry_id`.
pub(super) fn already_reversed(entry_id: &str) -> AppError {
    AppError::new(
        ErrorCode::AlreadyReversed,
        format!("entry {entry_id} has already been reversed; an entry is reversed once"),
    )
    .with("entry_id", entry_id)
}

//! Verification checkpoints: a verification that found no problem, signed off
//! with when and by whom. A checkpoint keeps the sequence and hash the chain
//! was verified through and each account's totals re-added through it, so that
//! a later run (`verify_fund_since_checkpoint`) walks only the entries after
//! it. The checkpoint of the highest sequence is the latest.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::verify::Verification;
use crate::db::schema::{
    journal_entries, verification_checkpoint_totals, verification_checkpoints,
};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::funds::FundId;

/// A verification that found no problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationCheckpoint {
    pub id: i64,
    /// The chain was verified through this sequence (0: an empty ledger).
    pub sequence: i64,
    /// The hash of the entry at `sequence` (64 zeros for an empty ledger).
    pub hash: String,
    /// The entries the verification walked (all of them when `full`).
    pub entries_checked: i64,
    /// Whether the verification walked the whole chain; otherwise it started
    /// from an earlier checkpoint.
    pub full: bool,
    /// RFC 3339 UTC.
    pub verified_at: String,
    /// Who asked: the token's subject, or the OS user running `mwf verify`.
    pub verified_by: String,
}

#[derive(Queryable, Selectable)]
#[diesel(
    table_name = verification_checkpoints,
    check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg)
)]
struct CheckpointRow {
    id: i64,
    sequence: i64,
    hash: String,
    entries_checked: i64,
    full: bool,
    verified_at: NaiveDateTime,
    verified_by: String,
}

impl From<CheckpointRow> for VerificationCheckpoint {
    fn from(r: CheckpointRow) -> VerificationCheckpoint {
        VerificationCheckpoint {
            id: r.id,
            sequence: r.sequence,
            hash: r.hash,
            entries_checked: r.entries_checked,
            full: r.full,
            verified_at: crate::time::rfc3339(r.verified_at),
            verified_by: r.verified_by,
        }
    }
}

/// The fund's latest checkpoint: the one of the highest sequence (the last
/// recorded of those).
pub fn latest(
    conn: &mut DbConnection,
    fund_id: FundId,
) -> AppResult<Option<VerificationCheckpoint>> {
    let row = verification_checkpoints::table
        .filter(verification_checkpoints::fund_id.eq(fund_id))
        .order((
            verification_checkpoints::sequence.desc(),
            verification_checkpoints::id.desc(),
        ))
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(VerificationCheckpoint::from))
}

/// The fund's checkpoints after id `after`, oldest first, at most `limit`.
pub fn list_checkpoints(
    conn: &mut DbConnection,
    fund_id: FundId,
    after: i64,
    limit: i64,
) -> AppResult<Vec<VerificationCheckpoint>> {
    let rows = verification_checkpoints::table
        .filter(verification_checkpoints::fund_id.eq(fund_id))
        .filter(verification_checkpoints::id.gt(after))
        .order(verification_checkpoints::id.asc())
        .limit(limit)
        .select(CheckpointRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(VerificationCheckpoint::from).collect())
}

/// The id and stored hash of the fund's entry at `sequence`.
pub(super) fn entry_at(
    conn: &mut DbConnection,
    fund_id: FundId,
    sequence: i64,
) -> AppResult<Option<(String, String)>> {
    Ok(journal_entries::table
        .filter(journal_entries::fund_id.eq(fund_id))
        .filter(journal_entries::sequence.eq(sequence))
        .select((journal_entries::id, journal_entries::hash))
        .first(conn)
        .optional()?)
}

/// Each account's debits and credits kept with checkpoint `id`.
pub(super) fn totals(conn: &mut DbConnection, id: i64) -> AppResult<Vec<(i64, i64, i64)>> {
    Ok(verification_checkpoint_totals::table
        .filter(verification_checkpoint_totals::checkpoint_id.eq(id))
        .select((
            verification_checkpoint_totals::account_id,
            verification_checkpoint_totals::debits_minor,
            verification_checkpoint_totals::credits_minor,
        ))
        .load(conn)?)
}

/// Records `report` as a checkpoint of fund `fund_id` signed off by
/// `verified_by`, if it found no problem (`None` otherwise). Call in a write
/// transaction after the verification's read snapshot: entries never change,
/// so the sequence and hash it verified stay true.
pub fn record_checkpoint(
    conn: &mut DbConnection,
    fund_id: FundId,
    report: &Verification,
    verified_by: &str,
) -> AppResult<Option<VerificationCheckpoint>> {
    if !report.ok {
        return Ok(None);
    }
    let mut totals = Vec::with_capacity(report.account_totals.len());
    for &(account_id, debits, credits) in &report.account_totals {
        // A report without problems has every total within the limits.
        let (Ok(debits), Ok(credits)) = (i64::try_from(debits), i64::try_from(credits)) else {
            return Ok(None);
        };
        totals.push((account_id, debits, credits));
    }
    let verified_at = crate::time::now();
    let id: i64 = diesel::insert_into(verification_checkpoints::table)
        .values((
            verification_checkpoints::fund_id.eq(fund_id),
            verification_checkpoints::sequence.eq(report.last_sequence),
            verification_checkpoints::hash.eq(&report.chain_head),
            verification_checkpoints::entries_checked.eq(report.entries_checked),
            verification_checkpoints::full.eq(report.checkpoint.is_none()),
            verification_checkpoints::verified_at.eq(verified_at),
            verification_checkpoints::verified_by.eq(verified_by),
        ))
        .returning(verification_checkpoints::id)
        .get_result(conn)?;
    let rows: Vec<_> = totals
        .iter()
        .map(|&(account_id, debits, credits)| {
            (
                verification_checkpoint_totals::checkpoint_id.eq(id),
                verification_checkpoint_totals::account_id.eq(account_id),
                verification_checkpoint_totals::debits_minor.eq(debits),
                verification_checkpoint_totals::credits_minor.eq(credits),
            )
        })
        .collect();
    crate::insert_rows!(conn, verification_checkpoint_totals::table, rows)?;
    Ok(Some(VerificationCheckpoint {
        id,
        sequence: report.last_sequence,
        hash: report.chain_head.clone(),
        entries_checked: report.entries_checked,
        full: report.checkpoint.is_none(),
        verified_at: crate::time::rfc3339(verified_at),
        verified_by: verified_by.to_string(),
    }))
}

//! The `recoveries` and `recovery_settlements` rows: reading and inserting.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::{settlement_from, NewRecovery, NewSettlement, Recovery, RecoveryStatus, Settlement};
use crate::claims::Claim;
use crate::db::schema::{recoveries, recovery_settlements};
use crate::db::{is_unique_violation, DbConnection};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::{Fund, FundId};
use crate::money::Currency;
use crate::parties::Party;

/// Statuses of a recovery that still owes something.
const OUTSTANDING: [&str; 2] = ["open", "partly_settled"];

/// Inserts a recovery just booked by `entry_id`. The partial unique index is
/// the last word on one open recovery per claim and party.
#[allow(clippy::too_many_arguments)]
pub(super) fn insert(
    conn: &mut DbConnection,
    fund: &Fund,
    claim: &Claim,
    party: &Party,
    id: &str,
    new: &NewRecovery,
    entry_id: &str,
    by: &str,
) -> AppResult<Recovery> {
    let row = RecoveryRow {
        id: id.to_string(),
        fund_id: fund.id,
        claim_id: claim.id.clone(),
        party_id: party.id.clone(),
        currency: claim.currency.code().to_string(),
        amount_minor: new.amount_minor,
        settled_minor: 0,
        written_off_minor: 0,
        status: RecoveryStatus::Open.as_str().to_string(),
        reason: new.reason.clone(),
        legal_basis: new.legal_basis.clone(),
        opening_entry_id: entry_id.to_string(),
        write_off_reason: None,
        write_off_entry_id: None,
        written_off_by: None,
        written_off_at: None,
        created_at: crate::time::now(),
        created_by: by.to_string(),
    };
    match diesel::insert_into(recoveries::table)
        .values(&row)
        .execute(conn)
    {
        Ok(_) => Ok(row.into_recovery(fund.code.clone())),
        Err(e) if is_unique_violation(&e) => Err(AppError::new(
            ErrorCode::RecoveryAlreadyOpen,
            format!(
                "claim {} already has a recovery open from party {}",
                claim.id, party.id
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn insert_settlement(
    conn: &mut DbConnection,
    recovery: &Recovery,
    id: &str,
    new: &NewSettlement,
    entry_id: &str,
    by: &str,
) -> AppResult<Settlement> {
    let row = SettlementRow {
        id: id.to_string(),
        recovery_id: recovery.id.clone(),
        party_id: recovery.party_id.clone(),
        source: new.source.as_str().to_string(),
        amount_minor: new.amount_minor,
        received_on: new.received_on,
        reference: new.reference.clone(),
        journal_entry_id: entry_id.to_string(),
        created_at: crate::time::now(),
        created_by: by.to_string(),
    };
    diesel::insert_into(recovery_settlements::table)
        .values(&row)
        .execute(conn)?;
    Ok(settlement_from(row))
}

/// The open (or partly settled) recovery of this claim from this party, if any.
pub(super) fn open_for(
    conn: &mut DbConnection,
    claim_id: &str,
    party_id: &str,
) -> AppResult<Option<String>> {
    Ok(recoveries::table
        .filter(recoveries::claim_id.eq(claim_id))
        .filter(recoveries::party_id.eq(party_id))
        .filter(recoveries::status.eq_any(OUTSTANDING))
        .select(recoveries::id)
        .first(conn)
        .optional()?)
}

/// What the claim's recoveries stand for: their amounts less what was written off.
pub(super) fn recovered_of_claim(conn: &mut DbConnection, claim_id: &str) -> AppResult<i64> {
    let rows: Vec<(i64, i64)> = recoveries::table
        .filter(recoveries::claim_id.eq(claim_id))
        .select((recoveries::amount_minor, recoveries::written_off_minor))
        .load(conn)?;
    Ok(rows.iter().map(|(amount, off)| amount - off).sum())
}

/// The recovery as committed, in `fund` (read under its lock).
pub(super) fn current(conn: &mut DbConnection, fund: &Fund, id: &str) -> AppResult<Recovery> {
    recoveries::table
        .find(id)
        .filter(recoveries::fund_id.eq(fund.id))
        .select(RecoveryRow::as_select())
        .first(conn)
        .optional()?
        .map(|row| row.into_recovery(fund.code.clone()))
        .ok_or_else(|| AppError::not_found(format!("no recovery {id}")))
}

/// A recovery with its fund's code (the caller's scope is checked by the caller).
pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<Recovery>> {
    let Some(row) = recoveries::table
        .find(id)
        .select(RecoveryRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let fund_code = crate::funds::fund_code(conn, row.fund_id)?;
    Ok(Some(row.into_recovery(fund_code)))
}

/// A recovery's settlements, oldest first.
pub fn settlements_of(conn: &mut DbConnection, recovery_id: &str) -> AppResult<Vec<Settlement>> {
    Ok(recovery_settlements::table
        .filter(recovery_settlements::recovery_id.eq(recovery_id))
        .order(recovery_settlements::id.asc())
        .select(SettlementRow::as_select())
        .load(conn)?
        .into_iter()
        .map(settlement_from)
        .collect())
}

/// Which recoveries a list shows.
#[derive(Debug, Clone, Default)]
pub struct RecoveryFilter {
    pub status: Option<RecoveryStatus>,
    pub party_id: Option<String>,
    pub claim_id: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

/// A fund's recoveries in the order they were opened.
pub fn list(
    conn: &mut DbConnection,
    fund: &Fund,
    filter: &RecoveryFilter,
) -> AppResult<Vec<Recovery>> {
    let mut query = recoveries::table
        .filter(recoveries::fund_id.eq(fund.id))
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(recoveries::status.eq(status.as_str()));
    }
    if let Some(party) = &filter.party_id {
        query = query.filter(recoveries::party_id.eq(party.clone()));
    }
    if let Some(claim) = &filter.claim_id {
        query = query.filter(recoveries::claim_id.eq(claim.clone()));
    }
    if let Some(after) = &filter.after {
        query = query.filter(recoveries::id.gt(after.clone()));
    }
    Ok(query
        .order(recoveries::id.asc())
        .limit(filter.limit)
        .select(RecoveryRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| row.into_recovery(fund.code.clone()))
        .collect())
}

/// A `recoveries` row, read and inserted whole.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = recoveries, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
struct RecoveryRow {
    id: String,
    fund_id: FundId,
    claim_id: String,
    party_id: String,
    currency: String,
    amount_minor: i64,
    settled_minor: i64,
    written_off_minor: i64,
    status: String,
    reason: String,
    legal_basis: Option<String>,
    opening_entry_id: String,
    write_off_reason: Option<String>,
    write_off_entry_id: Option<String>,
    written_off_by: Option<String>,
    written_off_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    created_by: String,
}

impl RecoveryRow {
    fn into_recovery(self, fund_code: String) -> Recovery {
        Recovery {
            id: self.id,
            fund_code,
            claim_id: self.claim_id,
            party_id: self.party_id,
            currency: Currency::parse(&self.currency).expect("stored currencies are valid"),
            amount_minor: self.amount_minor,
            settled_minor: self.settled_minor,
            written_off_minor: self.written_off_minor,
            status: RecoveryStatus::parse(&self.status),
            reason: self.reason,
            legal_basis: self.legal_basis,
            opening_entry_id: self.opening_entry_id,
            write_off_reason: self.write_off_reason,
            write_off_entry_id: self.write_off_entry_id,
            written_off_by: self.written_off_by,
            written_off_at: self.written_off_at,
            created_at: self.created_at,
            created_by: self.created_by,
        }
    }
}

/// A `recovery_settlements` row, read and inserted whole.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = recovery_settlements, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
pub(super) struct SettlementRow {
    pub id: String,
    pub recovery_id: String,
    pub party_id: String,
    pub source: String,
    pub amount_minor: i64,
    pub received_on: NaiveDate,
    pub reference: Option<String>,
    pub journal_entry_id: String,
    pub created_at: NaiveDateTime,
    pub created_by: String,
}

//! The domain event feed for partner systems that poll. Event ids come from a
//! one-row counter updated inside the writing transaction, so ids are handed out
//! in commit order on any number of processes: a poller that remembers the last id
//! it saw never misses an event committed later with a smaller id.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::{event_counter, events};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};

/// Event types.
pub mod kind {
    pub const WORKER_ENROLLED: &str = "worker.enrolled";
    pub const CONTRIBUTION_RECORDED: &str = "contribution.recorded";
    pub const CONTRIBUTION_REVERSED: &str = "contribution.reversed";
    pub const CLAIM_SUBMITTED: &str = "claim.submitted";
    pub const CLAIM_REASSESSED: &str = "claim.reassessed";
    pub const CLAIM_DECIDED: &str = "claim.decided";
    pub const CLAIM_APPROVAL_GIVEN: &str = "claim.approval_given";
    pub const CLAIM_APPROVED: &str = "claim.approved";
    pub const CLAIM_REJECTED: &str = "claim.rejected";
    pub const CLAIM_AWAITING_FUNDS: &str = "claim.awaiting_funds";
    pub const CLAIM_PAID: &str = "claim.paid";
    pub const CLAIM_WITHDRAWN: &str = "claim.withdrawn";
    pub const CLAIM_APPEALED: &str = "claim.appealed";
    /// A decision no longer stands on fresh facts; the claim is back with an officer.
    pub const CLAIM_REVIEW_REQUIRED: &str = "claim.review_required";
    /// The award booked at approval was reversed (the claim was rejected or reduced on review).
    pub const CLAIM_AWARD_REVERSED: &str = "claim.award_reversed";
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub fund_code: String,
    pub event_type: &'static str,
    pub subject_id: String,
    pub payload: Value,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub occurred_at: NaiveDateTime,
    pub fund_code: String,
    pub event_type: String,
    pub subject_id: String,
    pub payload: Value,
}

/// An `events` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = events, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct EventRow {
    id: i64,
    occurred_at: NaiveDateTime,
    fund_code: String,
    event_type: String,
    subject_id: String,
    payload: String,
}

impl EventRow {
    fn into_event(self) -> AppResult<Event> {
        Ok(Event {
            id: self.id,
            occurred_at: self.occurred_at,
            fund_code: self.fund_code,
            event_type: self.event_type,
            subject_id: self.subject_id,
            payload: serde_json::from_str(&self.payload)
                .map_err(|e| AppError::internal(format!("event payload: {e}")))?,
        })
    }
}

/// An `events` row to insert.
#[derive(Insertable)]
#[diesel(table_name = events)]
struct NewEventRow<'a> {
    id: i64,
    occurred_at: NaiveDateTime,
    fund_code: &'a str,
    event_type: &'a str,
    subject_id: &'a str,
    payload: &'a str,
}

/// Appends events at the end of the caller's transaction. Call it last: the
/// counter row stays locked until commit.
pub fn append(conn: &mut DbConnection, new: &[NewEvent]) -> AppResult<()> {
    if new.is_empty() {
        return Ok(());
    }
    let last: i64 = diesel::update(event_counter::table.find(1))
        .set(event_counter::last_id.eq(event_counter::last_id + new.len() as i64))
        .returning(event_counter::last_id)
        .get_result(conn)?;
    let first = last - new.len() as i64 + 1;
    let now = crate::time::now();
    let payloads: Vec<String> = new.iter().map(|e| e.payload.to_string()).collect();
    let rows: Vec<_> = new
        .iter()
        .zip(&payloads)
        .enumerate()
        .map(|(i, (event, payload))| NewEventRow {
            id: first + i as i64,
            occurred_at: now,
            fund_code: &event.fund_code,
            event_type: event.event_type,
            subject_id: &event.subject_id,
            payload,
        })
        .collect();
    crate::insert_rows!(conn, events::table, rows)?;
    Ok(())
}

/// Events after `after_id`, oldest first, limited to `fund_codes` unless `None`.
pub fn list(
    conn: &mut DbConnection,
    fund_codes: Option<&[String]>,
    after_id: i64,
    limit: i64,
) -> AppResult<Vec<Event>> {
    let mut query = events::table.filter(events::id.gt(after_id)).into_boxed();
    if let Some(codes) = fund_codes {
        query = query.filter(events::fund_code.eq_any(codes));
    }
    let rows: Vec<EventRow> = query
        .order(events::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    rows.into_iter().map(EventRow::into_event).collect()
}

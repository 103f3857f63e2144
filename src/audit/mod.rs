//! The audit log: who did what to which target, when, under which request, and
//! how it ended. Successful changes are recorded in the same transaction as the
//! change; refused requests are recorded on their own.

pub mod events;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::Caller;
use crate::db::schema::audit_log;
use crate::db::DbConnection;
use crate::error::AppResult;

/// What one audit record says.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub action: String,
    pub fund_code: Option<String>,
    pub target: Option<String>,
    pub request_id: String,
    /// `succeeded`, or `refused:<CODE>`.
    pub outcome: String,
    pub status: u16,
}

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: NaiveDateTime,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub fund_code: Option<String>,
    pub target: Option<String>,
    pub request_id: String,
    pub outcome: String,
    pub status: i32,
}

/// A new `audit_log` row: its id is assigned by the database. `None` is
/// written as NULL, as multi-row inserts on SQLite require.
#[derive(Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
struct NewAuditRow<'a> {
    occurred_at: NaiveDateTime,
    actor: &'a str,
    role: &'a str,
    action: &'a str,
    fund_code: Option<&'a str>,
    target: Option<&'a str>,
    request_id: &'a str,
    outcome: &'a str,
    status: i32,
}

pub fn record(conn: &mut DbConnection, caller: &Caller, record: &AuditRecord) -> AppResult<()> {
    record_all(conn, &[(caller, record)])
}

/// Writes several audit records with one multi-row INSERT (a group of requests).
pub fn record_all(conn: &mut DbConnection, records: &[(&Caller, &AuditRecord)]) -> AppResult<()> {
    let now = crate::time::now();
    let rows: Vec<_> = records
        .iter()
        .map(|(caller, record)| NewAuditRow {
            occurred_at: now,
            actor: &caller.subject,
            role: caller.role.as_str(),
            action: &record.action,
            fund_code: record.fund_code.as_deref(),
            target: record.target.as_deref(),
            request_id: &record.request_id,
            outcome: &record.outcome,
            status: record.status as i32,
        })
        .collect();
    crate::insert_rows!(conn, audit_log::table, rows)?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub actor: Option<String>,
    /// Only records for these funds unless `None` (records with no fund, the
    /// refusals of unknown ids, are read only by tokens of every fund).
    pub fund_codes: Option<Vec<String>>,
    pub after_id: i64,
    pub limit: i64,
}

/// An `audit_log` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct AuditRow {
    id: i64,
    occurred_at: NaiveDateTime,
    actor: String,
    role: String,
    action: String,
    fund_code: Option<String>,
    target: Option<String>,
    request_id: String,
    outcome: String,
    status: i32,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> AuditEntry {
        AuditEntry {
            id: row.id,
            occurred_at: row.occurred_at,
            actor: row.actor,
            role: row.role,
            action: row.action,
            fund_code: row.fund_code,
            target: row.target,
            request_id: row.request_id,
            outcome: row.outcome,
            status: row.status,
        }
    }
}

pub fn list(conn: &mut DbConnection, filter: &AuditFilter) -> AppResult<Vec<AuditEntry>> {
    let mut query = audit_log::table
        .filter(audit_log::id.gt(filter.after_id))
        .into_boxed();
    if let Some(from) = filter.from {
        query = query.filter(audit_log::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::occurred_at.lt(to));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_log::actor.eq(actor));
    }
    if let Some(codes) = &filter.fund_codes {
        query = query.filter(audit_log::fund_code.eq_any(codes.clone()));
    }
    let rows: Vec<AuditRow> = query
        .order(audit_log::id.asc())
        .limit(filter.limit)
        .select(AuditRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}

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

pub fn record(conn: &mut DbConnection, caller: &Caller, record: &AuditRecord) -> AppResult<()> {
    record_all(conn, &[(caller, record)])
}

/// Writes several audit records with one multi-row INSERT (a group of requests).
pub fn record_all(conn: &mut DbConnection, records: &[(&Caller, &AuditRecord)]) -> AppResult<()> {
    let now = crate::time::now();
    let rows: Vec<_> = records
        .iter()
        .map(|(caller, record)| {
            (
                audit_log::occurred_at.eq(now),
                audit_log::actor.eq(&caller.subject),
                audit_log::role.eq(caller.role.as_str()),
                audit_log::action.eq(&record.action),
                audit_log::fund_code.eq(&record.fund_code),
                audit_log::target.eq(&record.target),
                audit_log::request_id.eq(&record.request_id),
                audit_log::outcome.eq(&record.outcome),
                audit_log::status.eq(record.status as i32),
            )
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

type AuditRow = (
    i64,
    NaiveDateTime,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    i32,
);

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
        .select(audit_log::all_columns)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.0,
            occurred_at: r.1,
            actor: r.2,
            role: r.3,
            action: r.4,
            fund_code: r.5,
            target: r.6,
            request_id: r.7,
            outcome: r.8,
            status: r.9,
        })
        .collect())
}

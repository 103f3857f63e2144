//! The audit-log export: every record the filter selects, oldest first, as CSV
//! or JSON Lines, read a page at a time.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use super::csv_text;
use crate::audit::{self, AuditEntry, AuditFilter};
use crate::db::DbConnection;
use crate::progress::Progress;
use crate::time::rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    Csv,
    Jsonl,
}

impl AuditFormat {
    pub fn parse(s: &str) -> Option<AuditFormat> {
        match s {
            "csv" => Some(AuditFormat::Csv),
            "jsonl" => Some(AuditFormat::Jsonl),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            AuditFormat::Csv => "text/csv; charset=utf-8",
            AuditFormat::Jsonl => "application/jsonl; charset=utf-8",
        }
    }
}

const PAGE: i64 = 5_000;

#[derive(Serialize)]
struct Record<'a> {
    id: i64,
    occurred_at: String,
    actor: Cow<'a, str>,
    role: Cow<'a, str>,
    action: Cow<'a, str>,
    fund: Option<Cow<'a, str>>,
    target: Option<Cow<'a, str>>,
    request_id: Cow<'a, str>,
    outcome: Cow<'a, str>,
    status: i32,
}

impl<'a> Record<'a> {
    fn of(e: &'a AuditEntry) -> Record<'a> {
        Record {
            id: e.id,
            occurred_at: rfc3339(e.occurred_at),
            actor: Cow::Borrowed(&e.actor),
            role: Cow::Borrowed(&e.role),
            action: Cow::Borrowed(&e.action),
            fund: e.fund_code.as_deref().map(Cow::Borrowed),
            target: e.target.as_deref().map(Cow::Borrowed),
            request_id: Cow::Borrowed(&e.request_id),
            outcome: Cow::Borrowed(&e.outcome),
            status: e.status,
        }
    }

    /// The record as a CSV row: every text cell through [`csv_text`] (a
    /// subject or target chosen by a caller may look like a formula).
    fn for_csv(e: &'a AuditEntry) -> Record<'a> {
        Record {
            actor: csv_text(&e.actor),
            role: csv_text(&e.role),
            action: csv_text(&e.action),
            fund: e.fund_code.as_deref().map(csv_text),
            target: e.target.as_deref().map(csv_text),
            request_id: csv_text(&e.request_id),
            outcome: csv_text(&e.outcome),
            ..Record::of(e)
        }
    }
}

/// Writes the audit records `filter` selects (its `after_id` is the start and
/// its `limit` is ignored); returns how many were written.
pub fn write_audit_log(
    conn: &mut DbConnection,
    filter: AuditFilter,
    format: AuditFormat,
    out: &mut dyn Write,
    progress: &mut Progress,
) -> io::Result<u64> {
    let written = match format {
        AuditFormat::Csv => {
            // Records serialise to the header's columns, in field order.
            let mut w = ::csv::Writer::from_writer(&mut *out);
            let n = for_each_record(conn, filter, progress, |e| {
                w.serialize(Record::for_csv(e)).map_err(io::Error::other)
            })?;
            if n == 0 {
                w.write_record([
                    "id",
                    "occurred_at",
                    "actor",
                    "role",
                    "action",
                    "fund",
                    "target",
                    "request_id",
                    "outcome",
                    "status",
                ])?;
            }
            w.flush()?;
            n
        }
        AuditFormat::Jsonl => for_each_record(conn, filter, progress, |e| {
            serde_json::to_writer(&mut *out, &Record::of(e))?;
            out.write_all(b"\n")
        })?,
    };
    out.flush()?;
    Ok(written)
}

fn for_each_record(
    conn: &mut DbConnection,
    mut filter: AuditFilter,
    progress: &mut Progress,
    mut write: impl FnMut(&AuditEntry) -> io::Result<()>,
) -> io::Result<u64> {
    filter.limit = PAGE;
    let mut written = 0;
    loop {
        let page = audit::list(conn, &filter).map_err(super::io_error)?;
        for e in &page {
            write(e)?;
        }
        written += page.len() as u64;
        progress.add(page.len() as u64);
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => filter.after_id = last.id,
            _ => return Ok(written),
        }
    }
}

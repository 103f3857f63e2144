//! Claim rows: reading and writing claims, their documents and approvals.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::{AssessmentRecord, Claim, ClaimStatus, StoredAssessment};
use crate::db::schema::{claim_approvals, claim_assessments, claim_documents, claims};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use crate::rules::document::{Phase, Relationship};

type ClaimRow = (
    (
        String,
        i64,
        String,
        String,
        Option<String>,
        NaiveDate,
        String,
        NaiveDate,
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
        String,
        String,
    ),
    (
        String,
        i64,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<String>,
        Option<String>,
        Option<NaiveDate>,
        Option<String>,
        bool,
        NaiveDateTime,
        String,
    ),
    Option<NaiveDateTime>,
);

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> AppResult<T> {
    serde_json::from_str(&format!("\"{text}\""))
        .map_err(|e| AppError::internal(format!("stored claim field {text}: {e}")))
}

fn from_row(r: ClaimRow) -> AppResult<Claim> {
    let (a, b, queued_at) = r;
    let assessment: StoredAssessment = serde_json::from_str(&b.0)
        .map_err(|e| AppError::internal(format!("stored assessment: {e}")))?;
    Ok(Claim {
        id: a.0,
        fund_id: a.1,
        worker_id: a.2,
        benefit: a.3,
        rider_of: a.4,
        incident_date: a.5,
        incident_phase: parse::<Phase>(&a.6)?,
        filed_on: a.7,
        claimant_relationship: parse::<Relationship>(&a.8)?,
        dependant_id: a.9,
        claimed_amount_minor: a.10,
        grade: a.11,
        description: a.12,
        currency: Currency::parse(&a.13).map_err(|e| AppError::internal(e.to_string()))?,
        status: ClaimStatus::parse(&a.14)
            .ok_or_else(|| AppError::internal(format!("stored claim status {}", a.14)))?,
        rule_version: assessment.rule_version.clone(),
        assessment,
        payable_minor: b.1,
        decision_outcome: b.2,
        decided_amount_minor: b.3,
        decision_reasons: match b.4 {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| AppError::internal(format!("stored reasons: {e}")))?,
            None => Vec::new(),
        },
        decision_note: b.5,
        decided_by: b.6,
        decided_at: b.7,
        approved_at: b.8,
        approval_entry_id: b.9,
        payment_entry_id: b.10,
        paid_on: b.11,
        payee_reference: b.12,
        appealed: b.13,
        created_at: b.14,
        created_by: b.15,
        queued_at,
        documents: Vec::new(),
        approvals: Vec::new(),
        assessments: Vec::new(),
    })
}

macro_rules! claim_columns {
    () => {
        (
            (
                claims::id,
                claims::fund_id,
                claims::worker_id,
                claims::benefit,
                claims::rider_of,
                claims::incident_date,
                claims::incident_phase,
                claims::filed_on,
                claims::claimant_relationship,
                claims::dependant_id,
                claims::claimed_amount_minor,
                claims::grade,
                claims::description,
                claims::currency,
                claims::status,
            ),
            (
                claims::assessment,
                claims::payable_minor,
                claims::decision_outcome,
                claims::decided_amount_minor,
                claims::decision_reasons,
                claims::decision_note,
                claims::decided_by,
                claims::decided_at,
                claims::approved_at,
                claims::approval_entry_id,
                claims::payment_entry_id,
                claims::paid_on,
                claims::payee_reference,
                claims::appealed,
                claims::created_at,
                claims::created_by,
            ),
            claims::queued_at,
        )
    };
}

/// (claim id, when, cause, by whom, the assessment as JSON).
type AssessmentRow = (String, NaiveDateTime, String, String, String);

fn with_details(conn: &mut DbConnection, rows: Vec<ClaimRow>) -> AppResult<Vec<Claim>> {
    let mut out = rows
        .into_iter()
        .map(from_row)
        .collect::<AppResult<Vec<Claim>>>()?;
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<String> = out.iter().map(|c| c.id.clone()).collect();
    let documents: Vec<(String, String, String)> = claim_documents::table
        .filter(claim_documents::claim_id.eq_any(&ids))
        .order((claim_documents::claim_id.asc(), claim_documents::line.asc()))
        .select((
            claim_documents::claim_id,
            claim_documents::document_type,
            claim_documents::reference,
        ))
        .load(conn)?;
    let approvals: Vec<(String, String, Option<String>, NaiveDateTime)> = claim_approvals::table
        .filter(claim_approvals::claim_id.eq_any(&ids))
        .order(claim_approvals::approved_at.asc())
        .select((
            claim_approvals::claim_id,
            claim_approvals::approver,
            claim_approvals::note,
            claim_approvals::approved_at,
        ))
        .load(conn)?;
    let history: Vec<AssessmentRow> = claim_assessments::table
        .filter(claim_assessments::claim_id.eq_any(&ids))
        .order((
            claim_assessments::claim_id.asc(),
            claim_assessments::line.asc(),
        ))
        .select((
            claim_assessments::claim_id,
            claim_assessments::assessed_at,
            claim_assessments::cause,
            claim_assessments::assessed_by,
            claim_assessments::assessment,
        ))
        .load(conn)?;
    for claim in &mut out {
        claim.assessments = history
            .iter()
            .filter(|h| h.0 == claim.id)
            .map(|(_, at, cause, by, assessment)| {
                Ok(AssessmentRecord {
                    assessed_at: *at,
                    cause: cause.clone(),
                    assessed_by: by.clone(),
                    assessment: serde_json::from_str(assessment).map_err(|e| {
                        AppError::internal(format!("stored assessment history: {e}"))
                    })?,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        claim.documents = documents
            .iter()
            .filter(|d| d.0 == claim.id)
            .map(|d| (d.1.clone(), d.2.clone()))
            .collect();
        claim.approvals = approvals
            .iter()
            .filter(|a| a.0 == claim.id)
            .map(|a| (a.1.clone(), a.2.clone(), a.3))
            .collect();
    }
    Ok(out)
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<Claim>> {
    let rows: Vec<ClaimRow> = claims::table
        .filter(claims::id.eq(id))
        .select(claim_columns!())
        .load(conn)?;
    Ok(with_details(conn, rows)?.pop())
}

/// All claims of a worker, for duplicate, limit and cap checks: their rows
/// only (no documents, approvals or assessment history, which those checks
/// do not read).
pub fn of_worker(conn: &mut DbConnection, worker_id: &str) -> AppResult<Vec<Claim>> {
    let rows: Vec<ClaimRow> = claims::table
        .filter(claims::worker_id.eq(worker_id))
        .select(claim_columns!())
        .load(conn)?;
    rows.into_iter().map(from_row).collect()
}

pub fn riders_of(conn: &mut DbConnection, id: &str) -> AppResult<Vec<Claim>> {
    let rows: Vec<ClaimRow> = claims::table
        .filter(claims::rider_of.eq(id))
        .order(claims::id.asc())
        .select(claim_columns!())
        .load(conn)?;
    with_details(conn, rows)
}

#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    pub status: Option<String>,
    pub benefit: Option<String>,
    pub after_id: Option<String>,
    pub limit: i64,
}

pub fn list(conn: &mut DbConnection, fund_id: i64, filter: &ClaimFilter) -> AppResult<Vec<Claim>> {
    let mut query = claims::table
        .filter(claims::fund_id.eq(fund_id))
        .into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(claims::status.eq(status.clone()));
    }
    if let Some(benefit) = &filter.benefit {
        query = query.filter(claims::benefit.eq(benefit.clone()));
    }
    if let Some(after) = &filter.after_id {
        query = query.filter(claims::id.gt(after.clone()));
    }
    let rows: Vec<ClaimRow> = query
        .order(claims::id.asc())
        .limit(filter.limit)
        .select(claim_columns!())
        .load(conn)?;
    with_details(conn, rows)
}

/// A fund's queue of claims waiting for funds, in the order they joined it
/// (then first approved first).
fn queue(fund_id: i64) -> claims::BoxedQuery<'static, crate::db::DbBackend> {
    claims::table
        .filter(claims::fund_id.eq(fund_id))
        .filter(claims::status.eq(ClaimStatus::AwaitingFunds.as_str()))
        .order((
            claims::queued_at.asc(),
            claims::approved_at.asc(),
            claims::id.asc(),
        ))
        .into_boxed()
}

/// The claim at the head of the fund's queue of claims waiting for funds.
pub fn head_of_queue(conn: &mut DbConnection, fund_id: i64) -> AppResult<Option<String>> {
    Ok(queue(fund_id).select(claims::id).first(conn).optional()?)
}

/// Claims of a fund waiting for funds, in queue order.
pub fn awaiting_funds(conn: &mut DbConnection, fund_id: i64) -> AppResult<Vec<Claim>> {
    let rows: Vec<ClaimRow> = queue(fund_id).select(claim_columns!()).load(conn)?;
    with_details(conn, rows)
}

fn text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn insert(conn: &mut DbConnection, c: &Claim) -> AppResult<()> {
    diesel::insert_into(claims::table)
        .values((
            (
                claims::id.eq(&c.id),
                claims::fund_id.eq(c.fund_id),
                claims::worker_id.eq(&c.worker_id),
                claims::benefit.eq(&c.benefit),
                claims::rider_of.eq(&c.rider_of),
                claims::incident_date.eq(c.incident_date),
                claims::incident_phase.eq(text(&c.incident_phase)),
                claims::filed_on.eq(c.filed_on),
                claims::claimant_relationship.eq(c.claimant_relationship.as_str()),
                claims::dependant_id.eq(&c.dependant_id),
                claims::claimed_amount_minor.eq(c.claimed_amount_minor),
                claims::grade.eq(&c.grade),
                claims::description.eq(&c.description),
                claims::currency.eq(c.currency.code()),
                claims::status.eq(c.status.as_str()),
            ),
            (
                claims::assessment.eq(serde_json::to_string(&c.assessment)?),
                claims::payable_minor.eq(c.payable_minor),
                claims::appealed.eq(c.appealed),
                claims::created_at.eq(c.created_at),
                claims::created_by.eq(&c.created_by),
            ),
        ))
        .execute(conn)?;
    add_documents(conn, &c.id, 0, &c.documents)
}

pub fn add_documents(
    conn: &mut DbConnection,
    claim_id: &str,
    existing: usize,
    documents: &[(String, String)],
) -> AppResult<()> {
    let now = crate::time::now();
    for (i, (document_type, reference)) in documents.iter().enumerate().skip(existing) {
        diesel::insert_into(claim_documents::table)
            .values((
                claim_documents::claim_id.eq(claim_id),
                claim_documents::line.eq(i as i32 + 1),
                claim_documents::document_type.eq(document_type),
                claim_documents::reference.eq(reference),
                claim_documents::added_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Writes everything about a claim that may change after submission.
pub fn update(conn: &mut DbConnection, c: &Claim) -> AppResult<()> {
    diesel::update(claims::table.find(&c.id))
        .set((
            (
                claims::status.eq(c.status.as_str()),
                claims::claimed_amount_minor.eq(c.claimed_amount_minor),
                claims::grade.eq(&c.grade),
                claims::assessment.eq(serde_json::to_string(&c.assessment)?),
                claims::payable_minor.eq(c.payable_minor),
                claims::decision_outcome.eq(&c.decision_outcome),
                claims::decided_amount_minor.eq(c.decided_amount_minor),
                claims::decision_reasons.eq(serde_json::to_string(&c.decision_reasons)?),
                claims::decision_note.eq(&c.decision_note),
                claims::decided_by.eq(&c.decided_by),
                claims::decided_at.eq(c.decided_at),
            ),
            (
                claims::approved_at.eq(c.approved_at),
                claims::approval_entry_id.eq(&c.approval_entry_id),
                claims::payment_entry_id.eq(&c.payment_entry_id),
                claims::paid_on.eq(c.paid_on),
                claims::payee_reference.eq(&c.payee_reference),
                claims::appealed.eq(c.appealed),
                claims::queued_at.eq(c.queued_at),
            ),
        ))
        .execute(conn)?;
    Ok(())
}

/// Keeps an assessment in the claim's history, as the next line.
pub fn add_assessment(
    conn: &mut DbConnection,
    claim_id: &str,
    line: usize,
    record: &AssessmentRecord,
) -> AppResult<()> {
    let a: &StoredAssessment = &record.assessment;
    diesel::insert_into(claim_assessments::table)
        .values((
            claim_assessments::claim_id.eq(claim_id),
            claim_assessments::line.eq(line as i32),
            claim_assessments::assessed_at.eq(record.assessed_at),
            claim_assessments::cause.eq(&record.cause),
            claim_assessments::assessed_by.eq(&record.assessed_by),
            claim_assessments::rule_version.eq(&a.rule_version),
            claim_assessments::outcome.eq(text(&a.outcome)),
            claim_assessments::amount_minor.eq(a.amount_minor),
            claim_assessments::payable_minor.eq(a.payable_minor),
            claim_assessments::assessment.eq(serde_json::to_string(a)?),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn add_approval(
    conn: &mut DbConnection,
    claim_id: &str,
    approver: &str,
    note: Option<&str>,
) -> AppResult<()> {
    diesel::insert_into(claim_approvals::table)
        .values((
            claim_approvals::claim_id.eq(claim_id),
            claim_approvals::approver.eq(approver),
            claim_approvals::note.eq(note),
            claim_approvals::approved_at.eq(crate::time::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many claims the fund holds in each status.
pub fn count_by_status(conn: &mut DbConnection, fund_id: i64) -> AppResult<Vec<(String, i64)>> {
    Ok(claims::table
        .filter(claims::fund_id.eq(fund_id))
        .group_by(claims::status)
        .select((claims::status, diesel::dsl::count_star()))
        .order(claims::status.asc())
        .load(conn)?)
}

/// Forgets the approvals of a decision that no longer stands (the audit log and
/// the event feed keep them).
pub fn clear_approvals(conn: &mut DbConnection, claim_id: &str) -> AppResult<()> {
    diesel::delete(claim_approvals::table.filter(claim_approvals::claim_id.eq(claim_id)))
        .execute(conn)?;
    Ok(())
}

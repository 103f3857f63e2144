//! Claim rows: reading and writing claims, their documents and approvals.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::{AssessmentRecord, Claim, ClaimStatus, StoredAssessment};
use crate::db::schema::{claim_approvals, claim_assessments, claim_documents, claims};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::funds::FundId;
use crate::money::Currency;
use crate::rules::document::{Phase, Relationship};

/// A `claims` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = claims, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ClaimRow {
    id: String,
    fund_id: FundId,
    worker_id: String,
    benefit: String,
    rider_of: Option<String>,
    incident_date: NaiveDate,
    incident_phase: String,
    filed_on: NaiveDate,
    claimant_relationship: String,
    dependant_id: Option<String>,
    claimed_amount_minor: Option<i64>,
    grade: Option<String>,
    description: Option<String>,
    currency: String,
    status: String,
    assessment: String,
    payable_minor: i64,
    decision_outcome: Option<String>,
    decided_amount_minor: Option<i64>,
    decision_reasons: Option<String>,
    decision_note: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    approved_at: Option<NaiveDateTime>,
    approval_entry_id: Option<String>,
    payment_entry_id: Option<String>,
    paid_on: Option<NaiveDate>,
    payee_reference: Option<String>,
    appealed: bool,
    created_at: NaiveDateTime,
    created_by: String,
    queued_at: Option<NaiveDateTime>,
}

/// Reads a stored enum value (`Phase`, `Relationship`) by its serde name.
fn parse<T: serde::de::DeserializeOwned>(text: &str) -> AppResult<T> {
    serde_json::from_str(&format!("\"{text}\""))
        .map_err(|e| AppError::internal(format!("stored claim field {text}: {e}")))
}

impl ClaimRow {
    /// The claim of this row, without documents, approvals or assessment
    /// history (read apart, by [`with_details`]).
    fn into_claim(self) -> AppResult<Claim> {
        let assessment: StoredAssessment = serde_json::from_str(&self.assessment)
            .map_err(|e| AppError::internal(format!("stored assessment: {e}")))?;
        Ok(Claim {
            id: self.id,
            fund_id: self.fund_id,
            worker_id: self.worker_id,
            benefit: self.benefit,
            rider_of: self.rider_of,
            incident_date: self.incident_date,
            incident_phase: parse::<Phase>(&self.incident_phase)?,
            filed_on: self.filed_on,
            claimant_relationship: parse::<Relationship>(&self.claimant_relationship)?,
            dependant_id: self.dependant_id,
            claimed_amount_minor: self.claimed_amount_minor,
            grade: self.grade,
            description: self.description,
            currency: Currency::parse(&self.currency)
                .map_err(|e| AppError::internal(e.to_string()))?,
            status: ClaimStatus::parse(&self.status).ok_or_else(|| {
                AppError::internal(format!("stored claim status {}", self.status))
            })?,
            rule_version: assessment.rule_version.clone(),
            assessment,
            payable_minor: self.payable_minor,
            decision_outcome: self.decision_outcome,
            decided_amount_minor: self.decided_amount_minor,
            decision_reasons: match self.decision_reasons {
                Some(text) => serde_json::from_str(&text)
                    .map_err(|e| AppError::internal(format!("stored reasons: {e}")))?,
                None => Vec::new(),
            },
            decision_note: self.decision_note,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            approved_at: self.approved_at,
            approval_entry_id: self.approval_entry_id,
            payment_entry_id: self.payment_entry_id,
            paid_on: self.paid_on,
            payee_reference: self.payee_reference,
            appealed: self.appealed,
            created_at: self.created_at,
            created_by: self.created_by,
            queued_at: self.queued_at,
            documents: Vec::new(),
            approvals: Vec::new(),
            assessments: Vec::new(),
            payees: Vec::new(),
        })
    }
}

/// What is read of a `claim_documents` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = claim_documents, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct DocumentRow {
    claim_id: String,
    document_type: String,
    reference: String,
}

/// What is read of a `claim_approvals` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = claim_approvals, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ApprovalRow {
    claim_id: String,
    approver: String,
    note: Option<String>,
    approved_at: NaiveDateTime,
}

/// What is read of a `claim_assessments` row: the whole assessment is in
/// `assessment` (the other columns repeat parts of it for queries).
#[derive(Queryable, Selectable)]
#[diesel(table_name = claim_assessments, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct AssessmentRow {
    claim_id: String,
    assessed_at: NaiveDateTime,
    cause: String,
    assessed_by: String,
    assessment: String,
}

impl AssessmentRow {
    fn to_record(&self) -> AppResult<AssessmentRecord> {
        Ok(AssessmentRecord {
            assessed_at: self.assessed_at,
            cause: self.cause.clone(),
            assessed_by: self.assessed_by.clone(),
            assessment: serde_json::from_str(&self.assessment)
                .map_err(|e| AppError::internal(format!("stored assessment history: {e}")))?,
        })
    }
}

/// The claims of `rows`, each with its documents, approvals, assessment
/// history and payees (four queries for all of them).
fn with_details(conn: &mut DbConnection, rows: Vec<ClaimRow>) -> AppResult<Vec<Claim>> {
    let mut out = rows
        .into_iter()
        .map(ClaimRow::into_claim)
        .collect::<AppResult<Vec<Claim>>>()?;
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<String> = out.iter().map(|c| c.id.clone()).collect();
    let documents: Vec<DocumentRow> = claim_documents::table
        .filter(claim_documents::claim_id.eq_any(&ids))
        .order((claim_documents::claim_id.asc(), claim_documents::line.asc()))
        .select(DocumentRow::as_select())
        .load(conn)?;
    let approvals: Vec<ApprovalRow> = claim_approvals::table
        .filter(claim_approvals::claim_id.eq_any(&ids))
        .order(claim_approvals::approved_at.asc())
        .select(ApprovalRow::as_select())
        .load(conn)?;
    let history: Vec<AssessmentRow> = claim_assessments::table
        .filter(claim_assessments::claim_id.eq_any(&ids))
        .order((
            claim_assessments::claim_id.asc(),
            claim_assessments::line.asc(),
        ))
        .select(AssessmentRow::as_select())
        .load(conn)?;
    let payees = super::payees::of_claims(conn, &ids)?;
    for claim in &mut out {
        claim.payees = payees
            .iter()
            .filter(|(id, _)| *id == claim.id)
            .map(|(_, p)| p.clone())
            .collect();
        claim.assessments = history
            .iter()
            .filter(|h| h.claim_id == claim.id)
            .map(AssessmentRow::to_record)
            .collect::<AppResult<Vec<_>>>()?;
        claim.documents = documents
            .iter()
            .filter(|d| d.claim_id == claim.id)
            .map(|d| (d.document_type.clone(), d.reference.clone()))
            .collect();
        claim.approvals = approvals
            .iter()
            .filter(|a| a.claim_id == claim.id)
            .map(|a| (a.approver.clone(), a.note.clone(), a.approved_at))
            .collect();
    }
    Ok(out)
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<Claim>> {
    let rows: Vec<ClaimRow> = claims::table
        .filter(claims::id.eq(id))
        .select(ClaimRow::as_select())
        .load(conn)?;
    Ok(with_details(conn, rows)?.pop())
}

/// All claims of a worker, for duplicate, limit and cap checks: their rows
/// (no documents, approvals or assessment history, which those checks do not
/// read), and the payees of those under review (a partly paid one counts as an
/// award).
pub fn of_worker(conn: &mut DbConnection, worker_id: &str) -> AppResult<Vec<Claim>> {
    let rows: Vec<ClaimRow> = claims::table
        .filter(claims::worker_id.eq(worker_id))
        .select(ClaimRow::as_select())
        .load(conn)?;
    let mut out = rows
        .into_iter()
        .map(ClaimRow::into_claim)
        .collect::<AppResult<Vec<Claim>>>()?;
    let under_review: Vec<String> = out
        .iter()
        .filter(|c| c.status == ClaimStatus::UnderReview)
        .map(|c| c.id.clone())
        .collect();
    if !under_review.is_empty() {
        for (id, payee) in super::payees::of_claims(conn, &under_review)? {
            if let Some(claim) = out.iter_mut().find(|c| c.id == id) {
                claim.payees.push(payee);
            }
        }
    }
    Ok(out)
}

pub fn riders_of(conn: &mut DbConnection, id: &str) -> AppResult<Vec<Claim>> {
    let rows: Vec<ClaimRow> = claims::table
        .filter(claims::rider_of.eq(id))
        .order(claims::id.asc())
        .select(ClaimRow::as_select())
        .load(conn)?;
    with_details(conn, rows)
}

#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    /// Only this worker's claims (a worker's own list).
    pub worker_id: Option<String>,
    pub status: Option<String>,
    pub benefit: Option<String>,
    pub after_id: Option<String>,
    pub limit: i64,
}

pub fn list(
    conn: &mut DbConnection,
    fund_id: FundId,
    filter: &ClaimFilter,
) -> AppResult<Vec<Claim>> {
    let mut query = claims::table
        .filter(claims::fund_id.eq(fund_id))
        .into_boxed();
    if let Some(worker_id) = &filter.worker_id {
        query = query.filter(claims::worker_id.eq(worker_id.clone()));
    }
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
        .select(ClaimRow::as_select())
        .load(conn)?;
    with_details(conn, rows)
}

/// A fund's queue of claims waiting for funds, in the order they joined it
/// (then first approved first).
fn queue(fund_id: FundId) -> claims::BoxedQuery<'static, crate::db::DbBackend> {
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
pub fn head_of_queue(conn: &mut DbConnection, fund_id: FundId) -> AppResult<Option<String>> {
    Ok(queue(fund_id).select(claims::id).first(conn).optional()?)
}

/// Claims of a fund waiting for funds, in queue order.
pub fn awaiting_funds(conn: &mut DbConnection, fund_id: FundId) -> AppResult<Vec<Claim>> {
    let rows: Vec<ClaimRow> = queue(fund_id).select(ClaimRow::as_select()).load(conn)?;
    with_details(conn, rows)
}

fn text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A new `claims` row: a submitted claim, not yet decided.
#[derive(Insertable)]
#[diesel(table_name = claims, treat_none_as_default_value = false)]
struct NewClaimRow<'a> {
    id: &'a str,
    fund_id: FundId,
    worker_id: &'a str,
    benefit: &'a str,
    rider_of: Option<&'a str>,
    incident_date: NaiveDate,
    incident_phase: String,
    filed_on: NaiveDate,
    claimant_relationship: &'a str,
    dependant_id: Option<&'a str>,
    claimed_amount_minor: Option<i64>,
    grade: Option<&'a str>,
    description: Option<&'a str>,
    currency: &'a str,
    status: &'a str,
    assessment: String,
    payable_minor: i64,
    appealed: bool,
    created_at: NaiveDateTime,
    created_by: &'a str,
}

pub fn insert(conn: &mut DbConnection, c: &Claim) -> AppResult<()> {
    diesel::insert_into(claims::table)
        .values(NewClaimRow {
            id: &c.id,
            fund_id: c.fund_id,
            worker_id: &c.worker_id,
            benefit: &c.benefit,
            rider_of: c.rider_of.as_deref(),
            incident_date: c.incident_date,
            incident_phase: text(&c.incident_phase),
            filed_on: c.filed_on,
            claimant_relationship: c.claimant_relationship.as_str(),
            dependant_id: c.dependant_id.as_deref(),
            claimed_amount_minor: c.claimed_amount_minor,
            grade: c.grade.as_deref(),
            description: c.description.as_deref(),
            currency: c.currency.code(),
            status: c.status.as_str(),
            assessment: serde_json::to_string(&c.assessment)?,
            payable_minor: c.payable_minor,
            appealed: c.appealed,
            created_at: c.created_at,
            created_by: &c.created_by,
        })
        .execute(conn)?;
    add_documents(conn, &c.id, 0, &c.documents)
}

/// A `claim_documents` row to insert.
#[derive(Insertable)]
#[diesel(table_name = claim_documents)]
struct NewDocumentRow<'a> {
    claim_id: &'a str,
    line: i32,
    document_type: &'a str,
    reference: &'a str,
    added_at: NaiveDateTime,
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
            .values(NewDocumentRow {
                claim_id,
                line: i as i32 + 1,
                document_type,
                reference,
                added_at: now,
            })
            .execute(conn)?;
    }
    Ok(())
}

/// What may change in a `claims` row after submission. `None` is written as
/// NULL (a decision that no longer stands is cleared).
#[derive(AsChangeset)]
#[diesel(table_name = claims, treat_none_as_null = true)]
struct ClaimChanges<'a> {
    status: &'a str,
    claimed_amount_minor: Option<i64>,
    grade: Option<&'a str>,
    assessment: String,
    payable_minor: i64,
    decision_outcome: Option<&'a str>,
    decided_amount_minor: Option<i64>,
    decision_reasons: String,
    decision_note: Option<&'a str>,
    decided_by: Option<&'a str>,
    decided_at: Option<NaiveDateTime>,
    approved_at: Option<NaiveDateTime>,
    approval_entry_id: Option<&'a str>,
    payment_entry_id: Option<&'a str>,
    paid_on: Option<NaiveDate>,
    payee_reference: Option<&'a str>,
    appealed: bool,
    queued_at: Option<NaiveDateTime>,
}

/// Writes everything about a claim that may change after submission.
pub fn update(conn: &mut DbConnection, c: &Claim) -> AppResult<()> {
    diesel::update(claims::table.find(&c.id))
        .set(ClaimChanges {
            status: c.status.as_str(),
            claimed_amount_minor: c.claimed_amount_minor,
            grade: c.grade.as_deref(),
            assessment: serde_json::to_string(&c.assessment)?,
            payable_minor: c.payable_minor,
            decision_outcome: c.decision_outcome.as_deref(),
            decided_amount_minor: c.decided_amount_minor,
            decision_reasons: serde_json::to_string(&c.decision_reasons)?,
            decision_note: c.decision_note.as_deref(),
            decided_by: c.decided_by.as_deref(),
            decided_at: c.decided_at,
            approved_at: c.approved_at,
            approval_entry_id: c.approval_entry_id.as_deref(),
            payment_entry_id: c.payment_entry_id.as_deref(),
            paid_on: c.paid_on,
            payee_reference: c.payee_reference.as_deref(),
            appealed: c.appealed,
            queued_at: c.queued_at,
        })
        .execute(conn)?;
    Ok(())
}

/// A `claim_assessments` row to insert: the whole assessment, and the parts
/// of it that queries read.
#[derive(Insertable)]
#[diesel(table_name = claim_assessments, treat_none_as_default_value = false)]
struct NewAssessmentRow<'a> {
    claim_id: &'a str,
    line: i32,
    assessed_at: NaiveDateTime,
    cause: &'a str,
    assessed_by: &'a str,
    rule_version: Option<&'a str>,
    outcome: String,
    amount_minor: i64,
    payable_minor: i64,
    assessment: String,
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
        .values(NewAssessmentRow {
            claim_id,
            line: line as i32,
            assessed_at: record.assessed_at,
            cause: &record.cause,
            assessed_by: &record.assessed_by,
            rule_version: a.rule_version.as_deref(),
            outcome: text(&a.outcome),
            amount_minor: a.amount_minor,
            payable_minor: a.payable_minor,
            assessment: serde_json::to_string(a)?,
        })
        .execute(conn)?;
    Ok(())
}

/// A `claim_approvals` row to insert.
#[derive(Insertable)]
#[diesel(table_name = claim_approvals, treat_none_as_default_value = false)]
struct NewApprovalRow<'a> {
    claim_id: &'a str,
    approver: &'a str,
    note: Option<&'a str>,
    approved_at: NaiveDateTime,
}

pub fn add_approval(
    conn: &mut DbConnection,
    claim_id: &str,
    approver: &str,
    note: Option<&str>,
) -> AppResult<()> {
    diesel::insert_into(claim_approvals::table)
        .values(NewApprovalRow {
            claim_id,
            approver,
            note,
            approved_at: crate::time::now(),
        })
        .execute(conn)?;
    Ok(())
}

/// How many claims the fund holds in each status.
pub fn count_by_status(conn: &mut DbConnection, fund_id: FundId) -> AppResult<Vec<(String, i64)>> {
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

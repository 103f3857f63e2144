//! Instalment rows: schedules, their instalments and the proof attached to them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::{Instalment, InstalmentDocument, InstalmentStatus, Schedule, StopDecision};
use crate::db::schema::{
    claim_instalment_documents, claim_instalments, claims, instalment_schedules,
};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::funds::FundId;
use crate::money::Currency;
use crate::rules::document::InstalmentFrequency;

#[derive(Queryable, Selectable)]
#[diesel(table_name = instalment_schedules, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ScheduleRow {
    claim_id: String,
    every: String,
    created_at: NaiveDateTime,
    stopped_at: Option<NaiveDateTime>,
    stopped_by: Option<String>,
    stop_reasons: Option<String>,
    stop_note: Option<String>,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = claim_instalments, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct InstalmentRow {
    claim_id: String,
    number: i32,
    fund_id: FundId,
    due_on: NaiveDate,
    currency: String,
    amount_minor: i64,
    status: String,
    assessed_at: Option<NaiveDateTime>,
    assessment: Option<String>,
    hold_reasons: Option<String>,
    expense_entry_id: Option<String>,
    payment_entry_id: Option<String>,
    paid_on: Option<NaiveDate>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("stored instalment {what}: {e}"))
}

impl InstalmentRow {
    fn into_instalment(self) -> AppResult<Instalment> {
        Ok(Instalment {
            claim_id: self.claim_id,
            number: self.number as u32,
            fund_id: self.fund_id,
            due_on: self.due_on,
            currency: Currency::parse(&self.currency).map_err(|e| corrupt("currency", e))?,
            amount_minor: self.amount_minor,
            status: InstalmentStatus::parse(&self.status)
                .ok_or_else(|| corrupt("status", &self.status))?,
            assessed_at: self.assessed_at,
            assessment: match self.assessment {
                Some(text) => Some(serde_json::from_str(&text).map_err(|e| corrupt("facts", e))?),
                None => None,
            },
            hold_reasons: match self.hold_reasons {
                Some(text) => serde_json::from_str(&text).map_err(|e| corrupt("reasons", e))?,
                None => Vec::new(),
            },
            expense_entry_id: self.expense_entry_id,
            payment_entry_id: self.payment_entry_id,
            paid_on: self.paid_on,
        })
    }

    fn of(i: &Instalment) -> AppResult<InstalmentRow> {
        Ok(InstalmentRow {
            claim_id: i.claim_id.clone(),
            number: i.number as i32,
            fund_id: i.fund_id,
            due_on: i.due_on,
            currency: i.currency.code().to_string(),
            amount_minor: i.amount_minor,
            status: i.status.as_str().to_string(),
            assessed_at: i.assessed_at,
            assessment: i
                .assessment
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?,
            hold_reasons: (!i.hold_reasons.is_empty())
                .then(|| serde_json::to_string(&i.hold_reasons))
                .transpose()?,
            expense_entry_id: i.expense_entry_id.clone(),
            payment_entry_id: i.payment_entry_id.clone(),
            paid_on: i.paid_on,
        })
    }
}

/// Writes a new schedule for `claim_id` (a claim approved again after its
/// award was reversed keeps its schedule row and its proof, and gets new
/// instalments).
pub fn replace(
    conn: &mut DbConnection,
    fund_id: FundId,
    every: InstalmentFrequency,
    instalments: &[Instalment],
) -> AppResult<()> {
    let claim_id = &instalments
        .first()
        .expect("a schedule has instalments")
        .claim_id;
    delete_instalments(conn, claim_id)?;
    let exists: i64 = instalment_schedules::table
        .filter(instalment_schedules::claim_id.eq(claim_id))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(instalment_schedules::table)
            .values((
                instalment_schedules::claim_id.eq(claim_id),
                instalment_schedules::fund_id.eq(fund_id),
                instalment_schedules::every.eq(frequency_name(every)),
                instalment_schedules::created_at.eq(crate::time::now()),
            ))
            .execute(conn)?;
    }
    let rows = instalments
        .iter()
        .map(InstalmentRow::of)
        .collect::<AppResult<Vec<_>>>()?;
    crate::insert_rows!(conn, claim_instalments::table, rows)?;
    Ok(())
}

/// Forgets the instalments of a claim whose award was reversed (none of them
/// was paid: a claim is reversed only before its first payment).
pub fn delete_instalments(conn: &mut DbConnection, claim_id: &str) -> AppResult<()> {
    diesel::delete(claim_instalments::table.filter(claim_instalments::claim_id.eq(claim_id)))
        .execute(conn)?;
    Ok(())
}

fn frequency_name(every: InstalmentFrequency) -> &'static str {
    match every {
        InstalmentFrequency::Month => "month",
        InstalmentFrequency::SchoolYear => "school_year",
    }
}

/// The schedule of a claim, if its benefit is paid in instalments.
pub fn find(conn: &mut DbConnection, claim_id: &str) -> AppResult<Option<Schedule>> {
    let Some(row) = instalment_schedules::table
        .filter(instalment_schedules::claim_id.eq(claim_id))
        .select(ScheduleRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let instalments = instalments_of(conn, claim_id)?;
    let documents = documents_of(conn, claim_id)?;
    let every = match row.every.as_str() {
        "month" => InstalmentFrequency::Month,
        "school_year" => InstalmentFrequency::SchoolYear,
        other => return Err(corrupt("frequency", other)),
    };
    let stop = match (row.stopped_at, row.stopped_by) {
        (Some(at), Some(by)) => Some(StopDecision {
            at,
            by,
            reasons: serde_json::from_str(row.stop_reasons.as_deref().unwrap_or("[]"))
                .map_err(|e| corrupt("stop reasons", e))?,
            note: row.stop_note,
        }),
        _ => None,
    };
    Ok(Some(Schedule {
        claim_id: row.claim_id,
        every,
        created_at: row.created_at,
        stop,
        instalments,
        documents,
    }))
}

fn instalments_of(conn: &mut DbConnection, claim_id: &str) -> AppResult<Vec<Instalment>> {
    let rows: Vec<InstalmentRow> = claim_instalments::table
        .filter(claim_instalments::claim_id.eq(claim_id))
        .order(claim_instalments::number.asc())
        .select(InstalmentRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(InstalmentRow::into_instalment)
        .collect()
}

fn documents_of(conn: &mut DbConnection, claim_id: &str) -> AppResult<Vec<InstalmentDocument>> {
    let rows: Vec<(i32, String, String, NaiveDateTime, String)> = claim_instalment_documents::table
        .filter(claim_instalment_documents::claim_id.eq(claim_id))
        .order((
            claim_instalment_documents::number.asc(),
            claim_instalment_documents::line.asc(),
        ))
        .select((
            claim_instalment_documents::number,
            claim_instalment_documents::document_type,
            claim_instalment_documents::reference,
            claim_instalment_documents::added_at,
            claim_instalment_documents::added_by,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(number, document_type, reference, added_at, added_by)| InstalmentDocument {
                number: number as u32,
                document_type,
                reference,
                added_at,
                added_by,
            },
        )
        .collect())
}

/// A fund's instalments after the first that are open (scheduled, or due and
/// not paid) and fall due on or before `on`, in due order.
pub fn open_due(
    conn: &mut DbConnection,
    fund_id: FundId,
    on: NaiveDate,
) -> AppResult<Vec<Instalment>> {
    let rows: Vec<InstalmentRow> = claim_instalments::table
        .filter(claim_instalments::fund_id.eq(fund_id))
        .filter(claim_instalments::status.eq_any([
            InstalmentStatus::Scheduled.as_str(),
            InstalmentStatus::Due.as_str(),
        ]))
        .filter(claim_instalments::due_on.le(on))
        .filter(claim_instalments::number.gt(1))
        .order((
            claim_instalments::due_on.asc(),
            claim_instalments::claim_id.asc(),
            claim_instalments::number.asc(),
        ))
        .select(InstalmentRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(InstalmentRow::into_instalment)
        .collect()
}

pub fn update(conn: &mut DbConnection, instalment: &Instalment) -> AppResult<()> {
    let row = InstalmentRow::of(instalment)?;
    diesel::update(claim_instalments::table.find((&instalment.claim_id, instalment.number as i32)))
        .set(&row)
        .execute(conn)?;
    Ok(())
}

pub fn record_stop(conn: &mut DbConnection, claim_id: &str, stop: &StopDecision) -> AppResult<()> {
    diesel::update(instalment_schedules::table.find(claim_id))
        .set((
            instalment_schedules::stopped_at.eq(stop.at),
            instalment_schedules::stopped_by.eq(&stop.by),
            instalment_schedules::stop_reasons.eq(serde_json::to_string(&stop.reasons)?),
            instalment_schedules::stop_note.eq(&stop.note),
        ))
        .execute(conn)?;
    Ok(())
}

/// Attaches documents to instalment `number`, after the `existing` ones of the claim.
pub fn add_documents(
    conn: &mut DbConnection,
    claim_id: &str,
    number: u32,
    documents: &[(String, String)],
    by: &str,
) -> AppResult<()> {
    let last: Option<i32> = claim_instalment_documents::table
        .filter(claim_instalment_documents::claim_id.eq(claim_id))
        .filter(claim_instalment_documents::number.eq(number as i32))
        .select(diesel::dsl::max(claim_instalment_documents::line))
        .first(conn)?;
    let now = crate::time::now();
    let rows: Vec<_> = documents
        .iter()
        .enumerate()
        .map(|(i, (document_type, reference))| {
            (
                claim_instalment_documents::claim_id.eq(claim_id),
                claim_instalment_documents::number.eq(number as i32),
                claim_instalment_documents::line.eq(last.unwrap_or(0) + i as i32 + 1),
                claim_instalment_documents::document_type.eq(document_type),
                claim_instalment_documents::reference.eq(reference),
                claim_instalment_documents::added_at.eq(now),
                claim_instalment_documents::added_by.eq(by),
            )
        })
        .collect();
    crate::insert_rows!(conn, claim_instalment_documents::table, rows)?;
    Ok(())
}

/// (currency, status, amount) of every instalment of the claims filed from
/// `from` to `to`, for the claims statistics.
pub fn of_claims_filed(
    conn: &mut DbConnection,
    fund_id: FundId,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<(String, String, i64)>> {
    Ok(claim_instalments::table
        .inner_join(claims::table)
        .filter(claim_instalments::fund_id.eq(fund_id))
        .filter(claims::filed_on.ge(from))
        .filter(claims::filed_on.le(to))
        .select((
            claim_instalments::currency,
            claim_instalments::status,
            claim_instalments::amount_minor,
        ))
        .load(conn)?)
}

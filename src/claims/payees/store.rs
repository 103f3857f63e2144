//! `claim_payees` rows: a claim's payees, their shares, amounts and payments.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::check::{Guardian, Recipient};
use super::share::Share;
use super::Payee;
use crate::db::schema::claim_payees;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::rules::document::Relationship;

/// A `claim_payees` row, read and written whole.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = claim_payees, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
struct PayeeRow {
    claim_id: String,
    line: i32,
    dependant_id: Option<String>,
    estate: bool,
    name: String,
    relationship: Option<String>,
    minor: bool,
    guardian_name: Option<String>,
    guardian_id_number: Option<String>,
    guardian_relationship: Option<String>,
    guardian_dependant_id: Option<String>,
    share_numerator: i64,
    share_denominator: i64,
    amount_minor: Option<i64>,
    payment_entry_id: Option<String>,
    paid_on: Option<NaiveDate>,
}

impl PayeeRow {
    fn of(claim_id: &str, p: &Payee) -> PayeeRow {
        let (guardian_id_number, guardian_dependant_id) = p
            .guardian
            .as_ref()
            .map(Guardian::identity)
            .unwrap_or_default();
        PayeeRow {
            claim_id: claim_id.to_string(),
            line: p.line,
            dependant_id: p.recipient.dependant_id(),
            estate: p.recipient == Recipient::Estate,
            name: p.name.clone(),
            relationship: p.relationship.map(|r| r.as_str().to_string()),
            minor: p.minor,
            guardian_name: p.guardian_name.clone(),
            guardian_id_number,
            guardian_relationship: p.guardian_relationship.clone(),
            guardian_dependant_id,
            share_numerator: p.share.numerator(),
            share_denominator: p.share.denominator(),
            amount_minor: p.amount_minor,
            payment_entry_id: p.payment_entry_id.clone(),
            paid_on: p.paid_on,
        }
    }

    fn into_payee(self) -> AppResult<(String, Payee)> {
        let guardian = match (self.guardian_dependant_id, &self.guardian_name) {
            (Some(id), _) => Some(Guardian::Dependant(id)),
            (None, Some(name)) => Some(Guardian::Named {
                name: name.clone(),
                id_number: self.guardian_id_number.unwrap_or_default(),
                relationship: self.guardian_relationship.clone(),
            }),
            (None, None) => None,
        };
        let share = Share::new(self.share_numerator, self.share_denominator)
            .ok_or_else(|| AppError::internal("a stored payee's share is not a share"))?;
        let relationship = match &self.relationship {
            Some(r) => Some(
                Relationship::parse(r)
                    .ok_or_else(|| AppError::internal(format!("stored payee relationship {r}")))?,
            ),
            None => None,
        };
        Ok((
            self.claim_id,
            Payee {
                line: self.line,
                recipient: match self.dependant_id {
                    Some(id) => Recipient::Dependant(id),
                    None => Recipient::Estate,
                },
                name: self.name,
                relationship,
                minor: self.minor,
                guardian,
                guardian_name: self.guardian_name,
                guardian_relationship: self.guardian_relationship,
                share,
                amount_minor: self.amount_minor,
                payment_entry_id: self.payment_entry_id,
                paid_on: self.paid_on,
            },
        ))
    }
}

/// The payees of the claims `ids`, each with its claim's id, in line order.
pub fn of_claims(conn: &mut DbConnection, ids: &[String]) -> AppResult<Vec<(String, Payee)>> {
    let rows: Vec<PayeeRow> = claim_payees::table
        .filter(claim_payees::claim_id.eq_any(ids))
        .order((claim_payees::claim_id.asc(), claim_payees::line.asc()))
        .select(PayeeRow::as_select())
        .load(conn)?;
    rows.into_iter().map(PayeeRow::into_payee).collect()
}

/// Writes the claim's payees afresh (at submission, and when an heir joins).
pub fn replace(conn: &mut DbConnection, claim_id: &str, payees: &[Payee]) -> AppResult<()> {
    diesel::delete(claim_payees::table.filter(claim_payees::claim_id.eq(claim_id)))
        .execute(conn)?;
    for payee in payees {
        diesel::insert_into(claim_payees::table)
            .values(PayeeRow::of(claim_id, payee))
            .execute(conn)?;
    }
    Ok(())
}

/// Records a payee's part of the award.
pub fn set_amount(
    conn: &mut DbConnection,
    claim_id: &str,
    line: i32,
    amount_minor: i64,
) -> AppResult<()> {
    diesel::update(claim_payees::table.find((claim_id, line)))
        .set(claim_payees::amount_minor.eq(amount_minor))
        .execute(conn)?;
    Ok(())
}

/// Records a payee's payment.
pub fn mark_paid(
    conn: &mut DbConnection,
    claim_id: &str,
    line: i32,
    entry_id: Option<&str>,
    paid_on: NaiveDate,
) -> AppResult<()> {
    diesel::update(claim_payees::table.find((claim_id, line)))
        .set((
            claim_payees::payment_entry_id.eq(entry_id),
            claim_payees::paid_on.eq(paid_on),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets the parts of the claim's award (its booking was reversed).
pub fn forget_amounts(conn: &mut DbConnection, claim_id: &str) -> AppResult<()> {
    diesel::update(claim_payees::table.filter(claim_payees::claim_id.eq(claim_id)))
        .set(claim_payees::amount_minor.eq(None::<i64>))
        .execute(conn)?;
    Ok(())
}

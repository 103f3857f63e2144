//! The registry of a fund's recruitment agencies and employers ("parties"):
//! who a recovery names, and who may send a bulk receipt.
//!
//! Repatriation and other benefits are first the agency's or the employer's
//! liability (the Philippines' RA 8042 §15; Kenya and Nepal hold agency bonds):
//! the fund pays, then recovers from them. A party is identified in its fund
//! by its kind and licence number; it may hold a bond, drawn by settlements of
//! recoveries (`recoveries`), and what remains of it is the bond less those
//! draws, read from the settlements themselves so it is never out of step.
//! A suspended party stays in the registry and still owes what it owes.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::events::{kind as event_kind, EventType, NewEvent};
use crate::db::schema::{parties, recovery_settlements};
use crate::db::{is_unique_violation, DbConnection};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::{lock_fund, Fund, FundId};
use crate::money::{format_minor, Currency};

/// What kind of party: a licensed recruitment agency or a foreign employer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    Agency,
    Employer,
}

impl PartyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyKind::Agency => "agency",
            PartyKind::Employer => "employer",
        }
    }

    fn parse(s: &str) -> PartyKind {
        match s {
            "agency" => PartyKind::Agency,
            "employer" => PartyKind::Employer,
            other => unreachable!("stored party kinds are valid: {other}"),
        }
    }
}

/// Whether the party's licence stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyStatus {
    Active,
    /// Licence suspended; it still owes what it owes.
    Suspended,
}

impl PartyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyStatus::Active => "active",
            PartyStatus::Suspended => "suspended",
        }
    }

    fn parse(s: &str) -> PartyStatus {
        match s {
            "active" => PartyStatus::Active,
            "suspended" => PartyStatus::Suspended,
            other => unreachable!("stored party statuses are valid: {other}"),
        }
    }
}

/// A bond the party lodged with the fund (or a guarantee it may call).
#[derive(Debug, Clone, PartialEq)]
pub struct Bond {
    pub amount_minor: i64,
    pub currency: Currency,
    pub reference: Option<String>,
    /// The last day it may be drawn.
    pub expires_on: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct Party {
    pub id: String,
    pub fund_code: String,
    pub kind: PartyKind,
    pub name: String,
    pub licence_number: String,
    pub country: String,
    pub contact: Option<String>,
    pub bond: Option<Bond>,
    /// What settlements drew from the bond so far.
    pub bond_drawn_minor: i64,
    pub status: PartyStatus,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub updated_at: NaiveDateTime,
    pub updated_by: String,
}

impl Party {
    /// What remains of the bond to draw (none without a bond).
    pub fn bond_remaining_minor(&self) -> Option<i64> {
        (self.bond.as_ref()).map(|b| b.amount_minor - self.bond_drawn_minor)
    }
}

/// A party to register, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewParty {
    pub kind: PartyKind,
    pub name: String,
    pub licence_number: String,
    pub country: String,
    pub contact: Option<String>,
    pub bond: Option<Bond>,
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PartyChange {
    pub name: Option<String>,
    pub country: Option<String>,
    pub contact: Option<String>,
    pub bond: Option<Bond>,
    pub status: Option<PartyStatus>,
}

/// The `data` of every `party.*` event: the party as it stands after the change.
#[derive(Serialize, ToSchema)]
pub struct PartyEventData {
    #[schema(format = Uuid)]
    pub party_id: String,
    pub kind: PartyKind,
    pub name: String,
    pub licence_number: String,
    pub status: PartyStatus,
    /// What remains of its bond to draw, if it has one.
    #[schema(required = true)]
    pub bond_remaining: Option<crate::money::DecimalString>,
}

fn event(party: &Party, event_type: EventType) -> NewEvent {
    NewEvent {
        fund_code: party.fund_code.clone(),
        event_type,
        subject_id: party.id.clone(),
        payload: json!({
            "party_id": party.id,
            "kind": party.kind,
            "name": party.name,
            "licence_number": party.licence_number,
            "status": party.status,
            "bond_remaining": party.bond.as_ref().map(|b| format_minor(
                b.amount_minor - party.bond_drawn_minor,
                b.currency
            )),
        }),
    }
}

/// Enters a party in the fund's registry; a licence already registered for
/// this kind of party is 409 `PARTY_ALREADY_REGISTERED` naming the party.
pub fn register(
    conn: &mut DbConnection,
    fund: &Fund,
    new: &NewParty,
    by: &str,
) -> AppResult<(Party, NewEvent)> {
    let now = crate::time::now();
    let row = PartyRow {
        id: Uuid::now_v7().to_string(),
        fund_id: fund.id,
        kind: new.kind.as_str().to_string(),
        name: new.name.clone(),
        licence_number: new.licence_number.clone(),
        country: new.country.clone(),
        contact: new.contact.clone(),
        bond_amount_minor: new.bond.as_ref().map(|b| b.amount_minor),
        bond_currency: new.bond.as_ref().map(|b| b.currency.code().to_string()),
        bond_reference: new.bond.as_ref().and_then(|b| b.reference.clone()),
        bond_expires_on: new.bond.as_ref().and_then(|b| b.expires_on),
        status: PartyStatus::Active.as_str().to_string(),
        created_at: now,
        created_by: by.to_string(),
        updated_at: now,
        updated_by: by.to_string(),
    };
    if let Some(existing) = holder_of_licence(conn, fund, new)? {
        return Err(already_registered(fund, new, Some(existing)));
    }
    // The unique index decides a race with another process (whose party this
    // transaction cannot read, so the refusal names none).
    match diesel::insert_into(parties::table)
        .values(&row)
        .execute(conn)
    {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(already_registered(fund, new, None)),
        Err(e) => return Err(e.into()),
    }
    let party = row.into_party(fund.code.clone(), 0);
    let event = event(&party, event_kind::PARTY_REGISTERED);
    Ok((party, event))
}

/// The party of the fund that holds the new party's licence, if one does.
fn holder_of_licence(
    conn: &mut DbConnection,
    fund: &Fund,
    new: &NewParty,
) -> AppResult<Option<String>> {
    Ok(parties::table
        .filter(parties::fund_id.eq(fund.id))
        .filter(parties::kind.eq(new.kind.as_str()))
        .filter(parties::licence_number.eq(&new.licence_number))
        .select(parties::id)
        .first(conn)
        .optional()?)
}

/// The refusal of a licence registered already, naming the party that holds it.
fn already_registered(fund: &Fund, new: &NewParty, existing: Option<String>) -> AppError {
    AppError::new(
        ErrorCode::PartyAlreadyRegistered,
        format!(
            "{} licence {} is already registered in fund {}",
            new.kind.as_str(),
            new.licence_number,
            fund.code
        ),
    )
    .with("party_id", existing)
}

/// Changes a party's details, bond or status under the fund lock (so a bond
/// changes between draws, never during one). A bond lowered below what was
/// drawn from it is refused (`/bond/amount`).
pub fn update(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    change: &PartyChange,
    by: &str,
) -> AppResult<(Party, NewEvent)> {
    lock_fund(conn, fund.id)?;
    let party = in_fund(conn, fund, id)?;
    if let Some(bond) = &change.bond {
        let drawn = party.bond_drawn_minor;
        let currency = party.bond.as_ref().map_or(bond.currency, |b| b.currency);
        if drawn > 0 && (bond.amount_minor < drawn || currency != bond.currency) {
            return Err(AppError::field(
                "/bond/amount",
                "below_drawn",
                format!(
                    "settlements drew {} {currency} from the bond already: a new bond is at least that, in {currency}",
                    format_minor(drawn, currency)
                ),
            ));
        }
    }
    diesel::update(parties::table.find(&party.id))
        .set((
            parties::name.eq(change.name.as_ref().unwrap_or(&party.name)),
            parties::country.eq(change.country.as_ref().unwrap_or(&party.country)),
            parties::contact.eq(change.contact.as_ref().or(party.contact.as_ref())),
            parties::status.eq(change.status.unwrap_or(party.status).as_str()),
            parties::updated_at.eq(crate::time::now()),
            parties::updated_by.eq(by),
        ))
        .execute(conn)?;
    if let Some(bond) = &change.bond {
        diesel::update(parties::table.find(&party.id))
            .set((
                parties::bond_amount_minor.eq(bond.amount_minor),
                parties::bond_currency.eq(bond.currency.code()),
                parties::bond_reference.eq(&bond.reference),
                parties::bond_expires_on.eq(bond.expires_on),
            ))
            .execute(conn)?;
    }
    let updated = in_fund(conn, fund, id)?;
    let event = event(&updated, event_kind::PARTY_UPDATED);
    Ok((updated, event))
}

/// What settlements drew from the party's bond.
fn bond_drawn(conn: &mut DbConnection, party_id: &str) -> AppResult<i64> {
    let draws: Vec<i64> = recovery_settlements::table
        .filter(recovery_settlements::party_id.eq(party_id))
        .filter(recovery_settlements::source.eq("bond"))
        .select(recovery_settlements::amount_minor)
        .load(conn)?;
    Ok(draws.iter().sum())
}

/// The party `id` of `fund`, or 404.
pub fn in_fund(conn: &mut DbConnection, fund: &Fund, id: &str) -> AppResult<Party> {
    let row = parties::table
        .find(id)
        .filter(parties::fund_id.eq(fund.id))
        .select(PartyRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no party {id} in fund {}", fund.code)))?;
    let drawn = bond_drawn(conn, &row.id)?;
    Ok(row.into_party(fund.code.clone(), drawn))
}

/// Which parties a list shows.
#[derive(Debug, Clone, Default)]
pub struct PartyFilter {
    pub kind: Option<PartyKind>,
    pub status: Option<PartyStatus>,
    pub licence_number: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

/// A fund's parties in registration order.
pub fn list(conn: &mut DbConnection, fund: &Fund, filter: &PartyFilter) -> AppResult<Vec<Party>> {
    let mut query = parties::table
        .filter(parties::fund_id.eq(fund.id))
        .into_boxed();
    if let Some(kind) = filter.kind {
        query = query.filter(parties::kind.eq(kind.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(parties::status.eq(status.as_str()));
    }
    if let Some(licence) = &filter.licence_number {
        query = query.filter(parties::licence_number.eq(licence.clone()));
    }
    if let Some(after) = &filter.after {
        query = query.filter(parties::id.gt(after.clone()));
    }
    let rows = query
        .order(parties::id.asc())
        .limit(filter.limit)
        .select(PartyRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let drawn = bond_drawn(conn, &row.id)?;
            Ok(row.into_party(fund.code.clone(), drawn))
        })
        .collect()
}

/// The fund a party belongs to, if it exists.
pub fn fund_of(conn: &mut DbConnection, id: &str) -> AppResult<Option<FundId>> {
    Ok(parties::table
        .find(id)
        .select(parties::fund_id)
        .first(conn)
        .optional()?)
}

/// A `parties` row, read and inserted whole.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = parties, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
struct PartyRow {
    id: String,
    fund_id: FundId,
    kind: String,
    name: String,
    licence_number: String,
    country: String,
    contact: Option<String>,
    bond_amount_minor: Option<i64>,
    bond_currency: Option<String>,
    bond_reference: Option<String>,
    bond_expires_on: Option<NaiveDate>,
    status: String,
    created_at: NaiveDateTime,
    created_by: String,
    updated_at: NaiveDateTime,
    updated_by: String,
}

impl PartyRow {
    fn into_party(self, fund_code: String, bond_drawn_minor: i64) -> Party {
        let bond = match (self.bond_amount_minor, self.bond_currency) {
            (Some(amount_minor), Some(currency)) => Some(Bond {
                amount_minor,
                currency: Currency::parse(&currency).expect("stored currencies are valid"),
                reference: self.bond_reference,
                expires_on: self.bond_expires_on,
            }),
            _ => None,
        };
        Party {
            id: self.id,
            fund_code,
            kind: PartyKind::parse(&self.kind),
            name: self.name,
            licence_number: self.licence_number,
            country: self.country,
            contact: self.contact,
            bond,
            bond_drawn_minor,
            status: PartyStatus::parse(&self.status),
            created_at: self.created_at,
            created_by: self.created_by,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        }
    }
}

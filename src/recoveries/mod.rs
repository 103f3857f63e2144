//! Recoveries: a claim's award marked recoverable from the agency or employer
//! liable for it, as a receivable that money settles or a decision writes off.
//!
//! Opening books Dr 1200 "Receivables" / Cr 4400 "Recoveries from agencies and
//! employers". The credit is a revenue of its own rather than a contra entry
//! on the benefit's expense: the expense stays what the fund paid (what the
//! claims statistics and the benefit's expense account agree on), and what
//! it gets back shows apart, as an auditor reads it. A settlement books Dr 1000
//! cash / Cr 1200, whether the party paid or its bond was called (a bond draw
//! is a settlement with `source: bond`, capped by what remains of the bond);
//! a write-off books Dr 6200 "Receivables written off" / Cr 1200 for what is
//! outstanding. Every step locks the fund and re-reads the recovery (and the
//! party's bond) in its own transaction, so two processes can never settle
//! more than is outstanding or draw more than the bond holds.

mod store;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::events::{kind as event_kind, EventType, NewEvent};
use crate::claims::{self, Claim};
use crate::db::schema::recoveries;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::funds::{lock_fund, Fund};
use crate::ledger::{self, account_code, Booking, JournalEntry, NewEntry, NewPosting, Side};
use crate::money::{format_minor, Currency};
use crate::parties::{self, Party};

pub use store::{find, list, settlements_of, RecoveryFilter};

/// Entry kinds booked by recoveries.
pub const OPENING_KIND: &str = "recovery";
pub const SETTLEMENT_KIND: &str = "recovery_settlement";
pub const WRITE_OFF_KIND: &str = "recovery_write_off";

/// Where a recovery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryStatus {
    /// Booked as a receivable; nothing received yet.
    Open,
    /// Some received; the rest outstanding.
    PartlySettled,
    /// Received in full.
    Settled,
    /// What remained was written off by a decision.
    WrittenOff,
}

impl RecoveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecoveryStatus::Open => "open",
            RecoveryStatus::PartlySettled => "partly_settled",
            RecoveryStatus::Settled => "settled",
            RecoveryStatus::WrittenOff => "written_off",
        }
    }

    fn parse(s: &str) -> RecoveryStatus {
        match s {
            "open" => RecoveryStatus::Open,
            "partly_settled" => RecoveryStatus::PartlySettled,
            "settled" => RecoveryStatus::Settled,
            "written_off" => RecoveryStatus::WrittenOff,
            other => unreachable!("stored recovery statuses are valid: {other}"),
        }
    }

    /// Money may still come in (or be written off).
    pub fn is_outstanding(self) -> bool {
        matches!(self, RecoveryStatus::Open | RecoveryStatus::PartlySettled)
    }

    /// The status after `settled_minor` of `amount_minor` came in.
    fn after_settlement(amount_minor: i64, settled_minor: i64) -> RecoveryStatus {
        if settled_minor >= amount_minor {
            RecoveryStatus::Settled
        } else {
            RecoveryStatus::PartlySettled
        }
    }
}

/// Where the money of a settlement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettlementSource {
    /// The party (or someone for it) paid.
    Cash,
    /// The fund called the party's bond: capped by what remains of it.
    Bond,
}

impl SettlementSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SettlementSource::Cash => "cash",
            SettlementSource::Bond => "bond",
        }
    }

    fn parse(s: &str) -> SettlementSource {
        match s {
            "cash" => SettlementSource::Cash,
            "bond" => SettlementSource::Bond,
            other => unreachable!("stored settlement sources are valid: {other}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Recovery {
    pub id: String,
    pub fund_code: String,
    pub claim_id: String,
    pub party_id: String,
    pub currency: Currency,
    pub amount_minor: i64,
    pub settled_minor: i64,
    pub written_off_minor: i64,
    pub status: RecoveryStatus,
    pub reason: String,
    pub legal_basis: Option<String>,
    pub opening_entry_id: String,
    pub write_off_reason: Option<String>,
    pub write_off_entry_id: Option<String>,
    pub written_off_by: Option<String>,
    pub written_off_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub created_by: String,
}

impl Recovery {
    /// What is still owed.
    pub fn outstanding_minor(&self) -> i64 {
        self.amount_minor - self.settled_minor - self.written_off_minor
    }
}

#[derive(Debug, Clone)]
pub struct Settlement {
    pub id: String,
    pub recovery_id: String,
    pub source: SettlementSource,
    pub amount_minor: i64,
    pub received_on: NaiveDate,
    pub reference: Option<String>,
    pub journal_entry_id: String,
    pub created_at: NaiveDateTime,
    pub created_by: String,
}

/// A recovery to open, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewRecovery {
    pub party_id: String,
    pub amount_minor: i64,
    pub reason: String,
    pub legal_basis: Option<String>,
}

/// A settlement to record, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewSettlement {
    pub source: SettlementSource,
    pub amount_minor: i64,
    pub received_on: NaiveDate,
    pub reference: Option<String>,
}

/// The `data` of every `recovery.*` event: the recovery as it stands after the change.
#[derive(Serialize, ToSchema)]
pub struct RecoveryEventData {
    #[schema(format = Uuid)]
    pub recovery_id: String,
    #[schema(format = Uuid)]
    pub claim_id: String,
    #[schema(format = Uuid)]
    pub party_id: String,
    pub status: RecoveryStatus,
    pub amount: crate::money::DecimalString,
    pub outstanding: crate::money::DecimalString,
    pub currency: Currency,
    /// The entry of this step.
    #[schema(format = Uuid)]
    pub journal_entry_id: String,
}

fn event(recovery: &Recovery, event_type: EventType, entry_id: &str) -> NewEvent {
    let money = |minor| format_minor(minor, recovery.currency);
    NewEvent {
        fund_code: recovery.fund_code.clone(),
        event_type,
        subject_id: recovery.id.clone(),
        payload: json!({
            "recovery_id": recovery.id,
            "claim_id": recovery.claim_id,
            "party_id": recovery.party_id,
            "status": recovery.status,
            "amount": money(recovery.amount_minor),
            "outstanding": money(recovery.outstanding_minor()),
            "currency": recovery.currency.code(),
            "journal_entry_id": entry_id,
        }),
    }
}

/// Marks `claim_id`'s award recoverable from a party of its fund, under the
/// fund lock: the claim's award stands (approved, awaiting funds or paid);
/// the recoveries of the claim not written off add up to no more than the
/// award; the claim has no open recovery from this party. Books the receivable.
pub fn open(
    conn: &mut DbConnection,
    fund: &Fund,
    claim_id: &str,
    new: &NewRecovery,
    by: &str,
) -> AppResult<(Recovery, NewEvent)> {
    lock_fund(conn, fund.id)?;
    let claim = claims::find(conn, claim_id)?
        .filter(|c| c.fund_id == fund.id)
        .ok_or_else(|| AppError::not_found(format!("no claim {claim_id}")))?;
    let award_minor = award_of(&claim)?;
    let party = parties::in_fund(conn, fund, &new.party_id)
        .map_err(|_| unknown_party(&new.party_id, fund))?;
    if let Some(open) = store::open_for(conn, &claim.id, &party.id)? {
        return Err(AppError::new(
            ErrorCode::RecoveryAlreadyOpen,
            format!(
                "claim {} already has recovery {open} open from party {}",
                claim.id, party.id
            ),
        )
        .with("recovery_id", open));
    }
    let recovered = store::recovered_of_claim(conn, &claim.id)?;
    if recovered + new.amount_minor > award_minor {
        return Err(exceeds_award(&claim, award_minor, recovered));
    }
    let id = Uuid::now_v7().to_string();
    let entry = book(
        conn,
        fund,
        Booked {
            kind: OPENING_KIND,
            effective_date: crate::time::today(),
            memo: format!(
                "Recovery {id} of claim {} ({}) from {} {}: {}",
                claim.id,
                claim.benefit,
                party.kind.as_str(),
                party.name,
                new.reason
            ),
            source: &id,
            by,
            debit: account_code::RECEIVABLES,
            credit: account_code::RECOVERIES,
            amount_minor: new.amount_minor,
            currency: claim.currency,
        },
    )?;
    let recovery = store::insert(conn, fund, &claim, &party, &id, new, &entry.id, by)?;
    let event = event(&recovery, event_kind::RECOVERY_OPENED, &entry.id);
    Ok((recovery, event))
}

/// The award of a claim that stands, or why it has none to recover.
fn award_of(claim: &Claim) -> AppResult<i64> {
    match claim.decided_amount_minor {
        Some(amount) if claim.status.is_award() => Ok(amount),
        _ => Err(AppError::new(
            ErrorCode::ClaimNotRecoverable,
            format!(
                "claim {} is {}: only an approved or paid award is recovered",
                claim.id, claim.status
            ),
        )
        .with("claim_status", claim.status.as_str())),
    }
}

fn unknown_party(party_id: &str, fund: &Fund) -> AppError {
    AppError::field(
        "/party_id",
        "unknown_party",
        format!("no party {party_id} in fund {}", fund.code),
    )
}

fn exceeds_award(claim: &Claim, award_minor: i64, recovered_minor: i64) -> AppError {
    AppError::new(
        ErrorCode::RecoveryExceedsAward,
        format!(
            "claim {}'s award is {} {} and {} of it is being recovered already",
            claim.id,
            format_minor(award_minor, claim.currency),
            claim.currency,
            format_minor(recovered_minor, claim.currency)
        ),
    )
    .with(
        "recoverable",
        format_minor(award_minor - recovered_minor, claim.currency),
    )
    .with_errors(vec![FieldError::new(
        "/amount",
        "exceeds_award",
        "the recoveries of a claim add up to no more than its award",
    )])
}

/// Records money received against a recovery under the fund lock: no more
/// than is outstanding now, and from the bond no more than remains of it
/// (and only while it has not expired). Books cash against the receivable.
pub fn settle(
    conn: &mut DbConnection,
    fund: &Fund,
    recovery_id: &str,
    new: &NewSettlement,
    by: &str,
) -> AppResult<(Recovery, Settlement, NewEvent)> {
    lock_fund(conn, fund.id)?;
    let recovery = store::current(conn, fund, recovery_id)?;
    ensure_outstanding(&recovery)?;
    let outstanding = recovery.outstanding_minor();
    if new.amount_minor > outstanding {
        return Err(AppError::new(
            ErrorCode::SettlementExceedsOutstanding,
            format!(
                "recovery {} has {} {} outstanding",
                recovery.id,
                format_minor(outstanding, recovery.currency),
                recovery.currency
            ),
        )
        .with("outstanding", format_minor(outstanding, recovery.currency)));
    }
    if new.received_on < recovery.created_at.date() || new.received_on > crate::time::today() {
        return Err(AppError::field(
            "/received_on",
            "out_of_range",
            format!(
                "money is received from the day the recovery was opened ({}) to today",
                recovery.created_at.date()
            ),
        ));
    }
    let party = parties::in_fund(conn, fund, &recovery.party_id)?;
    if new.source == SettlementSource::Bond {
        check_bond(&party, &recovery, new)?;
    }
    let id = Uuid::now_v7().to_string();
    let entry = book(
        conn,
        fund,
        Booked {
            kind: SETTLEMENT_KIND,
            effective_date: new.received_on,
            memo: format!(
                "Settlement {id} of recovery {} from {} {} ({})",
                recovery.id,
                party.kind.as_str(),
                party.name,
                new.source.as_str()
            ),
            source: &recovery.id,
            by,
            debit: account_code::CASH,
            credit: account_code::RECEIVABLES,
            amount_minor: new.amount_minor,
            currency: recovery.currency,
        },
    )?;
    let settlement = store::insert_settlement(conn, &recovery, &id, new, &entry.id, by)?;
    let settled_minor = recovery.settled_minor + new.amount_minor;
    let status = RecoveryStatus::after_settlement(recovery.amount_minor, settled_minor);
    diesel::update(recoveries::table.find(&recovery.id))
        .set((
            recoveries::settled_minor.eq(settled_minor),
            recoveries::status.eq(status.as_str()),
        ))
        .execute(conn)?;
    let settled = store::current(conn, fund, recovery_id)?;
    let event = event(
        &settled,
        event_kind::RECOVERY_SETTLEMENT_RECORDED,
        &entry.id,
    );
    Ok((settled, settlement, event))
}

/// Refuses a bond draw the party's bond does not cover: no bond, another
/// currency, expired on the day received, or less remaining than drawn.
fn check_bond(party: &Party, recovery: &Recovery, new: &NewSettlement) -> AppResult<()> {
    let refuse = |why: String| {
        AppError::new(ErrorCode::BondNotAvailable, why)
            .with("party_id", &party.id)
            .with(
                "bond_remaining",
                party
                    .bond
                    .as_ref()
                    .map(|b| format_minor(b.amount_minor - party.bond_drawn_minor, b.currency)),
            )
    };
    let Some(bond) = &party.bond else {
        return Err(refuse(format!("party {} holds no bond", party.id)));
    };
    if bond.currency != recovery.currency {
        return Err(refuse(format!(
            "party {}'s bond is in {}, the recovery in {}",
            party.id, bond.currency, recovery.currency
        )));
    }
    if bond.expires_on.is_some_and(|end| end < new.received_on) {
        return Err(refuse(format!(
            "party {}'s bond expired on {}",
            party.id,
            bond.expires_on.expect("checked")
        )));
    }
    let remaining = bond.amount_minor - party.bond_drawn_minor;
    if new.amount_minor > remaining {
        return Err(refuse(format!(
            "{} {} remains of party {}'s bond",
            format_minor(remaining, bond.currency),
            bond.currency,
            party.id
        )));
    }
    Ok(())
}

/// Writes off what a recovery still owes, by a decision with its reason,
/// under the fund lock.
pub fn write_off(
    conn: &mut DbConnection,
    fund: &Fund,
    recovery_id: &str,
    reason: &str,
    by: &str,
) -> AppResult<(Recovery, NewEvent)> {
    lock_fund(conn, fund.id)?;
    let recovery = store::current(conn, fund, recovery_id)?;
    ensure_outstanding(&recovery)?;
    let outstanding = recovery.outstanding_minor();
    let entry = book(
        conn,
        fund,
        Booked {
            kind: WRITE_OFF_KIND,
            effective_date: crate::time::today(),
            memo: format!("Write-off of recovery {}: {reason}", recovery.id),
            source: &recovery.id,
            by,
            debit: account_code::RECEIVABLES_WRITTEN_OFF,
            credit: account_code::RECEIVABLES,
            amount_minor: outstanding,
            currency: recovery.currency,
        },
    )?;
    diesel::update(recoveries::table.find(&recovery.id))
        .set((
            recoveries::written_off_minor.eq(outstanding),
            recoveries::status.eq(RecoveryStatus::WrittenOff.as_str()),
            recoveries::write_off_reason.eq(reason),
            recoveries::write_off_entry_id.eq(&entry.id),
            recoveries::written_off_by.eq(by),
            recoveries::written_off_at.eq(crate::time::now()),
        ))
        .execute(conn)?;
    let written_off = store::current(conn, fund, recovery_id)?;
    let event = event(&written_off, event_kind::RECOVERY_WRITTEN_OFF, &entry.id);
    Ok((written_off, event))
}

/// Refuses a step on a recovery settled or written off.
fn ensure_outstanding(recovery: &Recovery) -> AppResult<()> {
    if recovery.status.is_outstanding() {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::RecoveryStatusConflict,
        format!(
            "recovery {} is {}: nothing is outstanding",
            recovery.id,
            recovery.status.as_str()
        ),
    )
    .with("recovery_status", recovery.status.as_str()))
}

/// One two-line entry a recovery books.
struct Booked<'a> {
    kind: &'static str,
    effective_date: NaiveDate,
    memo: String,
    /// The recovery's id.
    source: &'a str,
    by: &'a str,
    debit: &'static str,
    credit: &'static str,
    amount_minor: i64,
    currency: Currency,
}

/// Books `b` in its own booking, creating the accounts it names when the
/// fund (created before they joined the chart) or the currency lacks them.
fn book(conn: &mut DbConnection, fund: &Fund, b: Booked) -> AppResult<JournalEntry> {
    let debit = ledger::ensure_standard_account(conn, fund.id, fund.currency, b.debit, b.currency)?;
    let credit =
        ledger::ensure_standard_account(conn, fund.id, fund.currency, b.credit, b.currency)?;
    let posting = |account, side| NewPosting {
        account,
        side,
        amount_minor: b.amount_minor,
        currency: b.currency,
    };
    let mut booking = Booking::open(conn, fund.id)?;
    let entry = booking.post(
        conn,
        NewEntry {
            effective_date: b.effective_date,
            kind: b.kind,
            memo: b.memo,
            source: Some(("recovery".to_string(), b.source.to_string())),
            created_by: b.by.to_string(),
            reverses: None,
            postings: vec![posting(debit, Side::Debit), posting(credit, Side::Credit)],
        },
    )?;
    booking.close(conn)?;
    Ok(entry)
}

/// A settlement as read from its row.
fn settlement_from(row: store::SettlementRow) -> Settlement {
    Settlement {
        id: row.id,
        recovery_id: row.recovery_id,
        source: SettlementSource::parse(&row.source),
        amount_minor: row.amount_minor,
        received_on: row.received_on,
        reference: row.reference,
        journal_entry_id: row.journal_entry_id,
        created_at: row.created_at,
        created_by: row.created_by,
    }
}

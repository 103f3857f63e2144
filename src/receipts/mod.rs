//! Bulk receipts: one transfer from an agency, an employer or the government
//! that pays many workers' contributions (Kenya's agency fees and government
//! match arrive so), matched to them item by item.
//!
//! Recording the transfer books Dr 1000 cash / Cr 2300 "Unallocated receipts"
//! on the day received. Matching records each worker's contribution through
//! the contribution booking code (every check of a single contribution: the
//! amount the rules expect, the payers, coverage) with its debit on 2300
//! instead of cash ([`contributions::Funding::UnallocatedReceipts`]), so a
//! contribution matched from a receipt and one paid in directly are the same
//! record with the same coverage. A match request is all or nothing: a refused
//! item refuses it whole (naming the item), and so does matching more than the
//! receipt leaves unmatched, re-read under the fund lock. A matched
//! contribution later reversed (a mistake) gives its money back to the
//! receipt, as its reversal credits 2300; one refunded does not, as the
//! refund pays the money out.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::events::{kind as event_kind, EventType, NewEvent};
use crate::contributions::{self, Contribution, Funding, NewContribution, Recorded};
use crate::db::schema::{
    contributions as contribution_rows, journal_entries, receipt_matches, receipts,
};
use crate::db::{is_unique_violation, DbConnection};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::funds::{lock_fund, Fund, FundId};
use crate::ledger::{self, account_code, NewEntry, NewPosting, Side};
use crate::money::{format_minor, Currency};
use crate::parties;
use crate::rules::document::PayerType;

/// The entry kind of a receipt.
pub const ENTRY_KIND: &str = "receipt";

/// The most items one match request takes.
pub const MAX_MATCH_ITEMS: usize = 1_000;

/// Who sent the transfer.
#[derive(Debug, Clone)]
pub enum NewPayer {
    /// A registered agency or employer of the fund.
    Party(String),
    Government,
}

/// A receipt to record, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewReceipt {
    pub payer: NewPayer,
    pub amount_minor: i64,
    pub currency: Currency,
    pub received_on: NaiveDate,
    /// The bank's reference of the transfer: one receipt per reference in a fund.
    pub reference: String,
}

#[derive(Debug, Clone)]
pub struct Receipt {
    pub id: String,
    pub fund_code: String,
    pub payer_type: PayerType,
    pub party_id: Option<String>,
    pub currency: Currency,
    pub amount_minor: i64,
    /// What its standing matched contributions hold.
    pub matched_minor: i64,
    pub received_on: NaiveDate,
    pub reference: String,
    pub journal_entry_id: String,
    pub created_at: NaiveDateTime,
    pub created_by: String,
}

impl Receipt {
    pub fn unmatched_minor(&self) -> i64 {
        self.amount_minor - self.matched_minor
    }
}

/// One contribution matched to a receipt.
#[derive(Debug, Clone)]
pub struct Match {
    pub contribution_id: String,
    pub worker_id: String,
    pub external_ref: Option<String>,
    pub amount_minor: i64,
    /// False once the contribution was reversed: its money is unmatched again.
    pub standing: bool,
    pub matched_at: NaiveDateTime,
    pub matched_by: String,
}

/// The `data` of every `receipt.*` event: the receipt as it stands after the change.
#[derive(Serialize, ToSchema)]
pub struct ReceiptEventData {
    #[schema(format = Uuid)]
    pub receipt_id: String,
    pub payer_type: PayerType,
    #[schema(required = true, format = Uuid)]
    pub party_id: Option<String>,
    pub amount: crate::money::DecimalString,
    pub matched: crate::money::DecimalString,
    pub unmatched: crate::money::DecimalString,
    pub currency: Currency,
    pub reference: String,
}

fn event(receipt: &Receipt, event_type: EventType) -> NewEvent {
    let money = |minor| format_minor(minor, receipt.currency);
    NewEvent {
        fund_code: receipt.fund_code.clone(),
        event_type,
        subject_id: receipt.id.clone(),
        payload: json!({
            "receipt_id": receipt.id,
            "payer_type": receipt.payer_type,
            "party_id": receipt.party_id,
            "amount": money(receipt.amount_minor),
            "matched": money(receipt.matched_minor),
            "unmatched": money(receipt.unmatched_minor()),
            "currency": receipt.currency.code(),
            "reference": receipt.reference,
        }),
    }
}

/// Books a transfer received to cash and unallocated receipts, under the
/// fund lock; a bank reference already recorded in the fund is 409
/// `RECEIPT_ALREADY_RECORDED` naming its receipt.
pub fn record(
    conn: &mut DbConnection,
    fund: &Fund,
    new: &NewReceipt,
    by: &str,
) -> AppResult<(Receipt, NewEvent)> {
    lock_fund(conn, fund.id)?;
    let (payer_type, party_id) = match &new.payer {
        NewPayer::Government => (PayerType::Government, None),
        NewPayer::Party(id) => {
            let party = parties::in_fund(conn, fund, id).map_err(|_| {
                AppError::field(
                    "/payer/party_id",
                    "unknown_party",
                    format!("no party {id} in fund {}", fund.code),
                )
            })?;
            let payer_type = match party.kind {
                parties::PartyKind::Agency => PayerType::Agency,
                parties::PartyKind::Employer => PayerType::Employer,
            };
            (payer_type, Some(party.id))
        }
    };
    if let Some(existing) = by_reference(conn, fund.id, &new.reference)? {
        return Err(already_recorded(&new.reference, Some(&existing)));
    }
    let ensure = |conn: &mut DbConnection, base| {
        ledger::ensure_standard_account(conn, fund.id, fund.currency, base, new.currency)
    };
    let cash = ensure(conn, account_code::CASH)?;
    let unallocated = ensure(conn, account_code::UNALLOCATED_RECEIPTS)?;
    let id = Uuid::now_v7().to_string();
    let posting = |account, side| NewPosting {
        account,
        side,
        amount_minor: new.amount_minor,
        currency: new.currency,
    };
    let entry = ledger::post_entry(
        conn,
        fund.id,
        NewEntry {
            effective_date: new.received_on,
            kind: ENTRY_KIND,
            memo: format!(
                "Bulk receipt {id} from {} ({})",
                payer_type.as_str(),
                new.reference
            ),
            source: Some(("receipt".to_string(), id.clone())),
            created_by: by.to_string(),
            reverses: None,
            postings: vec![
                posting(cash, Side::Debit),
                posting(unallocated, Side::Credit),
            ],
        },
    )?;
    let row = ReceiptRow {
        id,
        fund_id: fund.id,
        payer_type: payer_type.as_str().to_string(),
        party_id,
        currency: new.currency.code().to_string(),
        amount_minor: new.amount_minor,
        received_on: new.received_on,
        reference: new.reference.clone(),
        journal_entry_id: entry.id,
        created_at: crate::time::now(),
        created_by: by.to_string(),
    };
    match diesel::insert_into(receipts::table)
        .values(&row)
        .execute(conn)
    {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(already_recorded(&new.reference, None)),
        Err(e) => return Err(e.into()),
    }
    let receipt = row.into_receipt(fund.code.clone(), 0);
    let event = event(&receipt, event_kind::RECEIPT_RECORDED);
    Ok((receipt, event))
}

fn already_recorded(reference: &str, existing: Option<&str>) -> AppError {
    AppError::new(
        ErrorCode::ReceiptAlreadyRecorded,
        format!("bank reference {reference} is already recorded in this fund"),
    )
    .with("receipt_id", existing)
}

fn by_reference(
    conn: &mut DbConnection,
    fund_id: FundId,
    reference: &str,
) -> AppResult<Option<String>> {
    Ok(receipts::table
        .filter(receipts::fund_id.eq(fund_id))
        .filter(receipts::reference.eq(reference))
        .select(receipts::id)
        .first(conn)
        .optional()?)
}

/// Matches `items` to the receipt under the fund lock: each is recorded as a
/// contribution paid from unallocated receipts, all or none. An item whose
/// `external_ref` names a contribution matched to this receipt already is
/// that contribution again (a retry); one naming any other contribution is
/// refused. The contributions matched by this request (new and retried),
/// the receipt after, and the events.
pub fn match_items(
    conn: &mut DbConnection,
    fund: &Fund,
    receipt_id: &str,
    items: &[NewContribution],
    by: &str,
) -> AppResult<(Receipt, Vec<Contribution>, Vec<NewEvent>)> {
    lock_fund(conn, fund.id)?;
    let receipt = current(conn, fund, receipt_id)?;
    check_items(&receipt, items)?;
    let matched_before = matches_of(conn, &receipt.id)?;
    let retried: HashSet<&str> = (matched_before.iter())
        .filter_map(|m| m.external_ref.as_deref())
        .collect();
    // What the items pay (their payers' parts add up to each total, or the
    // item is refused): checked before booking, so the receipt's own limit
    // speaks before the ledger's guard on 2300, which all receipts share.
    let adding: i64 = (items.iter())
        .filter(|item| !(item.external_ref.as_deref()).is_some_and(|r| retried.contains(r)))
        .flat_map(|item| &item.payers)
        .map(|p| p.amount_minor)
        .sum();
    if adding > receipt.unmatched_minor() {
        return Err(over_matched(&receipt, adding));
    }
    let pairs: Vec<(&NewContribution, &str)> = items.iter().map(|item| (item, by)).collect();
    let recorded =
        contributions::record_many_from(conn, fund, &pairs, Funding::UnallocatedReceipts)?;
    let already: HashSet<String> = (matched_before.into_iter())
        .map(|m| m.contribution_id)
        .collect();
    let mut created = Vec::new();
    let mut matched = Vec::new();
    let mut events = Vec::new();
    for (index, outcome) in recorded.into_iter().enumerate() {
        let at = format!("/items/{index}");
        match outcome {
            Err(refusal) => return Err(AppError::Refused(Box::new(refusal.nested_under(&at)))),
            Ok(Recorded::Created(c, event)) => {
                events.push(event);
                created.push(c.clone());
                matched.push(c);
            }
            Ok(Recorded::Existing(c)) if already.contains(&c.id) => matched.push(c),
            Ok(Recorded::Existing(c)) => {
                return Err(AppError::new(
                    ErrorCode::ExternalRefConflict,
                    format!(
                        "{at}: external_ref names contribution {}, not matched to receipt {}",
                        c.id, receipt.id
                    ),
                )
                .with("contribution_id", &c.id))
            }
        }
    }
    let added: i64 = created.iter().map(|c| c.total_minor).sum();
    assert!(
        added <= adding,
        "a contribution's total is what its payers paid, checked against the receipt"
    );
    insert_matches(conn, &receipt, &created, by)?;
    let after = current(conn, fund, receipt_id)?;
    if !created.is_empty() {
        events.push(event(&after, event_kind::RECEIPT_MATCHED));
    }
    Ok((after, matched, events))
}

fn over_matched(receipt: &Receipt, adding: i64) -> AppError {
    AppError::new(
        ErrorCode::ReceiptOverMatched,
        format!(
            "the items add up to {} {cur} but receipt {} has {} {cur} unmatched",
            format_minor(adding, receipt.currency),
            receipt.id,
            format_minor(receipt.unmatched_minor(), receipt.currency),
            cur = receipt.currency,
        ),
    )
    .with(
        "unmatched",
        format_minor(receipt.unmatched_minor(), receipt.currency),
    )
}

/// Refuses items in another currency than the receipt's, paid before it was
/// received, or naming another payer than the one who sent it.
fn check_items(receipt: &Receipt, items: &[NewContribution]) -> AppResult<()> {
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if item.currency != receipt.currency {
            errors.push(FieldError::new(
                format!("/items/{i}/currency"),
                "not_the_receipt_currency",
                format!("the receipt is in {}", receipt.currency),
            ));
        }
        if item.paid_on < receipt.received_on {
            errors.push(FieldError::new(
                format!("/items/{i}/paid_on"),
                "before_receipt",
                format!("the receipt was received on {}", receipt.received_on),
            ));
        }
        for (j, payer) in item.payers.iter().enumerate() {
            if payer.payer_type != receipt.payer_type {
                errors.push(FieldError::new(
                    format!("/items/{i}/payers/{j}/type"),
                    "not_the_receipt_payer",
                    format!(
                        "the receipt's money came from {}",
                        receipt.payer_type.as_str()
                    ),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

fn insert_matches(
    conn: &mut DbConnection,
    receipt: &Receipt,
    created: &[Contribution],
    by: &str,
) -> AppResult<()> {
    let now = crate::time::now();
    let rows: Vec<_> = created
        .iter()
        .map(|c| {
            (
                receipt_matches::contribution_id.eq(&c.id),
                receipt_matches::receipt_id.eq(&receipt.id),
                receipt_matches::amount_minor.eq(c.total_minor),
                receipt_matches::matched_at.eq(now),
                receipt_matches::matched_by.eq(by),
            )
        })
        .collect();
    crate::insert_rows!(conn, receipt_matches::table, rows)?;
    Ok(())
}

/// The contributions matched to a receipt, in the order matched, each with
/// whether it still stands for the receipt's money: a contribution reversed
/// by its own reversal gave the money back to unallocated receipts (its
/// reversal credited 2300); one refunded still spent it.
pub fn matches_of(conn: &mut DbConnection, receipt_id: &str) -> AppResult<Vec<Match>> {
    let rows: Vec<(String, i64, NaiveDateTime, String)> = receipt_matches::table
        .filter(receipt_matches::receipt_id.eq(receipt_id))
        .order((
            receipt_matches::matched_at.asc(),
            receipt_matches::contribution_id.asc(),
        ))
        .select((
            receipt_matches::contribution_id,
            receipt_matches::amount_minor,
            receipt_matches::matched_at,
            receipt_matches::matched_by,
        ))
        .load(conn)?;
    let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
    let mut workers = HashMap::new();
    let mut reversals = HashMap::new();
    for chunk in ids.chunks(500) {
        let found: Vec<(String, String, Option<String>, Option<String>)> = contribution_rows::table
            .filter(contribution_rows::id.eq_any(chunk))
            .select((
                contribution_rows::id,
                contribution_rows::worker_id,
                contribution_rows::external_ref,
                contribution_rows::reversal_entry_id,
            ))
            .load(conn)?;
        for (id, worker, external_ref, reversal) in found {
            if let Some(entry) = reversal {
                reversals.insert(entry, id.clone());
            }
            workers.insert(id, (worker, external_ref));
        }
    }
    let entries: Vec<&String> = reversals.keys().collect();
    let mut given_back = HashSet::new();
    for chunk in entries.chunks(500) {
        let kinds: Vec<(String, String)> = journal_entries::table
            .filter(journal_entries::id.eq_any(chunk))
            .select((journal_entries::id, journal_entries::kind))
            .load(conn)?;
        for (entry, kind) in kinds {
            if kind == contributions::REVERSAL_KIND {
                given_back.insert(reversals[&entry].clone());
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|(contribution_id, amount_minor, matched_at, matched_by)| {
            let (worker_id, external_ref) =
                workers.get(&contribution_id).cloned().unwrap_or_default();
            Match {
                worker_id,
                external_ref,
                standing: !given_back.contains(&contribution_id),
                contribution_id,
                amount_minor,
                matched_at,
                matched_by,
            }
        })
        .collect())
}

fn matched_minor(conn: &mut DbConnection, receipt_id: &str) -> AppResult<i64> {
    Ok(matches_of(conn, receipt_id)?
        .iter()
        .filter(|m| m.standing)
        .map(|m| m.amount_minor)
        .sum())
}

/// The receipt as committed, in `fund` (read under its lock when writing).
fn current(conn: &mut DbConnection, fund: &Fund, id: &str) -> AppResult<Receipt> {
    let row = receipts::table
        .find(id)
        .filter(receipts::fund_id.eq(fund.id))
        .select(ReceiptRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no receipt {id}")))?;
    let matched = matched_minor(conn, &row.id)?;
    Ok(row.into_receipt(fund.code.clone(), matched))
}

/// A receipt with its fund's code (the caller's scope is checked by the caller).
pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<Receipt>> {
    let Some(row) = receipts::table
        .find(id)
        .select(ReceiptRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let fund_code = crate::funds::fund_code(conn, row.fund_id)?;
    let matched = matched_minor(conn, &row.id)?;
    Ok(Some(row.into_receipt(fund_code, matched)))
}

/// A fund's receipts in the order recorded, after `after_id`.
pub fn list(
    conn: &mut DbConnection,
    fund: &Fund,
    after_id: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Receipt>> {
    let mut query = receipts::table
        .filter(receipts::fund_id.eq(fund.id))
        .into_boxed();
    if let Some(after) = after_id {
        query = query.filter(receipts::id.gt(after.to_string()));
    }
    let rows = query
        .order(receipts::id.asc())
        .limit(limit)
        .select(ReceiptRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let matched = matched_minor(conn, &row.id)?;
            Ok(row.into_receipt(fund.code.clone(), matched))
        })
        .collect()
}

/// A `receipts` row, read and inserted whole.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = receipts, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
struct ReceiptRow {
    id: String,
    fund_id: FundId,
    payer_type: String,
    party_id: Option<String>,
    currency: String,
    amount_minor: i64,
    received_on: NaiveDate,
    reference: String,
    journal_entry_id: String,
    created_at: NaiveDateTime,
    created_by: String,
}

impl ReceiptRow {
    fn into_receipt(self, fund_code: String, matched_minor: i64) -> Receipt {
        let payer_type = match self.payer_type.as_str() {
            "agency" => PayerType::Agency,
            "employer" => PayerType::Employer,
            "government" => PayerType::Government,
            other => unreachable!("stored receipt payers are valid: {other}"),
        };
        Receipt {
            id: self.id,
            fund_code,
            payer_type,
            party_id: self.party_id,
            currency: Currency::parse(&self.currency).expect("stored currencies are valid"),
            amount_minor: self.amount_minor,
            matched_minor,
            received_on: self.received_on,
            reference: self.reference,
            journal_entry_id: self.journal_entry_id,
            created_at: self.created_at,
            created_by: self.created_by,
        }
    }
}

//! The payment run's part: each instalment due by the run's date is
//! re-assessed under the fund lock, in the run's transaction, and paid while
//! cash lasts, in due order; one that does not hold stays due with its reasons,
//! or lapses at the age limit.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{
    age_on, claimant_born, dates, hold, instalment_event, rules_for, store, Instalment,
    InstalmentFacts, InstalmentRules, InstalmentStatus, Schedule, EXPENSE_KIND, PAYMENT_KIND,
    REVERSAL_KIND,
};
use crate::audit::events::{kind as event_kind, NewEvent};
use crate::claims::assess::Versions;
use crate::claims::{Claim, ClaimStatus};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::Fund;
use crate::ledger::{account_code, reverse_entry, Booking, NewEntry, NewPosting, Reversal, Side};
use crate::rules::version_table;

/// What one claim's instalments are judged against in a payment run: the
/// claim re-assessed once, its rules, its claimant's birth date, its proof.
struct Standing {
    claim: Claim,
    rules: InstalmentRules,
    born: Option<NaiveDate>,
    schedule: Schedule,
    /// None when the award stands; else why not.
    undermined: Option<Vec<String>>,
}

/// What every instalment of one payment run is paid under.
struct Terms<'a> {
    fund: &'a Fund,
    paid_on: NaiveDate,
    by: &'a str,
}

/// Pays the fund's instalments (after the first) due on or before `paid_on`,
/// in due order, inside the payment run's booking: each is re-assessed
/// first, and one that does not hold stays due with its reasons (or lapses);
/// cash is never overdrawn and none overtakes an earlier one waiting for cash.
/// `cash_short`: claims waiting for funds were left unpaid before it.
pub(in crate::claims) fn pay_due(
    conn: &mut DbConnection,
    booking: &mut Booking,
    fund: &Fund,
    paid_on: NaiveDate,
    by: &str,
    mut cash_short: bool,
) -> AppResult<(Vec<Instalment>, Vec<NewEvent>)> {
    let due = store::open_due(conn, fund.id, paid_on)?;
    let mut looked_at = Vec::new();
    let mut events = Vec::new();
    if due.is_empty() {
        return Ok((looked_at, events));
    }
    let terms = Terms { fund, paid_on, by };
    let versions = version_table(conn, fund.id)?;
    let mut standings: HashMap<String, Option<Standing>> = HashMap::new();
    for mut instalment in due {
        if !standings.contains_key(&instalment.claim_id) {
            let standing = standing_of(conn, booking, &terms, &versions, &instalment)?;
            standings.insert(instalment.claim_id.clone(), standing);
        }
        let Some(standing) = standings
            .get_mut(&instalment.claim_id)
            .expect("just inserted")
        else {
            instalment.status = InstalmentStatus::Due;
            instalment.hold_reasons = vec![hold::FIRST_INSTALMENT_UNPAID.to_string()];
            store::update(conn, &instalment)?;
            looked_at.push(instalment);
            continue;
        };
        if !standing
            .schedule
            .instalments
            .iter()
            .any(|i| i.number == instalment.number && i.status.is_open())
        {
            // Lapsed earlier in this run, with an earlier instalment of its claim.
            continue;
        }
        let (judged, event) = judge(conn, booking, &terms, standing, instalment, &mut cash_short)?;
        looked_at.extend(judged);
        events.extend(event);
    }
    Ok((looked_at, events))
}

/// Re-assesses one instalment on its due date and pays it, holds it with its
/// reasons, or lapses it with every later one; returns what changed, and the
/// event to announce.
fn judge(
    conn: &mut DbConnection,
    booking: &mut Booking,
    terms: &Terms,
    standing: &mut Standing,
    mut instalment: Instalment,
    cash_short: &mut bool,
) -> AppResult<(Vec<Instalment>, Option<NewEvent>)> {
    let facts = facts_of(standing, &instalment);
    instalment.assessed_at = Some(crate::time::now());
    instalment.assessment = Some(facts.clone());
    let (fund, by) = (terms.fund, terms.by);
    let too_old = standing
        .rules
        .max_age
        .zip(standing.born)
        .is_some_and(|(max_age, born)| dates::reached(born, max_age, instalment.due_on));
    if too_old {
        let lapsed = lapse_from(conn, booking, fund, standing, &instalment, by)?;
        let kind = event_kind::CLAIM_INSTALMENT_LAPSED;
        let event = instalment_event(fund, kind, &standing.claim, &lapsed[0]);
        return Ok((lapsed, Some(event)));
    }
    let held = hold_reasons(standing, &facts, *cash_short);
    let mut event = None;
    if held.is_empty() {
        pay_one(
            conn,
            booking,
            &standing.claim,
            &mut instalment,
            terms.paid_on,
            by,
        )?;
        if instalment.status == InstalmentStatus::Paid {
            let kind = event_kind::CLAIM_INSTALMENT_PAID;
            event = Some(instalment_event(fund, kind, &standing.claim, &instalment));
        } else {
            *cash_short = true;
        }
    } else {
        instalment.status = InstalmentStatus::Due;
        instalment.hold_reasons = held;
    }
    store::update(conn, &instalment)?;
    Ok((vec![instalment], event))
}

/// Re-assesses the claim of `instalment` once for the run (keeping the
/// assessment in its history); `None` while the claim itself is not paid (as
/// of `paid_on`), so its later instalments can't be either.
fn standing_of(
    conn: &mut DbConnection,
    booking: &Booking,
    terms: &Terms,
    versions: &Versions,
    instalment: &Instalment,
) -> AppResult<Option<Standing>> {
    let (fund, paid_on, by) = (terms.fund, terms.paid_on, terms.by);
    let mut claim = crate::claims::found(conn, &instalment.claim_id)?;
    if claim.status != ClaimStatus::Paid || claim.paid_on.is_none_or(|p| p > paid_on) {
        return Ok(None);
    }
    let rules = rules_for(versions, &claim)
        .cloned()
        .ok_or_else(|| AppError::internal("a scheduled claim's benefit has no instalments"))?;
    let worker = crate::claims::worker_of(conn, &claim)?;
    crate::claims::reassess(
        conn,
        booking.lock(),
        fund,
        &mut claim,
        crate::claims::cause::PAYMENT_RUN,
        by,
    )?;
    crate::claims::store::update(conn, &claim)?;
    let undermined = crate::claims::undermined(&claim).then(|| claim.assessment.reasons.clone());
    let schedule = store::find(conn, &claim.id)?
        .ok_or_else(|| AppError::internal("an instalment without its schedule"))?;
    Ok(Some(Standing {
        born: claimant_born(&worker, &claim),
        claim,
        rules,
        schedule,
        undermined,
    }))
}

fn facts_of(standing: &Standing, instalment: &Instalment) -> InstalmentFacts {
    let attached = standing.schedule.document_types(instalment.number);
    InstalmentFacts {
        due_on: instalment.due_on,
        claimant_age: standing
            .rules
            .max_age
            .and(standing.born)
            .map(|born| age_on(born, instalment.due_on)),
        award_stands: standing.undermined.is_none(),
        missing_documents: standing
            .rules
            .documents
            .iter()
            .filter(|d| !attached.contains(&d.as_str()))
            .cloned()
            .collect(),
    }
}

/// Why an instalment that has not lapsed is not paid now (none: pay it).
fn hold_reasons(standing: &Standing, facts: &InstalmentFacts, cash_short: bool) -> Vec<String> {
    let mut reasons = Vec::new();
    if standing.rules.max_age.is_some() && standing.born.is_none() {
        reasons.push(hold::DATE_OF_BIRTH_UNKNOWN.to_string());
    }
    if let Some(claim_reasons) = &standing.undermined {
        reasons.push(hold::AWARD_NO_LONGER_STANDS.to_string());
        reasons.extend(claim_reasons.iter().cloned());
    }
    if !facts.missing_documents.is_empty() {
        reasons.push(hold::MISSING_DOCUMENTS.to_string());
    }
    if reasons.is_empty() && cash_short {
        reasons.push(hold::AWAITING_FUNDS.to_string());
    }
    reasons
}

/// Books the instalment's expense (unless an earlier run did) and pays it
/// from cash; when cash would go below zero as of any date from `paid_on` on,
/// it stays due, its expense booked, waiting for funds.
fn pay_one(
    conn: &mut DbConnection,
    booking: &mut Booking,
    claim: &Claim,
    instalment: &mut Instalment,
    paid_on: NaiveDate,
    by: &str,
) -> AppResult<()> {
    let amount = instalment.amount_minor;
    let posting = |account: &str, side| NewPosting {
        account: account.to_string(),
        side,
        amount_minor: amount,
        currency: instalment.currency,
    };
    if instalment.expense_entry_id.is_none() {
        let expense = booking.post(
            conn,
            NewEntry {
                effective_date: paid_on,
                kind: EXPENSE_KIND,
                memo: format!(
                    "Instalment {} of {} to claim {}",
                    instalment.number, claim.benefit, claim.id
                ),
                source: Some(("claim".to_string(), claim.id.clone())),
                created_by: by.to_string(),
                reverses: None,
                postings: vec![
                    posting(crate::claims::expense_account(&claim.benefit), Side::Debit),
                    posting(account_code::BENEFITS_PAYABLE, Side::Credit),
                ],
            },
        )?;
        instalment.expense_entry_id = Some(expense.id);
    }
    let payment = NewEntry {
        effective_date: paid_on,
        kind: PAYMENT_KIND,
        memo: format!(
            "Payment of instalment {} of claim {} ({})",
            instalment.number, claim.id, claim.benefit
        ),
        source: Some(("claim".to_string(), claim.id.clone())),
        created_by: by.to_string(),
        reverses: None,
        postings: vec![
            posting(account_code::BENEFITS_PAYABLE, Side::Debit),
            posting(account_code::CASH, Side::Credit),
        ],
    };
    match booking.prepare(conn, payment) {
        Ok(prepared) => {
            let entry = booking.commit(conn, prepared)?;
            instalment.payment_entry_id = Some(entry.id);
            instalment.paid_on = Some(paid_on);
            instalment.status = InstalmentStatus::Paid;
            instalment.hold_reasons.clear();
            Ok(())
        }
        Err(e) if e.code() == ErrorCode::InsufficientFunds => {
            instalment.status = InstalmentStatus::Due;
            instalment.hold_reasons = vec![hold::AWAITING_FUNDS.to_string()];
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The claimant reached the age limit by `instalment`'s due date: it and every
/// later open instalment of its claim lapse (an expense booked for them and
/// not paid is reversed). Returns them, `instalment` first.
fn lapse_from(
    conn: &mut DbConnection,
    booking: &mut Booking,
    fund: &Fund,
    standing: &mut Standing,
    instalment: &Instalment,
    by: &str,
) -> AppResult<Vec<Instalment>> {
    let mut lapsed = Vec::new();
    for later in standing
        .schedule
        .instalments
        .iter_mut()
        .filter(|i| i.number >= instalment.number && i.status.is_open())
    {
        if later.number == instalment.number {
            later.assessed_at = instalment.assessed_at;
            later.assessment = instalment.assessment.clone();
        }
        end_open(conn, booking, fund, later, InstalmentStatus::Lapsed, by)?;
        later.hold_reasons = vec![hold::AGE_LIMIT_REACHED.to_string()];
        store::update(conn, later)?;
        lapsed.push(later.clone());
    }
    Ok(lapsed)
}

/// Ends an open instalment as stopped or lapsed, reversing an expense booked
/// for it and not paid.
pub(super) fn end_open(
    conn: &mut DbConnection,
    booking: &mut Booking,
    fund: &Fund,
    instalment: &mut Instalment,
    to: InstalmentStatus,
    by: &str,
) -> AppResult<()> {
    debug_assert!(instalment.status.is_open() && !to.is_open());
    debug_assert_eq!(booking.fund_id(), fund.id);
    if let Some(entry_id) = instalment.expense_entry_id.take() {
        reverse_entry(
            conn,
            booking,
            Reversal {
                entry_id: &entry_id,
                only_kind: Some(EXPENSE_KIND),
                effective_date: crate::time::today(),
                memo: format!(
                    "Reversal of instalment {} of claim {}: {}",
                    instalment.number,
                    instalment.claim_id,
                    to.as_str()
                ),
                created_by: by,
                kind: REVERSAL_KIND,
            },
        )?;
    }
    instalment.status = to;
    Ok(())
}

//! Payees and shares (issue 15): one death is one benefit, however many heirs.
//!
//! A claim of a benefit with `beneficiaries` (RULES.md) names who it pays: the
//! dependants of the class of heirs that takes (the nominee first where the
//! rules say so), or the worker's estate, each with a share of the award, and
//! for a minor the guardian who receives. When it names nobody, the class that
//! takes is paid in equal shares. A later heir joins the claim instead of
//! filing another. Approval splits the award over the payees exactly (the
//! largest remainder, in minor units) and books one payable per payee; payment
//! pays each with its own journal entry, in line order while cash lasts, and
//! the claim waits for funds, partly paid, until every payee is paid.
//!
//! A benefit without `beneficiaries` has no payee lines: its claimant is paid
//! in one entry, as before. The hooks here are called from the claim's own
//! transactions in [`super`], under the fund's lock.

mod check;
pub mod share;
mod store;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

pub(super) use self::check::{check_beneficiaries, check_claimant_rank, nominee_may_take};
use self::check::{default_payees, is_minor, problems, Problem};
pub use self::check::{Guardian, PayeeFacts, Recipient};
pub use self::share::Share;
use super::assess::{ClaimFacts, DependantFacts, Versions, WorkerFacts};
use super::status::{self, Action, ClaimStatus};
use super::{cause, event, Claim};
use crate::audit::events::{kind as event_kind, NewEvent};
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::funds::Fund;
use crate::ledger::{account_code, Booking, NewEntry, NewPosting, Side};
use crate::money::format_minor;
use crate::rules::beneficiaries::BeneficiaryRules;
use crate::rules::document::Relationship;
use crate::workers::Worker;

/// The most beneficiaries a claim may name.
pub const MAX_BENEFICIARIES: usize = 50;

/// One payee of a claim: who, their share, who receives for them, and once
/// the claim is approved their part of the award, then its payment.
#[derive(Debug, Clone, PartialEq)]
pub struct Payee {
    /// 1, 2, …: the order payees are paid in.
    pub line: i32,
    pub recipient: Recipient,
    /// The dependant's name as registered, or "Estate of …".
    pub name: String,
    pub relationship: Option<Relationship>,
    /// A minor on the incident date, paid through the guardian.
    pub minor: bool,
    pub guardian: Option<Guardian>,
    /// The guardian's name (a registered guardian's as registered).
    pub guardian_name: Option<String>,
    pub guardian_relationship: Option<String>,
    pub share: Share,
    /// The payee's part of the award, from approval on.
    pub amount_minor: Option<i64>,
    /// The entry that paid the payee (none for a part of zero).
    pub payment_entry_id: Option<String>,
    pub paid_on: Option<NaiveDate>,
}

impl Payee {
    pub fn facts(&self) -> PayeeFacts {
        PayeeFacts {
            recipient: self.recipient.clone(),
            guardian: self.guardian.clone(),
            share: self.share,
        }
    }

    /// Who receives the money: the guardian for a payee with one, else the payee.
    pub fn receiver(&self) -> &str {
        self.guardian_name.as_deref().unwrap_or(&self.name)
    }

    fn is_paid(&self) -> bool {
        self.paid_on.is_some()
    }

    /// How a payment's memo names the payee.
    fn described(&self) -> String {
        match &self.guardian_name {
            Some(guardian) => format!("{guardian}, guardian of {}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A beneficiary as a request names them, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewBeneficiary {
    pub recipient: Recipient,
    /// Absent: equal shares (a claim names shares for all or for none).
    pub share: Option<Share>,
    pub guardian: Option<Guardian>,
}

/// The `beneficiaries` of `benefit` in the version in force on `date`.
pub(super) fn rules_for<'a>(
    versions: &'a Versions,
    benefit: &str,
    date: NaiveDate,
) -> Option<&'a BeneficiaryRules> {
    crate::rules::evaluate::version_in_force(versions, date)
        .and_then(|(_, doc)| doc.benefits.iter().find(|b| b.code == benefit))
        .and_then(|b| b.beneficiaries.as_ref())
}

fn facts_of(named: &[NewBeneficiary]) -> Vec<PayeeFacts> {
    named
        .iter()
        .map(|b| PayeeFacts {
            recipient: b.recipient.clone(),
            guardian: b.guardian.clone(),
            share: b.share.unwrap_or_else(|| Share::equal(named.len())),
        })
        .collect()
}

/// The problems as a 422: each at its field (`/beneficiaries/1/guardian`) when
/// the claim named the beneficiaries, else at `/beneficiaries` naming who.
fn refusal(
    found: &[Problem],
    at: &str,
    named: bool,
    payees: &[PayeeFacts],
    worker: &Worker,
) -> AppError {
    let errors = found
        .iter()
        .map(|p| match p.line {
            Some(line) if named => FieldError::new(
                format!("{at}/{line}/{}", p.field),
                p.code,
                p.message.clone(),
            ),
            Some(line) => {
                let who = match &payees[line].recipient {
                    Recipient::Dependant(id) => dependant_name(worker, id),
                    Recipient::Estate => "the estate".to_string(),
                };
                FieldError::new(at, p.code, format!("{who}: {}", p.message))
            }
            None => FieldError::new(at, p.code, p.message.clone()),
        })
        .collect();
    AppError::validation(errors)
}

fn dependant_name(worker: &Worker, id: &str) -> String {
    worker
        .dependants
        .iter()
        .find(|d| d.id == id)
        .map(|d| d.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// The payees of a new claim: those it names, or by default the class that
/// takes in equal shares; refused with field pointers when any is wrong. A
/// benefit without `beneficiaries` has none (and naming any is refused).
pub(super) fn for_new_claim(
    rules: Option<&BeneficiaryRules>,
    facts: &ClaimFacts,
    worker_facts: &WorkerFacts,
    worker: &Worker,
    named: Option<&[NewBeneficiary]>,
) -> AppResult<Vec<Payee>> {
    let Some(rules) = rules else {
        return match named {
            Some(_) => Err(AppError::field(
                "/beneficiaries",
                "not_applicable",
                format!(
                    "{} names no beneficiaries in the rules in force on the incident date: its claimant is paid",
                    facts.benefit
                ),
            )),
            None => Ok(Vec::new()),
        };
    };
    let payees = match named {
        Some(list) => facts_of(list),
        None => default_payees(rules, facts, worker_facts),
    };
    let found = problems(
        rules,
        facts.incident_date,
        &worker_facts.dependants,
        &payees,
    );
    if !found.is_empty() {
        return Err(refusal(
            &found,
            "/beneficiaries",
            named.is_some(),
            &payees,
            worker,
        ));
    }
    Ok(payees
        .iter()
        .enumerate()
        .map(|(i, p)| {
            payee(
                rules,
                facts.incident_date,
                worker,
                &worker_facts.dependants,
                i,
                p,
            )
        })
        .collect())
}

/// The payee line `i` of `facts`, with the names of the register.
fn payee(
    rules: &BeneficiaryRules,
    incident_date: NaiveDate,
    worker: &Worker,
    dependants: &[DependantFacts],
    i: usize,
    facts: &PayeeFacts,
) -> Payee {
    let registered = |id: &str| worker.dependants.iter().find(|d| d.id == id);
    let (name, relationship, minor) = match &facts.recipient {
        Recipient::Dependant(id) => {
            let d = registered(id).expect("a checked payee is registered");
            let minor = dependants
                .iter()
                .find(|f| &f.id == id)
                .is_some_and(|f| is_minor(rules, f, incident_date));
            (d.name.clone(), Some(d.relationship), minor)
        }
        Recipient::Estate => (
            format!("Estate of {} {}", worker.given_name, worker.family_name),
            None,
            false,
        ),
    };
    let (guardian_name, guardian_relationship) = match &facts.guardian {
        Some(Guardian::Dependant(id)) => {
            let g = registered(id).expect("a checked guardian is registered");
            (
                Some(g.name.clone()),
                Some(g.relationship.as_str().to_string()),
            )
        }
        Some(Guardian::Named {
            name, relationship, ..
        }) => (Some(name.clone()), relationship.clone()),
        None => (None, None),
    };
    Payee {
        line: i as i32 + 1,
        recipient: facts.recipient.clone(),
        name,
        relationship,
        minor,
        guardian: facts.guardian.clone(),
        guardian_name,
        guardian_relationship,
        share: facts.share,
        amount_minor: None,
        payment_entry_id: None,
        paid_on: None,
    }
}

/// Writes a new claim's payees (after its row).
pub(super) fn insert(conn: &mut DbConnection, claim: &Claim) -> AppResult<()> {
    store::replace(conn, &claim.id, &claim.payees)
}

/// The payees of the claims `ids`, each with its claim's id.
pub(super) fn of_claims(
    conn: &mut DbConnection,
    ids: &[String],
) -> AppResult<Vec<(String, Payee)>> {
    store::of_claims(conn, ids)
}

/// The open claim (or standing award) this new claim's event already has, for
/// a benefit whose heirs share: a later heir joins it (409 naming it).
pub(super) fn already_filed(
    others: &[Claim],
    benefit: &str,
    incident_date: NaiveDate,
) -> AppResult<()> {
    let existing = others.iter().find(|o| {
        o.benefit == benefit
            && o.incident_date == incident_date
            && o.rider_of.is_none()
            && !o.status.is_closed_without_award()
    });
    match existing {
        None => Ok(()),
        Some(o) => Err(AppError::new(
            ErrorCode::ClaimAlreadyFiled,
            format!(
                "claim {} is already filed for this {} of {incident_date}: its heirs share it; join it (POST /v1/claims/{}/beneficiaries)",
                o.id, benefit, o.id
            ),
        )
        .with("claim_id", &o.id)),
    }
}

/// Splits the approved award over the payees (largest remainder) and keeps
/// each part: the parts to book as payables, one per payee with a part, or
/// the whole award for a claim without payees.
pub(super) fn split_award(
    conn: &mut DbConnection,
    claim: &mut Claim,
    amount: i64,
) -> AppResult<Vec<i64>> {
    if claim.payees.is_empty() {
        return Ok(vec![amount]);
    }
    let shares: Vec<Share> = claim.payees.iter().map(|p| p.share).collect();
    let parts = share::split(amount, &shares);
    for (payee, part) in claim.payees.iter_mut().zip(&parts) {
        payee.amount_minor = Some(*part);
        store::set_amount(conn, &claim.id, payee.line, *part)?;
    }
    Ok(parts.into_iter().filter(|p| *p > 0).collect())
}

/// Forgets the parts of an award whose booking was reversed (a claim under
/// review rejected or reduced): a new approval splits its award again.
pub(super) fn forget_split(conn: &mut DbConnection, claim: &mut Claim) -> AppResult<()> {
    for payee in &mut claim.payees {
        payee.amount_minor = None;
    }
    store::forget_amounts(conn, &claim.id)
}

/// The entry kind that books back the part of an award no longer to be paid
/// (an award reduced on review after some payees were paid).
pub const AWARD_REDUCTION_KIND: &str = "claim_award_reduction";

/// What the payees already paid received, when any was.
pub(super) fn paid_minor(claim: &Claim) -> Option<i64> {
    let paid: Vec<&Payee> = claim.payees.iter().filter(|p| p.is_paid()).collect();
    (!paid.is_empty()).then(|| paid.iter().map(|p| p.amount_minor.unwrap_or(0)).sum())
}

/// The award an officer's decision gives a claim under review some of whose
/// payees were paid (`paid` in all, of the `booked` award). The money paid has
/// left, so the award is never below it: a rejection stops the payees not yet
/// paid (the award becomes what was paid, whatever the assessment now says);
/// otherwise the award is confirmed or reduced, not raised, within what the
/// fresh assessment allows.
fn partly_paid_award(
    claim: &Claim,
    decision: &super::Decision,
    paid: i64,
    booked: i64,
) -> AppResult<i64> {
    use super::DecisionOutcome;
    let payable = claim.payable_minor;
    let asked = match decision.outcome {
        DecisionOutcome::Reject => return Ok(paid),
        DecisionOutcome::Approve => decision.amount_minor,
        DecisionOutcome::PartiallyApprove => {
            if decision.reasons.is_empty() && decision.note.is_none() {
                return Err(AppError::field(
                    "/reasons",
                    "required",
                    "a partial approval gives its reason",
                ));
            }
            Some(decision.amount_minor.ok_or_else(|| {
                AppError::field("/amount", "required", "a partial approval names its amount")
            })?)
        }
    };
    if let Some(amount) = asked {
        if amount == paid {
            // What was paid: allowed whatever the assessment now says.
            return Ok(amount);
        }
        if amount < paid {
            let paid_count = claim.payees.iter().filter(|p| p.is_paid()).count();
            return Err(AppError::field(
                "/amount",
                "below_paid",
                format!(
                    "{paid_count} of the claim's {} payees have been paid {}: the award is at \
                     least that (reject the claim to stop paying the others)",
                    claim.payees.len(),
                    format_minor(paid, claim.currency)
                ),
            ));
        }
        if amount > booked {
            return Err(AppError::field(
                "/amount",
                "exceeds_award",
                format!(
                    "the award of {} is partly paid: it can be confirmed or reduced, not raised",
                    format_minor(booked, claim.currency)
                ),
            ));
        }
    }
    if let Some(refusal) = super::not_eligible(claim) {
        return Err(refusal);
    }
    // Without an amount: the award as booked, or what is payable now if less.
    let amount = asked.unwrap_or(payable.min(booked)).max(paid);
    if amount > payable {
        return Err(super::exceeds_payable(claim, amount));
    }
    Ok(amount)
}

/// An officer's decision on a claim under review some of whose payees were
/// paid (inside the decision's transaction, after the fresh assessment). The
/// award's booking stands (the money paid has left): confirming it keeps it;
/// reducing it books the difference back (benefits payable to the benefit's
/// expense) and splits what is left of the award over the payees not yet paid,
/// in proportion to their shares; a rejection reduces it to what was paid and
/// closes the claim as paid. The reduced award needs no second approval: it
/// moves less money than the award approved.
pub(super) fn decide_partly_paid(
    conn: &mut DbConnection,
    fund: &Fund,
    claim: &mut Claim,
    decision: &super::Decision,
    decider: &Caller,
    paid: i64,
) -> AppResult<Vec<NewEvent>> {
    let booked = claim.decided_amount_minor.unwrap_or(0);
    let amount = partly_paid_award(claim, decision, paid, booked)?;
    if amount < booked {
        reduce_award(conn, fund, claim, booked, amount, &decider.subject)?;
    }
    super::store::clear_approvals(conn, &claim.id)?;
    claim.approvals.clear();
    super::record_decision(claim, decision, decider, amount);
    claim.approved_at = Some(crate::time::now());
    let approved = if amount < booked {
        ClaimStatus::PartiallyApproved
    } else {
        ClaimStatus::Approved
    };
    claim.move_to(Action::Award, approved)?;
    let mut events = vec![event(fund, event_kind::CLAIM_DECIDED, claim)];
    if decision.outcome != super::DecisionOutcome::Reject {
        events.push(event(fund, event_kind::CLAIM_APPROVED, claim));
    }
    if amount == paid {
        // Nothing is left to pay: the payees not yet paid are closed with a
        // part of zero, and the claim is paid.
        let today = crate::time::today();
        for i in 0..claim.payees.len() {
            if claim.payees[i].is_paid() {
                continue;
            }
            store::mark_paid(conn, &claim.id, claim.payees[i].line, None, today)?;
            claim.payees[i].paid_on = Some(today);
            events.push(payee_paid(fund, claim, &claim.payees[i]));
        }
        claim.payment_entry_id = claim
            .payees
            .iter()
            .rev()
            .find_map(|p| p.payment_entry_id.clone());
        claim.paid_on = Some(today);
        claim.queued_at = None;
        claim.move_to(Action::Pay, ClaimStatus::Paid)?;
        events.push(event(fund, event_kind::CLAIM_PAID, claim));
    }
    super::store::update(conn, claim)?;
    Ok(events)
}

/// Books back `booked - amount` of a partly paid award and splits what is left
/// to pay over the payees not yet paid.
fn reduce_award(
    conn: &mut DbConnection,
    fund: &Fund,
    claim: &mut Claim,
    booked: i64,
    amount: i64,
    by: &str,
) -> AppResult<()> {
    let unpaid: Vec<usize> = (0..claim.payees.len())
        .filter(|&i| !claim.payees[i].is_paid())
        .collect();
    let paid: i64 = claim
        .payees
        .iter()
        .filter(|p| p.is_paid())
        .map(|p| p.amount_minor.unwrap_or(0))
        .sum();
    let shares: Vec<Share> = unpaid.iter().map(|&i| claim.payees[i].share).collect();
    let shares = share::relative(&shares).ok_or_else(|| {
        AppError::new(
            ErrorCode::ClaimStatusConflict,
            "the shares of the payees not yet paid cannot be split exactly; confirm the award or reject the claim",
        )
    })?;
    let parts = share::split(amount - paid, &shares);
    for (&i, part) in unpaid.iter().zip(parts) {
        claim.payees[i].amount_minor = Some(part);
        store::set_amount(conn, &claim.id, claim.payees[i].line, part)?;
    }
    let back = booked - amount;
    let mut booking = Booking::open(conn, fund.id)?;
    booking.post(
        conn,
        NewEntry {
            effective_date: crate::time::today(),
            kind: AWARD_REDUCTION_KIND,
            memo: format!(
                "Reduction of the award to claim {} ({}) from {} to {} on review, after {} was paid",
                claim.id,
                claim.benefit,
                format_minor(booked, claim.currency),
                format_minor(amount, claim.currency),
                format_minor(paid, claim.currency),
            ),
            source: Some(("claim".to_string(), claim.id.clone())),
            created_by: by.to_string(),
            reverses: None,
            postings: vec![
                NewPosting {
                    account: account_code::BENEFITS_PAYABLE.to_string(),
                    side: Side::Debit,
                    amount_minor: back,
                    currency: claim.currency,
                },
                NewPosting {
                    account: super::expense_account(&claim.benefit).to_string(),
                    side: Side::Credit,
                    amount_minor: back,
                    currency: claim.currency,
                },
            ],
        },
    )?;
    booking.close(conn)
}

/// The `data` of `claim.payee_paid`: one payee of a shared claim was paid.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayeePaidData {
    #[schema(format = Uuid)]
    pub claim_id: String,
    #[schema(format = Uuid)]
    pub worker_id: String,
    pub benefit: String,
    /// The payee's line on the claim.
    pub line: i32,
    /// The dependant paid (`null` for the estate).
    #[schema(required = true, format = Uuid)]
    pub dependant_id: Option<String>,
    pub estate: bool,
    /// Who received the money: the guardian of a minor, else the payee.
    pub receiver: String,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    pub paid_on: NaiveDate,
    /// The payment's journal entry (`null` for a part of zero).
    #[schema(required = true, format = Uuid)]
    pub journal_entry_id: Option<String>,
}

fn payee_paid(fund: &Fund, claim: &Claim, p: &Payee) -> NewEvent {
    let data = PayeePaidData {
        claim_id: claim.id.clone(),
        worker_id: claim.worker_id.clone(),
        benefit: claim.benefit.clone(),
        line: p.line,
        dependant_id: p.recipient.dependant_id(),
        estate: p.recipient == Recipient::Estate,
        receiver: p.receiver().to_string(),
        amount: format_minor(p.amount_minor.unwrap_or(0), claim.currency),
        currency: claim.currency.code().to_string(),
        paid_on: p.paid_on.expect("paid"),
        journal_entry_id: p.payment_entry_id.clone(),
    };
    NewEvent {
        fund_code: fund.code.clone(),
        event_type: event_kind::CLAIM_PAYEE_PAID,
        subject_id: claim.id.clone(),
        payload: serde_json::to_value(data).expect("event data serialises"),
    }
}

/// Pays the payees not yet paid, in line order, each with its own entry
/// (benefits payable to cash), while cash lasts as of every date from
/// `paid_on` on; stops at the first that cash does not cover, so no payee
/// overtakes another. Whether every payee is now paid, and the events.
fn pay_lines(
    conn: &mut DbConnection,
    booking: &mut Booking,
    fund: &Fund,
    claim: &mut Claim,
    paid_on: NaiveDate,
    by: &str,
) -> AppResult<(bool, Vec<NewEvent>)> {
    let mut events = Vec::new();
    for i in 0..claim.payees.len() {
        if claim.payees[i].is_paid() {
            continue;
        }
        let amount = claim.payees[i]
            .amount_minor
            .expect("an approved claim's payees have their parts");
        let entry_id = if amount == 0 {
            None
        } else {
            let entry = payee_entry(claim, &claim.payees[i], amount, paid_on, by);
            match booking.prepare(conn, entry) {
                Ok(prepared) => Some(booking.commit(conn, prepared)?.id),
                Err(e) if e.code() == ErrorCode::InsufficientFunds => return Ok((false, events)),
                Err(e) => return Err(e),
            }
        };
        let payee = &mut claim.payees[i];
        store::mark_paid(conn, &claim.id, payee.line, entry_id.as_deref(), paid_on)?;
        payee.payment_entry_id = entry_id;
        payee.paid_on = Some(paid_on);
        events.push(payee_paid(fund, claim, &claim.payees[i]));
    }
    Ok((true, events))
}

/// The entry paying a payee's part, its memo naming who receives it.
fn payee_entry(
    claim: &Claim,
    payee: &Payee,
    amount: i64,
    paid_on: NaiveDate,
    by: &str,
) -> NewEntry {
    let memo = format!(
        "Payment of claim {} ({}) to {}: {} share of the award",
        claim.id,
        claim.benefit,
        payee.described(),
        payee.share.to_fraction_string()
    );
    super::payment_entry(claim, amount, memo, paid_on, by)
}

/// Pays a claim with payees inside an open booking (its award re-assessed
/// and standing): every payee cash covers, in order; the claim is `paid` when
/// all are, else it waits for funds, partly paid. The caller writes the claim.
pub(super) fn pay(
    conn: &mut DbConnection,
    booking: &mut Booking,
    fund: &Fund,
    claim: &mut Claim,
    paid_on: NaiveDate,
    by: &str,
    action: Action,
) -> AppResult<Vec<NewEvent>> {
    debug_assert!(!claim.payees.is_empty(), "a claim with payees");
    let (all_paid, mut events) = pay_lines(conn, booking, fund, claim, paid_on, by)?;
    if !all_paid {
        events.extend(super::queue_for_funds(fund, claim, action)?);
        return Ok(events);
    }
    let last = claim
        .payees
        .iter()
        .rev()
        .find_map(|p| p.payment_entry_id.clone());
    claim.payment_entry_id = last;
    claim.paid_on = Some(paid_on);
    claim.queued_at = None;
    claim.move_to(action, ClaimStatus::Paid)?;
    events.push(event(fund, event_kind::CLAIM_PAID, claim));
    Ok(events)
}

/// A later heir joins an undecided claim of a benefit whose heirs share: the
/// beneficiary is checked like those named at filing, the shares are split
/// equally again over everyone, and the claim is assessed again.
pub fn join(
    conn: &mut DbConnection,
    fund: &Fund,
    id: &str,
    new: &NewBeneficiary,
    caller: &Caller,
) -> AppResult<(Claim, Vec<NewEvent>)> {
    let (lock, mut claim) = super::fresh(conn, fund, id)?;
    status::ensure_may(&claim.id, Action::JoinBeneficiary, claim.status)?;
    let versions = super::versions(conn, fund)?;
    let Some(rules) = rules_for(&versions, &claim.benefit, claim.incident_date) else {
        return Err(AppError::new(
            ErrorCode::ClaimStatusConflict,
            format!(
                "{} names no beneficiaries in the rules in force on the incident date: its claimant alone is paid",
                claim.benefit
            ),
        )
        .with("claim_status", claim.status.as_str()));
    };
    if claim.payees.iter().any(|p| p.recipient == new.recipient) {
        return Err(AppError::new(
            ErrorCode::BeneficiaryAlreadyOnClaim,
            format!("already a beneficiary of claim {}", claim.id),
        ));
    }
    let worker = super::worker_of(conn, &claim)?;
    let worker_facts = super::worker_facts(conn, &worker)?;
    let mut facts: Vec<PayeeFacts> = claim.payees.iter().map(Payee::facts).collect();
    facts.push(PayeeFacts {
        recipient: new.recipient.clone(),
        guardian: new.guardian.clone(),
        share: Share::whole(),
    });
    let equal = Share::equal(facts.len());
    for f in &mut facts {
        f.share = equal;
    }
    let joining = facts.len() - 1;
    let found: Vec<Problem> =
        problems(rules, claim.incident_date, &worker_facts.dependants, &facts)
            .into_iter()
            .filter(|p| p.line == Some(joining))
            .collect();
    if !found.is_empty() {
        let errors = found
            .iter()
            .map(|p| FieldError::new(format!("/{}", p.field), p.code, p.message.clone()))
            .collect();
        return Err(AppError::validation(errors));
    }
    let joined = payee(
        rules,
        claim.incident_date,
        &worker,
        &worker_facts.dependants,
        joining,
        &facts[joining],
    );
    claim.payees.push(joined);
    for p in &mut claim.payees {
        p.share = equal;
    }
    store::replace(conn, &claim.id, &claim.payees)?;
    super::reassess(
        conn,
        &lock,
        fund,
        &mut claim,
        cause::BENEFICIARY,
        &caller.subject,
    )?;
    let next = super::status_after_assessment(&claim);
    claim.move_to(Action::JoinBeneficiary, next)?;
    super::store::update(conn, &claim)?;
    let events = vec![event(fund, event_kind::CLAIM_BENEFICIARY_JOINED, &claim)];
    Ok((claim, events))
}

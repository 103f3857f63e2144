//! Refunds of departures that never happened, in every state a refund can be
//! in: a few workers sign a new contract starting in two months, pay for it
//! today, and the contract is cancelled before it starts. One refund waits for
//! a decision, one was rejected (the departure was only postponed), one is
//! approved and waits for payment, one is paid. Each step is one request (and
//! transaction) through the refund services, with its audit record and events,
//! as `POST /v1/contributions/{id}/refund`, `/v1/refunds/{id}/decision` and
//! `/v1/refunds/{id}/payment` would.

use chrono::Days;

use super::record::{record_one, Enrolled};
use super::Actors;
use crate::audit::events::NewEvent;
use crate::auth::{Act, Caller};
use crate::contributions::{self, FundRules, NewContribution, NewPayer};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::funds::Fund;
use crate::refunds::{self, Outcome};
use crate::workers::{self, NewContract};

/// How far a refund goes.
#[derive(Debug, Clone, Copy)]
enum Stage {
    Requested,
    Rejected,
    Approved,
    Paid,
}

const STAGES: [Stage; 4] = [
    Stage::Requested,
    Stage::Rejected,
    Stage::Approved,
    Stage::Paid,
];

const CANCELLED: &str = "Employer withdrew the job offer before departure";

/// Gives the fund one refund in each state, from workers whose contributions
/// all stand; returns how many refunds were made (fewer when the fund has
/// fewer such workers).
pub fn make_refunds(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    enrolled: &[Enrolled],
) -> AppResult<usize> {
    let workers = enrolled
        .iter()
        .filter(|e| e.reversed.is_empty() && !e.contract_ids.is_empty());
    let mut made = 0;
    for (stage, worker) in STAGES.iter().zip(workers) {
        let contribution_id = pay_for_a_new_contract(conn, fund, actors, worker)?;
        refund_to(conn, fund, actors, &contribution_id, *stage)?;
        made += 1;
    }
    Ok(made)
}

/// Adds a contract starting in two months (like the worker's first one) and
/// records today's contribution for it at the quoted price; its id.
fn pay_for_a_new_contract(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    worker: &Enrolled,
) -> AppResult<String> {
    let today = crate::time::today();
    let first = &worker.plan.contracts[0].new;
    let start = today + Days::new(60);
    let new = NewContract {
        start_date: start,
        end_date: start + Days::new(729),
        ..first.clone()
    };
    let contract = request(
        conn,
        &actors.ministry,
        Act::AddContract,
        fund,
        201,
        |conn| {
            let added = workers::add_contract(conn, &worker.worker_id, &new)?;
            let target = format!("worker {} contract {}", worker.worker_id, added.id);
            Ok((added, target, Vec::new()))
        },
    )?;
    request(
        conn,
        &actors.ministry,
        Act::RecordContributions,
        fund,
        201,
        |conn| {
            let rules = FundRules::load(conn, fund)?;
            let first_paid = contributions::first_paid_on(conn, fund.id, &[&worker.worker_id])?
                .remove(&worker.worker_id);
            let quoted = rules.quote(Some(&contract), today, first_paid)?;
            let sector = contributions::sector_of(conn, fund.id, &worker.worker_id)?;
            let payer = quoted.payers_for(sector.as_deref())[0];
            let new = NewContribution {
                worker_id: worker.worker_id.clone(),
                contract_id: Some(contract.id.clone()),
                paid_on: today,
                amount_minor: quoted.quote.amount_minor,
                currency: quoted.quote.currency,
                payers: vec![NewPayer {
                    payer_type: payer,
                    amount_minor: quoted.quote.total_minor,
                    reference: None,
                }],
                external_ref: Some(format!("DEMO-REFUND-{}", contract.id)),
                received: None,
            };
            record_one(conn, fund, &actors.ministry.subject, &new)
        },
    )
}

/// Requests the refund of `contribution_id` and takes it to `stage`.
fn refund_to(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    contribution_id: &str,
    stage: Stage,
) -> AppResult<()> {
    let officer = &actors.officer;
    let refund = request(conn, officer, Act::RequestRefund, fund, 201, |conn| {
        let (refund, event) =
            refunds::request(conn, fund, contribution_id, CANCELLED, &officer.subject)?;
        let target = format!("refund {}", refund.id);
        Ok((refund, target, vec![event]))
    })?;
    let (outcome, reason) = match stage {
        Stage::Requested => return Ok(()),
        Stage::Rejected => (
            Outcome::Reject,
            "Departure postponed, not cancelled: the contribution still covers the contract",
        ),
        Stage::Approved | Stage::Paid => (Outcome::Approve, "Cancellation confirmed by the agency"),
    };
    request(conn, officer, Act::DecideRefund, fund, 200, |conn| {
        let (decided, events) =
            refunds::decide(conn, fund, &refund.id, outcome, reason, &officer.subject)?;
        Ok(((), format!("refund {}", decided.id), events))
    })?;
    if matches!(stage, Stage::Paid) {
        request(conn, officer, Act::PayRefund, fund, 200, |conn| {
            let (paid, event) = refunds::pay(
                conn,
                fund,
                &refund.id,
                Some("DEMO-BANK-TRANSFER"),
                &officer.subject,
            )?;
            Ok(((), format!("refund {}", paid.id), vec![event]))
        })?;
    }
    Ok(())
}

/// One request with its audit record and events, answered `status` as the API does.
fn request<T>(
    conn: &mut DbConnection,
    caller: &Caller,
    act: Act,
    fund: &Fund,
    status: u16,
    change: impl FnOnce(&mut DbConnection) -> AppResult<(T, String, Vec<NewEvent>)>,
) -> AppResult<T> {
    super::claims::request(conn, caller, act, &fund.code, status, change)
}

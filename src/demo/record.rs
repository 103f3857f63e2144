//! Writes the planned workers through the domain services, with the audit
//! records and events the API writes: enrollment and contributions in batches
//! of at most 10,000 (as the batch endpoints take them, one transaction each),
//! later contracts and contract events as the requests they would be, and a few
//! bounced contributions reversed one request at a time.
//!
//! Adding contracts and recording contract events are single requests in the
//! API; here each keeps its own audit record but a fund's run of them shares one
//! transaction, which saves a disk flush per request and changes nothing else.

use fastrand::Rng;

use super::plan::{pick, WorkerPlan};
use super::{seal, Actors};
use crate::audit::events::NewEvent;
use crate::auth::Act;
use crate::contributions::{self, NewContribution, Recorded};
use crate::db::{write_transaction, DbConnection};
use crate::envelope::Done;
use crate::error::{AppError, AppResult};
use crate::funds::{lock_fund, Fund};
use crate::progress::Progress;
use crate::reports::membership_summary;
use crate::workers::{self, ContractEvents};

/// Items per transaction, as the API's batch endpoints allow.
pub const BATCH_ITEMS: usize = 10_000;
/// About one contribution in this many bounces and is reversed.
const ONE_REVERSAL_IN: usize = 300;

/// A planned worker once enrolled: the ids the database gave.
pub struct Enrolled {
    pub plan: WorkerPlan,
    pub worker_id: String,
    /// In the order of `plan.contracts`.
    pub contract_ids: Vec<String>,
    /// In the order of `plan.worker.dependants`.
    pub dependant_ids: Vec<String>,
    /// In the order of `plan.payments`.
    pub contribution_ids: Vec<String>,
    /// Payments (by index) reversed as bounced.
    pub reversed: Vec<usize>,
}

/// Enrolls the workers in batches, each worker with dependants and first contract.
pub fn enroll(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    plans: Vec<WorkerPlan>,
    progress: &mut Progress,
) -> AppResult<Vec<Enrolled>> {
    let mut enrolled = Vec::with_capacity(plans.len());
    let mut remaining = plans.into_iter().peekable();
    while remaining.peek().is_some() {
        let batch: Vec<WorkerPlan> = remaining.by_ref().take(BATCH_ITEMS).collect();
        let done = write_transaction(conn, |conn| -> AppResult<Vec<Enrolled>> {
            let lock = lock_fund(conn, fund.id)?;
            let news: Vec<&workers::NewWorker> = batch.iter().map(|p| &p.worker).collect();
            let outcomes = workers::enroll_many(conn, &lock, &news, &actors.ministry.subject)?;
            let mut events = Vec::with_capacity(batch.len());
            let mut done = Vec::with_capacity(batch.len());
            for (plan, outcome) in batch.into_iter().zip(outcomes) {
                let worker = outcome.map_err(AppError::from)?;
                events.push(workers::enrolled_event(&fund.code, &worker));
                done.push(Enrolled {
                    worker_id: worker.id.clone(),
                    contract_ids: worker.contracts.iter().map(|c| c.id.clone()).collect(),
                    dependant_ids: worker.dependants.iter().map(|d| d.id.clone()).collect(),
                    contribution_ids: Vec::new(),
                    reversed: Vec::new(),
                    plan,
                });
                progress.add(1);
            }
            let target = format!("workers: {} enrolled, 0 failed", done.len());
            seal(
                conn,
                &actors.ministry,
                Act::EnrollWorkers,
                &fund.code,
                Done::ok(target, ()).with_events(events),
            )?;
            Ok(done)
        })?;
        enrolled.extend(done);
    }
    Ok(enrolled)
}

/// How the demo leaves its trail of later contracts and contract events in
/// the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trail {
    /// One audit record per contract, as the single requests would write
    /// (`mwf demo`).
    PerRequest,
    /// One audit record per transaction, naming how many contracts it wrote,
    /// as a batch endpoint's (`mwf demo --fund`: a bulk load, where one record
    /// per contract was 40% of the audit log's rows and a tenth of the file).
    PerGroup,
}

/// Adds each worker's later contracts, as `POST /v1/workers/{id}/contracts` would.
pub fn add_later_contracts(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    enrolled: &mut [Enrolled],
    trail: Trail,
) -> AppResult<()> {
    write_transaction(conn, |conn| -> AppResult<()> {
        let later: Vec<(usize, &str, &workers::NewContract)> = (enrolled.iter().enumerate())
            .flat_map(|(i, e)| {
                (e.plan.contracts.iter().skip(1)).map(move |c| (i, e.worker_id.as_str(), &c.new))
            })
            .collect();
        if later.is_empty() {
            return Ok(());
        }
        let added = match trail {
            Trail::PerRequest => {
                let mut added = Vec::with_capacity(later.len());
                for (_, worker_id, new) in &later {
                    let contract = workers::add_contract(conn, worker_id, new)?;
                    let target = format!("worker {worker_id} contract {}", contract.id);
                    seal(
                        conn,
                        &actors.ministry,
                        Act::AddContract,
                        &fund.code,
                        Done::created(target, ()),
                    )?;
                    added.push(contract);
                }
                added
            }
            Trail::PerGroup => {
                let items: Vec<(&str, &workers::NewContract)> =
                    later.iter().map(|(_, w, new)| (*w, *new)).collect();
                let added = workers::add_contracts(conn, fund.id, &items)?;
                seal(
                    conn,
                    &actors.ministry,
                    Act::AddContract,
                    &fund.code,
                    Done::created(format!("contracts: {} added", added.len()), ()),
                )?;
                added
            }
        };
        let owners: Vec<usize> = later.iter().map(|(i, _, _)| *i).collect();
        for (i, contract) in owners.into_iter().zip(added) {
            enrolled[i].contract_ids.push(contract.id);
        }
        Ok(())
    })
}

/// The order the planned contributions are booked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// By payment date, as a fund's history happened.
    PaymentDate,
    /// Worker by worker, each worker's in payment-date order: a worker's
    /// contributions then fall in one batch (two at a batch's edge), so the
    /// batch brings each worker's membership summary up to date once and reads
    /// each worker's contracts once (by date, each batch of a group named most of
    /// its workers again).
    Worker,
}

/// Records every planned contribution in `order` through
/// `contributions::record_many`, in batches as `POST /v1/funds/{fund}/contributions/batch` would,
/// at most `items_per_transaction` in each write transaction
/// ([`BATCH_ITEMS`]: one batch, as the endpoint does; more where the pages
/// each transaction writes are better shared by more contributions).
pub fn record_contributions(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    enrolled: &mut [Enrolled],
    order: Order,
    items_per_transaction: usize,
    progress: &mut Progress,
) -> AppResult<()> {
    let paid_on = |(w, p): &(usize, usize)| enrolled[*w].plan.payments[*p].paid_on;
    let mut booking: Vec<(usize, usize)> = enrolled
        .iter()
        .enumerate()
        .flat_map(|(w, e)| (0..e.plan.payments.len()).map(move |p| (w, p)))
        .collect();
    match order {
        Order::PaymentDate => booking.sort_by_key(|wp| (paid_on(wp), wp.0, wp.1)),
        Order::Worker => booking.sort_by_key(|wp| (wp.0, paid_on(wp), wp.1)),
    }
    for e in enrolled.iter_mut() {
        e.contribution_ids = vec![String::new(); e.plan.payments.len()];
    }
    for written in booking.chunks(items_per_transaction.max(1)) {
        let ids = write_transaction(conn, |conn| -> AppResult<Vec<String>> {
            let mut ids = Vec::with_capacity(written.len());
            for batch in written.chunks(BATCH_ITEMS) {
                ids.extend(record_batch(conn, fund, actors, enrolled, batch)?);
                progress.add(batch.len() as u64);
            }
            Ok(ids)
        })?;
        for ((w, p), id) in written.iter().zip(ids) {
            enrolled[*w].contribution_ids[*p] = id;
        }
    }
    Ok(())
}

/// Records one batch of planned contributions (`(worker, payment)`) as
/// `POST /v1/funds/{fund}/contributions/batch` would, with its audit record and
/// events, in the caller's transaction: their ids, in the batch's order.
fn record_batch(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    enrolled: &[Enrolled],
    batch: &[(usize, usize)],
) -> AppResult<Vec<String>> {
    let items: Vec<NewContribution> = (batch.iter())
        .map(|&(w, p)| planned_contribution(&enrolled[w], p))
        .collect();
    let by = actors.ministry.subject.as_str();
    let pairs: Vec<(&NewContribution, &str)> = items.iter().map(|new| (new, by)).collect();
    let recorded = contributions::record_many(conn, fund, &pairs)?;
    let mut events: Vec<NewEvent> = Vec::with_capacity(batch.len());
    let mut ids = Vec::with_capacity(batch.len());
    for (new, recorded) in items.iter().zip(recorded) {
        match recorded {
            Ok(Recorded::Created(c, event)) => {
                events.push(event);
                ids.push(c.id);
            }
            Ok(Recorded::Existing(c)) => ids.push(c.id),
            Err(refusal) => {
                return Err(AppError::internal(format_args!(
                    "the demo planned a contribution the rules refuse ({}): {}",
                    new.external_ref.as_deref().unwrap_or_default(),
                    refusal.detail
                )))
            }
        }
    }
    let target = format!(
        "contributions: {} recorded, 0 existing, 0 failed",
        ids.len()
    );
    seal(
        conn,
        &actors.ministry,
        Act::RecordContributions,
        &fund.code,
        Done::ok(target, ()).with_events(events),
    )?;
    Ok(ids)
}

/// Records one contribution inside the caller's request, as
/// `POST /v1/funds/{fund}/contributions` would: its id, the audit target and its
/// event (none when it was recorded already). A refusal is a bug in the demo.
pub fn record_one(
    conn: &mut DbConnection,
    fund: &Fund,
    by: &str,
    new: &NewContribution,
) -> AppResult<(String, String, Vec<NewEvent>)> {
    let recorded = contributions::record_many(conn, fund, &[(new, by)])?;
    match recorded.into_iter().next() {
        Some(Ok(Recorded::Created(c, event))) => {
            Ok((c.id.clone(), format!("contribution {}", c.id), vec![event]))
        }
        Some(Ok(Recorded::Existing(c))) => {
            Ok((c.id.clone(), format!("contribution {}", c.id), Vec::new()))
        }
        Some(Err(refusal)) => Err(AppError::internal(format_args!(
            "the demo planned a contribution the rules refuse ({}): {}",
            new.external_ref.as_deref().unwrap_or_default(),
            refusal.detail
        ))),
        None => Err(AppError::internal("one contribution, one answer")),
    }
}

/// The contribution the worker's `payment`-th planned payment records.
fn planned_contribution(e: &Enrolled, payment: usize) -> NewContribution {
    let payment = &e.plan.payments[payment];
    NewContribution {
        worker_id: e.worker_id.clone(),
        contract_id: Some(e.contract_ids[payment.contract].clone()),
        paid_on: payment.paid_on,
        amount_minor: payment.amount_minor,
        currency: payment.currency,
        payers: payment.payers.clone(),
        external_ref: Some(payment.external_ref.clone()),
        received: payment.received.clone(),
    }
}

/// Records departures, early ends and returns, as
/// `PATCH /v1/workers/{id}/contracts/{contract_id}` would, one per contract.
///
/// With [`Trail::PerGroup`] the transaction also brings each worker's
/// membership summary up to date once, after all its contracts' events, instead
/// of once per contract (the same rows in the end: the summary is recomputed
/// from the records).
pub fn record_contract_events(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    enrolled: &[Enrolled],
    trail: Trail,
) -> AppResult<()> {
    write_transaction(conn, |conn| -> AppResult<()> {
        let planned: Vec<(&Enrolled, &str, ContractEvents)> = (enrolled.iter())
            .flat_map(|e| {
                (e.plan.contracts.iter().zip(&e.contract_ids)).map(move |(plan, id)| {
                    let events = ContractEvents {
                        departed_on: plan.departed_on,
                        terminated_on: plan.terminated_on,
                        returned_on: plan.returned_on,
                    };
                    (e, id.as_str(), events)
                })
            })
            .filter(|(_, _, events)| events.departed_on.is_some() || events.terminated_on.is_some())
            .collect();
        if planned.is_empty() {
            return Ok(());
        }
        match trail {
            Trail::PerRequest => {
                for (e, id, events) in &planned {
                    let contract = workers::find_contract(conn, &e.worker_id, id)?
                        .ok_or_else(|| AppError::internal("a demo contract vanished"))?;
                    workers::record_contract_events(conn, &contract, events)?;
                    let target = format!("worker {} contract {id}", e.worker_id);
                    seal(
                        conn,
                        &actors.ministry,
                        Act::UpdateContract,
                        &fund.code,
                        Done::ok(target, ()),
                    )?;
                }
            }
            Trail::PerGroup => {
                // The group's contracts read in a few queries, their events
                // written in a few statements, each worker's summary brought
                // up to date once.
                let mut changed_workers: Vec<&str> = planned
                    .iter()
                    .map(|(e, _, _)| e.worker_id.as_str())
                    .collect();
                changed_workers.dedup();
                let contracts = workers::workers_with_contracts(conn, fund.id, &changed_workers)?;
                let found = (planned.iter())
                    .map(|(e, id, events)| {
                        (contracts.get(&e.worker_id).into_iter().flatten())
                            .find(|c| c.id == *id)
                            .map(|c| (c, events))
                            .ok_or_else(|| AppError::internal("a demo contract vanished"))
                    })
                    .collect::<AppResult<Vec<_>>>()?;
                workers::record_contract_events_many(conn, &found)?;
                membership_summary::refresh_workers(conn, fund.id, changed_workers)?;
                seal(
                    conn,
                    &actors.ministry,
                    Act::UpdateContract,
                    &fund.code,
                    Done::ok(format!("contracts: {} updated", planned.len()), ()),
                )?;
            }
        }
        Ok(())
    })
}

const BOUNCE_REASONS: &[&str] = &[
    "Cheque returned unpaid",
    "Payment recalled by the remitting bank",
    "Card payment charged back",
];

/// Reverses a few workers' latest contributions as bounced payments, one
/// request (and transaction) each, as `POST /v1/contributions/{id}/reversal` would.
pub fn reverse_some(
    conn: &mut DbConnection,
    rng: &mut Rng,
    fund: &Fund,
    actors: &Actors,
    enrolled: &mut [Enrolled],
) -> AppResult<usize> {
    let payments: usize = enrolled.iter().map(|e| e.plan.payments.len()).sum();
    let wanted = payments.div_ceil(ONE_REVERSAL_IN).min(payments);
    let mut reversed = 0;
    let mut candidates: Vec<usize> = (0..enrolled.len())
        .filter(|w| !enrolled[*w].plan.payments.is_empty())
        .collect();
    rng.shuffle(&mut candidates);
    for w in candidates.into_iter().take(wanted) {
        let e = &mut enrolled[w];
        let last = e.plan.payments.len() - 1;
        let id = e.contribution_ids[last].clone();
        let reason = pick(rng, BOUNCE_REASONS);
        write_transaction(conn, |conn| -> AppResult<()> {
            let contribution = contributions::find(conn, &id)?
                .ok_or_else(|| AppError::internal("a demo contribution vanished"))?;
            let (_, event) =
                contributions::reverse(conn, fund, &contribution, reason, &actors.officer.subject)?;
            seal(
                conn,
                &actors.officer,
                Act::ReverseContribution,
                &fund.code,
                Done::ok(format!("contribution {id}"), ()).with_events(vec![event]),
            )
        })?;
        e.reversed.push(last);
        reversed += 1;
    }
    Ok(reversed)
}

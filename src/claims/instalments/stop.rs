//! Decisions on a running schedule: stopping it (with reasons), and proof
//! attached to one of its instalments.

use super::due::end_open;
use super::{event_payload, instalment_event, store, InstalmentStatus, Schedule, StopDecision};
use crate::audit::events::{kind as event_kind, NewEvent};
use crate::claims::{Claim, ClaimStatus};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::{lock_fund, Fund};
use crate::ledger::Booking;

/// Stops a running schedule: an officer's decision with reasons. Its open
/// instalments are stopped (an expense booked and not paid is reversed), and
/// nothing more is booked for it.
pub fn stop(
    conn: &mut DbConnection,
    fund: &Fund,
    claim_id: &str,
    reasons: Vec<String>,
    note: Option<String>,
    by: &str,
) -> AppResult<(Schedule, Vec<NewEvent>)> {
    if reasons.is_empty() {
        return Err(AppError::field(
            "/reasons",
            "required",
            "stopping a schedule gives its reasons",
        ));
    }
    let mut booking = Booking::open(conn, fund.id)?;
    let claim = crate::claims::found(conn, claim_id)?;
    let mut schedule = running_schedule(conn, &claim)?;
    for instalment in schedule
        .instalments
        .iter_mut()
        .filter(|i| i.status.is_open())
    {
        end_open(
            conn,
            &mut booking,
            fund,
            instalment,
            InstalmentStatus::Stopped,
            by,
        )?;
        instalment.hold_reasons.clear();
        store::update(conn, instalment)?;
    }
    let decision = StopDecision {
        at: crate::time::now(),
        by: by.to_string(),
        reasons,
        note,
    };
    store::record_stop(conn, &claim.id, &decision)?;
    schedule.stop = Some(decision);
    booking.close(conn)?;
    let event = NewEvent {
        fund_code: fund.code.clone(),
        event_type: event_kind::CLAIM_INSTALMENTS_STOPPED,
        subject_id: claim.id.clone(),
        payload: event_payload(&claim, None, schedule.stop.as_ref().map(|s| &s.reasons)),
    };
    Ok((schedule, vec![event]))
}

/// The schedule of a paid claim with instalments still to pay; else a 409.
fn running_schedule(conn: &mut DbConnection, claim: &Claim) -> AppResult<Schedule> {
    let schedule = store::find(conn, &claim.id)?;
    match schedule {
        Some(s) if s.running() && claim.status == ClaimStatus::Paid => Ok(s),
        Some(s) if s.running() => Err(not_running(
            claim,
            format!(
                "claim {} is {}; its schedule runs once its first instalment is paid",
                claim.id, claim.status
            ),
        )),
        Some(_) => Err(not_running(
            claim,
            format!("the schedule of claim {} has ended", claim.id),
        )),
        None => Err(not_running(
            claim,
            format!("claim {} is not paid in instalments", claim.id),
        )),
    }
}

fn not_running(claim: &Claim, message: String) -> AppError {
    AppError::new(ErrorCode::InstalmentStatusConflict, message)
        .with("claim_status", claim.status.as_str())
}

/// Attaches proof to one open instalment (enrolment for its school year), to
/// be checked when the instalment is re-assessed.
pub fn add_documents(
    conn: &mut DbConnection,
    fund: &Fund,
    claim_id: &str,
    number: u32,
    documents: &[(String, String)],
    by: &str,
) -> AppResult<(Schedule, Vec<NewEvent>)> {
    let _lock = lock_fund(conn, fund.id)?;
    let claim = crate::claims::found(conn, claim_id)?;
    let schedule = store::find(conn, &claim.id)?.ok_or_else(|| {
        not_running(
            &claim,
            format!("claim {} is not paid in instalments", claim.id),
        )
    })?;
    let instalment = schedule
        .instalments
        .iter()
        .find(|i| i.number == number)
        .ok_or_else(|| {
            AppError::not_found(format!("claim {} has no instalment {number}", claim.id))
        })?;
    if !instalment.status.is_open() || schedule.stop.is_some() {
        return Err(AppError::new(
            ErrorCode::InstalmentStatusConflict,
            format!(
                "instalment {number} of claim {} is {}; proof is attached to instalments still to pay",
                claim.id,
                instalment.status.as_str()
            ),
        )
        .with("instalment_status", instalment.status.as_str()));
    }
    let event = instalment_event(
        fund,
        event_kind::CLAIM_INSTALMENT_DOCUMENTS_ADDED,
        &claim,
        instalment,
    );
    store::add_documents(conn, &claim.id, number, documents, by)?;
    let schedule = store::find(conn, &claim.id)?.expect("found above");
    Ok((schedule, vec![event]))
}

//! Takes each chosen claim through the claim services as the API's requests
//! would: one request per transaction, with its audit record and events.
//! Submission (riders come with it), documents, the officer's decision, second
//! or committee approvals by approvers other than the decider, payment,
//! withdrawal and appeal. Decisions and payments happen on the day the demo
//! runs: the claim services date their bookings today.

use chrono::NaiveDate;
use fastrand::Rng;

use super::record::Enrolled;
use super::scenario::{Goal, Scenario};
use super::{seal, Actors};
use crate::audit::events::NewEvent;
use crate::auth::{Act, Caller};
use crate::claims::assess::Versions;
use crate::claims::{self, Claim, ClaimStatus, Decision, DecisionOutcome, NewClaim, Supplement};
use crate::db::{write_transaction, DbConnection};
use crate::envelope::Done;
use crate::error::{AppError, AppResult};
use crate::funds::Fund;
use crate::money::{from_minor, round_to_minor};
use crate::progress::Progress;
use crate::rules::evaluate::version_in_force;
use crate::workers::{self, ContractEvents};

/// Runs one request: `change` makes it, then the audit record and the events
/// are written in the same transaction by the envelope every request goes through.
pub(super) fn request<T>(
    conn: &mut DbConnection,
    caller: &Caller,
    act: Act,
    fund_code: &str,
    status: u16,
    change: impl FnOnce(&mut DbConnection) -> AppResult<(T, String, Vec<NewEvent>)>,
) -> AppResult<T> {
    write_transaction(conn, |conn| {
        let (value, target, new_events) = change(conn)?;
        let done = Done::new(status, target, ()).with_events(new_events);
        seal(conn, caller, act, fund_code, done)?;
        Ok(value)
    })
}

/// The status each goal ends in (a paid goal may wait for funds instead).
fn expected(goal: Goal) -> &'static [ClaimStatus] {
    match goal {
        Goal::Submitted => &[ClaimStatus::Submitted],
        Goal::PendingDocuments => &[ClaimStatus::PendingDocuments],
        Goal::Withdrawn => &[ClaimStatus::Withdrawn],
        Goal::Rejected => &[ClaimStatus::Rejected],
        Goal::Appealed => &[ClaimStatus::Appealed],
        Goal::AwaitingSecondApproval => &[ClaimStatus::AwaitingSecondApproval],
        Goal::AwaitingCommittee => &[ClaimStatus::AwaitingCommittee],
        Goal::Approved => &[ClaimStatus::Approved],
        Goal::PartiallyApproved => &[ClaimStatus::PartiallyApproved],
        Goal::Paid | Goal::PartiallyPaid => &[ClaimStatus::Paid, ClaimStatus::AwaitingFunds],
    }
}

/// Drives the claims of one fund.
pub struct ClaimDriver<'a> {
    pub fund: &'a Fund,
    pub actors: &'a Actors,
    pub versions: &'a Versions,
    pub enrolled: &'a [Enrolled],
    /// The day decisions and payments are made: the day the demo runs.
    pub today: NaiveDate,
    /// Claims that did not end as planned (the rules judged otherwise).
    pub unplanned: usize,
    payments: usize,
}

impl<'a> ClaimDriver<'a> {
    pub fn new(
        fund: &'a Fund,
        actors: &'a Actors,
        versions: &'a Versions,
        enrolled: &'a [Enrolled],
    ) -> ClaimDriver<'a> {
        ClaimDriver {
            fund,
            actors,
            versions,
            enrolled,
            today: crate::time::today(),
            unplanned: 0,
            payments: 0,
        }
    }

    pub fn run(
        &mut self,
        conn: &mut DbConnection,
        rng: &mut Rng,
        scenarios: &[Scenario],
        progress: &mut Progress,
    ) -> AppResult<()> {
        for s in scenarios {
            let claim = self.drive(conn, rng, s)?;
            if !expected(s.goal).contains(&claim.status) {
                log::debug!(
                    "{}: claim {} of {} meant to end {:?} is {}: {:?}",
                    self.fund.code,
                    claim.id,
                    claim.benefit,
                    s.goal,
                    claim.status,
                    claim.assessment.reasons
                );
                self.unplanned += 1;
            }
            progress.add(1);
        }
        Ok(())
    }

    fn drive(&mut self, conn: &mut DbConnection, rng: &mut Rng, s: &Scenario) -> AppResult<Claim> {
        let worker = &self.enrolled[s.worker];
        if let Some(contract) = s.death_ends_contract {
            self.end_contract(conn, worker, contract, s.claim.incident_date)?;
        }
        let (mut claim, riders) = self.submit(conn, worker, &s.claim)?;
        if let Some(late) = &s.late_document {
            let sent = std::slice::from_ref(late);
            claim = self.change(
                conn,
                Act::AddClaimDocuments,
                &self.actors.officer,
                |conn, fund| {
                    let supplement = Supplement {
                        documents: sent.to_vec(),
                        ..Supplement::default()
                    };
                    let by = &self.actors.officer.subject;
                    claims::add_documents(conn, fund, &claim.id, &supplement, by)
                },
            )?;
        }
        let claim = match s.goal {
            Goal::Submitted | Goal::PendingDocuments => claim,
            Goal::Withdrawn if is_open(&claim) => self.withdraw(conn, &claim)?,
            Goal::Rejected | Goal::Withdrawn => self.reject(conn, &claim)?,
            Goal::Appealed => {
                let rejected = self.reject(conn, &claim)?;
                self.change(
                    conn,
                    Act::AppealClaim,
                    &self.actors.officer,
                    |conn, fund| {
                        claims::appeal(conn, fund, &rejected.id, &self.actors.officer.subject)
                    },
                )?
            }
            _ => self.award(conn, rng, claim, s.goal)?,
        };
        self.settle_riders(conn, &claim, riders, s)?;
        Ok(claim)
    }

    /// The family reports the death: the contract ends on that day.
    fn end_contract(
        &self,
        conn: &mut DbConnection,
        worker: &Enrolled,
        contract: usize,
        died_on: NaiveDate,
    ) -> AppResult<()> {
        let id = &worker.contract_ids[contract];
        request(
            conn,
            &self.actors.officer,
            Act::UpdateContract,
            &self.fund.code,
            200,
            |conn| {
                let found = workers::find_contract(conn, &worker.worker_id, id)?
                    .ok_or_else(|| AppError::internal("a demo contract vanished"))?;
                let events = ContractEvents {
                    terminated_on: Some(died_on),
                    ..ContractEvents::default()
                };
                workers::record_contract_events(conn, &found, &events)?;
                Ok((
                    (),
                    format!("worker {} contract {id}", worker.worker_id),
                    Vec::new(),
                ))
            },
        )
    }

    fn submit(
        &self,
        conn: &mut DbConnection,
        worker: &Enrolled,
        new: &NewClaim,
    ) -> AppResult<(Claim, Vec<Claim>)> {
        request(
            conn,
            &self.actors.officer,
            Act::SubmitClaim,
            &self.fund.code,
            201,
            |conn| {
                let found = workers::find_worker(conn, &worker.worker_id)?
                    .ok_or_else(|| AppError::internal("a demo worker vanished"))?;
                let (claim, riders, events) =
                    claims::submit(conn, self.fund, &found, new, &self.actors.officer.subject)?;
                let target = format!("claim {}", claim.id);
                Ok(((claim, riders), target, events))
            },
        )
    }

    /// One change of a claim by `caller`, as the claim routes make it.
    fn change(
        &self,
        conn: &mut DbConnection,
        act: Act,
        caller: &Caller,
        f: impl FnOnce(&mut DbConnection, &Fund) -> AppResult<(Claim, Vec<NewEvent>)>,
    ) -> AppResult<Claim> {
        request(conn, caller, act, &self.fund.code, 200, |conn| {
            let (claim, events) = f(conn, self.fund)?;
            let target = format!("claim {}", claim.id);
            Ok((claim, target, events))
        })
    }

    fn withdraw(&self, conn: &mut DbConnection, claim: &Claim) -> AppResult<Claim> {
        self.change(
            conn,
            Act::WithdrawClaim,
            &self.actors.officer,
            |conn, fund| claims::withdraw(conn, fund, &claim.id),
        )
    }

    /// Rejects with the assessment's reasons, or as unsubstantiated when it found none.
    fn reject(&self, conn: &mut DbConnection, claim: &Claim) -> AppResult<Claim> {
        let mut reasons = claim.assessment.reasons.clone();
        if reasons.is_empty() {
            reasons.push("NOT_SUBSTANTIATED".to_string());
        }
        let decision = Decision {
            outcome: DecisionOutcome::Reject,
            amount_minor: None,
            reasons,
            note: None,
        };
        self.decide(conn, claim, &decision)
    }

    fn decide(
        &self,
        conn: &mut DbConnection,
        claim: &Claim,
        decision: &Decision,
    ) -> AppResult<Claim> {
        self.change(
            conn,
            Act::DecideClaim,
            &self.actors.officer,
            |conn, fund| claims::decide(conn, fund, &claim.id, decision, &self.actors.officer),
        )
    }

    fn approve(
        &self,
        conn: &mut DbConnection,
        claim: &Claim,
        approver: &Caller,
    ) -> AppResult<Claim> {
        self.change(conn, Act::ApproveClaim, approver, |conn, fund| {
            claims::approve(conn, fund, &claim.id, approver, None)
        })
    }

    fn pay(&mut self, conn: &mut DbConnection, claim: &Claim) -> AppResult<Claim> {
        self.payments += 1;
        let reference = format!("PAY-{}-{:05}", self.fund.code, self.payments);
        let today = self.today;
        self.change(conn, Act::PayClaim, &self.actors.officer, |conn, fund| {
            claims::pay(
                conn,
                fund,
                &claim.id,
                today,
                Some(reference),
                &self.actors.officer.subject,
            )
        })
    }

    fn committee_size(&self, claim: &Claim) -> usize {
        version_in_force(self.versions, claim.incident_date)
            .map_or(1, |(_, doc)| doc.approval.committee_size as usize)
    }

    /// Decides an award (in full, or in part with a reason), has it approved as
    /// far as `goal` wants, and pays it for a paid goal.
    fn award(
        &mut self,
        conn: &mut DbConnection,
        rng: &mut Rng,
        claim: Claim,
        goal: Goal,
    ) -> AppResult<Claim> {
        if claim.status != ClaimStatus::Submitted || claim.payable_minor == 0 {
            return self.reject(conn, &claim);
        }
        let partial = matches!(goal, Goal::PartiallyApproved | Goal::PartiallyPaid);
        let decision = match partial
            .then(|| part_of(rng, claim.payable_minor, &claim))
            .flatten()
        {
            Some(amount) => Decision {
                outcome: DecisionOutcome::PartiallyApprove,
                amount_minor: Some(amount),
                reasons: vec!["PARTIAL_EVIDENCE".to_string()],
                note: Some("Part of the claim is documented; the rest may follow".to_string()),
            },
            None => Decision {
                outcome: DecisionOutcome::Approve,
                amount_minor: None,
                reasons: Vec::new(),
                note: None,
            },
        };
        let mut claim = self.decide(conn, &claim, &decision)?;
        if claim.status == ClaimStatus::AwaitingSecondApproval
            && goal != Goal::AwaitingSecondApproval
        {
            claim = self.approve(conn, &claim, &self.actors.approvers[0])?;
        }
        if claim.status == ClaimStatus::AwaitingCommittee {
            let size = self.committee_size(&claim).min(self.actors.approvers.len());
            let approvals = if goal == Goal::AwaitingCommittee {
                rng.usize(0..size)
            } else {
                size
            };
            for approver in &self.actors.approvers[..approvals] {
                claim = self.approve(conn, &claim, approver)?;
            }
        }
        if goal.is_paid()
            && [ClaimStatus::Approved, ClaimStatus::PartiallyApproved].contains(&claim.status)
        {
            claim = self.pay(conn, &claim)?;
        }
        Ok(claim)
    }

    /// Riders follow their main claim: awarded (their expense documented when
    /// they reimburse one) and paid with it, refused with it, withdrawn with it.
    fn settle_riders(
        &mut self,
        conn: &mut DbConnection,
        main: &Claim,
        riders: Vec<Claim>,
        s: &Scenario,
    ) -> AppResult<()> {
        let awarded = [
            ClaimStatus::Approved,
            ClaimStatus::PartiallyApproved,
            ClaimStatus::Paid,
            ClaimStatus::AwaitingFunds,
        ];
        let paid = [ClaimStatus::Paid, ClaimStatus::AwaitingFunds].contains(&main.status);
        for rider in riders {
            if !is_open(&rider) {
                continue;
            }
            match main.status {
                ClaimStatus::Withdrawn => {
                    self.withdraw(conn, &rider)?;
                }
                ClaimStatus::Rejected | ClaimStatus::Appealed => {
                    self.reject(conn, &rider)?;
                }
                s_main if awarded.contains(&s_main) => {
                    let mut rider = rider;
                    if let Some((_, expense)) =
                        s.rider_expenses.iter().find(|(b, _)| *b == rider.benefit)
                    {
                        let expense = *expense;
                        rider = self.change(
                            conn,
                            Act::AddClaimDocuments,
                            &self.actors.officer,
                            |conn, fund| {
                                let supplement = Supplement {
                                    claimed_amount_minor: Some(expense),
                                    ..Supplement::default()
                                };
                                let by = &self.actors.officer.subject;
                                claims::add_documents(conn, fund, &rider.id, &supplement, by)
                            },
                        )?;
                    }
                    if rider.status != ClaimStatus::Submitted || rider.payable_minor == 0 {
                        self.reject(conn, &rider)?;
                        continue;
                    }
                    let approve = Decision {
                        outcome: DecisionOutcome::Approve,
                        amount_minor: None,
                        reasons: Vec::new(),
                        note: None,
                    };
                    let mut rider = self.decide(conn, &rider, &approve)?;
                    if rider.status == ClaimStatus::AwaitingSecondApproval {
                        rider = self.approve(conn, &rider, &self.actors.approvers[0])?;
                    }
                    if paid && rider.status == ClaimStatus::Approved {
                        self.pay(conn, &rider)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn is_open(claim: &Claim) -> bool {
    [ClaimStatus::Submitted, ClaimStatus::PendingDocuments].contains(&claim.status)
}

/// A partial award: 40 to 90 percent of what is payable, in whole units; none
/// when that leaves nothing between zero and the payable amount.
fn part_of(rng: &mut Rng, payable_minor: i64, claim: &Claim) -> Option<i64> {
    let payable = from_minor(payable_minor, claim.currency);
    let share = rust_decimal::Decimal::new(rng.i64(40..=90), 2);
    let amount = round_to_minor((payable * share).trunc(), claim.currency).ok()?;
    (amount > 0 && amount < payable_minor).then_some(amount)
}

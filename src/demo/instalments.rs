//! Instalment benefits in the demo: a running Nepal scholarship (the rider of
//! a death claim, claimed by the worker's child) and a Bangladesh monthly
//! allowance for a disabled worker's child, each approved, its first
//! instalment paid, and a payment run that pays the later ones that fell due
//! (the scholarship's last school year still waits for its proof). Each step
//! is one request through the services, with its audit record and events.

use chrono::{Days, NaiveDate};

use super::claims::request;
use super::record::Enrolled;
use super::Actors;
use crate::auth::{Act, Caller};
use crate::claims::assess::Claimant;
use crate::claims::instalments::{self, InstalmentStatus};
use crate::claims::{self, Decision, DecisionOutcome, NewClaim, RiderClaimant};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::funds::Fund;
use crate::ledger::{self, account_code, NewEntry, NewPosting, Side};
use crate::rules::document::{Phase, Relationship};
use crate::workers;

/// What the demo claims in a fund: the benefit filed, the instalment benefit
/// (itself or a rider of it), its documents, and the youngest a child may be.
struct Example {
    fund: &'static str,
    benefit: &'static str,
    instalments: &'static str,
    documents: &'static [&'static str],
}

const EXAMPLES: &[Example] = &[
    Example {
        fund: "NP-FEWF",
        benefit: "DEATH",
        instalments: "CHILD_SCHOLARSHIP",
        documents: &[
            "DEATH_CERTIFICATE",
            "PROOF_OF_RELATIONSHIP",
            "CLAIMANT_ID",
            "LABOUR_PERMIT",
            "SCHOOL_ENROLMENT",
        ],
    },
    Example {
        fund: "BD-WEWB",
        benefit: "DISABLED_WORKER_CHILD_ALLOWANCE",
        instalments: "DISABLED_WORKER_CHILD_ALLOWANCE",
        documents: &["DISABILITY_CERTIFICATE", "PROOF_OF_RELATIONSHIP"],
    },
];

/// A worker with no claim yet, a child under 12 and a day abroad while
/// covered: the earliest such day (so that many instalments have fallen due).
struct Candidate {
    worker_id: String,
    spouse_id: Option<String>,
    child_id: String,
    incident: NaiveDate,
}

/// Runs the fund's example, if it has one.
pub fn run(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    enrolled: &[Enrolled],
) -> AppResult<()> {
    let Some(example) = EXAMPLES.iter().find(|e| e.fund == fund.code) else {
        return Ok(());
    };
    let today = crate::time::today();
    let versions = crate::rules::version_table(conn, fund.id)?;
    let has_benefit = |date: NaiveDate| {
        crate::rules::evaluate::version_in_force(&versions, date).is_some_and(|(_, doc)| {
            doc.benefits.iter().any(|b| {
                b.code == example.benefit
                    && (b.code == example.instalments
                        || b.riders.iter().any(|r| r == example.instalments))
            })
        })
    };
    let Some(candidate) = find_candidate(conn, fund, enrolled, today, has_benefit)? else {
        log::debug!("{}: no worker fits the instalment example", fund.code);
        return Ok(());
    };
    let officer = &actors.officer;
    let new = NewClaim {
        benefit: example.benefit.to_string(),
        incident_date: candidate.incident,
        incident_phase: Phase::Abroad,
        filed_on: candidate.incident + Days::new(10),
        claimant: match (&candidate.spouse_id, example.benefit == example.instalments) {
            (Some(spouse), false) => Claimant {
                relationship: Relationship::Spouse,
                dependant_id: Some(spouse.clone()),
            },
            _ => child_claimant(&candidate),
        },
        claimed_amount_minor: None,
        grade: None,
        documents: example
            .documents
            .iter()
            .map(|d| (d.to_string(), format!("DEMO-{d}")))
            .collect(),
        description: Some("Instalment example".to_string()),
        beneficiaries: None,
        rider_claimants: (example.benefit != example.instalments)
            .then(|| RiderClaimant {
                benefit: example.instalments.to_string(),
                claimant: child_claimant(&candidate),
            })
            .into_iter()
            .collect(),
    };
    let worker = workers::find_worker(conn, &candidate.worker_id)?.expect("enrolled");
    let claim_id = request(conn, officer, Act::SubmitClaim, &fund.code, 201, |conn| {
        let (main, riders, events) = claims::submit(conn, fund, &worker, &new, &officer.subject)?;
        let paid_in_instalments = std::iter::once(&main)
            .chain(riders.iter())
            .find(|c| c.benefit == example.instalments)
            .map(|c| c.id.clone())
            .unwrap_or_else(|| main.id.clone());
        Ok((paid_in_instalments, format!("claim {}", main.id), events))
    })?;
    let decision = Decision {
        outcome: DecisionOutcome::Approve,
        amount_minor: None,
        reasons: Vec::new(),
        note: Some("Instalment example".to_string()),
    };
    let decided = request(conn, officer, Act::DecideClaim, &fund.code, 200, |conn| {
        let (claim, events) = claims::decide(conn, fund, &claim_id, &decision, officer)?;
        Ok((claim.status, format!("claim {}", claim.id), events))
    });
    if decided.is_err() {
        log::debug!("{}: the instalment example was not eligible", fund.code);
        return Ok(());
    }
    request(conn, officer, Act::PayClaim, &fund.code, 200, |conn| {
        let (claim, events) = claims::pay(conn, fund, &claim_id, today, None, &officer.subject)?;
        Ok(((), format!("claim {}", claim.id), events))
    })?;
    attach_proof_but_the_last(conn, fund, officer, &claim_id, today)?;
    fund_the_run(conn, fund, actors, &claim_id, today)?;
    request(conn, officer, Act::RunPayments, &fund.code, 200, |conn| {
        let run = claims::payment_run(conn, fund, today, &officer.subject)?;
        Ok((
            (),
            format!("payment run: {} paid", run.paid.len()),
            run.events,
        ))
    })
}

/// The government grants the fund what the payment run will pay: the claims
/// waiting for funds (paid first) and the instalments due by today, as the
/// admin's manual entry (cash against grants).
fn fund_the_run(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    claim_id: &str,
    today: NaiveDate,
) -> AppResult<()> {
    let waiting = claims::ClaimFilter {
        status: Some(claims::ClaimStatus::AwaitingFunds.as_str().to_string()),
        limit: i64::from(u16::MAX),
        ..Default::default()
    };
    let queued: i64 = claims::list(conn, fund, &waiting)?
        .iter()
        .map(|c| c.decided_amount_minor.unwrap_or(0))
        .sum();
    let due: i64 = instalments::find(conn, claim_id)?
        .map(|s| {
            s.instalments
                .iter()
                .filter(|i| i.status.is_open() && i.number > 1 && i.due_on <= today)
                .map(|i| i.amount_minor)
                .sum()
        })
        .unwrap_or(0);
    let grant = queued + due;
    if grant == 0 {
        return Ok(());
    }
    let posting = |account: &str, side| NewPosting {
        account: account.to_string(),
        side,
        amount_minor: grant,
        currency: fund.currency,
    };
    request(
        conn,
        &actors.admin,
        Act::PostJournalEntry,
        &fund.code,
        201,
        |conn| {
            let entry = ledger::post_entry(
                conn,
                fund.id,
                NewEntry {
                    effective_date: today,
                    kind: ledger::kind::ADJUSTMENT,
                    memo: "Government grant for the benefits due".to_string(),
                    source: None,
                    created_by: actors.admin.subject.clone(),
                    reverses: None,
                    postings: vec![
                        posting(account_code::CASH, Side::Debit),
                        posting(account_code::GRANTS_AND_DONATIONS, Side::Credit),
                    ],
                },
            )?;
            Ok(((), format!("journal_entry {}", entry.id), Vec::new()))
        },
    )
}

fn child_claimant(candidate: &Candidate) -> Claimant {
    Claimant {
        relationship: Relationship::Child,
        dependant_id: Some(candidate.child_id.clone()),
    }
}

/// Proof of enrolment for every later instalment due by today but the last,
/// which waits for it.
fn attach_proof_but_the_last(
    conn: &mut DbConnection,
    fund: &Fund,
    officer: &Caller,
    claim_id: &str,
    today: NaiveDate,
) -> AppResult<()> {
    let Some(schedule) = instalments::find(conn, claim_id)? else {
        return Ok(());
    };
    let versions = crate::rules::version_table(conn, fund.id)?;
    let needs_proof =
        crate::rules::evaluate::version_in_force(&versions, today).is_some_and(|(_, doc)| {
            doc.benefits
                .iter()
                .filter_map(|b| b.instalments.as_ref())
                .any(|i| !i.documents.is_empty())
        });
    if !needs_proof {
        return Ok(());
    }
    let due: Vec<u32> = schedule
        .instalments
        .iter()
        .filter(|i| i.number > 1 && i.status == InstalmentStatus::Scheduled && i.due_on <= today)
        .map(|i| i.number)
        .collect();
    for number in due.iter().take(due.len().saturating_sub(1)) {
        let proof = vec![(
            "SCHOOL_ENROLMENT".to_string(),
            format!("DEMO-ENROLMENT-{number}"),
        )];
        request(
            conn,
            officer,
            Act::AddInstalmentDocuments,
            &fund.code,
            200,
            |conn| {
                let (_, events) = instalments::add_documents(
                    conn,
                    fund,
                    claim_id,
                    *number,
                    &proof,
                    &officer.subject,
                )?;
                Ok(((), format!("claim {claim_id} instalment {number}"), events))
            },
        )?;
    }
    Ok(())
}

/// The first enrolled worker without claims who has a child under 12 and was
/// abroad and covered on a day at least a year before `today` under rules that
/// have the benefit (`has_benefit`).
fn find_candidate(
    conn: &mut DbConnection,
    fund: &Fund,
    enrolled: &[Enrolled],
    today: NaiveDate,
    has_benefit: impl Fn(NaiveDate) -> bool,
) -> AppResult<Option<Candidate>> {
    let latest = today - Days::new(365);
    for e in enrolled {
        let Some(worker) = workers::find_worker(conn, &e.worker_id)? else {
            continue;
        };
        let filter = claims::ClaimFilter {
            worker_id: Some(worker.id.clone()),
            limit: 1,
            ..Default::default()
        };
        if !claims::list(conn, fund, &filter)?.is_empty() {
            continue;
        }
        let coverage = workers::coverage_periods(conn, &worker.id)?;
        let incident = worker
            .contracts
            .iter()
            .filter(|c| c.terminated_on.is_none() && c.returned_on.is_none())
            .flat_map(|c| {
                coverage.iter().filter_map(move |p| {
                    let from = p.period.start.max(c.start_date) + Days::new(1);
                    let to = p.period.end.min(c.end_date).min(latest);
                    (from <= to).then_some(from)
                })
            })
            .filter(|d| has_benefit(*d))
            .min();
        let Some(incident) = incident else {
            continue;
        };
        let child = worker.dependants.iter().find(|d| {
            d.relationship == Relationship::Child
                && !d.deceased
                && d.date_of_birth
                    .is_some_and(|b| b < incident && instalments::age_on(b, incident) < 12)
        });
        let Some(child) = child else {
            continue;
        };
        return Ok(Some(Candidate {
            spouse_id: worker
                .dependants
                .iter()
                .find(|d| d.relationship == Relationship::Spouse && !d.deceased)
                .map(|d| d.id.clone()),
            child_id: child.id.clone(),
            worker_id: worker.id.clone(),
            incident,
        }));
    }
    Ok(None)
}

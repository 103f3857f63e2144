//! A death benefit shared by heirs (issue 15), in the Philippine fund: a worker
//! dies abroad in June 2026 leaving a spouse, a grown son and a daughter of
//! twelve. The spouse files; the legal heirs (spouse and children) share the
//! benefit in thirds, the spouse receiving the daughter's part as her guardian.
//! The officer approves (one payable per heir) and pays; the fund's pesos come
//! from the dollars sold for the claims waiting, so the payment waits at the
//! head of the queue and the payment run after the exchange pays each heir
//! with an entry of their own (a small demo fund may hold pesos for only some
//! of them: the claim then waits, partly paid, for the next exchange).

use chrono::NaiveDate;

use super::claims::request;
use super::record::record_one;
use super::Actors;
use crate::auth::Act;
use crate::claims::assess::Claimant;
use crate::claims::{self, Decision, DecisionOutcome, NewClaim};
use crate::contributions::{NewContribution, NewPayer};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::funds::{lock_fund, Fund};
use crate::money::Currency;
use crate::rules::document::{PayerType, Phase, Relationship};
use crate::workers::{self, NewContract, NewDependant, NewWorker, Sex, Worker};

/// The fund whose example this is.
pub const FUND: &str = "PH-OWWA";

fn day(year: i32, month: u32, date: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, date).expect("a valid date")
}

fn dependant(name: &str, relationship: Relationship, born: NaiveDate) -> NewDependant {
    NewDependant {
        name: name.to_string(),
        relationship,
        date_of_birth: Some(born),
        deceased: false,
        nominee: false,
    }
}

fn the_family() -> NewWorker {
    NewWorker {
        document_type: "passport".to_string(),
        document_number: "P-HEIRS-2025".to_string(),
        given_name: "Roberto".to_string(),
        family_name: "Dela Cruz".to_string(),
        date_of_birth: day(1979, 8, 21),
        sex: Sex::Male,
        phone: None,
        email: None,
        occupation_sector: Some("construction".to_string()),
        dependants: vec![
            dependant("Teresita Dela Cruz", Relationship::Spouse, day(1982, 4, 2)),
            dependant("Miguel Dela Cruz", Relationship::Child, day(2003, 11, 9)),
            dependant("Angela Dela Cruz", Relationship::Child, day(2014, 1, 27)),
        ],
        contracts: vec![NewContract {
            employer: "Gulf Build Contracting".to_string(),
            destination_country: "AE".to_string(),
            occupation: Some("Steel fixer".to_string()),
            start_date: day(2025, 3, 15),
            end_date: day(2027, 3, 14),
            monthly_wage_minor: None,
            wage_currency: None,
            recruitment_agency: None,
        }],
    }
}

/// Enrolls the family, records its contribution, files the death claim, and
/// approves and pays it: the claim's id.
pub fn share_a_death(conn: &mut DbConnection, fund: &Fund, actors: &Actors) -> AppResult<String> {
    debug_assert_eq!(fund.code, FUND);
    let worker: Worker = request(
        conn,
        &actors.ministry,
        Act::EnrollWorker,
        FUND,
        201,
        |conn| {
            let lock = lock_fund(conn, fund.id)?;
            let worker = workers::enroll(conn, &lock, &the_family(), &actors.ministry.subject)?;
            let events = vec![workers::enrolled_event(&fund.code, &worker)];
            Ok((worker.clone(), format!("worker {}", worker.id), events))
        },
    )?;
    contribute(conn, fund, actors, &worker)?;
    let spouse = worker.dependants[0].id.clone();
    let claim = request(conn, &actors.officer, Act::SubmitClaim, FUND, 201, |conn| {
        let (claim, _riders, events) = claims::submit(
            conn,
            fund,
            &worker,
            &death_claim(spouse),
            &actors.officer.subject,
        )?;
        Ok((claim.id.clone(), format!("claim {}", claim.id), events))
    })?;
    let approval = Decision {
        outcome: DecisionOutcome::Approve,
        amount_minor: None,
        reasons: Vec::new(),
        note: Some("Heirs' shares per the Civil Code; the spouse receives for the minor".into()),
    };
    request(conn, &actors.officer, Act::DecideClaim, FUND, 200, |conn| {
        let (claim, events) = claims::decide(conn, fund, &claim, &approval, &actors.officer)?;
        Ok(((), format!("claim {} {}", claim.id, claim.status), events))
    })?;
    request(conn, &actors.officer, Act::PayClaim, FUND, 200, |conn| {
        let today = crate::time::today();
        let (claim, events) =
            claims::pay(conn, fund, &claim, today, None, &actors.officer.subject)?;
        Ok(((), format!("claim {} {}", claim.id, claim.status), events))
    })?;
    Ok(claim)
}

/// The worker's contribution for the contract, as the ministry records it.
fn contribute(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    worker: &Worker,
) -> AppResult<()> {
    let usd = Currency::parse("USD").map_err(|e| AppError::internal(e.to_string()))?;
    let new = NewContribution {
        worker_id: worker.id.clone(),
        contract_id: Some(worker.contracts[0].id.clone()),
        paid_on: day(2025, 3, 1),
        amount_minor: 2500,
        currency: usd,
        payers: vec![NewPayer {
            payer_type: PayerType::Worker,
            amount_minor: 2500,
            reference: None,
        }],
        external_ref: Some("DEMO-HEIRS-1".to_string()),
        received: None,
    };
    request(
        conn,
        &actors.ministry,
        Act::RecordContribution,
        FUND,
        201,
        |conn| {
            let (_, target, events) = record_one(conn, fund, &actors.ministry.subject, &new)?;
            Ok(((), target, events))
        },
    )
}

/// The spouse's claim of the natural death, naming no beneficiaries: the
/// class that takes shares it equally, the spouse receiving for the minor.
fn death_claim(spouse: String) -> NewClaim {
    let documents = [
        ("DEATH_CERTIFICATE", "PSA-DC-2026-118204"),
        ("PROOF_OF_RELATIONSHIP", "PSA-MC-2002-004417"),
        ("CLAIMANT_ID", "UMID-0111-2233-4455"),
        ("BURIAL_PERMIT_AND_FUNERAL_RECEIPT", "BP-2026-0611"),
    ];
    NewClaim {
        benefit: "DEATH_NATURAL".to_string(),
        incident_date: day(2026, 6, 10),
        incident_phase: Phase::Abroad,
        filed_on: day(2026, 7, 1),
        claimant: Claimant {
            relationship: Relationship::Spouse,
            dependant_id: Some(spouse),
        },
        claimed_amount_minor: None,
        grade: None,
        documents: documents
            .iter()
            .map(|(t, r)| (t.to_string(), r.to_string()))
            .collect(),
        description: Some("Died of a cardiac arrest at a construction site in Abu Dhabi".into()),
        beneficiaries: None,
        rider_claimants: Vec::new(),
    }
}

//! Workers: enrollment with dependants and contracts, lookups, contract events
//! (departure, early termination, return) and membership from coverage.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::events::{kind as event_kind, NewEvent};
use crate::db::schema::{contracts, contributions, dependants, workers};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::FundLock;
use crate::money::Currency;
use crate::rules::document::Relationship;
use crate::rules::evaluate::{ContractTerms, Period};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
    Unspecified,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unspecified => "unspecified",
        }
    }

    fn parse(s: &str) -> Sex {
        serde_json::from_value(serde_json::Value::String(s.to_string()))
            .expect("stored sexes are valid")
    }
}

#[derive(Debug, Clone)]
pub struct NewDependant {
    pub name: String,
    pub relationship: Relationship,
    pub date_of_birth: Option<NaiveDate>,
    pub deceased: bool,
}

#[derive(Debug, Clone)]
pub struct NewContract {
    pub employer: String,
    pub destination_country: String,
    pub occupation: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub monthly_wage_minor: Option<i64>,
    pub wage_currency: Option<Currency>,
    pub recruitment_agency: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewWorker {
    pub document_type: String,
    pub document_number: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub occupation_sector: Option<String>,
    pub dependants: Vec<NewDependant>,
    pub contracts: Vec<NewContract>,
}

#[derive(Debug, Clone)]
pub struct Dependant {
    pub id: String,
    pub name: String,
    pub relationship: Relationship,
    pub date_of_birth: Option<NaiveDate>,
    pub deceased: bool,
}

#[derive(Debug, Clone)]
pub struct Contract {
    pub id: String,
    pub employer: String,
    pub destination_country: String,
    pub occupation: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub monthly_wage_minor: Option<i64>,
    pub wage_currency: Option<Currency>,
    pub recruitment_agency: Option<String>,
    pub departed_on: Option<NaiveDate>,
    pub terminated_on: Option<NaiveDate>,
    pub returned_on: Option<NaiveDate>,
}

impl Contract {
    pub fn terms(&self) -> ContractTerms {
        ContractTerms {
            start_date: self.start_date,
            end_date: self.end_date,
            terminated_on: self.terminated_on,
            monthly_wage_minor: self.monthly_wage_minor,
            wage_currency: self.wage_currency,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Worker {
    pub id: String,
    pub fund_id: i64,
    pub document_type: String,
    pub document_number: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub occupation_sector: Option<String>,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub dependants: Vec<Dependant>,
    pub contracts: Vec<Contract>,
}

/// Identity document numbers are compared upper-cased without spaces.
pub fn normalize_document_number(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

fn already_enrolled(worker_id: &str) -> AppError {
    AppError::new(
        ErrorCode::WorkerAlreadyEnrolled,
        format!(
            "a worker with this identity document is already enrolled in the fund: {worker_id}"
        ),
    )
    .with("worker_id", worker_id)
}

fn existing_by_document(
    conn: &mut DbConnection,
    fund_id: i64,
    document_type: &str,
    number: &str,
) -> AppResult<Option<String>> {
    Ok(workers::table
        .filter(workers::fund_id.eq(fund_id))
        .filter(workers::document_type.eq(document_type))
        .filter(workers::document_number.eq(number))
        .select(workers::id)
        .first(conn)
        .optional()?)
}

/// Enrolls a worker in the caller's transaction, which holds the fund's lock
/// (`lock`): enrollments of a fund are then ordered, and the duplicate check
/// below is final on any number of processes. The same identity document in
/// the fund is a 409 naming the existing worker, refused before anything is
/// written.
pub fn enroll(
    conn: &mut DbConnection,
    lock: &FundLock,
    new: &NewWorker,
    created_by: &str,
) -> AppResult<Worker> {
    let fund_id = lock.fund_id();
    if let Some(existing) =
        existing_by_document(conn, fund_id, &new.document_type, &new.document_number)?
    {
        return Err(already_enrolled(&existing));
    }
    let id = Uuid::now_v7().to_string();
    let now = crate::time::now();
    diesel::insert_into(workers::table)
        .values((
            workers::id.eq(&id),
            workers::fund_id.eq(fund_id),
            workers::document_type.eq(&new.document_type),
            workers::document_number.eq(&new.document_number),
            workers::given_name.eq(&new.given_name),
            workers::family_name.eq(&new.family_name),
            workers::date_of_birth.eq(new.date_of_birth),
            workers::sex.eq(new.sex.as_str()),
            workers::phone.eq(&new.phone),
            workers::email.eq(&new.email),
            workers::occupation_sector.eq(&new.occupation_sector),
            workers::created_at.eq(now),
            workers::created_by.eq(created_by),
        ))
        .execute(conn)?;
    let dependants = new
        .dependants
        .iter()
        .map(|d| add_dependant(conn, &id, d))
        .collect::<AppResult<Vec<_>>>()?;
    let contracts = new
        .contracts
        .iter()
        .map(|c| add_contract(conn, &id, c))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Worker {
        id,
        fund_id,
        document_type: new.document_type.clone(),
        document_number: new.document_number.clone(),
        given_name: new.given_name.clone(),
        family_name: new.family_name.clone(),
        date_of_birth: new.date_of_birth,
        sex: new.sex,
        phone: new.phone.clone(),
        email: new.email.clone(),
        occupation_sector: new.occupation_sector.clone(),
        created_at: now,
        created_by: created_by.to_string(),
        dependants,
        contracts,
    })
}

/// The `worker.enrolled` event of the feed.
pub fn enrolled_event(fund_code: &str, worker: &Worker) -> NewEvent {
    NewEvent {
        fund_code: fund_code.to_string(),
        event_type: event_kind::WORKER_ENROLLED,
        subject_id: worker.id.clone(),
        payload: serde_json::json!({
            "worker_id": worker.id,
            "document_type": worker.document_type,
            "document_number": worker.document_number,
            "sex": worker.sex,
            "occupation_sector": worker.occupation_sector,
        }),
    }
}

pub fn add_dependant(
    conn: &mut DbConnection,
    worker_id: &str,
    new: &NewDependant,
) -> AppResult<Dependant> {
    let id = Uuid::now_v7().to_string();
    diesel::insert_into(dependants::table)
        .values((
            dependants::id.eq(&id),
            dependants::worker_id.eq(worker_id),
            dependants::name.eq(&new.name),
            dependants::relationship.eq(new.relationship.as_str()),
            dependants::date_of_birth.eq(new.date_of_birth),
            dependants::deceased.eq(new.deceased),
            dependants::created_at.eq(crate::time::now()),
        ))
        .execute(conn)?;
    Ok(Dependant {
        id,
        name: new.name.clone(),
        relationship: new.relationship,
        date_of_birth: new.date_of_birth,
        deceased: new.deceased,
    })
}

pub fn add_contract(
    conn: &mut DbConnection,
    worker_id: &str,
    new: &NewContract,
) -> AppResult<Contract> {
    let id = Uuid::now_v7().to_string();
    diesel::insert_into(contracts::table)
        .values((
            contracts::id.eq(&id),
            contracts::worker_id.eq(worker_id),
            contracts::employer.eq(&new.employer),
            contracts::destination_country.eq(&new.destination_country),
            contracts::occupation.eq(&new.occupation),
            contracts::start_date.eq(new.start_date),
            contracts::end_date.eq(new.end_date),
            contracts::monthly_wage_minor.eq(new.monthly_wage_minor),
            contracts::wage_currency.eq(new.wage_currency.map(|c| c.code().to_string())),
            contracts::recruitment_agency.eq(&new.recruitment_agency),
            contracts::created_at.eq(crate::time::now()),
        ))
        .execute(conn)?;
    Ok(Contract {
        id,
        employer: new.employer.clone(),
        destination_country: new.destination_country.clone(),
        occupation: new.occupation.clone(),
        start_date: new.start_date,
        end_date: new.end_date,
        monthly_wage_minor: new.monthly_wage_minor,
        wage_currency: new.wage_currency,
        recruitment_agency: new.recruitment_agency.clone(),
        departed_on: None,
        terminated_on: None,
        returned_on: None,
    })
}

type WorkerRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    NaiveDate,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    NaiveDateTime,
    String,
);

type DependantRow = (
    String,
    String,
    String,
    String,
    Option<NaiveDate>,
    bool,
    NaiveDateTime,
);

type ContractRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    NaiveDate,
    NaiveDate,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    NaiveDateTime,
);

fn contract_from_row(r: ContractRow) -> Contract {
    Contract {
        id: r.0,
        employer: r.2,
        destination_country: r.3,
        occupation: r.4,
        start_date: r.5,
        end_date: r.6,
        monthly_wage_minor: r.7,
        wage_currency: r
            .8
            .map(|c| Currency::parse(&c).expect("stored currencies are valid")),
        recruitment_agency: r.9,
        departed_on: r.10,
        terminated_on: r.11,
        returned_on: r.12,
    }
}

fn worker_from_row(r: WorkerRow) -> Worker {
    Worker {
        id: r.0,
        fund_id: r.1,
        document_type: r.2,
        document_number: r.3,
        given_name: r.4,
        family_name: r.5,
        date_of_birth: r.6,
        sex: Sex::parse(&r.7),
        phone: r.8,
        email: r.9,
        occupation_sector: r.10,
        created_at: r.11,
        created_by: r.12,
        dependants: Vec::new(),
        contracts: Vec::new(),
    }
}

/// The fund a worker is enrolled in.
pub fn fund_of_worker(conn: &mut DbConnection, id: &str) -> AppResult<Option<i64>> {
    Ok(workers::table
        .find(id)
        .select(workers::fund_id)
        .first(conn)
        .optional()?)
}

/// A worker with dependants and contracts.
pub fn find_worker(conn: &mut DbConnection, id: &str) -> AppResult<Option<Worker>> {
    let Some(row) = workers::table
        .find(id)
        .select(workers::all_columns)
        .first::<WorkerRow>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let mut worker = worker_from_row(row);
    let dependant_rows: Vec<DependantRow> = dependants::table
        .filter(dependants::worker_id.eq(id))
        .order(dependants::id.asc())
        .select(dependants::all_columns)
        .load(conn)?;
    worker.dependants = dependant_rows
        .into_iter()
        .map(|r| Dependant {
            id: r.0,
            name: r.2,
            relationship: Relationship::parse(&r.3).expect("stored relationships are valid"),
            date_of_birth: r.4,
            deceased: r.5,
        })
        .collect();
    worker.contracts = contracts::table
        .filter(contracts::worker_id.eq(id))
        .order(contracts::id.asc())
        .select(contracts::all_columns)
        .load::<ContractRow>(conn)?
        .into_iter()
        .map(contract_from_row)
        .collect();
    Ok(Some(worker))
}

/// Workers of a fund in enrollment order, optionally by document number.
pub fn search(
    conn: &mut DbConnection,
    fund_id: i64,
    document_number: Option<&str>,
    after_id: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Worker>> {
    let mut query = workers::table
        .filter(workers::fund_id.eq(fund_id))
        .into_boxed();
    if let Some(number) = document_number {
        query = query.filter(workers::document_number.eq(normalize_document_number(number)));
    }
    if let Some(after) = after_id {
        query = query.filter(workers::id.gt(after.to_string()));
    }
    Ok(query
        .order(workers::id.asc())
        .limit(limit)
        .select(workers::all_columns)
        .load::<WorkerRow>(conn)?
        .into_iter()
        .map(worker_from_row)
        .collect())
}

pub fn find_contract(
    conn: &mut DbConnection,
    worker_id: &str,
    contract_id: &str,
) -> AppResult<Option<Contract>> {
    Ok(contracts::table
        .filter(contracts::worker_id.eq(worker_id))
        .filter(contracts::id.eq(contract_id))
        .select(contracts::all_columns)
        .first::<ContractRow>(conn)
        .optional()?
        .map(contract_from_row))
}

/// The workers of fund `fund_id` among `ids`, each with its contracts, read in
/// two queries per chunk of ids (for batches and grouped requests).
pub fn workers_with_contracts(
    conn: &mut DbConnection,
    fund_id: i64,
    ids: &[&str],
) -> AppResult<HashMap<String, Vec<Contract>>> {
    let mut found: HashMap<String, Vec<Contract>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let in_fund: Vec<String> = workers::table
            .filter(workers::fund_id.eq(fund_id))
            .filter(workers::id.eq_any(chunk))
            .select(workers::id)
            .load(conn)?;
        let rows: Vec<ContractRow> = contracts::table
            .filter(contracts::worker_id.eq_any(&in_fund))
            .select(contracts::all_columns)
            .load(conn)?;
        for worker in in_fund {
            found.entry(worker).or_default();
        }
        for row in rows {
            let worker = row.1.clone();
            found
                .entry(worker)
                .or_default()
                .push(contract_from_row(row));
        }
    }
    Ok(found)
}

/// Departure, early termination and return, as they happen.
#[derive(Debug, Clone, Default)]
pub struct ContractEvents {
    pub departed_on: Option<NaiveDate>,
    pub terminated_on: Option<NaiveDate>,
    pub returned_on: Option<NaiveDate>,
}

/// Records contract events. An early termination also ends the coverage of
/// contributions that cover "until the contract ends".
pub fn record_contract_events(
    conn: &mut DbConnection,
    contract: &Contract,
    events: &ContractEvents,
) -> AppResult<Contract> {
    let mut updated = contract.clone();
    if events.departed_on.is_some() {
        updated.departed_on = events.departed_on;
    }
    if events.terminated_on.is_some() {
        updated.terminated_on = events.terminated_on;
    }
    if events.returned_on.is_some() {
        updated.returned_on = events.returned_on;
    }
    diesel::update(contracts::table.find(&contract.id))
        .set((
            contracts::departed_on.eq(updated.departed_on),
            contracts::terminated_on.eq(updated.terminated_on),
            contracts::returned_on.eq(updated.returned_on),
        ))
        .execute(conn)?;
    if let Some(last_day) = events.terminated_on {
        let covered: Vec<(String, NaiveDate)> = contributions::table
            .filter(contributions::contract_id.eq(&contract.id))
            .filter(contributions::coverage_basis.eq("contract_end"))
            .select((contributions::id, contributions::coverage_start))
            .load(conn)?;
        for (id, start) in covered {
            diesel::update(contributions::table.find(id))
                .set(contributions::coverage_end.eq(last_day.max(start)))
                .execute(conn)?;
        }
    }
    Ok(updated)
}

/// A coverage period and the contribution that bought it.
#[derive(Debug, Clone)]
pub struct CoveragePeriod {
    pub contribution_id: String,
    pub rule_version: String,
    pub period: Period,
}

/// The coverage periods of a worker's contributions that stand (not reversed).
pub fn coverage_periods(
    conn: &mut DbConnection,
    worker_id: &str,
) -> AppResult<Vec<CoveragePeriod>> {
    let rows: Vec<(String, String, NaiveDate, NaiveDate, i32)> = contributions::table
        .filter(contributions::worker_id.eq(worker_id))
        .filter(contributions::status.eq("recorded"))
        .order((contributions::coverage_start.asc(), contributions::id.asc()))
        .select((
            contributions::id,
            contributions::rule_version,
            contributions::coverage_start,
            contributions::coverage_end,
            contributions::grace_days,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(contribution_id, rule_version, start, end, grace)| CoveragePeriod {
                contribution_id,
                rule_version,
                period: Period {
                    start,
                    end,
                    grace_days: grace as u32,
                },
            },
        )
        .collect())
}

/// How many workers are enrolled in the fund.
pub fn count_in_fund(conn: &mut DbConnection, fund_id: i64) -> AppResult<i64> {
    Ok(workers::table
        .filter(workers::fund_id.eq(fund_id))
        .count()
        .get_result(conn)?)
}

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
use crate::error::{AppError, AppResult, ErrorCode, Refusal};
use crate::funds::{FundId, FundLock};
use crate::money::Currency;
use crate::rules::document::Relationship;
use crate::rules::evaluate::{anchored_coverage, ContractTerms, Period};

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
    /// The worker's nominee: paid before any heir where the rules say so.
    pub nominee: bool,
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
    /// The worker's nominee (at most one per worker).
    pub nominee: bool,
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
            departed_on: self.departed_on,
            returned_on: self.returned_on,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Worker {
    pub id: String,
    pub fund_id: FundId,
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

/// A name as its search key: lower-cased (Unicode, as Rust's `to_lowercase`;
/// accents and other marks are kept as written), each run of white space one
/// space, trimmed. A search's prefix is read the same way.
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
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

/// The fund's workers enrolled under any of `documents` ((type, number)
/// pairs): their ids by document. Read by number through the fund's
/// `(fund_id, document_number, id)` index, a few hundred numbers per query,
/// the type checked on the rows read.
fn existing_by_documents(
    conn: &mut DbConnection,
    fund_id: FundId,
    documents: &[(&str, &str)],
) -> AppResult<HashMap<(String, String), String>> {
    let mut found = HashMap::new();
    let wanted: std::collections::HashSet<(&str, &str)> = documents.iter().copied().collect();
    for chunk in documents.chunks(500) {
        let numbers: Vec<&str> = chunk.iter().map(|(_, number)| *number).collect();
        let rows: Vec<(String, String, String)> = workers::table
            .filter(workers::fund_id.eq(fund_id))
            .filter(workers::document_number.eq_any(&numbers))
            .select((
                workers::document_type,
                workers::document_number,
                workers::id,
            ))
            .load(conn)?;
        for (document_type, number, id) in rows {
            if wanted.contains(&(document_type.as_str(), number.as_str())) {
                found.insert((document_type, number), id);
            }
        }
    }
    Ok(found)
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
    let mut enrolled = enroll_many(conn, lock, &[new], created_by)?;
    Ok(enrolled.pop().expect("one outcome per worker")?)
}

/// Enrolls workers in the caller's transaction, which holds the fund's lock
/// (`lock`), as [`enroll`] would one after the other: each is enrolled, or
/// refused having written nothing (its refusal is its answer; a document
/// already enrolled, in the fund or earlier in `items`, is
/// `WORKER_ALREADY_ENROLLED` naming that worker). The outer `Err` spoils the
/// transaction. The fund's workers holding the items' documents are read in
/// one query per few hundred, and the workers, their dependants and their
/// contracts are inserted with one multi-row INSERT per table: a batch of
/// thousands costs a handful of statements. New workers have no coverage, so
/// their contracts leave the membership summary as it is.
pub fn enroll_many(
    conn: &mut DbConnection,
    lock: &FundLock,
    items: &[&NewWorker],
    created_by: &str,
) -> AppResult<Vec<Result<Worker, Refusal>>> {
    let fund_id = lock.fund_id();
    let documents: Vec<(&str, &str)> = items
        .iter()
        .map(|n| (n.document_type.as_str(), n.document_number.as_str()))
        .collect();
    let mut known = existing_by_documents(conn, fund_id, &documents)?;
    let now = crate::time::now();
    let mut outcomes = Vec::with_capacity(items.len());
    let mut rows = Vec::new();
    for new in items {
        let document = (new.document_type.clone(), new.document_number.clone());
        if let Some(existing) = known.get(&document) {
            outcomes.push(Err(refusal(already_enrolled(existing))));
            continue;
        }
        if new.dependants.iter().filter(|d| d.nominee).count() > 1 {
            // Validation refuses a second nominee; one that reaches here is
            // refused as registering it after the first would be.
            outcomes.push(Err(refusal(AppError::new(
                ErrorCode::NomineeAlreadyRegistered,
                "a worker has at most one nominee",
            ))));
            continue;
        }
        let row = WorkerRow {
            id: Uuid::now_v7().to_string(),
            fund_id,
            document_type: new.document_type.clone(),
            document_number: new.document_number.clone(),
            given_name: new.given_name.clone(),
            family_name: new.family_name.clone(),
            date_of_birth: new.date_of_birth,
            sex: new.sex.as_str().to_string(),
            phone: new.phone.clone(),
            email: new.email.clone(),
            occupation_sector: new.occupation_sector.clone(),
            created_at: now,
            created_by: created_by.to_string(),
            family_key: name_key(&new.family_name),
            given_key: name_key(&new.given_name),
        };
        known.insert(document, row.id.clone());
        let worker = Worker {
            dependants: new.dependants.iter().map(new_dependant).collect(),
            contracts: new.contracts.iter().map(new_contract).collect(),
            ..Worker::from(row.clone())
        };
        rows.push(row);
        outcomes.push(Ok(worker));
    }
    crate::insert_rows!(conn, workers::table, rows)?;
    let enrolled = || {
        outcomes
            .iter()
            .zip(items)
            .filter_map(|(o, n)| Some((o.as_ref().ok()?, n)))
    };
    let dependant_rows: Vec<NewDependantRow> = enrolled()
        .flat_map(|(worker, new)| {
            (worker.dependants.iter().zip(&new.dependants))
                .map(|(d, new)| dependant_row(&worker.id, &d.id, new, now))
        })
        .collect();
    crate::insert_rows!(conn, dependants::table, dependant_rows)?;
    let contract_rows: Vec<NewContractRow> = enrolled()
        .flat_map(|(worker, new)| {
            (worker.contracts.iter().zip(&new.contracts))
                .map(|(c, new)| contract_row(&worker.id, &c.id, new, now))
        })
        .collect();
    crate::insert_rows!(conn, contracts::table, contract_rows)?;
    Ok(outcomes)
}

/// The refusal an [`AppError`] built as one carries.
fn refusal(error: AppError) -> Refusal {
    match error {
        AppError::Refused(refusal) => *refusal,
        other => unreachable!("built as a refusal: {other}"),
    }
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

/// The worker's nominee, if one is registered.
fn nominee_of(conn: &mut DbConnection, worker_id: &str) -> AppResult<Option<String>> {
    Ok(dependants::table
        .filter(dependants::worker_id.eq(worker_id))
        .filter(dependants::nominee.eq(true))
        .select(dependants::id)
        .first(conn)
        .optional()?)
}

/// Registers a dependant. A worker has at most one nominee: a second is a 409
/// naming the first (the caller holds the fund's lock when registering a
/// nominee, and a unique index keeps it so on any number of processes).
pub fn add_dependant(
    conn: &mut DbConnection,
    worker_id: &str,
    new: &NewDependant,
) -> AppResult<Dependant> {
    if new.nominee {
        if let Some(existing) = nominee_of(conn, worker_id)? {
            return Err(AppError::new(
                ErrorCode::NomineeAlreadyRegistered,
                format!("the worker's nominee is already registered: dependant {existing}"),
            )
            .with("dependant_id", existing));
        }
    }
    let dependant = new_dependant(new);
    diesel::insert_into(dependants::table)
        .values(dependant_row(
            worker_id,
            &dependant.id,
            new,
            crate::time::now(),
        ))
        .execute(conn)?;
    Ok(dependant)
}

/// A new dependant, with a new id.
fn new_dependant(new: &NewDependant) -> Dependant {
    Dependant {
        id: Uuid::now_v7().to_string(),
        name: new.name.clone(),
        relationship: new.relationship,
        date_of_birth: new.date_of_birth,
        deceased: new.deceased,
        nominee: new.nominee,
    }
}

/// The row of dependant `id` of worker `worker_id`.
fn dependant_row<'a>(
    worker_id: &'a str,
    id: &'a str,
    new: &'a NewDependant,
    created_at: NaiveDateTime,
) -> NewDependantRow<'a> {
    NewDependantRow {
        id,
        worker_id,
        name: &new.name,
        relationship: new.relationship.as_str(),
        date_of_birth: new.date_of_birth,
        deceased: new.deceased,
        created_at,
        nominee: new.nominee,
    }
}

pub fn add_contract(
    conn: &mut DbConnection,
    worker_id: &str,
    new: &NewContract,
) -> AppResult<Contract> {
    let contract = new_contract(new);
    diesel::insert_into(contracts::table)
        .values(contract_row(
            worker_id,
            &contract.id,
            new,
            crate::time::now(),
        ))
        .execute(conn)?;
    crate::reports::membership_summary::contract_added(conn, worker_id)?;
    Ok(contract)
}

/// Adds contracts to workers of fund `fund_id`, (worker id, contract) each,
/// as [`add_contract`] would one after the other: one multi-row INSERT per
/// thousand, and the membership summary refreshed once for the workers that
/// already have coverage (found in one query per chunk).
pub fn add_contracts(
    conn: &mut DbConnection,
    fund_id: FundId,
    items: &[(&str, &NewContract)],
) -> AppResult<Vec<Contract>> {
    let now = crate::time::now();
    let added: Vec<Contract> = items.iter().map(|(_, new)| new_contract(new)).collect();
    let rows: Vec<NewContractRow> = (items.iter().zip(&added))
        .map(|((worker_id, new), c)| contract_row(worker_id, &c.id, new, now))
        .collect();
    crate::insert_rows!(conn, contracts::table, rows)?;
    let mut workers: Vec<&str> = items.iter().map(|(w, _)| *w).collect();
    workers.sort_unstable();
    workers.dedup();
    let mut covered = Vec::new();
    for chunk in workers.chunks(500) {
        covered.extend(crate::reports::membership_summary::covered_workers(
            conn, chunk,
        )?);
    }
    if !covered.is_empty() {
        crate::reports::membership_summary::refresh_workers(conn, fund_id, covered)?;
    }
    Ok(added)
}

/// A new contract, with a new id and no event yet.
fn new_contract(new: &NewContract) -> Contract {
    Contract {
        id: Uuid::now_v7().to_string(),
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
    }
}

/// The row of contract `id` of worker `worker_id`.
fn contract_row<'a>(
    worker_id: &'a str,
    id: &'a str,
    new: &'a NewContract,
    created_at: NaiveDateTime,
) -> NewContractRow<'a> {
    NewContractRow {
        id,
        worker_id,
        employer: &new.employer,
        destination_country: &new.destination_country,
        occupation: new.occupation.as_deref(),
        start_date: new.start_date,
        end_date: new.end_date,
        monthly_wage_minor: new.monthly_wage_minor,
        wage_currency: new.wage_currency.as_ref().map(Currency::code),
        recruitment_agency: new.recruitment_agency.as_deref(),
        created_at,
    }
}

/// A `workers` row, read and inserted whole.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = workers, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
struct WorkerRow {
    id: String,
    fund_id: FundId,
    document_type: String,
    document_number: String,
    given_name: String,
    family_name: String,
    date_of_birth: NaiveDate,
    sex: String,
    phone: Option<String>,
    email: Option<String>,
    occupation_sector: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
    /// [`name_key`] of `family_name`.
    family_key: String,
    /// [`name_key`] of `given_name`.
    given_key: String,
}

impl From<WorkerRow> for Worker {
    /// The worker without dependants and contracts (read apart).
    fn from(row: WorkerRow) -> Worker {
        Worker {
            id: row.id,
            fund_id: row.fund_id,
            document_type: row.document_type,
            document_number: row.document_number,
            given_name: row.given_name,
            family_name: row.family_name,
            date_of_birth: row.date_of_birth,
            sex: Sex::parse(&row.sex),
            phone: row.phone,
            email: row.email,
            occupation_sector: row.occupation_sector,
            created_at: row.created_at,
            created_by: row.created_by,
            dependants: Vec::new(),
            contracts: Vec::new(),
        }
    }
}

/// What is read of a `dependants` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = dependants, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct DependantRow {
    id: String,
    name: String,
    relationship: String,
    date_of_birth: Option<NaiveDate>,
    deceased: bool,
    nominee: bool,
}

impl From<DependantRow> for Dependant {
    fn from(row: DependantRow) -> Dependant {
        Dependant {
            id: row.id,
            name: row.name,
            relationship: Relationship::parse(&row.relationship)
                .expect("stored relationships are valid"),
            date_of_birth: row.date_of_birth,
            deceased: row.deceased,
            nominee: row.nominee,
        }
    }
}

/// A `dependants` row to insert.
#[derive(Insertable)]
#[diesel(table_name = dependants, treat_none_as_default_value = false)]
struct NewDependantRow<'a> {
    id: &'a str,
    worker_id: &'a str,
    name: &'a str,
    relationship: &'a str,
    date_of_birth: Option<NaiveDate>,
    deceased: bool,
    created_at: NaiveDateTime,
    nominee: bool,
}

/// What is read of a `contracts` row: all but when it was written.
#[derive(Queryable, Selectable)]
#[diesel(table_name = contracts, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ContractRow {
    id: String,
    worker_id: String,
    employer: String,
    destination_country: String,
    occupation: Option<String>,
    start_date: NaiveDate,
    end_date: NaiveDate,
    monthly_wage_minor: Option<i64>,
    wage_currency: Option<String>,
    recruitment_agency: Option<String>,
    departed_on: Option<NaiveDate>,
    terminated_on: Option<NaiveDate>,
    returned_on: Option<NaiveDate>,
}

impl From<ContractRow> for Contract {
    fn from(row: ContractRow) -> Contract {
        Contract {
            id: row.id,
            employer: row.employer,
            destination_country: row.destination_country,
            occupation: row.occupation,
            start_date: row.start_date,
            end_date: row.end_date,
            monthly_wage_minor: row.monthly_wage_minor,
            wage_currency: row
                .wage_currency
                .map(|c| Currency::parse(&c).expect("stored currencies are valid")),
            recruitment_agency: row.recruitment_agency,
            departed_on: row.departed_on,
            terminated_on: row.terminated_on,
            returned_on: row.returned_on,
        }
    }
}

/// A new `contracts` row: no event has happened yet.
#[derive(Insertable)]
#[diesel(table_name = contracts, treat_none_as_default_value = false)]
struct NewContractRow<'a> {
    id: &'a str,
    worker_id: &'a str,
    employer: &'a str,
    destination_country: &'a str,
    occupation: Option<&'a str>,
    start_date: NaiveDate,
    end_date: NaiveDate,
    monthly_wage_minor: Option<i64>,
    wage_currency: Option<&'a str>,
    recruitment_agency: Option<&'a str>,
    created_at: NaiveDateTime,
}

/// The fund a worker is enrolled in.
pub fn fund_of_worker(conn: &mut DbConnection, id: &str) -> AppResult<Option<FundId>> {
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
        .select(WorkerRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let mut worker = Worker::from(row);
    worker.dependants = dependants::table
        .filter(dependants::worker_id.eq(id))
        .order(dependants::id.asc())
        .select(DependantRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Dependant::from)
        .collect();
    worker.contracts = contracts::table
        .filter(contracts::worker_id.eq(id))
        .order(contracts::id.asc())
        .select(ContractRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Contract::from)
        .collect();
    Ok(Some(worker))
}

/// `found` with their dependants and contracts, read in two queries (a page
/// of a search, rather than three queries a worker).
pub fn with_details(conn: &mut DbConnection, mut found: Vec<Worker>) -> AppResult<Vec<Worker>> {
    let ids: Vec<&str> = found.iter().map(|w| w.id.as_str()).collect();
    if ids.is_empty() {
        return Ok(found);
    }
    let mut dependants_of: HashMap<String, Vec<Dependant>> = HashMap::new();
    let rows: Vec<(String, DependantRow)> = dependants::table
        .filter(dependants::worker_id.eq_any(&ids))
        .order(dependants::id.asc())
        .select((dependants::worker_id, DependantRow::as_select()))
        .load(conn)?;
    for (worker, row) in rows {
        dependants_of.entry(worker).or_default().push(row.into());
    }
    let mut contracts_of: HashMap<String, Vec<Contract>> = HashMap::new();
    let rows: Vec<ContractRow> = contracts::table
        .filter(contracts::worker_id.eq_any(&ids))
        .order(contracts::id.asc())
        .select(ContractRow::as_select())
        .load(conn)?;
    for row in rows {
        contracts_of
            .entry(row.worker_id.clone())
            .or_default()
            .push(row.into());
    }
    for worker in &mut found {
        worker.dependants = dependants_of.remove(&worker.id).unwrap_or_default();
        worker.contracts = contracts_of.remove(&worker.id).unwrap_or_default();
    }
    Ok(found)
}

/// Workers of a fund in enrollment order, optionally by document number.
pub fn search(
    conn: &mut DbConnection,
    fund_id: FundId,
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
        .select(WorkerRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Worker::from)
        .collect())
}

/// Workers of a fund whose family or given name starts with `prefix` (a
/// [`name_key`]), ordered by the name that matched (the family name when
/// both do, so that each worker is listed once), then by id; the page starts
/// after the worker `after_id`. `None` when `after_id` is not a worker of the
/// fund that this prefix finds.
///
/// Reads of an index whatever the page's depth: the workers whose family name
/// matches, by `(fund_id, family_key, id)`, and those whose given name alone
/// matches, by `(fund_id, given_key, id)`; after a cursor, each reads the
/// cursor's namesakes after its id, then the names after its name (at most
/// four seeks), and the two are merged.
pub fn search_by_name(
    conn: &mut DbConnection,
    fund_id: FundId,
    prefix: &str,
    after_id: Option<&str>,
    limit: i64,
) -> AppResult<Option<Vec<Worker>>> {
    let end = prefix_end(prefix);
    let after = match after_id {
        None => None,
        Some(id) => {
            let keys: Option<(FundId, String, String)> = workers::table
                .find(id)
                .select((workers::fund_id, workers::family_key, workers::given_key))
                .first(conn)
                .optional()?;
            let matched = keys.and_then(|(fund, family, given)| {
                let key = if family.starts_with(prefix) {
                    family
                } else if given.starts_with(prefix) {
                    given
                } else {
                    return None;
                };
                (fund == fund_id).then_some(key)
            });
            match matched {
                Some(key) => Some((key, id.to_string())),
                None => return Ok(None),
            }
        }
    };
    // Each stream: the namesakes of the cursor's name after its id, then the
    // names after it (or from the prefix). Both are seeks on the index's
    // columns in order; a row-value `(key, id) > (?, ?)` is not, on SQLite.
    type Query = workers::BoxedQuery<'static, crate::db::DbBackend>;
    let in_fund = || -> Query {
        workers::table
            .filter(workers::fund_id.eq(fund_id))
            .into_boxed()
    };
    let load = |conn: &mut DbConnection, query: Query| -> AppResult<Vec<WorkerRow>> {
        Ok(query
            .limit(limit)
            .select(WorkerRow::as_select())
            .load(conn)?)
    };
    macro_rules! stream {
        ($key:expr, $only:expr) => {{
            let mut found = Vec::new();
            if let Some((name, id)) = &after {
                let query = in_fund()
                    .filter($key.eq(name.clone()))
                    .filter(workers::id.gt(id.clone()))
                    .order(workers::id.asc());
                found = load(conn, $only(query))?;
            }
            if (found.len() as i64) < limit {
                let mut query = match &after {
                    Some((name, _)) => in_fund().filter($key.gt(name.clone())),
                    None => in_fund().filter($key.ge(prefix.to_string())),
                };
                if let Some(end) = &end {
                    query = query.filter($key.lt(end.clone()));
                }
                let query = query.order(($key.asc(), workers::id.asc()));
                found.extend(load(conn, $only(query))?);
            }
            found
        }};
    }
    let by_family: Vec<WorkerRow> = stream!(workers::family_key, |q: Query| q);
    // Given names, of workers whose family name does not match (listed above).
    let family_elsewhere = |q: Query| -> Query {
        match &end {
            Some(end) => q.filter(
                workers::family_key
                    .lt(prefix.to_string())
                    .or(workers::family_key.ge(end.clone())),
            ),
            None => q.filter(workers::family_key.lt(prefix.to_string())),
        }
    };
    let by_given: Vec<WorkerRow> = stream!(workers::given_key, family_elsewhere);

    let mut rows: Vec<(String, WorkerRow)> = (by_family.into_iter())
        .map(|r| (r.family_key.clone(), r))
        .chain(by_given.into_iter().map(|r| (r.given_key.clone(), r)))
        .collect();
    rows.sort_by(|(a, x), (b, y)| (a, &x.id).cmp(&(b, &y.id)));
    rows.truncate(limit.max(0) as usize);
    Ok(Some(
        rows.into_iter().map(|(_, r)| Worker::from(r)).collect(),
    ))
}

/// The least string above every string that starts with `prefix` (its last
/// character that has a successor, replaced by it), in code-point order: the
/// order of both backends' keys (SQLite's binary collation, PostgreSQL's "C").
/// `None` when no character has one (nothing sorts above such a prefix's range).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last as u32 + 1 {
            0xD800 => 0xE000,
            n => n,
        };
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Recomputes every worker's name keys if still to be done (a database
/// migrated from a version without them, whose SQL `lower()` may fold other
/// than [`name_key`]), in one write transaction; right after migrating
/// (`db::migrate`). The first of several processes starting at once removes
/// the marker and does it; the others find it gone.
pub fn backfill_name_keys(conn: &mut DbConnection) -> AppResult<()> {
    use crate::db::schema::summary_backfills;
    const BACKFILL: &str = "worker_name_keys";
    let pending: i64 = summary_backfills::table
        .filter(summary_backfills::name.eq(BACKFILL))
        .count()
        .get_result(conn)?;
    if pending == 0 {
        return Ok(());
    }
    crate::db::write_transaction(conn, |conn| {
        let claimed =
            diesel::delete(summary_backfills::table.filter(summary_backfills::name.eq(BACKFILL)))
                .execute(conn)?;
        if claimed == 0 {
            return Ok(());
        }
        let mut after = String::new();
        loop {
            type Names = (String, String, String, String, String);
            let page: Vec<Names> = workers::table
                .filter(workers::id.gt(after.clone()))
                .order(workers::id.asc())
                .limit(1000)
                .select((
                    workers::id,
                    workers::family_name,
                    workers::given_name,
                    workers::family_key,
                    workers::given_key,
                ))
                .load(conn)?;
            let Some((last, ..)) = page.last() else {
                return Ok(());
            };
            after = last.clone();
            for (id, family, given, family_key, given_key) in page {
                let (family, given) = (name_key(&family), name_key(&given));
                if family != family_key || given != given_key {
                    diesel::update(workers::table.find(id))
                        .set((workers::family_key.eq(family), workers::given_key.eq(given)))
                        .execute(conn)?;
                }
            }
        }
    })
}

pub fn find_contract(
    conn: &mut DbConnection,
    worker_id: &str,
    contract_id: &str,
) -> AppResult<Option<Contract>> {
    Ok(contracts::table
        .filter(contracts::worker_id.eq(worker_id))
        .filter(contracts::id.eq(contract_id))
        .select(ContractRow::as_select())
        .first(conn)
        .optional()?
        .map(Contract::from))
}

/// The workers of fund `fund_id` among `ids`, each with its contracts, read in
/// two queries per chunk of ids (for batches and grouped requests).
pub fn workers_with_contracts(
    conn: &mut DbConnection,
    fund_id: FundId,
    ids: &[&str],
) -> AppResult<HashMap<String, Vec<Contract>>> {
    let mut found: HashMap<String, Vec<Contract>> = HashMap::new();
    for chunk in ids.chunks(500) {
        // By id alone, the fund checked here: with `fund_id = ?` in the query
        // SQLite's planner reads the whole fund through its (fund_id, …) index.
        let in_fund: Vec<String> = workers::table
            .filter(workers::id.eq_any(chunk))
            .select((workers::id, workers::fund_id))
            .load::<(String, FundId)>(conn)?
            .into_iter()
            .filter(|(_, fund)| *fund == fund_id)
            .map(|(id, _)| id)
            .collect();
        let rows: Vec<ContractRow> = contracts::table
            .filter(contracts::worker_id.eq_any(&in_fund))
            .select(ContractRow::as_select())
            .load(conn)?;
        for worker in in_fund {
            found.entry(worker).or_default();
        }
        for row in rows {
            let worker = row.worker_id.clone();
            found.entry(worker).or_default().push(Contract::from(row));
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
    let updated = record_contract_events_unsummarised(conn, contract, events)?;
    crate::reports::membership_summary::contract_changed(conn, &contract.id)?;
    Ok(updated)
}

/// [`record_contract_events`] without bringing the membership summary up to
/// date: the caller must call `membership_summary::refresh_workers` for the
/// contract's worker before its transaction commits (a bulk load refreshes
/// each worker once, after all its contracts' events, not once per contract).
pub fn record_contract_events_unsummarised(
    conn: &mut DbConnection,
    contract: &Contract,
    events: &ContractEvents,
) -> AppResult<Contract> {
    let mut updated = record_contract_events_many(conn, &[(contract, events)])?;
    Ok(updated.pop().expect("one contract per change"))
}

/// Records the events of several contracts (each named once) as
/// [`record_contract_events_unsummarised`] would one after the other, in a
/// few statements per few hundred contracts: their workers and the
/// contributions the events move are read in one query per chunk, and the
/// contracts and contributions are updated in one statement each on
/// PostgreSQL (from arrays), row by row on SQLite (no round trips there).
/// The caller brings the membership summary of their workers up to date.
pub fn record_contract_events_many(
    conn: &mut DbConnection,
    changes: &[(&Contract, &ContractEvents)],
) -> AppResult<Vec<Contract>> {
    let updated: Vec<Contract> = changes
        .iter()
        .map(|(contract, events)| {
            let mut updated = (*contract).clone();
            if events.departed_on.is_some() {
                updated.departed_on = events.departed_on;
            }
            if events.terminated_on.is_some() {
                updated.terminated_on = events.terminated_on;
            }
            if events.returned_on.is_some() {
                updated.returned_on = events.returned_on;
            }
            updated
        })
        .collect();
    let by_id: HashMap<&str, (&Contract, &ContractEvents)> = (updated.iter())
        .zip(changes)
        .map(|(c, (_, events))| (c.id.as_str(), (c, *events)))
        .collect();
    let mut coverage: Vec<(String, NaiveDate, NaiveDate)> = Vec::new();
    let mut versions = HashMap::new();
    for chunk in updated.chunks(500) {
        let ids: Vec<&str> = chunk.iter().map(|c| c.id.as_str()).collect();
        let mut workers: Vec<String> = contracts::table
            .filter(contracts::id.eq_any(&ids))
            .select(contracts::worker_id)
            .load(conn)?;
        workers.sort_unstable();
        workers.dedup();
        // Contributions are indexed by worker, not by contract: a contract's
        // are found through its worker (else each would read every one).
        let moved: Vec<MovedRow> = contributions::table
            .filter(contributions::worker_id.eq_any(&workers))
            .filter(contributions::coverage_basis.eq_any(["contract_end", "contract_events"]))
            .select(MovedRow::as_select())
            .load(conn)?;
        for row in moved {
            let Some((contract, events)) = row.contract_id.as_deref().and_then(|c| by_id.get(c))
            else {
                continue;
            };
            if row.coverage_basis == "contract_end" {
                // An early end ends the coverage bought until the contract's end.
                if let Some(last_day) = events.terminated_on {
                    coverage.push((row.id, row.coverage_start, last_day.max(row.coverage_start)));
                }
            } else if row.status == "recorded" {
                // Coverage anchored on the contract's events follows them,
                // under the anchors of the version it was recorded under.
                let versions = match versions.entry(row.fund_id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(crate::rules::version_table(conn, row.fund_id)?)
                    }
                };
                let anchors = (versions.iter())
                    .find(|(_, (label, _))| *label == row.rule_version)
                    .and_then(|(_, (_, doc))| doc.membership.anchors)
                    .ok_or_else(|| {
                        AppError::internal(format!("{} anchors its coverage", row.rule_version))
                    })?;
                let (start, end) = anchored_coverage(row.paid_on, &contract.terms(), anchors);
                coverage.push((row.id, start, end.max(start)));
            }
        }
    }
    write_contract_events(conn, &updated)?;
    write_coverage(conn, &coverage)?;
    Ok(updated)
}

/// What [`record_contract_events_many`] reads of a contribution its
/// contract's events may move.
#[derive(Queryable, Selectable)]
#[diesel(table_name = contributions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct MovedRow {
    id: String,
    fund_id: FundId,
    contract_id: Option<String>,
    coverage_basis: String,
    status: String,
    rule_version: String,
    paid_on: NaiveDate,
    coverage_start: NaiveDate,
}

/// Writes the contracts' event dates: one statement on PostgreSQL.
fn write_contract_events(conn: &mut DbConnection, updated: &[Contract]) -> AppResult<()> {
    match conn {
        DbConnection::Postgresql(c) => {
            use diesel::sql_types::{Array, Date, Nullable, Text};
            for chunk in updated.chunks(crate::db::INSERT_CHUNK) {
                let column = |f: fn(&Contract) -> Option<NaiveDate>| -> Vec<Option<NaiveDate>> {
                    chunk.iter().map(f).collect()
                };
                diesel::sql_query(
                    "UPDATE contracts SET departed_on = u.departed_on, \
                     terminated_on = u.terminated_on, returned_on = u.returned_on \
                     FROM UNNEST($1, $2, $3, $4) AS u(id, departed_on, terminated_on, returned_on) \
                     WHERE contracts.id = u.id",
                )
                .bind::<Array<Text>, _>(chunk.iter().map(|c| c.id.as_str()).collect::<Vec<_>>())
                .bind::<Array<Nullable<Date>>, _>(column(|c| c.departed_on))
                .bind::<Array<Nullable<Date>>, _>(column(|c| c.terminated_on))
                .bind::<Array<Nullable<Date>>, _>(column(|c| c.returned_on))
                .execute(c)?;
            }
        }
        DbConnection::Sqlite(_) => {
            for c in updated {
                diesel::update(contracts::table.find(&c.id))
                    .set((
                        contracts::departed_on.eq(c.departed_on),
                        contracts::terminated_on.eq(c.terminated_on),
                        contracts::returned_on.eq(c.returned_on),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Writes contributions' coverage, (id, start, end) each: one statement on
/// PostgreSQL.
fn write_coverage(
    conn: &mut DbConnection,
    coverage: &[(String, NaiveDate, NaiveDate)],
) -> AppResult<()> {
    match conn {
        DbConnection::Postgresql(c) => {
            use diesel::sql_types::{Array, Date, Text};
            for chunk in coverage.chunks(crate::db::INSERT_CHUNK) {
                diesel::sql_query(
                    "UPDATE contributions SET coverage_start = u.coverage_start, \
                     coverage_end = u.coverage_end \
                     FROM UNNEST($1, $2, $3) AS u(id, coverage_start, coverage_end) \
                     WHERE contributions.id = u.id",
                )
                .bind::<Array<Text>, _>(chunk.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())
                .bind::<Array<Date>, _>(chunk.iter().map(|r| r.1).collect::<Vec<_>>())
                .bind::<Array<Date>, _>(chunk.iter().map(|r| r.2).collect::<Vec<_>>())
                .execute(c)?;
            }
        }
        DbConnection::Sqlite(_) => {
            for (id, start, end) in coverage {
                diesel::update(contributions::table.find(id))
                    .set((
                        contributions::coverage_start.eq(start),
                        contributions::coverage_end.eq(end),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// A coverage period and the contribution that bought it.
#[derive(Debug, Clone)]
pub struct CoveragePeriod {
    pub contribution_id: String,
    pub rule_version: String,
    pub period: Period,
}

/// What coverage reads of a `contributions` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = contributions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct CoverageRow {
    id: String,
    rule_version: String,
    coverage_start: NaiveDate,
    coverage_end: NaiveDate,
    grace_days: i32,
}

impl From<CoverageRow> for CoveragePeriod {
    fn from(row: CoverageRow) -> CoveragePeriod {
        CoveragePeriod {
            contribution_id: row.id,
            rule_version: row.rule_version,
            period: Period {
                start: row.coverage_start,
                end: row.coverage_end,
                grace_days: row.grace_days as u32,
            },
        }
    }
}

/// The coverage periods of a worker's contributions that stand (not reversed).
pub fn coverage_periods(
    conn: &mut DbConnection,
    worker_id: &str,
) -> AppResult<Vec<CoveragePeriod>> {
    let rows: Vec<CoverageRow> = contributions::table
        .filter(contributions::worker_id.eq(worker_id))
        .filter(contributions::status.eq("recorded"))
        .order((contributions::coverage_start.asc(), contributions::id.asc()))
        .select(CoverageRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(CoveragePeriod::from).collect())
}

/// How many workers are enrolled in the fund.
pub fn count_in_fund(conn: &mut DbConnection, fund_id: FundId) -> AppResult<i64> {
    Ok(workers::table
        .filter(workers::fund_id.eq(fund_id))
        .count()
        .get_result(conn)?)
}

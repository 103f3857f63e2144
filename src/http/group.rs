//! Group commit for single contribution requests.
//!
//! A durable commit costs a disk flush (2–4 ms here), so one transaction per
//! request caps a database at a few hundred requests per second. Requests to
//! record one contribution are therefore handed to a committer thread, which
//! books every request waiting at that moment in one transaction and answers
//! each with its own outcome:
//!
//! * every check is made before anything is written (the `Recorder`'s
//!   prepare-then-commit), so a refused request adds only its audit record and
//!   never fails or delays its neighbours;
//! * rows are kept in memory and inserted with one multi-row INSERT per table;
//! * correctness stays in the database: the fund's row lock orders bookings on
//!   any number of processes, idempotency keys are unique in the database (a key
//!   repeated inside one group waits for the next group), and balances, the
//!   overdraft guard and the hash chain are checked and written in the
//!   transaction;
//! * if the group's transaction fails (a concurrent process stored one of the
//!   keys first, a lost connection), each request is booked again on its own, so
//!   one request's failure is never its neighbours'.
//!
//! The committer takes what is queued when it is free, so a lone request is
//! booked at once. Under load (the previous group held more than one request)
//! it also waits, at most 3 ms and only while requests keep arriving, for the
//! clients the previous group just answered: otherwise concurrent clients split
//! into two trains that alternate in half-size groups.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use diesel::connection::SimpleConnection;
use tokio::sync::oneshot;

use super::contributions::contribution_response;
use super::write::{audit_refusal, refusal_outcome};
use crate::audit::events::{self, NewEvent};
use crate::audit::{self, AuditRecord};
use crate::auth::Caller;
use crate::contributions::{self, NewContribution, Recorded};
use crate::db::{is_unique_violation, write_transaction, DbConnection, DbPool, PooledDb};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::{find_fund, Fund};
use crate::idempotency::{self, StoredResponse};

/// The most requests booked in one transaction.
pub const MAX_GROUP: usize = 512;

/// The longest a group waits for more requests, and the longest pause between
/// two arrivals it waits through (only when the previous group had company).
const GATHER: Duration = Duration::from_millis(3);
const GATHER_GAP: Duration = Duration::from_micros(500);

/// What a request ends with: the stored response and whether it is a replay.
pub type Outcome = AppResult<(StoredResponse, bool)>;

/// One request to record a contribution, checked and parsed by the handler.
pub struct Job {
    pub caller: Caller,
    pub fund_code: String,
    pub new: NewContribution,
    pub idempotency_key: Option<String>,
    /// Route and canonical body: a key reused for another request is refused.
    pub request_hash: String,
    pub request_id: String,
    pub action: &'static str,
    reply: Option<oneshot::Sender<Outcome>>,
}

impl Job {
    fn answer(&mut self, outcome: Outcome) {
        if let Some(reply) = self.reply.take() {
            // The client may have gone; the booking stands either way.
            let _ = reply.send(outcome);
        }
    }

    fn key(&self) -> Option<(String, String)> {
        self.idempotency_key
            .as_ref()
            .map(|k| (self.caller.principal().to_string(), k.clone()))
    }

    fn audit(&self, target: Option<String>, outcome: String, status: u16) -> AuditRecord {
        AuditRecord {
            action: self.action.to_string(),
            fund_code: Some(self.fund_code.clone()),
            target,
            request_id: self.request_id.clone(),
            outcome,
            status,
        }
    }
}

/// The handle requests are submitted through; one committer thread per process.
#[derive(Clone)]
pub struct Committer {
    queue: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the committer thread, which books with connections from `pool`.
    pub fn start(pool: DbPool) -> Committer {
        let (queue, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("mwf-group-commit".to_string())
            .spawn(move || run(pool, jobs))
            .expect("the group-commit thread starts");
        Committer { queue }
    }

    /// Queues a request and waits for its outcome.
    #[allow(clippy::too_many_arguments)]
    pub async fn submit(
        &self,
        caller: Caller,
        fund_code: String,
        new: NewContribution,
        idempotency_key: Option<String>,
        request_hash: String,
        request_id: String,
        action: &'static str,
    ) -> Outcome {
        let (reply, outcome) = oneshot::channel();
        let job = Job {
            caller,
            fund_code,
            new,
            idempotency_key,
            request_hash,
            request_id,
            action,
            reply: Some(reply),
        };
        self.queue
            .send(job)
            .map_err(|_| AppError::internal("the group-commit thread has stopped"))?;
        outcome
            .await
            .map_err(|_| AppError::internal("the group-commit thread dropped a request"))?
    }
}

/// The committer thread: takes what is queued, books it, answers, repeats.
fn run(pool: DbPool, jobs: mpsc::Receiver<Job>) {
    let mut connection = HeldConnection { pool, conn: None };
    let mut held: VecDeque<Job> = VecDeque::new();
    let mut previous = 0;
    loop {
        let first = match held.pop_front() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return, // every handle is gone: the server stopped
            },
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match held.pop_front().map(Ok).unwrap_or_else(|| jobs.try_recv()) {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // Under load, the clients answered by the previous group are about to
        // send again: gather them too (while they keep arriving, for at most
        // GATHER), or the requests split into two trains that alternate in half
        // groups. A lone request is never held.
        if previous > 1 {
            let deadline = Instant::now() + GATHER;
            while group.len() < MAX_GROUP {
                let wait = deadline
                    .saturating_duration_since(Instant::now())
                    .min(GATHER_GAP);
                match jobs.recv_timeout(wait) {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
        }
        previous = group.len();
        // A key twice in one group: the second waits for the first to commit,
        // then replays its response (or books, if the first was refused).
        let mut keys = HashSet::new();
        let mut now = Vec::with_capacity(group.len());
        for job in group {
            match job.key() {
                Some(key) if keys.contains(&key) => held.push_back(job),
                key => {
                    keys.extend(key);
                    now.push(job)
                }
            }
        }
        let booked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            book_or_split(&mut connection, &mut now)
        }));
        if booked.is_err() {
            connection.discard();
            log::error!("booking a group of contributions panicked; its requests fail");
            for job in &mut now {
                job.answer(Err(AppError::internal("booking panicked")));
            }
        }
    }
}

/// The committer's connection, kept from group to group so that SQLite's page
/// cache stays warm (a connection's cache is dropped whenever another connection
/// wrote since it last read), and given back after a failure.
struct HeldConnection {
    pool: DbPool,
    conn: Option<PooledDb>,
}

impl HeldConnection {
    fn get(&mut self) -> Result<&mut DbConnection, r2d2::Error> {
        if self.conn.is_none() {
            self.conn = Some(self.pool.get()?);
        }
        Ok(self.conn.as_mut().expect("just set"))
    }

    fn discard(&mut self) {
        self.conn = None;
    }
}

/// Books `jobs` in one transaction; if that fails, books each on its own.
fn book_or_split(held: &mut HeldConnection, jobs: &mut [Job]) {
    let conn = match held.get() {
        Ok(conn) => conn,
        Err(e) => {
            log::error!("database pool: {e}");
            for job in jobs.iter_mut() {
                job.answer(Err(AppError::new(
                    ErrorCode::ServiceUnavailable,
                    "the database is not reachable; retry later",
                )));
            }
            return;
        }
    };
    let started = Instant::now();
    match write_transaction(conn, |conn| book(conn, jobs)) {
        Ok(outcomes) => {
            log::debug!(
                "booked a group of {} contribution requests in {:.1} ms",
                jobs.len(),
                started.elapsed().as_secs_f64() * 1e3
            );
            for (job, outcome) in jobs.iter_mut().zip(outcomes) {
                job.answer(outcome);
            }
        }
        Err(failure) if jobs.len() > 1 => {
            log::warn!(
                "a group of {} contributions could not be booked together ({failure}); booking each on its own",
                jobs.len()
            );
            held.discard();
            for job in jobs.iter_mut() {
                book_or_split(held, std::slice::from_mut(job));
            }
        }
        Err(failure) => {
            let job = &mut jobs[0];
            let outcome = match (&failure, job.idempotency_key.clone()) {
                // Another process committed this key first: answer as it did.
                (Failure::Db(e), Some(key)) if is_unique_violation(e) => {
                    replay_after_race(conn, job, &key)
                }
                _ => Err(failure.into()),
            };
            job.answer(outcome);
            held.discard();
        }
    }
}

fn replay_after_race(conn: &mut DbConnection, job: &Job, key: &str) -> Outcome {
    let stored = idempotency::lookup(conn, job.caller.principal(), key)?
        .ok_or_else(|| AppError::internal("idempotency key vanished after a conflict"))?;
    replay(job, stored).map_err(|reused| {
        let record = |outcome, status| job.audit(None, outcome, status);
        audit_refusal(conn, &job.caller, record, reused)
    })
}

/// Why a group's transaction failed.
#[derive(Debug)]
enum Failure {
    Db(diesel::result::Error),
    App(AppError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Db(e) => write!(f, "database: {e}"),
            Failure::App(e) => write!(f, "{}: {}", e.code.as_str(), e.detail),
        }
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure::Db(e)
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::App(e)
    }
}

impl From<Failure> for AppError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Db(e) => e.into(),
            Failure::App(e) => e,
        }
    }
}

/// A stored response replayed for a repeated key; or the refusal of a key
/// reused for another request, or of a replay to a token that does not cover
/// the fund.
fn replay(job: &Job, stored: StoredResponse) -> Outcome {
    idempotency::replay(stored, &job.request_hash, &job.caller).map(|stored| (stored, true))
}

/// Books a group inside the caller's transaction and returns each job's outcome.
/// An `Err` spoils the whole group (the caller rolls back); a refusal is an
/// outcome like any other and is audited here.
fn book(conn: &mut DbConnection, jobs: &[Job]) -> Result<Vec<Outcome>, Failure> {
    let mut outcomes: Vec<Option<Outcome>> = jobs.iter().map(|_| None).collect();
    if let DbConnection::Postgresql(c) = conn {
        // diesel keeps prepared statements per connection, and after five runs
        // PostgreSQL may switch one to a generic plan made without the values:
        // planned while the table was small, the idempotency lookup (`actor = $1
        // AND key = ANY($2)`) then read every key of the actor, 2–12 ms a group
        // instead of 0.2 ms. Plan this transaction's statements for their values.
        c.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan")?;
    }

    let keyed: Vec<(&str, &str)> = jobs
        .iter()
        .filter_map(|j| {
            j.idempotency_key
                .as_deref()
                .map(|k| (j.caller.principal(), k))
        })
        .collect();
    let mut stored = if keyed.is_empty() {
        HashMap::new()
    } else {
        idempotency::lookup_all(conn, &keyed)?
    };
    for (job, outcome) in jobs.iter().zip(outcomes.iter_mut()) {
        if let Some(response) = job.key().and_then(|key| stored.remove(&key)) {
            *outcome = Some(replay(job, response));
        }
    }

    // Funds in ascending id order, so that processes booking groups that span
    // several funds take the fund locks in one order and never deadlock.
    let mut funds: BTreeMap<i64, (Fund, Vec<usize>)> = BTreeMap::new();
    let mut by_code: HashMap<&str, Option<i64>> = HashMap::new();
    for (i, job) in jobs.iter().enumerate() {
        if outcomes[i].is_some() {
            continue;
        }
        let code = job.fund_code.as_str();
        let fund_id = match by_code.get(code) {
            Some(id) => *id,
            None => {
                let fund = find_fund(conn, code)?;
                let id = fund.as_ref().map(|f| f.id);
                if let Some(fund) = fund {
                    funds.insert(fund.id, (fund, Vec::new()));
                }
                by_code.insert(code, id);
                id
            }
        };
        match fund_id {
            Some(id) if job.caller.may_access_fund(code) => funds.get_mut(&id).unwrap().1.push(i),
            _ => outcomes[i] = Some(Err(AppError::not_found(format!("no fund {code}")))),
        }
    }

    let mut audit_records = Vec::with_capacity(jobs.len());
    let mut new_events: Vec<NewEvent> = Vec::new();
    for (fund, members) in funds.values() {
        if members.is_empty() {
            continue;
        }
        let members_new = members.iter().map(|&i| &jobs[i].new);
        let mut recorder = contributions::begin_recording(conn, fund, members_new)?;
        for &i in members {
            let job = &jobs[i];
            let recorded = recorder.record(conn, fund, &job.new, &job.caller.subject, "")?;
            outcomes[i] = Some(
                match recorded {
                    Ok(Recorded::Created(c, event)) => {
                        new_events.push(event);
                        let target = format!("contribution {}", c.id);
                        stored_response(job, StatusCode::CREATED, contribution_response(c))
                            .map(|r| (r, target))
                    }
                    Ok(Recorded::Existing(c)) => {
                        let target = format!("contribution {} (existing)", c.id);
                        stored_response(job, StatusCode::OK, contribution_response(c))
                            .map(|r| (r, target))
                    }
                    Err(refusal) => Err(refusal),
                }
                .map(|(response, target)| {
                    audit_records.push((
                        i,
                        job.audit(Some(target), "succeeded".into(), response.status),
                    ));
                    (response, false)
                }),
            );
        }
        recorder.finish(conn)?;
    }

    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .map(|o| o.expect("every job has an outcome"))
        .collect();
    for (i, (job, outcome)) in jobs.iter().zip(&outcomes).enumerate() {
        if let Err(refusal) = outcome {
            let (outcome, status) = refusal_outcome(refusal);
            let record = job.audit(None, outcome, status);
            audit_records.push((i, record));
        }
    }
    audit_records.sort_by_key(|(i, _)| *i);
    let records: Vec<(&Caller, &AuditRecord)> = audit_records
        .iter()
        .map(|(i, record)| (&jobs[*i].caller, record))
        .collect();
    audit::record_all(conn, &records)?;
    events::append(conn, &new_events)?;
    let to_store: Vec<(&str, &str, &StoredResponse)> = jobs
        .iter()
        .zip(&outcomes)
        .filter_map(|(job, outcome)| match (outcome, &job.idempotency_key) {
            (Ok((response, false)), Some(key)) => {
                Some((job.caller.principal(), key.as_str(), response))
            }
            _ => None,
        })
        .collect();
    if !to_store.is_empty() {
        idempotency::store_all(conn, &to_store)?;
    }
    Ok(outcomes)
}

fn stored_response<R: serde::Serialize>(
    job: &Job,
    status: StatusCode,
    body: R,
) -> AppResult<StoredResponse> {
    Ok(StoredResponse {
        request_hash: job.request_hash.clone(),
        status: status.as_u16(),
        body: serde_json::to_string(&body)?,
        fund_code: Some(job.fund_code.clone()),
    })
}

//! Group commit for single contribution requests and claim submissions.
//!
//! A durable commit costs a disk flush (2–4 ms here), so one transaction per
//! request caps a database at a few hundred requests per second. Requests of a
//! [`Kind`] (a contribution to record: [`Contributions`]; a claim to submit:
//! `http::claims::ClaimSubmissions`) are therefore handed to that kind's
//! committer thread, which books every request waiting at that moment in one
//! transaction and answers each with its own outcome. The queue, the gathering,
//! the replays, the traces and the fallback below are the same for every kind;
//! a kind only books its jobs:
//!
//! * every check that can refuse a request is made before the request writes
//!   anything (`contributions::record_many`'s prepare-then-commit;
//!   `claims::check_submission` before `Submission::write`), so a refused
//!   request adds only its audit record and never fails or delays its
//!   neighbours;
//! * contributions keep their rows in memory and insert them with one
//!   multi-row INSERT per table; claim submissions are assessed and written one
//!   after the other, each seeing the claims written before it in the group;
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

use diesel::connection::SimpleConnection;
use tokio::sync::oneshot;

use super::contributions::recorded_done;
use crate::contributions::{self, NewContribution};
use crate::db::{write_transaction, DbConnection, DbPool, PooledDb};
use crate::envelope::{self, Envelope, Sealed};
use crate::error::{AppError, AppResult};
use crate::funds::{find_fund, Fund, FundId};
use crate::idempotency::StoredResponse;

/// The most requests booked in one transaction.
pub const MAX_GROUP: usize = 512;

/// The longest a group waits for more requests, and the longest pause between
/// two arrivals it waits through (only when the previous group had company).
const GATHER: Duration = Duration::from_millis(3);
const GATHER_GAP: Duration = Duration::from_micros(500);

/// What a request ends with: the stored response and whether it is a replay.
pub type Outcome = AppResult<(StoredResponse, bool)>;

/// One kind of request a committer books in groups.
pub trait Kind: 'static {
    /// What the handler checked and hands over with the envelope.
    type Change: Send + 'static;
    /// How the log names a request of this kind.
    const NAME: &'static str;

    /// Books `jobs` (those not answered by a stored response, in the order they
    /// arrived) inside the group's transaction, and answers each with the
    /// traces of its success (its envelope's [`Envelope::succeeded`]) or with
    /// its refusal, which must have been decided before the job wrote anything.
    /// An `Err` spoils the whole group: it is rolled back and each job is booked
    /// again on its own.
    fn book(
        conn: &mut DbConnection,
        jobs: &[&Job<Self::Change>],
    ) -> AppResult<Vec<AppResult<Sealed>>>;
}

/// One request: the envelope the handler made (caller, fund of the path, key)
/// and the change it checked.
pub struct Job<C> {
    pub envelope: Envelope,
    pub change: C,
    reply: Option<oneshot::Sender<Outcome>>,
}

impl<C> Job<C> {
    fn answer(&mut self, outcome: Outcome) {
        if let Some(reply) = self.reply.take() {
            // The client may have gone; the booking stands either way.
            let _ = reply.send(outcome);
        }
    }

    fn key(&self) -> Option<(String, String)> {
        let keyed = self.envelope.keyed.as_ref()?;
        Some((
            self.envelope.caller.principal().to_string(),
            keyed.key.clone(),
        ))
    }
}

/// The handle requests of kind `K` are submitted through; one committer thread
/// per kind and process.
pub struct Committer<K: Kind> {
    queue: mpsc::Sender<Job<K::Change>>,
}

impl<K: Kind> Clone for Committer<K> {
    fn clone(&self) -> Self {
        Committer {
            queue: self.queue.clone(),
        }
    }
}

impl<K: Kind> Committer<K> {
    /// Starts the committer thread `name`, which books with connections from
    /// `pool` (and keeps one between groups).
    pub fn start(pool: DbPool, name: &str) -> Committer<K> {
        let (queue, jobs) = mpsc::channel::<Job<K::Change>>();
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || run::<K>(pool, jobs))
            .expect("the group-commit thread starts");
        Committer { queue }
    }

    /// Queues a request and waits for its outcome.
    pub async fn submit(&self, envelope: Envelope, change: K::Change) -> Outcome {
        let (reply, outcome) = oneshot::channel();
        let job = Job {
            envelope,
            change,
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
fn run<K: Kind>(pool: DbPool, jobs: mpsc::Receiver<Job<K::Change>>) {
    let mut connection = HeldConnection { pool, conn: None };
    let mut held: VecDeque<Job<K::Change>> = VecDeque::new();
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
            book_or_split::<K>(&mut connection, &mut now)
        }));
        if booked.is_err() {
            connection.discard();
            log::error!(
                "booking a group of {} requests panicked; its requests fail",
                K::NAME
            );
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
fn book_or_split<K: Kind>(held: &mut HeldConnection, jobs: &mut [Job<K::Change>]) {
    let conn = match held.get() {
        Ok(conn) => conn,
        Err(e) => {
            // Each answer is logged where its response is made.
            for job in jobs.iter_mut() {
                job.answer(Err(AppError::unavailable(format_args!(
                    "database pool: {e}"
                ))));
            }
            return;
        }
    };
    let started = Instant::now();
    match write_transaction(conn, |conn| book::<K>(conn, jobs)) {
        Ok(outcomes) => {
            log::debug!(
                "booked a group of {} {} requests in {:.1} ms",
                jobs.len(),
                K::NAME,
                started.elapsed().as_secs_f64() * 1e3
            );
            for (job, outcome) in jobs.iter_mut().zip(outcomes) {
                job.answer(outcome);
            }
        }
        Err(failure) if jobs.len() > 1 => {
            log::warn!(
                "a group of {} {} requests could not be booked together ({failure}); booking each on its own",
                jobs.len(),
                K::NAME
            );
            held.discard();
            for job in jobs.iter_mut() {
                book_or_split::<K>(held, std::slice::from_mut(job));
            }
        }
        Err(failure) => {
            // Another process may have committed this key first: answer as it
            // did. Else the failure (or a refusal made after the job wrote,
            // rolled back with it) is the job's answer.
            let job = &mut jobs[0];
            let envelope = &job.envelope;
            let outcome = envelope
                .replay_after_race(conn, failure)
                .map(|stored| (stored, true))
                .map_err(|e| envelope.record_refusal(conn, e));
            job.answer(outcome);
            held.discard();
        }
    }
}

/// Books a group inside the caller's transaction and returns each job's outcome:
/// replays first, then the kind's booking, then every job's traces with one
/// multi-row INSERT per table. An `Err` spoils the whole group (the caller rolls
/// back); a refusal is an outcome like any other and is audited here.
fn book<K: Kind>(conn: &mut DbConnection, jobs: &[Job<K::Change>]) -> AppResult<Vec<Outcome>> {
    plan_for_values(conn)?;
    let replayed = replays(conn, jobs)?;
    let pending: Vec<&Job<K::Change>> = (jobs.iter().zip(&replayed))
        .filter(|(_, replay)| replay.is_none())
        .map(|(job, _)| job)
        .collect();
    let booked = K::book(conn, &pending)?;
    if booked.len() != pending.len() {
        return Err(AppError::internal(format_args!(
            "{} jobs booked, {} answered",
            pending.len(),
            booked.len()
        )));
    }
    let mut booked = booked.into_iter();
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut traces = Vec::with_capacity(jobs.len());
    for (job, replay) in jobs.iter().zip(replayed) {
        let outcome = match replay {
            Some(outcome) => outcome,
            None => match booked.next().expect("counted above") {
                Ok(sealed) => {
                    let response = sealed.response.clone().expect("a success has a response");
                    traces.push((&job.envelope, sealed));
                    Ok((response, false))
                }
                Err(AppError::Refused(refusal)) => Err(AppError::Refused(refusal)),
                // A failure is never one job's: it spoils the group.
                Err(failure) => return Err(failure),
            },
        };
        if let Err(AppError::Refused(refusal)) = &outcome {
            traces.push((&job.envelope, job.envelope.refused(refusal)));
        }
        outcomes.push(outcome);
    }
    envelope::write_all(conn, traces)?;
    Ok(outcomes)
}

/// Plans this transaction's statements for their values, on PostgreSQL.
///
/// diesel keeps prepared statements per connection, and after five runs
/// PostgreSQL may switch one to a generic plan made without the values:
/// planned while the table was small, the idempotency lookup (`actor = $1 AND
/// key = ANY($2)`) then read every key of the actor, 2–12 ms a group instead of
/// 0.2 ms.
fn plan_for_values(conn: &mut DbConnection) -> AppResult<()> {
    if let DbConnection::Postgresql(c) = conn {
        c.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan")?;
    }
    Ok(())
}

/// The outcome of every job whose key has a stored response: its replay (or
/// the refusal of a key reused for another request or another fund).
fn replays<C>(conn: &mut DbConnection, jobs: &[Job<C>]) -> AppResult<Vec<Option<Outcome>>> {
    let keyed: Vec<(&str, &str)> = (jobs.iter())
        .filter_map(|j| {
            let keyed = j.envelope.keyed.as_ref()?;
            Some((j.envelope.caller.principal(), keyed.key.as_str()))
        })
        .collect();
    let mut stored = match keyed.is_empty() {
        true => HashMap::new(),
        false => crate::idempotency::lookup_all(conn, &keyed)?,
    };
    Ok(jobs
        .iter()
        .map(|job| {
            let response = job.key().and_then(|key| stored.remove(&key))?;
            Some(job.envelope.replay(response).map(|r| (r, true)))
        })
        .collect())
}

/// Requests to record one contribution (`POST /v1/funds/{fund}/contributions`),
/// booked with `contributions::record_many` per fund, funds in ascending id
/// order.
pub struct Contributions;

impl Kind for Contributions {
    type Change = NewContribution;
    const NAME: &'static str = "contribution";

    fn book(
        conn: &mut DbConnection,
        jobs: &[&Job<NewContribution>],
    ) -> AppResult<Vec<AppResult<Sealed>>> {
        let mut results: Vec<Option<AppResult<Sealed>>> = jobs.iter().map(|_| None).collect();
        for (fund, members) in funds_in_lock_order(conn, jobs, &mut results)?.values() {
            let items: Vec<(&NewContribution, &str)> = (members.iter())
                .map(|&i| (&jobs[i].change, jobs[i].envelope.caller.subject.as_str()))
                .collect();
            let recorded = contributions::record_many(conn, fund, &items)?;
            for (&i, result) in members.iter().zip(recorded) {
                results[i] = Some(match result {
                    Ok(recorded) => Ok(jobs[i].envelope.succeeded(recorded_done(recorded))?),
                    Err(refusal) => Err(refusal.into()),
                });
            }
        }
        Ok((results.into_iter())
            .map(|r| r.expect("every job has a result"))
            .collect())
    }
}

/// The funds of the contributions to book, in ascending id order (so
/// processes booking groups that span several funds lock them in one order and
/// never deadlock), each with its jobs. A job whose fund does not exist or is
/// outside its token gets its refusal.
fn funds_in_lock_order(
    conn: &mut DbConnection,
    jobs: &[&Job<NewContribution>],
    results: &mut [Option<AppResult<Sealed>>],
) -> AppResult<BTreeMap<FundId, (Fund, Vec<usize>)>> {
    let mut funds: BTreeMap<FundId, (Fund, Vec<usize>)> = BTreeMap::new();
    let mut by_code: HashMap<&str, Option<FundId>> = HashMap::new();
    for (i, job) in jobs.iter().enumerate() {
        let code = job.envelope.fund_code.as_deref().unwrap_or_default();
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
            Some(id) if job.envelope.caller.may_access_fund(code) => {
                funds.get_mut(&id).expect("inserted above").1.push(i)
            }
            _ => results[i] = Some(Err(AppError::not_found(format!("no fund {code}")))),
        }
    }
    funds.retain(|_, (_, members)| !members.is_empty());
    Ok(funds)
}

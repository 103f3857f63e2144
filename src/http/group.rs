//! Group commit for single contribution requests.
//!
//! A durable commit costs a disk flush (2–4 ms here), so one transaction per
//! request caps a database at a few hundred requests per second. Requests to
//! record one contribution are therefore handed to a committer thread, which
//! books every request waiting at that moment in one transaction and answers
//! each with its own outcome:
//!
//! * every check is made before anything is written (`contributions::record_many`'s
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

/// One request to record a contribution: the envelope the handler made
/// (caller, fund of the path, key) and the contribution it checked.
struct Job {
    envelope: Envelope,
    new: NewContribution,
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
        let keyed = self.envelope.keyed.as_ref()?;
        Some((
            self.envelope.caller.principal().to_string(),
            keyed.key.clone(),
        ))
    }

    fn fund_code(&self) -> &str {
        self.envelope.fund_code.as_deref().unwrap_or_default()
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

    /// Queues a request (its envelope names the fund) and waits for its outcome.
    pub async fn submit(&self, envelope: Envelope, new: NewContribution) -> Outcome {
        debug_assert!(
            envelope.fund_code.is_some(),
            "a grouped request names its fund"
        );
        let (reply, outcome) = oneshot::channel();
        let job = Job {
            envelope,
            new,
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
            // Another process may have committed this key first: answer as it did.
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

/// Books a group inside the caller's transaction and returns each job's outcome.
/// An `Err` spoils the whole group (the caller rolls back); a refusal is an
/// outcome like any other and is audited here.
fn book(conn: &mut DbConnection, jobs: &[Job]) -> AppResult<Vec<Outcome>> {
    plan_for_values(conn)?;
    let mut outcomes = replays(conn, jobs)?;
    let mut sealed: Vec<Option<Sealed>> = jobs.iter().map(|_| None).collect();
    for (fund, members) in funds_in_lock_order(conn, jobs, &mut outcomes)?.values() {
        let items: Vec<(&NewContribution, &str)> = (members.iter())
            .map(|&i| (&jobs[i].new, jobs[i].envelope.caller.subject.as_str()))
            .collect();
        let recorded = contributions::record_many(conn, fund, &items)?;
        for (&i, result) in members.iter().zip(recorded) {
            outcomes[i] = Some(match result {
                Ok(recorded) => {
                    let success = jobs[i].envelope.succeeded(recorded_done(recorded))?;
                    let response = success.response.clone().expect("a success has a response");
                    sealed[i] = Some(success);
                    Ok((response, false))
                }
                Err(refusal) => Err(refusal.into()),
            });
        }
    }
    let outcomes: Vec<Outcome> = (outcomes.into_iter())
        .map(|o| o.expect("every job has an outcome"))
        .collect();
    let mut traces = Vec::with_capacity(jobs.len());
    for ((job, outcome), sealed) in jobs.iter().zip(&outcomes).zip(sealed) {
        let refused = match outcome {
            Err(AppError::Refused(refusal)) => Some(job.envelope.refused(refusal)),
            _ => None,
        };
        traces.extend(sealed.or(refused).map(|s| (&job.envelope, s)));
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
fn replays(conn: &mut DbConnection, jobs: &[Job]) -> AppResult<Vec<Option<Outcome>>> {
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

/// The funds of the jobs still to book, in ascending id order (so processes
/// booking groups that span several funds lock them in one order and never
/// deadlock), each with its jobs. A job whose fund does not exist or is
/// outside its token gets its refusal.
fn funds_in_lock_order(
    conn: &mut DbConnection,
    jobs: &[Job],
    outcomes: &mut [Option<Outcome>],
) -> AppResult<BTreeMap<FundId, (Fund, Vec<usize>)>> {
    let mut funds: BTreeMap<FundId, (Fund, Vec<usize>)> = BTreeMap::new();
    let mut by_code: HashMap<&str, Option<FundId>> = HashMap::new();
    for (i, job) in jobs.iter().enumerate() {
        if outcomes[i].is_some() {
            continue;
        }
        let code = job.fund_code();
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
            _ => outcomes[i] = Some(Err(AppError::not_found(format!("no fund {code}")))),
        }
    }
    funds.retain(|_, (_, members)| !members.is_empty());
    Ok(funds)
}

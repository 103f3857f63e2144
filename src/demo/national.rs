//! A national-size fund on demand (`mwf demo --fund CODE --workers N --years Y`):
//! one example fund with N workers and their last Y years of contracts and
//! contributions, booked through the same functions as the demo and the batch
//! endpoints (enrollment as `POST /v1/funds/{fund}/workers/batch`, contributions
//! through `contributions::record_many` as `POST /v1/funds/{fund}/contributions/batch`,
//! later contracts and contract events as their single requests), with the
//! same audit records and events.
//!
//! Workers are planned and written a group at a time, so memory stays flat
//! however many are asked for; within a group contributions are booked worker
//! by worker, each worker's in payment-date order (so a worker's membership
//! summary is brought up to date by one batch, not by every batch of the
//! group). No claims, reversals or refunds: this is the bulk of a
//! fund's history, for measuring what grows with it. Deterministic from the
//! seed (only ids and timestamps follow the clock).

use std::time::{Duration, Instant};

use fastrand::Rng;

use super::history::Shape;
use super::plan::{plan_worker, years_before, WorkerPlan};
use super::record::Trail;
use super::{load_funds, people, record, summarize, Actors, Calendar, FundReport};
use crate::db::{DbConnection, SqliteCache};
use crate::error::{AppError, AppResult};
use crate::funds::{self, Fund};
use crate::progress::Progress;
use crate::rules;

/// Workers planned and written together: enrollment in batches of
/// [`record::BATCH_ITEMS`], a transaction each; one transaction for their
/// later contracts, one for their contributions (about 106,000 on the
/// Philippine fund: eleven batches of at most [`record::BATCH_ITEMS`], each
/// with its audit record), one for their contract events.
///
/// Each transaction's contributions span the fund's ten years, so they land
/// on a few thousand pages of each index kept in date order whatever their
/// number, and every page a transaction touches is written twice on SQLite
/// (to the write-ahead log, then into the file): at 250,000 workers,
/// transactions of 10,000 contributions (groups of 5,000 workers) wrote 26.5
/// GB for a 3.6 GB file, one transaction per 20,000 workers 10.6 GB.
pub const GROUP_WORKERS: usize = 20_000;
/// What the load's SQLite connection keeps in memory: SQLite's default page
/// cache, and its temporary files, the statement journals above all, in
/// memory. Each multi-row INSERT in a group's transaction keeps a statement
/// journal (the pages it changes, as they were, so the statement alone can
/// be undone), and past 64 KiB SQLite writes it to a temporary file: at
/// 100,000 workers that was about 6 s of 76 s of CPU, most of it system time.
/// A larger page cache (256 MiB, 1 GiB) did fewer reads but no less CPU,
/// and took longer; mapping the file changed nothing measurable.
const LOAD_SETTINGS: SqliteCache = SqliteCache {
    cache_size: -2_000,
    mmap_size: 0,
    temp_store: 2,
};
/// The most workers `mwf demo --fund` makes.
pub const MAX_WORKERS: usize = 10_000_000;
/// The seed when none is given.
pub const DEFAULT_SEED: u64 = 0x6e61_7469_6f6e_616c;

/// What `mwf demo --fund CODE` is asked to make.
#[derive(Debug, Clone)]
pub struct NationalOptions {
    /// One of the example funds (`demo/funds/`).
    pub fund: String,
    pub workers: usize,
    /// Years of history up to the demo's today.
    pub years: u32,
    pub seed: u64,
}

/// What a national-size run made, and how fast.
#[derive(Debug, Clone)]
pub struct NationalReport {
    pub fund: FundReport,
    /// Contributions booked by this run.
    pub contributions: u64,
    pub elapsed: Duration,
    /// Contributions per second over the first and the last tenth of the
    /// workers (the same when there is one group).
    pub first_rate: f64,
    pub last_rate: f64,
    /// Time spent on each kind of write, in [`PHASES`] order.
    pub phases: [Duration; 4],
}

/// The kinds of write a group of workers takes, in order.
pub const PHASES: [&str; 4] = [
    "enrollment",
    "later contracts",
    "contributions",
    "contract events",
];

impl std::fmt::Display for NationalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        write!(
            f,
            "{}\nloaded in {:.1} s: {:.0} workers/s, {:.0} contributions/s \
             ({:.0}/s over the first tenth of the workers, {:.0}/s over the last)",
            self.fund,
            secs,
            self.fund.workers as f64 / secs.max(1e-9),
            self.contributions as f64 / secs.max(1e-9),
            self.first_rate,
            self.last_rate
        )?;
        let parts: Vec<String> = PHASES
            .iter()
            .zip(self.phases)
            .map(|(name, d)| format!("{name} {:.1} s", d.as_secs_f64()))
            .collect();
        write!(f, "\ntime by kind of write: {}", parts.join(", "))
    }
}

/// Builds one fund of `options.workers` workers. The example funds and their
/// rules are loaded first, as by `mwf demo`; the named fund must hold no workers
/// yet (a national dataset is built once, into an empty fund).
pub fn run(
    conn: &mut DbConnection,
    options: &NationalOptions,
    progress: &mut Progress,
) -> Result<NationalReport, String> {
    let code = options.fund.as_str();
    let origin = people::origin(code).ok_or_else(|| {
        let codes: Vec<&str> = super::FUND_FILES.iter().map(|(c, _)| *c).collect();
        format!("--fund {code}: not an example fund ({})", codes.join(", "))
    })?;
    if options.workers == 0 || options.workers > MAX_WORKERS {
        return Err(format!(
            "--workers {}: from 1 to {MAX_WORKERS} with --fund",
            options.workers
        ));
    }
    if !(1..=50).contains(&options.years) {
        return Err(format!("--years {}: from 1 to 50", options.years));
    }
    let today = crate::time::today();
    if today < Calendar::DEMO.today {
        return Err(format!(
            "the clock says {today}, before the demo's history ends ({})",
            Calendar::DEMO.today
        ));
    }
    load_funds(conn)?;
    let failed = |e: AppError| format!("{code}: {}", e.explain());
    let fund = funds::find_fund(conn, code)
        .map_err(failed)?
        .expect("load_funds created it");
    if crate::workers::count_in_fund(conn, fund.id).map_err(failed)? > 0 {
        return Err(format!(
            "{code} already holds workers: a national-size fund is built into an empty one \
             (use a fresh database)"
        ));
    }
    let calendar = Calendar {
        history_start: years_before(Calendar::DEMO.today, options.years),
        today: Calendar::DEMO.today,
    };
    let started = Instant::now();
    let booked = crate::db::with_sqlite_cache(conn, LOAD_SETTINGS, |conn| {
        generate(conn, &fund, origin, &calendar, options, progress)
    })
    .map_err(failed)?;
    let elapsed = started.elapsed();
    let report = summarize(conn, code).map_err(failed)?;
    Ok(NationalReport {
        fund: FundReport {
            generated: true,
            ..report
        },
        contributions: booked.contributions,
        elapsed,
        first_rate: booked.first_rate,
        last_rate: booked.last_rate,
        phases: booked.phases,
    })
}

/// On PostgreSQL, has the server gather fresh table statistics (`ANALYZE`,
/// a sample of each table) after each group. The planner otherwise plans the
/// load's reads from the statistics of the empty tables until autovacuum
/// gathers them, and where autovacuum is off (as on this project's test
/// machine) never: a 38,000-worker load slowed from 872 to 326
/// contributions/s over its run. SQLite's planner needs no statistics for
/// these reads.
fn refresh_statistics(conn: &mut DbConnection) -> AppResult<()> {
    if let DbConnection::Postgresql(c) = conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute("ANALYZE")?;
    }
    Ok(())
}

struct Booked {
    contributions: u64,
    first_rate: f64,
    last_rate: f64,
    phases: [Duration; 4],
}

fn generate(
    conn: &mut DbConnection,
    fund: &Fund,
    origin: &people::Origin,
    calendar: &Calendar,
    options: &NationalOptions,
    progress: &mut Progress,
) -> AppResult<Booked> {
    let versions = rules::version_table(conn, fund.id)?;
    let actors = Actors::new();
    let mut rng = Rng::with_seed(options.seed);
    let total = options.workers;
    let tenth = total.div_ceil(10);
    progress.stage(
        format!("{}: workers with their history", fund.code),
        Some(total as u64),
    );
    let mut quiet = Progress::hidden();
    let mut contributions = 0u64;
    // (workers done, contributions done, time) at each group's end.
    let mut marks: Vec<(usize, u64, Instant)> = vec![(0, 0, Instant::now())];
    let mut phases = [Duration::ZERO; 4];
    let mut next = 0;
    while next < total {
        let end = (next + GROUP_WORKERS).min(total);
        let plans: Vec<WorkerPlan> = (next..end)
            .map(|i| {
                plan_worker(
                    &mut rng,
                    &Shape::NATIONAL,
                    origin,
                    &versions,
                    fund.currency,
                    calendar,
                    i,
                )
            })
            .collect();
        let payments: usize = plans.iter().map(|p| p.payments.len()).sum();
        let mut clock = Instant::now();
        let mut lap = |phase: usize| {
            let now = Instant::now();
            phases[phase] += now - clock;
            clock = now;
        };
        let mut enrolled = record::enroll(conn, fund, &actors, plans, &mut quiet)?;
        lap(0);
        record::add_later_contracts(conn, fund, &actors, &mut enrolled, Trail::PerGroup)?;
        lap(1);
        record::record_contributions(
            conn,
            fund,
            &actors,
            &mut enrolled,
            record::Order::Worker,
            usize::MAX,
            &mut quiet,
        )?;
        lap(2);
        record::record_contract_events(conn, fund, &actors, &enrolled, Trail::PerGroup)?;
        lap(3);
        refresh_statistics(conn)?;
        contributions += payments as u64;
        progress.add((end - next) as u64);
        next = end;
        marks.push((next, contributions, Instant::now()));
    }
    progress.finish();
    let rate = |from: &(usize, u64, Instant), to: &(usize, u64, Instant)| {
        let secs = to.2.duration_since(from.2).as_secs_f64().max(1e-9);
        (to.1 - from.1) as f64 / secs
    };
    // The first group ending at or after a tenth, and the last starting at or before nine tenths.
    let first_end = marks.iter().position(|m| m.0 >= tenth).unwrap_or(1);
    let last_start = marks
        .iter()
        .rposition(|m| m.0 <= total - tenth)
        .unwrap_or(0)
        .min(marks.len() - 2);
    Ok(Booked {
        contributions,
        first_rate: rate(&marks[0], &marks[first_end]),
        last_rate: rate(&marks[last_start], &marks[marks.len() - 1]),
        phases,
    })
}

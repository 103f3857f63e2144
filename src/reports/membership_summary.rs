//! The membership summary: what the membership statistics read instead of
//! every contribution and worker (issue 16). Kept in the same transaction as
//! the records it summarises, by [`refresh_workers`], which every change to a
//! worker's recorded contributions, coverage or contracts calls; checked
//! against the records by [`verify_membership_summary`] (`mwf verify`).
//!
//! * `coverage_segments`: per worker, the days they count as active (the
//!   merged spans of [`active_spans`], grace included) cut where a contract
//!   starts, each piece with the worker's sex, the destination of the latest
//!   contract started by its first day, and the worker's sector. Within a
//!   piece these attributes do not change, so the worker counts in one group
//!   on each of its days exactly as the statistics computed from the records.
//! * `membership_counts`: `active` +1 on a segment's first day and −1 the day
//!   after its last, by (sex, destination, sector); `ever` +1 on the worker's
//!   first day of coverage. Each change is stored under its month (first day)
//!   and under its day, so "as of D" adds the months before D's month and the
//!   days of D's month up to D: a bounded number of rows whatever the history.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::{
    contracts, contributions, coverage_segments, funds, membership_counts, summary_backfills,
    workers,
};
use crate::db::{DbConnection, INSERT_CHUNK};
use crate::error::AppResult;
use crate::funds::FundId;
use crate::ledger::VerificationProblem;
use crate::rules::evaluate::{active_spans, Period};

/// Workers read or refreshed per query.
const CHUNK: usize = 1_000;
/// Problems [`verify_membership_summary`] reports at most.
const MAX_PROBLEMS: usize = 100;
/// The name of this summary's row in `summary_backfills`.
const BACKFILL: &str = "membership";

/// Counter names.
pub const ACTIVE: &str = "active";
pub const EVER: &str = "ever";
const MONTH: &str = "month";
const DAY: &str = "day";

/// Days a worker is active with constant attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub start: NaiveDate,
    pub until: NaiveDate,
    pub sex: String,
    pub destination: Option<String>,
    pub sector: Option<String>,
}

/// A contract as the summary sees it: when it starts (ties broken by id, as
/// the statistics do) and where to.
#[derive(Debug, Clone)]
pub struct ContractStart {
    pub start: NaiveDate,
    pub id: String,
    pub destination: String,
}

/// The segments of a worker with these coverage periods, contracts, sex and
/// sector, in date order.
pub fn segments_of(
    periods: &[Period],
    contracts: &[ContractStart],
    sex: &str,
    sector: Option<&str>,
) -> Vec<Segment> {
    let mut contracts: Vec<&ContractStart> = contracts.iter().collect();
    contracts.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    // The destination on `day`: the latest contract started by then.
    let destination_on = |day: NaiveDate| {
        contracts
            .iter()
            .rev()
            .find(|c| c.start <= day)
            .map(|c| c.destination.clone())
    };
    let mut segments: Vec<Segment> = Vec::new();
    for span in active_spans(periods) {
        let mut starts = vec![span.start];
        starts.extend(
            contracts
                .iter()
                .map(|c| c.start)
                .filter(|d| span.start < *d && *d <= span.until),
        );
        starts.dedup();
        let first_of_span = segments.len();
        for (i, start) in starts.iter().enumerate() {
            let until = match starts.get(i + 1) {
                Some(next) => next.pred_opt().expect("a later day has a previous one"),
                None => span.until,
            };
            let destination = destination_on(*start);
            let same_place = segments.len() > first_of_span
                && segments.last().map(|l| &l.destination) == Some(&destination);
            match segments.last_mut() {
                // The next contract goes to the same place: one segment.
                Some(last) if same_place => last.until = until,
                _ => segments.push(Segment {
                    start: *start,
                    until,
                    sex: sex.to_string(),
                    destination,
                    sector: sector.map(str::to_string),
                }),
            }
        }
    }
    segments
}

/// A counter row's key: counter, granularity, day, sex, destination, sector
/// ('' for none).
pub type CountKey = (
    &'static str,
    &'static str,
    NaiveDate,
    String,
    String,
    String,
);

/// Counter changes gathered over many workers, by interned key (a worker's
/// segments give four changes each: comparing and allocating three texts for
/// each was a tenth of a bulk load's time).
struct Changes {
    interner: Interner,
    deltas: HashMap<InternedKey, i64>,
}

impl Changes {
    fn new() -> Changes {
        Changes {
            interner: Interner::new(),
            deltas: HashMap::new(),
        }
    }

    /// Adds `sign` × the counter changes of one worker's `segments`.
    fn add(&mut self, segments: &[Segment], sign: i64) {
        let (interner, deltas) = (&mut self.interner, &mut self.deltas);
        each_count(segments, sign, |counter, granularity, at, keys, delta| {
            *deltas
                .entry(interner.key(counter, granularity, at, keys))
                .or_default() += delta;
        });
    }

    /// The changes that are not zero, by their texts, in key order.
    fn by_text(&self) -> BTreeMap<CountKey, i64> {
        // `each_count` names only these, numbered first by the interner.
        let name = |id: u32| [ACTIVE, EVER, MONTH, DAY][id as usize];
        self.deltas
            .iter()
            .filter(|(_, delta)| **delta != 0)
            .map(|(key, delta)| {
                let (_, _, day, sex, destination, sector) = self.interner.texts(key);
                (
                    (name(key.0), name(key.1), day, sex, destination, sector),
                    *delta,
                )
            })
            .collect()
    }
}

/// Calls `f` with each counter change of one worker's `segments` times
/// `sign`: counter, granularity, day, (sex, destination, sector), delta.
fn each_count(
    segments: &[Segment],
    sign: i64,
    mut f: impl FnMut(&'static str, &'static str, NaiveDate, [&str; 3], i64),
) {
    let mut add = |counter: &'static str, day: NaiveDate, keys: [&str; 3], delta: i64| {
        let month = day.with_day(1).expect("every month has a first day");
        for (granularity, at) in [(MONTH, month), (DAY, day)] {
            f(counter, granularity, at, keys, delta);
        }
    };
    for s in segments {
        let keys = [
            s.sex.as_str(),
            s.destination.as_deref().unwrap_or(""),
            s.sector.as_deref().unwrap_or(""),
        ];
        add(ACTIVE, s.start, keys, sign);
        if let Some(after) = s.until.succ_opt() {
            add(ACTIVE, after, keys, -sign);
        }
    }
    if let Some(first) = segments.first() {
        add(EVER, first.start, ["", "", ""], sign);
    }
}

/// A counter's key with each text replaced by its number in an [`Interner`]:
/// verification adds millions of counter changes, each a hash of six small
/// numbers instead of three new strings and a comparison of six.
type InternedKey = (u32, u32, NaiveDate, u32, u32, u32);

/// Numbers the few distinct texts of the counters' keys (counters,
/// granularities, sexes, destinations, sectors). The counters' and
/// granularities' own names are numbered first, and the last (sex,
/// destination, sector) looked up is remembered: a segment's four counter
/// changes share it.
struct Interner {
    ids: HashMap<String, u32>,
    texts: Vec<String>,
    last: Option<([String; 3], [u32; 3])>,
}

impl Interner {
    fn new() -> Interner {
        let mut interner = Interner {
            ids: HashMap::new(),
            texts: Vec::new(),
            last: None,
        };
        for name in [ACTIVE, EVER, MONTH, DAY] {
            interner.id(name);
        }
        interner
    }

    fn id(&mut self, text: &str) -> u32 {
        if let Some(id) = self.ids.get(text) {
            return *id;
        }
        let id = self.texts.len() as u32;
        self.ids.insert(text.to_string(), id);
        self.texts.push(text.to_string());
        id
    }

    /// The number of a counter's or a granularity's name.
    fn name(&mut self, name: &str) -> u32 {
        match name {
            ACTIVE => 0,
            EVER => 1,
            MONTH => 2,
            DAY => 3,
            _ => self.id(name),
        }
    }

    fn key(
        &mut self,
        counter: &str,
        granularity: &str,
        day: NaiveDate,
        keys: [&str; 3],
    ) -> InternedKey {
        let ids = match &self.last {
            Some((texts, ids))
                if texts[0] == keys[0] && texts[1] == keys[1] && texts[2] == keys[2] =>
            {
                *ids
            }
            _ => {
                let ids = [self.id(keys[0]), self.id(keys[1]), self.id(keys[2])];
                self.last = Some((keys.map(str::to_string), ids));
                ids
            }
        };
        (
            self.name(counter),
            self.name(granularity),
            day,
            ids[0],
            ids[1],
            ids[2],
        )
    }

    fn texts(&self, key: &InternedKey) -> (String, String, NaiveDate, String, String, String) {
        let text = |id: u32| self.texts[id as usize].clone();
        (
            text(key.0),
            text(key.1),
            key.2,
            text(key.3),
            text(key.4),
            text(key.5),
        )
    }
}

/// A recorded contribution's coverage: fund, worker, start, end, grace days.
const COVERAGE_COLUMNS: (
    contributions::fund_id,
    contributions::worker_id,
    contributions::coverage_start,
    contributions::coverage_end,
    contributions::grace_days,
) = (
    contributions::fund_id,
    contributions::worker_id,
    contributions::coverage_start,
    contributions::coverage_end,
    contributions::grace_days,
);

/// A contract's start: worker, start date, id, destination.
const CONTRACT_COLUMNS: (
    contracts::worker_id,
    contracts::start_date,
    contracts::id,
    contracts::destination_country,
) = (
    contracts::worker_id,
    contracts::start_date,
    contracts::id,
    contracts::destination_country,
);

/// A stored segment with its fund.
const SEGMENT_COLUMNS: (
    coverage_segments::fund_id,
    (
        coverage_segments::worker_id,
        coverage_segments::start,
        coverage_segments::until,
        coverage_segments::sex,
        coverage_segments::destination,
        coverage_segments::sector,
    ),
) = (
    coverage_segments::fund_id,
    (
        coverage_segments::worker_id,
        coverage_segments::start,
        coverage_segments::until,
        coverage_segments::sex,
        coverage_segments::destination,
        coverage_segments::sector,
    ),
);

/// The segments the records give for the fund's workers among `ids` (at most
/// a few thousand): three queries.
fn computed_segments(
    conn: &mut DbConnection,
    fund_id: FundId,
    ids: &[&str],
) -> AppResult<HashMap<String, Vec<Segment>>> {
    // Looked up by worker alone and the fund checked on the rows read: given
    // `fund_id = ? AND worker_id IN (…)`, SQLite's planner takes the
    // `(fund_id, …)` index and reads every contribution of the fund.
    let coverage: Vec<(FundId, String, NaiveDate, NaiveDate, i32)> = contributions::table
        .filter(contributions::worker_id.eq_any(ids))
        .filter(contributions::status.eq("recorded"))
        .select(COVERAGE_COLUMNS)
        .load(conn)?;
    if coverage.is_empty() {
        return Ok(HashMap::new());
    }
    let mut periods: HashMap<String, Vec<Period>> = HashMap::new();
    for (_, worker_id, start, end, grace) in coverage.into_iter().filter(|c| c.0 == fund_id) {
        periods.entry(worker_id).or_default().push(Period {
            start,
            end,
            grace_days: grace as u32,
        });
    }
    let covered: Vec<&str> = periods.keys().map(String::as_str).collect();
    let people: Vec<(FundId, String, String, Option<String>)> = workers::table
        .filter(workers::id.eq_any(&covered))
        .select((
            workers::fund_id,
            workers::id,
            workers::sex,
            workers::occupation_sector,
        ))
        .load(conn)?;
    let mut contracts_of: HashMap<String, Vec<ContractStart>> = HashMap::new();
    let rows: Vec<(String, NaiveDate, String, String)> = contracts::table
        .filter(contracts::worker_id.eq_any(&covered))
        .select(CONTRACT_COLUMNS)
        .load(conn)?;
    for (worker_id, start, id, destination) in rows {
        contracts_of
            .entry(worker_id)
            .or_default()
            .push(ContractStart {
                start,
                id,
                destination,
            });
    }
    Ok(people
        .into_iter()
        .filter(|p| p.0 == fund_id)
        .map(|(_, id, sex, sector)| {
            let segments = segments_of(
                periods.get(&id).map(Vec::as_slice).unwrap_or_default(),
                contracts_of.get(&id).map(Vec::as_slice).unwrap_or_default(),
                &sex,
                sector.as_deref(),
            );
            (id, segments)
        })
        .collect())
}

type SegmentRow = (
    String,
    NaiveDate,
    NaiveDate,
    String,
    Option<String>,
    Option<String>,
);

/// The stored segments of the fund's workers among `ids`.
fn stored_segments(
    conn: &mut DbConnection,
    fund_id: FundId,
    ids: &[&str],
) -> AppResult<HashMap<String, Vec<Segment>>> {
    // By worker alone (the primary key), the fund checked on the rows read,
    // for the reason given in `computed_segments`.
    let rows: Vec<(FundId, SegmentRow)> = coverage_segments::table
        .filter(coverage_segments::worker_id.eq_any(ids))
        .order((
            coverage_segments::worker_id.asc(),
            coverage_segments::start.asc(),
        ))
        .select(SEGMENT_COLUMNS)
        .load(conn)?;
    let mut stored: HashMap<String, Vec<Segment>> = HashMap::new();
    let of_fund = rows.into_iter().filter(|r| r.0 == fund_id).map(|r| r.1);
    for (worker_id, start, until, sex, destination, sector) in of_fund {
        stored.entry(worker_id).or_default().push(Segment {
            start,
            until,
            sex,
            destination,
            sector,
        });
    }
    Ok(stored)
}

/// On PostgreSQL, locks the workers' rows (in id order) until the
/// transaction ends, so that two transactions changing one worker's records
/// refresh their summary one after the other, each reading what the other
/// committed. `NO KEY UPDATE`: it does not wait for the key-share locks that
/// inserting a contribution or contract of the worker takes (which would
/// deadlock two such transactions). SQLite writers already take turns
/// (`BEGIN IMMEDIATE`).
fn lock_workers(conn: &mut DbConnection, ids: &[&str]) -> AppResult<()> {
    if let DbConnection::Postgresql(c) = conn {
        use diesel::sql_types::{Array, Text};
        diesel::sql_query(
            "SELECT id FROM workers WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
        )
        .bind::<Array<Text>, _>(ids)
        .execute(c)?;
    }
    Ok(())
}

/// Recomputes the summary of the fund's workers `ids` from their records:
/// their segments are replaced and the counters moved by the difference.
/// Call it in the transaction that changed their contributions (recorded,
/// reversed, ended, coverage moved), contracts or attributes. A few queries
/// per thousand workers; workers whose segments did not change write nothing.
pub fn refresh_workers<I, S>(conn: &mut DbConnection, fund_id: FundId, ids: I) -> AppResult<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut ids: Vec<String> = ids.into_iter().map(|s| s.as_ref().to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut changes = Changes::new();
    for chunk in ids.chunks(CHUNK) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        lock_workers(conn, &chunk)?;
        let old = stored_segments(conn, fund_id, &chunk)?;
        let new = computed_segments(conn, fund_id, &chunk)?;
        let mut changed: Vec<&str> = Vec::new();
        let mut rows = Vec::new();
        for id in &chunk {
            let before = old.get(*id).map(Vec::as_slice).unwrap_or_default();
            let after = new.get(*id).map(Vec::as_slice).unwrap_or_default();
            if before == after {
                continue;
            }
            changes.add(before, -1);
            changes.add(after, 1);
            if !before.is_empty() {
                changed.push(id);
            }
            rows.extend(after.iter().map(|s| {
                (
                    coverage_segments::worker_id.eq(*id),
                    coverage_segments::fund_id.eq(fund_id),
                    coverage_segments::start.eq(s.start),
                    coverage_segments::until.eq(s.until),
                    coverage_segments::sex.eq(s.sex.clone()),
                    coverage_segments::destination.eq(s.destination.clone()),
                    coverage_segments::sector.eq(s.sector.clone()),
                )
            }));
        }
        if !changed.is_empty() {
            diesel::delete(
                coverage_segments::table.filter(coverage_segments::worker_id.eq_any(&changed)),
            )
            .execute(conn)?;
        }
        crate::insert_rows!(conn, coverage_segments::table, rows)?;
    }
    add_to_counts(conn, fund_id, &changes.by_text())
}

/// [`refresh_workers`] for one worker, whose fund is looked up.
pub fn refresh_worker(conn: &mut DbConnection, worker_id: &str) -> AppResult<()> {
    match crate::workers::fund_of_worker(conn, worker_id)? {
        Some(fund_id) => refresh_workers(conn, fund_id, [worker_id]),
        None => Ok(()),
    }
}

/// After a contract's events moved the coverage of its contributions.
pub fn contract_changed(conn: &mut DbConnection, contract_id: &str) -> AppResult<()> {
    let worker_id: String = contracts::table
        .find(contract_id)
        .select(contracts::worker_id)
        .first(conn)?;
    refresh_worker(conn, &worker_id)
}

/// The workers among `ids` that have coverage segments (whose summary a new
/// contract may change): one query by the table's key.
pub fn covered_workers(conn: &mut DbConnection, ids: &[&str]) -> AppResult<Vec<String>> {
    Ok(coverage_segments::table
        .filter(coverage_segments::worker_id.eq_any(ids))
        .select(coverage_segments::worker_id)
        .distinct()
        .load(conn)?)
}

/// After a contract is added: a contract only changes the destination of the
/// days the worker is active, so a worker with no segment (no standing
/// contribution: every worker being enrolled) costs one read.
pub fn contract_added(conn: &mut DbConnection, worker_id: &str) -> AppResult<()> {
    let covered: Option<String> = coverage_segments::table
        .filter(coverage_segments::worker_id.eq(worker_id))
        .select(coverage_segments::worker_id)
        .first(conn)
        .optional()?;
    match covered {
        Some(_) => refresh_worker(conn, worker_id),
        None => Ok(()),
    }
}

/// Adds the non-zero `changes` to the fund's counters with multi-row upserts
/// (in key order, so concurrent writers lock rows in one order), then drops
/// the counters they brought to zero.
fn add_to_counts(
    conn: &mut DbConnection,
    fund_id: FundId,
    changes: &BTreeMap<CountKey, i64>,
) -> AppResult<()> {
    let rows: Vec<_> = changes
        .iter()
        .filter(|(_, delta)| **delta != 0)
        .map(
            |((counter, granularity, day, sex, destination, sector), delta)| {
                (
                    membership_counts::fund_id.eq(fund_id),
                    membership_counts::counter.eq(*counter),
                    membership_counts::granularity.eq(*granularity),
                    membership_counts::day.eq(*day),
                    membership_counts::sex.eq(sex.as_str()),
                    membership_counts::destination.eq(destination.as_str()),
                    membership_counts::sector.eq(sector.as_str()),
                    membership_counts::delta.eq(*delta),
                )
            },
        )
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let key = (
        membership_counts::fund_id,
        membership_counts::counter,
        membership_counts::granularity,
        membership_counts::day,
        membership_counts::sex,
        membership_counts::destination,
        membership_counts::sector,
    );
    let sum =
        membership_counts::delta.eq(membership_counts::delta + excluded(membership_counts::delta));
    for chunk in rows.chunks(INSERT_CHUNK) {
        match &mut *conn {
            DbConnection::Postgresql(c) => diesel::insert_into(membership_counts::table)
                .values(chunk)
                .on_conflict(key)
                .do_update()
                .set(sum)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(membership_counts::table)
                .values(chunk)
                .on_conflict(key)
                .do_update()
                .set(sum)
                .execute(c)?,
        };
    }
    let mut days: Vec<NaiveDate> = changes.keys().map(|k| k.2).collect();
    days.sort_unstable();
    days.dedup();
    for chunk in days.chunks(CHUNK) {
        diesel::delete(
            membership_counts::table
                .filter(membership_counts::fund_id.eq(fund_id))
                // Every counter and granularity named, so that the primary
                // key's prefix reaches `day`: without them the delete reads
                // every counter of the fund.
                .filter(membership_counts::counter.eq_any([ACTIVE, EVER]))
                .filter(membership_counts::granularity.eq_any([MONTH, DAY]))
                .filter(membership_counts::day.eq_any(chunk))
                .filter(membership_counts::delta.eq(0)),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// Workers read per page when a whole fund is walked.
const PAGE: i64 = 5_000;

/// The next page of the fund's worker ids after `after`, in id order.
fn worker_page(
    conn: &mut DbConnection,
    fund_id: FundId,
    after: Option<&str>,
) -> AppResult<Vec<String>> {
    let mut query = workers::table
        .filter(workers::fund_id.eq(fund_id))
        .select(workers::id)
        .order(workers::id.asc())
        .limit(PAGE)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(workers::id.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

/// Builds the summary of every fund from the records if it is still to be
/// built (a database migrated from a version without it), in one write
/// transaction; right after migrating (`db::migrate`). Processes starting at
/// once: the first removes the marker and builds, the others wait on its row
/// and find it gone.
pub fn backfill(conn: &mut DbConnection) -> AppResult<()> {
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
        let funds: Vec<FundId> = funds::table.select(funds::id).load(conn)?;
        for fund_id in funds {
            let mut after: Option<String> = None;
            loop {
                let page = worker_page(conn, fund_id, after.as_deref())?;
                let Some(last) = page.last().cloned() else {
                    break;
                };
                refresh_workers(conn, fund_id, &page)?;
                after = Some(last);
            }
        }
        Ok(())
    })
}

fn mismatch(detail: String) -> VerificationProblem {
    VerificationProblem {
        code: "SUMMARY_MISMATCH".to_string(),
        entry_id: None,
        sequence: None,
        account: None,
        detail,
    }
}

fn describe(segments: &[Segment]) -> String {
    if segments.is_empty() {
        return "none".to_string();
    }
    segments
        .iter()
        .map(|s| {
            format!(
                "{}..{} {}/{}/{}",
                s.start,
                s.until,
                s.sex,
                s.destination.as_deref().unwrap_or("-"),
                s.sector.as_deref().unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One page of the fund's workers (in id order, with their sex and sector),
/// their recorded contributions' coverage, their contracts and their stored
/// segments: what [`verify_membership_summary`] compares, read in four
/// queries.
struct RecordsPage {
    workers: Vec<(String, String, Option<String>)>,
    coverage: Vec<(FundId, String, NaiveDate, NaiveDate, i32)>,
    contracts: Vec<(String, NaiveDate, String, String)>,
    stored: Vec<(FundId, SegmentRow)>,
}

/// How a page's records are found: by the range of its worker ids (one
/// range scan of each table's worker index, in index order) when the page's
/// workers are most of the workers in that range, else by the page's ids
/// (one index lookup each), so that a small fund whose ids are spread among a
/// large fund's does not read the large fund's records.
enum Among<'a> {
    Range(&'a str, &'a str),
    Ids(Vec<&'a str>),
}

/// The next page of the fund's workers after `after` with their records,
/// or `None` after the last.
fn read_records_page(
    conn: &mut DbConnection,
    fund_id: FundId,
    after: Option<&str>,
) -> AppResult<Option<RecordsPage>> {
    let mut query = workers::table
        .filter(workers::fund_id.eq(fund_id))
        .select((workers::id, workers::sex, workers::occupation_sector))
        .order(workers::id.asc())
        .limit(PAGE)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(workers::id.gt(after.to_string()));
    }
    let workers: Vec<(String, String, Option<String>)> = query.load(conn)?;
    let (Some(first), Some(last)) = (workers.first(), workers.last()) else {
        return Ok(None);
    };
    let (first, last) = (first.0.as_str(), last.0.as_str());
    // Counted on the workers' primary key alone: a page of a fund whose
    // workers were enrolled alone has no others between its first and last.
    let in_range: i64 = workers::table
        .filter(workers::id.between(first, last))
        .count()
        .get_result(conn)?;
    let among = if in_range as usize <= 2 * workers.len() {
        Among::Range(first, last)
    } else {
        Among::Ids(workers.iter().map(|w| w.0.as_str()).collect())
    };
    // Each by worker alone, the fund checked on the rows read: given `fund_id
    // = ? AND worker_id …`, SQLite's planner takes the `(fund_id, …)` index
    // and reads every contribution of the fund.
    let mut coverage = contributions::table
        .filter(contributions::status.eq("recorded"))
        .select(COVERAGE_COLUMNS)
        .into_boxed();
    let mut contracts = contracts::table.select(CONTRACT_COLUMNS).into_boxed();
    let mut stored = coverage_segments::table
        .order((
            coverage_segments::worker_id.asc(),
            coverage_segments::start.asc(),
        ))
        .select(SEGMENT_COLUMNS)
        .into_boxed();
    match &among {
        Among::Range(first, last) => {
            coverage = coverage.filter(contributions::worker_id.between(*first, *last));
            contracts = contracts.filter(contracts::worker_id.between(*first, *last));
            stored = stored.filter(coverage_segments::worker_id.between(*first, *last));
        }
        Among::Ids(ids) => {
            coverage = coverage.filter(contributions::worker_id.eq_any(ids));
            contracts = contracts.filter(contracts::worker_id.eq_any(ids));
            stored = stored.filter(coverage_segments::worker_id.eq_any(ids));
        }
    }
    let coverage = coverage.load(conn)?;
    let contracts = contracts.load(conn)?;
    let stored = stored.load(conn)?;
    drop(among);
    Ok(Some(RecordsPage {
        workers,
        coverage,
        contracts,
        stored,
    }))
}

/// What [`verify_membership_summary`] carries from page to page: the
/// counters the records give so far, under interned keys.
struct Recount {
    interner: Interner,
    expected: HashMap<InternedKey, i64>,
    problems: Vec<VerificationProblem>,
    /// Stored segments of the fund's workers met so far.
    seen: i64,
}

impl Recount {
    /// Compares each worker's stored segments of the page with those its
    /// records give, and adds the latter's counter changes.
    fn check(&mut self, fund_id: FundId, page: RecordsPage) {
        let RecordsPage {
            workers,
            coverage,
            contracts,
            stored,
        } = page;
        let index: HashMap<&str, usize> = workers
            .iter()
            .enumerate()
            .map(|(i, w)| (w.0.as_str(), i))
            .collect();
        let n = workers.len();
        let mut periods: Vec<Vec<Period>> = vec![Vec::new(); n];
        for (fund, worker_id, start, end, grace) in coverage {
            if let (true, Some(i)) = (fund == fund_id, index.get(worker_id.as_str())) {
                periods[*i].push(Period {
                    start,
                    end,
                    grace_days: grace as u32,
                });
            }
        }
        let mut starts: Vec<Vec<ContractStart>> = vec![Vec::new(); n];
        for (worker_id, start, id, destination) in contracts {
            if let Some(i) = index.get(worker_id.as_str()) {
                starts[*i].push(ContractStart {
                    start,
                    id,
                    destination,
                });
            }
        }
        let mut held: Vec<Vec<Segment>> = vec![Vec::new(); n];
        for (fund, (worker_id, start, until, sex, destination, sector)) in stored {
            if let (true, Some(i)) = (fund == fund_id, index.get(worker_id.as_str())) {
                self.seen += 1;
                held[*i].push(Segment {
                    start,
                    until,
                    sex,
                    destination,
                    sector,
                });
            }
        }
        for (i, (id, sex, sector)) in workers.iter().enumerate() {
            let computed = if periods[i].is_empty() {
                Vec::new()
            } else {
                segments_of(&periods[i], &starts[i], sex, sector.as_deref())
            };
            if held[i] != computed {
                self.problems.push(mismatch(format!(
                    "worker {id}: the membership summary holds the active days {} but the records give {}",
                    describe(&held[i]),
                    describe(&computed)
                )));
            }
            let (interner, expected) = (&mut self.interner, &mut self.expected);
            each_count(&computed, 1, |counter, granularity, at, keys, delta| {
                *expected
                    .entry(interner.key(counter, granularity, at, keys))
                    .or_default() += delta;
            });
        }
    }
}

/// Recomputes the fund's membership summary from the records (a page of
/// workers at a time: memory grows with the counters, not the workers) and
/// reports each stored segment or counter that differs, as `SUMMARY_MISMATCH`
/// naming the worker or the counter's key. Each page's records are read on a
/// second thread while this one checks the page before.
pub fn verify_membership_summary(
    conn: &mut DbConnection,
    fund_id: FundId,
) -> AppResult<Vec<VerificationProblem>> {
    let mut recount = Recount {
        interner: Interner::new(),
        expected: HashMap::new(),
        problems: Vec::new(),
        seen: 0,
    };
    let mut after: Option<String> = None;
    crate::ledger::read_ahead(
        || -> AppResult<Option<RecordsPage>> {
            let page = read_records_page(conn, fund_id, after.as_deref())?;
            after = page
                .as_ref()
                .and_then(|p| p.workers.last())
                .map(|w| w.0.clone());
            Ok(page)
        },
        |page| -> AppResult<()> {
            recount.check(fund_id, page);
            Ok(())
        },
    )?;
    let Recount {
        mut interner,
        mut expected,
        mut problems,
        seen,
    } = recount;
    // Segments of workers that are not the fund's.
    let all: i64 = coverage_segments::table
        .filter(coverage_segments::fund_id.eq(fund_id))
        .count()
        .get_result(conn)?;
    let strays = all - seen;
    if strays != 0 {
        problems.push(mismatch(format!(
            "the membership summary holds {strays} segment(s) of workers not enrolled in the fund"
        )));
    }
    let stored: Vec<(String, String, NaiveDate, String, String, String, i64)> =
        membership_counts::table
            .filter(membership_counts::fund_id.eq(fund_id))
            .select((
                membership_counts::counter,
                membership_counts::granularity,
                membership_counts::day,
                membership_counts::sex,
                membership_counts::destination,
                membership_counts::sector,
                membership_counts::delta,
            ))
            .load(conn)?;
    // (key, stored, recomputed) of every counter that differs.
    let mut differ: Vec<(InternedKey, i64, i64)> = Vec::new();
    for (counter, granularity, day, sex, destination, sector, have) in stored {
        let key = interner.key(&counter, &granularity, day, [&sex, &destination, &sector]);
        let want = expected.remove(&key).unwrap_or(0);
        if have != want {
            differ.push((key, have, want));
        }
    }
    differ.extend(
        expected
            .into_iter()
            .filter(|(_, want)| *want != 0)
            .map(|(key, want)| (key, 0, want)),
    );
    let mut differ: Vec<_> = differ
        .into_iter()
        .map(|(key, have, want)| (interner.texts(&key), have, want))
        .collect();
    differ.sort();
    for (key, have, want) in differ {
        problems.push(count_mismatch(&key, have, want));
    }
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(mismatch(format!(
            "and {more} more difference(s) between the membership summary and the records"
        )));
    }
    Ok(problems)
}

fn count_mismatch(
    key: &(String, String, NaiveDate, String, String, String),
    have: i64,
    want: i64,
) -> VerificationProblem {
    let (counter, granularity, day, sex, destination, sector) = key;
    mismatch(format!(
        "membership counter {counter}/{granularity} {day} (sex {sex:?}, destination {destination:?}, sector {sector:?}): stored {have}, the records give {want}"
    ))
}

/// The counters' sums as of `as_of` by (sex, destination, sector) for
/// `counter`: the months before `as_of`'s month, then its days up to `as_of`.
pub fn counts_as_of(
    conn: &mut DbConnection,
    fund_id: FundId,
    counter: &str,
    as_of: NaiveDate,
) -> AppResult<Vec<(String, String, String, i64)>> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    let month = as_of.with_day(1).expect("every month has a first day");
    let mut sums: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for (granularity, from, through) in [
        (MONTH, None, month.pred_opt()),
        (DAY, Some(month), Some(as_of)),
    ] {
        let Some(through) = through else { continue };
        let mut query = membership_counts::table
            .filter(membership_counts::fund_id.eq(fund_id))
            .filter(membership_counts::counter.eq(counter))
            .filter(membership_counts::granularity.eq(granularity))
            .filter(membership_counts::day.le(through))
            .group_by((
                membership_counts::sex,
                membership_counts::destination,
                membership_counts::sector,
            ))
            .select((
                membership_counts::sex,
                membership_counts::destination,
                membership_counts::sector,
                sql::<BigInt>("CAST(SUM(delta) AS BIGINT)"),
            ))
            .into_boxed();
        if let Some(from) = from {
            query = query.filter(membership_counts::day.ge(from));
        }
        let rows: Vec<(String, String, String, i64)> = query.load(conn)?;
        for (sex, destination, sector, n) in rows {
            *sums.entry((sex, destination, sector)).or_default() += n;
        }
    }
    Ok(sums
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((a, b, c), n)| (a, b, c, n))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn c(start: &str, id: &str, to: &str) -> ContractStart {
        ContractStart {
            start: d(start),
            id: id.to_string(),
            destination: to.to_string(),
        }
    }

    fn seg(start: &str, until: &str, to: Option<&str>) -> Segment {
        Segment {
            start: d(start),
            until: d(until),
            sex: "female".to_string(),
            destination: to.map(str::to_string),
            sector: Some("care".to_string()),
        }
    }

    #[test]
    fn spans_are_cut_where_a_contract_to_elsewhere_starts() {
        let periods = [
            Period {
                start: d("2020-01-01"),
                end: d("2020-12-31"),
                grace_days: 10,
            },
            Period {
                start: d("2022-01-01"),
                end: d("2022-06-30"),
                grace_days: 0,
            },
        ];
        let contracts = [
            c("2020-03-01", "b", "SA"),
            c("2020-06-01", "c", "SA"),
            c("2020-09-01", "d", "AE"),
            c("2020-09-01", "a", "QA"),
            c("2021-06-01", "e", "OM"),
        ];
        assert_eq!(
            segments_of(&periods, &contracts, "female", Some("care")),
            vec![
                seg("2020-01-01", "2020-02-29", None),
                seg("2020-03-01", "2020-08-31", Some("SA")),
                // Two contracts start that day: the later id wins.
                seg("2020-09-01", "2021-01-10", Some("AE")),
                seg("2022-01-01", "2022-06-30", Some("OM")),
            ]
        );
        let mut changes = Changes::new();
        changes.add(
            &segments_of(&periods, &contracts, "female", Some("care")),
            1,
        );
        let counts = changes.by_text();
        let key = |counter, g, day: &str, to: &str, sector: &str| {
            (
                counter,
                g,
                d(day),
                if counter == EVER { "" } else { "female" }.to_string(),
                to.to_string(),
                sector.to_string(),
            )
        };
        assert_eq!(counts[&key(ACTIVE, DAY, "2020-01-01", "", "care")], 1);
        assert_eq!(counts[&key(ACTIVE, DAY, "2020-03-01", "", "care")], -1);
        assert_eq!(counts[&key(ACTIVE, MONTH, "2021-01-01", "AE", "care")], -1);
        assert_eq!(counts[&key(EVER, MONTH, "2020-01-01", "", "")], 1);
        assert_eq!(counts.values().sum::<i64>(), 2, "two +1 ever (day, month)");
    }
}

//! Membership statistics (issue 16) on a loaded database: the time of the
//! statistics computed from the records (the previous way) and read from the
//! summary, on the fund with the most workers, and what the summary's hook
//! costs a batch of 1,000 workers' contributions.
//!
//!     mwf demo --workers N            # with DATABASE_URL=sqlite://… or a path
//!     MWF_BENCH_DB=<that url> cargo bench --bench membership
//!
//! Prints numbers; asserts only that both ways give the same answer.

use std::time::Instant;

use chrono::NaiveDate;
use diesel::prelude::*;
use mwf::db;
use mwf::db::schema::{coverage_segments, workers};
use mwf::funds::FundId;
use mwf::reports::membership_summary::refresh_workers;
use mwf::reports::{
    membership_statistics, membership_statistics_from_records, MembershipDimension as D,
};

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let Ok(url) = std::env::var("MWF_BENCH_DB") else {
        println!("set MWF_BENCH_DB to a database loaded by `mwf demo --workers N`");
        return;
    };
    let mut conn = db::establish(&url).expect("the database answers");
    let started = Instant::now();
    db::migrate(&mut conn).expect("migrations");
    println!("migrate (and backfill if needed): {:.0} ms", ms(started));
    let (fund, count): (FundId, i64) = workers::table
        .group_by(workers::fund_id)
        .select((workers::fund_id, diesel::dsl::count_star()))
        .order(diesel::dsl::count_star().desc())
        .first(&mut conn)
        .expect("a loaded fund");
    println!("fund {fund}: {count} workers");
    let by = vec![D::Sex, D::Destination, D::Sector];
    for as_of in ["2021-06-30", "2024-12-31", "2026-12-07"] {
        let as_of: NaiveDate = as_of.parse().unwrap();
        let t = Instant::now();
        let old = membership_statistics_from_records(&mut conn, fund, as_of, by.clone()).unwrap();
        let old_ms = ms(t);
        let mut new_ms = f64::MAX;
        let mut new = None;
        for _ in 0..5 {
            let t = Instant::now();
            new = Some(membership_statistics(&mut conn, fund, as_of, by.clone()).unwrap());
            new_ms = new_ms.min(ms(t));
        }
        let new = new.unwrap();
        assert_eq!(
            (old.active, old.lapsed, &old.groups),
            (new.active, new.lapsed, &new.groups)
        );
        println!(
            "as of {as_of} by sex,destination,sector: from the records {old_ms:.1} ms, \
             from the summary {new_ms:.2} ms (best of 5); {} active, {} lapsed, {} groups",
            new.active,
            new.lapsed,
            new.groups.len()
        );
    }
    // The hook on a batch of 1,000 covered workers, in a transaction rolled back.
    let ids: Vec<String> = coverage_segments::table
        .filter(coverage_segments::fund_id.eq(fund))
        .select(coverage_segments::worker_id)
        .distinct()
        .limit(1_000)
        .load(&mut conn)
        .unwrap();
    let _ = db::write_transaction(&mut conn, |conn| -> Result<(), diesel::result::Error> {
        let t = Instant::now();
        refresh_workers(conn, fund, &ids).unwrap();
        println!(
            "refresh_workers, {} workers whose summary stands: {:.1} ms",
            ids.len(),
            ms(t)
        );
        diesel::delete(coverage_segments::table.filter(coverage_segments::worker_id.eq_any(&ids)))
            .execute(conn)?;
        let t = Instant::now();
        refresh_workers(conn, fund, &ids).unwrap();
        println!(
            "refresh_workers, {} workers whose segments all change: {:.1} ms",
            ids.len(),
            ms(t)
        );
        Err(diesel::result::Error::RollbackTransaction)
    });
}

//! Membership statistics as of a date: the workers active on that date (covered
//! by a standing contribution, counting grace days, exactly as
//! `GET /v1/workers/{id}/membership` decides), counted by sex, destination
//! country and occupation sector and any combination of them.
//!
//! [`membership_statistics`] reads the counters of the membership summary
//! (`membership_summary`), a bounded number of rows whatever the fund's size;
//! [`membership_statistics_from_records`] computes the same answer from every
//! contribution and worker, and stays as the definition the tests hold the
//! summary to.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::membership_summary::{counts_as_of, ACTIVE, EVER};
use super::UNKNOWN;
use crate::db::schema::{contracts, contributions, workers};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::funds::FundId;
use crate::rules::evaluate::{active_on, Period};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Sex,
    Destination,
    Sector,
}

impl Dimension {
    pub const OFFERED: &'static [(&'static str, Dimension)] = &[
        ("sex", Dimension::Sex),
        ("destination", Dimension::Destination),
        ("sector", Dimension::Sector),
    ];
}

/// Active workers sharing one value of each dimension asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipGroup {
    /// The values, in the order of the dimensions asked for.
    pub keys: Vec<String>,
    pub active: u64,
}

#[derive(Debug, Clone)]
pub struct MembershipStatistics {
    pub as_of: NaiveDate,
    pub by: Vec<Dimension>,
    /// Workers active on `as_of`.
    pub active: u64,
    /// Workers covered at some time before `as_of` but not on it.
    pub lapsed: u64,
    /// Groups in key order; only groups with active workers appear.
    pub groups: Vec<MembershipGroup>,
}

/// The worker's attributes on the date: sex, the destination of the latest
/// contract started by then, the declared sector.
struct Attributes {
    sex: String,
    sector: Option<String>,
    destination: Option<String>,
}

impl Attributes {
    fn value(&self, d: Dimension) -> String {
        match d {
            Dimension::Sex => Some(self.sex.clone()),
            Dimension::Destination => self.destination.clone(),
            Dimension::Sector => self.sector.clone(),
        }
        .unwrap_or_else(|| UNKNOWN.to_string())
    }
}

/// The statistics as of `as_of`, from the membership summary's counters.
pub fn membership_statistics(
    conn: &mut DbConnection,
    fund_id: FundId,
    as_of: NaiveDate,
    by: Vec<Dimension>,
) -> AppResult<MembershipStatistics> {
    let ever: i64 = counts_as_of(conn, fund_id, EVER, as_of)?
        .iter()
        .map(|row| row.3)
        .sum();
    let mut active = 0;
    let mut counts: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for (sex, destination, sector, n) in counts_as_of(conn, fund_id, ACTIVE, as_of)? {
        let n = u64::try_from(n).map_err(|_| {
            AppError::internal(format!("the membership summary counts {n} active workers"))
        })?;
        active += n;
        let a = Attributes {
            sex,
            sector: Some(sector).filter(|s| !s.is_empty()),
            destination: Some(destination).filter(|d| !d.is_empty()),
        };
        *counts
            .entry(by.iter().map(|d| a.value(*d)).collect())
            .or_default() += n;
    }
    Ok(MembershipStatistics {
        as_of,
        by,
        active,
        lapsed: (ever as u64).saturating_sub(active),
        groups: counts
            .into_iter()
            .filter(|(_, active)| *active > 0)
            .map(|(keys, active)| MembershipGroup { keys, active })
            .collect(),
    })
}

/// [`membership_statistics`] computed from the records: every standing
/// contribution of the fund started by `as_of` and every worker. The
/// definition the summary is tested against.
pub fn membership_statistics_from_records(
    conn: &mut DbConnection,
    fund_id: FundId,
    as_of: NaiveDate,
    by: Vec<Dimension>,
) -> AppResult<MembershipStatistics> {
    let coverage: Vec<(String, NaiveDate, NaiveDate, i32)> = contributions::table
        .filter(contributions::fund_id.eq(fund_id))
        .filter(contributions::status.eq("recorded"))
        .filter(contributions::coverage_start.le(as_of))
        .order(contributions::worker_id.asc())
        .select((
            contributions::worker_id,
            contributions::coverage_start,
            contributions::coverage_end,
            contributions::grace_days,
        ))
        .load(conn)?;
    let mut periods: HashMap<String, Vec<Period>> = HashMap::new();
    for (worker_id, start, end, grace) in coverage {
        periods.entry(worker_id).or_default().push(Period {
            start,
            end,
            grace_days: grace as u32,
        });
    }
    let mut active_ids = Vec::new();
    let mut lapsed = 0;
    for (worker_id, periods) in periods {
        if active_on(&periods, as_of).is_some() {
            active_ids.push(worker_id);
        } else {
            lapsed += 1;
        }
    }
    let attributes = attributes_of(conn, fund_id, as_of)?;
    let mut counts: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for id in &active_ids {
        let a = attributes
            .get(id)
            .expect("a contribution's worker is in its fund");
        *counts
            .entry(by.iter().map(|d| a.value(*d)).collect())
            .or_default() += 1;
    }
    Ok(MembershipStatistics {
        as_of,
        by,
        active: active_ids.len() as u64,
        lapsed,
        groups: counts
            .into_iter()
            .map(|(keys, active)| MembershipGroup { keys, active })
            .collect(),
    })
}

fn attributes_of(
    conn: &mut DbConnection,
    fund_id: FundId,
    as_of: NaiveDate,
) -> AppResult<HashMap<String, Attributes>> {
    let rows: Vec<(String, String, Option<String>)> = workers::table
        .filter(workers::fund_id.eq(fund_id))
        .select((workers::id, workers::sex, workers::occupation_sector))
        .load(conn)?;
    let mut attributes: HashMap<String, Attributes> = rows
        .into_iter()
        .map(|(id, sex, sector)| {
            (
                id,
                Attributes {
                    sex,
                    sector,
                    destination: None,
                },
            )
        })
        .collect();
    // In start order, so the latest contract started by `as_of` wins.
    let destinations: Vec<(String, String)> = contracts::table
        .inner_join(workers::table)
        .filter(workers::fund_id.eq(fund_id))
        .filter(contracts::start_date.le(as_of))
        .order((contracts::start_date.asc(), contracts::id.asc()))
        .select((contracts::worker_id, contracts::destination_country))
        .load(conn)?;
    for (worker_id, destination) in destinations {
        if let Some(a) = attributes.get_mut(&worker_id) {
            a.destination = Some(destination);
        }
    }
    Ok(attributes)
}

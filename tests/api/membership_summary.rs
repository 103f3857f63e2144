//! The membership summary (issue 16): after random bookings, back-dated
//! coverage, reversals, refunds, new contracts and a period close, the
//! statistics read from the summary equal those computed from the records
//! (`membership_statistics_from_records`, the previous computation), and
//! `ledger/verify` finds a summary that no longer says what the records say.

use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use mwf::db::schema::{contribution_months, coverage_segments, funds, membership_counts, workers};
use mwf::db::DbConnection;
use mwf::funds::FundId;
use mwf::reports::{
    membership_statistics, membership_statistics_from_records, MembershipDimension as D,
};
use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp};

const DESTINATIONS: [&str; 4] = ["SA", "AE", "QA", "KW"];
const SECTORS: [Option<&str>; 3] = [Some("domestic_work"), Some("construction"), None];

fn fund_id(conn: &mut DbConnection, code: &str) -> FundId {
    funds::table
        .filter(funds::code.eq(code))
        .select(funds::id)
        .first(conn)
        .unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn enroll(app: &TestApp, fund: &str, n: usize, rng: &mut fastrand::Rng) -> (String, String) {
    let sex = ["female", "male", "other"][rng.usize(..3)];
    let res = app.post(
        &format!("/v1/funds/{fund}/workers"),
        &app.admin(),
        &json!({
            "document_type": "passport", "document_number": format!("MS{n:05}"),
            "given_name": "Test", "family_name": "Member", "date_of_birth": "1990-01-01",
            "sex": sex, "occupation_sector": SECTORS[rng.usize(..SECTORS.len())],
            "contracts": [{"employer": "E", "destination_country": DESTINATIONS[rng.usize(..4)],
                           "start_date": "2026-02-01", "end_date": "2028-07-31"}]
        }),
    );
    let body = res.expect(201);
    (
        body["id"].as_str().unwrap().to_string(),
        body["contracts"][0]["id"].as_str().unwrap().to_string(),
    )
}

/// Records the contribution the rules quote for the contract paid on
/// `paid_on`; `None` when refused (a closed period).
fn pay(app: &TestApp, fund: &str, worker: &str, contract: &str, paid_on: &str) -> Option<Value> {
    let quote = app.get(
        &format!(
            "/v1/funds/{fund}/contributions/quote?worker_id={worker}&contract_id={contract}&paid_on={paid_on}"
        ),
        &app.admin(),
    );
    let q = quote.expect(200).clone();
    let res = app.contribute(
        fund,
        worker,
        Some(contract),
        paid_on,
        (
            q["amount"].as_str().unwrap(),
            q["currency"].as_str().unwrap(),
            q["total"].as_str().unwrap(),
        ),
    );
    (res.status == 201).then(|| res.body.clone())
}

/// The summary's statistics equal the records' on each date, for every
/// choice of dimensions.
#[track_caller]
fn assert_summary_answers(conn: &mut DbConnection, fund: FundId, dates: &[NaiveDate], step: &str) {
    let choices: [&[D]; 6] = [
        &[],
        &[D::Sex],
        &[D::Destination],
        &[D::Sector],
        &[D::Destination, D::Sector],
        &[D::Sex, D::Destination, D::Sector],
    ];
    for as_of in dates {
        for by in choices {
            let got = membership_statistics(conn, fund, *as_of, by.to_vec()).unwrap();
            let want = membership_statistics_from_records(conn, fund, *as_of, by.to_vec()).unwrap();
            assert_eq!(
                (got.active, got.lapsed, &got.groups),
                (want.active, want.lapsed, &want.groups),
                "{step}: as of {as_of} by {by:?}"
            );
        }
    }
}

fn verify(app: &TestApp, fund: &str) -> Value {
    app.verify_every_way(fund)
}

fn mismatches(report: &Value) -> Vec<String> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "SUMMARY_MISMATCH")
        .map(|p| p["detail"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_summary_answers_as_the_records_after_random_bookings_reversals_contracts_and_a_close() {
    let app = spawn();
    let fund = "KE-MWF";
    app.load_fund(fund);
    let mut conn = app.connection();
    let id = fund_id(&mut conn, fund);
    let mut rng = fastrand::Rng::with_seed(16);
    // The first of every second month and the 15th of the others, 2025-12
    // to 2029-07: before any coverage, during, through grace and after.
    let dates: Vec<NaiveDate> = (0..44)
        .map(|m| {
            let first = date("2025-12-01") + chrono::Months::new(m);
            if m % 2 == 0 {
                first
            } else {
                first + Days::new(14)
            }
        })
        .collect();
    let people: Vec<(String, String)> = (0..10).map(|n| enroll(&app, fund, n, &mut rng)).collect();
    // (contribution, worker index) of the contributions that stand.
    let mut standing: Vec<(String, usize)> = Vec::new();
    let first = date("2026-01-01");
    let mut closed = false;
    for step in 0..60 {
        let mut who = rng.usize(..people.len());
        let what = match rng.u8(..10) {
            0..=5 => {
                // Back-dated anywhere in the year the rules are in force.
                let paid_on = first + Days::new(rng.u64(..330));
                let (worker, contract) = &people[who];
                if let Some(c) = pay(&app, fund, worker, contract, &paid_on.to_string()) {
                    standing.push((c["id"].as_str().unwrap().to_string(), who));
                }
                format!("pay {paid_on}")
            }
            6 | 7 if !standing.is_empty() => {
                let (c, of) = standing.swap_remove(rng.usize(..standing.len()));
                who = of;
                app.post(
                    &format!("/v1/contributions/{c}/reversal"),
                    &app.admin(),
                    &json!({"reason": "bounced"}),
                )
                .expect(200);
                "reverse".to_string()
            }
            _ => {
                // Mostly a covered worker, so that the destination changes.
                if !standing.is_empty() && rng.bool() {
                    who = standing[rng.usize(..standing.len())].1;
                }
                let worker = &people[who].0;
                let start = date("2026-02-01") + Days::new(rng.u64(..900));
                let end = start + Days::new(365);
                app.post(
                    &format!("/v1/workers/{worker}/contracts"),
                    &app.admin(),
                    &json!({"employer": "F", "destination_country": DESTINATIONS[rng.usize(..4)],
                            "start_date": start.to_string(), "end_date": end.to_string()}),
                )
                .expect(201);
                format!("contract from {start}")
            }
        };
        if step == 24 && !closed {
            app.post(
                &format!("/v1/funds/{fund}/periods/close"),
                &app.admin(),
                &json!({"through": "2026-03-31"}),
            )
            .expect(200);
            closed = true;
        }
        assert_summary_answers(
            &mut conn,
            id,
            &dates,
            &format!("step {step} (worker {who}: {what})"),
        );
    }
    let stats = membership_statistics(&mut conn, id, date("2027-06-01"), vec![]).unwrap();
    assert!(stats.active > 3, "the history leaves members: {stats:?}");
    assert!(mismatches(&verify(&app, fund)).is_empty());

    // A counter altered by hand is found, and named.
    diesel::update(
        membership_counts::table
            .filter(membership_counts::counter.eq("active"))
            .filter(membership_counts::granularity.eq("month")),
    )
    .set(membership_counts::delta.eq(membership_counts::delta + 1))
    .execute(&mut conn)
    .unwrap();
    let report = verify(&app, fund);
    assert_eq!(report["ok"], false);
    let found = mismatches(&report);
    assert!(
        !found.is_empty() && found[0].contains("membership counter active/month"),
        "{found:?}"
    );
}

#[test]
fn verify_finds_a_summary_the_records_no_longer_agree_with() {
    let app = spawn();
    let fund = "KE-MWF";
    app.load_fund(fund);
    let mut rng = fastrand::Rng::with_seed(7);
    let (worker, contract) = enroll(&app, fund, 1, &mut rng);
    pay(&app, fund, &worker, &contract, "2026-03-01").unwrap();
    assert!(mismatches(&verify(&app, fund)).is_empty());
    // The worker's sector changed behind the summary's back.
    let mut conn = app.connection();
    diesel::update(workers::table.find(&worker))
        .set(workers::occupation_sector.eq("fishing"))
        .execute(&mut conn)
        .unwrap();
    let found = mismatches(&verify(&app, fund));
    assert!(
        found
            .iter()
            .any(|d| d.contains(&format!("worker {worker}"))),
        "{found:?}"
    );
}

#[test]
fn a_refund_ends_the_coverage_the_summary_counts() {
    let app = spawn();
    let fund = "LK-SLBFE";
    app.load_fund(fund);
    let today = chrono::Utc::now().date_naive();
    let start = today + Days::new(60);
    let (worker, contract) = app.enroll(
        fund,
        "N7000001",
        (&start.to_string(), &(start + Days::new(730)).to_string()),
    );
    let contribution = pay(&app, fund, &worker, &contract, &today.to_string()).unwrap();
    let mut conn = app.connection();
    let id = fund_id(&mut conn, fund);
    let dates = [today, today + Days::new(100)];
    assert_eq!(
        membership_statistics(&mut conn, id, today, vec![])
            .unwrap()
            .active,
        1
    );
    let officer = app.token_for("officer.perera", mwf::auth::Role::Officer, &[fund]);
    let refund = app
        .post(
            &format!(
                "/v1/contributions/{}/refunds",
                contribution["id"].as_str().unwrap()
            ),
            &officer,
            &json!({"reason": "The departure was cancelled"}),
        )
        .expect(201)
        .clone();
    app.post(
        &format!("/v1/refunds/{}/decision", refund["id"].as_str().unwrap()),
        &officer,
        &json!({"outcome": "approve", "reason": "Visa refused"}),
    )
    .expect(200);
    assert_summary_answers(&mut conn, id, &dates, "after the refund");
    let stats = membership_statistics(&mut conn, id, today, vec![]).unwrap();
    assert_eq!((stats.active, stats.lapsed), (0, 0));
    assert!(mismatches(&verify(&app, fund)).is_empty());
}

fn segments_of_fund(conn: &mut DbConnection, fund: FundId) -> i64 {
    coverage_segments::table
        .filter(coverage_segments::fund_id.eq(fund))
        .count()
        .get_result(conn)
        .unwrap()
}

/// Loads KE-MWF and LK-SLBFE and enrolls `kenyans` Kenyan workers with
/// `between` Sri Lankan ones enrolled after each (ids are in time order, so a
/// page of Kenya's workers spans more of Sri Lanka's than its own), each
/// with a contribution; both funds verify. The workers' ids, by fund.
fn interleaved(
    app: &TestApp,
    kenyans: usize,
    between: usize,
    seed: u64,
) -> (Vec<String>, Vec<String>) {
    let (kenya, lanka) = ("KE-MWF", "LK-SLBFE");
    app.load_fund(kenya);
    app.load_fund(lanka);
    let mut rng = fastrand::Rng::with_seed(seed);
    let today = chrono::Utc::now().date_naive();
    let start = today + Days::new(60);
    let until = start + Days::new(730);
    let (mut ke, mut lk) = (Vec::new(), Vec::new());
    for n in 0..kenyans {
        let (worker, contract) = enroll(app, kenya, n, &mut rng);
        pay(app, kenya, &worker, &contract, "2026-03-01").unwrap();
        ke.push(worker);
        for k in 0..between {
            let (worker, contract) = app.enroll(
                lanka,
                &format!("N7{seed}{n}{k}"),
                (&start.to_string(), &until.to_string()),
            );
            pay(app, lanka, &worker, &contract, &today.to_string()).unwrap();
            lk.push(worker);
        }
    }
    for fund in [kenya, lanka] {
        let report = verify(app, fund);
        assert_eq!(report["ok"], true, "{fund}: {report}");
    }
    (ke, lk)
}

/// Verification reads a page of workers' records by the range of their ids
/// when the page's workers are most of that range, and by their ids when
/// another fund's workers were enrolled among them: either way, every
/// summary row altered, removed or moved to the other fund by hand is found,
/// and the other fund's records in the range are not counted.
#[test]
fn verify_finds_altered_summary_rows_of_funds_whose_workers_interleave() {
    let app = spawn();
    let (kenya, lanka) = ("KE-MWF", "LK-SLBFE");
    let (kenyans, lankans) = interleaved(&app, 4, 2, 11);
    let mut conn = app.connection();
    let (kenya_id, lanka_id) = (fund_id(&mut conn, kenya), fund_id(&mut conn, lanka));
    let lanka_segments = segments_of_fund(&mut conn, lanka_id);
    // One Kenyan segment ends later, one is gone, and a Sri Lankan worker's
    // segment is moved to Kenya.
    diesel::update(coverage_segments::table.filter(coverage_segments::worker_id.eq(&kenyans[1])))
        .set(coverage_segments::until.eq(date("2031-01-31")))
        .execute(&mut conn)
        .unwrap();
    diesel::delete(coverage_segments::table.filter(coverage_segments::worker_id.eq(&kenyans[2])))
        .execute(&mut conn)
        .unwrap();
    diesel::update(coverage_segments::table.filter(coverage_segments::worker_id.eq(&lankans[3])))
        .set(coverage_segments::fund_id.eq(kenya_id))
        .execute(&mut conn)
        .unwrap();
    let found = mismatches(&verify(&app, kenya));
    for worker in &kenyans[1..3] {
        assert!(
            found
                .iter()
                .any(|d| d.contains(&format!("worker {worker}"))),
            "{worker}: {found:?}"
        );
    }
    let moved = coverage_segments::table
        .filter(coverage_segments::worker_id.eq(&lankans[3]))
        .count()
        .get_result::<i64>(&mut conn)
        .unwrap();
    assert!(moved > 0);
    assert!(
        found.iter().any(|d| d.contains(&format!(
            "holds {moved} segment(s) of workers not enrolled in the fund"
        ))),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|d| kenyans[0..1]
            .iter()
            .chain(&kenyans[3..])
            .chain(&lankans)
            .any(|w| d.contains(&format!("worker {w}")))),
        "only the altered workers are named: {found:?}"
    );
    assert_eq!(found.len(), 3, "{found:?}");
    let found = mismatches(&verify(&app, lanka));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(&format!("worker {}", lankans[3]))
            && found[0].contains("holds the active days none"),
        "{found:?}"
    );
    assert_eq!(
        segments_of_fund(&mut conn, lanka_id),
        lanka_segments - moved
    );
}

/// A month of contributions altered by hand is found, in a fund whose
/// contributions were paid among another fund's (their payer lines are read
/// by the range of a page's contribution ids, or by the ids).
#[test]
fn verify_finds_an_altered_month_of_contributions_among_another_funds() {
    let app = spawn();
    let (kenya, lanka) = ("KE-MWF", "LK-SLBFE");
    interleaved(&app, 3, 3, 12);
    let mut conn = app.connection();
    for (fund, delta) in [(kenya, 1), (lanka, -1)] {
        let id = fund_id(&mut conn, fund);
        let altered =
            diesel::update(contribution_months::table.filter(contribution_months::fund_id.eq(id)))
                .set(
                    contribution_months::amount_minor.eq(contribution_months::amount_minor + delta),
                )
                .execute(&mut conn)
                .unwrap();
        assert!(altered > 0, "{fund}: a month of contributions");
    }
    for fund in [kenya, lanka] {
        let found = mismatches(&verify(&app, fund));
        assert!(
            !found.is_empty()
                && found
                    .iter()
                    .all(|d| d.contains("the monthly summary holds")),
            "{fund}: {found:?}"
        );
    }
}

//! `mwf demo --fund CODE --workers N`: one national-size fund, here small.

use diesel::prelude::*;
use mwf::db::schema::{audit_log, contracts, contributions, funds, workers};
use mwf::demo::national::{self, NationalOptions};
use mwf::progress::Progress;

use crate::helpers::{spawn, TestApp};

fn options(fund: &str, workers: usize, seed: u64) -> NationalOptions {
    NationalOptions {
        fund: fund.to_string(),
        workers,
        years: 10,
        seed,
    }
}

fn build(app: &TestApp, options: &NationalOptions) -> Result<national::NationalReport, String> {
    national::run(&mut app.connection(), options, &mut Progress::hidden())
}

/// Workers of `code` as (document number, given name, family name, date of birth), sorted.
fn people(app: &TestApp, code: &str) -> Vec<(String, String, String, chrono::NaiveDate)> {
    let mut conn = app.connection();
    let mut rows: Vec<(String, String, String, chrono::NaiveDate)> = workers::table
        .inner_join(funds::table)
        .filter(funds::code.eq(code))
        .select((
            workers::document_number,
            workers::given_name,
            workers::family_name,
            workers::date_of_birth,
        ))
        .load(&mut conn)
        .unwrap();
    rows.sort();
    rows
}

#[test]
fn a_national_demo_builds_the_fund_asked_for_on_a_ledger_that_verifies() {
    let app = spawn();
    let report = build(&app, &options("PH-OWWA", 200, 7)).expect("the national demo runs");
    assert_eq!(report.fund.code, "PH-OWWA");
    assert_eq!(report.fund.workers, 200, "{report}");
    // About five contributions a worker over ten years, every one booked and standing.
    assert!(
        (800..=1200).contains(&report.contributions),
        "{} contributions",
        report.contributions
    );
    assert_eq!(
        report.fund.contributions,
        vec![("recorded".to_string(), report.contributions as i64)],
        "{report}"
    );
    // One journal entry per contribution, and nothing else.
    assert_eq!(report.fund.ledger_entries, report.contributions as i64);
    assert!(report.fund.claims.iter().all(|(_, n)| *n == 0), "{report}");
    app.assert_books_balance("PH-OWWA");
    // The chain, the balances and every summary (the membership summary
    // refreshed once per worker after its contracts' events) agree with the records.
    let verified = app
        .get("/v1/funds/PH-OWWA/ledger/verify", &app.admin())
        .expect(200)
        .clone();
    assert_eq!(verified["ok"], true, "{verified}");

    // What the API lists is what was asked for.
    let admin = app.admin();
    let page = app.get("/v1/funds/PH-OWWA/workers?limit=500", &admin);
    assert_eq!(page.expect(200)["items"].as_array().unwrap().len(), 200);
    let mut conn = app.connection();
    let fund_id = funds::table
        .filter(funds::code.eq("PH-OWWA"))
        .select(funds::id);
    let in_fund: i64 = contributions::table
        .filter(contributions::fund_id.eq_any(fund_id))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(in_fund, report.contributions as i64);
    // Contracts of ~2 years with renewals: more contracts than workers.
    let contract_count: i64 = contracts::table.count().get_result(&mut conn).unwrap();
    assert!(contract_count > 200, "{contract_count} contracts");
    // Later contracts and contract events leave one audit record per group
    // (here one group), naming how many contracts it wrote.
    for (action, verb) in [
        ("worker.add_contract", "added"),
        ("worker.update_contract", "updated"),
    ] {
        let targets: Vec<Option<String>> = audit_log::table
            .filter(audit_log::action.eq(action))
            .select(audit_log::target)
            .load(&mut conn)
            .unwrap();
        assert_eq!(targets.len(), 1, "{action}: {targets:?}");
        let target = targets[0].clone().unwrap();
        assert!(
            target.starts_with("contracts: ") && target.ends_with(&format!(" {verb}")),
            "{target}"
        );
    }
    let later: i64 = contract_count - 200;
    assert_eq!(
        audit_log::table
            .filter(audit_log::action.eq("worker.add_contract"))
            .select(audit_log::target)
            .first::<Option<String>>(&mut conn)
            .unwrap()
            .unwrap(),
        format!("contracts: {later} added")
    );
    // History spans the years asked for.
    let first: Option<chrono::NaiveDate> = contributions::table
        .select(diesel::dsl::min(contributions::paid_on))
        .first(&mut conn)
        .unwrap();
    let first = first.unwrap();
    assert!(first >= national_start(10), "{first}");
    assert!(first < national_start(8), "{first}");
    // The other example funds exist, with their rules, and are left empty.
    for code in ["NP-FEWF", "KE-MWF"] {
        assert!(people(&app, code).is_empty(), "{code}");
        let fund = app.get(&format!("/v1/funds/{code}"), &admin);
        fund.expect(200);
    }

    // A national fund is built once, into an empty fund.
    let again = build(&app, &options("PH-OWWA", 10, 7)).unwrap_err();
    assert!(again.contains("already holds workers"), "{again}");
    assert!(build(&app, &options("XX-NONE", 10, 7))
        .unwrap_err()
        .contains("not an example fund"));
}

fn national_start(years: u32) -> chrono::NaiveDate {
    use chrono::Datelike;
    let today = mwf::demo::Calendar::DEMO.today;
    today.with_year(today.year() - years as i32).unwrap()
}

#[test]
fn the_same_seed_builds_the_same_workers_and_another_seed_others() {
    let (a, b, c) = (spawn(), spawn(), spawn());
    build(&a, &options("NP-FEWF", 30, 11)).unwrap();
    build(&b, &options("NP-FEWF", 30, 11)).unwrap();
    build(&c, &options("NP-FEWF", 30, 12)).unwrap();
    assert_eq!(people(&a, "NP-FEWF"), people(&b, "NP-FEWF"));
    assert_ne!(people(&a, "NP-FEWF"), people(&c, "NP-FEWF"));
    assert_eq!(people(&a, "NP-FEWF").len(), 30);
    a.assert_books_balance("NP-FEWF");
}

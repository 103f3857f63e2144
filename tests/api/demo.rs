//! `mwf demo`'s generator on a small scale: what it makes is seen through the API.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use mwf::demo::{self, DemoOptions, FundReport};
use mwf::progress::Progress;

use crate::helpers::{spawn, TestApp};

const STATUSES: [&str; 11] = [
    "submitted",
    "pending_documents",
    "awaiting_second_approval",
    "awaiting_committee",
    "approved",
    "partially_approved",
    "rejected",
    "awaiting_funds",
    "paid",
    "withdrawn",
    "appealed",
];

fn generate(app: &TestApp, workers_per_fund: usize) -> Vec<FundReport> {
    let mut conn = app.connection();
    let options = DemoOptions { workers_per_fund };
    demo::run(&mut conn, options, &mut Progress::hidden())
        .expect("the demo runs")
        .1
}

fn fund_codes() -> Vec<&'static str> {
    demo::FUND_FILES.iter().map(|(code, _)| *code).collect()
}

/// Rows in the audit log and the event feed: a second run must add to neither.
fn trail(app: &TestApp) -> (i64, i64) {
    use mwf::db::schema::{audit_log, events};
    let mut conn = app.connection();
    (
        audit_log::table.count().get_result(&mut conn).unwrap(),
        events::table.count().get_result(&mut conn).unwrap(),
    )
}

#[test]
fn the_demo_books_claims_in_every_status_on_ledgers_that_verify_and_a_second_run_adds_nothing() {
    let app = spawn();
    let first = generate(&app, 30);
    assert_eq!(first.len(), 6);
    // The Philippine fund also holds the family whose heirs share a death benefit.
    let workers_of = |code: &str| if code == "PH-OWWA" { 31 } else { 30 };
    for report in &first {
        assert!(report.generated, "{report}");
        assert_eq!(report.workers, workers_of(&report.code), "{report}");
        assert_eq!(report.unplanned_claims, 0, "{report}");
        assert!(report.ledger_entries > 30, "{report}");
    }

    let admin = app.admin();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for code in fund_codes() {
        app.assert_books_balance(code);
        for status in STATUSES {
            let page = app.get(
                &format!("/v1/funds/{code}/claims?status={status}&limit=500"),
                &admin,
            );
            *seen.entry(status).or_default() += page.expect(200)["items"].as_array().unwrap().len();
        }
    }
    for status in STATUSES {
        assert!(seen[status] > 0, "no claim is {status}: {seen:?}");
    }

    let mut all_sexes = BTreeSet::new();
    let mut all_destinations = BTreeSet::new();
    for code in fund_codes() {
        let page = app.get(&format!("/v1/funds/{code}/workers?limit=500"), &admin);
        let workers = page.expect(200)["items"].as_array().unwrap().clone();
        assert_eq!(workers.len() as i64, workers_of(code));
        let sexes: BTreeSet<String> = workers
            .iter()
            .map(|w| w["sex"].as_str().unwrap().to_string())
            .collect();
        let destinations: BTreeSet<String> = workers
            .iter()
            .flat_map(|w| w["contracts"].as_array().unwrap().clone())
            .map(|c| c["destination_country"].as_str().unwrap().to_string())
            .collect();
        assert!(
            sexes.contains("female") && sexes.contains("male"),
            "{code}: {sexes:?}"
        );
        assert!(destinations.len() >= 3, "{code}: {destinations:?}");
        all_sexes.extend(sexes);
        all_destinations.extend(destinations);
    }
    assert!(all_destinations.len() >= 10, "{all_destinations:?}");
    assert!(all_sexes.len() >= 3, "{all_sexes:?}");

    // Kenya's contributions are shared among payers; the Philippine fund paid
    // its waiting claims with pesos bought for dollars, by a manual entry.
    let kenya = app.get("/v1/funds/KE-MWF/contributions?limit=500", &admin);
    assert!(kenya.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["payers"].as_array().unwrap().len() > 1));
    // Every fund has refunds of cancelled departures in each state; an
    // approved or paid refund ended its contribution, a rejected one did not.
    for code in fund_codes() {
        let page = app.get(&format!("/v1/funds/{code}/refunds?limit=500"), &admin);
        let refunds = page.expect(200)["items"].as_array().unwrap().clone();
        let statuses: BTreeSet<&str> = refunds
            .iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses,
            BTreeSet::from(["approved", "paid", "rejected", "requested"]),
            "{code}"
        );
        for refund in &refunds {
            let id = refund["contribution_id"].as_str().unwrap();
            let contribution = app.get(&format!("/v1/contributions/{id}"), &admin);
            let ended = matches!(refund["status"].as_str(), Some("approved" | "paid"));
            let expected = if ended { "reversed" } else { "recorded" };
            assert_eq!(
                contribution.expect(200)["status"],
                expected,
                "{code}: {refund}"
            );
        }
    }
    let entries = app.get("/v1/funds/PH-OWWA/journal-entries?limit=500", &admin);
    let exchange = entries.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "adjustment")
        .cloned()
        .expect("a currency exchange entry");
    let currencies: BTreeSet<&str> = exchange["postings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["currency"].as_str().unwrap())
        .collect();
    assert_eq!(currencies, BTreeSet::from(["PHP", "USD"]));

    // Three heirs shared a death: those the exchanged pesos cover are paid in
    // line order, each by an entry of their own; the minor's part goes to her
    // mother as guardian.
    let deaths = app.get(
        "/v1/funds/PH-OWWA/claims?benefit=DEATH_NATURAL&limit=500",
        &admin,
    );
    let shared = deaths.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["payees"].as_array().unwrap().len() == 3)
        .cloned()
        .expect("the heirs' claim");
    assert!(
        ["paid", "awaiting_funds"].contains(&shared["status"].as_str().unwrap()),
        "{shared}"
    );
    let payees = shared["payees"].as_array().unwrap();
    let entries: Vec<&str> = payees
        .iter()
        .map_while(|p| p["payment_entry_id"].as_str())
        .collect();
    assert!(!entries.is_empty(), "{shared}");
    assert_eq!(entries.iter().collect::<BTreeSet<_>>().len(), entries.len());
    assert!(payees[entries.len()..]
        .iter()
        .all(|p| p["paid_on"].is_null()));
    let minor = payees.iter().find(|p| p["minor"] == true).unwrap();
    assert_eq!(minor["receiver"], "Teresita Dela Cruz");

    let before = trail(&app);
    let second = generate(&app, 30);
    assert_eq!(trail(&app), before);
    for (a, b) in first.iter().zip(&second) {
        assert!(!b.generated, "{b}");
        assert_eq!(
            (a.workers, &a.contributions, &a.claims, a.ledger_entries),
            (b.workers, &b.contributions, &b.claims, b.ledger_entries)
        );
    }
}

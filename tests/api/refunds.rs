//! Refunds of contributions whose contract was cancelled before it started:
//! approval books income and taxes back to 2200 and ends the coverage, payment
//! moves 2200 to cash; every refusal leaves the books as they were.

use chrono::{Days, NaiveDate};
use mwf::auth::Role;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp};

const FUND: &str = "LK-SLBFE";

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A worker of the Sri Lankan fund (which charges taxes on top) with a
/// contract starting `starts_in` days from today, and the contribution paid
/// for it today: (worker, contract, contribution).
fn departure(app: &TestApp, document: &str, starts_in: i64) -> (String, String, Value) {
    let start = if starts_in >= 0 {
        today() + Days::new(starts_in as u64)
    } else {
        today() - Days::new(starts_in.unsigned_abs())
    };
    let end = start + Days::new(730);
    let (worker, contract) = app.enroll(FUND, document, (&start.to_string(), &end.to_string()));
    let quote = app.get(
        &format!(
            "/v1/funds/{FUND}/contributions/quote?worker_id={worker}&contract_id={contract}&paid_on={}",
            today()
        ),
        &app.admin(),
    );
    let q = quote.expect(200).clone();
    let paid = app.contribute(
        FUND,
        &worker,
        Some(&contract),
        &today().to_string(),
        (
            q["amount"].as_str().unwrap(),
            q["currency"].as_str().unwrap(),
            q["total"].as_str().unwrap(),
        ),
    );
    let contribution = paid.expect(201).clone();
    (worker, contract, contribution)
}

fn officer(app: &TestApp) -> String {
    app.token_for("officer.perera", Role::Officer, &[FUND])
}

fn request(app: &TestApp, token: &str, contribution: &Value) -> crate::helpers::Response {
    let id = contribution["id"].as_str().unwrap();
    app.post(
        &format!("/v1/contributions/{id}/refunds"),
        token,
        &json!({"reason": "The departure was cancelled: the employer withdrew the offer"}),
    )
}

fn decide(app: &TestApp, token: &str, refund: &str, outcome: &str) -> crate::helpers::Response {
    app.post(
        &format!("/v1/refunds/{refund}/decision"),
        token,
        &json!({"outcome": outcome, "reason": "Visa refused; the worker never left"}),
    )
}

fn pay(app: &TestApp, token: &str, refund: &str) -> crate::helpers::Response {
    app.post(
        &format!("/v1/refunds/{refund}/payment"),
        token,
        &json!({"reference": "BOC-TRF-0042"}),
    )
}

fn active_today(app: &TestApp, worker: &str) -> Value {
    let res = app.get(
        &format!("/v1/workers/{worker}/membership?on={}", today()),
        &app.admin(),
    );
    res.expect(200)["active"].clone()
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn a_refund_of_a_cancelled_departure_ends_coverage_and_books_income_and_taxes_back_through_2200_to_cash(
) {
    let app = spawn();
    app.load_fund(FUND);
    let (worker, contract, contribution) = departure(&app, "N1000001", 60);
    let total = contribution["total"].as_str().unwrap().to_string();
    let taxes: Decimal = contribution["taxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| dec(&t["amount"]))
        .sum();
    assert!(taxes > Decimal::ZERO, "the example charges taxes");
    assert_eq!(active_today(&app, &worker), true);
    let officer = officer(&app);

    let requested = request(&app, &officer, &contribution);
    let refund = requested.expect(201).clone();
    assert_eq!(refund["status"], "requested");
    assert_eq!(refund["contract_id"], contract.as_str());
    assert_eq!(refund["total"], total.as_str());
    assert_eq!(dec(&refund["taxes"]), taxes);
    assert_eq!(refund["amount"], contribution["amount"]);
    let id = refund["id"].as_str().unwrap().to_string();
    // Nothing is booked and the coverage stands until the refund is approved.
    assert_eq!(app.balance(FUND, "2200"), "0.00");
    assert_eq!(active_today(&app, &worker), true);

    let approved = decide(&app, &officer, &id, "approve");
    let refund = approved.expect(200).clone();
    assert_eq!(refund["status"], "approved");
    assert_eq!(refund["decided_by"], "officer.perera");
    let approval_entry = refund["approval_entry_id"].as_str().unwrap().to_string();
    for income_or_tax in ["4000", "4100", "2100"] {
        assert_eq!(app.balance(FUND, income_or_tax), "0.00", "{income_or_tax}");
    }
    assert_eq!(app.balance(FUND, "2200"), total);
    assert_eq!(app.balance(FUND, "1000"), total);
    assert_eq!(active_today(&app, &worker), false);
    let c = app.get(
        &format!("/v1/contributions/{}", contribution["id"].as_str().unwrap()),
        &app.admin(),
    );
    assert_eq!(c.expect(200)["status"], "reversed");
    assert_eq!(
        c.body["reversal"]["journal_entry_id"],
        approval_entry.as_str()
    );
    let entry = app.get(
        &format!("/v1/funds/{FUND}/journal-entries/{approval_entry}"),
        &app.admin(),
    );
    assert_eq!(entry.expect(200)["kind"], "refund_approval");
    // A refunded contribution cannot be reversed as well.
    app.post(
        &format!(
            "/v1/contributions/{}/reversal",
            contribution["id"].as_str().unwrap()
        ),
        &officer,
        &json!({"reason": "bounced"}),
    )
    .assert_problem(409, "ALREADY_REVERSED");

    let paid = pay(&app, &officer, &id);
    let refund = paid.expect(200).clone();
    assert_eq!(refund["status"], "paid");
    assert_eq!(refund["payment_reference"], "BOC-TRF-0042");
    assert!(refund["payment_entry_id"].is_string());
    assert_eq!(app.balance(FUND, "2200"), "0.00");
    assert_eq!(app.balance(FUND, "1000"), "0.00");
    app.assert_books_balance(FUND);
    let trial = app.get(
        &format!("/v1/funds/{FUND}/reports/trial-balance"),
        &app.admin(),
    );
    for totals in trial.expect(200)["totals"].as_array().unwrap() {
        assert_eq!(totals["balanced"], true, "{totals}");
    }

    let read = app.get(&format!("/v1/refunds/{id}"), &app.admin());
    assert_eq!(read.expect(200)["status"], "paid");
    let list = app.get(&format!("/v1/funds/{FUND}/refunds"), &app.admin());
    assert_eq!(list.expect(200)["items"].as_array().unwrap().len(), 1);
    let feed = app.get(
        &format!("/v1/events?fund={FUND}&type=refund.requested,refund.approved,refund.paid,contribution.reversed"),
        &app.admin(),
    );
    let types: Vec<&str> = feed.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    // A partner following contributions sees the refunded one end.
    assert_eq!(
        types,
        [
            "refund.requested",
            "refund.approved",
            "contribution.reversed",
            "refund.paid"
        ]
    );
    let audit = app.get(
        "/v1/audit-log?limit=500",
        &app.token(Role::Auditor, &[FUND]),
    );
    let actions: Vec<&str> = audit.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["action"].as_str())
        .filter(|a| a.starts_with("refund."))
        .collect();
    assert_eq!(
        actions,
        ["refund.request", "refund.decide", "refund.pay"],
        "{actions:?}"
    );
}

#[test]
fn a_started_contract_a_reversed_contribution_and_a_second_refund_are_refused() {
    let app = spawn();
    app.load_fund(FUND);
    let officer = officer(&app);

    // The contract's start date has come.
    let (_, _, started) = departure(&app, "N2000001", -5);
    request(&app, &officer, &started).assert_problem(409, "CONTRACT_STARTED");

    // A departure is recorded before the start date.
    let (worker, contract, departed) = departure(&app, "N2000002", 30);
    app.patch(
        &format!("/v1/workers/{worker}/contracts/{contract}"),
        &officer,
        &json!({"departed_on": today().to_string()}),
    )
    .expect(200);
    request(&app, &officer, &departed).assert_problem(409, "CONTRACT_STARTED");

    // A reversed contribution buys nothing to refund.
    let (_, _, reversed) = departure(&app, "N2000003", 30);
    app.post(
        &format!(
            "/v1/contributions/{}/reversal",
            reversed["id"].as_str().unwrap()
        ),
        &officer,
        &json!({"reason": "The cheque bounced"}),
    )
    .expect(200);
    request(&app, &officer, &reversed).assert_problem(409, "ALREADY_REVERSED");

    // One refund at a time; a rejected one may be asked for again.
    let (_, _, twice) = departure(&app, "N2000004", 30);
    let first = request(&app, &officer, &twice).expect(201).clone();
    let first_id = first["id"].as_str().unwrap();
    let again = request(&app, &officer, &twice);
    assert_eq!(
        again.assert_problem(409, "ALREADY_REFUNDED")["refund_id"],
        first_id
    );
    pay(&app, &officer, first_id).assert_problem(409, "REFUND_STATUS_CONFLICT");
    decide(&app, &officer, first_id, "reject").expect(200);
    decide(&app, &officer, first_id, "approve").assert_problem(409, "REFUND_STATUS_CONFLICT");
    let second = request(&app, &officer, &twice).expect(201).clone();
    let second_id = second["id"].as_str().unwrap();
    decide(&app, &officer, second_id, "approve").expect(200);
    request(&app, &officer, &twice).assert_problem(409, "ALREADY_REFUNDED");
    app.assert_books_balance(FUND);
}

#[test]
fn a_departure_before_approval_is_refused_and_books_nothing() {
    let app = spawn();
    app.load_fund(FUND);
    let officer = officer(&app);
    let (worker, contract, contribution) = departure(&app, "N3000001", 30);
    let refund = request(&app, &officer, &contribution).expect(201).clone();
    app.patch(
        &format!("/v1/workers/{worker}/contracts/{contract}"),
        &officer,
        &json!({"departed_on": today().to_string()}),
    )
    .expect(200);
    decide(&app, &officer, refund["id"].as_str().unwrap(), "approve")
        .assert_problem(409, "CONTRACT_STARTED");
    assert_eq!(app.balance(FUND, "2200"), "0.00");
    assert_eq!(active_today(&app, &worker), true);
    let read = app.get(
        &format!("/v1/refunds/{}", refund["id"].as_str().unwrap()),
        &app.admin(),
    );
    assert_eq!(read.expect(200)["status"], "requested");
}

#[test]
fn a_refund_is_not_paid_without_cash() {
    let app = spawn();
    app.load_fund(FUND);
    let officer = officer(&app);
    let (_, _, contribution) = departure(&app, "N4000001", 30);
    let total = contribution["total"].as_str().unwrap();
    let refund = request(&app, &officer, &contribution).expect(201).clone();
    let id = refund["id"].as_str().unwrap();
    decide(&app, &officer, id, "approve").expect(200);
    // The cash is spent elsewhere.
    app.transfer(FUND, &today().to_string(), "6000", "1000", total, "LKR")
        .expect(201);
    pay(&app, &officer, id).assert_problem(409, "INSUFFICIENT_FUNDS");
    let read = app.get(&format!("/v1/refunds/{id}"), &app.admin());
    assert_eq!(read.expect(200)["status"], "approved");
    assert_eq!(app.balance(FUND, "2200"), total);
    app.assert_books_balance(FUND);
}

#[test]
fn the_ministry_requests_officers_decide_and_pay_and_other_funds_see_nothing() {
    let app = spawn();
    app.load_fund(FUND);
    let (_, _, contribution) = departure(&app, "N5000001", 30);
    let ministry = app.token(Role::Ministry, &[FUND]);
    let approver = app.token(Role::Approver, &[FUND]);
    let auditor = app.token(Role::Auditor, &[FUND]);
    request(&app, &approver, &contribution).assert_problem(403, "ROLE_NOT_PERMITTED");
    request(&app, &auditor, &contribution).assert_problem(403, "ROLE_NOT_PERMITTED");
    let elsewhere = app.token(Role::Officer, &["KE-MWF"]);
    request(&app, &elsewhere, &contribution).assert_problem(404, "NOT_FOUND");
    let refund = request(&app, &ministry, &contribution).expect(201).clone();
    let id = refund["id"].as_str().unwrap();
    decide(&app, &ministry, id, "approve").assert_problem(403, "ROLE_NOT_PERMITTED");
    decide(&app, &approver, id, "approve").assert_problem(403, "ROLE_NOT_PERMITTED");
    decide(&app, &elsewhere, id, "approve").assert_problem(404, "NOT_FOUND");
    app.get(&format!("/v1/refunds/{id}"), &elsewhere)
        .assert_problem(404, "NOT_FOUND");
    decide(&app, &officer(&app), id, "approve").expect(200);
    pay(&app, &ministry, id).assert_problem(403, "ROLE_NOT_PERMITTED");
    pay(&app, &officer(&app), id).expect(200);
    app.get(&format!("/v1/refunds/{id}"), &auditor).expect(200);
}

#[test]
fn a_contribution_in_another_currency_than_the_funds_is_refunded_in_its_own() {
    let app = spawn();
    app.load_fund("PH-OWWA");
    let start = today() + Days::new(45);
    let end = start + Days::new(730);
    let (worker, contract) = app.enroll(
        "PH-OWWA",
        "P9000001",
        (&start.to_string(), &end.to_string()),
    );
    let quote = app.get(
        &format!(
            "/v1/funds/PH-OWWA/contributions/quote?worker_id={worker}&contract_id={contract}&paid_on={}",
            today()
        ),
        &app.admin(),
    );
    let q = quote.expect(200).clone();
    assert_eq!(q["currency"], "USD", "the Philippines collects in dollars");
    let (amount, total) = (q["amount"].as_str().unwrap(), q["total"].as_str().unwrap());
    let paid = app.contribute(
        "PH-OWWA",
        &worker,
        Some(&contract),
        &today().to_string(),
        (amount, "USD", total),
    );
    let contribution = paid.expect(201).clone();
    let officer = app.token_for("officer.reyes", Role::Officer, &["PH-OWWA"]);
    let refund = request(&app, &officer, &contribution).expect(201).clone();
    assert_eq!(refund["currency"], "USD");
    let id = refund["id"].as_str().unwrap();
    decide(&app, &officer, id, "approve").expect(200);
    assert_eq!(app.balance("PH-OWWA", "2200-USD"), total);
    assert_eq!(app.balance("PH-OWWA", "2200"), "0.00");
    assert_eq!(app.account("PH-OWWA", "2200-USD", None)["currency"], "USD");
    pay(&app, &officer, id).expect(200);
    assert_eq!(app.balance("PH-OWWA", "2200-USD"), "0.00");
    assert_eq!(app.balance("PH-OWWA", "1000-USD"), "0.00");
    assert_eq!(active_today(&app, &worker), false);
    app.assert_books_balance("PH-OWWA");
}

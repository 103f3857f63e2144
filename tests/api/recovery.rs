//! Recovery from agencies and employers, and bulk receipts: the registry of
//! parties, receivables booked on 1200 and settled in cash or from a bond or
//! written off, and one transfer matched to many workers' contributions.
//! Every refusal leaves the books as they were.

use mwf::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn, Response, TestApp};

const FUND: &str = "KE-MWF";

fn officer(app: &TestApp) -> String {
    app.token_for("officer.njeri", Role::Officer, &[FUND])
}

/// A Kenyan worker with a 30-month contract (a 3000.00 contribution);
/// (worker, contract).
fn worker(app: &TestApp, document: &str) -> (String, String) {
    app.enroll(FUND, document, ("2026-02-01", "2028-07-31"))
}

/// A covered Kenyan worker whose distress repatriation of `amount` was
/// approved and paid; the claim's id.
fn paid_repatriation(app: &TestApp, document: &str, amount: &str) -> String {
    let (worker, contract) = worker(app, document);
    app.contribute(
        FUND,
        &worker,
        Some(&contract),
        "2026-01-05",
        ("3000.00", "KES", "3000.00"),
    )
    .expect(201);
    let body = json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad", "filed_on": "2026-03-05",
                      "claimant": {"relationship": "worker"}, "claimed_amount": amount, "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]});
    let claim = app.post(&format!("/v1/workers/{worker}/claims"), &app.admin(), &body);
    let id = claim.expect(201)["id"].as_str().unwrap().to_string();
    let decided = app.post(
        &format!("/v1/claims/{id}/decision"),
        &app.admin(),
        &json!({"outcome": "approve"}),
    );
    assert_eq!(
        decided.expect(200)["status"],
        "approved",
        "{}",
        decided.text
    );
    let today = chrono::Utc::now().date_naive().to_string();
    let paid = app.post(
        &format!("/v1/claims/{id}/payment"),
        &app.admin(),
        &json!({"paid_on": today}),
    );
    assert_eq!(paid.expect(200)["status"], "paid", "{}", paid.text);
    id
}

/// Registers a party; its id.
fn party(app: &TestApp, kind: &str, licence: &str, bond: Option<Value>) -> String {
    let mut body = json!({"kind": kind, "name": format!("{licence} Ltd"), "licence_number": licence, "country": "KE"});
    if let Some(bond) = bond {
        body["bond"] = bond;
    }
    let res = app.post(&format!("/v1/funds/{FUND}/parties"), &officer(app), &body);
    res.expect(201)["id"].as_str().unwrap().to_string()
}

fn open(app: &TestApp, claim: &str, party: &str, amount: &str) -> Response {
    app.post(
        &format!("/v1/claims/{claim}/recovery"),
        &officer(app),
        &json!({"party_id": party, "amount": amount, "reason": "The agency abandoned the worker",
                "legal_basis": "Employment Act 2007"}),
    )
}

fn settle(app: &TestApp, recovery: &str, amount: &str, source: &str) -> Response {
    app.post(
        &format!("/v1/recoveries/{recovery}/settlements"),
        &officer(app),
        &json!({"amount": amount, "reference": "KCB-IN-1", "source": source}),
    )
}

/// The id of what a 201 answer created.
#[track_caller]
fn created(res: Response) -> String {
    res.expect(201)["id"].as_str().unwrap().to_string()
}

#[test]
fn a_repatriation_recovered_from_the_agency_in_two_parts_is_settled_and_clears_receivables() {
    let app = spawn();
    app.load_fund(FUND);
    let claim = paid_repatriation(&app, "R1", "2500.00");
    let agency = party(&app, "agency", "NEA/RA/2024/117", None);
    assert_eq!(app.balance(FUND, "1000"), "500.00");

    let opened = open(&app, &claim, &agency, "2500.00");
    let recovery = opened.expect(201);
    assert_eq!(recovery["status"], "open");
    assert_eq!(recovery["outstanding"], "2500.00");
    let recovery = recovery["id"].as_str().unwrap().to_string();
    assert_eq!(app.balance(FUND, "1200"), "2500.00");
    assert_eq!(app.balance(FUND, "4400"), "2500.00");

    let first = settle(&app, &recovery, "1000.00", "cash");
    assert_eq!(first.expect(201)["status"], "partly_settled");
    assert_eq!(first.body["outstanding"], "1500.00");
    let second = settle(&app, &recovery, "1500.00", "cash");
    assert_eq!(second.expect(201)["status"], "settled");
    assert_eq!(second.body["settled"], "2500.00");
    assert_eq!(second.body["settlements"].as_array().unwrap().len(), 2);

    assert_eq!(app.balance(FUND, "1200"), "0.00");
    assert_eq!(app.balance(FUND, "1000"), "3000.00");
    assert_eq!(app.balance(FUND, "5300"), "2500.00");
    let trial = app.get(
        &format!("/v1/funds/{FUND}/reports/trial-balance"),
        &app.admin(),
    );
    let trial = trial.expect(200);
    assert_eq!(
        trial["totals"][0]["debits"], trial["totals"][0]["credits"],
        "{trial}"
    );
    app.assert_books_balance(FUND);
    // The exports close the new accounts as the API states them.
    let hledger = app.get(
        &format!("/v1/funds/{FUND}/exports/ledger?format=hledger"),
        &app.admin(),
    );
    let closing = |account: &str| {
        (hledger.text.lines())
            .find(|l| l.trim_start().starts_with(account) && l.contains(" = "))
            .map(|l| l.rsplit(" = ").next().unwrap().to_string())
    };
    assert_eq!(
        closing("Assets:1200").as_deref(),
        Some("0.00 KES"),
        "{}",
        hledger.text
    );
    assert_eq!(closing("Income:4400").as_deref(), Some("-2500.00 KES"));

    let read = app.get(
        &format!("/v1/recoveries/{recovery}"),
        &app.token(Role::Auditor, &[FUND]),
    );
    assert_eq!(read.expect(200)["status"], "settled");
    let events = app.get("/v1/events?limit=500", &app.admin());
    let types: Vec<&str> = (events.expect(200)["items"].as_array().unwrap().iter())
        .filter(|e| e["subject_id"] == recovery.as_str())
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "recovery.opened",
            "recovery.settlement_recorded",
            "recovery.settlement_recorded"
        ]
    );
}

#[test]
fn settling_more_than_is_outstanding_is_refused_and_books_nothing() {
    let app = spawn();
    app.load_fund(FUND);
    let claim = paid_repatriation(&app, "R2", "2500.00");
    let agency = party(&app, "agency", "NEA/RA/2024/118", None);
    let recovery = created(open(&app, &claim, &agency, "2000.00"));
    settle(&app, &recovery, "500.00", "cash").expect(201);
    let over = settle(&app, &recovery, "1500.01", "cash");
    assert_eq!(
        over.assert_problem(409, "SETTLEMENT_EXCEEDS_OUTSTANDING")["outstanding"],
        "1500.00"
    );
    assert_eq!(app.balance(FUND, "1200"), "1500.00");
    settle(&app, &recovery, "1500.00", "cash").expect(201);
    settle(&app, &recovery, "1.00", "cash").assert_problem(409, "RECOVERY_STATUS_CONFLICT");
    let early = app.post(
        &format!("/v1/recoveries/{recovery}/settlements"),
        &officer(&app),
        &json!({"amount": "1.00", "received_on": "2020-01-01"}),
    );
    early.assert_problem(409, "RECOVERY_STATUS_CONFLICT");
    app.assert_books_balance(FUND);
}

#[test]
fn a_write_off_by_decision_books_what_is_outstanding_to_receivables_written_off() {
    let app = spawn();
    app.load_fund(FUND);
    let claim = paid_repatriation(&app, "R3", "2500.00");
    let employer = party(&app, "employer", "AE-MOHRE-55120", None);
    let recovery = created(open(&app, &claim, &employer, "2500.00"));
    settle(&app, &recovery, "400.00", "cash").expect(201);
    let written = app.post(
        &format!("/v1/recoveries/{recovery}/write-off"),
        &officer(&app),
        &json!({"reason": "The employer left the country; the committee decided to write off"}),
    );
    let body = written.expect(200);
    assert_eq!(body["status"], "written_off");
    assert_eq!(body["written_off"], "2100.00");
    assert_eq!(body["outstanding"], "0.00");
    assert!(body["write_off"]["journal_entry_id"].is_string());
    assert_eq!(app.balance(FUND, "6200"), "2100.00");
    assert_eq!(app.balance(FUND, "1200"), "0.00");
    let again = app.post(
        &format!("/v1/recoveries/{recovery}/write-off"),
        &officer(&app),
        &json!({"reason": "twice"}),
    );
    assert_eq!(
        again.assert_problem(409, "RECOVERY_STATUS_CONFLICT")["recovery_status"],
        "written_off"
    );
    // What was written off no longer counts against the award: a new recovery may claim it.
    created(open(&app, &claim, &employer, "2100.00"));
    app.assert_books_balance(FUND);
}

#[test]
fn a_bond_draw_is_capped_by_what_remains_of_the_bond() {
    let app = spawn();
    app.load_fund(FUND);
    let claim = paid_repatriation(&app, "R4", "2500.00");
    let bond = json!({"amount": "1500.00", "currency": "KES", "reference": "KCB-GTEE-1", "expires_on": "2099-12-31"});
    let agency = party(&app, "agency", "NEA/RA/2024/119", Some(bond));
    let bondless = party(&app, "employer", "AE-MOHRE-1", None);
    let recovery = created(open(&app, &claim, &agency, "2000.00"));
    settle(&app, &recovery, "1000.00", "bond").expect(201);
    let over = settle(&app, &recovery, "600.00", "bond");
    assert_eq!(
        over.assert_problem(409, "BOND_NOT_AVAILABLE")["bond_remaining"],
        "500.00"
    );
    let drawn = settle(&app, &recovery, "500.00", "bond");
    assert_eq!(drawn.expect(201)["status"], "partly_settled");
    assert_eq!(drawn.body["settlements"][1]["source"], "bond");
    let read = app.get(&format!("/v1/funds/{FUND}/parties/{agency}"), &app.admin());
    assert_eq!(read.expect(200)["bond"]["drawn"], "1500.00");
    assert_eq!(read.body["bond"]["remaining"], "0.00");
    settle(&app, &recovery, "0.01", "bond").assert_problem(409, "BOND_NOT_AVAILABLE");
    // The rest is paid in cash.
    assert_eq!(
        settle(&app, &recovery, "500.00", "cash").expect(201)["status"],
        "settled"
    );

    let other = created(open(&app, &claim, &bondless, "500.00"));
    settle(&app, &other, "100.00", "bond").assert_problem(409, "BOND_NOT_AVAILABLE");
    assert_eq!(app.balance(FUND, "1200"), "500.00");
    app.assert_books_balance(FUND);
}

#[test]
fn recoveries_stay_within_the_award_one_open_per_claim_and_party() {
    let app = spawn();
    app.load_fund(FUND);
    let claim = paid_repatriation(&app, "R5", "2500.00");
    let agency = party(&app, "agency", "NEA/RA/2024/120", None);
    let employer = party(&app, "employer", "AE-MOHRE-2", None);
    open(&app, &claim, &agency, "2500.01").assert_problem(422, "RECOVERY_EXCEEDS_AWARD");
    created(open(&app, &claim, &agency, "1500.00"));
    let twice = open(&app, &claim, &agency, "100.00");
    assert!(twice.assert_problem(409, "RECOVERY_ALREADY_OPEN")["recovery_id"].is_string());
    let beyond = open(&app, &claim, &employer, "1000.01");
    assert_eq!(
        beyond.assert_problem(422, "RECOVERY_EXCEEDS_AWARD")["recoverable"],
        "1000.00"
    );
    created(open(&app, &claim, &employer, "1000.00"));
    let unknown = open(&app, &claim, "01a24cf6-0000-7000-8000-000000000000", "1.00");
    assert_eq!(
        unknown.assert_problem(422, "VALIDATION_FAILED")["errors"][0]["field"],
        "/party_id"
    );

    // A claim without an award has nothing to recover.
    let (worker, _) = worker(&app, "R5B");
    let submitted = app.post(
        &format!("/v1/workers/{worker}/claims"),
        &app.admin(),
        &json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
                "claimant": {"relationship": "worker"}, "claimed_amount": "100.00", "documents": []}),
    );
    let pending = created(submitted);
    open(&app, &pending, &agency, "1.00").assert_problem(409, "CLAIM_NOT_RECOVERABLE");
    assert_eq!(app.balance(FUND, "1200"), "2500.00");
    app.assert_books_balance(FUND);
}

/// One item of a match: the worker's 3000.00 contribution paid by the agency.
fn item(worker: &(String, String), external_ref: &str) -> Value {
    json!({"worker_id": worker.0, "contract_id": worker.1, "paid_on": "2026-01-05",
           "amount": "3000.00", "currency": "KES",
           "payers": [{"type": "agency", "amount": "3000.00"}], "external_ref": external_ref})
}

#[test]
fn a_bulk_receipt_from_an_agency_is_matched_to_several_workers_contributions() {
    let app = spawn();
    app.load_fund(FUND);
    let agency = party(&app, "agency", "NEA/RA/2024/121", None);
    let workers: Vec<(String, String)> = (0..4).map(|i| worker(&app, &format!("B{i}"))).collect();
    let receipt = app.post(
        &format!("/v1/funds/{FUND}/receipts"),
        &officer(&app),
        &json!({"payer": {"type": "party", "party_id": agency}, "amount": "9000.00", "currency": "KES",
                "received_on": "2026-01-05", "reference": "KCB-IN-7781"}),
    );
    assert_eq!(receipt.expect(201)["payer_type"], "agency");
    assert_eq!(receipt.body["unmatched"], "9000.00");
    let receipt = receipt.body["id"].as_str().unwrap().to_string();
    assert_eq!(app.balance(FUND, "1000"), "9000.00");
    assert_eq!(app.balance(FUND, "2300"), "9000.00");

    let matches = format!("/v1/receipts/{receipt}/matches");
    let two =
        json!({"items": [item(&workers[0], "KCB-IN-7781/1"), item(&workers[1], "KCB-IN-7781/2")]});
    let matched = app.post_with_key(&matches, &officer(&app), "match-1", &two);
    let body = matched.expect(201).clone();
    assert_eq!(body["receipt"]["matched"], "6000.00");
    assert_eq!(body["receipt"]["unmatched"], "3000.00");
    assert_eq!(body["contributions"].as_array().unwrap().len(), 2);
    assert_eq!(body["contributions"][0]["payers"][0]["type"], "agency");
    for w in &workers[..2] {
        let membership = app.get(
            &format!("/v1/workers/{}/membership?on=2026-03-01", w.0),
            &app.admin(),
        );
        assert_eq!(
            membership.expect(200)["active"],
            true,
            "{}",
            membership.text
        );
    }
    assert_eq!(app.balance(FUND, "2300"), "3000.00");
    assert_eq!(app.balance(FUND, "1000"), "9000.00");
    assert_eq!(app.balance(FUND, "4000"), "5400.00");

    // Retries book nothing more: with the same key, and by external reference.
    let replayed = app.post_with_key(&matches, &officer(&app), "match-1", &two);
    assert_eq!(replayed.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(replayed.body, body);
    let again = app.post(&matches, &officer(&app), &two);
    assert_eq!(again.expect(200)["receipt"]["matched"], "6000.00");
    assert_eq!(
        again.body["contributions"][0]["id"],
        body["contributions"][0]["id"]
    );

    // Matching more than is unmatched is refused whole.
    let too_much =
        json!({"items": [item(&workers[2], "KCB-IN-7781/3"), item(&workers[3], "KCB-IN-7781/4")]});
    app.post(&matches, &officer(&app), &too_much)
        .assert_problem(409, "RECEIPT_OVER_MATCHED");
    let other_payer = json!({"items": [{"worker_id": workers[2].0, "contract_id": workers[2].1, "paid_on": "2026-01-05",
        "amount": "3000.00", "currency": "KES", "payers": [{"type": "worker", "amount": "3000.00"}]}]});
    let refused = app.post(&matches, &officer(&app), &other_payer);
    assert_eq!(
        refused.assert_problem(422, "VALIDATION_FAILED")["errors"][0]["field"],
        "/items/0/payers/0/type"
    );
    let wrong_amount = json!({"items": [{"worker_id": workers[2].0, "contract_id": workers[2].1, "paid_on": "2026-01-05",
        "amount": "2000.00", "currency": "KES", "payers": [{"type": "agency", "amount": "2000.00"}]}]});
    app.post(&matches, &officer(&app), &wrong_amount)
        .assert_problem(422, "CONTRIBUTION_AMOUNT_MISMATCH");
    assert_eq!(app.balance(FUND, "2300"), "3000.00");
    let membership = app.get(
        &format!("/v1/workers/{}/membership?on=2026-03-01", workers[2].0),
        &app.admin(),
    );
    assert_eq!(membership.expect(200)["active"], false);

    let last = json!({"items": [item(&workers[2], "KCB-IN-7781/3")]});
    let done = app.post(&matches, &officer(&app), &last);
    assert_eq!(done.expect(201)["receipt"]["unmatched"], "0.00");
    assert_eq!(app.balance(FUND, "2300"), "0.00");
    let read = app.get(
        &format!("/v1/receipts/{receipt}"),
        &app.token(Role::Auditor, &[FUND]),
    );
    assert_eq!(read.expect(200)["matches"].as_array().unwrap().len(), 3);
    app.assert_books_balance(FUND);
}

#[test]
fn a_reversed_match_gives_its_money_back_to_the_receipt_and_a_bank_reference_is_booked_once() {
    let app = spawn();
    app.load_fund(FUND);
    let w = worker(&app, "G1");
    let receipt = json!({"payer": {"type": "government"}, "amount": "3000.00", "currency": "KES",
                         "received_on": "2026-01-05", "reference": "CBK-GOVT-2026-01"});
    let id = created(app.post(
        &format!("/v1/funds/{FUND}/receipts"),
        &officer(&app),
        &receipt,
    ));
    let twice = app.post(
        &format!("/v1/funds/{FUND}/receipts"),
        &officer(&app),
        &receipt,
    );
    assert_eq!(
        twice.assert_problem(409, "RECEIPT_ALREADY_RECORDED")["receipt_id"],
        id.as_str()
    );
    let mut government = item(&w, "CBK-GOVT-2026-01/1");
    government["payers"][0]["type"] = json!("government");
    let matched = app.post(
        &format!("/v1/receipts/{id}/matches"),
        &officer(&app),
        &json!({"items": [government]}),
    );
    let contribution = matched.expect(201)["contributions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/v1/contributions/{contribution}/reversal"),
        &officer(&app),
        &json!({"reason": "Matched to the wrong worker"}),
    )
    .expect(200);
    let read = app.get(&format!("/v1/receipts/{id}"), &app.admin());
    assert_eq!(read.expect(200)["unmatched"], "3000.00");
    assert_eq!(read.body["matches"][0]["standing"], false);
    assert_eq!(app.balance(FUND, "2300"), "3000.00");
    app.assert_books_balance(FUND);
}

#[test]
fn the_registry_refuses_a_duplicate_licence_and_answers_each_role_as_the_act_table_says() {
    let app = spawn();
    app.load_fund(FUND);
    app.load_fund("PH-OWWA");
    let body = json!({"kind": "agency", "name": "Nairobi Placement Ltd", "licence_number": "NEA/RA/2024/117",
                      "country": "KE", "contact": "compliance@example.org",
                      "bond": {"amount": "500000.00", "currency": "KES"}});
    let parties = format!("/v1/funds/{FUND}/parties");
    let first = created(app.post(&parties, &officer(&app), &body));
    let duplicate = app.post(&parties, &app.admin(), &body);
    assert_eq!(
        duplicate.assert_problem(409, "PARTY_ALREADY_REGISTERED")["party_id"],
        first.as_str()
    );
    let mut employer = body.clone();
    employer["kind"] = json!("employer");
    created(app.post(&parties, &officer(&app), &employer));
    let mut bad = body.clone();
    bad["country"] = json!("XX");
    bad["bond"]["amount"] = json!("1.001");
    let refused = app.post(&parties, &officer(&app), &bad);
    refused.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(refused.error_fields(), ["/country", "/bond/amount"]);

    for role in [Role::Auditor, Role::Ministry, Role::Approver] {
        let token = app.token(role, &[FUND]);
        app.post(
            &parties,
            &token,
            &json!({"kind": "agency", "name": "N", "licence_number": "L9", "country": "KE"}),
        )
        .assert_problem(403, "ROLE_NOT_PERMITTED");
        let listed = app.get(&format!("{parties}?kind=agency"), &token);
        assert_eq!(listed.expect(200)["items"].as_array().unwrap().len(), 1);
    }
    let philippine = app.token_for("officer.reyes", Role::Officer, &["PH-OWWA"]);
    app.get(&format!("{parties}/{first}"), &philippine)
        .assert_problem(404, "NOT_FOUND");
    app.get(&format!("/v1/funds/PH-OWWA/parties/{first}"), &philippine)
        .assert_problem(404, "NOT_FOUND");

    let suspended = app.patch(
        &format!("{parties}/{first}"),
        &officer(&app),
        &json!({"status": "suspended"}),
    );
    assert_eq!(suspended.expect(200)["status"], "suspended");
    assert_eq!(suspended.body["name"], "Nairobi Placement Ltd");
    assert_eq!(suspended.body["bond"]["remaining"], "500000.00");
    let listed = app.get(&format!("{parties}?status=suspended"), &app.admin());
    assert_eq!(listed.expect(200)["items"][0]["id"], first.as_str());
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

#[test]
fn racing_settlements_and_bond_draws_never_exceed_what_is_outstanding_or_the_bond() {
    let app = spawn();
    app.load_fund(FUND);
    let claim = paid_repatriation(&app, "R6", "2500.00");
    let bond = json!({"amount": "1500.00", "currency": "KES"});
    let agency = party(&app, "agency", "NEA/RA/2024/122", Some(bond));
    let recovery = created(open(&app, &claim, &agency, "2500.00"));
    // Eight draws of 500.00 from a 1500.00 bond, and eight cash payments of
    // 500.00, all at once: three draws and two payments settle the 2500.00.
    let statuses: Vec<(&str, u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (app, recovery) = (&app, &recovery);
                let source = if i % 2 == 0 { "bond" } else { "cash" };
                s.spawn(move || {
                    let res = settle(app, recovery, "500.00", source);
                    let code = res.body["code"].as_str().unwrap_or("").to_string();
                    (source, res.status, code)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let settled = statuses
        .iter()
        .filter(|(_, status, _)| *status == 201)
        .count();
    assert_eq!(settled, 5, "{statuses:?}");
    let drawn = (statuses.iter())
        .filter(|(source, status, _)| *source == "bond" && *status == 201)
        .count();
    assert!(drawn <= 3, "{statuses:?}");
    for (_, status, code) in statuses.iter().filter(|(_, status, _)| *status != 201) {
        assert_eq!(*status, 409);
        assert!(
            [
                "BOND_NOT_AVAILABLE",
                "SETTLEMENT_EXCEEDS_OUTSTANDING",
                "RECOVERY_STATUS_CONFLICT"
            ]
            .contains(&code.as_str()),
            "{code}"
        );
    }
    let read = app.get(&format!("/v1/recoveries/{recovery}"), &app.admin());
    assert_eq!(read.expect(200)["status"], "settled");
    assert_eq!(app.balance(FUND, "1200"), "0.00");
    let party = app.get(&format!("/v1/funds/{FUND}/parties/{agency}"), &app.admin());
    assert_eq!(
        party.expect(200)["bond"]["drawn"],
        format!("{}.00", drawn * 500)
    );
    app.assert_books_balance(FUND);
}

//! Instalment benefits under the example funds: a Nepal scholarship per school
//! year (a rider claimed by the deceased worker's child), a Bangladesh monthly
//! allowance, the payment run that pays what fell due, stopping a schedule,
//! lapsing at the age limit, and the rule field refused when it is wrong.
//! Dates are counted back from today, since payments are dated today at most.

use chrono::{Datelike, Days, Months, NaiveDate};
use mwf::auth::Role;
use serde_json::{json, Value};

use crate::claims::docs;
use crate::helpers::{spawn, Response, TestApp};

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A worker with a spouse and a child born on `child_born`, working abroad
/// around `incident`, covered by one contribution, and cash in the fund.
struct Family {
    worker: String,
    spouse: String,
    child: String,
}

fn family(
    app: &TestApp,
    fund: &str,
    document: &str,
    incident: NaiveDate,
    child_born: NaiveDate,
    money: (&str, &str),
) -> Family {
    let start = incident - Days::new(200);
    let end = incident + Days::new(400);
    let res = app.post(
        &format!("/v1/funds/{fund}/workers"),
        &app.admin(),
        &json!({
            "document_type": "passport", "document_number": document, "given_name": "Sita", "family_name": "Tamang",
            "date_of_birth": "1985-05-05", "sex": "female",
            "dependants": [
                {"name": "Ram Tamang", "relationship": "spouse"},
                {"name": "Maya Tamang", "relationship": "child", "date_of_birth": child_born.to_string()}
            ],
            "contracts": [{"employer": "E", "destination_country": "QA", "start_date": start.to_string(), "end_date": end.to_string()}]
        }),
    );
    let w = res.expect(201).clone();
    let worker = w["id"].as_str().unwrap().to_string();
    let contract = w["contracts"][0]["id"].as_str().unwrap().to_string();
    let paid_on = (start - Days::new(30)).to_string();
    app.contribute(
        fund,
        &worker,
        Some(&contract),
        &paid_on,
        (money.0, money.1, money.0),
    )
    .expect(201);
    app.transfer(fund, &paid_on, "1000", "3100", "1000000.00", money.1)
        .expect(201);
    let dependant = |rel: &str| {
        w["dependants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["relationship"] == rel)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    Family {
        spouse: dependant("spouse"),
        child: dependant("child"),
        worker,
    }
}

/// Loads the Nepal fund and a family whose worker died abroad three years ago
/// to the day, leaving a ten-year-old child; returns it and the incident date.
fn nepal_family(app: &TestApp, document: &str) -> (Family, NaiveDate) {
    app.load_fund("NP-FEWF");
    let incident = three_years_ago();
    let child_born = incident - Months::new(120);
    let f = family(
        app,
        "NP-FEWF",
        document,
        incident,
        child_born,
        ("1500.00", "NPR"),
    );
    (f, incident)
}

fn three_years_ago() -> NaiveDate {
    today().checked_sub_months(Months::new(36)).unwrap()
}

/// The first 14 April (Nepal's school year) after `date`.
fn next_school_year(date: NaiveDate) -> NaiveDate {
    let this_year = NaiveDate::from_ymd_opt(date.year(), 4, 14).unwrap();
    if this_year > date {
        this_year
    } else {
        NaiveDate::from_ymd_opt(date.year() + 1, 4, 14).unwrap()
    }
}

const DEATH_DOCS: [(&str, &str); 5] = [
    ("DEATH_CERTIFICATE", "DC-1"),
    ("PROOF_OF_RELATIONSHIP", "BC-1"),
    ("CLAIMANT_ID", "ID-1"),
    ("LABOUR_PERMIT", "LP-1"),
    ("SCHOOL_ENROLMENT", "ENR-1"),
];

/// A death claimed by the spouse, the scholarship rider claimed by the child.
fn death_with_scholarship(
    app: &TestApp,
    f: &Family,
    incident: NaiveDate,
    name_the_child: bool,
) -> Response {
    let mut body = json!({
        "benefit": "DEATH", "incident_date": incident.to_string(), "incident_phase": "abroad",
        "filed_on": (incident + Days::new(20)).to_string(),
        "claimant": {"relationship": "spouse", "dependant_id": f.spouse},
        "documents": docs(&DEATH_DOCS)
    });
    if name_the_child {
        body["rider_claimants"] = json!([{"benefit": "CHILD_SCHOLARSHIP", "relationship": "child", "dependant_id": f.child}]);
    }
    app.post(
        &format!("/v1/workers/{}/claims", f.worker),
        &app.admin(),
        &body,
    )
}

/// Approves `claim` for its payable amount and pays it today.
fn approve_and_pay(app: &TestApp, claim: &str) -> Value {
    approve(app, claim);
    let paid = app.post(
        &format!("/v1/claims/{claim}/payment"),
        &app.admin(),
        &json!({"paid_on": today().to_string()}),
    );
    assert_eq!(paid.expect(200)["status"], "paid", "{}", paid.text);
    paid.body.clone()
}

fn approve(app: &TestApp, claim: &str) {
    let decided = app.post(
        &format!("/v1/claims/{claim}/decision"),
        &app.admin(),
        &json!({"outcome": "approve"}),
    );
    assert_eq!(
        decided.expect(200)["status"],
        "approved",
        "{}",
        decided.text
    );
}

fn run(app: &TestApp, fund: &str) -> Value {
    app.post(
        &format!("/v1/funds/{fund}/payment-runs"),
        &app.admin(),
        &json!({"paid_on": today().to_string()}),
    )
    .expect(200)
    .clone()
}

fn statuses(schedule: &Value) -> Vec<String> {
    schedule["instalments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap().to_string())
        .collect()
}

fn proof(app: &TestApp, claim: &str, number: u32) -> Response {
    app.post(
        &format!("/v1/claims/{claim}/instalments/{number}/documents"),
        &app.admin(),
        &json!({"documents": [{"type": "SCHOOL_ENROLMENT", "reference": format!("ENR-{number}")}]}),
    )
}

#[test]
fn the_scholarship_rider_named_for_the_child_is_assessed_for_the_child() {
    let app = spawn();
    let (f, incident) = nepal_family(&app, "NP1");

    let unnamed = death_with_scholarship(&app, &f, incident, false);
    let rider = &unnamed.expect(201)["riders"][0];
    assert_eq!(rider["benefit"], "CHILD_SCHOLARSHIP");
    assert_eq!(
        rider["assessment"]["reasons"],
        json!(["CLAIMANT_NOT_ELIGIBLE"])
    );
    let withdrawn = app.post(
        &format!(
            "/v1/claims/{}/withdrawal",
            unnamed.body["id"].as_str().unwrap()
        ),
        &app.admin(),
        &json!({}),
    );
    withdrawn.expect(200);

    let named = death_with_scholarship(&app, &f, incident, true);
    let body = named.expect(201);
    assert_eq!(body["riders"].as_array().unwrap().len(), 1);
    let rider = &body["riders"][0];
    assert_eq!(rider["assessment"]["outcome"], "eligible", "{}", named.text);
    assert_eq!(rider["assessment"]["payable"], "25000.00");
    let read = app.get(
        &format!("/v1/claims/{}", rider["id"].as_str().unwrap()),
        &app.admin(),
    );
    assert_eq!(read.expect(200)["claimant_relationship"], "child");
    assert_eq!(read.body["dependant_id"], json!(f.child));
    assert!(read.body["assessment"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["check"] == "age_limit" && c["passed"] == true));
}

#[test]
fn rider_claimants_name_riders_of_the_benefit_and_registered_dependants() {
    let app = spawn();
    let (f, incident) = nepal_family(&app, "NP2");
    let mut body = json!({
        "benefit": "DEATH", "incident_date": incident.to_string(), "incident_phase": "abroad",
        "filed_on": (incident + Days::new(20)).to_string(),
        "claimant": {"relationship": "spouse", "dependant_id": f.spouse},
        "documents": docs(&DEATH_DOCS),
        "rider_claimants": [{"benefit": "CHILD_SCHOLARSHIP", "relationship": "child", "dependant_id": "0193b0c4-7f40-7c63-9e51-4da08f3c6b93"}]
    });
    let path = format!("/v1/workers/{}/claims", f.worker);
    let unknown = app.post(&path, &app.admin(), &body);
    unknown.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(
        unknown.error_fields(),
        vec!["/rider_claimants/0/dependant_id"]
    );

    body["rider_claimants"] =
        json!([{"benefit": "DISABILITY", "relationship": "child", "dependant_id": f.child}]);
    let not_a_rider = app.post(&path, &app.admin(), &body);
    not_a_rider.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(
        not_a_rider.error_fields(),
        vec!["/rider_claimants/0/benefit"]
    );
    // Nothing half-written: the worker has no claim.
    let claims = app.get(&path, &app.admin());
    assert_eq!(claims.expect(200)["items"], json!([]));
}

#[test]
fn a_nepal_scholarship_is_paid_for_three_school_years_and_stopped_when_the_child_leaves_school() {
    let app = spawn();
    let (f, incident) = nepal_family(&app, "NP3");
    let claim = death_with_scholarship(&app, &f, incident, true);
    let scholarship = claim.expect(201)["riders"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let paid = approve_and_pay(&app, &scholarship);
    let schedule = &paid["instalments"];
    assert_eq!(schedule["every"], "school_year");
    assert_eq!(schedule["instalments"].as_array().unwrap().len(), 12);
    let first = &schedule["instalments"][0];
    assert_eq!(first["due_on"], json!(incident));
    assert_eq!(first["status"], "paid");
    assert_eq!(first["amount"], "25000.00");
    assert_eq!(first["expense_entry_id"], paid["approval_entry_id"]);
    assert_eq!(
        first["payment_entry_id"],
        paid["payment"]["journal_entry_id"]
    );
    assert_eq!(
        schedule["instalments"][1]["due_on"],
        json!(next_school_year(incident))
    );

    // Proof of enrolment for the second and third school years, not the fourth.
    proof(&app, &scholarship, 2).expect(200);
    let with_proof = proof(&app, &scholarship, 3);
    assert_eq!(
        with_proof.expect(200)["instalments"][2]["documents"][0]["type"],
        "SCHOOL_ENROLMENT"
    );
    let cash_before = app.balance("NP-FEWF", "1000");
    let ran = run(&app, "NP-FEWF");
    let looked_at = ran["instalments"].as_array().unwrap();
    assert_eq!(looked_at.len(), 3, "{ran}");
    assert_eq!(
        looked_at
            .iter()
            .map(|i| (i["number"].as_u64().unwrap(), i["status"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        vec![(2, "paid"), (3, "paid"), (4, "due")]
    );
    assert_eq!(looked_at[2]["reasons"], json!(["MISSING_DOCUMENTS"]));
    let cash_after = app.balance("NP-FEWF", "1000");
    assert_eq!(
        cash_before.parse::<rust_decimal::Decimal>().unwrap()
            - cash_after.parse::<rust_decimal::Decimal>().unwrap(),
        "50000.00".parse::<rust_decimal::Decimal>().unwrap()
    );
    assert_eq!(app.balance("NP-FEWF", "2000"), "0.00");
    assert_eq!(app.balance("NP-FEWF", "5600"), "75000.00");

    // Stopping is a decision with reasons.
    let stop = format!("/v1/claims/{scholarship}/instalments/stop");
    let without = app.post(&stop, &app.admin(), &json!({"reasons": []}));
    without.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(without.error_fields(), vec!["/reasons"]);
    let approver = app.token(Role::Approver, &["*"]);
    app.post(&stop, &approver, &json!({"reasons": ["LEFT_SCHOOL"]}))
        .assert_problem(403, "ROLE_NOT_PERMITTED");
    let stopped = app.post(
        &stop,
        &app.admin(),
        &json!({"reasons": ["LEFT_SCHOOL"], "note": "The school confirms she left"}),
    );
    let schedule = stopped.expect(200).clone();
    assert_eq!(schedule["running"], false);
    assert_eq!(schedule["stopped"]["reasons"], json!(["LEFT_SCHOOL"]));
    let s = statuses(&schedule);
    assert_eq!(&s[..3], &["paid", "paid", "paid"]);
    assert!(s[3..].iter().all(|s| s == "stopped"), "{s:?}");

    // Later years are not paid, proof or not.
    proof(&app, &scholarship, 4).assert_problem(409, "INSTALMENT_STATUS_CONFLICT");
    assert_eq!(run(&app, "NP-FEWF")["instalments"], json!([]));
    app.post(&stop, &app.admin(), &json!({"reasons": ["LEFT_SCHOOL"]}))
        .assert_problem(409, "INSTALMENT_STATUS_CONFLICT");
    assert_eq!(app.balance("NP-FEWF", "5600"), "75000.00");
    let read = app.get(
        &format!("/v1/claims/{scholarship}/instalments"),
        &app.admin(),
    );
    assert_eq!(statuses(read.expect(200)), s);

    // Audited and announced.
    let events = app.get("/v1/events?limit=500", &app.admin());
    let types: Vec<&str> = events.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "claim.instalment_paid")
            .count(),
        2
    );
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "claim.instalments_stopped")
            .count(),
        1
    );
    app.assert_books_balance("NP-FEWF");
}

#[test]
fn a_scholarship_lapses_when_the_child_reaches_the_age_limit() {
    let app = spawn();
    app.load_fund("NP-FEWF");
    let incident = three_years_ago();
    // Eighteen half a year after the second school year starts.
    let born = (next_school_year(incident) + Months::new(6)) - Months::new(18 * 12);
    let f = family(&app, "NP-FEWF", "NP4", incident, born, ("1500.00", "NPR"));
    let claim = death_with_scholarship(&app, &f, incident, true);
    let scholarship = claim.expect(201)["riders"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    approve_and_pay(&app, &scholarship);
    proof(&app, &scholarship, 2).expect(200);
    proof(&app, &scholarship, 3).expect(200);

    let ran = run(&app, "NP-FEWF");
    let looked_at = ran["instalments"].as_array().unwrap();
    assert_eq!(looked_at[0]["number"], 2);
    assert_eq!(looked_at[0]["status"], "paid");
    assert_eq!(looked_at[1]["number"], 3);
    assert_eq!(looked_at[1]["status"], "lapsed");
    assert_eq!(looked_at[1]["reasons"], json!(["AGE_LIMIT_REACHED"]));
    let read = app.get(
        &format!("/v1/claims/{scholarship}/instalments"),
        &app.admin(),
    );
    let schedule = read.expect(200);
    assert_eq!(schedule["running"], false);
    let s = statuses(schedule);
    assert_eq!(&s[..2], &["paid", "paid"]);
    assert!(s[2..].iter().all(|s| s == "lapsed"), "{s:?}");
    assert_eq!(schedule["instalments"][2]["assessment"]["claimant_age"], 18);
    assert_eq!(app.balance("NP-FEWF", "5600"), "50000.00");
    app.assert_books_balance("NP-FEWF");
}

/// A Bangladesh worker disabled abroad six months ago: the monthly allowance
/// for the child, approved and its first instalment paid. Returns the claim.
pub fn running_allowance(app: &TestApp, document: &str) -> String {
    let claim = filed_allowance(app, document);
    approve_and_pay(app, &claim);
    claim
}

/// The allowance of [`running_allowance`], filed and not yet decided.
fn filed_allowance(app: &TestApp, document: &str) -> String {
    if app.get("/v1/funds/BD-WEWB", &app.admin()).status == 404 {
        app.load_fund("BD-WEWB");
    }
    let incident = today().checked_sub_months(Months::new(6)).unwrap();
    let f = family(
        app,
        "BD-WEWB",
        document,
        incident,
        incident - Months::new(60),
        ("3500.00", "BDT"),
    );
    let res = app.post(
        &format!("/v1/workers/{}/claims", f.worker),
        &app.admin(),
        &json!({
            "benefit": "DISABLED_WORKER_CHILD_ALLOWANCE", "incident_date": incident.to_string(), "incident_phase": "abroad",
            "filed_on": (incident + Days::new(10)).to_string(),
            "claimant": {"relationship": "child", "dependant_id": f.child},
            "documents": docs(&[("DISABILITY_CERTIFICATE", "MB-7"), ("PROOF_OF_RELATIONSHIP", "BR-7")])
        }),
    );
    res.expect(201)["id"].as_str().unwrap().to_string()
}

#[test]
fn later_instalments_wait_for_the_claim_itself_to_be_paid_and_a_keyed_stop_is_decided_once() {
    let app = spawn();
    let claim = filed_allowance(&app, "BD3");
    approve(&app, &claim);
    let ran = run(&app, "BD-WEWB");
    let looked_at = ran["instalments"].as_array().unwrap();
    assert_eq!(looked_at.len(), 6, "{ran}");
    assert!(looked_at
        .iter()
        .all(|i| i["status"] == "due" && i["reasons"] == json!(["FIRST_INSTALMENT_UNPAID"])));
    assert_eq!(app.balance("BD-WEWB", "5200"), "3000.00");
    // Not running until its first instalment is paid.
    let stop = format!("/v1/claims/{claim}/instalments/stop");
    app.post(&stop, &app.admin(), &json!({"reasons": ["CHILD_EMPLOYED"]}))
        .assert_problem(409, "INSTALMENT_STATUS_CONFLICT");

    let paid = app.post(
        &format!("/v1/claims/{claim}/payment"),
        &app.admin(),
        &json!({"paid_on": today().to_string()}),
    );
    assert_eq!(
        paid.expect(200)["instalments"]["instalments"][0]["status"],
        "paid"
    );
    let ran = run(&app, "BD-WEWB");
    assert!(ran["instalments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["status"] == "paid"));
    assert_eq!(app.balance("BD-WEWB", "5200"), "21000.00");

    let body = json!({"reasons": ["CHILD_EMPLOYED"], "note": "Works at a garment factory"});
    let first = app.post_with_key(&stop, &app.admin(), "stop-bd3", &body);
    let again = app.post_with_key(&stop, &app.admin(), "stop-bd3", &body);
    assert_eq!(first.expect(200), again.expect(200));
    let events = app.get(
        &format!("/v1/events?claim={claim}&type=claim.instalments_stopped"),
        &app.admin(),
    );
    assert_eq!(events.expect(200)["items"].as_array().unwrap().len(), 1);
    let event = &events.body["items"][0]["data"];
    assert_eq!(event["reasons"], json!(["CHILD_EMPLOYED"]));
    assert_eq!(event["benefit"], "DISABLED_WORKER_CHILD_ALLOWANCE");
    app.assert_books_balance("BD-WEWB");
}

#[test]
fn a_worker_token_names_no_other_claimant_for_a_rider() {
    let app = spawn();
    let (f, incident) = nepal_family(&app, "NP5");
    let token = app.token_for(&f.spouse, Role::Worker, &["NP-FEWF"]);
    let body = json!({
        "benefit": "DEATH", "incident_date": incident.to_string(), "incident_phase": "abroad",
        "filed_on": (incident + Days::new(20)).to_string(),
        "claimant": {"relationship": "spouse", "dependant_id": f.spouse},
        "documents": docs(&DEATH_DOCS),
        "rider_claimants": [{"benefit": "CHILD_SCHOLARSHIP", "relationship": "child", "dependant_id": f.child}]
    });
    let res = app.post(&format!("/v1/workers/{}/claims", f.worker), &token, &body);
    res.assert_problem(403, "ROLE_NOT_PERMITTED");
    assert_eq!(res.error_fields(), vec!["/rider_claimants"]);
}

#[test]
fn a_bangladesh_allowance_of_sixty_months_pays_those_due_on_the_run_date() {
    let app = spawn();
    let claim = running_allowance(&app, "BD1");
    let read = app.get(&format!("/v1/claims/{claim}"), &app.admin());
    let schedule = &read.expect(200)["instalments"];
    assert_eq!(schedule["every"], "month");
    assert_eq!(schedule["instalments"].as_array().unwrap().len(), 60);
    assert_eq!(statuses(schedule)[0], "paid");
    assert!(statuses(schedule)[1..].iter().all(|s| s == "scheduled"));

    let ran = run(&app, "BD-WEWB");
    let looked_at = ran["instalments"].as_array().unwrap();
    assert_eq!(looked_at.len(), 6, "{ran}");
    assert!(looked_at
        .iter()
        .all(|i| i["status"] == "paid" && i["claim_id"] == json!(claim)));
    assert!(looked_at
        .iter()
        .all(|i| i["due_on"].as_str().unwrap() <= today().to_string().as_str()));

    let read = app.get(&format!("/v1/claims/{claim}/instalments"), &app.admin());
    let schedule = read.expect(200);
    let s = statuses(schedule);
    assert_eq!(s.iter().filter(|s| *s == "paid").count(), 7);
    assert_eq!(s.iter().filter(|s| *s == "scheduled").count(), 53);
    // Each instalment books its own expense, then its payment.
    let entries: Vec<(&str, &str)> = schedule["instalments"].as_array().unwrap()[..7]
        .iter()
        .map(|i| {
            (
                i["expense_entry_id"].as_str().unwrap(),
                i["payment_entry_id"].as_str().unwrap(),
            )
        })
        .collect();
    let distinct: std::collections::BTreeSet<&str> =
        entries.iter().flat_map(|(a, b)| [*a, *b]).collect();
    assert_eq!(distinct.len(), 14);
    assert_eq!(app.balance("BD-WEWB", "5200"), "21000.00");
    assert_eq!(app.balance("BD-WEWB", "2000"), "0.00");
    app.assert_books_balance("BD-WEWB");
    let trial = app.get(
        &format!("/v1/funds/BD-WEWB/reports/trial-balance?as_of={}", today()),
        &app.admin(),
    );
    trial.expect(200);

    // A second run on the same day finds nothing more due.
    assert_eq!(run(&app, "BD-WEWB")["instalments"], json!([]));

    // The claims statistics count the instalments.
    let from = today().checked_sub_months(Months::new(12)).unwrap();
    let stats = app.get(
        &format!(
            "/v1/funds/BD-WEWB/reports/claims?from={from}&to={}",
            today()
        ),
        &app.admin(),
    );
    let instalments = &stats.expect(200)["instalments"][0];
    assert_eq!(instalments["currency"], "BDT");
    assert_eq!(
        instalments["paid"],
        json!({"count": 7, "amount": "21000.00"})
    );
    assert_eq!(
        instalments["scheduled"],
        json!({"count": 53, "amount": "159000.00"})
    );
    assert_eq!(instalments["stopped"]["count"], 0);
}

#[test]
fn an_instalment_waits_for_cash_with_its_expense_booked_and_stopping_reverses_it() {
    let app = spawn();
    let claim = running_allowance(&app, "BD2");
    // Empty the till but for one and a half instalments.
    let cash: rust_decimal::Decimal = app.balance("BD-WEWB", "1000").parse().unwrap();
    let leave: rust_decimal::Decimal = "4500.00".parse().unwrap();
    app.transfer(
        "BD-WEWB",
        &today().to_string(),
        "3100",
        "1000",
        &(cash - leave).to_string(),
        "BDT",
    )
    .expect(201);
    let ran = run(&app, "BD-WEWB");
    let looked_at = ran["instalments"].as_array().unwrap();
    assert_eq!(looked_at[0]["status"], "paid");
    assert_eq!(looked_at[1]["status"], "due");
    assert_eq!(looked_at[1]["reasons"], json!(["AWAITING_FUNDS"]));
    // Later ones do not overtake it.
    assert!(looked_at[2..]
        .iter()
        .all(|i| i["reasons"] == json!(["AWAITING_FUNDS"])));
    assert_eq!(app.balance("BD-WEWB", "1000"), "1500.00");
    assert_eq!(app.balance("BD-WEWB", "2000"), "3000.00");

    let stopped = app.post(
        &format!("/v1/claims/{claim}/instalments/stop"),
        &app.admin(),
        &json!({"reasons": ["CHILD_EMPLOYED"]}),
    );
    assert!(statuses(stopped.expect(200))[2..]
        .iter()
        .all(|s| s == "stopped"));
    assert_eq!(app.balance("BD-WEWB", "2000"), "0.00");
    assert_eq!(app.balance("BD-WEWB", "5200"), "6000.00");
    app.assert_books_balance("BD-WEWB");
}

#[test]
fn bad_instalment_rules_are_refused_with_their_pointers() {
    let app = spawn();
    app.load_fund("NP-FEWF");
    let file = mwf::demo::fund_file("NP-FEWF").unwrap();
    let mut doc = file.versions.last().unwrap().clone();
    doc["version"] = json!("NP-FEWF-2030");
    doc["effective_from"] = json!("2030-01-01");
    assert_eq!(doc["benefits"][3]["code"], "CHILD_SCHOLARSHIP");
    doc["benefits"][3]["instalments"] =
        json!({"every": "school_year", "count": 0, "max_age": 0, "documents": ["enrolment"]});
    doc["benefits"][2]["instalments"] = json!({"every": "month", "school_year_starts": "04-14"});
    doc["benefits"][1]["instalments"] =
        json!({"every": "school_year", "school_year_starts": "02-29", "count": 3});
    // The death benefit's heirs share it: a schedule pays one claimant, so the two don't combine.
    assert!(doc["benefits"][0]["beneficiaries"].is_object());
    doc["benefits"][0]["instalments"] = json!({"every": "month", "count": 12});
    let res = app.post("/v1/funds/NP-FEWF/rules", &app.admin(), &doc);
    res.assert_problem(422, "VALIDATION_FAILED");
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "/benefits/0/instalments",
            "/benefits/1/instalments/school_year_starts",
            "/benefits/2/instalments/count",
            "/benefits/2/instalments/school_year_starts",
            "/benefits/3/instalments/count",
            "/benefits/3/instalments/documents/0",
            "/benefits/3/instalments/max_age",
            "/benefits/3/instalments/school_year_starts",
        ]
    );
    doc["benefits"][3]["instalments"] = json!({"every": "month", "count": 12, "every_other": true});
    doc["benefits"][0]
        .as_object_mut()
        .unwrap()
        .remove("instalments");
    doc["benefits"][2]
        .as_object_mut()
        .unwrap()
        .remove("instalments");
    doc["benefits"][1]
        .as_object_mut()
        .unwrap()
        .remove("instalments");
    let unknown = app.post("/v1/funds/NP-FEWF/rules", &app.admin(), &doc);
    assert!(
        unknown.status == 400 || unknown.status == 422,
        "{}",
        unknown.text
    );
    // The published documents keep their meaning: the ones without the field read back without it.
    let rules = app.get("/v1/funds/NP-FEWF/rules", &app.admin());
    let text = rules.expect(200).to_string();
    assert_eq!(text.matches("\"instalments\"").count(), 2, "{text}");
}

#[test]
fn the_demo_runs_a_nepal_scholarship_and_a_bangladesh_allowance_with_later_instalments_paid() {
    let app = spawn();
    let mut conn = app.connection();
    let options = mwf::demo::DemoOptions {
        workers_per_fund: 30,
    };
    mwf::demo::run(&mut conn, options, &mut mwf::progress::Progress::hidden())
        .expect("the demo runs");
    for (fund, benefit) in [
        ("NP-FEWF", "CHILD_SCHOLARSHIP"),
        ("BD-WEWB", "DISABLED_WORKER_CHILD_ALLOWANCE"),
    ] {
        let claims = app.get(
            &format!("/v1/funds/{fund}/claims?benefit={benefit}&status=paid&limit=500"),
            &app.admin(),
        );
        let most_paid = claims.expect(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["instalments"]["instalments"].as_array())
            .map(|list| list.iter().filter(|i| i["status"] == "paid").count())
            .max()
            .unwrap_or(0);
        assert!(most_paid >= 2, "{fund}: {}", claims.text);
        app.assert_books_balance(fund);
    }
}

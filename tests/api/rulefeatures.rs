//! Rules the real funds write (issue 15): benefits that exclude each other for
//! one event, coverage anchored on contract events (Indonesia), renewal pricing
//! (Sri Lanka), a filing window counted from the contract's end (Nepal), and
//! rebates for long-standing members.

use serde_json::{json, Value};

use crate::helpers::{spawn, Response, TestApp};

/// What a death claim attaches (the police report serves accidental deaths).
const DEATH_DOCS: [&str; 4] = [
    "DEATH_CERTIFICATE",
    "PROOF_OF_RELATIONSHIP",
    "CLAIMANT_ID",
    "POLICE_OR_ACCIDENT_REPORT",
];

fn docs(types: &[&str]) -> Value {
    Value::Array(
        types
            .iter()
            .enumerate()
            .map(|(i, t)| json!({"type": t, "reference": format!("REF-{i}")}))
            .collect(),
    )
}

/// The worker's id, contract id and spouse id from an enrollment response.
fn ids(enrolled: &Value) -> (String, String, String) {
    let text = |v: &Value| v.as_str().unwrap().to_string();
    (
        text(&enrolled["id"]),
        text(&enrolled["contracts"][0]["id"]),
        text(&enrolled["dependants"][0]["id"]),
    )
}

/// Enrolls a worker of `fund` with a spouse and one contract.
fn enroll(
    app: &TestApp,
    fund: &str,
    document: &str,
    contract: (&str, &str),
) -> (String, String, String) {
    let res = app.post(
        &format!("/v1/funds/{fund}/workers"),
        &app.admin(),
        &json!({
            "document_type": "passport", "document_number": document, "given_name": "Sri", "family_name": "Wahyuni",
            "date_of_birth": "1990-01-01", "sex": "female", "occupation_sector": "domestic_work",
            "dependants": [{"name": "Budi", "relationship": "spouse"}],
            "contracts": [{"employer": "E", "destination_country": "HK", "start_date": contract.0, "end_date": contract.1}]
        }),
    );
    ids(res.expect(201))
}

/// The quote for the worker's contract paid on `paid_on`.
fn quote(app: &TestApp, fund: &str, worker: &str, contract: &str, paid_on: &str) -> Value {
    app.get(
        &format!("/v1/funds/{fund}/contributions/quote?worker_id={worker}&contract_id={contract}&paid_on={paid_on}"),
        &app.admin(),
    )
    .expect(200)
    .clone()
}

/// Records what the quote asks, paid by `payer` alone.
fn pay_quoted(
    app: &TestApp,
    fund: &str,
    worker: &str,
    contract: &str,
    paid_on: &str,
    payer: &str,
) -> Value {
    let q = quote(app, fund, worker, contract, paid_on);
    app.post(
        &format!("/v1/funds/{fund}/contributions"),
        &app.admin(),
        &json!({"worker_id": worker, "contract_id": contract, "paid_on": paid_on,
                "amount": q["amount"], "currency": q["currency"],
                "payers": [{"type": payer, "amount": q["total"]}]}),
    )
    .expect(201)
    .clone()
}

fn claim(app: &TestApp, worker: &str, body: Value) -> Value {
    app.post(&format!("/v1/workers/{worker}/claims"), &app.admin(), &body)
        .expect(201)
        .clone()
}

fn death(benefit: &str, date: &str, phase: &str, filed_on: &str, spouse: &str) -> Value {
    json!({"benefit": benefit, "incident_date": date, "incident_phase": phase, "filed_on": filed_on,
           "claimant": {"relationship": "spouse", "dependant_id": spouse}, "documents": docs(&DEATH_DOCS)})
}

fn reasons(claim: &Value) -> Vec<String> {
    claim["assessment"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_natural_and_an_accidental_death_for_one_event_the_second_is_refused() {
    let app = spawn();
    app.load_fund("PH-OWWA");
    let (worker, contract, spouse) = enroll(&app, "PH-OWWA", "PH-X1", ("2017-03-15", "2019-03-14"));
    app.contribute(
        "PH-OWWA",
        &worker,
        Some(&contract),
        "2017-03-01",
        ("25.00", "USD", "25.00"),
    )
    .expect(201);
    let natural = claim(
        &app,
        &worker,
        death(
            "DEATH_NATURAL",
            "2018-05-10",
            "abroad",
            "2018-06-01",
            &spouse,
        ),
    );
    assert_eq!(natural["assessment"]["outcome"], "eligible", "{natural}");
    let accidental = claim(
        &app,
        &worker,
        death(
            "DEATH_ACCIDENT",
            "2018-05-10",
            "abroad",
            "2018-06-01",
            &spouse,
        ),
    );
    assert_eq!(accidental["assessment"]["outcome"], "ineligible");
    assert_eq!(reasons(&accidental), vec!["EXCLUDED_BY_OTHER_BENEFIT"]);
    // The first claim is not refused by the second, filed after it.
    let decided = app.post(
        &format!("/v1/claims/{}/decision", natural["id"].as_str().unwrap()),
        &app.token_for("officer.cruz", mwf::auth::Role::Officer, &["PH-OWWA"]),
        &json!({"outcome": "approve", "amount": "100000.00", "reasons": [], "note": "natural causes"}),
    );
    assert_eq!(decided.expect(200)["status"], "approved");
    // Another day is another event.
    let other_day = claim(
        &app,
        &worker,
        death(
            "DEATH_ACCIDENT",
            "2018-05-11",
            "abroad",
            "2018-06-01",
            &spouse,
        ),
    );
    assert!(!reasons(&other_day).contains(&"EXCLUDED_BY_OTHER_BENEFIT".to_string()));
}

#[test]
fn indonesian_coverage_reaches_five_months_before_departure_and_one_month_after_return() {
    let app = spawn();
    app.load_fund("ID-BPJS-PMI");
    let fund = "ID-BPJS-PMI";
    let (early, early_contract, early_spouse) =
        enroll(&app, fund, "ID-X1", ("2024-06-01", "2026-05-31"));
    // Paid six months before the planned departure: covered from five months before it.
    let paid = pay_quoted(
        &app,
        fund,
        &early,
        &early_contract,
        "2023-12-01",
        "employer",
    );
    assert_eq!(
        paid["coverage"],
        json!({"start": "2024-01-01", "end": "2026-06-30"})
    );
    let before = claim(
        &app,
        &early,
        death(
            "JKM_DEATH_OUTSIDE_WORK",
            "2024-02-01",
            "before_departure",
            "2024-02-10",
            &early_spouse,
        ),
    );
    assert_eq!(before["assessment"]["outcome"], "eligible", "{before}");

    let (late, late_contract, late_spouse) =
        enroll(&app, fund, "ID-X2", ("2024-06-01", "2026-05-31"));
    let paid = pay_quoted(&app, fund, &late, &late_contract, "2024-01-20", "employer");
    app.patch(
        &format!("/v1/workers/{late}/contracts/{late_contract}"),
        &app.admin(),
        &json!({"departed_on": "2024-06-05", "terminated_on": "2025-03-30", "returned_on": "2025-03-31"}),
    )
    .expect(200);
    let contribution = app.get(
        &format!("/v1/contributions/{}", paid["id"].as_str().unwrap()),
        &app.admin(),
    );
    assert_eq!(
        contribution.expect(200)["coverage"],
        json!({"start": "2024-01-20", "end": "2025-04-30"})
    );
    let within = claim(
        &app,
        &late,
        death(
            "JKM_DEATH_OUTSIDE_WORK",
            "2025-04-20",
            "after_return",
            "2025-04-25",
            &late_spouse,
        ),
    );
    assert_eq!(within["assessment"]["outcome"], "eligible", "{within}");
    let after = claim(
        &app,
        &late,
        death(
            "JKM_DEATH_OUTSIDE_WORK",
            "2025-05-31",
            "after_return",
            "2025-06-05",
            &late_spouse,
        ),
    );
    assert!(
        reasons(&after).contains(&"MEMBERSHIP_INACTIVE".to_string()),
        "{after}"
    );
}

#[test]
fn a_sri_lankan_renewal_is_priced_at_the_renewal_price_and_a_first_registration_is_not() {
    let app = spawn();
    app.load_fund("LK-SLBFE");
    let fund = "LK-SLBFE";
    let (worker, first, _) = enroll(&app, fund, "LK-X1", ("2024-02-01", "2026-01-31"));
    let q = quote(&app, fund, &worker, &first, "2024-01-15");
    assert_eq!(
        (q["pricing"].clone(), q["amount"].clone()),
        (json!("standard"), json!("15200.00"))
    );
    let registration = pay_quoted(&app, fund, &worker, &first, "2024-01-15", "worker");
    let second = app
        .post(
            &format!("/v1/workers/{worker}/contracts"),
            &app.admin(),
            &json!({"employer": "F", "destination_country": "QA", "start_date": "2026-03-01", "end_date": "2028-02-29"}),
        )
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let q = quote(&app, fund, &worker, &second, "2026-02-15");
    assert_eq!(
        (
            q["pricing"].clone(),
            q["amount"].clone(),
            q["total"].clone()
        ),
        (json!("renewal"), json!("4800.00"), json!("5664.00"))
    );
    // The first registration's price is refused for a renewal.
    let full = app.contribute(
        fund,
        &worker,
        Some(&second),
        "2026-02-15",
        ("15200.00", "LKR", "17936.00"),
    );
    full.assert_problem(422, "CONTRIBUTION_AMOUNT_MISMATCH");
    // A newcomer on the same day registers at the full price.
    let (newcomer, contract, _) = enroll(&app, fund, "LK-X2", ("2026-03-01", "2028-02-29"));
    let q = quote(&app, fund, &newcomer, &contract, "2026-02-15");
    assert_eq!(
        (q["pricing"].clone(), q["amount"].clone()),
        (json!("standard"), json!("15200.00"))
    );
    // A reversed registration does not make the next one a renewal.
    app.post(
        &format!(
            "/v1/contributions/{}/reversal",
            registration["id"].as_str().unwrap()
        ),
        &app.admin(),
        &json!({"reason": "Cheque returned unpaid"}),
    )
    .expect(200);
    let q = quote(&app, fund, &worker, &second, "2026-02-15");
    assert_eq!(q["pricing"], "standard");
    let renewal = pay_quoted(&app, fund, &worker, &second, "2026-02-15", "worker");
    assert_eq!(renewal["amount"], "15200.00");
    app.assert_books_balance(fund);
}

#[test]
fn a_nepali_claim_filed_late_after_the_incident_but_within_a_year_of_the_contract_end_is_accepted()
{
    let app = spawn();
    app.load_fund("NP-FEWF");
    let fund = "NP-FEWF";
    let (worker, contract, _) = enroll(&app, fund, "NP-X1", ("2020-03-01", "2022-02-28"));
    pay_quoted(&app, fund, &worker, &contract, "2020-02-20", "worker");
    let disability = |filed_on: &str| {
        json!({"benefit": "DISABILITY", "incident_date": "2020-06-01", "incident_phase": "abroad",
               "filed_on": filed_on, "claimant": {"relationship": "worker"}, "grade": "2",
               "documents": docs(&["MEDICAL_CERTIFICATE"])})
    };
    // 548 days after the incident, 276 after the contract's end.
    let within = claim(&app, &worker, disability("2021-12-01"));
    assert_eq!(within["assessment"]["outcome"], "eligible", "{within}");
    assert_eq!(within["assessment"]["payable"], "525000.00");
    let late = claim(&app, &worker, disability("2023-03-01"));
    assert!(
        reasons(&late).contains(&"FILING_WINDOW_EXPIRED".to_string()),
        "{late}"
    );
}

/// A test-only fund (no example fund's law grants a rebate): Kenya's rules
/// with a rebate of KES 5,000 after ten years of contributions.
fn rebate_fund(app: &TestApp) {
    let file = mwf::demo::fund_file("KE-MWF").unwrap();
    app.create_fund("KE-REBATE", "KE", "KES");
    let mut doc = file.versions[0].clone();
    doc["version"] = json!("KE-REBATE-2010");
    doc["effective_from"] = json!("2010-01-01");
    doc["rebate"] = json!({"code": "LONG_MEMBERSHIP", "min_years": 10, "amount": "5000.00"});
    app.post("/v1/funds/KE-REBATE/rules", &app.admin(), &doc)
        .expect(201);
}

/// A worker of the rebate fund with `payments` two-year contributions from
/// 2012 on, without gaps: (worker, contributions).
fn member_for_years(app: &TestApp, document: &str, payments: i32) -> (String, Vec<String>) {
    let (worker, contract, _) = enroll(app, "KE-REBATE", document, ("2012-01-01", "2022-12-31"));
    let paid = (0..payments)
        .map(|i| {
            let paid_on = format!("{}-01-01", 2012 + 2 * i);
            pay_quoted(app, "KE-REBATE", &worker, &contract, &paid_on, "worker")["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    (worker, paid)
}

fn request_rebate(app: &TestApp, worker: &str) -> Response {
    app.post(
        &format!("/v1/workers/{worker}/rebates"),
        &app.admin(),
        &json!({"reason": "Ten years of contributions"}),
    )
}

fn decide_rebate(app: &TestApp, rebate: &str) -> Response {
    app.post(
        &format!("/v1/refunds/{rebate}/decision"),
        &app.admin(),
        &json!({"outcome": "approve", "reason": "Long membership"}),
    )
}

#[test]
fn a_rebate_is_granted_after_ten_years_refused_below_and_paid_once() {
    let app = spawn();
    rebate_fund(&app);
    let (short, _) = member_for_years(&app, "KE-R1", 4);
    let refused = request_rebate(&app, &short);
    refused.assert_problem(422, "REBATE_NOT_ELIGIBLE");
    assert_eq!(refused.body["years_of_contributions"], 8);
    assert_eq!(refused.body["min_years"], 10);

    let (long, _) = member_for_years(&app, "KE-R2", 5);
    let requested = request_rebate(&app, &long);
    let rebate = requested.expect(201).clone();
    assert_eq!(
        (
            &rebate["kind"],
            &rebate["status"],
            &rebate["total"],
            &rebate["rebate_code"],
            &rebate["contribution_id"]
        ),
        (
            &json!("rebate"),
            &json!("requested"),
            &json!("5000.00"),
            &json!("LONG_MEMBERSHIP"),
            &Value::Null
        )
    );
    request_rebate(&app, &long).assert_problem(409, "ALREADY_REBATED");
    let id = rebate["id"].as_str().unwrap();
    assert_eq!(decide_rebate(&app, id).expect(200)["status"], "approved");
    assert_eq!(app.balance("KE-REBATE", "5000"), "5000.00");
    assert_eq!(app.balance("KE-REBATE", "2200"), "5000.00");
    let paid = app.post(
        &format!("/v1/refunds/{id}/payment"),
        &app.admin(),
        &json!({"reference": "MPESA-1"}),
    );
    assert_eq!(paid.expect(200)["status"], "paid");
    assert_eq!(app.balance("KE-REBATE", "2200"), "0.00");
    // Nine contributions of KES 3,000 in, the rebate out.
    assert_eq!(app.balance("KE-REBATE", "1000"), "22000.00");
    app.post(
        &format!("/v1/refunds/{id}/payment"),
        &app.admin(),
        &json!({}),
    )
    .assert_problem(409, "REFUND_STATUS_CONFLICT");
    request_rebate(&app, &long).assert_problem(409, "ALREADY_REBATED");
    let events = app.get("/v1/events?limit=500", &app.admin());
    let kinds: Vec<&str> = events.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject_id"] == rebate["id"])
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["rebate.requested", "rebate.approved", "rebate.paid"]
    );
    app.assert_books_balance("KE-REBATE");
}

#[test]
fn a_rebate_is_refused_at_decision_once_a_reversal_leaves_too_few_years() {
    let app = spawn();
    rebate_fund(&app);
    let (worker, contributions) = member_for_years(&app, "KE-R3", 5);
    let rebate = request_rebate(&app, &worker).expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/v1/contributions/{}/reversal", contributions[2]),
        &app.admin(),
        &json!({"reason": "Cheque returned unpaid"}),
    )
    .expect(200);
    decide_rebate(&app, &rebate).assert_problem(422, "REBATE_NOT_ELIGIBLE");
    assert_eq!(app.balance("KE-REBATE", "2200"), "0.00");
    let read = app.get(&format!("/v1/refunds/{rebate}"), &app.admin());
    assert_eq!(read.expect(200)["status"], "requested");
    app.assert_books_balance("KE-REBATE");
}

#[test]
fn a_rule_document_with_bad_new_fields_is_refused_naming_each_field() {
    let app = spawn();
    app.create_fund("KE-BAD", "KE", "KES");
    let mut doc = mwf::demo::fund_file("KE-MWF").unwrap().versions[0].clone();
    doc["membership"]["validity"] = json!("contract_events");
    doc["contribution"]["renewal"] = json!({"tiers": []});
    doc["benefits"][0]["excludes"] = json!(["NO_SUCH_BENEFIT"]);
    doc["rebate"] = json!({"code": "LONG_MEMBERSHIP", "min_years": 0, "amount": "5000.00"});
    let res = app.post("/v1/funds/KE-BAD/rules", &app.admin(), &doc);
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(
        res.error_fields(),
        vec![
            "/membership/anchors",
            "/contribution/renewal/tiers",
            "/benefits/0/excludes/0",
            "/rebate/min_years",
        ]
    );
    // Without the new fields the same document is what it always was.
    let plain = mwf::demo::fund_file("KE-MWF").unwrap().versions[0].clone();
    let published = app.post("/v1/funds/KE-BAD/rules", &app.admin(), &plain);
    assert!(published.expect(201)["document"].get("rebate").is_none());
}

#[test]
fn a_rejected_rebate_may_be_asked_for_again() {
    let app = spawn();
    rebate_fund(&app);
    let (worker, _) = member_for_years(&app, "KE-R4", 5);
    let first = request_rebate(&app, &worker).expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rejected = app.post(
        &format!("/v1/refunds/{first}/decision"),
        &app.admin(),
        &json!({"outcome": "reject", "reason": "Asked for by mistake"}),
    );
    assert_eq!(rejected.expect(200)["status"], "rejected");
    assert_eq!(app.balance("KE-REBATE", "2200"), "0.00");
    let again = request_rebate(&app, &worker);
    assert_eq!(again.expect(201)["status"], "requested");
    let listed = app.get("/v1/funds/KE-REBATE/refunds", &app.admin());
    let kinds: Vec<&Value> = listed.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["kind"])
        .collect();
    assert_eq!(kinds, vec![&json!("rebate"), &json!("rebate")]);
}

//! Claims stay right while the world changes: every decision, approval and
//! payment re-assesses the claim against the records as they are at that moment.

use mwf::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp};

fn docs(list: &[&str]) -> Value {
    Value::Array(
        list.iter()
            .enumerate()
            .map(|(i, t)| json!({"type": t, "reference": format!("REF-{i}")}))
            .collect(),
    )
}

const PH_DEATH: [&str; 3] = ["DEATH_CERTIFICATE", "PROOF_OF_RELATIONSHIP", "CLAIMANT_ID"];

struct Family {
    worker: String,
    contribution: String,
    /// Dependant ids by relationship, in the order enrolled.
    children: Vec<String>,
}

/// A worker of `fund` with two children (no spouse), covered by one contribution.
fn family(
    app: &TestApp,
    fund: &str,
    document: &str,
    contract: (&str, &str),
    paid_on: &str,
    money: (&str, &str),
) -> Family {
    let res = app.post(
        &format!("/v1/funds/{fund}/workers"),
        &app.admin(),
        &json!({
            "document_type": "passport", "document_number": document, "given_name": "Ana", "family_name": "Reyes",
            "date_of_birth": "1980-02-02", "sex": "female",
            "dependants": [{"name": "Ben Reyes", "relationship": "child"}, {"name": "Cora Reyes", "relationship": "child"}],
            "contracts": [{"employer": "E", "destination_country": "AE", "start_date": contract.0, "end_date": contract.1}]
        }),
    );
    let w = res.expect(201).clone();
    let worker = w["id"].as_str().unwrap().to_string();
    let contract_id = w["contracts"][0]["id"].as_str().unwrap();
    let paid = app.contribute(
        fund,
        &worker,
        Some(contract_id),
        paid_on,
        (money.0, money.1, money.0),
    );
    Family {
        worker,
        contribution: paid.expect(201)["id"].as_str().unwrap().to_string(),
        children: w["dependants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect(),
    }
}

fn philippine_family(app: &TestApp) -> Family {
    app.load_fund("PH-OWWA");
    philippine_worker(app)
}

/// The Philippine worker's family, enrolled and covered.
fn philippine_worker(app: &TestApp) -> Family {
    family(
        app,
        "PH-OWWA",
        "PH-F1",
        ("2017-03-15", "2019-03-14"),
        "2017-03-01",
        ("25.00", "USD"),
    )
}

/// The Philippine fund as it was before heirs shared a death benefit (its
/// rules without `beneficiaries`): each child files a claim of their own, and
/// only `max_claims` keeps the death from being paid twice.
fn philippine_family_filing_apart(app: &TestApp) -> Family {
    let file = mwf::demo::fund_file("PH-OWWA").expect("an example fund");
    app.create_fund(&file.fund.code, &file.fund.country, &file.fund.currency);
    for mut version in file.versions {
        for benefit in version["benefits"].as_array_mut().unwrap() {
            benefit.as_object_mut().unwrap().remove("beneficiaries");
        }
        app.post("/v1/funds/PH-OWWA/rules", &app.admin(), &version)
            .expect(201);
    }
    philippine_worker(app)
}

fn kenya_family(app: &TestApp, document: &str) -> Family {
    family(
        app,
        "KE-MWF",
        document,
        ("2026-02-01", "2027-12-31"),
        "2026-01-05",
        ("2000.00", "KES"),
    )
}

fn file(app: &TestApp, worker: &str, body: Value) -> Value {
    let res = app.post(&format!("/v1/workers/{worker}/claims"), &app.admin(), &body);
    res.expect(201).clone()
}

fn child_death(child: &str) -> Value {
    json!({"benefit": "DEATH_NATURAL", "incident_date": "2018-05-10", "incident_phase": "abroad", "filed_on": "2018-06-01",
           "claimant": {"relationship": "child", "dependant_id": child}, "documents": docs(&PH_DEATH)})
}

fn invalidity(incident: &str, grade: Option<&str>, documents: &[&str]) -> Value {
    json!({"benefit": "INVALIDITY", "incident_date": incident, "incident_phase": "abroad",
           "claimant": {"relationship": "worker"}, "grade": grade, "documents": docs(documents)})
}

fn id(claim: &Value) -> String {
    claim["id"].as_str().unwrap().to_string()
}

fn decide(app: &TestApp, token: &str, claim: &str, body: Value) -> crate::helpers::Response {
    app.post(&format!("/v1/claims/{claim}/decision"), token, &body)
}

fn get(app: &TestApp, claim: &str) -> Value {
    app.get(&format!("/v1/claims/{claim}"), &app.admin())
        .expect(200)
        .clone()
}

fn triggers(claim: &Value) -> Vec<String> {
    claim["assessments"]
        .as_array()
        .expect("the claim lists its assessments")
        .iter()
        .map(|a| a["trigger"].as_str().unwrap().to_string())
        .collect()
}

fn today() -> String {
    mwf::time::today().to_string()
}

#[test]
fn a_one_time_benefit_is_not_approved_twice_for_the_same_death() {
    let app = spawn();
    let f = philippine_family_filing_apart(&app);
    let first = file(&app, &f.worker, child_death(&f.children[0]));
    let second = file(&app, &f.worker, child_death(&f.children[1]));
    // Both were eligible when filed: neither had been decided.
    assert_eq!(first["assessment"]["outcome"], "eligible");
    assert_eq!(second["assessment"]["outcome"], "eligible");
    let approved = decide(
        &app,
        &app.admin(),
        &id(&first),
        json!({"outcome": "approve"}),
    );
    assert_eq!(approved.expect(200)["status"], "approved");

    let refused = decide(
        &app,
        &app.admin(),
        &id(&second),
        json!({"outcome": "approve"}),
    );
    let problem = refused.assert_problem(422, "CLAIM_NOT_ELIGIBLE");
    assert_eq!(problem["reasons"], json!(["MAX_CLAIMS_REACHED"]));
    // The refusal is not written, but the claim shows what the officer now sees.
    let now = get(&app, &id(&second));
    assert_eq!(now["status"], "submitted");
    assert_eq!(now["assessment"]["outcome"], "ineligible");
    assert_eq!(now["assessment"]["reasons"], json!(["MAX_CLAIMS_REACHED"]));
    assert_eq!(triggers(&now), vec!["submitted", "decision"]);
    let history = now["assessments"].as_array().unwrap();
    assert_eq!(history[0]["outcome"], "eligible");
    assert_eq!(history[0]["payable"], "100000.00");
    assert_eq!(history[1]["outcome"], "ineligible");
    assert_eq!(history[1]["payable"], "0.00");
    assert_eq!(history[1]["rule_version"], "PH-OWWA-2016");
    // A rejection with the reason is still possible.
    let rejected = decide(
        &app,
        &app.admin(),
        &id(&second),
        json!({"outcome": "reject", "reasons": ["MAX_CLAIMS_REACHED"]}),
    );
    assert_eq!(rejected.expect(200)["status"], "rejected");
    assert_eq!(app.balance("PH-OWWA", "5100"), "100000.00");
    app.assert_books_balance("PH-OWWA");
}

#[test]
fn two_invalidity_awards_never_exceed_the_lifetime_cap() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let f = kenya_family(&app, "KE-F1");
    let certificate = ["MEDICAL_CERTIFICATE"];
    let first = file(
        &app,
        &f.worker,
        invalidity("2026-06-01", Some("2"), &certificate),
    );
    let second = file(
        &app,
        &f.worker,
        invalidity("2026-07-01", Some("2"), &certificate),
    );
    assert_eq!(first["assessment"]["payable"], "300000.00");
    assert_eq!(second["assessment"]["payable"], "300000.00");
    // Both decided before either is approved: 300,000 is above the 250,000 threshold.
    let officer = app.token_for("olivia", Role::Officer, &["KE-MWF"]);
    let approver = app.token_for("amara", Role::Approver, &["KE-MWF"]);
    for c in [&first, &second] {
        let d = decide(&app, &officer, &id(c), json!({"outcome": "approve"}));
        assert_eq!(d.expect(200)["status"], "awaiting_second_approval");
    }
    let approve = |c: &Value| {
        app.post(
            &format!("/v1/claims/{}/approvals", id(c)),
            &approver,
            &json!({}),
        )
    };
    assert_eq!(approve(&first).expect(200)["status"], "approved");
    // The second approval sees the first award: 100,000 of the cap is left.
    let refused = approve(&second);
    assert_eq!(
        refused.assert_problem(422, "DECISION_EXCEEDS_PAYABLE")["payable"],
        "100000.00"
    );
    // Its decision no longer stands: back to an officer, with the reason.
    let now = get(&app, &id(&second));
    assert_eq!(now["status"], "under_review");
    assert_eq!(now["assessment"]["outcome"], "partially_eligible");
    assert_eq!(now["assessment"]["payable"], "100000.00");
    assert_eq!(
        now["assessment"]["reasons"],
        json!(["LIFETIME_CAP_REACHED"])
    );
    assert_eq!(triggers(&now), vec!["submitted", "decision", "approval"]);
    // An officer re-decides within what is left.
    let too_much = decide(
        &app,
        &officer,
        &id(&second),
        json!({"outcome": "approve", "amount": "300000.00"}),
    );
    assert_eq!(
        too_much.assert_problem(422, "DECISION_EXCEEDS_PAYABLE")["payable"],
        "100000.00"
    );
    let redecided = decide(&app, &officer, &id(&second), json!({"outcome": "approve"}));
    assert_eq!(redecided.expect(200)["status"], "approved");
    assert_eq!(redecided.body["decision"]["amount"], "100000.00");
    assert_eq!(app.balance("KE-MWF", "5200"), "400000.00");
    // A third award finds nothing left: ineligible even though its papers are missing.
    let third = file(&app, &f.worker, invalidity("2026-08-01", None, &[]));
    assert_eq!(third["assessment"]["outcome"], "ineligible");
    assert_eq!(third["status"], "submitted");
    assert!(third["assessment"]["reasons"]
        .as_array()
        .unwrap()
        .contains(&json!("LIFETIME_CAP_REACHED")));
    app.assert_books_balance("KE-MWF");
}

#[test]
fn a_death_benefit_is_not_approved_or_paid_once_the_only_contribution_bounced() {
    let app = spawn();
    let f = philippine_family(&app);
    app.transfer("PH-OWWA", &today(), "1000", "3100", "500000.00", "PHP")
        .expect(201);
    let refused_claim = file(&app, &f.worker, child_death(&f.children[0]));
    let paid_claim = file(&app, &f.worker, {
        let mut c = child_death(&f.children[1]);
        // Another event: a death is natural or accidental, not both (`excludes`).
        c["benefit"] = json!("DEATH_ACCIDENT");
        c["incident_date"] = json!("2018-05-11");
        c["documents"] = docs(&[
            "DEATH_CERTIFICATE",
            "PROOF_OF_RELATIONSHIP",
            "CLAIMANT_ID",
            "POLICE_OR_ACCIDENT_REPORT",
        ]);
        c
    });
    // The accident award is approved by two before the cheque bounces.
    let officer = app.token_for("olivia", Role::Officer, &["PH-OWWA"]);
    let approver = app.token_for("amara", Role::Approver, &["PH-OWWA"]);
    decide(
        &app,
        &officer,
        &id(&paid_claim),
        json!({"outcome": "approve"}),
    )
    .expect(200);
    app.post(
        &format!("/v1/claims/{}/approvals", id(&paid_claim)),
        &approver,
        &json!({}),
    )
    .expect(200);
    assert_eq!(app.balance("PH-OWWA", "5100"), "200000.00");
    app.post(
        &format!("/v1/contributions/{}/reversal", f.contribution),
        &app.admin(),
        &json!({"reason": "Cheque returned unpaid"}),
    )
    .expect(200);

    let refused = decide(
        &app,
        &officer,
        &id(&refused_claim),
        json!({"outcome": "approve"}),
    );
    assert_eq!(
        refused.assert_problem(422, "CLAIM_NOT_ELIGIBLE")["reasons"],
        json!(["MEMBERSHIP_INACTIVE"])
    );
    // The approved claim is not paid: it goes back to an officer.
    let payment = app.post(
        &format!("/v1/claims/{}/payment", id(&paid_claim)),
        &officer,
        &json!({"paid_on": today()}),
    );
    let c = payment.expect(200);
    assert_eq!(c["status"], "under_review");
    assert_eq!(c["review"]["reasons"], json!(["MEMBERSHIP_INACTIVE"]));
    assert!(c["payment"].is_null());
    assert_eq!(app.balance("PH-OWWA", "1000"), "500000.00");
    let feed = app.get("/v1/events?limit=200", &app.admin());
    assert!(feed.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "claim.review_required" && e["subject_id"] == c["id"]));
    let log = app.get("/v1/audit-log?limit=200", &app.admin());
    let target = format!(
        "claim {} under_review MEMBERSHIP_INACTIVE",
        c["id"].as_str().unwrap()
    );
    assert!(
        log.expect(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "claim.pay" && r["target"] == target.as_str()),
        "{}",
        log.text
    );
    // Paying again is refused while it is under review; rejecting reverses the expense.
    app.post(
        &format!("/v1/claims/{}/payment", id(&paid_claim)),
        &officer,
        &json!({"paid_on": today()}),
    )
    .assert_problem(409, "CLAIM_STATUS_CONFLICT");
    let rejected = decide(
        &app,
        &officer,
        &id(&paid_claim),
        json!({"outcome": "reject", "reasons": ["MEMBERSHIP_INACTIVE"]}),
    );
    assert_eq!(rejected.expect(200)["status"], "rejected");
    assert_eq!(app.balance("PH-OWWA", "5100"), "0.00");
    assert_eq!(app.balance("PH-OWWA", "2000"), "0.00");
    app.assert_books_balance("PH-OWWA");
}

#[test]
fn a_payment_is_dated_between_its_approval_and_today() {
    let app = spawn();
    let f = philippine_family(&app);
    app.transfer("PH-OWWA", "2018-01-02", "1000", "3100", "500000.00", "PHP")
        .expect(201);
    let c = file(&app, &f.worker, child_death(&f.children[0]));
    decide(&app, &app.admin(), &id(&c), json!({"outcome": "approve"})).expect(200);
    let pay = |on: &str| {
        app.post(
            &format!("/v1/claims/{}/payment", id(&c)),
            &app.admin(),
            &json!({"paid_on": on}),
        )
    };
    let before = pay("2018-07-01");
    before.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(before.error_fields(), vec!["/paid_on"]);
    let tomorrow = (mwf::time::today() + chrono::Days::new(1)).to_string();
    let after = pay(&tomorrow);
    after.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(after.error_fields(), vec!["/paid_on"]);
    assert_eq!(pay(&today()).expect(200)["status"], "paid");
    app.assert_books_balance("PH-OWWA");
}

#[test]
fn a_back_dated_payment_never_overdraws_cash_as_of_any_date() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let f = kenya_family(&app, "KE-F2");
    // 2,000 of cash today, and 10,000 arriving tomorrow (the latest date an entry may bear).
    let claim = file(
        &app,
        &f.worker,
        json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
               "claimant": {"relationship": "worker"}, "claimed_amount": "5000.00",
               "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]}),
    );
    decide(
        &app,
        &app.admin(),
        &id(&claim),
        json!({"outcome": "approve"}),
    )
    .expect(200);
    let tomorrow = (mwf::time::today() + chrono::Days::new(1)).to_string();
    app.transfer("KE-MWF", &tomorrow, "1000", "3100", "10000.00", "KES")
        .expect(201);
    // Today's cash is 2,000: paying 5,000 today would overdraw today, though the
    // balance after tomorrow's deposit looks fine.
    let paid = app.post(
        &format!("/v1/claims/{}/payment", id(&claim)),
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    assert_eq!(paid.expect(200)["status"], "awaiting_funds");
    assert_eq!(
        app.account("KE-MWF", "1000", Some(&today()))["balance"],
        "2000.00"
    );
}

#[test]
fn a_direct_payment_joins_the_queue_behind_claims_waiting_for_funds() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let a = kenya_family(&app, "KE-QA");
    let b = kenya_family(&app, "KE-QB");
    let distress = |f: &Family, amount: &str| {
        let c = file(
            &app,
            &f.worker,
            json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
                   "claimant": {"relationship": "worker"}, "claimed_amount": amount,
                   "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]}),
        );
        decide(&app, &app.admin(), &id(&c), json!({"outcome": "approve"})).expect(200);
        id(&c)
    };
    // Cash 4,000: the first claim (5,000) waits, the second (1,000) would fit.
    let big = distress(&a, "5000.00");
    let small = distress(&b, "1000.00");
    let pay = |c: &str| {
        app.post(
            &format!("/v1/claims/{c}/payment"),
            &app.admin(),
            &json!({"paid_on": today()}),
        )
    };
    assert_eq!(pay(&big).expect(200)["status"], "awaiting_funds");
    assert_eq!(pay(&small).expect(200)["status"], "awaiting_funds");
    assert_eq!(app.balance("KE-MWF", "1000"), "4000.00");
    app.transfer("KE-MWF", &today(), "1000", "3100", "2000.00", "KES")
        .expect(201);
    let run = app.post(
        "/v1/funds/KE-MWF/payment-runs",
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    assert_eq!(run.expect(200)["paid"], json!([big, small]));
    assert_eq!(app.balance("KE-MWF", "1000"), "0.00");
    app.assert_books_balance("KE-MWF");
}

#[test]
fn a_grade_given_after_filing_completes_the_claim() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let f = kenya_family(&app, "KE-F3");
    let c = file(
        &app,
        &f.worker,
        invalidity("2026-06-01", None, &["MEDICAL_CERTIFICATE"]),
    );
    assert_eq!(c["status"], "pending_documents");
    assert_eq!(c["assessment"]["outcome"], "pending_documents");
    let graded = app.post(
        &format!("/v1/claims/{}/documents", id(&c)),
        &app.admin(),
        &json!({"documents": [], "grade": "3"}),
    );
    assert_eq!(graded.expect(200)["status"], "submitted");
    assert_eq!(graded.body["grade"], "3");
    assert_eq!(graded.body["assessment"]["payable"], "200000.00");
    assert_eq!(triggers(&graded.body), vec!["submitted", "documents"]);
    let bad = app.post(
        &format!("/v1/claims/{}/documents", id(&c)),
        &app.admin(),
        &json!({"documents": [], "grade": "12345678901234567"}),
    );
    bad.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(bad.error_fields(), vec!["/grade"]);
}

#[test]
fn an_ineligible_claim_is_not_asked_for_documents() {
    let app = spawn();
    let f = philippine_family(&app);
    // Lapsed membership and missing papers: ineligible, not pending documents.
    let c = file(
        &app,
        &f.worker,
        json!({"benefit": "DEATH_NATURAL", "incident_date": "2019-06-10", "incident_phase": "abroad", "filed_on": "2019-07-01",
               "claimant": {"relationship": "child", "dependant_id": f.children[0]}, "documents": []}),
    );
    assert_eq!(c["status"], "submitted");
    assert_eq!(c["assessment"]["outcome"], "ineligible");
    assert_eq!(
        c["assessment"]["reasons"],
        json!(["MEMBERSHIP_INACTIVE", "MISSING_DOCUMENTS"])
    );
}

#[test]
fn a_contract_found_to_have_ended_early_is_seen_by_the_decision() {
    let app = spawn();
    app.load_fund("NP-FEWF");
    let res = app.post(
        "/v1/funds/NP-FEWF/workers",
        &app.admin(),
        &json!({
            "document_type": "passport", "document_number": "NP-F1", "given_name": "Sita", "family_name": "Rai",
            "date_of_birth": "1985-02-02", "sex": "female",
            "dependants": [{"name": "Hari Rai", "relationship": "child"}],
            "contracts": [{"employer": "E", "destination_country": "QA", "start_date": "2016-01-01", "end_date": "2019-12-31"}]
        }),
    );
    let w = res.expect(201).clone();
    let worker = w["id"].as_str().unwrap();
    let contract = w["contracts"][0]["id"].as_str().unwrap();
    app.contribute(
        "NP-FEWF",
        worker,
        Some(contract),
        "2016-01-01",
        ("500.00", "NPR", "500.00"),
    )
    .expect(201);
    let c = file(
        &app,
        worker,
        json!({"benefit": "DEATH", "incident_date": "2017-05-01", "incident_phase": "abroad", "filed_on": "2017-06-01",
               "claimant": {"relationship": "child", "dependant_id": w["dependants"][0]["id"]},
               "documents": docs(&["DEATH_CERTIFICATE", "PROOF_OF_RELATIONSHIP", "CLAIMANT_ID", "LABOUR_PERMIT"])}),
    );
    assert_eq!(c["assessment"]["outcome"], "eligible");
    // The employer reports the contract ended in January: coverage ran to then.
    app.patch(
        &format!("/v1/workers/{worker}/contracts/{contract}"),
        &app.admin(),
        &json!({"terminated_on": "2017-01-31"}),
    )
    .expect(200);
    let refused = decide(&app, &app.admin(), &id(&c), json!({"outcome": "approve"}));
    assert_eq!(
        refused.assert_problem(422, "CLAIM_NOT_ELIGIBLE")["reasons"],
        json!(["MEMBERSHIP_INACTIVE"])
    );
    assert_eq!(get(&app, &id(&c))["assessment"]["outcome"], "ineligible");
}

#[test]
fn two_siblings_decided_at_once_get_one_award() {
    let app = spawn();
    let f = philippine_family_filing_apart(&app);
    let claims: Vec<String> = f
        .children
        .iter()
        .map(|child| id(&file(&app, &f.worker, child_death(child))))
        .collect();
    let answers: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = claims
            .iter()
            .map(|c| {
                let app = &app;
                s.spawn(move || {
                    let r = decide(app, &app.admin(), c, json!({"outcome": "approve"}));
                    (r.status, r.body["code"].as_str().unwrap_or("").to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let approved = answers.iter().filter(|a| a.0 == 200).count();
    assert_eq!(approved, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .any(|a| a.0 == 422 && a.1 == "CLAIM_NOT_ELIGIBLE"),
        "{answers:?}"
    );
    assert_eq!(app.balance("PH-OWWA", "5100"), "100000.00");
}

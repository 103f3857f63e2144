//! Claims under the example funds: assessment, decisions, approvals, payment.

use mwf::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp};

const DEATH_DOCS: [(&str, &str); 4] = [
    ("DEATH_CERTIFICATE", "DC-1"),
    ("PROOF_OF_RELATIONSHIP", "MC-1"),
    ("CLAIMANT_ID", "ID-1"),
    ("BURIAL_PERMIT_AND_FUNERAL_RECEIPT", "BP-1"),
];

/// Documents as a claim request lists them.
pub fn docs(list: &[(&str, &str)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(t, r)| json!({"type": t, "reference": r}))
            .collect(),
    )
}

struct Member {
    worker: String,
    spouse: String,
    parent: String,
}

/// A worker of `fund` with a spouse and a parent, covered by one contribution.
fn member(
    app: &TestApp,
    fund: &str,
    document: &str,
    contract: (&str, &str),
    paid_on: &str,
    money: (&str, &str, &str),
) -> Member {
    let res = app.post(
        &format!("/v1/funds/{fund}/workers"),
        &app.admin(),
        &json!({
            "document_type": "passport", "document_number": document, "given_name": "Ana", "family_name": "Reyes",
            "date_of_birth": "1988-02-02", "sex": "female",
            "dependants": [{"name": "Ben Reyes", "relationship": "spouse"}, {"name": "Carmen Reyes", "relationship": "parent"}],
            "contracts": [{"employer": "E", "destination_country": "AE", "start_date": contract.0, "end_date": contract.1}]
        }),
    );
    let w = res.expect(201).clone();
    let worker = w["id"].as_str().unwrap().to_string();
    let contract_id = w["contracts"][0]["id"].as_str().unwrap().to_string();
    app.contribute(fund, &worker, Some(&contract_id), paid_on, money)
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
    Member {
        spouse: dependant("spouse"),
        parent: dependant("parent"),
        worker,
    }
}

fn claim(app: &TestApp, worker: &str, body: Value) -> crate::helpers::Response {
    app.post(&format!("/v1/workers/{worker}/claims"), &app.admin(), &body)
}

fn death(benefit: &str, date: &str, claimant: (&str, &str), documents: Value) -> Value {
    json!({"benefit": benefit, "incident_date": date, "incident_phase": "abroad", "filed_on": "2018-06-01",
           "claimant": {"relationship": claimant.0, "dependant_id": claimant.1}, "documents": documents})
}

fn philippine_member(app: &TestApp) -> Member {
    app.load_fund("PH-OWWA");
    member(
        app,
        "PH-OWWA",
        "PH1",
        ("2017-03-15", "2019-03-14"),
        "2017-03-01",
        ("25.00", "USD", "25.00"),
    )
}

#[test]
fn a_natural_death_abroad_claimed_by_the_spouse_is_eligible_with_the_burial_rider() {
    let app = spawn();
    let m = philippine_member(&app);
    let res = claim(
        &app,
        &m.worker,
        death(
            "DEATH_NATURAL",
            "2018-05-10",
            ("spouse", &m.spouse),
            docs(&DEATH_DOCS),
        ),
    );
    let c = res.expect(201);
    assert_eq!(c["status"], "submitted");
    assert_eq!(c["assessment"]["outcome"], "eligible");
    assert_eq!(c["assessment"]["payable"], "100000.00");
    assert_eq!(c["assessment"]["rule_version"], "PH-OWWA-2016");
    assert!(c["assessment"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["passed"] == true));
    assert_eq!(c["riders"].as_array().unwrap().len(), 1);
    assert_eq!(c["riders"][0]["benefit"], "BURIAL");
    assert_eq!(c["riders"][0]["assessment"]["payable"], "20000.00");
    let rider = app.get(
        &format!("/v1/claims/{}", c["riders"][0]["id"].as_str().unwrap()),
        &app.admin(),
    );
    assert_eq!(rider.expect(200)["rider_of"], c["id"]);
}

#[test]
fn assessment_reports_lapsed_membership_missing_documents_and_claimant_priority() {
    let app = spawn();
    let m = philippine_member(&app);
    let lapsed = claim(
        &app,
        &m.worker,
        death(
            "DEATH_NATURAL",
            "2019-03-03",
            ("spouse", &m.spouse),
            docs(&DEATH_DOCS),
        )
        .tap_filed("2019-03-10"),
    );
    let body = lapsed.expect(201);
    assert_eq!(body["assessment"]["outcome"], "ineligible");
    assert_eq!(
        body["assessment"]["reasons"],
        json!(["MEMBERSHIP_INACTIVE"])
    );
    assert_eq!(body["assessment"]["payable"], "0.00");

    let accident = claim(
        &app,
        &m.worker,
        death(
            "DEATH_ACCIDENT",
            "2018-05-10",
            ("spouse", &m.spouse),
            docs(&DEATH_DOCS),
        ),
    );
    let a = accident.expect(201).clone();
    assert_eq!(a["status"], "pending_documents");
    assert_eq!(
        a["assessment"]["missing_documents"],
        json!(["POLICE_OR_ACCIDENT_REPORT"])
    );
    let id = a["id"].as_str().unwrap();
    let added = app.post(
        &format!("/v1/claims/{id}/documents"),
        &app.admin(),
        &json!({"documents": [{"type": "POLICE_OR_ACCIDENT_REPORT", "reference": "PR-9"}]}),
    );
    assert_eq!(added.expect(200)["status"], "submitted");
    assert_eq!(added.body["assessment"]["outcome"], "eligible");
    assert_eq!(added.body["assessment"]["payable"], "200000.00");

    let parent = claim(
        &app,
        &m.worker,
        death(
            "DEATH_NATURAL",
            "2018-05-20",
            ("parent", &m.parent),
            docs(&DEATH_DOCS),
        ),
    );
    assert_eq!(
        parent.expect(201)["assessment"]["reasons"],
        json!(["HIGHER_PRIORITY_CLAIMANT"])
    );
}

trait Filed {
    fn tap_filed(self, on: &str) -> Value;
}

impl Filed for Value {
    fn tap_filed(mut self, on: &str) -> Value {
        self["filed_on"] = json!(on);
        self
    }
}

#[test]
fn nepal_death_benefit_follows_the_incident_date() {
    let app = spawn();
    app.load_fund("NP-FEWF");
    let m = member(
        &app,
        "NP-FEWF",
        "NP1",
        ("2016-01-01", "2019-12-31"),
        "2016-01-01",
        ("500.00", "NPR", "500.00"),
    );
    let nepal_docs = docs(&[
        ("DEATH_CERTIFICATE", "1"),
        ("PROOF_OF_RELATIONSHIP", "2"),
        ("CLAIMANT_ID", "3"),
        ("LABOUR_PERMIT", "4"),
    ]);
    let july = claim(
        &app,
        &m.worker,
        death(
            "DEATH",
            "2017-07-20",
            ("spouse", &m.spouse),
            nepal_docs.clone(),
        ),
    );
    assert_eq!(july.expect(201)["assessment"]["payable"], "300000.00");
    assert_eq!(july.body["assessment"]["rule_version"], "NP-FEWF-2008");
    // The same event may not be claimed twice (its heirs share one claim: a
    // second is refused naming the claim to join); another date is another event.
    let again = claim(
        &app,
        &m.worker,
        death(
            "DEATH",
            "2017-07-20",
            ("spouse", &m.spouse),
            nepal_docs.clone(),
        ),
    );
    assert_eq!(
        again.assert_problem(409, "CLAIM_ALREADY_FILED")["claim_id"],
        july.body["id"]
    );
    let august = claim(
        &app,
        &m.worker,
        death("DEATH", "2017-08-05", ("spouse", &m.spouse), nepal_docs),
    );
    assert_eq!(august.expect(201)["assessment"]["payable"], "700000.00");
}

/// Payments are dated no earlier than their approval (today, in these tests).
fn today() -> String {
    mwf::time::today().to_string()
}

fn fund_cash(app: &TestApp, fund: &str, amount: &str, currency: &str) {
    app.transfer(fund, "2018-01-02", "1000", "3100", amount, currency)
        .expect(201);
}

#[test]
fn an_award_above_the_threshold_waits_for_a_second_different_approver() {
    let app = spawn();
    let m = philippine_member(&app);
    fund_cash(&app, "PH-OWWA", "500000.00", "PHP");
    let mut documents = DEATH_DOCS.to_vec();
    documents.push(("POLICE_OR_ACCIDENT_REPORT", "PR-1"));
    let c = claim(
        &app,
        &m.worker,
        death(
            "DEATH_ACCIDENT",
            "2018-05-10",
            ("spouse", &m.spouse),
            docs(&documents),
        ),
    );
    let id = c.expect(201)["id"].as_str().unwrap().to_string();
    let officer = app.token_for("olivia", Role::Officer, &["PH-OWWA"]);
    let decided = app.post(
        &format!("/v1/claims/{id}/decision"),
        &officer,
        &json!({"outcome": "approve"}),
    );
    assert_eq!(decided.expect(200)["status"], "awaiting_second_approval");
    assert_eq!(decided.body["decision"]["amount"], "200000.00");
    // Not payable yet, and not approvable by the one who decided.
    app.post(
        &format!("/v1/claims/{id}/payment"),
        &officer,
        &json!({"paid_on": today()}),
    )
    .assert_problem(409, "CLAIM_STATUS_CONFLICT");
    let olivia_admin = app.token_for("olivia", Role::Admin, &["*"]);
    app.post(
        &format!("/v1/claims/{id}/approvals"),
        &olivia_admin,
        &json!({}),
    )
    .assert_problem(409, "SELF_APPROVAL");
    app.post(&format!("/v1/claims/{id}/approvals"), &officer, &json!({}))
        .assert_problem(403, "ROLE_NOT_PERMITTED");
    assert_eq!(app.balance("PH-OWWA", "2000"), "0.00");
    let approver = app.token_for("amara", Role::Approver, &["PH-OWWA"]);
    let approved = app.post(
        &format!("/v1/claims/{id}/approvals"),
        &approver,
        &json!({"note": "checked"}),
    );
    assert_eq!(approved.expect(200)["status"], "approved");
    assert_eq!(app.balance("PH-OWWA", "5100"), "200000.00");
    assert_eq!(app.balance("PH-OWWA", "2000"), "200000.00");
    let paid = app.post(
        &format!("/v1/claims/{id}/payment"),
        &officer,
        &json!({"paid_on": today(), "payee_reference": "BANK-1"}),
    );
    assert_eq!(paid.expect(200)["status"], "paid");
    assert_eq!(paid.body["payment"]["paid_on"], today());
    assert_eq!(app.balance("PH-OWWA", "1000"), "300000.00");
    assert_eq!(app.balance("PH-OWWA", "2000"), "0.00");
    // Illegal transitions name the current status.
    let twice = app.post(
        &format!("/v1/claims/{id}/decision"),
        &officer,
        &json!({"outcome": "reject", "reasons": ["X"]}),
    );
    assert_eq!(
        twice.assert_problem(409, "CLAIM_STATUS_CONFLICT")["claim_status"],
        "paid"
    );
    app.assert_books_balance("PH-OWWA");
}

fn kenya_member(app: &TestApp, document: &str) -> Member {
    member(
        app,
        "KE-MWF",
        document,
        ("2026-02-01", "2028-07-31"),
        "2026-01-05",
        ("3000.00", "KES", "3000.00"),
    )
}

fn distress(app: &TestApp, m: &Member, amount: &str) -> String {
    let body = json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad", "filed_on": "2026-03-05",
                      "claimant": {"relationship": "worker"}, "claimed_amount": amount, "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]});
    let res = claim(app, &m.worker, body);
    assert_eq!(
        res.expect(201)["assessment"]["outcome"],
        "eligible",
        "{}",
        res.text
    );
    let id = res.body["id"].as_str().unwrap().to_string();
    let decided = app.post(
        &format!("/v1/claims/{id}/decision"),
        &app.admin(),
        &json!({"outcome": "approve"}),
    );
    assert_eq!(decided.expect(200)["status"], "approved");
    id
}

#[test]
fn with_cash_for_one_claim_one_is_paid_the_other_waits_until_a_payment_run() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let a = kenya_member(&app, "KA");
    let b = kenya_member(&app, "KB");
    assert_eq!(app.balance("KE-MWF", "1000"), "6000.00");
    let first = distress(&app, &a, "4000.00");
    let second = distress(&app, &b, "4000.00");
    let paid = app.post(
        &format!("/v1/claims/{first}/payment"),
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    assert_eq!(paid.expect(200)["status"], "paid");
    let waiting = app.post(
        &format!("/v1/claims/{second}/payment"),
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    assert_eq!(waiting.expect(200)["status"], "awaiting_funds");
    assert_eq!(app.balance("KE-MWF", "1000"), "2000.00");
    let run = app.post(
        "/v1/funds/KE-MWF/payment-runs",
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    assert_eq!(run.expect(200)["paid"], json!([]));
    assert_eq!(run.body["waiting"], json!([second]));
    kenya_member(&app, "KC");
    let run = app.post(
        "/v1/funds/KE-MWF/payment-runs",
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    assert_eq!(run.expect(200)["paid"], json!([second]));
    assert_eq!(
        app.get(&format!("/v1/claims/{second}"), &app.admin()).body["status"],
        "paid"
    );
    assert_eq!(app.balance("KE-MWF", "1000"), "1000.00");
    app.assert_books_balance("KE-MWF");
}

#[test]
fn racing_payments_never_overdraw_cash() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let members: Vec<Member> = (0..4)
        .map(|i| kenya_member(&app, &format!("RACE{i}")))
        .collect();
    // 12,000 of cash; four approved claims of 5,000: two can be paid.
    let claims: Vec<String> = members
        .iter()
        .map(|m| distress(&app, m, "5000.00"))
        .collect();
    let statuses: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = claims
            .iter()
            .map(|id| {
                let app = &app;
                s.spawn(move || {
                    let r = app.post(
                        &format!("/v1/claims/{id}/payment"),
                        &app.admin(),
                        &json!({"paid_on": today()}),
                    );
                    r.expect(200)["status"].as_str().unwrap().to_string()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| *s == "paid").count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| *s == "awaiting_funds").count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(app.balance("KE-MWF", "1000"), "2000.00");
    app.assert_books_balance("KE-MWF");
}

#[test]
fn a_discretionary_award_needs_the_committee() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let m = kenya_member(&app, "KH");
    let body = json!({"benefit": "HARDSHIP", "incident_date": "2026-03-01", "incident_phase": "abroad", "filed_on": "2026-03-05",
                      "claimant": {"relationship": "worker"}, "claimed_amount": "30000.00"});
    let c = claim(&app, &m.worker, body);
    let id = c.expect(201)["id"].as_str().unwrap().to_string();
    let decided = app.post(&format!("/v1/claims/{id}/decision"), &app.admin(), &json!({"outcome": "partially_approve", "amount": "20000.00", "reasons": ["PARTIAL_HARDSHIP"]}));
    assert_eq!(decided.expect(200)["status"], "awaiting_committee");
    let first = app.token_for("member-1", Role::Approver, &["KE-MWF"]);
    let second = app.token_for("member-2", Role::Approver, &["KE-MWF"]);
    assert_eq!(
        app.post(&format!("/v1/claims/{id}/approvals"), &first, &json!({}))
            .expect(200)["status"],
        "awaiting_committee"
    );
    app.post(&format!("/v1/claims/{id}/approvals"), &first, &json!({}))
        .assert_problem(409, "ALREADY_APPROVED");
    let done = app.post(&format!("/v1/claims/{id}/approvals"), &second, &json!({}));
    assert_eq!(done.expect(200)["status"], "partially_approved");
    assert_eq!(done.body["approvals"].as_array().unwrap().len(), 2);
    assert_eq!(app.balance("KE-MWF", "2000"), "20000.00");
    app.assert_books_balance("KE-MWF");
}

#[test]
fn decisions_are_bounded_by_the_payable_amount_and_rejections_appealed_once() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let m = kenya_member(&app, "KD");
    let body = json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad", "filed_on": "2026-03-05",
                      "claimant": {"relationship": "worker"}, "claimed_amount": "1000.00", "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]});
    let id = claim(&app, &m.worker, body).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = |what: &str| format!("/v1/claims/{id}/{what}");
    app.post(
        &path("decision"),
        &app.admin(),
        &json!({"outcome": "approve", "amount": "1000.01"}),
    )
    .assert_problem(422, "DECISION_EXCEEDS_PAYABLE");
    app.post(
        &path("decision"),
        &app.admin(),
        &json!({"outcome": "reject"}),
    )
    .assert_problem(422, "VALIDATION_FAILED");
    let rejected = app.post(
        &path("decision"),
        &app.admin(),
        &json!({"outcome": "reject", "reasons": ["FRAUD_SUSPECTED"]}),
    );
    assert_eq!(rejected.expect(200)["status"], "rejected");
    app.post(&path("payment"), &app.admin(), &json!({"paid_on": today()}))
        .assert_problem(409, "CLAIM_STATUS_CONFLICT");
    app.post(&path("withdrawal"), &app.admin(), &json!({}))
        .assert_problem(409, "CLAIM_STATUS_CONFLICT");
    let appealed = app.post(
        &path("appeal"),
        &app.admin(),
        &json!({"note": "new evidence"}),
    );
    assert_eq!(appealed.expect(200)["status"], "appealed");
    assert_eq!(appealed.body["appealed"], true);
    let approved = app.post(
        &path("decision"),
        &app.admin(),
        &json!({"outcome": "approve"}),
    );
    assert_eq!(approved.expect(200)["status"], "approved");
    assert_eq!(app.balance("KE-MWF", "5300"), "1000.00");
    // Withdrawal before a decision.
    let body = json!({"benefit": "LEGAL_ASSISTANCE", "incident_date": "2026-03-02", "incident_phase": "abroad", "filed_on": "2026-03-05",
                      "claimant": {"relationship": "worker"}, "claimed_amount": "500.00"});
    let other = claim(&app, &m.worker, body).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.post(
            &format!("/v1/claims/{other}/withdrawal"),
            &app.admin(),
            &json!({})
        )
        .expect(200)["status"],
        "withdrawn"
    );
    // An appeal is allowed once.
    let body = json!({"benefit": "LEGAL_ASSISTANCE", "incident_date": "2026-03-03", "incident_phase": "abroad", "filed_on": "2026-03-05",
                      "claimant": {"relationship": "worker"}, "claimed_amount": "500.00", "documents": [{"type": "LEGAL_INVOICE", "reference": "L"}]});
    let third = claim(&app, &m.worker, body).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reject = json!({"outcome": "reject", "reasons": ["NOT_WORK_RELATED"]});
    app.post(
        &format!("/v1/claims/{third}/decision"),
        &app.admin(),
        &reject,
    )
    .expect(200);
    app.post(
        &format!("/v1/claims/{third}/appeal"),
        &app.admin(),
        &json!({}),
    )
    .expect(200);
    app.post(
        &format!("/v1/claims/{third}/decision"),
        &app.admin(),
        &reject,
    )
    .expect(200);
    app.post(
        &format!("/v1/claims/{third}/appeal"),
        &app.admin(),
        &json!({}),
    )
    .assert_problem(409, "ALREADY_APPEALED");
    let listed = app.get("/v1/funds/KE-MWF/claims?status=withdrawn", &app.admin());
    assert_eq!(listed.expect(200)["items"].as_array().unwrap().len(), 1);
    let events = app.get("/v1/events?limit=500", &app.admin());
    let kinds: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .filter(|t| t.starts_with("claim."))
        .collect();
    assert_eq!(
        kinds,
        vec![
            "claim.submitted",
            "claim.rejected",
            "claim.appealed",
            "claim.decided",
            "claim.approved",
            "claim.submitted",
            "claim.withdrawn",
            "claim.submitted",
            "claim.rejected",
            "claim.appealed",
            "claim.rejected"
        ]
    );
    app.assert_books_balance("KE-MWF");
}

#[test]
fn a_second_invalidity_award_is_cut_to_what_the_lifetime_cap_leaves() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let m = kenya_member(&app, "KI");
    let invalidity = |date: &str| {
        json!({"benefit": "INVALIDITY", "incident_date": date, "incident_phase": "abroad", "filed_on": "2026-09-01",
                                          "claimant": {"relationship": "worker"}, "grade": "2", "documents": [{"type": "MEDICAL_CERTIFICATE", "reference": "M"}]})
    };
    let first = claim(&app, &m.worker, invalidity("2026-04-01"));
    assert_eq!(first.expect(201)["assessment"]["payable"], "300000.00");
    let id = first.body["id"].as_str().unwrap().to_string();
    let officer = app.token_for("olga", Role::Officer, &["KE-MWF"]);
    app.post(
        &format!("/v1/claims/{id}/decision"),
        &officer,
        &json!({"outcome": "approve"}),
    )
    .expect(200);
    app.post(
        &format!("/v1/claims/{id}/approvals"),
        &app.token_for("abe", Role::Approver, &["*"]),
        &json!({}),
    )
    .expect(200);
    let second = claim(&app, &m.worker, invalidity("2026-08-01"));
    let a = &second.expect(201)["assessment"];
    assert_eq!(a["outcome"], "partially_eligible");
    assert_eq!(a["payable"], "100000.00");
    assert_eq!(a["reasons"], json!(["LIFETIME_CAP_REACHED"]));
}

#[test]
fn claims_are_submitted_only_within_the_token_funds_and_roles() {
    let app = spawn();
    let m = philippine_member(&app);
    app.load_fund("KE-MWF");
    let kenya = app.token(Role::Ministry, &["KE-MWF"]);
    let body = death(
        "DEATH_NATURAL",
        "2018-05-10",
        ("spouse", &m.spouse),
        docs(&DEATH_DOCS),
    );
    app.post(&format!("/v1/workers/{}/claims", m.worker), &kenya, &body)
        .assert_problem(404, "NOT_FOUND");
    let auditor = app.token(Role::Auditor, &["*"]);
    app.post(&format!("/v1/workers/{}/claims", m.worker), &auditor, &body)
        .assert_problem(403, "ROLE_NOT_PERMITTED");
    let philippines = app.token(Role::Ministry, &["PH-OWWA"]);
    let c = app.post(
        &format!("/v1/workers/{}/claims", m.worker),
        &philippines,
        &body,
    );
    let id = c.expect(201)["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/claims/{id}/decision"),
        &philippines,
        &json!({"outcome": "approve"}),
    )
    .assert_problem(403, "ROLE_NOT_PERMITTED");
    let wrong = json!({"benefit": "DEATH_NATURAL", "incident_date": "2018-05-10", "incident_phase": "abroad",
                       "claimant": {"relationship": "spouse", "dependant_id": "someone-else"}});
    let res = app.post(
        &format!("/v1/workers/{}/claims", m.worker),
        &app.admin(),
        &wrong,
    );
    assert_eq!(res.error_fields(), vec!["/claimant/dependant_id"]);
}

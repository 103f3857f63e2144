//! Rule versions: validation, immutability and the version in force.

use serde_json::json;

use crate::helpers::spawn;

fn kenya_2026() -> serde_json::Value {
    mwf::demo::fund_file("KE-MWF").unwrap().versions[0].clone()
}

#[test]
fn a_published_version_can_be_listed_and_read() {
    let app = spawn();
    app.load_fund("NP-FEWF");
    let list = app.get("/v1/funds/NP-FEWF/rules", &app.admin());
    let items = list.expect(200)["items"].as_array().unwrap().clone();
    let spans: Vec<(&str, &str, Option<&str>)> = items
        .iter()
        .map(|v| {
            (
                v["version"].as_str().unwrap(),
                v["effective_from"].as_str().unwrap(),
                v["effective_to"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        vec![
            ("NP-FEWF-2008", "2008-02-20", Some("2017-07-30")),
            ("NP-FEWF-2017", "2017-07-31", Some("2020-01-18")),
            ("NP-FEWF-2020", "2020-01-19", None),
        ]
    );
    let one = app.get("/v1/funds/NP-FEWF/rules/NP-FEWF-2017", &app.admin());
    assert_eq!(
        one.expect(200)["document"]["contribution"]["tiers"][0]["amount"],
        "1500.00"
    );
    app.get("/v1/funds/NP-FEWF/rules/NP-FEWF-1999", &app.admin())
        .assert_problem(404, "NOT_FOUND");
}

#[test]
fn every_bad_field_of_a_rule_document_is_listed_by_path() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let mut doc = kenya_2026();
    doc["contribution"]["allocation"]["administration"] = json!("0.20");
    doc["contribution"]["tiers"][0]["amount"] = json!("-5.00");
    doc["benefits"][0]["covered_phases"] = json!(["abroad", "on_the_moon"]);
    let res = app.post("/v1/funds/KE-MWF/rules", &app.admin(), &doc);
    res.assert_problem(422, "VALIDATION_FAILED");
    // The type error and the rules' own errors, all at once.
    assert_eq!(
        res.error_fields(),
        vec![
            "/benefits/0/covered_phases/1",
            "/contribution/tiers/0/amount",
            "/contribution/allocation"
        ]
    );

    let mut doc = kenya_2026();
    doc["contribution"]["allocation"]["administration"] = json!("0.20");
    doc["contribution"]["tiers"][0]["amount"] = json!("-5.00");
    doc["benefits"][2]["amount"]["cap"] = json!("0.00");
    doc["benefits"][1]["code"] = doc["benefits"][0]["code"].clone();
    doc["benefits"][0]["riders"] = json!(["NO_SUCH_BENEFIT"]);
    doc["benefits"][0]["claimants"] = json!(["spouse", "spouse"]);
    doc["membership"]["months"] = json!(null);
    let res = app.post("/v1/funds/KE-MWF/rules", &app.admin(), &doc);
    res.assert_problem(422, "VALIDATION_FAILED");
    let fields = res.error_fields();
    for expected in [
        "/contribution/tiers/0/amount",
        "/contribution/allocation",
        "/membership/months",
        "/benefits/0/claimants/1",
        "/benefits/0/riders/0",
        "/benefits/1/code",
        "/benefits/2/amount/cap",
    ] {
        assert!(
            fields.contains(&expected.to_string()),
            "{expected} missing from {fields:?}"
        );
    }

    let mut doc = kenya_2026();
    doc["benefits"][0]["surprise"] = json!(true);
    let res = app.post("/v1/funds/KE-MWF/rules", &app.admin(), &doc);
    assert_eq!(res.error_fields(), vec!["/benefits/0/surprise"]);
    let mut doc = kenya_2026();
    doc["benefits"][0]
        .as_object_mut()
        .unwrap()
        .remove("lifetime_cap");
    let res = app.post("/v1/funds/KE-MWF/rules", &app.admin(), &doc);
    assert_eq!(res.error_fields(), vec!["/benefits/0/lifetime_cap"]);
    assert_eq!(
        app.get("/v1/funds/KE-MWF/rules", &app.admin()).body["items"],
        json!([])
    );
}

#[test]
fn versions_are_immutable_and_may_not_rewrite_recorded_contributions() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let again = app.post("/v1/funds/KE-MWF/rules", &app.admin(), &kenya_2026());
    again.assert_problem(409, "RULE_VERSION_EXISTS");
    let (worker, contract) = app.enroll("KE-MWF", "K1", ("2026-02-01", "2027-01-31"));
    app.contribute(
        "KE-MWF",
        &worker,
        Some(&contract),
        "2026-03-01",
        ("2000.00", "KES", "2000.00"),
    )
    .expect(201);
    let mut later = kenya_2026();
    later["version"] = json!("KE-MWF-2026B");
    later["effective_from"] = json!("2026-02-15");
    let res = app.post("/v1/funds/KE-MWF/rules", &app.admin(), &later);
    res.assert_problem(409, "RULES_WOULD_CHANGE_RECORDS");
    later["effective_from"] = json!("2026-03-02");
    later["contribution"]["tiers"][0]["amount"] = json!("2100.00");
    app.post("/v1/funds/KE-MWF/rules", &app.admin(), &later)
        .expect(201);
    let quote = app.get(&format!("/v1/funds/KE-MWF/contributions/quote?worker_id={worker}&contract_id={contract}&paid_on=2026-03-02"), &app.admin());
    assert_eq!(quote.expect(200)["amount"], "2100.00");
    assert_eq!(quote.body["rule_version"], "KE-MWF-2026B");
    let earlier = app.get(&format!("/v1/funds/KE-MWF/contributions/quote?worker_id={worker}&contract_id={contract}&paid_on=2026-03-01"), &app.admin());
    assert_eq!(earlier.expect(200)["amount"], "2000.00");
    // The stored document cannot be changed behind the API's back either.
    let mut conn = app.connection();
    use diesel::connection::SimpleConnection;
    assert!(conn
        .batch_execute("UPDATE rule_versions SET document = '{}'")
        .is_err());
}

#[test]
fn a_version_may_not_change_the_rules_of_a_recorded_claim() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let (worker, contract) = app.enroll("KE-MWF", "K1", ("2026-02-01", "2027-01-31"));
    app.contribute(
        "KE-MWF",
        &worker,
        Some(&contract),
        "2026-03-01",
        ("2000.00", "KES", "2000.00"),
    )
    .expect(201);
    let claim = app.post(
        &format!("/v1/workers/{worker}/claims"),
        &app.admin(),
        &json!({"benefit": "HARDSHIP", "incident_date": "2026-05-10", "incident_phase": "abroad",
                "filed_on": "2026-05-20", "claimant": {"relationship": "worker"}, "claimed_amount": "1000.00"}),
    );
    let claim_id = claim.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(claim.body["assessment"]["rule_version"], "KE-MWF-2026");
    // After every contribution, but on or before the claim's incident date.
    let mut later = kenya_2026();
    later["version"] = json!("KE-MWF-2026B");
    for start in ["2026-04-01", "2026-05-10"] {
        later["effective_from"] = json!(start);
        let res = app.post("/v1/funds/KE-MWF/rules", &app.admin(), &later);
        let body = res.assert_problem(409, "RULES_WOULD_CHANGE_RECORDS");
        assert_eq!(body["claims"], json!([claim_id]), "{body}");
        assert_eq!(body["claim_count"], 1);
        assert!(body.get("contribution_id").is_none(), "{body}");
    }
    // A withdrawn claim keeps its rules too.
    let withdrawn = app.post(
        &format!("/v1/claims/{claim_id}/withdrawal"),
        &app.admin(),
        &json!({"note": "no longer needed"}),
    );
    assert_eq!(withdrawn.expect(200)["status"], "withdrawn");
    later["effective_from"] = json!("2026-05-01");
    app.post("/v1/funds/KE-MWF/rules", &app.admin(), &later)
        .assert_problem(409, "RULES_WOULD_CHANGE_RECORDS");
    // After every incident date and every payment date: accepted.
    later["effective_from"] = json!("2026-05-11");
    let res = app.post("/v1/funds/KE-MWF/rules", &app.admin(), &later);
    assert_eq!(res.expect(201)["effective_from"], "2026-05-11");
    let claim = app.get(&format!("/v1/claims/{claim_id}"), &app.admin());
    assert_eq!(
        claim.expect(200)["assessment"]["rule_version"],
        "KE-MWF-2026"
    );
}

#[test]
fn type_errors_and_rule_errors_of_a_document_come_back_together() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let mut doc = kenya_2026();
    doc["benefits"][0]["covered_phases"] = json!(["abroad", "on_the_moon"]);
    doc["contribution"]["allocation"]["benefit_reserve"] = json!("most of it");
    doc["benefits"][1]["riders"] = json!(["NO_SUCH_BENEFIT"]);
    doc["benefits"][2]["track"] = json!("lottery");
    doc["membership"]["grace_days"] = json!("thirty");
    let res = app.post("/v1/funds/KE-MWF/rules", &app.admin(), &doc);
    res.assert_problem(422, "VALIDATION_FAILED");
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "/benefits/0/covered_phases/1",
            "/benefits/1/riders/0",
            "/benefits/2/track",
            "/contribution/allocation/benefit_reserve",
            "/membership/grace_days",
        ],
        "{}",
        res.text
    );
    // Nothing was published.
    let listed = app.get("/v1/funds/KE-MWF/rules", &app.admin());
    assert_eq!(listed.expect(200)["items"], json!([]));
}

//! Contribution reversal, external references, batches and the event feed.

use mwf::auth::Role;
use serde_json::json;

use crate::helpers::spawn;

fn kenya_contribution(worker: &str, contract: &str, external_ref: &str) -> serde_json::Value {
    json!({"worker_id": worker, "contract_id": contract, "paid_on": "2026-01-20", "amount": "2000.00", "currency": "KES",
           "payers": [{"type": "worker", "amount": "2000.00"}], "external_ref": external_ref})
}

#[test]
fn a_reversed_contribution_books_the_reversal_and_removes_coverage() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let (worker, contract) = app.enroll("KE-MWF", "R1", ("2026-02-01", "2027-01-31"));
    let c = app.post(
        "/v1/funds/KE-MWF/contributions",
        &app.admin(),
        &kenya_contribution(&worker, &contract, "MOH-1"),
    );
    let id = c.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.get(
            &format!("/v1/workers/{worker}/membership?on=2026-06-01"),
            &app.admin()
        )
        .body["active"],
        true
    );
    let ministry = app.token(Role::Ministry, &["KE-MWF"]);
    app.post(
        &format!("/v1/contributions/{id}/reversal"),
        &ministry,
        &json!({"reason": "bounced"}),
    )
    .assert_problem(403, "ROLE_NOT_PERMITTED");
    let reversed = app.post(
        &format!("/v1/contributions/{id}/reversal"),
        &app.admin(),
        &json!({"reason": "Cheque returned unpaid"}),
    );
    let body = reversed.expect(200);
    assert_eq!(body["status"], "reversed");
    assert_eq!(body["reversal"]["reason"], "Cheque returned unpaid");
    let entry = app.get(
        &format!(
            "/v1/funds/KE-MWF/journal-entries/{}",
            body["reversal"]["journal_entry_id"].as_str().unwrap()
        ),
        &app.admin(),
    );
    assert_eq!(entry.expect(200)["kind"], "contribution_reversal");
    assert_eq!(entry.body["reverses"], body["journal_entry_id"]);
    assert_eq!(app.balance("KE-MWF", "1000"), "0.00");
    assert_eq!(app.balance("KE-MWF", "4000"), "0.00");
    let m = app.get(
        &format!("/v1/workers/{worker}/membership?on=2026-06-01"),
        &app.admin(),
    );
    assert_eq!(m.body["active"], false);
    assert_eq!(m.body["periods"], json!([]));
    app.post(
        &format!("/v1/contributions/{id}/reversal"),
        &app.admin(),
        &json!({"reason": "again"}),
    )
    .assert_problem(409, "ALREADY_REVERSED");
    // A contribution's entry is reversed through the contribution, never through the ledger.
    let entry_id = body["journal_entry_id"].as_str().unwrap();
    app.post(
        &format!("/v1/funds/KE-MWF/journal-entries/{entry_id}/reversal"),
        &app.admin(),
        &json!({"memo": "x"}),
    )
    .assert_problem(409, "NOT_REVERSIBLE");
    app.assert_books_balance("KE-MWF");
}

#[test]
fn an_external_ref_makes_a_repeat_return_the_recorded_contribution() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let (worker, contract) = app.enroll("KE-MWF", "E1", ("2026-02-01", "2027-01-31"));
    let first = app.post(
        "/v1/funds/KE-MWF/contributions",
        &app.admin(),
        &kenya_contribution(&worker, &contract, "LMIS-42"),
    );
    first.expect(201);
    let repeat = app.post(
        "/v1/funds/KE-MWF/contributions",
        &app.admin(),
        &kenya_contribution(&worker, &contract, "LMIS-42"),
    );
    assert_eq!(repeat.expect(200)["id"], first.body["id"]);
    assert_eq!(app.balance("KE-MWF", "1000"), "2000.00");
    let mut other = kenya_contribution(&worker, &contract, "LMIS-42");
    other["paid_on"] = json!("2026-01-21");
    app.post("/v1/funds/KE-MWF/contributions", &app.admin(), &other)
        .assert_problem(409, "EXTERNAL_REF_CONFLICT");
}

#[test]
fn a_contribution_batch_books_the_good_items_once_and_reports_the_bad() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let (w1, c1) = app.enroll("KE-MWF", "B1", ("2026-02-01", "2027-01-31"));
    let (w2, c2) = app.enroll("KE-MWF", "B2", ("2026-02-01", "2029-01-31"));
    let mut wrong_amount = kenya_contribution(&w2, &c2, "X-3");
    wrong_amount["payers"][0]["amount"] = json!("2000.00");
    let mut long = kenya_contribution(&w2, &c2, "X-4");
    long["amount"] = json!("3000.00");
    long["payers"][0]["amount"] = json!("3000.00");
    let nobody = json!({"worker_id": "nobody", "paid_on": "2026-01-20", "amount": "2000.00", "currency": "KES",
                        "payers": [{"type": "worker", "amount": "2000.00"}]});
    let items = json!([kenya_contribution(&w1, &c1, "X-1"), wrong_amount, nobody, long, {"worker_id": w1, "amount": 2000}]);
    let res = app.post(
        "/v1/funds/KE-MWF/contributions/batch",
        &app.admin(),
        &json!({"items": items}),
    );
    let body = res.expect(200).clone();
    let statuses: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        vec!["created", "failed", "failed", "created", "failed"]
    );
    assert_eq!(
        body["items"][1]["problem"]["code"],
        "CONTRIBUTION_AMOUNT_MISMATCH"
    );
    assert_eq!(body["items"][1]["problem"]["expected"]["amount"], "3000.00");
    assert_eq!(
        body["items"][2]["problem"]["errors"][0]["field"],
        "/items/2/worker_id"
    );
    assert_eq!(body["items"][4]["problem"]["code"], "VALIDATION_FAILED");
    assert_eq!(app.balance("KE-MWF", "1000"), "5000.00");
    // The same batch again: recorded items answer `existing`, nothing books twice.
    let again = app.post(
        "/v1/funds/KE-MWF/contributions/batch",
        &app.admin(),
        &json!({"items": items}),
    );
    let statuses: Vec<&str> = again.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        vec!["existing", "failed", "failed", "existing", "failed"]
    );
    assert_eq!(
        again.body["items"][0]["contribution_id"],
        body["items"][0]["contribution_id"]
    );
    assert_eq!(app.balance("KE-MWF", "1000"), "5000.00");
    app.assert_books_balance("KE-MWF");
}

#[test]
fn the_event_feed_lists_domain_events_in_commit_order_within_scope() {
    let app = spawn();
    app.load_fund("KE-MWF");
    app.load_fund("NP-FEWF");
    let (worker, contract) = app.enroll("KE-MWF", "V1", ("2026-02-01", "2027-01-31"));
    let c = app.post(
        "/v1/funds/KE-MWF/contributions",
        &app.admin(),
        &kenya_contribution(&worker, &contract, "EV-1"),
    );
    let id = c.expect(201)["id"].as_str().unwrap().to_string();
    app.enroll("NP-FEWF", "V2", ("2026-02-01", "2027-01-31"));
    app.post(
        &format!("/v1/contributions/{id}/reversal"),
        &app.admin(),
        &json!({"reason": "bounced"}),
    )
    .expect(200);
    let feed = app.get("/v1/events", &app.admin());
    let events: Vec<(String, String)> = feed.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["fund"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            ("worker.enrolled".to_string(), "KE-MWF".to_string()),
            ("contribution.recorded".to_string(), "KE-MWF".to_string()),
            ("worker.enrolled".to_string(), "NP-FEWF".to_string()),
            ("contribution.reversed".to_string(), "KE-MWF".to_string()),
        ]
    );
    let ids: Vec<i64> = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 4]);
    assert_eq!(
        feed.body["items"][1]["data"]["contribution_id"],
        id.as_str()
    );
    let kenya = app.token(Role::Ministry, &["KE-MWF"]);
    let scoped = app.get("/v1/events?limit=2", &kenya);
    let page = scoped.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let next = page["next"].as_str().unwrap().to_string();
    let rest = app.get(&format!("/v1/events?after={next}"), &kenya);
    let types: Vec<&str> = rest.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["contribution.reversed"]);
}

/// The `(type, subject_id)` of each event of a feed page.
fn feed_items(page: &serde_json::Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["subject_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Two Kenyan workers (one with a contribution, a claim on it, and its reversal)
/// and a Nepali one: each filter picks exactly its events.
#[test]
fn the_event_feed_filters_by_fund_type_worker_and_claim() {
    let app = spawn();
    app.load_fund("KE-MWF");
    app.load_fund("NP-FEWF");
    let (first, contract) = app.enroll("KE-MWF", "F1", ("2026-02-01", "2027-01-31"));
    let (second, _) = app.enroll("KE-MWF", "F2", ("2026-02-01", "2027-01-31"));
    let (nepali, _) = app.enroll("NP-FEWF", "F3", ("2026-02-01", "2027-01-31"));
    let contribution = app.post(
        "/v1/funds/KE-MWF/contributions",
        &app.admin(),
        &kenya_contribution(&first, &contract, "FILTER-1"),
    );
    let contribution = contribution.expect(201)["id"].as_str().unwrap().to_string();
    let claim = app.post(
        &format!("/v1/workers/{first}/claims"),
        &app.admin(),
        &json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
                "filed_on": "2026-03-05", "claimant": {"relationship": "worker"}, "claimed_amount": "1000.00",
                "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]}),
    );
    let claim = claim.expect(201)["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/contributions/{contribution}/reversal"),
        &app.admin(),
        &json!({"reason": "bounced"}),
    )
    .expect(200);
    let admin = app.admin();
    let pick =
        |query: &str| feed_items(app.get(&format!("/v1/events?{query}"), &admin).expect(200));
    let pair = |t: &str, s: &str| (t.to_string(), s.to_string());

    assert_eq!(pick("fund=NP-FEWF"), vec![pair("worker.enrolled", &nepali)]);
    assert_eq!(
        pick(&format!("worker={first}")),
        vec![
            pair("worker.enrolled", &first),
            pair("contribution.recorded", &contribution),
            pair("claim.submitted", &claim),
            pair("contribution.reversed", &contribution),
        ]
    );
    assert_eq!(
        pick(&format!("worker={second}")),
        vec![pair("worker.enrolled", &second)]
    );
    assert_eq!(
        pick(&format!("claim={claim}")),
        vec![pair("claim.submitted", &claim)]
    );
    assert_eq!(
        pick("fund=KE-MWF&type=contribution.reversed,worker.enrolled"),
        vec![
            pair("worker.enrolled", &first),
            pair("worker.enrolled", &second),
            pair("contribution.reversed", &contribution),
        ]
    );
    assert_eq!(pick(&format!("fund=NP-FEWF&worker={first}")), vec![]);

    // A Kenyan ministry never sees Nepal's events, even by naming the fund.
    let kenya = app.token(Role::Ministry, &["KE-MWF"]);
    app.get("/v1/events?fund=NP-FEWF", &kenya)
        .assert_problem(404, "NOT_FOUND");
    let scoped = app.get(&format!("/v1/events?worker={nepali}"), &kenya);
    assert_eq!(feed_items(scoped.expect(200)), vec![]);

    let unknown = app.get("/v1/events?type=claim.paid,claim.exploded", &admin);
    unknown.assert_problem(400, "INVALID_QUERY");
    assert_eq!(unknown.error_fields(), vec!["type"]);
    let too_long = app.get("/v1/events?wait=31", &admin);
    too_long.assert_problem(400, "INVALID_QUERY");
    assert_eq!(too_long.error_fields(), vec!["wait"]);
}

/// A poller waiting after the last event gets the next one as soon as it is
/// committed, and an empty page when nothing comes within its wait.
#[test]
fn a_waiting_poller_receives_the_next_event_when_it_is_committed() {
    let app = spawn();
    app.load_fund("KE-MWF");
    app.enroll("KE-MWF", "W1", ("2026-02-01", "2027-01-31"));
    let admin = app.admin();
    let last = app.get("/v1/events", &admin).expect(200)["items"][0]["id"]
        .as_i64()
        .unwrap();

    let nothing = app.get(&format!("/v1/events?after={last}&wait=1"), &admin);
    assert_eq!(feed_items(nothing.expect(200)), vec![]);
    assert!(nothing.body.get("next").is_none(), "{}", nothing.text);

    let waited = std::thread::scope(|s| {
        let poller = s.spawn(|| app.get(&format!("/v1/events?after={last}&wait=30"), &admin));
        // The poller is most likely waiting by now; if not, it finds the event at once.
        std::thread::sleep(std::time::Duration::from_millis(300));
        app.enroll("KE-MWF", "W2", ("2026-02-01", "2027-01-31"));
        poller.join().unwrap()
    });
    let items = waited.expect(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", waited.text);
    assert_eq!(items[0]["type"], "worker.enrolled");
    assert_eq!(items[0]["id"].as_i64().unwrap(), last + 1);
}

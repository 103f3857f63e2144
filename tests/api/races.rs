//! Racing retries: many identical requests with one `Idempotency-Key`, sent at
//! once, are all answered with the one outcome (one original, the rest replays),
//! never with the refusal the loser of the race would get on its own.

use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp};

const RACERS: usize = 50;

/// Sends `RACERS` identical keyed requests at once and checks that every one is
/// answered with the same success and body, exactly one of them not a replay.
/// Returns the body.
#[track_caller]
fn race(app: &TestApp, path: &str, key: &str, body: &Value) -> Value {
    let token = app.admin();
    let answers: Vec<(u16, String, bool)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let token = &token;
                s.spawn(move || {
                    let r = app.post_with_key(path, token, key, body);
                    let replayed = r.header("idempotent-replayed") == Some("true");
                    (r.status, r.text, replayed)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let (status, text, _) = answers
        .iter()
        .find(|(_, _, replayed)| !replayed)
        .expect("one answer is the original")
        .clone();
    assert!((200..300).contains(&status), "{status} {text}");
    for (s, t, _) in &answers {
        assert_eq!((*s, t), (status, &text), "every racer gets the one outcome");
    }
    let originals = answers.iter().filter(|(_, _, replayed)| !replayed).count();
    assert_eq!(originals, 1, "exactly one original answer");
    serde_json::from_str(&text).unwrap()
}

/// A Kenyan worker covered by one contribution; returns (worker, contribution).
fn kenya_member(app: &TestApp, document: &str) -> (String, String) {
    let (worker, contract) = app.enroll("KE-MWF", document, ("2026-02-01", "2028-07-31"));
    let paid = app.contribute(
        "KE-MWF",
        &worker,
        Some(&contract),
        "2026-01-05",
        ("3000.00", "KES", "3000.00"),
    );
    let contribution = paid.expect(201)["id"].as_str().unwrap().to_string();
    (worker, contribution)
}

fn submit_distress_claim(app: &TestApp, worker: &str) -> String {
    let body = json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
                      "filed_on": "2026-03-05", "claimant": {"relationship": "worker"}, "claimed_amount": "1000.00",
                      "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]});
    let res = app.post(&format!("/v1/workers/{worker}/claims"), &app.admin(), &body);
    assert_eq!(res.expect(201)["assessment"]["outcome"], "eligible");
    res.body["id"].as_str().unwrap().to_string()
}

fn today() -> String {
    mwf::time::today().to_string()
}

#[test]
fn racing_keyed_claim_payments_are_all_answered_with_the_payment() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let (worker, _) = kenya_member(&app, "RACE-PAY");
    let claim = submit_distress_claim(&app, &worker);
    app.post(
        &format!("/v1/claims/{claim}/decision"),
        &app.admin(),
        &json!({"outcome": "approve"}),
    )
    .expect(200);
    let path = format!("/v1/claims/{claim}/payment");
    let paid = race(&app, &path, "pay-1", &json!({"paid_on": today()}));
    assert_eq!(paid["status"], "paid");
    assert_eq!(app.balance("KE-MWF", "1000"), "2000.00");
    app.assert_books_balance("KE-MWF");
}

#[test]
fn racing_keyed_claim_decisions_are_all_answered_with_the_decision() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let (worker, _) = kenya_member(&app, "RACE-DECIDE");
    let claim = submit_distress_claim(&app, &worker);
    let path = format!("/v1/claims/{claim}/decision");
    let decided = race(&app, &path, "decide-1", &json!({"outcome": "approve"}));
    assert_eq!(decided["status"], "approved");
    assert_eq!(decided["decision"]["amount"], "1000.00");
    app.assert_books_balance("KE-MWF");
}

#[test]
fn racing_keyed_contribution_reversals_are_all_answered_with_the_reversal() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let (_, contribution) = kenya_member(&app, "RACE-REVERSE");
    let path = format!("/v1/contributions/{contribution}/reversal");
    let reversed = race(&app, &path, "reverse-1", &json!({"reason": "bounced"}));
    assert!(reversed["reversal"].is_object(), "{reversed}");
    assert_eq!(app.balance("KE-MWF", "1000"), "0.00");
    app.assert_books_balance("KE-MWF");
}

#[test]
fn racing_keyed_enrollments_are_all_answered_with_the_worker() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let body = json!({
        "document_type": "passport", "document_number": "RACE-ENROLL",
        "given_name": "Achieng", "family_name": "Otieno", "date_of_birth": "1994-07-12", "sex": "female",
        "contracts": [{"employer": "E", "destination_country": "SA",
                       "start_date": "2026-02-01", "end_date": "2028-01-31"}]
    });
    let worker = race(&app, "/v1/funds/KE-MWF/workers", "enroll-1", &body);
    assert_eq!(worker["document_number"], "RACE-ENROLL");
    let listed = app.get("/v1/funds/KE-MWF/workers", &app.admin());
    assert_eq!(listed.expect(200)["items"].as_array().unwrap().len(), 1);
}

fn grant(amount: &str) -> Value {
    json!({"effective_date": "2026-01-05", "memo": "grant from a donor", "postings": [
        {"account": "1000", "side": "debit", "amount": amount, "currency": "KES"},
        {"account": "4200", "side": "credit", "amount": amount, "currency": "KES"}]})
}

#[test]
fn racing_keyed_manual_entries_are_all_answered_with_the_entry() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let entry = race(
        &app,
        "/v1/funds/KE-MWF/journal-entries",
        "grant-1",
        &grant("10.00"),
    );
    assert_eq!(entry["sequence"], 1);
    assert_eq!(app.balance("KE-MWF", "1000"), "10.00");
}

#[test]
fn racing_keyed_entry_reversals_are_all_answered_with_the_reversing_entry() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let posted = app.post(
        "/v1/funds/KE-MWF/journal-entries",
        &app.admin(),
        &grant("10.00"),
    );
    let id = posted.expect(201)["id"].as_str().unwrap().to_string();
    let path = format!("/v1/funds/KE-MWF/journal-entries/{id}/reversal");
    let reversal = race(&app, &path, "undo-1", &json!({"memo": "posted twice"}));
    assert_eq!(reversal["reverses"], id.as_str());
    assert_eq!(app.balance("KE-MWF", "1000"), "0.00");
}

//! Idempotency keys: a retry returns the original response and books once.

use serde_json::json;

use crate::helpers::spawn;

fn grant(amount: &str) -> serde_json::Value {
    json!({"effective_date": "2026-01-05", "memo": "grant from a donor", "postings": [
        {"account": "1000", "side": "debit", "amount": amount, "currency": "KES"},
        {"account": "4200", "side": "credit", "amount": amount, "currency": "KES"}]})
}

#[test]
fn a_replay_returns_the_original_body_and_books_once() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let path = "/v1/funds/KE-MWF/journal-entries";
    let first = app.post_with_key(path, &app.admin(), "grant-2026-001", &grant("500.00"));
    first.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    // The same body with other key order and spacing is the same request.
    let reordered = r#"{"memo":"grant from a donor","postings":[{"currency":"KES","account":"1000","side":"debit","amount":"500.00"},{"account":"4200","side":"credit","amount":"500.00","currency":"KES"}],   "effective_date":"2026-01-05"}"#;
    let second = app.post_raw(
        path,
        &app.admin(),
        reordered,
        &[
            ("Content-Type", "application/json"),
            ("Idempotency-Key", "grant-2026-001"),
        ],
    );
    assert_eq!(second.status, 201);
    assert_eq!(second.text, first.text);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.balance("KE-MWF", "1000"), "500.00");
    assert_eq!(app.get("/v1/funds/KE-MWF", &app.admin()).body["entries"], 1);
}

#[test]
fn the_same_key_with_a_different_body_is_a_409() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let path = "/v1/funds/KE-MWF/journal-entries";
    app.post_with_key(path, &app.admin(), "k-1", &grant("500.00"))
        .expect(201);
    app.post_with_key(path, &app.admin(), "k-1", &grant("500.01"))
        .assert_problem(409, "IDEMPOTENCY_KEY_REUSED");
    // ...and on another route.
    app.post_with_key(
        "/v1/funds/KE-MWF/accounts",
        &app.admin(),
        "k-1",
        &json!({"code": "1010", "name": "x", "type": "asset", "currency": "USD"}),
    )
    .assert_problem(409, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(app.balance("KE-MWF", "1000"), "500.00");
    // Keys belong to the caller: another subject may use the same key.
    let other = app.token_for("someone-else", mwf::auth::Role::Admin, &["*"]);
    app.post_with_key(path, &other, "k-1", &grant("1.00"))
        .expect(201);
    assert_eq!(app.balance("KE-MWF", "1000"), "501.00");
}

#[test]
fn identical_requests_sent_at_the_same_time_book_once() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let path = "/v1/funds/KE-MWF/journal-entries";
    let responses: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let app = &app;
                s.spawn(move || {
                    let r = app.post_with_key(path, &app.admin(), "simultaneous", &grant("75.00"));
                    (r.status, r.text)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        responses.iter().all(|(status, _)| *status == 201),
        "{responses:?}"
    );
    assert!(
        responses.iter().all(|(_, body)| *body == responses[0].1),
        "bodies differ"
    );
    assert_eq!(app.balance("KE-MWF", "1000"), "75.00");
    assert_eq!(app.get("/v1/funds/KE-MWF", &app.admin()).body["entries"], 1);
    let verify = app.get("/v1/funds/KE-MWF/ledger/verify", &app.admin());
    assert_eq!(verify.expect(200)["ok"], true);
}

#[test]
fn a_refused_request_is_not_stored_so_a_corrected_state_can_succeed_with_the_key() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let path = "/v1/funds/KE-MWF/journal-entries";
    let pay = json!({"effective_date": "2026-01-05", "memo": "bank charge", "postings": [
        {"account": "6100", "side": "debit", "amount": "10.00", "currency": "KES"},
        {"account": "1000", "side": "credit", "amount": "10.00", "currency": "KES"}]});
    app.post_with_key(path, &app.admin(), "charge-1", &pay)
        .assert_problem(409, "INSUFFICIENT_FUNDS");
    app.transfer("KE-MWF", "2026-01-04", "1000", "3100", "10.00", "KES")
        .expect(201);
    app.post_with_key(path, &app.admin(), "charge-1", &pay)
        .expect(201);
    app.post_with_key(path, &app.admin(), "charge-1", &pay)
        .expect(201);
    assert_eq!(app.balance("KE-MWF", "1000"), "0.00");
}

#[test]
fn a_replay_rechecks_the_fund_scope_and_the_role_of_the_caller() {
    use mwf::auth::Role;
    let app = spawn();
    app.load_fund("KE-MWF");
    let wide = app.token_for("olivia", Role::Officer, &["*"]);
    let narrow = app.token_for("olivia", Role::Officer, &["NP-FEWF"]);
    let worker = json!({
        "document_type": "passport", "document_number": "SCOPE-1",
        "given_name": "Achieng", "family_name": "Otieno", "date_of_birth": "1994-07-12", "sex": "female",
        "phone": "+254700000001",
        "contracts": [{"employer": "E", "destination_country": "SA",
                       "start_date": "2026-02-01", "end_date": "2028-07-31"}]
    });
    let enroll = "/v1/funds/KE-MWF/workers";
    let enrolled = app.post_with_key(enroll, &wide, "k-enroll", &worker);
    let enrolled = enrolled.expect(201).clone();
    // A token limited to another fund gets what it gets for the fund itself: 404.
    app.post_with_key(enroll, &narrow, "k-enroll", &worker)
        .assert_problem(404, "NOT_FOUND");
    // A role that may not enroll is refused before the key is looked up.
    let auditor = app.token_for("olivia", Role::Auditor, &["*"]);
    app.post_with_key(enroll, &auditor, "k-enroll", &worker)
        .assert_problem(403, "ROLE_NOT_PERMITTED");
    let again = app.post_with_key(enroll, &wide, "k-enroll", &worker);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    // A contribution (booked by the group committer) and its reversal (addressed by id).
    let contribution = json!({
        "worker_id": enrolled["id"], "contract_id": enrolled["contracts"][0]["id"],
        "paid_on": "2026-01-05", "amount": "3000.00", "currency": "KES",
        "payers": [{"type": "worker", "amount": "3000.00"}]
    });
    let contribute = "/v1/funds/KE-MWF/contributions";
    let paid = app.post_with_key(contribute, &wide, "k-pay", &contribution);
    let id = paid.expect(201)["id"].as_str().unwrap().to_string();
    app.post_with_key(contribute, &narrow, "k-pay", &contribution)
        .assert_problem(404, "NOT_FOUND");
    let reverse = format!("/v1/contributions/{id}/reversal");
    let reason = json!({"reason": "bounced"});
    app.post_with_key(&reverse, &wide, "k-reverse", &reason)
        .expect(200);
    app.post_with_key(&reverse, &narrow, "k-reverse", &reason)
        .assert_problem(404, "NOT_FOUND");
    let ministry = app.token_for("olivia", Role::Ministry, &["*"]);
    app.post_with_key(&reverse, &ministry, "k-reverse", &reason)
        .assert_problem(403, "ROLE_NOT_PERMITTED");
    let again = app.post_with_key(&reverse, &wide, "k-reverse", &reason);
    assert_eq!(again.expect(200)["status"], "reversed");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
}

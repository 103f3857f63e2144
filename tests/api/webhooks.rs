//! Webhooks: subscriptions, signed deliveries through failures and timeouts,
//! the delivery log, redelivery, validation and scope. The receiver is a
//! loopback server of the test's own ([`crate::receiver`]).

use std::time::Duration;

use mwf::auth::Role;
use mwf::config::WebhookSettings;
use serde_json::{json, Value};

use crate::helpers::{spawn_with, TestApp};
use crate::receiver::{Answer, Received, Receiver};

const FUND: &str = "KE-MWF";

/// A worker that polls often, retries at once and gives an attempt a second.
fn fast(max_attempts: u32) -> WebhookSettings {
    WebhookSettings {
        timeout: Duration::from_secs(1),
        max_attempts,
        backoff_base: Duration::from_millis(50),
        poll_interval: Duration::from_millis(50),
        lease: Duration::from_secs(5),
    }
}

fn app_with(max_attempts: u32) -> TestApp {
    let app = spawn_with(|s| s.webhooks = fast(max_attempts));
    app.load_fund(FUND);
    app
}

/// Subscribes `url` to the fund's events of `types`; returns (id, secret).
fn subscribe(app: &TestApp, fund: &str, url: &str, types: &[&str]) -> (String, String) {
    let res = app.post(
        &format!("/v1/funds/{fund}/webhooks"),
        &app.admin(),
        &json!({"url": url, "event_types": types}),
    );
    let body = res.expect(201);
    (
        body["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

fn enroll_some(app: &TestApp, fund: &str, prefix: &str, n: usize) {
    for i in 0..n {
        app.enroll(fund, &format!("{prefix}{i}"), ("2026-02-01", "2027-01-31"));
    }
}

/// The fund's events as the feed shows them, in order.
fn feed_of(app: &TestApp, fund: &str) -> Vec<Value> {
    let feed = app.get("/v1/events?limit=500", &app.admin());
    feed.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["fund"] == fund)
        .cloned()
        .collect()
}

/// The distinct event ids of the requests, in the order they first arrived.
fn first_seen(received: &[Received]) -> Vec<i64> {
    let mut ids: Vec<i64> = Vec::new();
    for r in received {
        let id = r.event_id();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

fn delivered_ids(received: &[Received]) -> Vec<i64> {
    received
        .iter()
        .filter(|r| r.delivered())
        .map(Received::event_id)
        .collect()
}

/// The delivery log once `settled` holds for it: the receiver sees a request
/// before the worker records its answer.
#[track_caller]
fn log_once(app: &TestApp, subscription: &str, settled: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let log = deliveries(app, subscription);
        if settled(&log) {
            return log;
        }
        assert!(std::time::Instant::now() < deadline, "{log:#?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn all_settled(log: &[Value]) -> bool {
    log.iter().all(|d| d["status"] != "pending")
}

fn deliveries(app: &TestApp, subscription: &str) -> Vec<Value> {
    let res = app.get(
        &format!("/v1/funds/{FUND}/webhooks/{subscription}/deliveries"),
        &app.admin(),
    );
    res.expect(200)["items"].as_array().unwrap().clone()
}

#[test]
fn every_event_arrives_in_order_signed_through_errors_and_a_timeout() {
    let app = app_with(8);
    let receiver = Receiver::start();
    receiver.script(&[Answer::Status(500), Answer::Hang, Answer::Status(503)]);
    let (id, secret) = subscribe(&app, FUND, &receiver.url, &[]);
    enroll_some(&app, FUND, "W", 4);
    let events = feed_of(&app, FUND);
    let event_ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(events.len(), 4, "{events:#?}");

    let received = receiver.wait_until("every event delivered", |r| {
        delivered_ids(r).len() >= event_ids.len()
    });
    assert_eq!(
        delivered_ids(&received),
        event_ids,
        "in event order, once each"
    );
    assert_eq!(
        first_seen(&received),
        event_ids,
        "no event overtakes another"
    );
    for r in &received {
        assert!(r.signed_with(&secret), "a bad signature: {r:#?}");
        let body = r.json();
        let event = events
            .iter()
            .find(|e| e["id"] == body["data"]["id"])
            .unwrap();
        assert_eq!(
            &body["data"], event,
            "data is the event as the feed shows it"
        );
        assert_eq!(body["type"], event["type"]);
        assert_eq!(body["timestamp"], event["occurred_at"]);
    }
    // The first event was refused twice and timed out once, under one webhook-id.
    let first: Vec<&Received> = received
        .iter()
        .filter(|r| r.event_id() == event_ids[0])
        .collect();
    assert_eq!(first.len(), 4);
    assert!(first.iter().all(|r| r.id == first[0].id));

    let log = log_once(&app, &id, all_settled);
    assert_eq!(log.len(), 4);
    let head = &log[0];
    assert_eq!(head["id"], first[0].id.as_str());
    assert_eq!(head["event_id"], event_ids[0]);
    assert_eq!(head["event_type"], "worker.enrolled");
    assert_eq!(head["status"], "delivered");
    assert_eq!(head["attempts"], 4);
    let codes: Vec<&Value> = head["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(500), &Value::Null, &json!(503), &json!(200)]);
    let timeout = &head["attempt_log"][1]["error"];
    assert!(
        timeout.as_str().unwrap().to_lowercase().contains("timeout")
            || timeout
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("timed out"),
        "{timeout}"
    );
    assert!(log[1..]
        .iter()
        .all(|d| d["status"] == "delivered" && d["attempts"] == 1));
}

#[test]
fn a_delivery_past_its_last_attempt_fails_the_next_goes_and_redeliver_sends_it_again() {
    let app = app_with(2);
    let receiver = Receiver::start();
    receiver.script(&[Answer::Status(500), Answer::Status(502)]);
    let (id, secret) = subscribe(&app, FUND, &receiver.url, &["worker.enrolled"]);
    enroll_some(&app, FUND, "F", 2);
    let events: Vec<i64> = feed_of(&app, FUND)
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    receiver.wait_until("the second event delivered", |r| {
        delivered_ids(r) == [events[1]]
    });
    let log = log_once(&app, &id, all_settled);
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["last_error"], "the receiver answered 502");
    assert_eq!(log[1]["status"], "delivered");
    let failed = app.get(
        &format!("/v1/funds/{FUND}/webhooks/{id}/deliveries?status=failed"),
        &app.admin(),
    );
    assert_eq!(failed.expect(200)["items"].as_array().unwrap().len(), 1);

    let delivery = log[0]["id"].as_str().unwrap();
    let again = app.post(
        &format!("/v1/funds/{FUND}/webhooks/{id}/deliveries/{delivery}/redeliver"),
        &app.admin(),
        &json!({}),
    );
    let body = again.expect(202);
    assert_eq!(body["status"], "pending");
    assert_eq!(body["attempts"], 0);
    let received = receiver.wait_until("the first event delivered on redelivery", |r| {
        delivered_ids(r) == [events[1], events[0]]
    });
    let last = received.last().unwrap();
    assert_eq!(last.id, delivery, "the same webhook-id");
    assert!(last.signed_with(&secret));
    let log = log_once(&app, &id, all_settled);
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(
        log[0]["attempt_log"].as_array().unwrap().len(),
        3,
        "{log:#?}"
    );
}

#[test]
fn a_subscription_receives_only_its_types_and_its_funds_events() {
    let app = app_with(3);
    app.load_fund("PH-OWWA");
    let receiver = Receiver::start();
    let (_, secret) = subscribe(&app, FUND, &receiver.url, &["worker.enrolled"]);
    enroll_some(&app, "PH-OWWA", "P", 2);
    enroll_some(&app, FUND, "K", 1);
    let kenya: Vec<i64> = feed_of(&app, FUND)
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    let received = receiver.wait_until("the Kenyan event", |r| !r.is_empty());
    assert_eq!(delivered_ids(&received), kenya);
    assert!(received.iter().all(|r| r.json()["data"]["fund"] == FUND));
    assert!(received[0].signed_with(&secret));
}

#[test]
fn the_secret_is_shown_only_when_the_subscription_is_created() {
    let app = app_with(3);
    let receiver = Receiver::start();
    let (id, secret) = subscribe(&app, FUND, &receiver.url, &["claim.paid"]);
    assert!(secret.starts_with("whsec_"));
    for path in [
        format!("/v1/funds/{FUND}/webhooks/{id}"),
        format!("/v1/funds/{FUND}/webhooks"),
        format!("/v1/funds/{FUND}/webhooks/{id}/deliveries"),
        "/v1/audit-log".to_string(),
    ] {
        let res = app.get(&path, &app.admin());
        res.expect(200);
        assert!(!res.text.contains(&secret), "{path}: {}", res.text);
        assert!(!res.text.contains("\"secret\""), "{path}: {}", res.text);
    }
    let one = app.get(&format!("/v1/funds/{FUND}/webhooks/{id}"), &app.admin());
    assert_eq!(one.body["event_types"], json!(["claim.paid"]));
    assert_eq!(one.body["url"], receiver.url.as_str());
}

#[test]
fn a_bad_url_or_an_unknown_event_type_is_refused_naming_the_field() {
    let app = app_with(3);
    let path = format!("/v1/funds/{FUND}/webhooks");
    let long = format!("https://example.org/{}", "a".repeat(2000));
    for (url, code) in [
        ("ftp://example.org/hook", "invalid_url"),
        ("not a url", "invalid_url"),
        ("/relative", "invalid_url"),
        ("https://user:pw@example.org/hook", "invalid_url"),
        (long.as_str(), "too_long"),
    ] {
        let res = app.post(&path, &app.admin(), &json!({"url": url}));
        res.assert_problem(422, "VALIDATION_FAILED");
        assert_eq!(res.error_fields(), ["/url"], "{url}");
        assert_eq!(res.body["errors"][0]["code"], code, "{url}");
    }
    let res = app.post(
        &path,
        &app.admin(),
        &json!({"url": "https://example.org/h", "event_types": ["claim.paid", "claim.teleported", "claim.paid"]}),
    );
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(res.error_fields(), ["/event_types/1", "/event_types/2"]);
    assert_eq!(res.body["errors"][0]["code"], "unknown_event_type");
    assert_eq!(res.body["errors"][1]["code"], "duplicate");
    let res = app.post(&path, &app.admin(), &json!({"url": 7}));
    res.assert_problem(422, "VALIDATION_FAILED");
    let listed = app.get(&path, &app.admin());
    assert_eq!(
        listed.expect(200)["items"],
        json!([]),
        "nothing half-written"
    );
}

#[test]
fn a_ministry_manages_webhooks_of_its_funds_only_and_an_auditor_only_reads_them() {
    let app = app_with(3);
    app.load_fund("PH-OWWA");
    let body = json!({"url": "https://partner.example.org/hook"});
    let kenya = app.token(Role::Ministry, &[FUND]);
    let philippines = "/v1/funds/PH-OWWA/webhooks";
    app.post(philippines, &kenya, &body)
        .assert_problem(404, "NOT_FOUND");
    app.get(philippines, &kenya)
        .assert_problem(404, "NOT_FOUND");
    let created = app.post(&format!("/v1/funds/{FUND}/webhooks"), &kenya, &body);
    let id = created.expect(201)["id"].as_str().unwrap().to_string();
    // Addressed through another fund, the subscription does not exist.
    app.get(&format!("{philippines}/{id}"), &app.admin())
        .assert_problem(404, "NOT_FOUND");

    for role in [Role::Officer, Role::Approver] {
        let token = app.token(role, &["*"]);
        app.get(&format!("/v1/funds/{FUND}/webhooks"), &token)
            .assert_problem(403, "ROLE_NOT_PERMITTED");
        app.post(&format!("/v1/funds/{FUND}/webhooks"), &token, &body)
            .assert_problem(403, "ROLE_NOT_PERMITTED");
    }
    let auditor = app.token(Role::Auditor, &[FUND]);
    let listed = app.get(&format!("/v1/funds/{FUND}/webhooks"), &auditor);
    assert_eq!(listed.expect(200)["items"][0]["id"], id.as_str());
    app.post(&format!("/v1/funds/{FUND}/webhooks"), &auditor, &body)
        .assert_problem(403, "ROLE_NOT_PERMITTED");
    app.delete(&format!("/v1/funds/{FUND}/webhooks/{id}"), &auditor)
        .assert_problem(403, "ROLE_NOT_PERMITTED");

    let deleted = app.delete(&format!("/v1/funds/{FUND}/webhooks/{id}"), &kenya);
    assert!(deleted.expect(200)["disabled_at"].is_string());
    app.delete(&format!("/v1/funds/{FUND}/webhooks/{id}"), &kenya)
        .assert_problem(404, "NOT_FOUND");
    let audit = app.get("/v1/audit-log", &app.admin());
    let actions: Vec<&str> = audit.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "succeeded")
        .filter_map(|r| r["action"].as_str())
        .filter(|a| a.starts_with("webhook."))
        .collect();
    assert_eq!(actions, ["webhook.subscribe", "webhook.delete"]);
}

#[test]
fn a_deleted_subscription_stops_its_pending_deliveries_and_gets_no_more() {
    let app = app_with(8);
    let receiver = Receiver::start();
    // Refused long enough for the deletion to find the deliveries pending.
    receiver.script(&[Answer::Status(500); 1000]);
    let (id, _) = subscribe(&app, FUND, &receiver.url, &[]);
    enroll_some(&app, FUND, "D", 2);
    receiver.wait_until("a first attempt", |r| !r.is_empty());
    app.delete(&format!("/v1/funds/{FUND}/webhooks/{id}"), &app.admin())
        .expect(200);
    let log = deliveries(&app, &id);
    assert_eq!(log.len(), 2);
    for d in &log {
        assert_eq!(d["status"], "failed", "{d:#?}");
    }
    assert_eq!(log[1]["last_error"], "the subscription was deleted");
    enroll_some(&app, FUND, "E", 1);
    assert_eq!(deliveries(&app, &id).len(), 2, "no delivery after deletion");
    let redeliver = app.post(
        &format!(
            "/v1/funds/{FUND}/webhooks/{id}/deliveries/{}/redeliver",
            log[0]["id"].as_str().unwrap()
        ),
        &app.admin(),
        &json!({}),
    );
    redeliver.assert_problem(404, "NOT_FOUND");
}

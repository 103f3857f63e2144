//! Webhook deliveries across processes: a server killed (SIGKILL) while a
//! receiver holds its delivery sends it again after a restart, with the same
//! `webhook-id`; two servers on one database never send one delivery at once.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::receiver::{Answer, Received, Receiver};
use crate::server::{admin_token, Client, Database, Server};

const FUND: &str = "KE-MWF";

/// A worker that polls often; an attempt may take 3 s, a lease lasts 4 s.
const WEBHOOK_SETTINGS: [(&str, &str); 4] = [
    ("MWF_WEBHOOK_TIMEOUT_SECONDS", "3"),
    ("MWF_WEBHOOK_LEASE_SECONDS", "4"),
    ("MWF_WEBHOOK_POLL_MS", "20"),
    ("MWF_WEBHOOK_BACKOFF_MS", "50"),
];

/// Subscribes `url` to every event of the fund: (id, secret).
fn subscribe(client: &Client, url: &str) -> (String, String) {
    let res = client.post(&format!("/v1/funds/{FUND}/webhooks"), &json!({"url": url}));
    let body = res.expect(201);
    let field = |name: &str| body[name].as_str().unwrap().to_string();
    (field("id"), field("secret"))
}

fn feed_ids(client: &Client) -> Vec<i64> {
    client
        .list_all("/v1/events")
        .iter()
        .filter(|e| e["fund"] == FUND)
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

fn delivered_ids(received: &[Received]) -> Vec<i64> {
    received
        .iter()
        .filter(|r| r.delivered())
        .map(Received::event_id)
        .collect()
}

#[test]
fn a_delivery_cut_off_by_sigkill_arrives_after_a_restart_with_the_same_id() {
    let db = Database::fresh();
    let mut server = Server::start_with(&db, "a", &WEBHOOK_SETTINGS);
    let client = Client::new(&server, &admin_token("ops"));
    client.load_fund(FUND);
    let receiver = Receiver::start();
    receiver.script(&[Answer::Hang]);
    let (_, secret) = subscribe(&client, &receiver.url);
    for i in 0..3 {
        client.enroll(FUND, &format!("K{i}"), ("2026-02-01", "2027-01-31"));
    }
    let events = feed_ids(&client);
    assert_eq!(events.len(), 3);
    let held = receiver.wait_until("the first delivery", |r| !r.is_empty());
    server.kill();
    server.restart();

    let received = receiver.wait_until("every event delivered", |r| {
        delivered_ids(r).len() >= events.len()
    });
    assert_eq!(delivered_ids(&received), events, "{}", db.backend());
    let again = received.iter().find(|r| r.delivered()).unwrap();
    assert_eq!(
        again.id, held[0].id,
        "the same webhook-id after the restart"
    );
    assert!(received.iter().all(|r| r.signed_with(&secret)));
    let mut first_seen: Vec<i64> = received.iter().map(Received::event_id).collect();
    first_seen.dedup();
    assert_eq!(first_seen, events, "in event order");
}

#[test]
fn two_processes_on_one_database_never_send_one_delivery_at_once() {
    let db = Database::fresh();
    let servers = [
        Server::start_with(&db, "a", &WEBHOOK_SETTINGS),
        Server::start_with(&db, "b", &WEBHOOK_SETTINGS),
    ];
    let token = admin_token("ops");
    let clients: Vec<Client> = servers.iter().map(|s| Client::new(s, &token)).collect();
    clients[0].load_fund(FUND);
    let receiver = Receiver::start();
    // Answers take a while, so that a second sender of the same delivery
    // would be caught in flight.
    receiver.delay_answers(Duration::from_millis(100));
    let (id, secret) = subscribe(&clients[0], &receiver.url);
    for i in 0..10 {
        clients[i % 2].enroll(FUND, &format!("T{i}"), ("2026-02-01", "2027-01-31"));
    }
    let events = feed_ids(&clients[1]);
    assert_eq!(events.len(), 10);
    let received = receiver.wait_until("every event delivered", |r| {
        delivered_ids(r).len() >= events.len()
    });
    assert_eq!(receiver.overlaps(), 0, "{}", db.backend());
    assert_eq!(delivered_ids(&received), events, "once each, in order");
    assert!(received.iter().all(|r| r.signed_with(&secret)));
    // Each answered at its first attempt: no delivery was sent twice. (The
    // receiver answers before the worker records the answer: wait for it.)
    let path = format!("/v1/funds/{FUND}/webhooks/{id}/deliveries");
    let deadline = Instant::now() + Duration::from_secs(60);
    let log = loop {
        let log: Vec<Value> = clients[1].list_all(&path);
        if log.iter().all(|d| d["status"] == "delivered") || Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(log.len(), 10);
    assert!(
        log.iter()
            .all(|d| d["status"] == "delivered" && d["attempts"] == 1),
        "{log:#?}"
    );
}

//! SIGKILL under load: clients record contributions (single requests, each with
//! its own Idempotency-Key, and batches) while the server is killed at random
//! moments and restarted on the same database; every request whose answer was
//! lost is sent again with the same key and body until it is answered. Then every
//! acknowledged contribution is there exactly once, nothing else is, and the
//! ledger verifies.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::server::{
    admin_token, assert_cli_verifies, journal_without_gaps, short, Client, Database, Response,
    Server,
};

const FUND: &str = "KE-MWF";
const CLIENTS: u64 = 6;
const WORKERS: usize = 24;
const KILLS: usize = 5;
const BATCH_ITEMS: usize = 10;
/// Every tenth request of a client is a batch.
const BATCH_EVERY: u64 = 10;
/// Every sixteenth answer a client receives is thrown away as if the network
/// had lost it, and the request sent again: the retry must be a replay.
const DISCARD_EVERY: u64 = 16;
/// A 12-month contract's contribution under KE-MWF-2026 (no taxes).
const AMOUNT: &str = "2000.00";
/// No request may stay unanswered longer than this (the server is always restarted).
const GIVE_UP: Duration = Duration::from_secs(120);

struct Shared {
    stop: AtomicBool,
    in_flight: AtomicUsize,
    attempts_unanswered: AtomicUsize,
}

/// A request and the answer it finally got.
struct Sent {
    key: String,
    body: Value,
    batch: bool,
    answer: Response,
    /// Sent again because an answer did not arrive (the server was killed or down).
    lost: bool,
    /// Its answer was thrown away and the request sent again.
    discarded: bool,
}

fn contribution(worker: &(String, String), day: u32, external_ref: Option<String>) -> Value {
    let mut body = json!({
        "worker_id": worker.0, "contract_id": worker.1, "paid_on": format!("2026-01-{day:02}"),
        "amount": AMOUNT, "currency": "KES", "payers": [{"type": "worker", "amount": AMOUNT}]
    });
    if let Some(r) = external_ref {
        body["external_ref"] = json!(r);
    }
    body
}

/// Sends until an answer arrives: a refused connection (server down) or a reset
/// one (killed mid-request) is retried with the same key and body; so is 503.
fn send_until_answered(
    client: &Client,
    shared: &Shared,
    path: &str,
    key: &str,
    body: &Value,
) -> (Response, bool) {
    let started = Instant::now();
    let mut lost = false;
    loop {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        let result = client.try_post(path, Some(key), body);
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        match result {
            Ok(res) if res.status != 503 => return (res, lost),
            _ => {
                lost = true;
                shared.attempts_unanswered.fetch_add(1, Ordering::Relaxed);
            }
        }
        assert!(
            started.elapsed() < GIVE_UP,
            "request {key} unanswered for {GIVE_UP:?}"
        );
        std::thread::sleep(Duration::from_millis(15));
    }
}

/// One client's load: until told to stop, a single contribution (half of them
/// without external_ref, so only the key protects them) or every tenth time a batch.
fn client_load(
    client: &Client,
    shared: &Shared,
    workers: &[(String, String)],
    seed: u64,
    t: u64,
) -> (Vec<Sent>, Vec<String>) {
    let mut rng = fastrand::Rng::with_seed(seed ^ (t + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut sent = Vec::new();
    let mut problems = Vec::new();
    let mut n = 0u64;
    while !shared.stop.load(Ordering::SeqCst) {
        n += 1;
        let key = format!("c{t}-r{n}");
        let batch = n % BATCH_EVERY == 0;
        let (path, body) = if batch {
            let items: Vec<Value> = (0..BATCH_ITEMS)
                .map(|i| {
                    contribution(
                        &workers[rng.usize(..workers.len())],
                        rng.u32(1..=28),
                        Some(format!("B-c{t}-r{n}-{i}")),
                    )
                })
                .collect();
            (
                format!("/v1/funds/{FUND}/contributions/batch"),
                json!({ "items": items }),
            )
        } else {
            let external_ref = (n % 2 == 0).then(|| format!("S-c{t}-r{n}"));
            (
                format!("/v1/funds/{FUND}/contributions"),
                contribution(
                    &workers[rng.usize(..workers.len())],
                    rng.u32(1..=28),
                    external_ref,
                ),
            )
        };
        let (answer, lost) = send_until_answered(client, shared, &path, &key, &body);
        let discarded = n % DISCARD_EVERY == 7 && answer.status < 300;
        if discarded {
            // The answer "got lost on the way": the same request again must replay it.
            let (again, _) = send_until_answered(client, shared, &path, &key, &body);
            if !(again.replayed && again.status == answer.status && again.text == answer.text) {
                problems.push(format!(
                    "{key}: sent again after its answer arrived, not replayed: first {} (id {}), then {} (id {}, replayed: {})",
                    answer.status,
                    answer.body["id"],
                    again.status,
                    again.body["id"],
                    again.replayed
                ));
            }
        }
        sent.push(Sent {
            key,
            body,
            batch,
            answer,
            lost,
            discarded,
        });
    }
    (sent, problems)
}

#[test]
fn acknowledged_contributions_survive_sigkill_exactly_once() {
    let started = Instant::now();
    let seed = std::env::var("MWF_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let db = Database::fresh();
    println!(
        "crash test on {}: seed {seed} (MWF_CRASH_SEED={seed} repeats the kill moments and what the clients send)",
        db.backend()
    );
    let mut server = Server::start(&db, "crash");
    let token = admin_token("crash-client");
    let client = Client::new(&server, &token);
    client.load_fund(FUND);
    let workers: Vec<(String, String)> = (0..WORKERS)
        .map(|i| client.enroll(FUND, &format!("CRASH{i:03}"), ("2026-02-01", "2027-01-31")))
        .collect();

    let shared = Shared {
        stop: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
        attempts_unanswered: AtomicUsize::new(0),
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut kills = Vec::new();
    let load_started = Instant::now();
    let results: Vec<(Vec<Sent>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|t| {
                let (client, shared, workers) = (&client, &shared, &workers);
                s.spawn(move || client_load(client, shared, workers, seed, t))
            })
            .collect();
        for _ in 0..KILLS {
            std::thread::sleep(Duration::from_millis(rng.u64(700..2200)));
            // Kill while requests are on their way, so some answers are lost.
            let wait = Instant::now();
            while shared.in_flight.load(Ordering::SeqCst) == 0
                && wait.elapsed() < Duration::from_secs(1)
            {
                std::thread::yield_now();
            }
            let in_flight = shared.in_flight.load(Ordering::SeqCst);
            server.kill();
            kills.push((load_started.elapsed().as_millis(), in_flight));
            std::thread::sleep(Duration::from_millis(rng.u64(0..300)));
            server.restart();
        }
        std::thread::sleep(Duration::from_millis(800));
        shared.stop.store(true, Ordering::SeqCst);
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let load_time = load_started.elapsed();

    // What the clients were told.
    let mut problems: Vec<String> = Vec::new();
    let mut acknowledged: BTreeMap<String, String> = BTreeMap::new();
    let (mut requests, mut batches, mut discarded) = (0, 0, 0);
    // Requests whose answer a kill lost, and of those how many had committed
    // (their retry was a replay).
    let (mut lost, mut committed_unanswered) = (0, 0);
    for (sent, client_problems) in &results {
        problems.extend(client_problems.iter().cloned());
        for s in sent {
            requests += 1;
            lost += usize::from(s.lost);
            committed_unanswered += usize::from(s.lost && s.answer.replayed);
            discarded += usize::from(s.discarded);
            let mut ack = |id: &Value, what: String| match id.as_str() {
                Some(id) => {
                    if let Some(other) = acknowledged.insert(id.to_string(), what.clone()) {
                        problems.push(format!("contribution {id} answered to {other} and {what}"));
                    }
                }
                None => problems.push(format!("{what}: no contribution id")),
            };
            if s.batch {
                batches += 1;
                let items = s.answer.body["items"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if s.answer.status != 200
                    || s.answer.body["created"] != BATCH_ITEMS
                    || items.len() != BATCH_ITEMS
                {
                    problems.push(format!(
                        "batch {}: expected 200 with {BATCH_ITEMS} created, got {} {}",
                        s.key, s.answer.status, s.answer.text
                    ));
                    continue;
                }
                for (i, item) in items.iter().enumerate() {
                    ack(
                        &item["contribution_id"],
                        format!("batch {} item {i}", s.key),
                    );
                }
            } else {
                let a = &s.answer.body;
                if s.answer.status != 201
                    || a["worker_id"] != s.body["worker_id"]
                    || a["paid_on"] != s.body["paid_on"]
                    || a["external_ref"]
                        != s.body.get("external_ref").cloned().unwrap_or(Value::Null)
                {
                    problems.push(format!(
                        "{}: expected 201 with the contribution sent, got {} {}",
                        s.key, s.answer.status, s.answer.text
                    ));
                    continue;
                }
                ack(&a["id"], format!("request {}", s.key));
            }
        }
    }
    let single_keys = requests - batches;
    if acknowledged.len() != single_keys + batches * BATCH_ITEMS {
        problems.push(format!(
            "{} contributions acknowledged for {single_keys} single requests and {batches} batches of {BATCH_ITEMS}",
            acknowledged.len()
        ));
    }

    // One more crash with nothing in flight, then read everything back from the
    // restarted server.
    server.kill();
    server.restart();
    // What the database holds.
    let mut stored: Vec<String> = Vec::new();
    let listed = client.list_all(&format!("/v1/funds/{FUND}/contributions"));
    let mut listed_ids = BTreeSet::new();
    let mut refs = BTreeSet::new();
    for c in &listed {
        let id = c["id"].as_str().unwrap().to_string();
        if !listed_ids.insert(id.clone()) {
            stored.push(format!("contribution {id} listed twice"));
        }
        if let Some(r) = c["external_ref"].as_str() {
            if !refs.insert(r.to_string()) {
                stored.push(format!("external_ref {r} booked twice"));
            }
        }
        if c["status"] != "recorded" || c["amount"] != AMOUNT {
            stored.push(format!("contribution {id} reads {c}"));
        }
    }
    let acked_ids: BTreeSet<String> = acknowledged.keys().cloned().collect();
    for missing in acked_ids.difference(&listed_ids) {
        stored.push(format!(
            "acknowledged {} but not recorded: {missing}",
            acknowledged[missing]
        ));
    }
    for extra in listed_ids.difference(&acked_ids) {
        let c = listed.iter().find(|c| c["id"] == extra.as_str()).unwrap();
        stored.push(format!(
            "booked but never acknowledged (a retry booked twice?): contribution {extra} of worker {} paid on {}, external_ref {}",
            c["worker_id"], c["paid_on"], c["external_ref"]
        ));
    }
    // Each acknowledged contribution looked up by its id (four readers at once).
    let ids: Vec<(&String, &String)> = acknowledged.iter().collect();
    std::thread::scope(|s| {
        let readers: Vec<_> = ids
            .chunks(ids.len().div_ceil(4).max(1))
            .map(|chunk| {
                let client = &client;
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|(id, what)| {
                            let res = client.get(&format!("/v1/contributions/{id}"));
                            (res.status != 200 || res.body["id"] != id.as_str()).then(|| {
                                format!(
                                    "{what}: GET /v1/contributions/{id} answers {} {}",
                                    res.status, res.text
                                )
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for r in readers {
            stored.extend(r.join().unwrap());
        }
    });

    // The journal: no gap, one entry per contribution, cash is their sum, verified.
    let entries = journal_without_gaps(&client, FUND);
    let mut booked: BTreeMap<String, usize> = BTreeMap::new();
    for e in &entries {
        if e["source"]["type"] == "contribution" {
            *booked
                .entry(e["source"]["id"].as_str().unwrap().to_string())
                .or_default() += 1;
        } else {
            stored.push(format!("an entry that is not a contribution's: {e}"));
        }
    }
    for (id, n) in &booked {
        if *n != 1 || !listed_ids.contains(id) {
            stored.push(format!("contribution {id} has {n} journal entries"));
        }
    }
    if booked.len() != listed_ids.len() {
        stored.push(format!(
            "{} contributions but {} booked in the journal",
            listed_ids.len(),
            booked.len()
        ));
    }
    let cash = client.balance(FUND, "1000");
    let expected_cash = Decimal::from(listed.len() as u64) * AMOUNT.parse::<Decimal>().unwrap();
    if cash != expected_cash {
        stored.push(format!(
            "cash {cash} is not {} contributions of {AMOUNT}",
            listed.len()
        ));
    }

    println!(
        "{requests} requests ({batches} batches of {BATCH_ITEMS}) from {CLIENTS} clients in {:.1} s; \
         {KILLS} kills at (ms since load start, requests in flight) {kills:?}; \
         {lost} requests sent again after a kill lost their answer ({} attempts unanswered), \
         {committed_unanswered} of them had committed and were answered by a replay; \
         {discarded} answers discarded on purpose and replayed; {} contributions, {} journal entries",
        load_time.as_secs_f64(),
        shared.attempts_unanswered.load(Ordering::Relaxed),
        listed.len(),
        entries.len()
    );
    let first = |list: &[String]| {
        list.iter()
            .take(12)
            .map(|p| short(p))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        stored.is_empty() && problems.is_empty(),
        "seed {seed}: {} problems in what is stored, {} in the answers; the first of what is stored:\n{}\n\
         the first of the answers:\n{}",
        stored.len(),
        problems.len(),
        first(&stored),
        first(&problems)
    );
    client.assert_books_balance(FUND);
    server.kill();
    assert_cli_verifies(&db, FUND, entries.len());
    println!(
        "crash test passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

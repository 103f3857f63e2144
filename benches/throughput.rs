//! Throughput of the real server with durable commits (SQLite `synchronous=FULL`,
//! PostgreSQL `synchronous_commit=on`), on SQLite and on PostgreSQL in one run,
//! next to the database's own ceiling measured in the same run:
//!
//! * single-request contribution recording at 1 and 32 concurrent clients, each
//!   request with its own `Idempotency-Key` (requests/s, p50, p99);
//! * batch contribution recording (contributions/s) and batch enrollment;
//! * claim submission with assessment at 1 and 32 concurrent clients (claims/s,
//!   p50, p99);
//! * the ceiling: one small row per durable commit (one connection, and 32
//!   connections at once), and rows per second in 1,000-row transactions.
//!
//! Prints numbers; asserts only that what was sent was booked.
//!
//!     cargo bench --bench throughput
//!
//! PostgreSQL is measured at `TEST_DATABASE_URL`, else at
//! postgres://postgres@127.0.0.1:5432/test; it is skipped, saying so, when
//! neither answers. `MWF_BENCH_SCALE=2` doubles every phase; `MWF_BENCH_ONLY=sqlite`
//! (or `postgresql`) measures one backend. `MWF_BENCH_PHASES=batch` measures only
//! the two batches (and `MWF_BENCH_BATCHES=N` repeats the contribution batch N
//! times, each into a fund already holding the previous ones);
//! `MWF_BENCH_PHASES=claims` measures only the claim submissions (after the two
//! batches that make their workers): no single contributions, no ceiling.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use mwf::auth::{mint_token, Role};
use mwf::config::{Environment, JwtSettings, Settings};
use mwf::startup::Application;
use serde_json::{json, Value};

const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

struct Server {
    base: String,
    token: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into()
}

impl Server {
    fn start(database_url: String) -> Server {
        let jwt = JwtSettings {
            secret: Some(SECRET.as_bytes().to_vec()),
            public_key_files: vec![],
            issuer: "mwf".into(),
            audience: "mwf".into(),
            max_lifetime_seconds: mwf::auth::DEFAULT_TOKEN_LIFETIME_SECONDS,
            jwks: None,
        };
        let token = mint_token(
            SECRET.as_bytes(),
            &jwt,
            "bench",
            Role::Admin,
            &["*".to_string()],
            3600,
        );
        let settings = Settings {
            database_url,
            read_database_url: None,
            bind: "127.0.0.1:0".into(),
            environment: Environment::Production,
            jwt,
            pool_size: 16,
            workers: 2,
            client_request_timeout: Duration::from_secs(10),
            webhooks: Default::default(),
            cors_origins: Vec::new(),
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(settings).expect("server starts");
                tx.send(app.port()).unwrap();
                app.run_until_stopped().await
            })
        });
        let port = rx.recv().unwrap();
        Server {
            base: format!("http://127.0.0.1:{port}"),
            token,
        }
    }

    fn send(
        &self,
        agent: &ureq::Agent,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> (u16, Value) {
        let mut req = agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/json");
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        let mut res = req.send(body.to_string()).unwrap();
        let status = res.status().as_u16();
        let text = res
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn get(&self, agent: &ureq::Agent, path: &str) -> Value {
        let mut res = agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
            .unwrap();
        let text = res
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

/// Requests per second and the latency percentiles of one phase.
struct Rate {
    count: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Rate {
    fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i].as_secs_f64() * 1000.0
    }

    fn line(&self, what: &str) -> String {
        format!(
            "{what}: {} in {:.2} s = {:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
            self.count,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            self.percentile(0.50),
            self.percentile(0.99)
        )
    }
}

/// Sends the requests (path, body) from `clients` threads, one request at a
/// time each, every request with its own Idempotency-Key; checks every answer is
/// `expect`.
fn drive(
    server: &Server,
    clients: usize,
    requests: Vec<(String, Value)>,
    expect: u16,
    tag: &str,
) -> Rate {
    let count = requests.len();
    let mut shares: Vec<Vec<(usize, (String, Value))>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, request) in requests.into_iter().enumerate() {
        shares[i % clients].push((i, request));
    }
    let started = Instant::now();
    let latencies = std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                s.spawn(move || {
                    let agent = agent();
                    let mut latencies = Vec::with_capacity(share.len());
                    for (i, (path, body)) in share {
                        let key = format!("{tag}-{i}");
                        let sent = Instant::now();
                        let (status, answer) = server.send(&agent, &path, &body, Some(&key));
                        latencies.push(sent.elapsed());
                        assert_eq!(status, expect, "{answer}");
                    }
                    latencies
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    Rate {
        count,
        elapsed: started.elapsed(),
        latencies,
    }
}

/// Sends one batch request and checks every item was created; returns its time.
fn timed_batch(server: &Server, agent: &ureq::Agent, path: &str, items: Vec<Value>) -> Duration {
    let count = items.len();
    let started = Instant::now();
    let (status, answer) = server.send(agent, path, &json!({"items": items}), None);
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["created"], count, "{}", answer["items"][0]);
    elapsed
}

fn contribution(worker: &str, contract: &str) -> Value {
    json!({
        "worker_id": worker, "contract_id": contract, "paid_on": "2026-01-20", "amount": "2000.00",
        "currency": "KES", "payers": [{"type": "worker", "amount": "2000.00"}]
    })
}

/// Whether `MWF_BENCH_PHASES=claims` asks for the claim submissions alone.
fn claims_only() -> bool {
    std::env::var("MWF_BENCH_PHASES").is_ok_and(|p| p == "claims")
}

fn run(label: &str, database_url: String, scale: usize) {
    let server = Server::start(database_url.clone());
    let agent = agent();
    let file = mwf::demo::fund_file("KE-MWF").unwrap();
    let fund = json!({"code": file.fund.code, "country": file.fund.country, "name": file.fund.name, "currency": file.fund.currency});
    assert_eq!(server.send(&agent, "/v1/funds", &fund, None).0, 201);
    for version in &file.versions {
        assert_eq!(
            server
                .send(&agent, "/v1/funds/KE-MWF/rules", version, None)
                .0,
            201
        );
    }

    // Batch enrollment and batch contributions: one request of 10,000 items each.
    let batch = 10_000 * scale;
    let workers: Vec<Value> = (0..batch)
        .map(|i| json!({
            "document_type": "passport", "document_number": format!("BENCH{i:07}"), "given_name": "Bench", "family_name": format!("Worker {i}"),
            "date_of_birth": "1990-01-01", "sex": if i % 2 == 0 { "female" } else { "male" },
            "contracts": [{"employer": "Employer", "destination_country": "SA", "start_date": "2026-02-01", "end_date": "2027-01-31"}]
        }))
        .collect();
    let enroll_time = timed_batch(&server, &agent, "/v1/funds/KE-MWF/workers/batch", workers);
    let mut members: Vec<(String, String)> = Vec::with_capacity(batch);
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/funds/KE-MWF/workers?limit=500&after={a}"),
            None => "/v1/funds/KE-MWF/workers?limit=500".to_string(),
        };
        let page = server.get(&agent, &path);
        for w in page["items"].as_array().unwrap() {
            members.push((
                w["id"].as_str().unwrap().to_string(),
                w["contracts"][0]["id"].as_str().unwrap().to_string(),
            ));
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(members.len(), batch);
    let items: Vec<Value> = members.iter().map(|(w, c)| contribution(w, c)).collect();
    let batch_time = timed_batch(
        &server,
        &agent,
        "/v1/funds/KE-MWF/contributions/batch",
        items.clone(),
    );
    if std::env::var("MWF_BENCH_PHASES").as_deref() == Ok("batch") {
        let repeats: usize = std::env::var("MWF_BENCH_BATCHES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        println!("\n{label} — batches only (2 actix workers, durable commits)");
        println!(
            "  enrollment batch: {batch} workers in {:.2} s = {:.0} workers/s",
            enroll_time.as_secs_f64(),
            batch as f64 / enroll_time.as_secs_f64()
        );
        let mut times = vec![batch_time];
        for _ in 1..repeats {
            times.push(timed_batch(
                &server,
                &agent,
                "/v1/funds/KE-MWF/contributions/batch",
                items.clone(),
            ));
        }
        for (n, t) in times.iter().enumerate() {
            println!(
                "  contribution batch {}: {batch} in {:.2} s = {:.0} contributions/s",
                n + 1,
                t.as_secs_f64(),
                batch as f64 / t.as_secs_f64()
            );
        }
        let verified = server.get(&agent, "/v1/funds/KE-MWF/ledger/verify");
        assert_eq!(verified["ok"], true, "{verified}");
        return;
    }

    // Single requests: every member has been covered by the batch; these add more.
    let singles = |n: usize, offset: usize| -> Vec<(String, Value)> {
        (0..n)
            .map(|i| {
                let (w, c) = &members[(offset + i) % members.len()];
                (
                    "/v1/funds/KE-MWF/contributions".to_string(),
                    contribution(w, c),
                )
            })
            .collect()
    };
    let (one, many) = match claims_only() {
        true => (None, None),
        false => (
            Some(drive(&server, 1, singles(600 * scale, 0), 201, "one")),
            Some(drive(
                &server,
                32,
                singles(12_800 * scale, 600 * scale),
                201,
                "many",
            )),
        ),
    };

    // Claims with assessment, each by another member.
    let claim = |i: usize| -> (String, Value) {
        let (w, _) = &members[i];
        (
            format!("/v1/workers/{w}/claims"),
            json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
                   "filed_on": "2026-03-05", "claimant": {"relationship": "worker"}, "claimed_amount": "1000.00",
                   "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]}),
        )
    };
    let claims_one = drive(
        &server,
        1,
        (0..200 * scale).map(claim).collect(),
        201,
        "claim-one",
    );
    let claims_many = drive(
        &server,
        32,
        (200 * scale..1_800 * scale).map(claim).collect(),
        201,
        "claim-many",
    );

    println!("\n{label} — the service (2 actix workers, durable commits)");
    println!(
        "  enrollment batch: {batch} workers in {:.2} s = {:.0} workers/s",
        enroll_time.as_secs_f64(),
        batch as f64 / enroll_time.as_secs_f64()
    );
    println!(
        "  contribution batch: {batch} in {:.2} s = {:.0} contributions/s",
        batch_time.as_secs_f64(),
        batch as f64 / batch_time.as_secs_f64()
    );
    if let (Some(one), Some(many)) = (one, many) {
        println!("  {}", one.line("single contributions, 1 client"));
        println!("  {}", many.line("single contributions, 32 clients"));
    }
    println!(
        "  {}",
        claims_one.line("claims submitted and assessed, 1 client")
    );
    println!(
        "  {}",
        claims_many.line("claims submitted and assessed, 32 clients")
    );

    let verified = server.get(&agent, "/v1/funds/KE-MWF/ledger/verify");
    assert_eq!(verified["ok"], true, "{verified}");
    if !claims_only() {
        ceiling(label, &database_url, scale);
    }
}

/// The database's own limits, on the same database and settings as the server.
fn ceiling(label: &str, database_url: &str, scale: usize) {
    let open = || mwf::db::establish(database_url).expect("the database answers");
    let mut conn = open();
    conn.batch_execute(
        "CREATE TABLE bench_ceiling (id BIGINT PRIMARY KEY, client INTEGER NOT NULL, payload TEXT NOT NULL)",
    )
    .unwrap();
    let window = Duration::from_secs(2);
    let one_per_commit = |conn: &mut mwf::db::DbConnection, client: usize| -> usize {
        let started = Instant::now();
        let mut n = 0;
        while started.elapsed() < window {
            let id = client * 10_000_000 + n;
            conn.batch_execute(&format!(
                "INSERT INTO bench_ceiling (id, client, payload) VALUES ({id}, {client}, 'row')"
            ))
            .unwrap();
            n += 1;
        }
        n
    };
    let serial = one_per_commit(&mut conn, 1) as f64 / window.as_secs_f64();
    let concurrent: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32)
            .map(|client| {
                s.spawn(move || {
                    let mut conn = open();
                    one_per_commit(&mut conn, 100 + client)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let transactions = 20 * scale;
    let started = Instant::now();
    for t in 0..transactions {
        let values: Vec<String> = (0..1_000)
            .map(|i| format!("({}, 0, 'row')", 5_000_000_000_usize + t * 1_000 + i))
            .collect();
        conn.batch_execute(&format!(
            "BEGIN; INSERT INTO bench_ceiling (id, client, payload) VALUES {}; COMMIT;",
            values.join(", ")
        ))
        .unwrap();
    }
    let batched = (transactions * 1_000) as f64 / started.elapsed().as_secs_f64();
    conn.batch_execute("DROP TABLE bench_ceiling").unwrap();
    println!("{label} — the database's own ceiling, same settings");
    println!("  one small row per durable commit, 1 connection: {serial:.0} commits/s");
    println!(
        "  one small row per durable commit, 32 connections: {:.0} commits/s",
        concurrent as f64 / window.as_secs_f64()
    );
    println!("  1,000-row transactions: {batched:.0} rows/s");
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let scale: usize = std::env::var("MWF_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let only = std::env::var("MWF_BENCH_ONLY").unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    if only != "postgresql" {
        run(
            "SQLite",
            dir.path().join("bench.db").to_string_lossy().to_string(),
            scale,
        );
    }
    if only == "sqlite" {
        return;
    }
    let admin = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.to_string());
    match mwf::db::establish(&admin) {
        Ok(mut conn) => {
            let name = format!("mwf_bench_{}", std::process::id());
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .unwrap();
            conn.batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let base = admin.rsplit_once('/').unwrap().0;
            run("PostgreSQL", format!("{base}/{name}"), scale);
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
        Err(e) => println!("\nPostgreSQL: skipped, {admin} does not answer ({e})"),
    }
}

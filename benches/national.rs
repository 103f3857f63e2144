//! National size: one fund built by `mwf demo --fund PH-OWWA --workers N
//! --years 10` at two sizes on each backend, then the real server (`mwf serve`,
//! a child process) measured over HTTP:
//!
//! * per-record work, as the server timed it (p99 of ~200 calls on workers
//!   spread over the whole fund): a worker by id, by document number, by a
//!   prefix of a name (a first page, and a page starting after a worker deep
//!   among its namesakes), membership, quote, a claim submitted with its
//!   assessment; then the first page and a later page (20 items) of every list:
//!   fund-wide lists start later pages at cursors spread over the whole list,
//!   others follow `next` (a worker's own lists: 2 items a page; lists the
//!   demo leaves with one page or none have no later page: n/a). Each request carries its own `X-Request-Id`, and its
//!   time is the one the server's access log gives it (actix's `%D`: from
//!   receiving the request to sending the last byte of the answer); the time
//!   the client saw over loopback is printed beside it;
//! * reports (membership statistics and trial balance as of a date, claims
//!   statistics): median of 5 calls;
//! * ledger verification and the JSON Lines export: entries/s (median of 3);
//! * the load time, the bytes per worker and per contribution (SQLite file and
//!   its WAL; PostgreSQL `pg_database_size`) and the server's peak memory
//!   (VmHWM of its process).
//!
//!     cargo bench --bench national
//!
//! `MWF_BENCH_WORKERS` (default 100000) is the small size, the large is ten
//! times it; `MWF_BENCH_SIZES=2000,20000` gives both. `MWF_BENCH_ONLY=sqlite`
//! (or `postgresql`) measures one backend. PostgreSQL is measured at
//! `TEST_DATABASE_URL`, else postgres://postgres@127.0.0.1:5432/test, in a fresh
//! database of its own per size (created, and dropped afterwards); it is skipped,
//! saying so, when the server does not answer.

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use mwf::auth::{mint_token, Role};
use mwf::config::JwtSettings;
use mwf::db::schema::{audit_log, contracts, contributions, events, funds, workers};
use serde_json::{json, Value};

const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const FUND: &str = "PH-OWWA";
const YEARS: u32 = 10;
const SAMPLE: usize = 200;
const AS_OF: &str = "2024-06-30";

fn mwf_binary() -> &'static str {
    env!("CARGO_BIN_EXE_mwf")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(3600)))
        .build()
        .into()
}

/// One backend's fresh database for one size.
enum Database {
    Sqlite { dir: tempfile::TempDir },
    Postgres { admin_url: String, name: String },
}

impl Database {
    fn url(&self) -> String {
        match self {
            Database::Sqlite { dir } => dir.path().join("mwf.db").display().to_string(),
            Database::Postgres { admin_url, name } => with_database(admin_url, name),
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            Database::Sqlite { dir } => ["mwf.db", "mwf.db-wal"]
                .iter()
                .map(|f| std::fs::metadata(dir.path().join(f)).map_or(0, |m| m.len()))
                .sum(),
            Database::Postgres { .. } => {
                #[derive(QueryableByName)]
                struct Size {
                    #[diesel(sql_type = BigInt)]
                    size: i64,
                }
                let mut conn = diesel::PgConnection::establish(&self.url()).unwrap();
                let row: Size = diesel::sql_query(
                    "SELECT pg_database_size(current_database())::bigint AS size",
                )
                .get_result(&mut conn)
                .unwrap();
                row.size as u64
            }
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Database::Postgres { admin_url, name } = self {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                let _ =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn);
            }
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let cut = base.rfind('/').expect("a database URL has a path");
    let mut out = format!("{}/{name}", &base[..cut]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn fresh_database(backend: &str, workers: usize) -> Option<Database> {
    match backend {
        "sqlite" => Some(Database::Sqlite {
            dir: tempfile::tempdir().unwrap(),
        }),
        _ => {
            let admin_url =
                std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.to_string());
            let mut conn = match diesel::PgConnection::establish(&admin_url) {
                Ok(c) => c,
                Err(e) => {
                    println!("PostgreSQL skipped: {admin_url} does not answer ({e})");
                    return None;
                }
            };
            let name = format!("mwf_national_{workers}");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&mut conn)
                .unwrap();
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .unwrap();
            Some(Database::Postgres { admin_url, name })
        }
    }
}

/// The `mwf serve` child process.
struct Server {
    child: Child,
    base: String,
    token: String,
    /// Milliseconds the server took per request id (its access log's `%D`).
    served: Arc<Mutex<HashMap<String, f64>>>,
    requests: AtomicU64,
}

/// Reads the server's log: each access log line of a bench request (`… 200
/// 1234 0.812345ms bench-17`) is kept as its time; anything else is shown.
fn read_access_log(stderr: impl Read, served: Arc<Mutex<HashMap<String, f64>>>) {
    for line in std::io::BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace().rev();
        let (id, time) = (words.next(), words.next());
        let timed = match (id, time.and_then(|t| t.strip_suffix("ms"))) {
            (Some(id), Some(ms)) if id.starts_with("bench-") => {
                ms.parse::<f64>().ok().map(|ms| (id, ms))
            }
            _ => None,
        };
        match timed {
            Some((id, ms)) => {
                served.lock().unwrap().insert(id.to_string(), ms);
            }
            None if line.contains("actix_web::middleware::logger") => {}
            None => eprintln!("{line}"),
        }
    }
}

/// One request's answer and times.
struct Reply {
    status: u16,
    body: Value,
    /// As the server timed it.
    server_ms: f64,
    /// As the client saw it (over loopback).
    client: Duration,
}

impl Server {
    fn start(database_url: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(mwf_binary())
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("MWF_BIND", format!("127.0.0.1:{port}"))
            .env("MWF_ENV", "production")
            .env("MWF_JWT_SECRET", SECRET)
            .env("MWF_WORKERS", "2")
            .env("RUST_LOG", "warn,actix_web::middleware::logger=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mwf serve starts");
        let mut child = child;
        let served = Arc::new(Mutex::new(HashMap::new()));
        let stderr = child.stderr.take().expect("piped");
        let log = served.clone();
        std::thread::spawn(move || read_access_log(stderr, log));
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
            3600 * 6,
        );
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            token,
            served,
            requests: AtomicU64::new(0),
        };
        let agent = agent();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(res) = agent.get(format!("{}/readyz", server.base)).call() {
                if res.status().as_u16() == 200 {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "mwf serve did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Status, bytes read and time taken by one GET.
    fn get(&self, agent: &ureq::Agent, path: &str) -> (u16, u64, Duration) {
        let started = Instant::now();
        let mut res = agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
            .unwrap();
        let status = res.status().as_u16();
        let mut reader = res.body_mut().with_config().limit(u64::MAX).reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut bytes = 0u64;
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            bytes += n as u64;
        }
        assert!(status < 500, "GET {path}: {status}");
        (status, bytes, started.elapsed())
    }

    /// One request with a JSON answer (`body` posted as JSON, else a GET),
    /// timed by the client and by the server's access log.
    fn call(&self, agent: &ureq::Agent, path: &str, body: Option<&Value>) -> Reply {
        let id = format!("bench-{}", self.requests.fetch_add(1, Ordering::Relaxed));
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {}", self.token);
        let started = Instant::now();
        let res = match body {
            Some(body) => agent
                .post(&url)
                .header("Authorization", &auth)
                .header("X-Request-Id", &id)
                .send_json(body),
            None => agent
                .get(&url)
                .header("Authorization", &auth)
                .header("X-Request-Id", &id)
                .call(),
        };
        let mut res = res.unwrap();
        let status = res.status().as_u16();
        let text = res.body_mut().read_to_string().unwrap();
        let client = started.elapsed();
        assert!(status < 500, "{path}: {status} {text}");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        // The log line follows the last byte of the answer: wait for it.
        let deadline = Instant::now() + Duration::from_secs(10);
        let server_ms = loop {
            if let Some(ms) = self.served.lock().unwrap().remove(&id) {
                break ms;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: no access log line for {id}"
            );
            std::thread::sleep(Duration::from_micros(200));
        };
        Reply {
            status,
            body,
            server_ms,
            client,
        }
    }

    /// The peak resident memory of the server process, in bytes.
    fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one size measured: (operation, value, unit), in table order.
type Measures = Vec<(String, f64, &'static str)>;

/// The 99th percentile of `ms`; NaN when there is none.
fn p99(mut ms: Vec<f64>) -> f64 {
    if ms.is_empty() {
        return f64::NAN;
    }
    ms.sort_by(f64::total_cmp);
    let i = ((ms.len() as f64 * 0.99).ceil() as usize).clamp(1, ms.len()) - 1;
    ms[i]
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// A worker sampled: id, document number, latest contract, given and family name.
type Sampled = (String, String, Option<String>, String, String);

/// Workers spread over the whole fund.
fn sample_workers(url: &str) -> Vec<Sampled> {
    let mut conn = mwf::db::establish(url).unwrap();
    let fund_id: mwf::funds::FundId = funds::table
        .filter(funds::code.eq(FUND))
        .select(funds::id)
        .first(&mut conn)
        .unwrap();
    let all: Vec<(String, String, String, String)> = workers::table
        .filter(workers::fund_id.eq(fund_id))
        .select((
            workers::id,
            workers::document_number,
            workers::given_name,
            workers::family_name,
        ))
        .load(&mut conn)
        .unwrap();
    let step = (all.len() / SAMPLE).max(1);
    all.into_iter()
        .step_by(step)
        .take(SAMPLE)
        .map(|(id, document, given, family)| {
            let contract: Option<String> = contracts::table
                .filter(contracts::worker_id.eq(&id))
                .order(contracts::start_date.desc())
                .select(contracts::id)
                .first(&mut conn)
                .optional()
                .unwrap();
            (id, document, contract, given, family)
        })
        .collect()
}

/// Cursors spread over the fund-wide lists: contribution ids, and the
/// positions of journal entries, audit records and events.
struct Spread {
    contributions: Vec<String>,
    entries: Vec<i64>,
    audit: Vec<i64>,
    events: Vec<i64>,
}

fn spread(url: &str) -> Spread {
    let mut conn = mwf::db::establish(url).unwrap();
    let ids: Vec<String> = contributions::table
        .select(contributions::id)
        .load(&mut conn)
        .unwrap();
    let step = (ids.len() / SAMPLE).max(1);
    let positions = |top: i64| -> Vec<i64> {
        (0..SAMPLE as i64)
            .map(|i| top * i / SAMPLE as i64)
            .collect()
    };
    let audit: Option<i64> = audit_log::table
        .select(diesel::dsl::max(audit_log::id))
        .first(&mut conn)
        .unwrap();
    let events: Option<i64> = events::table
        .select(diesel::dsl::max(events::id))
        .first(&mut conn)
        .unwrap();
    Spread {
        contributions: ids.into_iter().step_by(step).take(SAMPLE).collect(),
        entries: positions(entries_of(url)),
        audit: positions(audit.unwrap_or(0)),
        events: positions(events.unwrap_or(0)),
    }
}

/// The first `n` characters of a name, lower-cased, as a query value.
fn prefix(name: &str, n: usize) -> String {
    let start: String = name.to_lowercase().chars().take(n).collect();
    start.replace(' ', "%20")
}

/// A claim the sampled worker may file: partial disability of the lowest grade,
/// on the last day of their latest active span (not after today).
fn claim_body(membership: &Value) -> Value {
    let today = chrono::Utc::now().date_naive();
    let last_active = membership["merged"]
        .as_array()
        .and_then(|spans| spans.last())
        .and_then(|span| span["end"].as_str())
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
        .map_or(today, |end| end.min(today));
    json!({"benefit": "DISABILITY_PARTIAL", "incident_date": last_active.to_string(),
           "incident_phase": "abroad", "grade": "5", "claimant": {"relationship": "worker"},
           "documents": [{"type": "MEDICAL_CERTIFICATE", "reference": "MC-BENCH"}]})
}

fn entries_of(url: &str) -> i64 {
    let mut conn = mwf::db::establish(url).unwrap();
    funds::table
        .filter(funds::code.eq(FUND))
        .select(funds::last_sequence)
        .first(&mut conn)
        .unwrap()
}

fn contributions_of(url: &str) -> i64 {
    use mwf::db::schema::contributions;
    let mut conn = mwf::db::establish(url).unwrap();
    contributions::table.count().get_result(&mut conn).unwrap()
}

/// Loads the fund with `mwf demo --fund`, then measures it through the server.
fn measure(backend: &str, workers: usize) -> Option<Measures> {
    let db = fresh_database(backend, workers)?;
    let url = db.url();
    println!("{backend} {workers} workers: loading…");
    let started = Instant::now();
    let load = Command::new(mwf_binary())
        .args(["demo", "--fund", FUND, "--workers"])
        .arg(workers.to_string())
        .args(["--years", &YEARS.to_string()])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .output()
        .expect("mwf demo runs");
    let load_time = started.elapsed();
    assert!(
        load.status.success(),
        "mwf demo failed: {}",
        String::from_utf8_lossy(&load.stderr)
    );
    print!("{}", String::from_utf8_lossy(&load.stdout));
    let entries = entries_of(&url);
    let contributions = contributions_of(&url);
    let bytes = db.bytes();
    let sample = sample_workers(&url);

    let cursors = spread(&url);

    let server = Server::start(&url);
    let agent = agent();
    let mut rows: Measures = Vec::new();
    // Times `paths` (each called once, after a first pass over ten of them warms
    // the caches a real server would have warm) and adds the server's p99.
    let mut timed = |what: &str, paths: Vec<(String, Option<Value>)>| -> Vec<Reply> {
        for (path, body) in paths.iter().take(10) {
            if body.is_none() {
                server.call(&agent, path, None);
            }
        }
        let replies: Vec<Reply> = (paths.iter())
            .map(|(path, body)| server.call(&agent, path, body.as_ref()))
            .collect();
        let server_p99 = p99(replies.iter().map(|r| r.server_ms).collect());
        let client_p99 = p99(replies
            .iter()
            .map(|r| r.client.as_secs_f64() * 1e3)
            .collect());
        println!(
            "  {what}: {} calls, p99 {server_p99:.2} ms in the server, {client_p99:.2} ms at the client",
            replies.len()
        );
        rows.push((format!("{what} (p99)"), server_p99, "ms"));
        replies
    };
    let each = |path: &dyn Fn(&Sampled) -> String| -> Vec<(String, Option<Value>)> {
        sample.iter().map(|w| (path(w), None)).collect()
    };
    let same = |path: String| -> Vec<(String, Option<Value>)> {
        (0..SAMPLE).map(|_| (path.clone(), None)).collect()
    };

    timed("worker by id", each(&|w| format!("/v1/workers/{}", w.0)));
    timed(
        "worker by document",
        each(&|w| format!("/v1/funds/{FUND}/workers?document_number={}", w.1)),
    );
    // Family names and given names in turn, three characters.
    let by_name = (sample.iter().enumerate())
        .map(|(i, w)| {
            let name = if i % 2 == 0 { &w.4 } else { &w.3 };
            let path = format!("/v1/funds/{FUND}/workers?name={}&limit=20", prefix(name, 3));
            (path, None)
        })
        .collect();
    timed("workers by name prefix, first page", by_name);
    timed(
        "workers by name prefix, a later page",
        each(&|w| {
            format!(
                "/v1/funds/{FUND}/workers?name={}&limit=20&after={}",
                prefix(&w.4, 3),
                w.0
            )
        }),
    );
    timed(
        "membership",
        each(&|w| format!("/v1/workers/{}/membership?on={AS_OF}", w.0)),
    );
    timed(
        "quote",
        each(&|w| {
            match &w.2 {
            Some(c) => format!(
                "/v1/funds/{FUND}/contributions/quote?worker_id={}&contract_id={c}&paid_on=2026-10-01",
                w.0
            ),
            None => format!(
                "/v1/funds/{FUND}/contributions/quote?worker_id={}&paid_on=2026-10-01",
                w.0
            ),
        }
        }),
    );
    // Today's membership decides the claim's date: asked for first (untimed).
    let claims: Vec<(String, Option<Value>)> = sample
        .iter()
        .map(|w| {
            let membership = server.call(&agent, &format!("/v1/workers/{}/membership", w.0), None);
            (
                format!("/v1/workers/{}/claims", w.0),
                Some(claim_body(&membership.body)),
            )
        })
        .collect();
    let submitted = timed("claim submitted with its assessment", claims);
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    for r in &submitted {
        let outcome = match r.status {
            201 => format!("201 {}", r.body["status"].as_str().unwrap_or("?")),
            s => format!("{s} {}", r.body["code"].as_str().unwrap_or("?")),
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    println!("    claims: {outcomes:?}");

    // Lists: a first page, and later pages.
    let fund_lists: [(&str, String, Vec<String>); 5] = [
        (
            "workers",
            format!("/v1/funds/{FUND}/workers?limit=20"),
            sample.iter().map(|w| w.0.clone()).collect(),
        ),
        (
            "contributions",
            format!("/v1/funds/{FUND}/contributions?limit=20"),
            cursors.contributions.clone(),
        ),
        (
            "journal entries",
            format!("/v1/funds/{FUND}/journal-entries?limit=20"),
            cursors.entries.iter().map(i64::to_string).collect(),
        ),
        (
            "audit log",
            "/v1/audit-log?limit=20".to_string(),
            cursors.audit.iter().map(i64::to_string).collect(),
        ),
        (
            "events",
            format!("/v1/events?fund={FUND}&limit=20"),
            cursors.events.iter().map(i64::to_string).collect(),
        ),
    ];
    for (what, first, later) in fund_lists {
        timed(&format!("{what}: first page"), same(first.clone()));
        let later = later
            .iter()
            .map(|after| (format!("{first}&after={after}"), None))
            .collect();
        timed(&format!("{what}: a later page"), later);
    }
    // Lists whose later pages follow `next` (up to SAMPLE of them, in turn).
    let walked = |first: &str| -> Vec<(String, Option<Value>)> {
        let mut pages = Vec::new();
        let mut next = server.call(&agent, first, None).body["next"]
            .as_str()
            .map(str::to_string);
        while let Some(after) = next.take() {
            let path = format!("{first}&after={after}");
            next = server.call(&agent, &path, None).body["next"]
                .as_str()
                .map(str::to_string);
            pages.push((path, None));
            if pages.len() == SAMPLE {
                break;
            }
        }
        pages
    };
    for (what, list) in [
        ("claims", "claims"),
        ("receipts", "receipts"),
        ("refunds", "refunds"),
        ("recoveries", "recoveries"),
        ("parties", "parties"),
    ] {
        let first = format!("/v1/funds/{FUND}/{list}?limit=20");
        timed(&format!("{what}: first page"), same(first.clone()));
        let later = walked(&first);
        timed(&format!("{what}: a later page"), later);
    }
    // A worker has a few contributions and a claim: two a page, so that many
    // have a later page.
    for list in ["contributions", "claims"] {
        timed(
            &format!("a worker's {list}: first page"),
            each(&|w| format!("/v1/workers/{}/{list}?limit=2", w.0)),
        );
        let later: Vec<_> = sample
            .iter()
            .flat_map(|w| walked(&format!("/v1/workers/{}/{list}?limit=2", w.0)))
            .take(SAMPLE)
            .collect();
        timed(&format!("a worker's {list}: a later page"), later);
    }

    let report =
        |path: &str, calls: usize| median((0..calls).map(|_| server.get(&agent, path).2).collect());
    let membership_stats = report(
        &format!("/v1/funds/{FUND}/reports/membership?as_of={AS_OF}&by=sex,destination,sector"),
        5,
    );
    let trial_balance = report(
        &format!("/v1/funds/{FUND}/reports/trial-balance?as_of={AS_OF}"),
        5,
    );
    let claims_stats = report(
        &format!("/v1/funds/{FUND}/reports/claims?from=2016-01-01&to=2026-10-31"),
        5,
    );
    let verify = report(&format!("/v1/funds/{FUND}/ledger/verify"), 3);
    let export = report(&format!("/v1/funds/{FUND}/exports/ledger?format=jsonl"), 3);
    let peak = server.peak_rss();
    drop(server);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let per_second = |d: Duration| entries as f64 / d.as_secs_f64();
    rows.extend(
        [
            (
                "membership statistics as of a date",
                ms(membership_stats),
                "ms",
            ),
            ("trial balance as of a date", ms(trial_balance), "ms"),
            ("claims statistics", ms(claims_stats), "ms"),
            ("ledger verification", per_second(verify), "entries/s"),
            ("JSON Lines export", per_second(export), "entries/s"),
            ("load time", load_time.as_secs_f64(), "s"),
            ("journal entries", entries as f64, ""),
            ("contributions", contributions as f64, ""),
            ("bytes per worker", bytes as f64 / workers as f64, "B"),
            (
                "bytes per contribution",
                bytes as f64 / (contributions.max(1)) as f64,
                "B",
            ),
            ("server peak memory (VmHWM)", peak as f64 / 1048576.0, "MiB"),
        ]
        .map(|(what, value, unit)| (what.to_string(), value, unit)),
    );
    Some(rows)
}

fn sizes() -> (usize, usize) {
    if let Ok(list) = std::env::var("MWF_BENCH_SIZES") {
        let n: Vec<usize> = list
            .split(',')
            .map(|s| s.trim().parse().expect("MWF_BENCH_SIZES: two numbers"))
            .collect();
        assert_eq!(n.len(), 2, "MWF_BENCH_SIZES: two numbers");
        return (n[0], n[1]);
    }
    let small = std::env::var("MWF_BENCH_WORKERS")
        .ok()
        .map_or(100_000, |s| s.parse().expect("MWF_BENCH_WORKERS: a number"));
    (small, small * 10)
}

fn format_value(value: f64, unit: &str) -> String {
    if value.is_nan() {
        return "n/a".to_string();
    }
    let digits = if value >= 100.0 || unit.is_empty() {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let mut number = format!("{value:.digits$}");
    if digits == 0 && number.len() > 3 {
        // Thousands separators.
        let mut grouped = String::new();
        for (i, c) in number.chars().enumerate() {
            if i > 0 && (number.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        number = grouped;
    }
    if unit.is_empty() {
        number
    } else {
        format!("{number} {unit}")
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let only = std::env::var("MWF_BENCH_ONLY").ok();
    let (small, large) = sizes();
    for backend in ["sqlite", "postgresql"] {
        if only.as_deref().is_some_and(|o| o != backend) {
            continue;
        }
        let Some(a) = measure(backend, small) else {
            continue;
        };
        let b = measure(backend, large);
        println!();
        println!("{backend}, fund {FUND}, {YEARS} years of history");
        println!("| operation | {small} workers | {large} workers | ratio |");
        println!("| --- | --- | --- | --- |");
        for (i, (what, value, unit)) in a.iter().enumerate() {
            let (other, ratio) = match &b {
                Some(b) if (b[i].1 / value).is_finite() => (
                    format_value(b[i].1, unit),
                    format!("×{:.2}", b[i].1 / value),
                ),
                Some(b) => (format_value(b[i].1, unit), "—".to_string()),
                None => ("—".to_string(), "—".to_string()),
            };
            println!(
                "| {what} | {} | {other} | {ratio} |",
                format_value(*value, unit)
            );
        }
    }
}

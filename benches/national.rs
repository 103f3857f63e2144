//! National size: one fund built by `mwf demo --fund PH-OWWA --workers N
//! --years 10` at two sizes on each backend, then the real server (`mwf serve`,
//! a child process) measured over HTTP:
//!
//! * per-record reads (worker by id, membership, by document, quote): p99 of
//!   ~200 calls on workers spread over the whole fund;
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

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use mwf::auth::{mint_token, Role};
use mwf::config::JwtSettings;
use mwf::db::schema::{contracts, funds, workers};

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
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("mwf serve starts");
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
type Measures = Vec<(&'static str, f64, &'static str)>;

fn p99(mut times: Vec<Duration>) -> f64 {
    times.sort();
    let i = ((times.len() as f64 * 0.99).ceil() as usize).clamp(1, times.len()) - 1;
    times[i].as_secs_f64() * 1000.0
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// A worker sampled: id, document number, latest contract.
type Sampled = (String, String, Option<String>);

/// Workers spread over the whole fund.
fn sample_workers(url: &str) -> Vec<Sampled> {
    let mut conn = mwf::db::establish(url).unwrap();
    let fund_id: mwf::funds::FundId = funds::table
        .filter(funds::code.eq(FUND))
        .select(funds::id)
        .first(&mut conn)
        .unwrap();
    let all: Vec<(String, String)> = workers::table
        .filter(workers::fund_id.eq(fund_id))
        .select((workers::id, workers::document_number))
        .load(&mut conn)
        .unwrap();
    let step = (all.len() / SAMPLE).max(1);
    all.into_iter()
        .step_by(step)
        .take(SAMPLE)
        .map(|(id, document)| {
            let contract: Option<String> = contracts::table
                .filter(contracts::worker_id.eq(&id))
                .order(contracts::start_date.desc())
                .select(contracts::id)
                .first(&mut conn)
                .optional()
                .unwrap();
            (id, document, contract)
        })
        .collect()
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

    let server = Server::start(&url);
    let agent = agent();
    let per_record = |path: &dyn Fn(&Sampled) -> String| {
        // A first pass warms the caches a real server would have warm.
        for w in sample.iter().take(10) {
            server.get(&agent, &path(w));
        }
        p99(sample
            .iter()
            .map(|w| server.get(&agent, &path(w)).2)
            .collect())
    };
    let by_id = per_record(&|w| format!("/v1/workers/{}", w.0));
    let membership = per_record(&|w| format!("/v1/workers/{}/membership?on={AS_OF}", w.0));
    let by_document = per_record(&|w| format!("/v1/funds/{FUND}/workers?document_number={}", w.1));
    let quote = per_record(&|w| match &w.2 {
        Some(c) => format!(
            "/v1/funds/{FUND}/contributions/quote?worker_id={}&contract_id={c}&paid_on=2026-10-01",
            w.0
        ),
        None => format!(
            "/v1/funds/{FUND}/contributions/quote?worker_id={}&paid_on=2026-10-01",
            w.0
        ),
    });
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
    Some(vec![
        ("worker by id (p99)", by_id, "ms"),
        ("membership (p99)", membership, "ms"),
        ("worker by document (p99)", by_document, "ms"),
        ("quote (p99)", quote, "ms"),
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
    ])
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
                Some(b) => (
                    format_value(b[i].1, unit),
                    format!("×{:.2}", b[i].1 / value),
                ),
                None => ("—".to_string(), "—".to_string()),
            };
            println!(
                "| {what} | {} | {other} | {ratio} |",
                format_value(*value, unit)
            );
        }
    }
}

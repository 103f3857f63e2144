//! `mwf serve` with `MWF_READ_DATABASE_URL`: a PostgreSQL primary and a
//! streaming replica of its own, started by the test (`.ci/pg-replica`, on two
//! free ports, never the shared server), and the reads routed by
//! `http::replica`'s rule. Replay on the replica is paused: a write through the
//! API is then seen by the primary-routed reads and not yet by the
//! replica-routed ones, which name their source in `X-Mwf-Read-Source`; after
//! replay resumes they see it. With the replica stopped, the same reads answer
//! from the primary, and the log says so.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server::{admin_token, Client, Database, Server};

const FUND: &str = "KE-MWF";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/pg-replica")
}

/// The newest PostgreSQL binaries, or `None` when none are installed.
fn postgres_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("pg_basebackup").is_file() && bin.join("initdb").is_file())
        .collect();
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A primary and its replica in a temporary directory; stopped and removed on
/// drop, also when the test fails.
struct Cluster {
    bin: PathBuf,
    primary_port: u16,
    replica_port: u16,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn start(bin: PathBuf) -> Cluster {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (primary_port, replica_port) = (free_port(), free_port());
        let cluster = Cluster {
            bin,
            primary_port,
            replica_port,
            dir,
        };
        let out = Command::new(script())
            .arg("start")
            .arg(cluster.dir.path())
            .arg(primary_port.to_string())
            .arg(replica_port.to_string())
            .env("PG_BIN", &cluster.bin)
            .output()
            .expect(".ci/pg-replica runs");
        assert!(
            out.status.success(),
            ".ci/pg-replica start failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        cluster
    }

    fn url(port: u16, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{database}")
    }

    /// Runs SQL with psql on one node; its output, trimmed.
    fn psql(&self, port: u16, database: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(Cluster::url(port, database))
            .args(["-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn pause_replay(&self) {
        self.psql(
            self.replica_port,
            "postgres",
            "SELECT pg_wal_replay_pause()",
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.psql(
            self.replica_port,
            "postgres",
            "SELECT pg_get_wal_replay_pause_state()",
        ) != "paused"
        {
            assert!(Instant::now() < deadline, "replay did not pause");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn resume_replay(&self) {
        self.psql(
            self.replica_port,
            "postgres",
            "SELECT pg_wal_replay_resume()",
        );
    }

    fn stop_replica(&self) {
        let status = Command::new(script())
            .arg("stop-replica")
            .arg(self.dir.path())
            .env("PG_BIN", &self.bin)
            .status()
            .expect(".ci/pg-replica runs");
        assert!(status.success(), ".ci/pg-replica stop-replica failed");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .env("PG_BIN", &self.bin)
            .status();
    }
}

/// One answer with the header that names where it was read.
struct Read {
    status: u16,
    source: Option<String>,
    text: String,
}

fn read(base: &str, token: &str, path: &str) -> Read {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut res = agent
        .get(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let source = res
        .headers()
        .get("x-mwf-read-source")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string().expect("a body");
    Read {
        status,
        source,
        text,
    }
}

/// The worker ids listed by the fund's (replica-routed) worker search.
fn listed_workers(base: &str, token: &str) -> (Vec<String>, Option<String>) {
    let res = read(base, token, &format!("/v1/funds/{FUND}/workers?limit=100"));
    assert_eq!(res.status, 200, "{}", res.text);
    let body: Value = serde_json::from_str(&res.text).expect("JSON");
    let ids = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|w| w["id"].as_str().expect("an id").to_string())
        .collect();
    (ids, res.source)
}

/// Polls the replica-routed list until it shows `worker` (bounded).
fn wait_listed(base: &str, token: &str, worker: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // A replica that has not replayed the fund yet does not know it (404).
        let res = read(base, token, &format!("/v1/funds/{FUND}/workers?limit=100"));
        assert_eq!(res.source.as_deref(), Some("replica"), "{}", res.text);
        if res.status == 200 && res.text.contains(worker) {
            return;
        }
        assert!(matches!(res.status, 200 | 404), "{}", res.text);
        assert!(
            Instant::now() < deadline,
            "the replica did not show worker {worker} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn reports_and_lists_read_the_replica_and_fall_back_to_the_primary() {
    let Some(bin) = postgres_bin() else {
        assert!(
            std::env::var_os("MWF_REQUIRE_REPLICA_TEST").is_none(),
            "MWF_REQUIRE_REPLICA_TEST is set but no PostgreSQL binaries are installed"
        );
        println!(
            "SKIPPED reports_and_lists_read_the_replica_and_fall_back_to_the_primary: \
             no PostgreSQL binaries under /usr/lib/postgresql (set PG_BIN)"
        );
        return;
    };
    let cluster = Cluster::start(bin);
    cluster.psql(cluster.primary_port, "postgres", "CREATE DATABASE mwf");
    let replica_url = Cluster::url(cluster.replica_port, "mwf");
    let mut db = Database::sqlite(); // only for its directory (the server's log)
    db.url = Cluster::url(cluster.primary_port, "mwf");
    let server = Server::start_with(
        &db,
        "on-primary",
        &[("MWF_READ_DATABASE_URL", &replica_url)],
    );
    let token = admin_token("replica-test");
    let client = Client::new(&server, &token);
    let base = server.base();

    client.load_fund(FUND);
    let (first, _) = client.enroll(FUND, "P1000001", ("2026-01-01", "2027-12-31"));
    wait_listed(&base, &token, &first);

    // Replay paused: the write reaches the primary only.
    cluster.pause_replay();
    let (second, _) = client.enroll(FUND, "P1000002", ("2026-01-01", "2027-12-31"));
    let own = read(&base, &token, &format!("/v1/workers/{second}"));
    assert_eq!(
        own.status, 200,
        "a GET by id reads the primary: {}",
        own.text
    );
    assert_eq!(own.source, None, "a primary-routed read names no source");
    let (ids, source) = listed_workers(&base, &token);
    assert_eq!(source.as_deref(), Some("replica"));
    assert!(ids.contains(&first), "{ids:?}");
    assert!(
        !ids.contains(&second),
        "the list read the primary, not the paused replica: {ids:?}"
    );
    // Exports (streamed) and the audit log read the replica too.
    let export = read(&base, &token, "/v1/audit-log/export?format=jsonl");
    assert_eq!(export.status, 200, "{}", export.text);
    assert_eq!(export.source.as_deref(), Some("replica"));
    assert!(
        export.text.contains(&first),
        "the export lacks the first enrolment"
    );
    assert!(
        !export.text.contains(&second),
        "the export read the primary, not the paused replica"
    );
    let report = read(
        &base,
        &token,
        &format!("/v1/funds/{FUND}/reports/trial-balance"),
    );
    assert_eq!(report.status, 200, "{}", report.text);
    assert_eq!(report.source.as_deref(), Some("replica"));

    // Replay resumed: the replica catches up.
    cluster.resume_replay();
    wait_listed(&base, &token, &second);
    let export = read(&base, &token, "/v1/audit-log/export?format=jsonl");
    assert!(export.text.contains(&second), "the export after replay");

    // The replica gone: the same reads answer from the primary, with a warning.
    cluster.stop_replica();
    let (third, _) = client.enroll(FUND, "P1000003", ("2026-01-01", "2027-12-31"));
    let (ids, source) = listed_workers(&base, &token);
    assert_eq!(source.as_deref(), Some("primary"), "{}", server.log_tail());
    assert!(ids.contains(&third), "{ids:?}");
    let export = read(&base, &token, "/v1/audit-log/export?format=jsonl");
    assert_eq!(export.status, 200, "{}", export.text);
    assert_eq!(export.source.as_deref(), Some("primary"));
    assert!(
        server
            .log_tail()
            .contains("the read replica (MWF_READ_DATABASE_URL) cannot be reached"),
        "no warning in the log:\n{}",
        server.log_tail()
    );
}

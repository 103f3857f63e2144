//! Runs the real `mwf` binary as child processes: a fresh database (a temporary
//! SQLite file, or a new PostgreSQL database under TEST_DATABASE_URL), `mwf serve`
//! started, killed with SIGKILL and restarted on it, the CLI, and an HTTP client
//! that reports a lost response as such instead of panicking. Only HTTP and the
//! command line are used, never the service's internals.

use std::fs::File;
use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The HS256 secret every process of a test shares.
pub const SECRET: &str = "process-test-secret-long-enough-for-hs256-0123456789";

const SETTINGS: [&str; 10] = [
    "DATABASE_URL",
    "MWF_BIND",
    "MWF_ENV",
    "MWF_JWT_SECRET",
    "MWF_JWT_PUBLIC_KEYS",
    "MWF_JWT_ISSUER",
    "MWF_JWT_AUDIENCE",
    "MWF_DB_POOL_SIZE",
    "MWF_WORKERS",
    "MWF_DEV_SECRET_FILE",
];

enum Kind {
    Sqlite,
    Postgres { admin_url: String, name: String },
}

/// A database of its own for one test, dropped (PostgreSQL) or deleted (SQLite) at the end.
pub struct Database {
    pub url: String,
    kind: Kind,
    /// Holds the SQLite file and the servers' logs.
    pub dir: tempfile::TempDir,
}

impl Database {
    /// PostgreSQL when TEST_DATABASE_URL is set, else a SQLite file.
    pub fn fresh() -> Database {
        Database::postgres().unwrap_or_else(Database::sqlite)
    }

    pub fn sqlite() -> Database {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = dir.path().join("mwf.db").to_string_lossy().to_string();
        Database {
            url,
            kind: Kind::Sqlite,
            dir,
        }
    }

    /// A new database on the server of TEST_DATABASE_URL; None when it is not set.
    pub fn postgres() -> Option<Database> {
        use diesel::connection::SimpleConnection;
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| mwf::db::is_postgres_url(u))?;
        let name = format!("mwf_proc_{}", uuid::Uuid::now_v7().simple());
        let mut conn = mwf::db::establish(&admin_url).expect("TEST_DATABASE_URL is reachable");
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .expect("URL has a database name");
        Some(Database {
            url: format!("{base}/{name}"),
            kind: Kind::Postgres { admin_url, name },
            dir: tempfile::tempdir().expect("temporary directory"),
        })
    }

    pub fn backend(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite => "SQLite",
            Kind::Postgres { .. } => "PostgreSQL",
        }
    }

    /// Runs an `mwf` sub-command on this database.
    pub fn mwf(&self, args: &[&str]) -> Output {
        mwf(args, &[("DATABASE_URL", &self.url)])
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Kind::Postgres { admin_url, name } = &self.kind {
            use diesel::connection::SimpleConnection;
            if let Ok(mut conn) = mwf::db::establish(admin_url) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// Runs the binary with only the given settings (and the shared secret).
pub fn mwf(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mwf"));
    command.args(args);
    for var in SETTINGS {
        command.env_remove(var);
    }
    command.env("MWF_JWT_SECRET", SECRET);
    command.envs(env.iter().copied());
    command.output().expect("the binary runs")
}

/// An admin token for `subject`, minted by `mwf token`.
pub fn admin_token(subject: &str) -> String {
    let out = mwf(
        &[
            "token",
            "--role",
            "admin",
            "--subject",
            subject,
            "--lifetime",
            "2h",
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "mwf token: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One `mwf serve` process; restarted on the same port and database.
pub struct Server {
    pub name: String,
    pub port: u16,
    database_url: String,
    log: PathBuf,
    child: Option<Child>,
    /// Settings of this server's own (`MWF_WEBHOOK_*`), kept across restarts.
    env: Vec<(String, String)>,
}

impl Server {
    /// Starts `mwf serve` on the database and waits until it is ready.
    pub fn start(db: &Database, name: &str) -> Server {
        let mut server = Server::spawn(db, name);
        server.wait_ready();
        server
    }

    /// Starts `mwf serve` without waiting (see [`Server::wait_ready`]).
    pub fn spawn(db: &Database, name: &str) -> Server {
        Server::spawn_with(db, name, &[])
    }

    /// Starts `mwf serve` with these settings added and waits until it is ready.
    pub fn start_with(db: &Database, name: &str, env: &[(&str, &str)]) -> Server {
        let mut server = Server::spawn_with(db, name, env);
        server.wait_ready();
        server
    }

    fn spawn_with(db: &Database, name: &str, env: &[(&str, &str)]) -> Server {
        let mut server = Server {
            name: name.to_string(),
            port: free_port(),
            database_url: db.url.clone(),
            log: db.dir.path().join(format!("{name}.log")),
            child: None,
            env: (env.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        server.launch();
        server
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the process again (after a kill) and waits until `/readyz` answers 200.
    pub fn restart(&mut self) {
        self.launch();
        self.wait_ready();
    }

    fn launch(&mut self) {
        assert!(self.child.is_none(), "{} is still running", self.name);
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_mwf"));
        for var in SETTINGS {
            command.env_remove(var);
        }
        command
            .arg("serve")
            .env("DATABASE_URL", &self.database_url)
            .env("MWF_BIND", format!("127.0.0.1:{}", self.port))
            .env("MWF_ENV", "production")
            .env("MWF_JWT_SECRET", SECRET)
            .env("MWF_DB_POOL_SIZE", "8")
            .env("MWF_WORKERS", "2")
            .env("RUST_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("server log"))
            .stderr(log);
        self.child = Some(command.spawn().expect("mwf serve starts"));
    }

    /// Waits until `/readyz` answers 200; panics with the log if the process exits.
    pub fn wait_ready(&mut self) {
        let agent = agent(Duration::from_secs(2));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = agent.get(format!("{}/readyz", self.base())).call() {
                if res.status().as_u16() == 200 {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "{} exited ({status}) before it was ready:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready within 60 s:\n{}",
                self.name,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no shutdown, no flush, nothing.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The end of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let start = text.len().saturating_sub(4000);
        let start = (start..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(text.len());
        text[start..].to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// An answer that arrived.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Value,
    pub text: String,
    /// `Idempotent-Replayed: true`.
    pub replayed: bool,
}

impl Response {
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        &self.body
    }
}

/// An HTTP client of one server with one token. Errors are returned, not
/// panicked on: a connection reset by a killed server is a lost response.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    token: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(server: &Server, token: &str) -> Client {
        Client {
            base: server.base(),
            token: token.to_string(),
            agent: agent(Duration::from_secs(60)),
        }
    }

    fn read(mut res: ureq::http::Response<ureq::Body>) -> Result<Response, ureq::Error> {
        let status = res.status().as_u16();
        let replayed = res
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok())
            == Some("true");
        let text = res.body_mut().read_to_string()?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Response {
            status,
            body,
            text,
            replayed,
        })
    }

    pub fn try_get(&self, path: &str) -> Result<Response, ureq::Error> {
        let res = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()?;
        Self::read(res)
    }

    pub fn try_post(
        &self,
        path: &str,
        key: Option<&str>,
        body: &Value,
    ) -> Result<Response, ureq::Error> {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/json");
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        Self::read(req.send(body.to_string())?)
    }

    #[track_caller]
    pub fn get(&self, path: &str) -> Response {
        self.try_get(path)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    #[track_caller]
    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.try_post(path, None, body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Every item of a paged list (`items`, `next` passed as `after`).
    pub fn list_all(&self, path: &str) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page_path = match &after {
                Some(a) => format!("{path}{sep}limit=500&after={a}"),
                None => format!("{path}{sep}limit=500"),
            };
            let page = self.get(&page_path);
            let body = page.expect(200);
            items.extend(body["items"].as_array().unwrap().iter().cloned());
            match body["next"].as_str() {
                Some(next) => after = Some(next.to_string()),
                None => return items,
            }
        }
    }

    /// Creates an example fund from demo/funds/ and publishes its rule versions.
    pub fn load_fund(&self, code: &str) {
        let path = format!("{}/demo/funds/{code}.json", env!("CARGO_MANIFEST_DIR"));
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("fund file"))
            .expect("fund JSON");
        let f = &file["fund"];
        self.post(
            "/v1/funds",
            &json!({"code": f["code"], "country": f["country"], "name": f["name"], "currency": f["currency"]}),
        )
        .expect(201);
        for version in file["versions"].as_array().unwrap() {
            self.post(&format!("/v1/funds/{code}/rules"), version)
                .expect(201);
        }
    }

    /// Enrolls a worker with one contract; returns (worker id, contract id).
    pub fn enroll(&self, fund: &str, document: &str, contract: (&str, &str)) -> (String, String) {
        let res = self.post(
            &format!("/v1/funds/{fund}/workers"),
            &json!({
                "document_type": "passport", "document_number": document,
                "given_name": "Wanjiru", "family_name": "Otieno", "date_of_birth": "1991-06-12", "sex": "female",
                "occupation_sector": "domestic_work",
                "contracts": [{"employer": "Al Noor Household", "destination_country": "SA",
                               "start_date": contract.0, "end_date": contract.1}]
            }),
        );
        let body = res.expect(201);
        (
            body["id"].as_str().unwrap().to_string(),
            body["contracts"][0]["id"].as_str().unwrap().to_string(),
        )
    }

    /// The account's current balance as listed.
    pub fn balance(&self, fund: &str, code: &str) -> rust_decimal::Decimal {
        let res = self.get(&format!("/v1/funds/{fund}/accounts"));
        let account = res.expect(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == code)
            .unwrap_or_else(|| panic!("no account {code}"))
            .clone();
        decimal(&account["balance"])
    }

    /// The fund's ledger verifies through the API (chain, balances, every entry
    /// balanced) and per currency its accounts' debits equal its credits.
    #[track_caller]
    pub fn assert_books_balance(&self, fund: &str) {
        let verify = self.get(&format!("/v1/funds/{fund}/ledger/verify"));
        assert_eq!(verify.expect(200)["ok"], true, "{}", verify.text);
        let accounts = self.get(&format!("/v1/funds/{fund}/accounts"));
        let mut totals: std::collections::BTreeMap<
            String,
            (rust_decimal::Decimal, rust_decimal::Decimal),
        > = Default::default();
        for a in accounts.expect(200)["items"].as_array().unwrap() {
            let t = totals
                .entry(a["currency"].as_str().unwrap().to_string())
                .or_default();
            t.0 += decimal(&a["debits"]);
            t.1 += decimal(&a["credits"]);
        }
        for (currency, (debits, credits)) in totals {
            assert_eq!(
                debits, credits,
                "{fund} {currency}: debits {debits} but credits {credits}"
            );
        }
    }
}

pub fn decimal(v: &Value) -> rust_decimal::Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}

/// The fund's journal read back: sequences must run 1..n with no gap and no
/// repeat. Returns the entries in sequence order.
#[track_caller]
pub fn journal_without_gaps(client: &Client, fund: &str) -> Vec<Value> {
    let entries = client.list_all(&format!("/v1/funds/{fund}/journal-entries"));
    let sequences: Vec<i64> = entries
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = (1..=entries.len() as i64).collect();
    if sequences != expected {
        let first_bad = sequences
            .iter()
            .zip(&expected)
            .position(|(s, e)| s != e)
            .unwrap_or(sequences.len().min(expected.len()));
        panic!(
            "{fund}'s journal sequence is not 1..{}: at position {first_bad} it reads {:?}",
            entries.len(),
            &sequences[first_bad.saturating_sub(2)..(first_bad + 3).min(sequences.len())]
        );
    }
    entries
}

/// `mwf verify --fund` on the database exits 0 and reports `entries` entries.
#[track_caller]
pub fn assert_cli_verifies(db: &Database, fund: &str, entries: usize) {
    let out = db.mwf(&["verify", "--fund", fund]);
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "mwf verify failed: {report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains(&format!("{fund}: {entries} entries checked")),
        "{report}"
    );
}

/// A problem line cut to a readable length.
pub fn short(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

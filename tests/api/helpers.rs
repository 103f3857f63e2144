//! Starts the real server on a random port with a fresh database per test: a
//! temporary SQLite file, or a new PostgreSQL database when TEST_DATABASE_URL is set.

use std::sync::mpsc;
use std::time::Duration;

use mwf::auth::{mint_token, Role};
use mwf::config::{Environment, JwtSettings, Settings};
use mwf::db::{self, DbConnection};
use mwf::startup::Application;
use serde_json::Value;

pub const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

pub struct TestApp {
    pub base: String,
    pub database_url: String,
    pub jwt: JwtSettings,
    db: TestDb,
    system: actix_web::rt::System,
    webhooks: mwf::webhooks::Worker,
    agent: ureq::Agent,
}

pub struct Response {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            self.status, status,
            "expected {status} {code}, got {}: {}",
            self.status, self.text
        );
        assert!(
            self.content_type.starts_with("application/problem+json"),
            "not problem+json: {} {}",
            self.content_type,
            self.text
        );
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["title"].is_string()
                && self.body["detail"].is_string()
                && self.body["type"].is_string()
        );
        &self.body
    }

    /// Asserts this status and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        &self.body
    }

    /// The field paths listed in a validation problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn jwt_settings() -> JwtSettings {
    JwtSettings {
        secret: Some(SECRET.as_bytes().to_vec()),
        public_key_files: vec![
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/rsa_public.pem").into(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/ec_public.pem").into(),
        ],
        issuer: "mwf".into(),
        audience: "mwf".into(),
        max_lifetime_seconds: mwf::auth::DEFAULT_TOKEN_LIFETIME_SECONDS,
        jwks: None,
    }
}

fn fresh_database() -> (TestDb, String) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if db::is_postgres_url(&admin_url) => {
            use diesel::connection::SimpleConnection;
            let name = format!("mwf_test_{}", uuid::Uuid::now_v7().simple());
            let mut conn = db::establish(&admin_url).expect("TEST_DATABASE_URL is reachable");
            conn.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create test database");
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .expect("URL has a database name");
            let url = format!("{base}/{name}");
            (TestDb::Postgres { admin_url, name }, url)
        }
        _ => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = dir.path().join("mwf.db").to_string_lossy().to_string();
            (TestDb::Sqlite(dir), url)
        }
    }
}

/// Starts a server on a fresh database.
pub fn spawn() -> TestApp {
    spawn_with(|_| {})
}

/// Starts a server on a fresh database with settings changed by `configure`.
pub fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let (db, database_url) = fresh_database();
    let mut settings = Settings {
        database_url: database_url.clone(),
        read_database_url: None,
        bind: "127.0.0.1:0".into(),
        environment: Environment::Production,
        jwt: jwt_settings(),
        pool_size: 6,
        workers: 2,
        client_request_timeout: Duration::from_secs(
            mwf::config::DEFAULT_CLIENT_REQUEST_TIMEOUT_SECONDS,
        ),
        webhooks: Default::default(),
        cors_origins: Vec::new(),
    };
    configure(&mut settings);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            let app = Application::build(settings).expect("the application starts");
            let system = actix_web::rt::System::current();
            tx.send((app.port(), system, app.webhook_worker())).unwrap();
            app.run_until_stopped().await
        })
    });
    let (port, system, webhooks) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server started");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        database_url,
        jwt: jwt_settings(),
        db,
        system,
        webhooks,
        agent,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.system.stop();
        self.webhooks.stop();
        if let TestDb::Postgres { admin_url, name } = &self.db {
            use diesel::connection::SimpleConnection;
            if let Ok(mut conn) = db::establish(admin_url) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

fn read(mut res: ureq::http::Response<ureq::Body>) -> Response {
    let status = res.status().as_u16();
    let headers: Vec<(String, String)> = res
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = res.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Response {
        status,
        body,
        text,
        content_type,
        headers,
    }
}

impl TestApp {
    pub fn token(&self, role: Role, funds: &[&str]) -> String {
        self.token_for("tester", role, funds)
    }

    pub fn token_for(&self, subject: &str, role: Role, funds: &[&str]) -> String {
        let funds: Vec<String> = funds.iter().map(|f| f.to_string()).collect();
        mint_token(SECRET.as_bytes(), &self.jwt, subject, role, &funds, 3600)
    }

    pub fn admin(&self) -> String {
        self.token(Role::Admin, &["*"])
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str, token: &str) -> Response {
        let mut req = self.agent.get(self.url(path));
        if !token.is_empty() {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        read(req.call().expect("request sent"))
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.post_raw(
            path,
            token,
            &body.to_string(),
            &[("Content-Type", "application/json")],
        )
    }

    pub fn post_with_key(&self, path: &str, token: &str, key: &str, body: &Value) -> Response {
        self.post_raw(
            path,
            token,
            &body.to_string(),
            &[
                ("Content-Type", "application/json"),
                ("Idempotency-Key", key),
            ],
        )
    }

    pub fn post_raw(
        &self,
        path: &str,
        token: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = self.agent.post(self.url(path));
        if !token.is_empty() {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        read(req.send(body).expect("request sent"))
    }

    pub fn delete(&self, path: &str, token: &str) -> Response {
        read(
            self.agent
                .delete(self.url(path))
                .header("Authorization", format!("Bearer {token}"))
                .call()
                .expect("request sent"),
        )
    }

    /// A direct connection to the test database (for tampering like an intruder).
    pub fn connection(&self) -> DbConnection {
        db::establish(&self.database_url).expect("test database reachable")
    }

    /// The fund's verification report through the API, after checking that
    /// a run reading on one connection alone, a run with helper connections
    /// beside it (`ledger::Helpers`: postings and summaries read on
    /// connections of their own) and a run given a pool with none to spare
    /// (it waits, then reads alone) report the same problems.
    pub fn verify_every_way(&self, fund: &str) -> Value {
        use mwf::ledger::{verify_fund, verify_fund_showing, Helpers};
        let report = self
            .get(&format!("/v1/funds/{fund}/ledger/verify"), &self.admin())
            .expect(200)
            .clone();
        let mut conn = self.connection();
        let id = mwf::funds::find_fund(&mut conn, fund)
            .unwrap()
            .expect("the fund")
            .id;
        let pool = db::pool(&self.database_url, 2).expect("a pool of two");
        let alone = db::read_snapshot(&mut conn, |c| verify_fund(c, id)).unwrap();
        let helped = db::read_snapshot(&mut conn, |c| {
            let progress = &mut mwf::progress::Progress::hidden();
            verify_fund_showing(c, Helpers(Some(&pool)), id, progress)
        })
        .unwrap();
        let busy = db::pool(&self.database_url, 1).expect("a pool of one");
        let held = busy.get().expect("the pool's one connection");
        let starved = db::read_snapshot(&mut conn, |c| {
            let progress = &mut mwf::progress::Progress::hidden();
            verify_fund_showing(c, Helpers(Some(&busy)), id, progress)
        })
        .unwrap();
        drop(held);
        let runs = [
            ("on one connection", alone),
            ("with helpers", helped),
            ("with a pool that has none to spare", starved),
        ];
        for (how, run) in runs {
            let run = serde_json::to_value(&run).unwrap();
            assert_eq!(run["problems"], report["problems"], "verified {how}");
            assert_eq!(run["ok"], report["ok"], "verified {how}");
            assert_eq!(run["entries_checked"], report["entries_checked"]);
        }
        report
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.db, TestDb::Postgres { .. })
    }

    /// Creates a fund and returns its code.
    pub fn create_fund(&self, code: &str, country: &str, currency: &str) -> String {
        let res = self.post(
            "/v1/funds",
            &self.admin(),
            &serde_json::json!({"code": code, "country": country, "name": format!("{code} welfare fund"), "currency": currency}),
        );
        res.expect(201);
        code.to_string()
    }

    /// Posts a manual entry debiting `debit` and crediting `credit`.
    pub fn transfer(
        &self,
        fund: &str,
        date: &str,
        debit: &str,
        credit: &str,
        amount: &str,
        currency: &str,
    ) -> Response {
        self.post(
            &format!("/v1/funds/{fund}/journal-entries"),
            &self.admin(),
            &serde_json::json!({
                "effective_date": date,
                "memo": format!("{debit} from {credit}"),
                "postings": [
                    {"account": debit, "side": "debit", "amount": amount, "currency": currency},
                    {"account": credit, "side": "credit", "amount": amount, "currency": currency}
                ]
            }),
        )
    }

    /// The account's JSON as listed (optionally as of a date).
    pub fn account(&self, fund: &str, code: &str, as_of: Option<&str>) -> Value {
        let path = match as_of {
            Some(d) => format!("/v1/funds/{fund}/accounts?as_of={d}"),
            None => format!("/v1/funds/{fund}/accounts"),
        };
        let res = self.get(&path, &self.admin());
        res.expect(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("no account {code}"))
    }

    pub fn balance(&self, fund: &str, code: &str) -> String {
        self.account(fund, code, None)["balance"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

impl TestApp {
    /// Creates an example fund from demo/funds/ and publishes all its rule versions.
    pub fn load_fund(&self, code: &str) {
        let file = mwf::demo::fund_file(code).expect("an example fund");
        let f = &file.fund;
        self.create_fund(&f.code, &f.country, &f.currency);
        for version in &file.versions {
            self.post(&format!("/v1/funds/{code}/rules"), &self.admin(), version)
                .expect(201);
        }
    }

    /// Enrolls a worker with one contract; returns (worker id, contract id).
    pub fn enroll(&self, fund: &str, document: &str, contract: (&str, &str)) -> (String, String) {
        let res = self.post(
            &format!("/v1/funds/{fund}/workers"),
            &self.admin(),
            &serde_json::json!({
                "document_type": "passport", "document_number": document,
                "given_name": "Maria", "family_name": "Santos", "date_of_birth": "1990-04-02", "sex": "female",
                "occupation_sector": "domestic_work",
                "dependants": [{"name": "Jose Santos", "relationship": "spouse"}],
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

    /// Records a contribution paid by the worker alone; returns the response.
    /// `money` is (amount, currency, total with taxes).
    pub fn contribute(
        &self,
        fund: &str,
        worker: &str,
        contract: Option<&str>,
        paid_on: &str,
        money: (&str, &str, &str),
    ) -> Response {
        let (amount, currency, total) = money;
        self.post(
            &format!("/v1/funds/{fund}/contributions"),
            &self.admin(),
            &serde_json::json!({
                "worker_id": worker, "contract_id": contract, "paid_on": paid_on,
                "amount": amount, "currency": currency,
                "payers": [{"type": "worker", "amount": total}]
            }),
        )
    }

    /// The ledger of `fund` verifies, and per currency its accounts' debits equal credits.
    #[track_caller]
    pub fn assert_books_balance(&self, fund: &str) {
        let verify = self.get(&format!("/v1/funds/{fund}/ledger/verify"), &self.admin());
        assert_eq!(verify.expect(200)["ok"], true, "{}", verify.text);
        let accounts = self.get(&format!("/v1/funds/{fund}/accounts"), &self.admin());
        let mut totals: std::collections::BTreeMap<
            String,
            (rust_decimal::Decimal, rust_decimal::Decimal),
        > = Default::default();
        for a in accounts.body["items"].as_array().unwrap() {
            let t = totals
                .entry(a["currency"].as_str().unwrap().to_string())
                .or_default();
            t.0 += a["debits"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap();
            t.1 += a["credits"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap();
        }
        for (currency, (debits, credits)) in totals {
            assert_eq!(debits, credits, "{fund} {currency} does not net to zero");
        }
    }
}

impl TestApp {
    pub fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        let res = self
            .agent
            .patch(self.url(path))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .expect("request sent");
        read(res)
    }
}

/// Steps several test modules share, through the API and the binary.
impl TestApp {
    /// A repatriation in distress claimed by `worker` for `amount`, approved
    /// and paid on `paid_on` (the fund needs the cash).
    pub fn paid_claim(&self, worker: &str, amount: &str, paid_on: chrono::NaiveDate) {
        let body = serde_json::json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01",
                          "incident_phase": "abroad", "filed_on": "2026-03-05",
                          "claimant": {"relationship": "worker"}, "claimed_amount": amount,
                          "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]});
        let res = self.post(
            &format!("/v1/workers/{worker}/claims"),
            &self.admin(),
            &body,
        );
        let claim = res.expect(201)["id"].as_str().unwrap().to_string();
        let decided = self.post(
            &format!("/v1/claims/{claim}/decision"),
            &self.admin(),
            &serde_json::json!({"outcome": "approve"}),
        );
        assert_eq!(
            decided.expect(200)["status"],
            "approved",
            "{}",
            decided.text
        );
        let paid = self.post(
            &format!("/v1/claims/{claim}/payment"),
            &self.admin(),
            &serde_json::json!({"paid_on": paid_on}),
        );
        assert_eq!(paid.expect(200)["status"], "paid", "{}", paid.text);
    }

    /// `mwf verify --fund <fund>` run by the binary on this app's database.
    pub fn mwf_verify(&self, fund: &str) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_mwf"))
            .args(["verify", "--fund", fund])
            .env_remove("MWF_JWT_PUBLIC_KEYS")
            .env("DATABASE_URL", &self.database_url)
            .env("MWF_JWT_SECRET", SECRET)
            .output()
            .expect("the binary runs")
    }
}

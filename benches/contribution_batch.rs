//! Measures a 10,000-item contribution batch through the real server, on SQLite
//! and (when TEST_DATABASE_URL is set) on PostgreSQL. Prints numbers; asserts
//! only that the batch was fully booked.
//!
//!     cargo bench --bench contribution_batch
//!     TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench contribution_batch

use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use mwf::auth::{mint_token, Role};
use mwf::config::{Environment, JwtSettings, Settings};
use mwf::startup::Application;
use serde_json::{json, Value};

const ITEMS: usize = match option_env!("MWF_BENCH_ITEMS") {
    Some(n) => n.len() * 1_000,
    None => 10_000,
};
const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";

struct Server {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Server {
    fn start(database_url: String) -> Server {
        let jwt = JwtSettings {
            secret: Some(SECRET.as_bytes().to_vec()),
            public_key_files: vec![],
            issuer: "mwf".into(),
            audience: "mwf".into(),
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
            bind: "127.0.0.1:0".into(),
            environment: Environment::Production,
            jwt,
            pool_size: 8,
            workers: 2,
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
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(600)))
            .build()
            .into();
        Server {
            base: format!("http://127.0.0.1:{port}"),
            token,
            agent,
        }
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let mut res = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap();
        let status = res.status().as_u16();
        let text = res
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn run(label: &str, database_url: String) {
    let server = Server::start(database_url);
    let file = mwf::demo::fund_file("KE-MWF").unwrap();
    let (status, _) = server.post("/v1/funds", &serde_json::to_value(json!({
        "code": file.fund.code, "country": file.fund.country, "name": file.fund.name, "currency": file.fund.currency
    })).unwrap());
    assert_eq!(status, 201);
    for version in &file.versions {
        assert_eq!(server.post("/v1/funds/KE-MWF/rules", version).0, 201);
    }
    let workers: Vec<Value> = (0..ITEMS)
        .map(|i| json!({
            "document_type": "passport", "document_number": format!("BENCH{i:06}"), "given_name": "Bench", "family_name": format!("Worker {i}"),
            "date_of_birth": "1990-01-01", "sex": if i % 2 == 0 { "female" } else { "male" },
            "contracts": [{"employer": "Employer", "destination_country": "SA", "start_date": "2026-02-01", "end_date": "2027-01-31"}]
        }))
        .collect();
    let started = Instant::now();
    let (status, enrolled) =
        server.post("/v1/funds/KE-MWF/workers/batch", &json!({"items": workers}));
    let enroll_time = started.elapsed();
    assert_eq!(status, 200, "{enrolled}");
    assert_eq!(enrolled["created"], ITEMS);
    let ids: Vec<String> = enrolled["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["worker_id"].as_str().unwrap().to_string())
        .collect();
    // Contract ids: read each worker back would take long; contracts are needed for
    // Kenya's tiers, so look them up in one listing pass.
    let mut contracts = Vec::with_capacity(ITEMS);
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/funds/KE-MWF/workers?limit=500&after={a}"),
            None => "/v1/funds/KE-MWF/workers?limit=500".to_string(),
        };
        let mut res = server
            .agent
            .get(format!("{}{path}", server.base))
            .header("Authorization", format!("Bearer {}", server.token))
            .call()
            .unwrap();
        let page: Value = serde_json::from_str(
            &res.body_mut()
                .with_config()
                .limit(256 * 1024 * 1024)
                .read_to_string()
                .unwrap(),
        )
        .unwrap();
        for w in page["items"].as_array().unwrap() {
            contracts.push((
                w["id"].as_str().unwrap().to_string(),
                w["contracts"][0]["id"].as_str().unwrap().to_string(),
            ));
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(contracts.len(), ids.len());
    let items: Vec<Value> = contracts
        .iter()
        .enumerate()
        .map(|(i, (worker, contract))| json!({
            "worker_id": worker, "contract_id": contract, "paid_on": "2026-01-20", "amount": "2000.00", "currency": "KES",
            "payers": [{"type": "worker", "amount": "2000.00"}], "external_ref": format!("BENCH-{i}")
        }))
        .collect();
    let started = Instant::now();
    let (status, booked) = server.post(
        "/v1/funds/KE-MWF/contributions/batch",
        &json!({"items": items}),
    );
    let batch_time = started.elapsed();
    assert_eq!(status, 200, "{booked}");
    assert_eq!(booked["created"], ITEMS, "{}", booked["items"][0]);
    println!(
        "{label}: enrollment batch of {ITEMS}: {:.2} s ({:.0} workers/s); contribution batch of {ITEMS}: {:.2} s ({:.0} contributions/s)",
        enroll_time.as_secs_f64(),
        ITEMS as f64 / enroll_time.as_secs_f64(),
        batch_time.as_secs_f64(),
        ITEMS as f64 / batch_time.as_secs_f64()
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    run(
        "SQLite",
        dir.path().join("bench.db").to_string_lossy().to_string(),
    );
    if let Ok(admin) = std::env::var("TEST_DATABASE_URL") {
        let name = format!("mwf_bench_{}", std::process::id());
        let mut conn = mwf::db::establish(&admin).expect("TEST_DATABASE_URL reachable");
        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let base = admin.rsplit_once('/').unwrap().0;
        run("PostgreSQL", format!("{base}/{name}"));
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    } else {
        println!("PostgreSQL: skipped (set TEST_DATABASE_URL=postgres://... to measure it)");
    }
}

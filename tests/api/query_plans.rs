//! Per-record reads and list pages use an index on PostgreSQL, whatever the
//! fund's size: the SQL each request really issues is captured (diesel's
//! instrumentation on the server's own connections, so nothing is copied by
//! hand and nothing can drift), then EXPLAINed with its own bind values on a
//! database of demo funds, ANALYZEd, and no plan may read a big table with a
//! sequential scan. PostgreSQL only: SQLite's planner is another matter (and a
//! plan that uses an index there is what `EXPLAIN QUERY PLAN` would show; not
//! asserted here).

use std::sync::Mutex;

use diesel::connection::SimpleConnection;
use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use diesel::sql_types::Text;
use mwf::demo::{self, DemoOptions};
use mwf::progress::Progress;
use serde_json::Value;

use crate::helpers::{spawn, Response, TestApp};

/// Tables that grow with a fund: a sequential scan of any of them is a read
/// whose cost grows with the fund.
const BIG_TABLES: [&str; 9] = [
    "workers",
    "contracts",
    "dependants",
    "contributions",
    "journal_entries",
    "postings",
    "claims",
    "claim_assessments",
    "audit_log",
];

/// Workers per demo fund: enough rows that PostgreSQL's planner prefers an
/// index wherever one serves the query (six funds, with their history).
const WORKERS_PER_FUND: usize = 400;

/// Copies of each claim, and of each audit record, added to the demo's.
const CLAIM_COPIES: usize = 40;
const AUDIT_COPIES: usize = 5;
/// Copies of each journal entry and posting, under another fund.
const ENTRY_COPIES: usize = 100;

/// Adds `copies` copies of every row of `table`, each with new keys set by
/// `new_keys` (SQL `SET` assignments over the row's columns and the copy number `n`).
fn multiply(conn: &mut PgConnection, table: &str, new_keys: &str, copies: usize) {
    conn.batch_execute(&format!(
        "CREATE TEMP TABLE copies AS SELECT t.*, n FROM {table} t, generate_series(1, {copies}) AS n;
         UPDATE copies SET {new_keys};
         ALTER TABLE copies DROP COLUMN n;
         INSERT INTO {table} SELECT * FROM copies;
         DROP TABLE copies;"
    ))
    .unwrap_or_else(|e| panic!("copies of {table}: {e}"));
}

/// The database whose queries are being captured, and what was captured.
static CAPTURE: Mutex<Option<(String, Vec<String>)>> = Mutex::new(None);

/// Per connection: remembers the database it is connected to, and records its
/// queries while that database is being captured.
struct Recorder {
    database: Option<String>,
}

impl Instrumentation for Recorder {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartEstablishConnection { url, .. } => {
                self.database = url.rsplit('/').next().map(str::to_string);
            }
            InstrumentationEvent::StartQuery { query, .. } => {
                let Ok(mut capture) = CAPTURE.lock() else {
                    return;
                };
                if let Some((database, queries)) = capture.as_mut() {
                    if self.database.as_deref() == Some(database.as_str()) {
                        queries.push(query.to_string());
                    }
                }
            }
            _ => {}
        }
    }
}

fn recorder() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(Recorder { database: None }))
}

/// Runs `request` and returns the SQL the server issued on `app`'s database
/// meanwhile (each `SQL -- binds: [...]`).
fn captured(app: &TestApp, request: impl FnOnce() -> Response) -> (Response, Vec<String>) {
    let database = app.database_url.rsplit('/').next().unwrap().to_string();
    *CAPTURE.lock().unwrap() = Some((database, Vec::new()));
    let res = request();
    let (_, queries) = CAPTURE.lock().unwrap().take().unwrap();
    (res, queries)
}

/// One bind value as diesel's debug output shows it, as a SQL literal.
fn literal(value: &str) -> String {
    let value = value.trim();
    if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        let items: Vec<String> = split_binds(inner)
            .iter()
            .map(|item| match plain(item) {
                Some(text) => format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")),
                None => "NULL".into(),
            })
            .collect();
        return quote(&format!("{{{}}}", items.join(",")));
    }
    match plain(value) {
        Some(text) => quote(&text),
        None => "NULL".into(),
    }
}

/// The text of one debug value: a string unquoted, `Some(x)` and newtypes
/// such as `FundId(6)` unwrapped; `None` for `None`.
fn plain(value: &str) -> Option<String> {
    let value = value.trim();
    if value == "None" {
        return None;
    }
    if let Some((name, inner)) = value.strip_suffix(')').and_then(|v| v.split_once('(')) {
        if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.starts_with(|c: char| c.is_ascii_uppercase())
        {
            return plain(inner);
        }
    }
    Some(unquote(value))
}

/// A Rust debug string (`"..."`) as its text; anything else as it is.
fn unquote(value: &str) -> String {
    let value = value.trim();
    if value.starts_with('"') {
        serde_json::from_str::<String>(value).unwrap_or_else(|_| value.trim_matches('"').into())
    } else {
        value.to_string()
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Splits a debug list's items at top-level commas (outside quotes and brackets).
fn split_binds(list: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
    let mut current = String::new();
    for c in list.chars() {
        if in_string {
            current.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                current.push(c);
            }
            '[' | '(' => {
                depth += 1;
                current.push(c);
            }
            ']' | ')' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => items.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        items.push(current);
    }
    items
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// The plan PostgreSQL chooses for one captured query with its own values.
fn explain(conn: &mut PgConnection, captured: &str) -> Option<String> {
    let (sql, binds) = match captured.rsplit_once(" -- binds: ") {
        Some((sql, binds)) => (sql.trim(), binds.trim()),
        None => (captured.trim(), "[]"),
    };
    let head = sql.trim_start().to_ascii_uppercase();
    if !(head.starts_with("SELECT") || head.starts_with("WITH") || head.starts_with("UPDATE")) {
        return None; // BEGIN, ROLLBACK, SET, INSERT ... VALUES: nothing to scan
    }
    let values: Vec<String> = binds
        .strip_prefix('[')
        .and_then(|b| b.strip_suffix(']'))
        .map(split_binds)
        .unwrap_or_default()
        .iter()
        .map(|v| literal(v))
        .collect();
    conn.batch_execute("DEALLOCATE ALL").unwrap();
    conn.batch_execute(&format!("PREPARE mwf_plan AS {sql}"))
        .unwrap_or_else(|e| panic!("PREPARE {sql}: {e}"));
    let execute = if values.is_empty() {
        "EXPLAIN EXECUTE mwf_plan".to_string()
    } else {
        format!("EXPLAIN EXECUTE mwf_plan({})", values.join(", "))
    };
    let plan: Vec<PlanLine> = diesel::sql_query(&execute)
        .load(conn)
        .unwrap_or_else(|e| panic!("{execute} for {sql}: {e}"));
    Some(
        plan.into_iter()
            .map(|l| l.line)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The big tables a plan reads with a sequential scan.
fn sequential_scans(plan: &str) -> Vec<&'static str> {
    BIG_TABLES
        .iter()
        .copied()
        .filter(|table| {
            plan.lines().any(|line| {
                line.split("Seq Scan on ")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    == Some(*table)
            })
        })
        .collect()
}

/// EXPLAINs what `request` issued and returns the failures, each with its SQL
/// and plan; panics if the request did not answer 200 or issued no query.
fn check(
    app: &TestApp,
    conn: &mut PgConnection,
    what: &str,
    request: impl FnOnce() -> Response,
) -> (Value, Vec<String>) {
    let (res, queries) = captured(app, request);
    assert_eq!(res.status, 200, "{what}: {}", res.text);
    let mut explained = 0;
    let mut failures = Vec::new();
    for query in &queries {
        let Some(plan) = explain(conn, query) else {
            continue;
        };
        explained += 1;
        let scans = sequential_scans(&plan);
        if !scans.is_empty() {
            failures.push(format!(
                "{what}: a sequential scan of {scans:?}\n  {query}\n{plan}\n"
            ));
        }
    }
    assert!(explained > 0, "{what}: no query captured ({queries:?})");
    (res.body, failures)
}

#[test]
fn per_record_reads_and_list_pages_use_an_index_on_postgresql() {
    let app = spawn_capturing();
    let Some(app) = app else {
        println!(
            "skipped on SQLite: the EXPLAIN test of the key queries needs PostgreSQL \
             (set TEST_DATABASE_URL)"
        );
        return;
    };
    let mut loader = app.connection();
    demo::run(
        &mut loader,
        DemoOptions {
            workers_per_fund: WORKERS_PER_FUND,
        },
        &mut Progress::hidden(),
    )
    .expect("the demo runs");
    drop(loader);
    let mut conn = PgConnection::establish(&app.database_url).expect("the test database");
    // The demo books few claims and audit rows per fund: copies (new ids, same
    // worker and fund) make those tables as large as a busy fund's would be.
    multiply(&mut conn, "claims", "id = id || '-' || n", CLAIM_COPIES);
    let assessments = "claim_id = claim_id || '-' || n";
    multiply(&mut conn, "claim_assessments", assessments, CLAIM_COPIES);
    let audit_ids = "id = nextval('audit_log_id_seq')";
    multiply(&mut conn, "audit_log", audit_ids, AUDIT_COPIES);
    // And copies of every entry with its postings, under another fund than
    // the one verified below: a page of one fund's entries is then a small
    // part of the postings, as in any ledger of size (with six small funds a
    // page is a sixth of them, and reading every posting is cheaper).
    let other = "(SELECT min(id) FROM funds WHERE code <> 'KE-MWF')";
    let entry_keys = format!(
        "id = id || '-' || n, fund_id = {other}, \
         sequence = sequence + n * 1000000 + fund_id * 100000, reverses = NULL"
    );
    multiply(&mut conn, "journal_entries", &entry_keys, ENTRY_COPIES);
    let posting_keys = "id = nextval('postings_id_seq'), entry_id = entry_id || '-' || n";
    multiply(&mut conn, "postings", posting_keys, ENTRY_COPIES);
    conn.batch_execute("ANALYZE").unwrap();
    for table in BIG_TABLES {
        let rows: Vec<PlanLine> = diesel::sql_query(format!(
            "SELECT count(*)::text AS \"QUERY PLAN\" FROM {table}"
        ))
        .load(&mut conn)
        .unwrap();
        println!("{table}: {} rows", rows[0].line);
    }
    conn.batch_execute("SET plan_cache_mode = force_custom_plan")
        .unwrap();

    let admin = app.admin();
    let fund = "KE-MWF";
    let get = |path: String| {
        let app = &app;
        let admin = admin.clone();
        move || app.get(&path, &admin)
    };
    let mut failures = Vec::new();
    let mut run = |what: &str, path: String, conn: &mut PgConnection| -> Value {
        let (body, found) = check(&app, conn, what, get(path));
        failures.extend(found);
        body
    };

    // A worker of the fund, with a contract and contributions.
    let page = run(
        "first page of workers",
        format!("/v1/funds/{fund}/workers?limit=20"),
        &mut conn,
    );
    let next = page["next"].as_str().expect("more workers").to_string();
    run(
        "a later page of workers",
        format!("/v1/funds/{fund}/workers?limit=20&after={next}"),
        &mut conn,
    );
    let worker = &page["items"][5];
    let id = worker["id"].as_str().unwrap().to_string();
    let document = worker["document_number"].as_str().unwrap().to_string();
    let contract = worker["contracts"][0]["id"].as_str().unwrap().to_string();
    run("worker by id", format!("/v1/workers/{id}"), &mut conn);
    run(
        "worker by document number",
        format!("/v1/funds/{fund}/workers?document_number={document}"),
        &mut conn,
    );
    // By a prefix of the family name (its given names are found too): a first
    // page and the next, which starts after the last worker of the first.
    let family = worker["family_name"].as_str().unwrap().to_lowercase();
    let prefix: String = family
        .chars()
        .take(3)
        .collect::<String>()
        .replace(' ', "%20");
    let by_name = run(
        "workers by name prefix",
        format!("/v1/funds/{fund}/workers?name={prefix}&limit=3"),
        &mut conn,
    );
    let next = by_name["next"]
        .as_str()
        .expect("more namesakes")
        .to_string();
    run(
        "a later page of workers by name prefix",
        format!("/v1/funds/{fund}/workers?name={prefix}&limit=3&after={next}"),
        &mut conn,
    );
    run(
        "membership",
        format!("/v1/workers/{id}/membership"),
        &mut conn,
    );
    run(
        "a worker's contributions",
        format!("/v1/workers/{id}/contributions"),
        &mut conn,
    );
    run(
        "a worker's claims",
        format!("/v1/workers/{id}/claims"),
        &mut conn,
    );
    run(
        "quote",
        format!("/v1/funds/{fund}/contributions/quote?worker_id={id}&contract_id={contract}"),
        &mut conn,
    );
    for (what, list) in [
        ("contributions", format!("/v1/funds/{fund}/contributions")),
        ("claims", format!("/v1/funds/{fund}/claims")),
        (
            "journal entries",
            format!("/v1/funds/{fund}/journal-entries"),
        ),
        ("audit log", "/v1/audit-log".to_string()),
    ] {
        let page = run(
            &format!("first page of {what}"),
            format!("{list}?limit=20"),
            &mut conn,
        );
        let next = page["next"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: more than one page"))
            .to_string();
        run(
            &format!("a later page of {what}"),
            format!("{list}?limit=20&after={next}"),
            &mut conn,
        );
    }
    // The ledger exports: each page's entries by sequence, then its postings
    // as one range of the postings' `(entry_id, line)` index (or by entry id).
    for format in ["csv", "jsonl"] {
        let what = format!("{format} ledger export");
        let path = format!("/v1/funds/{fund}/exports/ledger?format={format}");
        let (_, queries) = captured(&app, get(path.clone()));
        assert!(
            queries
                .iter()
                .any(|q| q.contains("\"postings\".\"entry_id\" BETWEEN")),
            "{what}: no range of entry ids read: {queries:#?}"
        );
        run(&what, path, &mut conn);
    }
    // A full verification reads whole tables of the fund on purpose; it reads
    // the ledger through the exports' reader, whose reads of each page's
    // postings must be ranges of (or lookups in) the `(entry_id, line)`
    // index, never a scan of every posting of the database.
    let (res, queries) = captured(&app, get(format!("/v1/funds/{fund}/ledger/verify")));
    assert_eq!(res.status, 200, "ledger verification: {}", res.text);
    assert_eq!(res.body["ok"], true, "{}", res.text);
    let mut pages = 0;
    for query in queries
        .iter()
        .filter(|q| q.contains("FROM \"postings\" WHERE (\"postings\".\"entry_id\""))
    {
        let Some(plan) = explain(&mut conn, query) else {
            continue;
        };
        pages += 1;
        if !sequential_scans(&plan).is_empty() || !plan.contains("postings_entry_id_line_key") {
            failures.push(format!(
                "ledger verification: the postings of a page not by the (entry_id, line) index\n  {query}\n{plan}\n"
            ));
        }
    }
    assert!(
        pages > 0,
        "ledger verification read no postings: {queries:?}"
    );
    // One report per statement (a list issues the same one per item).
    let mut seen = std::collections::BTreeSet::new();
    failures.retain(|f| seen.insert(f.split(" -- binds: ").next().unwrap_or(f).to_string()));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The server under test with every new connection instrumented; `None` on SQLite.
fn spawn_capturing() -> Option<TestApp> {
    let postgres = std::env::var("TEST_DATABASE_URL")
        .is_ok_and(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"));
    if !postgres {
        return None;
    }
    set_default_instrumentation(recorder).expect("instrumentation installed");
    Some(spawn())
}

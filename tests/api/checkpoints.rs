//! Verification checkpoints: an ok verification records one; a run since the
//! latest walks only the entries after it; an edit before it is seen only by a
//! full run; a changed hash at it is a CHECKPOINT_MISMATCH. And the ledger
//! export, which holds no pooled connection while its client is slow.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use diesel::connection::SimpleConnection;
use mwf::auth::Role;
use serde_json::Value;

use crate::helpers::{spawn, spawn_with, TestApp, SECRET};

/// Books `n` transfers of 100.00, 200.00, … and answers their ids.
fn book(app: &TestApp, n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| {
            let res = app.transfer(
                "KE-MWF",
                "2026-01-05",
                "1000",
                "3100",
                &format!("{i}00.00"),
                "KES",
            );
            res.expect(201)["id"].as_str().unwrap().to_string()
        })
        .collect()
}

fn verify(app: &TestApp, query: &str, token: &str) -> Value {
    let res = app.get(&format!("/v1/funds/KE-MWF/ledger/verify{query}"), token);
    res.expect(200).clone()
}

fn checkpoints(app: &TestApp) -> Vec<Value> {
    let res = app.get("/v1/funds/KE-MWF/ledger/checkpoints", &app.admin());
    res.expect(200)["items"].as_array().unwrap().clone()
}

/// Lets an intruder with database access change stored entries and postings.
fn drop_guards(app: &TestApp) -> diesel::result::QueryResult<()> {
    let sql = if app.is_postgres() {
        "ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_immutable; \
         ALTER TABLE postings DISABLE TRIGGER postings_immutable;"
    } else {
        "DROP TRIGGER journal_entries_immutable_update; DROP TRIGGER postings_immutable_update;"
    };
    app.connection().batch_execute(sql)
}

fn codes(report: &Value) -> Vec<&str> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect()
}

#[test]
fn an_ok_verification_records_a_checkpoint_and_a_run_since_it_walks_only_new_entries() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    book(&app, 3);
    assert!(checkpoints(&app).is_empty());
    let auditor = app.token_for("audrey", Role::Auditor, &["*"]);
    let full = verify(&app, "", &auditor);
    assert_eq!(full["ok"], true, "{full}");
    assert_eq!(full["entries_checked"], 3);
    assert_eq!(full["from_sequence"], 1);
    assert_eq!(full["checkpoint"], Value::Null);
    let recorded = checkpoints(&app);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let first = &recorded[0];
    assert_eq!(first["sequence"], 3);
    assert_eq!(first["hash"], full["chain_head"]);
    assert_eq!(first["entries_checked"], 3);
    assert_eq!(first["full"], true);
    assert_eq!(first["verified_by"], "audrey");

    book(&app, 2);
    let since = verify(&app, "?since=checkpoint", &app.admin());
    assert_eq!(since["ok"], true, "{since}");
    assert_eq!(since["entries_checked"], 2);
    assert_eq!(since["from_sequence"], 4);
    assert_eq!(since["checkpoint"]["id"], first["id"]);
    assert_eq!(since["checkpoint"]["sequence"], 3);
    assert_eq!(
        since["chain_head"],
        app.get("/v1/funds/KE-MWF", &app.admin()).body["chain_head"]
    );
    let recorded = checkpoints(&app);
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1]["sequence"], 5);
    assert_eq!(recorded[1]["entries_checked"], 2);
    assert_eq!(recorded[1]["full"], false);

    // Nothing new: the run walks no entry and is ok.
    let idle = verify(&app, "?since=checkpoint", &app.admin());
    assert_eq!(idle["ok"], true, "{idle}");
    assert_eq!(idle["entries_checked"], 0);
    assert_eq!(idle["from_sequence"], 6);

    app.get(
        "/v1/funds/KE-MWF/ledger/verify?since=yesterday",
        &app.admin(),
    )
    .assert_problem(400, "INVALID_QUERY");
    let clerk = app.token(Role::Officer, &["UG-MWF"]);
    app.get("/v1/funds/KE-MWF/ledger/checkpoints", &clerk)
        .assert_problem(404, "NOT_FOUND");
}

#[test]
fn a_stored_balance_that_disagrees_with_the_checkpoint_totals_is_seen_by_a_run_since_it() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    book(&app, 2);
    assert_eq!(verify(&app, "", &app.admin())["ok"], true);
    book(&app, 1);
    app.connection()
        .batch_execute(
            "UPDATE accounts SET debits_minor = debits_minor + 1 \
             WHERE code = '1000'",
        )
        .unwrap();
    let since = verify(&app, "?since=checkpoint", &app.admin());
    assert_eq!(since["ok"], false, "{since}");
    assert_eq!(since["entries_checked"], 1);
    let problems = since["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["code"] == "BALANCE_MISMATCH" && p["account"] == "1000"),
        "{since}"
    );
    // A failed run records no checkpoint.
    assert_eq!(checkpoints(&app).len(), 1);
}

#[test]
fn an_edit_before_the_checkpoint_is_seen_by_a_full_run_only() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let ids = book(&app, 3);
    assert_eq!(verify(&app, "", &app.admin())["ok"], true);
    book(&app, 2);
    drop_guards(&app).unwrap();
    app.connection()
        .batch_execute(&format!(
            "UPDATE postings SET amount_minor = 20001 WHERE entry_id = '{}'",
            ids[1]
        ))
        .unwrap();
    let since = verify(&app, "?since=checkpoint", &app.admin());
    assert_eq!(since["ok"], true, "{since}");
    assert_eq!(since["entries_checked"], 2);
    let full = verify(&app, "", &app.admin());
    assert_eq!(full["ok"], false, "{full}");
    assert_eq!(full["entries_checked"], 5);
    let hash = full["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "HASH_MISMATCH")
        .expect("a hash mismatch");
    assert_eq!(hash["entry_id"], ids[1]);
    assert!(codes(&full).contains(&"BALANCE_MISMATCH"), "{full}");
}

#[test]
fn a_changed_hash_at_the_checkpoint_is_a_checkpoint_mismatch_and_the_whole_chain_is_verified() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let ids = book(&app, 3);
    assert_eq!(verify(&app, "", &app.admin())["ok"], true);
    book(&app, 1);
    drop_guards(&app).unwrap();
    app.connection()
        .batch_execute(&format!(
            "UPDATE journal_entries SET hash = '{}' WHERE id = '{}'",
            "f".repeat(64),
            ids[2]
        ))
        .unwrap();
    let since = verify(&app, "?since=checkpoint", &app.admin());
    assert_eq!(since["ok"], false, "{since}");
    let problems = since["problems"].as_array().unwrap();
    let mismatch = problems
        .iter()
        .find(|p| p["code"] == "CHECKPOINT_MISMATCH")
        .expect("a checkpoint mismatch");
    assert_eq!(mismatch["sequence"], 3);
    assert_eq!(mismatch["entry_id"], ids[2]);
    // It fell back to the whole chain, which names the altered entry.
    assert_eq!(since["from_sequence"], 1);
    assert_eq!(since["checkpoint"], Value::Null);
    assert_eq!(since["entries_checked"], 4);
    assert!(problems
        .iter()
        .any(|p| p["code"] == "HASH_MISMATCH" && p["entry_id"] == ids[2]));
    assert_eq!(checkpoints(&app).len(), 1);
}

#[test]
fn a_checkpoint_naming_an_entry_that_is_not_there_is_a_checkpoint_mismatch() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    book(&app, 3);
    assert_eq!(verify(&app, "", &app.admin())["ok"], true);
    // The checkpoint altered to name an entry past the chain's end.
    app.connection()
        .batch_execute("UPDATE verification_checkpoints SET sequence = 99")
        .unwrap();
    let since = verify(&app, "?since=checkpoint", &app.admin());
    assert_eq!(since["ok"], false, "{since}");
    assert_eq!(codes(&since), ["CHECKPOINT_MISMATCH"], "{since}");
    let mismatch = &since["problems"][0];
    assert_eq!(mismatch["entry_id"], Value::Null, "{since}");
    assert!(
        mismatch["detail"]
            .as_str()
            .unwrap()
            .contains("there is no such entry now"),
        "{since}"
    );
    // It fell back to the whole chain, which is intact.
    assert_eq!(since["from_sequence"], 1);
    assert_eq!(since["checkpoint"], Value::Null);
    assert_eq!(since["entries_checked"], 3);
    assert_eq!(checkpoints(&app).len(), 1);
}

#[test]
fn the_verify_command_records_a_checkpoint_and_verifies_since_it() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    book(&app, 2);
    let run = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mwf"));
        for var in [
            "MWF_BIND",
            "MWF_ENV",
            "MWF_JWT_PUBLIC_KEYS",
            "MWF_JWT_ISSUER",
            "MWF_JWT_AUDIENCE",
            "MWF_DB_POOL_SIZE",
        ] {
            command.env_remove(var);
        }
        let out = command
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            .env("MWF_JWT_SECRET", SECRET)
            .env("USER", "ops-nightly")
            .output()
            .expect("the binary runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let full = run(&["verify", "--fund", "KE-MWF"]);
    assert!(full.contains("KE-MWF: 2 entries checked in"), "{full}");
    book(&app, 3);
    let since = run(&["verify", "--fund", "KE-MWF", "--since-checkpoint"]);
    assert!(
        since.contains("KE-MWF: 3 entries checked since checkpoint"),
        "{since}"
    );
    let recorded = checkpoints(&app);
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0]["verified_by"], "ops-nightly");
    assert_eq!(recorded[1]["sequence"], 5);
    assert_eq!(recorded[1]["full"], false);
}

/// Books `n` entries with long memos straight through the ledger (faster than
/// over HTTP): a CSV export of them is far larger than every buffer between
/// the export and a client that reads nothing.
fn book_large(app: &TestApp, n: usize) {
    use mwf::ledger::{Booking, NewEntry, NewPosting, Side};
    let mut conn = app.connection();
    let fund = mwf::funds::find_fund(&mut conn, "KE-MWF").unwrap().unwrap();
    let kes = mwf::money::Currency::parse("KES").unwrap();
    let memo = "m".repeat(10_000);
    mwf::db::write_transaction(&mut conn, |conn| -> Result<(), mwf::error::AppError> {
        let mut booking = Booking::open(conn, fund.id)?;
        for _ in 0..n {
            let posting = |account: &str, side| NewPosting {
                account: account.into(),
                side,
                amount_minor: 100,
                currency: kes,
            };
            booking.post(
                conn,
                NewEntry {
                    effective_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
                    kind: "adjustment",
                    memo: memo.clone(),
                    source: None,
                    created_by: "test".into(),
                    reverses: None,
                    postings: vec![posting("1000", Side::Debit), posting("3100", Side::Credit)],
                },
            )?;
        }
        booking.close(conn)
    })
    .unwrap();
}

/// Sends a ledger export request and reads only the status line and headers.
fn stalled_export(app: &TestApp, token: &str) -> TcpStream {
    let address = app.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /v1/funds/KE-MWF/exports/ledger?format=csv HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the export answers");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    stream
}

#[test]
fn exports_whose_clients_read_nothing_hold_no_pooled_connection() {
    const POOL: u32 = 2;
    let app = spawn_with(|s| s.pool_size = POOL);
    app.create_fund("KE-MWF", "KE", "KES");
    // About 20 kB of CSV an entry: 30 MB, far past the channel, the server's
    // and the socket's buffers.
    book_large(&app, 1_500);
    let auditor = app.token(Role::Auditor, &["*"]);
    // As many exports as the pool has connections, each stalled by a client
    // that stops reading after the headers: a producer holding a connection
    // while it waits for its client would hold them all.
    let stalled: Vec<TcpStream> = (0..POOL).map(|_| stalled_export(&app, &auditor)).collect();
    for _ in 0..POOL {
        let fund = app.get("/v1/funds/KE-MWF", &app.admin());
        assert_eq!(fund.expect(200)["code"], "KE-MWF");
        let accounts = app.get("/v1/funds/KE-MWF/accounts", &app.admin());
        accounts.expect(200);
    }
    drop(stalled);
    // Read to the end (in pages of 500: a client's 10 MB body limit), the
    // export holds every entry once, up to the chain head.
    let mut sequences = Vec::new();
    let mut after = 0;
    loop {
        let res = app.get(
            &format!("/v1/funds/KE-MWF/exports/ledger?format=jsonl&limit=500&after={after}"),
            &auditor,
        );
        assert_eq!(res.status, 200);
        let lines: Vec<Value> = res
            .text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let end = lines.last().unwrap();
        assert_eq!(end["record"], "end");
        assert_eq!(end["chain_head"]["sequence"], 1_500);
        sequences.extend(
            lines
                .iter()
                .filter(|l| l["record"] == "entry")
                .map(|l| l["sequence"].as_i64().unwrap()),
        );
        match end["next_after"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(sequences, (1..=1_500).collect::<Vec<i64>>());
}

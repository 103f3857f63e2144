//! The ledger: balanced entries, guards, reversal, as-of balances, statements,
//! verification and the audit trail.

use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::helpers::spawn;

#[test]
fn an_unbalanced_entry_is_refused_and_nothing_is_written() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    app.post(
        "/v1/funds/KE-MWF/accounts",
        &app.admin(),
        &json!({"code": "1010", "name": "USD cash", "type": "asset", "currency": "USD"}),
    )
    .expect(201);
    let res = app.post(
        "/v1/funds/KE-MWF/journal-entries",
        &app.admin(),
        &json!({"effective_date": "2026-01-05", "memo": "does not balance", "postings": [
            {"account": "1000", "side": "debit", "amount": "100.00", "currency": "KES"},
            {"account": "3100", "side": "credit", "amount": "99.99", "currency": "KES"},
            {"account": "1010", "side": "debit", "amount": "5.00", "currency": "USD"},
            {"account": "3000", "side": "credit", "amount": "5.00", "currency": "KES"}]}),
    );
    let body = res.assert_problem(422, "ENTRY_UNBALANCED");
    let imbalances = body["imbalances"].as_array().unwrap();
    assert_eq!(imbalances.len(), 2, "{body}");
    assert!(
        imbalances.contains(&json!({"currency": "KES", "debits": "100.00", "credits": "104.99"}))
    );
    assert!(imbalances.contains(&json!({"currency": "USD", "debits": "5.00", "credits": "0.00"})));
    assert_eq!(app.get("/v1/funds/KE-MWF", &app.admin()).body["entries"], 0);
    assert_eq!(app.balance("KE-MWF", "1000"), "0.00");
    assert_eq!(
        app.get("/v1/funds/KE-MWF/journal-entries", &app.admin())
            .body["items"],
        json!([])
    );
    // One posting alone is refused too.
    let res = app.post(
        "/v1/funds/KE-MWF/journal-entries",
        &app.admin(),
        &json!({"effective_date": "2026-01-05", "memo": "one", "postings": [
        {"account": "1000", "side": "debit", "amount": "1.00", "currency": "KES"}]}),
    );
    assert_eq!(res.error_fields(), vec!["/postings"]);
}

#[test]
fn postings_must_name_accounts_of_the_fund_in_their_currency() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let res = app.post(
        "/v1/funds/KE-MWF/journal-entries",
        &app.admin(),
        &json!({"effective_date": "2026-01-05", "memo": "m", "postings": [
        {"account": "9999", "side": "debit", "amount": "1.00", "currency": "KES"},
        {"account": "3100", "side": "credit", "amount": "1.00", "currency": "USD"},
        {"account": "1000", "side": "debit", "amount": "1.00", "currency": "USD"}]}),
    );
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(
        res.error_fields(),
        vec![
            "/postings/0/account",
            "/postings/1/currency",
            "/postings/2/currency"
        ]
    );
}

#[test]
fn cash_cannot_be_overdrawn_and_the_refusal_writes_nothing() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    app.transfer("KE-MWF", "2026-01-05", "1000", "3100", "100.00", "KES")
        .expect(201);
    let res = app.transfer("KE-MWF", "2026-01-06", "6100", "1000", "100.01", "KES");
    let body = res.assert_problem(409, "INSUFFICIENT_FUNDS");
    assert_eq!(body["account"], "1000");
    assert_eq!(body["available"], "100.00");
    assert_eq!(app.balance("KE-MWF", "1000"), "100.00");
    assert_eq!(app.balance("KE-MWF", "6100"), "0.00");
    assert_eq!(app.get("/v1/funds/KE-MWF", &app.admin()).body["entries"], 1);
    app.transfer("KE-MWF", "2026-01-06", "6100", "1000", "100.00", "KES")
        .expect(201);
    assert_eq!(app.balance("KE-MWF", "1000"), "0.00");
    // An account that allows negative balances may go below zero.
    app.transfer("KE-MWF", "2026-01-07", "2000", "3000", "10.00", "KES")
        .expect(201);
    assert_eq!(app.balance("KE-MWF", "2000"), "-10.00");
}

#[test]
fn entries_get_gap_free_sequences_and_a_hash_chain() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    app.create_fund("UG-MWF", "UG", "UGX");
    for i in 1..=3 {
        app.transfer(
            "KE-MWF",
            "2026-01-05",
            "1000",
            "3100",
            &format!("{i}.00"),
            "KES",
        )
        .expect(201);
    }
    // A refused entry in between consumes no sequence number.
    app.transfer("KE-MWF", "2026-01-05", "6100", "1000", "1000.00", "KES")
        .assert_problem(409, "INSUFFICIENT_FUNDS");
    app.transfer("UG-MWF", "2026-01-05", "1000", "3100", "500", "UGX")
        .expect(201);
    app.transfer("KE-MWF", "2026-01-05", "1000", "3100", "4.00", "KES")
        .expect(201);
    let entries = app.get("/v1/funds/KE-MWF/journal-entries", &app.admin());
    let items = entries.expect(200)["items"].as_array().unwrap().clone();
    let sequences: Vec<i64> = items
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, vec![1, 2, 3, 4]);
    assert_eq!(items[0]["previous_hash"], "0".repeat(64));
    for pair in items.windows(2) {
        assert_eq!(pair[1]["previous_hash"], pair[0]["hash"]);
    }
    let fund = app.get("/v1/funds/KE-MWF", &app.admin());
    assert_eq!(fund.body["chain_head"], items[3]["hash"]);
    assert_eq!(
        app.get("/v1/funds/UG-MWF/journal-entries", &app.admin())
            .body["items"][0]["sequence"],
        1
    );
    let one = app.get(
        &format!(
            "/v1/funds/KE-MWF/journal-entries/{}",
            items[1]["id"].as_str().unwrap()
        ),
        &app.admin(),
    );
    assert_eq!(one.expect(200)["hash"], items[1]["hash"]);
    // Another fund's entry id is not found through this fund.
    let uganda = app
        .get("/v1/funds/UG-MWF/journal-entries", &app.admin())
        .body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(
        &format!("/v1/funds/KE-MWF/journal-entries/{uganda}"),
        &app.admin(),
    )
    .assert_problem(404, "NOT_FOUND");
}

#[test]
fn an_entry_is_reversed_once_and_only_once() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let entry = app.transfer("KE-MWF", "2026-01-05", "1000", "4200", "250.00", "KES");
    let id = entry.expect(201)["id"].as_str().unwrap().to_string();
    let path = format!("/v1/funds/KE-MWF/journal-entries/{id}/reversal");
    let reversal = app.post(
        &path,
        &app.admin(),
        &json!({"effective_date": "2026-01-06", "memo": "grant returned"}),
    );
    let body = reversal.expect(201);
    assert_eq!(body["reverses"], id);
    assert_eq!(body["kind"], "reversal");
    assert_eq!(
        body["postings"][0],
        json!({"account": "1000", "side": "credit", "amount": "250.00", "currency": "KES"})
    );
    assert_eq!(app.balance("KE-MWF", "1000"), "0.00");
    assert_eq!(app.balance("KE-MWF", "4200"), "0.00");
    let original = app.get(
        &format!("/v1/funds/KE-MWF/journal-entries/{id}"),
        &app.admin(),
    );
    assert_eq!(original.body["reversed_by"], body["id"]);
    let again = app.post(&path, &app.admin(), &json!({"memo": "again"}));
    again.assert_problem(409, "ALREADY_REVERSED");
    assert_eq!(again.body["reversed_by"], body["id"]);
    // A reversal itself is not reversible through this route.
    let reversal_id = body["id"].as_str().unwrap();
    app.post(
        &format!("/v1/funds/KE-MWF/journal-entries/{reversal_id}/reversal"),
        &app.admin(),
        &json!({"memo": "undo undo"}),
    )
    .assert_problem(409, "NOT_REVERSIBLE");
    app.post(
        "/v1/funds/KE-MWF/journal-entries/no-such-entry/reversal",
        &app.admin(),
        &json!({"memo": "x"}),
    )
    .assert_problem(404, "NOT_FOUND");
    assert_eq!(app.get("/v1/funds/KE-MWF", &app.admin()).body["entries"], 2);
}

#[test]
fn racing_reversals_of_one_entry_book_exactly_one() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let id = app
        .transfer("KE-MWF", "2026-01-05", "1000", "4200", "250.00", "KES")
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/funds/KE-MWF/journal-entries/{id}/reversal");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (app, path) = (&app, &path);
                s.spawn(move || {
                    app.post(path, &app.admin(), &json!({"memo": format!("attempt {i}")}))
                        .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(app.get("/v1/funds/KE-MWF", &app.admin()).body["entries"], 2);
    assert_eq!(app.balance("KE-MWF", "1000"), "0.00");
}

#[test]
fn balances_as_of_a_date_include_back_dated_entries_where_they_belong() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    app.transfer("KE-MWF", "2026-03-01", "1000", "3100", "1000.00", "KES")
        .expect(201);
    app.transfer("KE-MWF", "2026-03-10", "6100", "1000", "10.00", "KES")
        .expect(201);
    let before = app.account("KE-MWF", "1000", Some("2026-03-05"));
    assert_eq!(before["balance"], "1000.00");
    assert_eq!(before["as_of"], "2026-03-05");
    // Recorded later, but dated earlier: it belongs to the earlier date.
    app.transfer("KE-MWF", "2026-02-15", "1000", "4200", "500.00", "KES")
        .expect(201);
    assert_eq!(
        app.account("KE-MWF", "1000", Some("2026-02-14"))["balance"],
        "0.00"
    );
    assert_eq!(
        app.account("KE-MWF", "1000", Some("2026-02-15"))["balance"],
        "500.00"
    );
    let march = app.account("KE-MWF", "1000", Some("2026-03-05"));
    assert_eq!(
        (
            march["debits"].as_str(),
            march["credits"].as_str(),
            march["balance"].as_str()
        ),
        (Some("1500.00"), Some("0.00"), Some("1500.00"))
    );
    assert_eq!(
        app.account("KE-MWF", "1000", Some("2026-03-10"))["balance"],
        "1490.00"
    );
    assert_eq!(app.balance("KE-MWF", "1000"), "1490.00");
    assert_eq!(
        app.account("KE-MWF", "4200", Some("2026-03-10"))["balance"],
        "500.00"
    );
}

#[test]
fn a_statement_gives_opening_lines_with_running_balances_and_closing() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    app.transfer("KE-MWF", "2026-01-10", "1000", "3100", "1000.00", "KES")
        .expect(201);
    app.transfer("KE-MWF", "2026-02-03", "6100", "1000", "15.50", "KES")
        .expect(201);
    app.transfer("KE-MWF", "2026-02-20", "1000", "4200", "200.00", "KES")
        .expect(201);
    app.transfer("KE-MWF", "2026-03-02", "1000", "4200", "1.00", "KES")
        .expect(201);
    app.transfer("KE-MWF", "2026-02-01", "1000", "4200", "0.50", "KES")
        .expect(201);
    let res = app.get(
        "/v1/funds/KE-MWF/accounts/1000/statement?from=2026-02-01&to=2026-02-28",
        &app.admin(),
    );
    let s = res.expect(200);
    assert_eq!(s["opening_balance"], "1000.00");
    let lines: Vec<(&str, &str, &str)> = s["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["side"].as_str().unwrap(),
                l["amount"].as_str().unwrap(),
                l["balance"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("debit", "0.50", "1000.50"),
            ("credit", "15.50", "985.00"),
            ("debit", "200.00", "1185.00")
        ]
    );
    assert_eq!(s["closing_balance"], "1185.00");
    assert_eq!(
        app.account("KE-MWF", "1000", Some("2026-02-28"))["balance"],
        "1185.00"
    );
    let income = app.get(
        "/v1/funds/KE-MWF/accounts/4200/statement?from=2026-01-01&to=2026-12-31",
        &app.admin(),
    );
    assert_eq!(income.expect(200)["closing_balance"], "201.50");
    app.get(
        "/v1/funds/KE-MWF/accounts/0000/statement?from=2026-01-01&to=2026-12-31",
        &app.admin(),
    )
    .assert_problem(404, "NOT_FOUND");
}

#[test]
fn verification_passes_on_a_good_ledger_and_names_a_tampered_entry() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let mut ids = Vec::new();
    for (i, date) in ["2026-01-05", "2026-01-06", "2026-01-07"]
        .iter()
        .enumerate()
    {
        let res = app.transfer(
            "KE-MWF",
            date,
            "1000",
            "3100",
            &format!("{}00.00", i + 1),
            "KES",
        );
        ids.push(res.expect(201)["id"].as_str().unwrap().to_string());
    }
    let good = app.get("/v1/funds/KE-MWF/ledger/verify", &app.admin());
    let report = good.expect(200);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["entries_checked"], 3);
    assert_eq!(
        report["chain_head"],
        app.get("/v1/funds/KE-MWF", &app.admin()).body["chain_head"]
    );

    // An intruder with database access disables the immutability guard and edits an amount.
    let mut conn = app.connection();
    let tamper = if app.is_postgres() {
        format!(
            "ALTER TABLE postings DISABLE TRIGGER postings_immutable; \
                 UPDATE postings SET amount_minor = 20001 WHERE entry_id = '{}' AND line = 1;",
            ids[1]
        )
    } else {
        format!(
            "DROP TRIGGER postings_immutable_update; \
                 UPDATE postings SET amount_minor = 20001 WHERE entry_id = '{}' AND line = 1;",
            ids[1]
        )
    };
    conn.batch_execute(&tamper).unwrap();
    let bad = app.get("/v1/funds/KE-MWF/ledger/verify", &app.admin());
    let report = bad.expect(200);
    assert_eq!(report["ok"], false);
    let problems = report["problems"].as_array().unwrap();
    let hash = problems
        .iter()
        .find(|p| p["code"] == "HASH_MISMATCH")
        .expect("a hash mismatch");
    assert_eq!(hash["entry_id"], ids[1]);
    assert_eq!(hash["sequence"], 2);
    assert!(problems
        .iter()
        .any(|p| p["code"] == "ENTRY_UNBALANCED" && p["entry_id"] == ids[1]));
    assert!(problems
        .iter()
        .any(|p| p["code"] == "BALANCE_MISMATCH" && p["account"] == "1000"));
    // Only the altered entry is named: the entries around it still hash correctly.
    assert!(!problems
        .iter()
        .any(|p| p["entry_id"] == ids[0] || p["entry_id"] == ids[2]));
}

#[test]
fn stored_entries_refuse_updates_and_deletes() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    app.transfer("KE-MWF", "2026-01-05", "1000", "3100", "1.00", "KES")
        .expect(201);
    let mut conn = app.connection();
    assert!(conn
        .batch_execute("UPDATE postings SET amount_minor = 5")
        .is_err());
    let mut conn = app.connection();
    assert!(conn.batch_execute("DELETE FROM journal_entries").is_err());
    let report = app.get("/v1/funds/KE-MWF/ledger/verify", &app.admin());
    assert_eq!(report.expect(200)["ok"], true);
}

#[test]
fn every_change_and_every_refusal_is_in_the_audit_log() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let entry = app.transfer("KE-MWF", "2026-01-05", "1000", "3100", "1.00", "KES");
    let id = entry.body["id"].as_str().unwrap().to_string();
    app.transfer("KE-MWF", "2026-01-05", "6100", "1000", "5.00", "KES")
        .assert_problem(409, "INSUFFICIENT_FUNDS");
    let officer = app.token_for("olga", mwf::auth::Role::Officer, &["KE-MWF"]);
    app.post(
        "/v1/funds/KE-MWF/periods/close",
        &officer,
        &json!({"through": "2025-12-31"}),
    )
    .assert_problem(403, "ROLE_NOT_PERMITTED");
    let auditor = app.token(mwf::auth::Role::Auditor, &["*"]);
    let log = app.get("/v1/audit-log", &auditor);
    let items = log.expect(200)["items"].as_array().unwrap().clone();
    let summary: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["actor"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("fund.create", "tester", "succeeded"),
            ("journal_entry.post", "tester", "succeeded"),
            ("journal_entry.post", "tester", "refused:INSUFFICIENT_FUNDS"),
            ("period.close", "olga", "refused:ROLE_NOT_PERMITTED"),
        ]
    );
    assert_eq!(items[1]["target"], format!("journal_entry {id}"));
    assert_eq!(items[1]["fund"], "KE-MWF");
    assert_eq!(items[3]["role"], "officer");
    assert!(items
        .iter()
        .all(|r| !r["request_id"].as_str().unwrap().is_empty()));
    let only_olga = app.get("/v1/audit-log?actor=olga", &auditor);
    assert_eq!(only_olga.body["items"].as_array().unwrap().len(), 1);
    let future = app.get("/v1/audit-log?from=2100-12-31", &auditor);
    assert_eq!(future.body["items"], json!([]));
}

#[test]
fn a_booking_refuses_before_writing_and_writes_balances_once_at_close() {
    use mwf::error::AppError;
    use mwf::ledger::{Booking, NewEntry, NewPosting, Side};
    use mwf::money::Currency;

    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let fund_id = mwf::funds::find_fund(&mut app.connection(), "KE-MWF")
        .unwrap()
        .unwrap()
        .id;
    let kes = Currency::parse("KES").unwrap();
    let entry = |debit: &str, credit: &str, amount: i64| NewEntry {
        effective_date: "2026-01-05".parse().unwrap(),
        kind: "adjustment",
        memo: format!("{debit} {amount}"),
        source: None,
        created_by: "test".into(),
        reverses: None,
        postings: vec![
            NewPosting {
                account: debit.into(),
                side: Side::Debit,
                amount_minor: amount,
                currency: kes,
            },
            NewPosting {
                account: credit.into(),
                side: Side::Credit,
                amount_minor: amount,
                currency: kes,
            },
        ],
    };
    let mut conn = app.connection();
    mwf::db::write_transaction(&mut conn, |conn| -> Result<(), AppError> {
        let mut booking = Booking::open(conn, fund_id)?;
        booking.post(conn, entry("1000", "4200", 100))?;
        // Cash would go negative: refused by prepare, nothing written, no number used.
        let refused = booking
            .prepare(conn, entry("6100", "1000", 101))
            .err()
            .expect("overdraft refused");
        assert_eq!(refused.code(), mwf::error::ErrorCode::InsufficientFunds);
        booking.post(conn, entry("6100", "1000", 40))?;
        assert_eq!(booking.account("1000").unwrap().balance_minor(), 60);
        booking.close(conn)
    })
    .unwrap();
    let entries = app.get("/v1/funds/KE-MWF/journal-entries", &app.admin());
    let memos: Vec<(i64, &str)> = entries.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["sequence"].as_i64().unwrap(), e["memo"].as_str().unwrap()))
        .collect();
    assert_eq!(memos, vec![(1, "1000 100"), (2, "6100 40")]);
    assert_eq!(app.balance("KE-MWF", "1000"), "0.60");
    assert_eq!(app.get("/v1/funds/KE-MWF", &app.admin()).body["entries"], 2);
    assert_eq!(
        app.get("/v1/funds/KE-MWF/ledger/verify", &app.admin()).body["ok"],
        true
    );
}

#[test]
fn verification_during_concurrent_bookings_sees_one_consistent_snapshot() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let done = std::sync::atomic::AtomicBool::new(false);
    let reports: Vec<serde_json::Value> = std::thread::scope(|s| {
        let writers: Vec<_> = (0..3)
            .map(|w| {
                let app = &app;
                s.spawn(move || {
                    for i in 0..30 {
                        app.transfer(
                            "KE-MWF",
                            "2026-01-05",
                            "1000",
                            "4200",
                            &format!("{}.00", w * 100 + i + 1),
                            "KES",
                        )
                        .expect(201);
                    }
                })
            })
            .collect();
        let verifier = s.spawn(|| {
            let mut seen = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                seen.push(app.get("/v1/funds/KE-MWF/ledger/verify", &app.admin()).body);
            }
            seen
        });
        let written: Vec<_> = writers.into_iter().map(|w| w.join()).collect();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let seen = verifier.join().unwrap();
        assert!(written.iter().all(|w| w.is_ok()), "a writer failed");
        seen
    });
    assert!(!reports.is_empty());
    for report in &reports {
        assert_eq!(report["ok"], true, "{report}");
    }
    let last = app.get("/v1/funds/KE-MWF/ledger/verify", &app.admin());
    assert_eq!(last.body["entries_checked"], 90);
}

#[test]
fn cash_cannot_be_overdrawn_as_of_any_date_from_the_entry_on() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    // 1,000 in on 10 January, 3,000 more on 1 June: 4,000 today.
    app.transfer("KE-MWF", "2026-01-10", "1000", "3100", "1000.00", "KES")
        .expect(201);
    app.transfer("KE-MWF", "2026-06-01", "1000", "3100", "3000.00", "KES")
        .expect(201);
    // Today's balance would cover 2,965 dated 1 March, but cash as of
    // 1 March..31 May would read -1,965: refused, naming the first such date.
    let res = app.transfer("KE-MWF", "2026-03-01", "6100", "1000", "2965.00", "KES");
    let body = res.assert_problem(409, "INSUFFICIENT_FUNDS");
    assert_eq!(body["account"], "1000");
    assert_eq!(body["as_of"], "2026-03-01");
    assert_eq!(body["available"], "1000.00");
    assert_eq!(body["currency"], "KES");
    assert_eq!(app.get("/v1/funds/KE-MWF", &app.admin()).body["entries"], 2);
    assert_eq!(
        app.account("KE-MWF", "1000", Some("2026-03-01"))["balance"],
        "1000.00"
    );
    // The same amount dated today is covered on every date from today on.
    let today = mwf::time::today().to_string();
    app.transfer("KE-MWF", &today, "6100", "1000", "2965.00", "KES")
        .expect(201);
    assert_eq!(app.balance("KE-MWF", "1000"), "1035.00");
    // Back-dated, what every later date can spare is accepted...
    app.transfer("KE-MWF", "2026-03-01", "6100", "1000", "1000.00", "KES")
        .expect(201);
    // ...and a cent more is refused even dated before the dip: as of
    // 1 February there would be 999.99 left, as of 1 March -0.01.
    let res = app.transfer("KE-MWF", "2026-02-01", "6100", "1000", "0.01", "KES");
    let body = res.assert_problem(409, "INSUFFICIENT_FUNDS");
    assert_eq!(body["as_of"], "2026-03-01");
    assert_eq!(body["available"], "0.00");
    // Entries that add to cash are never refused by the guard, whatever their date.
    app.transfer("KE-MWF", "2026-01-01", "1000", "3100", "5.00", "KES")
        .expect(201);
    for date in [
        "2026-01-01",
        "2026-01-10",
        "2026-02-01",
        "2026-03-01",
        "2026-05-31",
        "2026-06-01",
        today.as_str(),
    ] {
        let balance = app.account("KE-MWF", "1000", Some(date))["balance"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(!balance.starts_with('-'), "cash as of {date} is {balance}");
    }
    assert_eq!(
        app.account("KE-MWF", "1000", Some("2026-03-01"))["balance"],
        "5.00"
    );
    assert_eq!(app.balance("KE-MWF", "1000"), "40.00");
    app.assert_books_balance("KE-MWF");
}

#[test]
fn the_guard_counts_entries_a_booking_has_not_yet_written() {
    use mwf::error::{AppError, ErrorCode};
    use mwf::ledger::{Booking, NewEntry, NewPosting, Side};
    use mwf::money::Currency;

    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let fund_id = mwf::funds::find_fund(&mut app.connection(), "KE-MWF")
        .unwrap()
        .unwrap()
        .id;
    let kes = Currency::parse("KES").unwrap();
    let entry = |date: &str, debit: &str, credit: &str, amount: i64| NewEntry {
        effective_date: date.parse().unwrap(),
        kind: "adjustment",
        memo: format!("{debit} {amount}"),
        source: None,
        created_by: "test".into(),
        reverses: None,
        postings: vec![
            NewPosting {
                account: debit.into(),
                side: Side::Debit,
                amount_minor: amount,
                currency: kes,
            },
            NewPosting {
                account: credit.into(),
                side: Side::Credit,
                amount_minor: amount,
                currency: kes,
            },
        ],
    };
    let mut conn = app.connection();
    mwf::db::write_transaction(&mut conn, |conn| -> Result<(), AppError> {
        let mut booking = Booking::open(conn, fund_id)?;
        booking.post(conn, entry("2026-01-05", "1000", "4200", 100))?;
        booking.defer_inserts();
        // Kept in memory, not yet in the postings table.
        booking.post(conn, entry("2026-03-01", "1000", "4200", 500))?;
        let refused = booking
            .prepare(conn, entry("2026-02-01", "6100", "1000", 101))
            .err()
            .expect("cash as of February is 100");
        assert_eq!(refused.code(), ErrorCode::InsufficientFunds);
        booking.post(conn, entry("2026-02-01", "6100", "1000", 100))?;
        booking.post(conn, entry("2026-03-02", "6100", "1000", 500))?;
        booking.close(conn)
    })
    .unwrap();
    assert_eq!(app.balance("KE-MWF", "1000"), "0.00");
    assert_eq!(
        app.account("KE-MWF", "1000", Some("2026-02-01"))["balance"],
        "0.00"
    );
    app.assert_books_balance("KE-MWF");
}

/// Each kind of change to stored entries is named by verification: a header
/// field, a posting removed, a whole entry removed (the chain breaks after
/// it), an account's totals; the entries around them still verify.
#[test]
fn verification_names_an_altered_header_a_removed_posting_and_a_removed_entry() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let mut ids = Vec::new();
    for i in 0..6 {
        let res = app.transfer(
            "KE-MWF",
            &format!("2026-01-{:02}", i + 5),
            "1000",
            "3100",
            &format!("{}00.00", i + 1),
            "KES",
        );
        ids.push(res.expect(201)["id"].as_str().unwrap().to_string());
    }
    let report = app
        .get("/v1/funds/KE-MWF/ledger/verify", &app.admin())
        .expect(200)
        .clone();
    assert_eq!(report["ok"], true, "{report}");
    let mut conn = app.connection();
    let unguard = if app.is_postgres() {
        "ALTER TABLE postings DISABLE TRIGGER postings_immutable; \
         ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_immutable;"
    } else {
        "DROP TRIGGER postings_immutable_update; DROP TRIGGER postings_immutable_delete; \
         DROP TRIGGER journal_entries_immutable_update; DROP TRIGGER journal_entries_immutable_delete;"
    };
    conn.batch_execute(&format!(
        "{unguard}
         UPDATE journal_entries SET memo = 'not what was booked' WHERE id = '{memo}';
         UPDATE journal_entries SET recorded_at = '2020-01-01 00:00:00' WHERE id = '{time}';
         DELETE FROM postings WHERE entry_id = '{posting}' AND line = (SELECT MAX(line) FROM postings WHERE entry_id = '{posting}');
         DELETE FROM postings WHERE entry_id = '{gone}';
         DELETE FROM journal_entries WHERE id = '{gone}';",
        memo = ids[0],
        time = ids[1],
        posting = ids[2],
        gone = ids[4],
    ))
    .unwrap();
    let report = app.verify_every_way("KE-MWF");
    assert_eq!(report["ok"], false);
    let problems = report["problems"].as_array().unwrap();
    let has = |code: &str, id: &str| {
        problems
            .iter()
            .any(|p| p["code"] == code && p["entry_id"] == id)
    };
    for altered in &ids[0..3] {
        assert!(has("HASH_MISMATCH", altered), "{altered}: {problems:?}");
    }
    assert!(has("ENTRY_UNBALANCED", &ids[2]), "{problems:?}");
    // The entry after the removed one: a gap, and a link to a hash no entry has.
    assert!(has("SEQUENCE_GAP", &ids[5]), "{problems:?}");
    assert!(has("PREVIOUS_HASH_MISMATCH", &ids[5]), "{problems:?}");
    assert!(problems
        .iter()
        .any(|p| p["code"] == "BALANCE_MISMATCH" && p["account"] == "1000"));
    assert!(problems
        .iter()
        .any(|p| p["code"] == "SUMMARY_MISMATCH" && p["account"] == "1000"));
    // Untouched entries are not named.
    assert!(
        !problems.iter().any(|p| p["entry_id"] == ids[3]),
        "{problems:?}"
    );
}

//! Ledger and audit-log exports: completeness across pages and date ranges,
//! closing balances equal to the API's, the chain, refusals.

use std::collections::{BTreeMap, BTreeSet};

use mwf::auth::Role;
use mwf::ledger::chain::{entry_hash, CanonicalEntry, CanonicalPosting};
use serde_json::{json, Value};

use crate::helpers::{spawn, Response, TestApp};

/// A fund with entries on 2026-01-01 … 2026-01-20, one with three postings.
fn ledger(app: &TestApp) {
    app.create_fund("EX-KE", "KE", "KES");
    for day in 1..=20 {
        let date = format!("2026-01-{day:02}");
        let amount = format!("{}.{:02}", 100 * day, day);
        app.transfer("EX-KE", &date, "1000", "4000", &amount, "KES")
            .expect(201);
    }
    app.post(
        "/v1/funds/EX-KE/journal-entries",
        &app.admin(),
        &json!({"effective_date": "2026-01-15", "memo": "Payout, with \"quotes\"; and a semicolon",
                "postings": [
                    {"account": "5100", "side": "debit", "amount": "70.00", "currency": "KES"},
                    {"account": "6100", "side": "debit", "amount": "0.05", "currency": "KES"},
                    {"account": "1000", "side": "credit", "amount": "70.05", "currency": "KES"}]}),
    )
    .expect(201);
}

fn export(app: &TestApp, query: &str) -> Response {
    app.get(
        &format!("/v1/funds/EX-KE/exports/ledger?{query}"),
        &app.token(Role::Auditor, &["*"]),
    )
}

fn jsonl(res: &Response) -> Vec<Value> {
    assert_eq!(res.status, 200, "{}", res.text);
    res.text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn records<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["record"] == kind).collect()
}

/// (sequence, line) of every posting of a JSON Lines export.
fn jsonl_postings(lines: &[Value]) -> Vec<(i64, i64)> {
    records(lines, "entry")
        .iter()
        .flat_map(|e| {
            let seq = e["sequence"].as_i64().unwrap();
            e["postings"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |p| (seq, p["line"].as_i64().unwrap()))
        })
        .collect()
}

/// The CSV export's rows as maps of column to value.
fn csv_rows(res: &Response) -> Vec<BTreeMap<String, String>> {
    assert_eq!(res.status, 200, "{}", res.text);
    let mut reader = csv::Reader::from_reader(res.text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn csv_postings(rows: &[BTreeMap<String, String>]) -> Vec<(i64, i64)> {
    rows.iter()
        .filter(|r| r["record"] == "posting")
        .map(|r| (r["sequence"].parse().unwrap(), r["line"].parse().unwrap()))
        .collect()
}

fn assert_each_once(parts: Vec<Vec<(i64, i64)>>, all: &[(i64, i64)]) {
    let joined: Vec<(i64, i64)> = parts.into_iter().flatten().collect();
    let unique: BTreeSet<_> = joined.iter().copied().collect();
    assert_eq!(unique.len(), joined.len(), "a posting appears twice");
    assert_eq!(unique, all.iter().copied().collect::<BTreeSet<_>>());
}

#[test]
fn csv_and_jsonl_exports_hold_every_posting_once_across_pages_and_date_ranges() {
    let app = spawn();
    ledger(&app);
    let full = jsonl(&export(&app, "format=jsonl"));
    let all = jsonl_postings(&full);
    assert_eq!(all.len(), 20 * 2 + 3);
    assert_eq!(records(&full, "entry").len(), 21);

    // Pages of 6 entries, following next_after and the Link header.
    let mut pages = Vec::new();
    let mut query = "format=jsonl&limit=6".to_string();
    loop {
        let res = export(&app, &query);
        let lines = jsonl(&res);
        let end = *records(&lines, "end").first().expect("an end record");
        pages.push(jsonl_postings(&lines));
        match end["next_after"].as_i64() {
            Some(after) => {
                assert_eq!(
                    res.header("x-mwf-next-after"),
                    Some(after.to_string().as_str())
                );
                assert!(res
                    .header("link")
                    .unwrap()
                    .contains(&format!("after={after}")));
                assert!(records(&lines, "closing_balance").is_empty());
                query = format!("format=jsonl&limit=6&after={after}");
            }
            None => {
                assert!(!records(&lines, "closing_balance").is_empty());
                break;
            }
        }
    }
    assert_eq!(pages.len(), 4);
    assert_each_once(pages, &all);

    // Date ranges that meet, in CSV, and CSV pages.
    let ranges: Vec<_> = [
        "from=2026-01-01&to=2026-01-09",
        "from=2026-01-10&to=2026-01-15",
        "from=2026-01-16",
    ]
    .iter()
    .map(|r| csv_postings(&csv_rows(&export(&app, &format!("format=csv&{r}")))))
    .collect();
    assert_each_once(ranges, &all);
    let first = csv_rows(&export(&app, "format=csv&limit=15"));
    let rest = csv_rows(&export(&app, "format=csv&after=15"));
    assert_each_once(vec![csv_postings(&first), csv_postings(&rest)], &all);
    // CSV and JSON Lines agree on amounts.
    let csv_all = csv_rows(&export(&app, "format=csv"));
    let csv_amounts: BTreeMap<(String, String), String> = csv_all
        .iter()
        .filter(|r| r["record"] == "posting")
        .map(|r| {
            (
                (r["sequence"].clone(), r["line"].clone()),
                r["amount"].clone(),
            )
        })
        .collect();
    for e in records(&full, "entry") {
        for p in e["postings"].as_array().unwrap() {
            let key = (e["sequence"].to_string(), p["line"].to_string());
            assert_eq!(csv_amounts[&key], p["amount"].as_str().unwrap());
        }
    }
}

#[test]
fn each_exported_entry_rehashes_to_its_hash_and_chains_to_the_head() {
    let app = spawn();
    ledger(&app);
    let res = export(&app, "format=jsonl");
    let lines = jsonl(&res);
    let header = &lines[0];
    assert_eq!(header["record"], "export");
    let head = &header["chain_head"];
    assert_eq!(
        res.header("x-mwf-chain-head").unwrap(),
        format!("{}:{}", head["sequence"], head["hash"].as_str().unwrap())
    );
    let mut previous = mwf::ledger::chain::GENESIS_HASH.to_string();
    for e in records(&lines, "entry") {
        let s = |k: &str| e[k].as_str();
        let postings = e["postings"].as_array().unwrap();
        let canonical = CanonicalEntry {
            fund: "EX-KE",
            sequence: e["sequence"].as_i64().unwrap(),
            id: s("id").unwrap(),
            effective_date: s("effective_date").unwrap().to_string(),
            recorded_at: s("recorded_at").unwrap().to_string(),
            kind: s("kind").unwrap(),
            memo: s("memo").unwrap(),
            source_type: s("source_type"),
            source_id: s("source_id"),
            created_by: s("created_by").unwrap(),
            reverses: s("reverses"),
            postings: postings
                .iter()
                .map(|p| CanonicalPosting {
                    account: p["account"].as_str().unwrap(),
                    side: p["side"].as_str().unwrap(),
                    amount_minor: p["amount_minor"].as_i64().unwrap(),
                    currency: p["currency"].as_str().unwrap(),
                })
                .collect(),
        };
        assert_eq!(s("previous_hash").unwrap(), previous);
        assert_eq!(entry_hash(&previous, &canonical), s("hash").unwrap());
        previous = s("hash").unwrap().to_string();
    }
    assert_eq!(previous, head["hash"].as_str().unwrap());
}

/// The fund's accounts as the API lists them (optionally as of a date).
fn api_accounts(app: &TestApp, as_of: Option<&str>) -> Vec<Value> {
    let query = as_of.map(|d| format!("?as_of={d}")).unwrap_or_default();
    app.get(&format!("/v1/funds/EX-KE/accounts{query}"), &app.admin())
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Account code → balance on its normal side, from the API.
fn api_balances(app: &TestApp, as_of: Option<&str>) -> BTreeMap<String, String> {
    api_accounts(app, as_of)
        .iter()
        .map(|a| {
            (
                a["code"].as_str().unwrap().to_string(),
                a["balance"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Account code → debits − credits, from the API.
fn api_signed(app: &TestApp, as_of: Option<&str>) -> BTreeMap<String, rust_decimal::Decimal> {
    api_accounts(app, as_of)
        .iter()
        .map(|a| {
            let n = |k: &str| {
                a[k].as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            };
            (
                a["code"].as_str().unwrap().to_string(),
                n("debits") - n("credits"),
            )
        })
        .collect()
}

#[test]
fn closing_balances_in_every_format_equal_the_api() {
    let app = spawn();
    ledger(&app);
    for (query, as_of) in [
        ("", None),
        ("&from=2026-01-05&to=2026-01-12", Some("2026-01-12")),
    ] {
        let lines = jsonl(&export(&app, &format!("format=jsonl{query}")));
        let closing: BTreeMap<String, String> = records(&lines, "closing_balance")
            .iter()
            .map(|b| {
                (
                    b["account"].as_str().unwrap().to_string(),
                    b["balance"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(closing, api_balances(&app, as_of), "jsonl{query}");
        let rows = csv_rows(&export(&app, &format!("format=csv{query}")));
        let closing: BTreeMap<String, String> = rows
            .iter()
            .filter(|r| r["record"] == "closing_balance")
            .map(|r| (r["account"].clone(), r["amount"].clone()))
            .collect();
        assert_eq!(closing, api_balances(&app, as_of), "csv{query}");
        assert_eq!(rows.last().unwrap()["record"], "chain_head");

        // beancount: `balance Assets:1000  1099.75 ~ 0.00 KES`, by code.
        let text = export(&app, &format!("format=beancount{query}")).text;
        let names: BTreeMap<String, String> = text
            .lines()
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[0].contains(" open ") && w[1].trim_start().starts_with("code:"))
            .map(|w| {
                let name = w[0].split_whitespace().nth(2).unwrap().to_string();
                let code = w[1].trim().trim_start_matches("code: ").trim_matches('"');
                (name, code.to_string())
            })
            .collect();
        let asserted: BTreeMap<String, rust_decimal::Decimal> = text
            .lines()
            .filter(|l| l.contains(" balance "))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(&f[4..], ["~", "0.00", "KES"], "{l}");
                (names[f[2]].clone(), f[3].parse().unwrap())
            })
            .collect();
        assert_eq!(asserted, api_signed(&app, as_of), "beancount{query}");
        // hledger: `    Assets:1000  0.00 KES = 1099.75 KES` in the closing transaction.
        let text = export(&app, &format!("format=hledger{query}")).text;
        let asserted: BTreeMap<String, rust_decimal::Decimal> = text
            .lines()
            .filter(|l| l.contains(" = "))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let code = f[0].split_once(':').unwrap().1.to_string();
                (code, f[4].parse().unwrap())
            })
            .collect();
        assert_eq!(asserted, api_signed(&app, as_of), "hledger{query}");
    }
    // Opening balances are the API's as of the day before `from`.
    let lines = jsonl(&export(&app, "format=jsonl&from=2026-01-05"));
    let opening: BTreeMap<String, String> = records(&lines, "opening_balance")
        .iter()
        .map(|b| {
            assert_eq!(b["as_of"], "2026-01-04");
            (
                b["account"].as_str().unwrap().to_string(),
                b["balance"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(opening, api_balances(&app, Some("2026-01-04")));
}

#[test]
fn exports_are_for_auditors_and_refuse_bad_requests_before_streaming() {
    let app = spawn();
    ledger(&app);
    app.get(
        "/v1/funds/EX-KE/exports/ledger?format=csv",
        &app.token(Role::Officer, &["*"]),
    )
    .assert_problem(403, "ROLE_NOT_PERMITTED");
    app.get(
        "/v1/funds/EX-KE/exports/ledger?format=csv",
        &app.token(Role::Auditor, &["OTHER"]),
    )
    .assert_problem(404, "NOT_FOUND");
    let res = export(&app, "");
    res.assert_problem(400, "INVALID_QUERY");
    assert!(res.text.contains("format"), "{}", res.text);
    export(&app, "format=xml").assert_problem(400, "INVALID_QUERY");
    let res = export(&app, "format=beancount&limit=10");
    res.assert_problem(400, "INVALID_QUERY");
    assert_eq!(res.error_fields(), vec!["limit"]);
    assert_eq!(res.body["errors"][0]["code"], "not_pageable");
    let res = export(&app, "format=csv&limit=0");
    assert_eq!(res.error_fields(), vec!["limit"]);
    let res = export(&app, "format=csv&from=2026-02-01&to=2026-01-01");
    assert_eq!(res.error_fields(), vec!["to"]);
    let ok = export(&app, "format=beancount");
    assert_eq!(ok.status, 200);
    assert!(ok.content_type.starts_with("text/plain"));
    assert!(ok
        .header("content-disposition")
        .unwrap()
        .contains("EX-KE-ledger-all-all.beancount"));
}

#[test]
fn the_audit_log_exports_every_record_the_filters_select() {
    let app = spawn();
    ledger(&app);
    let officer = app.token_for("olga", Role::Officer, &["*"]);
    app.post(
        "/v1/funds/EX-KE/journal-entries",
        &officer,
        &json!({"effective_date": "2026-01-02", "memo": "not allowed", "postings": []}),
    );
    let auditor = app.token(Role::Auditor, &["*"]);
    let listed = app.get("/v1/audit-log?limit=500", &auditor);
    let listed = listed.expect(200)["items"].as_array().unwrap().clone();
    let res = app.get("/v1/audit-log/export?format=jsonl", &auditor);
    let exported = jsonl(&res);
    assert_eq!(exported.len(), listed.len());
    for (e, l) in exported.iter().zip(&listed) {
        for k in [
            "id",
            "occurred_at",
            "actor",
            "role",
            "action",
            "fund",
            "target",
            "outcome",
            "status",
        ] {
            assert_eq!(e[k], l[k], "{k}");
        }
    }
    let res = app.get("/v1/audit-log/export?format=csv&actor=olga", &auditor);
    let rows = csv_rows(&res);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["actor"], "olga");
    assert_eq!(rows[0]["role"], "officer");
    assert!(rows[0]["outcome"].starts_with("refused:"), "{:?}", rows[0]);
    app.get("/v1/audit-log/export?format=csv", &officer)
        .assert_problem(403, "ROLE_NOT_PERMITTED");
}

#[test]
fn formulas_in_text_cells_are_neutralised_in_csv_exports_and_amounts_stay_numbers() {
    let app = spawn();
    app.create_fund("EX-KE", "KE", "KES");
    let formula = "=HYPERLINK(\"https://example.org/x\",\"open\")";
    let intruder = app.token_for(formula, Role::Admin, &["*"]);
    app.post(
        "/v1/funds/EX-KE/journal-entries",
        &intruder,
        &json!({"effective_date": "2026-01-05", "memo": formula,
                "postings": [
                    {"account": "3100", "side": "debit", "amount": "12.00", "currency": "KES"},
                    {"account": "5000", "side": "credit", "amount": "12.00", "currency": "KES"}]}),
    )
    .expect(201);
    for memo in ["+1 tab", "-2", "@SUM(A1)", "\tx", "\rx"] {
        app.post(
            "/v1/funds/EX-KE/journal-entries",
            &app.admin(),
            &json!({"effective_date": "2026-01-06", "memo": memo,
                    "postings": [
                        {"account": "1000", "side": "debit", "amount": "1.00", "currency": "KES"},
                        {"account": "3100", "side": "credit", "amount": "1.00", "currency": "KES"}]}),
        );
    }
    let rows = csv_rows(&export(&app, "format=csv"));
    let posting = rows
        .iter()
        .find(|r| r["record"] == "posting" && r["sequence"] == "1")
        .unwrap();
    assert_eq!(posting["memo"], format!("'{formula}"));
    assert_eq!(posting["created_by"], format!("'{formula}"));
    for r in rows.iter().filter(|r| r["record"] == "posting") {
        let memo = &r["memo"];
        assert!(
            !memo.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{memo:?} is not neutralised"
        );
    }
    // Amounts are numbers: a negative balance keeps its sign.
    let expense = rows
        .iter()
        .find(|r| r["record"] == "closing_balance" && r["account"] == "5000")
        .unwrap();
    assert_eq!(
        (&expense["amount"][..], &expense["amount_minor"][..]),
        ("-12.00", "-1200")
    );
    // The JSON Lines export carries the text as it is.
    let lines = jsonl(&export(&app, "format=jsonl"));
    assert_eq!(records(&lines, "entry")[0]["memo"], formula);

    let auditor = app.token(Role::Auditor, &["*"]);
    let res = app.get("/v1/audit-log/export?format=csv", &auditor);
    let rows = csv_rows(&res);
    assert!(
        rows.iter().any(|r| r["actor"] == format!("'{formula}")),
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| !r["actor"].starts_with('=')));
    let res = app.get("/v1/audit-log/export?format=jsonl", &auditor);
    assert!(jsonl(&res).iter().any(|r| r["actor"] == formula));
}

/// Books `n` entries straight through the ledger (faster than over HTTP), on
/// days through 2026, with memos that need quoting or escaping in every way
/// and every seventh entry with three postings.
fn book_many(app: &TestApp, n: usize) {
    use mwf::ledger::{Booking, NewEntry, NewPosting, Side};
    let mut conn = app.connection();
    let fund = mwf::funds::find_fund(&mut conn, "EX-KE").unwrap().unwrap();
    let kes = mwf::money::Currency::parse("KES").unwrap();
    let memos = [
        "plain",
        "a, comma",
        "say \"hi\"",
        "two\nlines",
        "crlf\r\nend",
        "=1+1",
        "-minus",
        "back\\slash",
        "tab\tand \u{1} control",
        "é ü 中文 🙂",
        "",
    ];
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    mwf::db::write_transaction(&mut conn, |conn| -> Result<(), mwf::error::AppError> {
        let mut booking = Booking::open(conn, fund.id)?;
        for i in 0..n {
            let posting = |account: &str, side, amount_minor| NewPosting {
                account: account.into(),
                side,
                amount_minor,
                currency: kes,
            };
            let amount = 1 + (i as i64 * 7919) % 1_000_000;
            let postings = if i % 7 == 0 {
                vec![
                    posting("1000", Side::Debit, amount + 5),
                    posting("4000", Side::Credit, amount),
                    posting("4100", Side::Credit, 5),
                ]
            } else {
                vec![
                    posting("1000", Side::Debit, amount),
                    posting("4000", Side::Credit, amount),
                ]
            };
            booking.post(
                conn,
                NewEntry {
                    effective_date: start + chrono::Days::new((i * 365 / n) as u64),
                    kind: "adjustment",
                    memo: format!("{} {i}", memos[i % memos.len()]),
                    source: None,
                    created_by: memos[i % 3].into(),
                    reverses: None,
                    postings,
                },
            )?;
        }
        booking.close(conn)
    })
    .unwrap();
}

/// The lines of an export between its header and its closing records, as
/// they are: each JSON Lines `entry` record, each CSV `posting` row (a row
/// may span lines inside a quoted memo, so CSV is cut at rows that start a
/// posting).
fn entry_text(format: &str, text: &str) -> String {
    match format {
        "jsonl" => text
            .lines()
            .filter(|l| l.starts_with("{\"record\":\"entry\""))
            .map(|l| format!("{l}\n"))
            .collect(),
        _ => {
            let start = text.find("\nposting,").map_or(text.len(), |i| i + 1);
            let end = text
                .find("\nclosing_balance,")
                .or_else(|| text.find("\nchain_head,"));
            text[start..end.map_or(text.len(), |i| i + 1)].to_string()
        }
    }
}

#[test]
fn a_large_export_is_its_pages_put_together_byte_for_byte() {
    let app = spawn();
    app.create_fund("EX-KE", "KE", "KES");
    // More entries than the exporter reads at once, so that both the whole
    // export and its pages cross the reader's page boundaries.
    let n = 12_000;
    book_many(&app, n);
    for format in ["jsonl", "csv"] {
        let whole = export(&app, &format!("format={format}"));
        assert_eq!(whole.status, 200, "{}", whole.text);
        let mut pages = String::new();
        let mut query = format!("format={format}&limit=4999");
        let mut count = 0;
        loop {
            let page = export(&app, &query);
            assert_eq!(page.status, 200, "{}", page.text);
            pages.push_str(&entry_text(format, &page.text));
            count += 1;
            match page.header("x-mwf-next-after") {
                Some(after) => query = format!("format={format}&limit=4999&after={after}"),
                None => break,
            }
        }
        assert_eq!(count, 3);
        let all = entry_text(format, &whole.text);
        assert!(all == pages, "{format}: the pages differ from the whole");
        let records = match format {
            "jsonl" => all.lines().count(),
            _ => csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(all.as_bytes())
                .records()
                .count(),
        };
        let postings = n * 2 + n.div_ceil(7);
        assert_eq!(records, if format == "jsonl" { n } else { postings });
    }
    // Every CSV row reads back and writes again to the same bytes with the
    // csv crate (quoting, doubled quotes, line breaks inside cells).
    let text = export(&app, "format=csv").text;
    let mut rewritten = csv::Writer::from_writer(Vec::new());
    for row in csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
    {
        rewritten.write_record(&row.unwrap()).unwrap();
    }
    assert!(String::from_utf8(rewritten.into_inner().unwrap()).unwrap() == text);
    // Every JSON Lines entry record reads back to the memo it was booked with.
    let lines = jsonl(&export(&app, "format=jsonl"));
    let entries = records(&lines, "entry");
    assert_eq!(entries[9]["memo"], "é ü 中文 🙂 9");
    assert_eq!(entries[8]["memo"], "tab\tand \u{1} control 8");
    assert_eq!(entries[4]["memo"], "crlf\r\nend 4");
}

/// Books one entry of `amount_minor` (1000 from 4000) in `fund`, in its own
/// transaction, with memo `memo`.
fn book_one(
    conn: &mut mwf::db::DbConnection,
    fund: &mwf::funds::Fund,
    amount_minor: i64,
    memo: String,
) {
    use mwf::ledger::{Booking, NewEntry, NewPosting, Side};
    let kes = mwf::money::Currency::parse("KES").unwrap();
    let posting = |account: &str, side| NewPosting {
        account: account.into(),
        side,
        amount_minor,
        currency: kes,
    };
    mwf::db::write_transaction(conn, |conn| -> Result<(), mwf::error::AppError> {
        let mut booking = Booking::open(conn, fund.id)?;
        booking.post(
            conn,
            NewEntry {
                effective_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                kind: "adjustment",
                memo,
                source: None,
                created_by: "test".into(),
                reverses: None,
                postings: vec![posting("1000", Side::Debit), posting("4000", Side::Credit)],
            },
        )?;
        booking.close(conn)
    })
    .unwrap();
}

#[test]
fn a_fund_booked_among_a_busier_one_exports_all_and_only_its_own_postings() {
    // Entry ids follow the order of booking, so on PostgreSQL a page's
    // postings are read as one range of the postings' index: here the quiet
    // fund's range holds far more of the busy fund's postings than its own
    // (its pages are looked up by id instead), and the busy fund's holds
    // some of the quiet one's (left out).
    let app = spawn();
    app.create_fund("EX-KE", "KE", "KES");
    app.create_fund("EX-BUSY", "KE", "KES");
    let mut conn = app.connection();
    let quiet = mwf::funds::find_fund(&mut conn, "EX-KE").unwrap().unwrap();
    let busy = mwf::funds::find_fund(&mut conn, "EX-BUSY")
        .unwrap()
        .unwrap();
    let (rounds, per_round) = (40, 25);
    for round in 0..rounds {
        book_one(
            &mut conn,
            &quiet,
            1_000_000 + round,
            format!("quiet {round}"),
        );
        for i in 0..per_round {
            let n = round * per_round + i;
            book_one(&mut conn, &busy, 2_000_000 + n, format!("busy {n}"));
        }
    }
    let auditor = app.token(Role::Auditor, &["*"]);
    for (fund, name, base, n) in [
        ("EX-KE", "quiet", 1_000_000, rounds),
        ("EX-BUSY", "busy", 2_000_000, rounds * per_round),
    ] {
        let lines = jsonl(&app.get(
            &format!("/v1/funds/{fund}/exports/ledger?format=jsonl"),
            &auditor,
        ));
        let entries = records(&lines, "entry");
        assert_eq!(entries.len() as i64, n, "{fund}");
        for (i, e) in entries.iter().enumerate() {
            let i = i as i64;
            assert_eq!(e["sequence"], i + 1, "{fund}");
            assert_eq!(e["memo"], format!("{name} {i}"), "{fund}");
            let postings: Vec<(i64, i64)> = e["postings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["line"].as_i64().unwrap(),
                        p["amount_minor"].as_i64().unwrap(),
                    )
                })
                .collect();
            assert_eq!(
                postings,
                [(1, base + i), (2, base + i)],
                "{fund} entry {}",
                i + 1
            );
        }
        let rows = csv_rows(&app.get(
            &format!("/v1/funds/{fund}/exports/ledger?format=csv"),
            &auditor,
        ));
        let postings = csv_postings(&rows);
        let expected: Vec<(i64, i64)> = (1..=n).flat_map(|s| [(s, 1), (s, 2)]).collect();
        assert_eq!(postings, expected, "{fund}");
    }
}

/// `mwf export` writes what the API streams: the same CSV byte for byte, the
/// same JSON Lines but the time each was made; and says what it wrote.
#[test]
fn the_export_command_writes_what_the_api_streams() {
    let app = spawn();
    ledger(&app);
    let dir = tempfile::tempdir().unwrap();
    let run = |format: &str| -> String {
        let path = dir.path().join(format!("ledger.{format}"));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mwf"))
            .args(["export", "--fund", "EX-KE", "--format", format, "-o"])
            .arg(&path)
            .env("DATABASE_URL", &app.database_url)
            .env_remove("MWF_DB_POOL_SIZE")
            .output()
            .expect("the binary runs");
        let said = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{said}");
        assert!(
            said.contains("EX-KE: 21 entries, 43 postings written to"),
            "{said}"
        );
        std::fs::read_to_string(path).unwrap()
    };
    let api = export(&app, "format=csv");
    assert_eq!(api.status, 200, "{}", api.text);
    assert_eq!(run("csv"), api.text);
    let without_time = |text: &str| -> Vec<Value> {
        text.lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                if let Some(o) = v.as_object_mut() {
                    o.remove("generated_at");
                }
                v
            })
            .collect()
    };
    let written = without_time(&run("jsonl"));
    assert!(records(&written, "entry").len() == 21, "{written:?}");
    assert_eq!(written, without_time(&export(&app, "format=jsonl").text));
}

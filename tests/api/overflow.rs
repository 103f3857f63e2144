//! No sum in the ledger can overflow: bookings that would take an account's
//! totals past the documented limit are refused, and verification reports
//! totals past it (or postings that overflow) instead of saying OK.

use diesel::connection::SimpleConnection;
use mwf::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp};

/// The per-posting maximum and the per-account limit (9 × 10^15 minor units), in KES.
const MAX_POSTING: &str = "10000000000000.00";
const ACCOUNT_LIMIT: &str = "90000000000000.00";

fn entry(app: &TestApp, postings: Vec<Value>) -> crate::helpers::Response {
    app.post(
        "/v1/funds/OV-KE/journal-entries",
        &app.admin(),
        &json!({"effective_date": "2026-01-05", "memo": "large", "postings": postings}),
    )
}

fn postings(debit: &str, credit: &str, each_side: usize, amount: &str) -> Vec<Value> {
    let mut p = Vec::new();
    for _ in 0..each_side {
        p.push(json!({"account": debit, "side": "debit", "amount": amount, "currency": "KES"}));
        p.push(json!({"account": credit, "side": "credit", "amount": amount, "currency": "KES"}));
    }
    p
}

fn line<'a>(body: &'a Value, key: &str, code: &str) -> &'a Value {
    body[key]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["account"] == code || l["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {body}"))
}

#[test]
fn entries_of_maximum_postings_are_refused_at_the_account_limit_and_every_figure_stays_exact() {
    let app = spawn();
    app.create_fund("OV-KE", "KE", "KES");
    // Nine maximum postings take account 5000's debits exactly to the limit.
    entry(&app, postings("5000", "3100", 9, MAX_POSTING)).expect(201);

    // The probe of the issue: entries of 100 postings at the maximum. Every one
    // is refused, naming the account and the limit, and books nothing.
    for _ in 0..100 {
        let res = entry(&app, postings("5000", "6000", 50, MAX_POSTING));
        let body = res.assert_problem(422, "AMOUNT_LIMIT_EXCEEDED");
        assert_eq!(body["account"], "5000", "{body}");
        assert_eq!(body["side"], "debit", "{body}");
        assert_eq!(body["limit"], ACCOUNT_LIMIT, "{body}");
        assert_eq!(body["currency"], "KES", "{body}");
        assert!(body["detail"].as_str().unwrap().contains(ACCOUNT_LIMIT));
    }
    // One more cent of debit is refused; a credit to the same account is not
    // (the limit is on each side's total).
    let res = app.transfer("OV-KE", "2026-01-05", "5000", "3000", "0.01", "KES");
    res.assert_problem(422, "AMOUNT_LIMIT_EXCEEDED");
    app.transfer("OV-KE", "2026-01-06", "3000", "5000", "0.01", "KES")
        .expect(201);
    // A credit total at the limit refuses further credits, whatever the account.
    let res = app.transfer("OV-KE", "2026-01-06", "6000", "3100", "0.01", "KES");
    let body = res.assert_problem(422, "AMOUNT_LIMIT_EXCEEDED");
    assert_eq!(
        (&body["account"], &body["side"]),
        (&json!("3100"), &json!("credit"))
    );

    let expense = app.account("OV-KE", "5000", None);
    assert_eq!(
        (&expense["debits"], &expense["credits"], &expense["balance"]),
        (
            &json!(ACCOUNT_LIMIT),
            &json!("0.01"),
            &json!("89999999999999.99")
        )
    );
    let as_of = app.account("OV-KE", "5000", Some("2026-01-05"));
    assert_eq!(as_of["balance"], ACCOUNT_LIMIT);
    let tb = app.get(
        "/v1/funds/OV-KE/reports/trial-balance?as_of=2026-01-31",
        &app.token(Role::Auditor, &["*"]),
    );
    let tb = tb.expect(200);
    assert_eq!(
        tb["totals"],
        json!([{"currency": "KES", "debits": "90000000000000.01", "credits": "90000000000000.01",
                "debit_balances": ACCOUNT_LIMIT, "credit_balances": ACCOUNT_LIMIT,
                "balanced": true}])
    );
    assert_eq!(line(tb, "lines", "5000")["balance"], "89999999999999.99");
    let statement = app.get(
        "/v1/funds/OV-KE/accounts/5000/statement?from=2026-01-01&to=2026-01-31",
        &app.admin(),
    );
    assert_eq!(
        statement.expect(200)["closing_balance"],
        "89999999999999.99"
    );
    let csv = app.get(
        "/v1/funds/OV-KE/exports/ledger?format=csv",
        &app.token(Role::Auditor, &["*"]),
    );
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(
        csv.text.contains(
            "closing_balance,OV-KE,,,2026-01-06,,,,,,,,,,,5000,Benefit expense: other,expense,debit,89999999999999.99,8999999999999999,KES"
        ),
        "{}",
        csv.text
    );
    app.assert_books_balance("OV-KE");
}

/// Disables the immutability triggers of postings, as an intruder would.
fn disable_posting_triggers(app: &TestApp) -> &'static str {
    if app.is_postgres() {
        "ALTER TABLE postings DISABLE TRIGGER postings_immutable;"
    } else {
        "DROP TRIGGER postings_immutable_update;"
    }
}

fn problems_of(app: &TestApp, account: &str) -> Vec<String> {
    let res = app.get("/v1/funds/OV-KE/ledger/verify", &app.admin());
    let report = res.expect(200);
    assert_eq!(report["ok"], false, "{report}");
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["account"] == account)
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn verification_names_an_account_whose_totals_pass_the_limit_or_overflow() {
    let app = spawn();
    app.create_fund("OV-KE", "KE", "KES");
    let first = app
        .transfer("OV-KE", "2026-01-05", "1000", "3100", "100.00", "KES")
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let second = app
        .transfer("OV-KE", "2026-01-06", "1000", "3100", "100.00", "KES")
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Stored totals pushed past the limit: reported, and no booking adds to them.
    let mut conn = app.connection();
    conn.batch_execute("UPDATE accounts SET debits_minor = 9000000000000001 WHERE code = '1000'")
        .unwrap();
    let problems = problems_of(&app, "1000");
    assert!(
        problems.contains(&"AMOUNT_LIMIT_EXCEEDED".to_string()),
        "{problems:?}"
    );
    assert!(
        problems.contains(&"BALANCE_MISMATCH".to_string()),
        "{problems:?}"
    );
    let res = app.transfer("OV-KE", "2026-01-07", "1000", "3100", "1.00", "KES");
    let body = res.assert_problem(422, "AMOUNT_LIMIT_EXCEEDED");
    assert_eq!(body["account"], "1000");

    // Postings altered to add up beyond 64 bits, and stored totals set to the
    // wrapped sum (what unchecked addition would have kept): verification
    // reports the overflow instead of agreeing with the wrapped figure.
    conn.batch_execute(&format!(
        "{} UPDATE postings SET amount_minor = 5000000000000000000 \
         WHERE entry_id IN ('{first}', '{second}'); \
         UPDATE accounts SET debits_minor = {wrapped} WHERE code = '1000'; \
         UPDATE accounts SET credits_minor = {wrapped} WHERE code = '3100';",
        disable_posting_triggers(&app),
        wrapped = 10_000_000_000_000_000_000u64 as i64,
    ))
    .unwrap();
    for account in ["1000", "3100"] {
        let problems = problems_of(&app, account);
        assert!(
            problems.contains(&"AMOUNT_LIMIT_EXCEEDED".to_string()),
            "{problems:?}"
        );
    }
}

#[test]
fn a_fund_s_postings_in_a_currency_are_refused_past_the_fund_limit() {
    let app = spawn();
    app.create_fund("OV-KE", "KE", "KES");
    // A thousand accounts at the account limit on both sides: the fund's KES
    // postings then add up to 9 × 10^18 on each side, the fund limit.
    let codes: Vec<String> = (0..1000).map(|i| format!("9{i:03}")).collect();
    for code in &codes {
        app.post(
            "/v1/funds/OV-KE/accounts",
            &app.admin(),
            &json!({"code": code, "name": "Suspense", "type": "equity", "currency": "KES"}),
        )
        .expect(201);
    }
    for chunk in codes.chunks(11) {
        let mut p = Vec::new();
        for code in chunk {
            for _ in 0..9 {
                p.extend(postings(code, code, 1, MAX_POSTING));
            }
        }
        entry(&app, p).expect(201);
    }
    let res = app.transfer("OV-KE", "2026-01-06", "1000", "3100", "0.01", "KES");
    let body = res.assert_problem(422, "AMOUNT_LIMIT_EXCEEDED");
    assert_eq!(body["limit"], "90000000000000000.00", "{body}");
    assert_eq!(body["currency"], "KES");
    assert!(body.get("account").is_none(), "{body}");

    let tb = app.get(
        "/v1/funds/OV-KE/reports/trial-balance?as_of=2026-01-31",
        &app.token(Role::Auditor, &["*"]),
    );
    assert_eq!(
        tb.expect(200)["totals"],
        json!([{"currency": "KES", "debits": "90000000000000000.00", "credits": "90000000000000000.00",
                "debit_balances": "0.00", "credit_balances": "0.00", "balanced": true}])
    );
    app.assert_books_balance("OV-KE");
}

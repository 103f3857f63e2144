//! Summaries kept beside the records: each account's daily totals
//! (`account_daily_totals`), which the trial balance, balances as of a date and
//! a statement's opening balance read, agree with the journal after random
//! bookings, reversals, back-dated entries and a period close; and
//! verification (the API and `mwf verify`) names a daily total altered by hand.
//! The seed is printed; `MWF_SUMMARY_SEED` repeats a run.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use diesel::connection::SimpleConnection;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp};

const FUND: &str = "KE-MWF";

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A random day from `from` to `to` inclusive.
fn day_between(rng: &mut fastrand::Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days() as u64;
    from + Days::new(rng.u64(0..=span))
}

/// A random amount from 1.00 to 5000.00 KES.
fn amount(rng: &mut fastrand::Rng) -> String {
    let minor = rng.u64(100..=500_000);
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn id(res: &Value) -> String {
    res["id"].as_str().unwrap().to_string()
}

/// Every posting of the fund's journal, read through the API page by page:
/// (effective date, account code, debit?, amount).
fn journal(app: &TestApp) -> Vec<(NaiveDate, String, bool, Decimal)> {
    let mut postings = Vec::new();
    let mut path = format!("/v1/funds/{FUND}/journal-entries?limit=100");
    loop {
        let res = app.get(&path, &app.admin());
        let page = res.expect(200);
        for entry in page["items"].as_array().unwrap() {
            let day = date(entry["effective_date"].as_str().unwrap());
            for p in entry["postings"].as_array().unwrap() {
                postings.push((
                    day,
                    p["account"].as_str().unwrap().to_string(),
                    p["side"] == "debit",
                    p["amount"].as_str().unwrap().parse::<Decimal>().unwrap(),
                ));
            }
        }
        match page.get("next").and_then(Value::as_str) {
            Some(next) => path = format!("/v1/funds/{FUND}/journal-entries?limit=100&after={next}"),
            None => return postings,
        }
    }
}

/// Debits and credits per account from the journal, of the postings dated on
/// or before `as_of` (`inclusive`) or before it.
fn totals(
    journal: &[(NaiveDate, String, bool, Decimal)],
    as_of: NaiveDate,
    inclusive: bool,
) -> BTreeMap<String, (Decimal, Decimal)> {
    let mut totals: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for (day, account, debit, amount) in journal {
        if *day < as_of || (inclusive && *day == as_of) {
            let t = totals.entry(account.clone()).or_default();
            if *debit {
                t.0 += amount;
            } else {
                t.1 += amount;
            }
        }
    }
    totals
}

/// The trial balance as of `as_of` and the accounts' balances as of it are
/// what the journal says; so is the cash account's statement opening.
#[track_caller]
fn assert_reports_match_journal(app: &TestApp, as_of: NaiveDate) {
    let journal = journal(app);
    let expected = totals(&journal, as_of, true);
    let res = app.get(
        &format!("/v1/funds/{FUND}/reports/trial-balance?as_of={as_of}"),
        &app.admin(),
    );
    let lines = res.expect(200)["lines"].as_array().unwrap().clone();
    assert!(!lines.is_empty());
    let accounts = app.get(
        &format!("/v1/funds/{FUND}/accounts?as_of={as_of}"),
        &app.admin(),
    );
    let accounts = accounts.expect(200)["items"].as_array().unwrap().clone();
    for line in &lines {
        let code = line["account"].as_str().unwrap();
        let (debits, credits) = expected.get(code).copied().unwrap_or_default();
        let read = |v: &Value| v.as_str().unwrap().parse::<Decimal>().unwrap();
        assert_eq!(
            (read(&line["debits"]), read(&line["credits"])),
            (debits, credits),
            "trial balance of account {code} as of {as_of}"
        );
        let account = accounts
            .iter()
            .find(|a| a["code"] == code)
            .unwrap_or_else(|| panic!("account {code} listed"));
        assert_eq!(
            (read(&account["debits"]), read(&account["credits"])),
            (debits, credits),
            "account {code} as of {as_of}"
        );
    }
    // The statement of cash from `as_of` opens at the balance of the day before.
    let before = totals(&journal, as_of, false);
    let (debits, credits) = before.get("1000").copied().unwrap_or_default();
    let statement = app.get(
        &format!("/v1/funds/{FUND}/accounts/1000/statement?from={as_of}&to={as_of}"),
        &app.admin(),
    );
    let opening: Decimal = statement.expect(200)["opening_balance"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(opening, debits - credits, "cash opening on {as_of}");
}

/// Cash in from equity (3100) dated `day`; the entry's id.
fn transfer(app: &TestApp, day: NaiveDate, amount: &str) -> String {
    let res = app.transfer(FUND, &day.to_string(), "1000", "3100", amount, "KES");
    id(res.expect(201))
}

/// Reverses the entry `entry`, dated `day`.
fn reverse(app: &TestApp, entry: &str, day: NaiveDate) -> crate::helpers::Response {
    app.post(
        &format!("/v1/funds/{FUND}/journal-entries/{entry}/reversal"),
        &app.admin(),
        &json!({"effective_date": day, "memo": "random reversal"}),
    )
}

#[test]
fn daily_totals_agree_with_the_journal_and_verification_names_one_altered_by_hand() {
    let seed = std::env::var("MWF_SUMMARY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("MWF_SUMMARY_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let today = mwf::time::today();
    let app = spawn();
    app.load_fund(FUND);
    // Cash enough for every reversal and claim below, never reversed.
    transfer(&app, date("2025-01-02"), "1000000.00");

    // Before the close: transfers on random days of 2025 and early 2026 (each
    // back-dated against some booked before it), and reversals of some of them
    // dated from their own day on.
    let mut open: Vec<(String, NaiveDate)> = Vec::new();
    for _ in 0..12 {
        let day = day_between(&mut rng, date("2025-02-01"), date("2026-03-31"));
        open.push((transfer(&app, day, &amount(&mut rng)), day));
    }
    for _ in 0..3 {
        let (entry, day) = open.swap_remove(rng.usize(..open.len()));
        let on = day_between(&mut rng, day, day.max(date("2026-03-31")));
        reverse(&app, &entry, on).expect(201);
    }
    // Contributions paid on random days before the contracts start; one reversed.
    let mut workers = Vec::new();
    for n in 0..4 {
        let (worker, contract) =
            app.enroll(FUND, &format!("KE-SUM-{n}"), ("2026-02-01", "2028-07-31"));
        let paid_on = day_between(&mut rng, date("2026-01-02"), date("2026-01-31"));
        let res = app.contribute(
            FUND,
            &worker,
            Some(&contract),
            &paid_on.to_string(),
            ("3000.00", "KES", "3000.00"),
        );
        workers.push((worker, id(res.expect(201))));
    }
    let (_, bounced) = workers.pop().unwrap();
    app.post(
        &format!("/v1/contributions/{bounced}/reversal"),
        &app.admin(),
        &json!({"reason": "The bank returned the payment"}),
    )
    .expect(200);
    // Claims approved and paid.
    for (worker, _) in &workers[..2] {
        app.paid_claim(worker, &amount(&mut rng), today);
    }
    for as_of in ["2025-01-01", "2025-01-02", "2025-06-30", "2025-12-31"] {
        assert_reports_match_journal(&app, date(as_of));
    }

    // The period through 2025 closes; nothing may be dated in it any more.
    app.post(
        &format!("/v1/funds/{FUND}/periods/close"),
        &app.admin(),
        &json!({"through": "2025-12-31"}),
    )
    .expect(200);
    let refused = app.transfer(FUND, "2025-12-15", "1000", "3100", "10.00", "KES");
    refused.assert_problem(409, "PERIOD_CLOSED");
    if let Some((entry, _)) = open.iter().find(|(_, day)| *day < date("2025-12-31")) {
        reverse(&app, entry, date("2025-12-31")).assert_problem(409, "PERIOD_CLOSED");
    }
    // After it: more back-dated transfers, and reversals of entries of the
    // closed period dated after it.
    for _ in 0..8 {
        let day = day_between(&mut rng, date("2026-01-01"), today);
        open.push((transfer(&app, day, &amount(&mut rng)), day));
    }
    for _ in 0..3 {
        let (entry, day) = open.swap_remove(rng.usize(..open.len()));
        let on = day_between(&mut rng, day.max(date("2026-01-01")), today);
        reverse(&app, &entry, on).expect(201);
    }

    let mut dates: Vec<NaiveDate> = ["2025-01-02", "2025-12-31", "2026-01-01", "2026-03-31"]
        .iter()
        .map(|d| date(d))
        .chain([today])
        .collect();
    for _ in 0..4 {
        dates.push(day_between(&mut rng, date("2025-01-01"), today));
    }
    for as_of in dates {
        assert_reports_match_journal(&app, as_of);
    }
    app.assert_books_balance(FUND);
    let good = app.mwf_verify(FUND);
    assert!(
        good.status.success(),
        "{}{}",
        String::from_utf8_lossy(&good.stdout),
        String::from_utf8_lossy(&good.stderr)
    );

    // Someone alters cash's total of the first day by hand, and adds a row of
    // equity on a day without postings.
    let account = |code: &str| {
        format!(
            "(SELECT a.id FROM accounts a JOIN funds f ON f.id = a.fund_id \
             WHERE f.code = '{FUND}' AND a.code = '{code}')"
        )
    };
    app.connection()
        .batch_execute(&format!(
            "UPDATE account_daily_totals SET credits_minor = credits_minor + 1 \
             WHERE account_id = {} AND day = '2025-01-02'; \
             INSERT INTO account_daily_totals (account_id, day, debits_minor, credits_minor) \
             VALUES ({}, '2024-06-03', 0, 500);",
            account("1000"),
            account("3100"),
        ))
        .unwrap();
    // The reports read the summary…
    let tb = app.get(
        &format!("/v1/funds/{FUND}/reports/trial-balance?as_of=2025-01-02"),
        &app.admin(),
    );
    let cash = tb.expect(200)["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["account"] == "1000")
        .unwrap()
        .clone();
    assert_eq!(cash["credits"], "0.01");
    // …and verification names both rows, by account and day.
    let report = app.get(&format!("/v1/funds/{FUND}/ledger/verify"), &app.admin());
    let report = report.expect(200);
    assert_eq!(report["ok"], false, "{report}");
    let problems = report["problems"].as_array().unwrap();
    let mismatches: Vec<&Value> = problems
        .iter()
        .filter(|p| p["code"] == "SUMMARY_MISMATCH")
        .collect();
    assert_eq!(mismatches.len(), 2, "{report}");
    assert_eq!(problems.len(), 2, "only the summary was altered: {report}");
    assert!(
        mismatches.iter().any(|p| p["account"] == "1000"
            && p["detail"].as_str().unwrap().contains("2025-01-02")),
        "{report}"
    );
    assert!(
        mismatches.iter().any(|p| p["account"] == "3100"
            && p["detail"].as_str().unwrap().contains("2024-06-03")),
        "{report}"
    );
    let bad = app.mwf_verify(FUND);
    assert_eq!(bad.status.code(), Some(1));
    let printed = String::from_utf8_lossy(&bad.stdout);
    assert!(
        printed.contains("SUMMARY_MISMATCH account 1000 account 1000 on 2025-01-02"),
        "{printed}"
    );
    assert!(
        printed.contains("SUMMARY_MISMATCH account 3100 account 3100 on 2024-06-03"),
        "{printed}"
    );
}

//! The monthly report (`GET /v1/funds/{fund}/reports/monthly`): every figure
//! of every month equals what the journal and the contributions API say,
//! after random transfers, reversals, back-dated entries, contributions
//! (shared, reversed, recorded out of date order) and claims approved and
//! paid; `mwf verify` names a monthly contribution row altered by hand; a
//! bad range is refused naming its field. The seed is printed;
//! `MWF_MONTHLY_SEED` repeats a run.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use diesel::connection::SimpleConnection;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp};

const FUND: &str = "KE-MWF";

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn day_between(rng: &mut fastrand::Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days() as u64;
    from + Days::new(rng.u64(0..=span))
}

fn amount(rng: &mut fastrand::Rng) -> String {
    let minor = rng.u64(100..=500_000);
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn id(res: &Value) -> String {
    res["id"].as_str().unwrap().to_string()
}

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("{v} is no string"))
        .parse()
        .unwrap()
}

fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap()
}

/// A posting as the journal API shows it.
struct Line {
    day: NaiveDate,
    kind: String,
    account: String,
    debit: bool,
    amount: Decimal,
}

/// Every page of a list.
fn all(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut url = format!("{path}?limit=100");
    loop {
        let res = app.get(&url, &app.admin());
        let page = res.expect(200).clone();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page.get("next").and_then(Value::as_str) {
            Some(next) => url = format!("{path}?limit=100&after={next}"),
            None => return items,
        }
    }
}

fn journal(app: &TestApp) -> Vec<Line> {
    let mut lines = Vec::new();
    for entry in all(app, &format!("/v1/funds/{FUND}/journal-entries")) {
        for p in entry["postings"].as_array().unwrap() {
            lines.push(Line {
                day: date(entry["effective_date"].as_str().unwrap()),
                kind: entry["kind"].as_str().unwrap().to_string(),
                account: p["account"].as_str().unwrap().to_string(),
                debit: p["side"] == "debit",
                amount: dec(&p["amount"]),
            });
        }
    }
    lines
}

/// The month figures as the journal and the contributions API give them,
/// in the report's shape (the fund keeps KES accounts only).
fn expected(app: &TestApp, from: NaiveDate, to: NaiveDate) -> Vec<Value> {
    let journal = journal(app);
    let accounts = app.get(&format!("/v1/funds/{FUND}/accounts"), &app.admin());
    let types: BTreeMap<String, String> = accounts.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["code"].as_str().unwrap().to_string(),
                a["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let contributions = all(app, &format!("/v1/funds/{FUND}/contributions"));
    let signed = |l: &Line| if l.debit { l.amount } else { -l.amount };
    // Decimal keeps the sign of a zero; the API writes 0.00.
    let s = |d: Decimal| format!("{:.2}", if d.is_zero() { Decimal::ZERO } else { d });
    let kes = |d: Decimal| json!([{"currency": "KES", "amount": s(d)}]);
    let paid_in = |first: NaiveDate, last: NaiveDate| -> Decimal {
        journal
            .iter()
            .filter(|l| l.day >= first && l.day <= last && l.account == "2000" && l.debit)
            .filter(|l| l.kind == "claim_payment" || l.kind == "claim_instalment_payment")
            .map(|l| l.amount)
            .sum()
    };
    let mut months = Vec::new();
    let mut month = from;
    while month <= to {
        let end = (month + Months::new(1)).pred_opt().unwrap();
        let upto = journal.iter().filter(|l| l.day <= end);
        let cash: Decimal = upto
            .clone()
            .filter(|l| l.account == "1000")
            .map(signed)
            .sum();
        let reserve: Decimal = -upto
            .clone()
            .filter(|l| l.account == "3000")
            .map(signed)
            .sum::<Decimal>();
        let net_assets: Decimal = upto
            .filter(|l| matches!(types[&l.account].as_str(), "asset" | "liability"))
            .map(signed)
            .sum();
        let approved: Decimal = journal
            .iter()
            .filter(|l| month_of(l.day) == month && l.account == "2000" && !l.debit)
            .filter(|l| l.kind == "claim_approval" || l.kind == "claim_instalment_award")
            .map(|l| l.amount)
            .sum();
        let paid = paid_in(month, end);
        let paid_12 = paid_in(month - Months::new(11), end);
        let coverage = if paid_12 > Decimal::ZERO {
            let months = (net_assets * Decimal::from(12) / paid_12)
                .round_dp_with_strategy(1, RoundingStrategy::MidpointNearestEven);
            json!(format!("{months:.1}"))
        } else {
            Value::Null
        };
        let mut count = 0;
        let mut total = Decimal::ZERO;
        let mut by_payer: BTreeMap<String, (i64, Decimal)> = BTreeMap::new();
        for c in &contributions {
            if month_of(date(c["paid_on"].as_str().unwrap())) != month {
                continue;
            }
            count += 1;
            total += dec(&c["total"]);
            let mut shares: BTreeMap<String, Decimal> = BTreeMap::new();
            for p in c["payers"].as_array().unwrap() {
                *shares
                    .entry(p["type"].as_str().unwrap().to_string())
                    .or_default() += dec(&p["amount"]);
            }
            for (t, a) in shares {
                let e = by_payer.entry(t).or_default();
                e.0 += 1;
                e.1 += a;
            }
        }
        let by_payer: Vec<Value> = by_payer
            .into_iter()
            .map(|(t, (n, a))| json!({"payer_type": t, "count": n, "amount": s(a)}))
            .collect();
        months.push(json!({
            "month": month.format("%Y-%m").to_string(),
            "end": end,
            "cash": kes(cash),
            "fund_reserve": kes(reserve),
            "reserves": kes(net_assets),
            "contributions": [{"currency": "KES", "count": count, "amount": s(total), "by_payer": by_payer}],
            "approved": kes(approved),
            "paid": kes(paid),
            "paid_last_12_months": kes(paid_12),
            "coverage": [{"currency": "KES", "months": coverage}],
        }));
        month = month + Months::new(1);
    }
    months
}

fn monthly(app: &TestApp, from: &str, to: &str) -> Value {
    let res = app.get(
        &format!("/v1/funds/{FUND}/reports/monthly?from={from}&to={to}"),
        &app.admin(),
    );
    res.expect(200).clone()
}

#[track_caller]
fn assert_monthly_matches(app: &TestApp, from: NaiveDate, to: NaiveDate) {
    let f = from.format("%Y-%m").to_string();
    let t = to.format("%Y-%m").to_string();
    let report = monthly(app, &f, &t);
    assert_eq!(
        (report["from"].as_str(), report["to"].as_str()),
        (Some(&*f), Some(&*t))
    );
    let shown = report["months"].as_array().unwrap();
    let want = expected(app, from, to);
    assert_eq!(shown.len(), want.len());
    for (s, w) in shown.iter().zip(&want) {
        assert_eq!(s, w, "month {}", w["month"]);
    }
}

#[test]
fn monthly_figures_equal_the_journal_and_the_contributions_and_verify_checks_the_summary() {
    let seed = std::env::var("MWF_MONTHLY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("MWF_MONTHLY_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let today = mwf::time::today();
    let app = spawn();
    app.load_fund(FUND);
    // Cash from opening balances, part of it booked to the fund reserve.
    app.transfer(FUND, "2025-01-02", "1000", "3100", "1000000.00", "KES")
        .expect(201);
    app.transfer(FUND, "2025-03-15", "3100", "3000", "250000.00", "KES")
        .expect(201);
    // Transfers on random days (each back-dated against some booked before
    // it), some reversed on a later day; expenses paid from cash.
    let mut open = Vec::new();
    for n in 0..12 {
        let day = day_between(&mut rng, date("2025-02-01"), today);
        let (debit, credit) = if n % 3 == 0 {
            ("6000", "1000")
        } else {
            ("1000", "3100")
        };
        let res = app.transfer(
            FUND,
            &day.to_string(),
            debit,
            credit,
            &amount(&mut rng),
            "KES",
        );
        open.push((id(res.expect(201)), day));
    }
    for _ in 0..3 {
        let (entry, day) = open.swap_remove(rng.usize(..open.len()));
        let on = day_between(&mut rng, day, today);
        app.post(
            &format!("/v1/funds/{FUND}/journal-entries/{entry}/reversal"),
            &app.admin(),
            &json!({"effective_date": on, "memo": "random reversal"}),
        )
        .expect(201);
    }
    // Contributions paid in January 2026 (the fund's first rules), recorded
    // in no date order; one shared with the employer, one reversed.
    let mut workers = Vec::new();
    for n in 0..5 {
        let (worker, contract) =
            app.enroll(FUND, &format!("KE-MON-{n}"), ("2026-02-01", "2028-07-31"));
        let paid_on = day_between(&mut rng, date("2026-01-02"), date("2026-01-31"));
        let payers = if n == 0 {
            json!([{"type": "worker", "amount": "1000.00"}, {"type": "employer", "amount": "2000.00"}])
        } else {
            json!([{"type": "worker", "amount": "3000.00"}])
        };
        let res = app.post(
            &format!("/v1/funds/{FUND}/contributions"),
            &app.admin(),
            &json!({"worker_id": worker, "contract_id": contract, "paid_on": paid_on,
                    "amount": "3000.00", "currency": "KES", "payers": payers}),
        );
        assert_eq!(res.status, 201, "{}", res.text);
        workers.push((worker, id(&res.body)));
    }
    let (_, bounced) = workers.pop().unwrap();
    app.post(
        &format!("/v1/contributions/{bounced}/reversal"),
        &app.admin(),
        &json!({"reason": "The bank returned the payment"}),
    )
    .expect(200);
    // Claims approved and paid today.
    for (worker, _) in &workers[..2] {
        app.paid_claim(worker, &amount(&mut rng), today);
    }

    let this_month = month_of(today);
    let first = this_month - Months::new(23);
    assert_monthly_matches(&app, first, this_month);
    assert_monthly_matches(&app, date("2025-01-01"), date("2025-03-01"));
    assert_monthly_matches(&app, date("2024-11-01"), this_month);
    // A past month reads the same after a back-dated transfer into a later one.
    let january = monthly(&app, "2026-01", "2026-01");
    app.transfer(FUND, "2026-02-10", "1000", "3100", "77.77", "KES")
        .expect(201);
    assert_eq!(monthly(&app, "2026-01", "2026-01"), january);
    assert_monthly_matches(&app, first, this_month);
    // The shared contribution counts once in all, once per payer type.
    let report = monthly(&app, "2026-01", "2026-02");
    let employer: i64 = report["months"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| {
            m["contributions"][0]["by_payer"]
                .as_array()
                .unwrap()
                .clone()
        })
        .filter(|p| p["payer_type"] == "employer")
        .map(|p| p["count"].as_i64().unwrap())
        .sum();
    assert_eq!(employer, 1, "{report}");
    let counted: i64 = report["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["contributions"][0]["count"].as_i64().unwrap())
        .sum();
    assert_eq!(
        counted, 5,
        "a reversed contribution stays in its month: {report}"
    );
    // Benefits were paid this month: the coverage is a number.
    let now = monthly(
        &app,
        &this_month.format("%Y-%m").to_string(),
        &this_month.format("%Y-%m").to_string(),
    );
    assert!(
        now["months"][0]["coverage"][0]["months"].is_string(),
        "{now}"
    );

    let good = app.mwf_verify(FUND);
    assert!(
        good.status.success(),
        "{}{}",
        String::from_utf8_lossy(&good.stdout),
        String::from_utf8_lossy(&good.stderr)
    );
    // Someone alters a month of the contribution summary by hand.
    app.connection()
        .batch_execute(
            "UPDATE contribution_months SET amount_minor = amount_minor + 1 \
             WHERE payer_type = 'employer'",
        )
        .unwrap();
    let report = app.get(&format!("/v1/funds/{FUND}/ledger/verify"), &app.admin());
    let report = report.expect(200);
    assert_eq!(report["ok"], false, "{report}");
    let mismatches: Vec<&Value> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "SUMMARY_MISMATCH")
        .collect();
    assert_eq!(mismatches.len(), 1, "{report}");
    assert!(
        mismatches[0]["detail"]
            .as_str()
            .unwrap()
            .contains("(employer)"),
        "{report}"
    );
    let bad = app.mwf_verify(FUND);
    assert!(!bad.status.success());
}

#[test]
fn a_bad_range_is_refused_naming_its_field() {
    let app = spawn();
    app.create_fund("MO-KE", "KE", "KES");
    let get = |query: &str| {
        app.get(
            &format!("/v1/funds/MO-KE/reports/monthly?{query}"),
            &app.admin(),
        )
    };
    for (query, field, code) in [
        ("from=2026-13&to=2026-12", "from", "invalid_month"),
        ("from=2026-1&to=2026-12", "from", "invalid_month"),
        ("from=2026-01-01&to=2026-12", "from", "invalid_month"),
        ("from=1899-12&to=2026-12", "from", "invalid_month"),
        ("from=2026-01&to=20261", "to", "invalid_month"),
        ("from=2026-05&to=2026-04", "to", "before_from"),
        ("from=2016-06&to=2026-06", "to", "too_many_months"),
    ] {
        let res = get(query);
        let problem = res.assert_problem(400, "INVALID_QUERY");
        assert_eq!(
            problem["errors"][0]["field"], field,
            "{query}: {}",
            res.text
        );
        assert_eq!(problem["errors"][0]["code"], code, "{query}: {}", res.text);
    }
    // 120 months is the most, and a fund without entries answers zeros.
    let res = get("from=2016-07&to=2026-06");
    let body = res.expect(200);
    let months = body["months"].as_array().unwrap();
    assert_eq!(months.len(), 120);
    assert_eq!(months[0]["month"], "2016-07");
    assert_eq!(months[119]["end"], "2026-06-30");
    assert_eq!(
        months[119]["cash"],
        json!([{"currency": "KES", "amount": "0.00"}])
    );
    assert_eq!(
        months[119]["coverage"],
        json!([{"currency": "KES", "months": null}])
    );
    assert_eq!(months[119]["contributions"][0]["count"], 0);
    // Without a range: the 24 months ending this month.
    let res = get("");
    let body = res.expect(200);
    assert_eq!(body["months"].as_array().unwrap().len(), 24);
    let this_month = mwf::time::today().format("%Y-%m").to_string();
    assert_eq!(body["to"], this_month.as_str());
    // A fund outside the token's funds is not found.
    let res = app.get(
        "/v1/funds/MO-KE/reports/monthly",
        &app.token(mwf::auth::Role::Auditor, &["KE-MWF"]),
    );
    assert_eq!(res.status, 404, "{}", res.text);
}

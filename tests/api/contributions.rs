//! Contributions under the example funds' rules.

use serde_json::{json, Value};

use crate::helpers::spawn;

#[test]
fn philippines_2016_rules_cover_24_months_from_payment() {
    let app = spawn();
    app.load_fund("PH-OWWA");
    let (worker, contract) = app.enroll("PH-OWWA", "P1000001", ("2017-03-15", "2019-03-14"));
    let quote = app.get(
        &format!("/v1/funds/PH-OWWA/contributions/quote?worker_id={worker}&paid_on=2017-03-01"),
        &app.admin(),
    );
    let q = quote.expect(200);
    assert_eq!(
        (
            q["rule_version"].as_str(),
            q["amount"].as_str(),
            q["currency"].as_str()
        ),
        (Some("PH-OWWA-2016"), Some("25.00"), Some("USD"))
    );
    assert_eq!(
        q["coverage"],
        json!({"start": "2017-03-01", "end": "2019-02-28"})
    );
    let res = app.contribute(
        "PH-OWWA",
        &worker,
        Some(&contract),
        "2017-03-01",
        ("25.00", "USD", "25.00"),
    );
    let c = res.expect(201);
    assert_eq!(c["rule_version"], "PH-OWWA-2016");
    assert_eq!(
        c["coverage"],
        json!({"start": "2017-03-01", "end": "2019-02-28"})
    );
    let membership = app.get(
        &format!("/v1/workers/{worker}/membership?on=2019-02-28"),
        &app.admin(),
    );
    assert_eq!(membership.expect(200)["active"], true);
    assert_eq!(membership.body["active_until"], "2019-02-28");
    let lapsed = app.get(
        &format!("/v1/workers/{worker}/membership?on=2019-03-01"),
        &app.admin(),
    );
    assert_eq!(lapsed.expect(200)["active"], false);
    // Cash in USD (the contribution currency), not in the fund's PHP.
    assert_eq!(app.balance("PH-OWWA", "1000-USD"), "25.00");
    assert_eq!(app.balance("PH-OWWA", "4000-USD"), "25.00");
    assert_eq!(app.balance("PH-OWWA", "1000"), "0.00");
    let entry = app.get(
        &format!(
            "/v1/funds/PH-OWWA/journal-entries/{}",
            c["journal_entry_id"].as_str().unwrap()
        ),
        &app.admin(),
    );
    assert_eq!(
        entry.expect(200)["source"],
        json!({"type": "contribution", "id": c["id"]})
    );
    assert_eq!(entry.body["effective_date"], "2017-03-01");
    app.assert_books_balance("PH-OWWA");
}

#[test]
fn philippines_2003_rules_cover_to_an_early_termination() {
    let app = spawn();
    app.load_fund("PH-OWWA");
    let (worker, contract) = app.enroll("PH-OWWA", "P1000002", ("2015-02-01", "2016-01-31"));
    app.post(
        &format!("/v1/workers/{worker}/contracts/{contract}"),
        &app.admin(),
        &json!({}),
    )
    .assert_problem(405, "METHOD_NOT_ALLOWED");
    // Without the contract the 2003 rules cannot say how long coverage runs.
    let res = app.contribute(
        "PH-OWWA",
        &worker,
        None,
        "2015-01-20",
        ("25.00", "USD", "25.00"),
    );
    res.assert_problem(422, "CONTRACT_REQUIRED");
    let c = app.contribute(
        "PH-OWWA",
        &worker,
        Some(&contract),
        "2015-01-20",
        ("25.00", "USD", "25.00"),
    );
    let body = c.expect(201);
    assert_eq!(body["rule_version"], "PH-OWWA-2003");
    assert_eq!(body["coverage"]["end"], "2016-01-31");
    let patch = app.patch(
        &format!("/v1/workers/{worker}/contracts/{contract}"),
        &app.admin(),
        &json!({"terminated_on": "2015-08-10", "returned_on": "2015-08-12"}),
    );
    assert_eq!(patch.expect(200)["terminated_on"], "2015-08-10");
    let m = app.get(
        &format!("/v1/workers/{worker}/membership?on=2015-08-10"),
        &app.admin(),
    );
    assert_eq!(m.expect(200)["active"], true);
    assert_eq!(m.body["active_until"], "2015-08-10");
    assert_eq!(m.body["periods"][0]["rule_version"], "PH-OWWA-2003");
    let after = app.get(
        &format!("/v1/workers/{worker}/membership?on=2015-08-11"),
        &app.admin(),
    );
    assert_eq!(after.expect(200)["active"], false);
    app.assert_books_balance("PH-OWWA");
}

#[test]
fn nepal_amount_follows_contract_length_and_the_version_in_force() {
    let app = spawn();
    app.load_fund("NP-FEWF");
    let (short_worker, short) = app.enroll("NP-FEWF", "N1", ("2018-02-01", "2021-01-31"));
    let (long_worker, long) = app.enroll("NP-FEWF", "N2", ("2018-02-01", "2021-02-01"));
    let quote = |worker: &str, contract: &str, paid_on: &str| {
        let res = app.get(&format!("/v1/funds/NP-FEWF/contributions/quote?worker_id={worker}&contract_id={contract}&paid_on={paid_on}"), &app.admin());
        let body = res.expect(200).clone();
        (
            body["rule_version"].as_str().unwrap().to_string(),
            body["amount"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        quote(&short_worker, &short, "2018-01-15"),
        ("NP-FEWF-2017".into(), "1500.00".into())
    );
    assert_eq!(
        quote(&long_worker, &long, "2018-01-15"),
        ("NP-FEWF-2017".into(), "2500.00".into())
    );
    assert_eq!(
        quote(&long_worker, &long, "2017-07-30"),
        ("NP-FEWF-2008".into(), "500.00".into())
    );
    assert_eq!(
        quote(&long_worker, &long, "2017-07-31"),
        ("NP-FEWF-2017".into(), "2500.00".into())
    );
    app.contribute(
        "NP-FEWF",
        &short_worker,
        Some(&short),
        "2018-01-15",
        ("1500.00", "NPR", "1500.00"),
    )
    .expect(201);
    app.contribute(
        "NP-FEWF",
        &long_worker,
        Some(&long),
        "2018-01-15",
        ("2500.00", "NPR", "2500.00"),
    )
    .expect(201);
    let (old_worker, old) = app.enroll("NP-FEWF", "N3", ("2017-08-01", "2019-07-31"));
    app.contribute(
        "NP-FEWF",
        &old_worker,
        Some(&old),
        "2017-07-20",
        ("500.00", "NPR", "500.00"),
    )
    .expect(201);
    // 90% to the benefit reserve, 10% to administration.
    assert_eq!(app.balance("NP-FEWF", "1000"), "4500.00");
    assert_eq!(app.balance("NP-FEWF", "4000"), "4050.00");
    assert_eq!(app.balance("NP-FEWF", "4100"), "450.00");
    app.assert_books_balance("NP-FEWF");
}

#[test]
fn a_wrong_amount_is_refused_with_the_expected_one() {
    let app = spawn();
    app.load_fund("NP-FEWF");
    let (worker, contract) = app.enroll("NP-FEWF", "N9", ("2018-02-01", "2021-02-01"));
    let res = app.contribute(
        "NP-FEWF",
        &worker,
        Some(&contract),
        "2018-01-15",
        ("1500.00", "NPR", "1500.00"),
    );
    let body = res.assert_problem(422, "CONTRIBUTION_AMOUNT_MISMATCH");
    assert_eq!(
        body["expected"],
        json!({"amount": "2500.00", "currency": "NPR", "total": "2500.00", "rule_version": "NP-FEWF-2017"})
    );
    let wrong_currency = app.contribute(
        "NP-FEWF",
        &worker,
        Some(&contract),
        "2018-01-15",
        ("2500.00", "USD", "2500.00"),
    );
    wrong_currency.assert_problem(422, "CONTRIBUTION_AMOUNT_MISMATCH");
    let before_rules = app.contribute(
        "NP-FEWF",
        &worker,
        Some(&contract),
        "2001-01-15",
        ("500.00", "NPR", "500.00"),
    );
    before_rules.assert_problem(422, "NO_RULES_IN_FORCE");
    assert_eq!(
        app.get("/v1/funds/NP-FEWF", &app.admin()).body["entries"],
        0
    );
    assert_eq!(
        app.get("/v1/funds/NP-FEWF/contributions", &app.admin())
            .body["items"],
        json!([])
    );
}

#[test]
fn sri_lanka_taxes_are_charged_on_top_and_booked_to_tax_payable() {
    let app = spawn();
    app.load_fund("LK-SLBFE");
    let (worker, _) = app.enroll("LK-SLBFE", "L1", ("2022-01-10", "2024-01-09"));
    let quote = app.get(
        &format!("/v1/funds/LK-SLBFE/contributions/quote?worker_id={worker}&paid_on=2022-01-05"),
        &app.admin(),
    );
    let q = quote.expect(200);
    assert_eq!(q["amount"], "15200.00");
    // VAT at 8 % and no NBT (abolished on 1 December 2019).
    assert_eq!(
        q["taxes"],
        json!([{"code": "VAT", "rate": "0.08", "amount": "1216.00"}])
    );
    assert_eq!(q["total"], "16416.00");
    // Payers pay the total with taxes; the contribution amount is without them.
    app.contribute(
        "LK-SLBFE",
        &worker,
        None,
        "2022-01-05",
        ("15200.00", "LKR", "15200.00"),
    )
    .assert_problem(422, "PAYERS_DO_NOT_ADD_UP");
    let c = app.contribute(
        "LK-SLBFE",
        &worker,
        None,
        "2022-01-05",
        ("15200.00", "LKR", "16416.00"),
    );
    assert_eq!(c.expect(201)["total"], "16416.00");
    assert_eq!(app.balance("LK-SLBFE", "1000"), "16416.00");
    assert_eq!(app.balance("LK-SLBFE", "2100"), "1216.00");
    assert_eq!(app.balance("LK-SLBFE", "4000"), "12160.00");
    assert_eq!(app.balance("LK-SLBFE", "4100"), "3040.00");
    app.assert_books_balance("LK-SLBFE");
}

#[test]
fn kenya_contributions_may_be_split_between_payers_who_must_add_up() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let (worker, contract) = app.enroll("KE-MWF", "K1", ("2026-02-01", "2027-01-31"));
    let body = |parts: serde_json::Value| json!({"worker_id": worker, "contract_id": contract, "paid_on": "2026-01-20", "amount": "2000.00", "currency": "KES", "payers": parts});
    let bad = app.post("/v1/funds/KE-MWF/contributions", &app.admin(), &body(json!([
        {"type": "worker", "amount": "500.00"}, {"type": "agency", "amount": "500.00"}, {"type": "government", "amount": "900.00"}])));
    let problem = bad.assert_problem(422, "PAYERS_DO_NOT_ADD_UP");
    assert_eq!(problem["expected_total"], "2000.00");
    let good = app.post("/v1/funds/KE-MWF/contributions", &app.admin(), &body(json!([
        {"type": "worker", "amount": "500.00"}, {"type": "agency", "amount": "500.00", "reference": "AG-7"}, {"type": "government", "amount": "1000.00"}])));
    let c = good.expect(201);
    let payers: Vec<&str> = c["payers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(payers, vec!["worker", "agency", "government"]);
    assert_eq!(c["payers"][1]["reference"], "AG-7");
    assert_eq!(app.balance("KE-MWF", "1000"), "2000.00");
    app.assert_books_balance("KE-MWF");
}

#[test]
fn payers_the_rules_do_not_name_are_refused() {
    let app = spawn();
    app.load_fund("NP-FEWF");
    let (worker, contract) = app.enroll("NP-FEWF", "N5", ("2018-02-01", "2021-01-31"));
    let res = app.post("/v1/funds/NP-FEWF/contributions", &app.admin(), &json!({
        "worker_id": worker, "contract_id": contract, "paid_on": "2018-01-15", "amount": "1500.00", "currency": "NPR",
        "payers": [{"type": "employer", "amount": "1500.00"}]}));
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(res.error_fields(), vec!["/payers/0/type"]);
    assert_eq!(res.body["errors"][0]["code"], "payer_not_allowed");
}

/// Requests sent at the same time are booked together (group commit); each keeps
/// its own answer: refusals refuse only themselves, a key sent twice books once,
/// and the books balance.
#[test]
fn concurrent_contributions_each_get_their_own_answer() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let members: Vec<(String, String)> = (0..6)
        .map(|i| app.enroll("KE-MWF", &format!("G{i}"), ("2026-02-01", "2027-01-31")))
        .collect();
    let body = |i: usize, amount: &str| {
        let (worker, contract) = &members[i % members.len()];
        json!({"worker_id": worker, "contract_id": contract, "paid_on": "2026-01-20", "amount": amount,
               "currency": "KES", "payers": [{"type": "worker", "amount": amount}]})
    };
    // 24 good requests with their own keys, 6 with a wrong amount, one unknown
    // worker, and 3 keys each sent twice with the same body.
    let mut requests: Vec<(String, Value, &str)> = Vec::new();
    for i in 0..24 {
        requests.push((format!("good-{i}"), body(i, "2000.00"), "good"));
    }
    for i in 0..6 {
        requests.push((format!("bad-{i}"), body(i, "1999.00"), "mismatch"));
    }
    let mut stranger = body(0, "2000.00");
    stranger["worker_id"] = json!("no-such-worker");
    requests.push(("stranger".to_string(), stranger, "unknown"));
    for i in 0..3 {
        for _ in 0..2 {
            requests.push((format!("twice-{i}"), body(i, "2000.00"), "twice"));
        }
    }
    let answers: Vec<(String, &str, crate::helpers::Response)> = std::thread::scope(|s| {
        let handles: Vec<_> = requests
            .iter()
            .map(|(key, body, kind)| {
                let app = &app;
                s.spawn(move || {
                    let r = app.post_with_key(
                        "/v1/funds/KE-MWF/contributions",
                        &app.admin(),
                        key,
                        body,
                    );
                    (key.clone(), *kind, r)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ids = std::collections::BTreeSet::new();
    let mut twice: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (key, kind, r) in &answers {
        match *kind {
            "good" => {
                assert_eq!(r.status, 201, "{key}: {}", r.text);
                assert!(
                    ids.insert(r.body["id"].as_str().unwrap().to_string()),
                    "{key}: id given twice"
                );
            }
            "mismatch" => {
                let problem = r.assert_problem(422, "CONTRIBUTION_AMOUNT_MISMATCH");
                assert_eq!(problem["expected"]["amount"], "2000.00");
            }
            "unknown" => {
                let problem = r.assert_problem(422, "VALIDATION_FAILED");
                assert_eq!(problem["errors"][0]["field"], "/worker_id", "{}", r.text);
            }
            _ => {
                assert_eq!(r.status, 201, "{key}: {}", r.text);
                twice.entry(key.clone()).or_default().push(r.text.clone());
            }
        }
    }
    for (key, bodies) in &twice {
        assert_eq!(bodies.len(), 2);
        assert_eq!(
            bodies[0], bodies[1],
            "{key}: the repeat must replay the first answer"
        );
        let id = serde_json::from_str::<Value>(&bodies[0]).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(ids.insert(id), "{key}: booked under another request's id");
    }
    // 24 + 3 contributions of 2,000.00, nothing for the refused ones.
    assert_eq!(app.balance("KE-MWF", "1000"), "54000.00");
    let listed = app.get("/v1/funds/KE-MWF/contributions?limit=500", &app.admin());
    assert_eq!(listed.expect(200)["items"].as_array().unwrap().len(), 27);
    let audit = app.get("/v1/audit-log?limit=500", &app.admin());
    let refused = audit.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["action"] == "contribution.record"
                && r["outcome"].as_str().unwrap().starts_with("refused:")
        })
        .count();
    assert_eq!(refused, 7, "every refusal is audited");
    app.assert_books_balance("KE-MWF");
}

/// A worker of another fund or a contract of another worker is refused naming
/// the field, alone and as a batch item (the batch reads workers beforehand).
#[test]
fn unknown_workers_and_contracts_are_refused_naming_the_field() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let (worker, contract) = app.enroll("KE-MWF", "U1", ("2026-02-01", "2027-01-31"));
    let (_, other_contract) = app.enroll("KE-MWF", "U2", ("2026-02-01", "2027-01-31"));
    let body = |worker: &str, contract: &str| {
        json!({"worker_id": worker, "contract_id": contract, "paid_on": "2026-01-20", "amount": "2000.00",
               "currency": "KES", "payers": [{"type": "worker", "amount": "2000.00"}]})
    };
    let path = "/v1/funds/KE-MWF/contributions";
    let single = app.post(path, &app.admin(), &body(&worker, &other_contract));
    let problem = single.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(
        problem["errors"][0]["field"], "/contract_id",
        "{}",
        single.text
    );
    assert_eq!(problem["errors"][0]["code"], "unknown_contract");
    let items = json!({"items": [body(&worker, &contract), body(&worker, &other_contract), body("nobody", &contract)]});
    let batch = app.post("/v1/funds/KE-MWF/contributions/batch", &app.admin(), &items);
    let answer = batch.expect(200);
    assert_eq!(answer["created"], 1, "{}", batch.text);
    let errors = |i: usize| answer["items"][i]["problem"]["errors"][0].clone();
    assert_eq!(errors(1)["field"], "/items/1/contract_id");
    assert_eq!(errors(1)["code"], "unknown_contract");
    assert_eq!(errors(2)["field"], "/items/2/worker_id");
    assert_eq!(errors(2)["code"], "unknown_worker");
    assert_eq!(app.balance("KE-MWF", "1000"), "2000.00");
}

#[test]
fn money_input_has_the_currency_decimals_and_a_received_amount_that_matches_its_rate() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let (worker, contract) = app.enroll("KE-MWF", "K-MONEY", ("2026-02-01", "2027-01-31"));
    let body = |amount: &str, received: serde_json::Value| {
        json!({"worker_id": worker, "contract_id": contract, "paid_on": "2026-01-20", "amount": amount, "currency": "KES",
               "payers": [{"type": "worker", "amount": "2000.00"}], "received": received})
    };
    let post = |b: serde_json::Value| app.post("/v1/funds/KE-MWF/contributions", &app.admin(), &b);
    // Three decimals for a two-decimal currency, even with a trailing zero.
    let three = post(body("2000.000", json!(null)));
    three.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(three.error_fields(), vec!["/amount"]);
    assert_eq!(three.body["errors"][0]["code"], "too_many_decimals");
    // A received amount that its rate does not turn into what was paid.
    for rate in ["0.0000000000000000000000000001", "0.0090", "1"] {
        let wrong = post(body(
            "2000.00",
            json!({"amount": "250000", "currency": "UGX", "exchange_rate": rate}),
        ));
        wrong.assert_problem(422, "VALIDATION_FAILED");
        assert_eq!(
            wrong.error_fields(),
            vec!["/received/exchange_rate"],
            "{rate}"
        );
        assert_eq!(wrong.body["errors"][0]["code"], "inconsistent");
    }
    assert_eq!(app.balance("KE-MWF", "1000"), "0.00");
    // 250,000 UGX at 0.00797 KES is 1,992.50: within 1 % of 2,000.
    let fine = post(body(
        "2000.00",
        json!({"amount": "250000", "currency": "UGX", "exchange_rate": "0.00797"}),
    ));
    assert_eq!(fine.expect(201)["received"]["currency"], "UGX");
    assert_eq!(app.balance("KE-MWF", "1000"), "2000.00");
}

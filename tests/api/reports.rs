//! Reports: the trial balance as of a date, membership and claims statistics.

use mwf::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp};

/// Enrolls a worker with one contract and the given attributes; returns
/// (worker id, contract id).
fn enroll_as(
    app: &TestApp,
    fund: &str,
    document: &str,
    sex: &str,
    destination: &str,
    sector: Option<&str>,
    contract: (&str, &str),
) -> (String, String) {
    let res = app.post(
        &format!("/v1/funds/{fund}/workers"),
        &app.admin(),
        &json!({
            "document_type": "passport", "document_number": document, "given_name": "Test", "family_name": document,
            "date_of_birth": "1990-01-01", "sex": sex, "occupation_sector": sector,
            "contracts": [{"employer": "E", "destination_country": destination,
                           "start_date": contract.0, "end_date": contract.1}]
        }),
    );
    let body = res.expect(201);
    (
        body["id"].as_str().unwrap().to_string(),
        body["contracts"][0]["id"].as_str().unwrap().to_string(),
    )
}

fn trial_balance(app: &TestApp, fund: &str, as_of: &str) -> Value {
    app.get(
        &format!("/v1/funds/{fund}/reports/trial-balance?as_of={as_of}"),
        &app.token(Role::Auditor, &["*"]),
    )
    .expect(200)
    .clone()
}

#[test]
fn a_past_trial_balance_is_unchanged_by_later_entries_and_always_balances() {
    let app = spawn();
    app.create_fund("TB-KE", "KE", "KES");
    app.transfer("TB-KE", "2026-01-10", "1000", "4000", "1500.00", "KES")
        .expect(201);
    app.transfer("TB-KE", "2026-01-20", "5100", "1000", "400.25", "KES")
        .expect(201);
    let before = trial_balance(&app, "TB-KE", "2026-01-31");
    assert_eq!(before["as_of"], "2026-01-31");
    assert_eq!(
        before["totals"],
        json!([{"currency": "KES", "debits": "1900.25", "credits": "1900.25",
                "debit_balances": "1500.00", "credit_balances": "1500.00", "balanced": true}])
    );
    let cash = before["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["account"] == "1000")
        .unwrap();
    assert_eq!(
        (&cash["debits"], &cash["credits"], &cash["balance"]),
        (&json!("1500.00"), &json!("400.25"), &json!("1099.75"))
    );
    assert_eq!(
        (&cash["debit_balance"], &cash["credit_balance"]),
        (&json!("1099.75"), &json!("0.00"))
    );
    let income = before["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["account"] == "4000")
        .unwrap();
    assert_eq!(
        (&income["debit_balance"], &income["credit_balance"]),
        (&json!("0.00"), &json!("1500.00"))
    );
    // Every account of the chart is listed, with or without postings.
    let accounts = app.get("/v1/funds/TB-KE/accounts", &app.admin());
    assert_eq!(
        before["lines"].as_array().unwrap().len(),
        accounts.body["items"].as_array().unwrap().len()
    );

    app.transfer("TB-KE", "2026-02-03", "1000", "4200", "999.99", "KES")
        .expect(201);
    app.transfer("TB-KE", "2026-03-01", "6000", "1000", "10.00", "KES")
        .expect(201);
    assert_eq!(trial_balance(&app, "TB-KE", "2026-01-31"), before);
    let later = trial_balance(&app, "TB-KE", "2026-03-31");
    assert_ne!(later, before);
    assert_eq!(later["totals"][0]["debits"], "2910.24");
    assert_eq!(later["totals"][0]["balanced"], true);
    // The current trial balance agrees with the accounts' maintained balances.
    let now = trial_balance(&app, "TB-KE", "2099-12-31");
    for line in now["lines"].as_array().unwrap() {
        let code = line["account"].as_str().unwrap();
        assert_eq!(line["balance"], app.balance("TB-KE", code), "{code}");
    }
}

#[test]
fn reports_are_refused_outside_the_token_funds_and_for_unknown_dimensions() {
    let app = spawn();
    app.create_fund("TB-KE", "KE", "KES");
    app.create_fund("TB-NP", "NP", "NPR");
    let nepal = app.token(Role::Ministry, &["TB-NP"]);
    app.get("/v1/funds/TB-KE/reports/trial-balance", &nepal)
        .assert_problem(404, "NOT_FOUND");
    app.get("/v1/funds/TB-NP/reports/trial-balance", &nepal)
        .expect(200);
    let res = app.get(
        "/v1/funds/TB-NP/reports/membership?by=sex,religion",
        &app.admin(),
    );
    res.assert_problem(400, "INVALID_QUERY");
    assert_eq!(res.error_fields(), vec!["by"]);
    assert_eq!(res.body["errors"][0]["code"], "unknown_dimension");
    let res = app.get(
        "/v1/funds/TB-NP/reports/claims?from=2026-02-01&to=2026-01-01",
        &app.admin(),
    );
    res.assert_problem(400, "INVALID_QUERY");
    assert_eq!(res.error_fields(), vec!["to"]);
    let res = app.get("/v1/funds/TB-NP/reports/claims?to=2026-01-01", &app.admin());
    res.assert_problem(400, "INVALID_QUERY");
    assert!(res.text.contains("from"), "{}", res.text);
}

/// Records a Philippine contribution of the quoted amount on `paid_on`.
fn pay_ph(app: &TestApp, worker: &str, contract: &str, paid_on: &str) -> Value {
    app.contribute(
        "PH-OWWA",
        worker,
        Some(contract),
        paid_on,
        ("25.00", "USD", "25.00"),
    )
    .expect(201)
    .clone()
}

#[test]
fn membership_statistics_count_active_workers_and_leave_out_lapsed_ones() {
    let app = spawn();
    app.load_fund("PH-OWWA");
    let contract = ("2017-01-01", "2021-12-31");
    let a = enroll_as(
        &app,
        "PH-OWWA",
        "A1",
        "female",
        "SA",
        Some("domestic_work"),
        contract,
    );
    let b = enroll_as(
        &app,
        "PH-OWWA",
        "B1",
        "male",
        "HK",
        Some("construction"),
        contract,
    );
    let c = enroll_as(&app, "PH-OWWA", "C1", "female", "AE", None, contract);
    let e = enroll_as(
        &app,
        "PH-OWWA",
        "E1",
        "female",
        "SA",
        Some("domestic_work"),
        contract,
    );
    enroll_as(&app, "PH-OWWA", "D1", "male", "SA", None, contract); // never pays
    pay_ph(&app, &a.0, &a.1, "2017-03-01"); // covered to 2019-02-28
    pay_ph(&app, &b.0, &b.1, "2018-01-10");
    pay_ph(&app, &c.0, &c.1, "2017-06-01"); // covered to 2019-05-31
    let reversed = pay_ph(&app, &e.0, &e.1, "2018-05-01");
    let stats = |query: &str| {
        app.get(
            &format!("/v1/funds/PH-OWWA/reports/membership?{query}"),
            &app.token(Role::Auditor, &["*"]),
        )
        .expect(200)
        .clone()
    };

    let last_day_of_a = stats("as_of=2019-02-28&by=");
    assert_eq!(
        (&last_day_of_a["active"], &last_day_of_a["lapsed"]),
        (&json!(4), &json!(0))
    );
    assert_eq!(last_day_of_a["groups"], json!([{"active": 4}]));

    let s = stats("as_of=2019-04-15");
    assert_eq!((&s["active"], &s["lapsed"]), (&json!(3), &json!(1)));
    assert_eq!(s["by"], json!(["sex"]));
    assert_eq!(
        s["groups"],
        json!([{"sex": "female", "active": 2}, {"sex": "male", "active": 1}])
    );
    let s = stats("as_of=2019-04-15&by=sex,destination");
    assert_eq!(
        s["groups"],
        json!([
            {"sex": "female", "destination": "AE", "active": 1},
            {"sex": "female", "destination": "SA", "active": 1},
            {"sex": "male", "destination": "HK", "active": 1}
        ])
    );
    let s = stats("as_of=2019-04-15&by=sector");
    assert_eq!(
        s["groups"],
        json!([
            {"sector": "construction", "active": 1},
            {"sector": "domestic_work", "active": 1},
            {"sector": "unknown", "active": 1}
        ])
    );
    // Before anyone paid nobody is active; a reversed contribution covers nothing.
    assert_eq!(stats("as_of=2017-01-01")["active"], 0);
    let id = reversed["id"].as_str().unwrap();
    app.post(
        &format!("/v1/contributions/{id}/reversal"),
        &app.admin(),
        &json!({"reason": "paid twice by mistake"}),
    )
    .expect(200);
    let s = stats("as_of=2019-04-15&by=destination");
    assert_eq!(s["active"], 2);
    assert_eq!(
        s["groups"],
        json!([{"destination": "AE", "active": 1}, {"destination": "HK", "active": 1}])
    );
}

#[test]
fn claims_statistics_count_and_sum_claims_filed_in_the_period() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let contract = ("2026-02-01", "2028-07-31");
    let mut members = Vec::new();
    for (doc, sex) in [("KF1", "female"), ("KM1", "male"), ("KF2", "female")] {
        let (worker, contract_id) = enroll_as(&app, "KE-MWF", doc, sex, "SA", None, contract);
        app.contribute(
            "KE-MWF",
            &worker,
            Some(&contract_id),
            "2026-01-05",
            ("3000.00", "KES", "3000.00"),
        )
        .expect(201);
        members.push(worker);
    }
    let distress = |worker: &str, filed_on: &str, amount: &str| {
        let res = app.post(
            &format!("/v1/workers/{worker}/claims"),
            &app.admin(),
            &json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
                    "filed_on": filed_on, "claimant": {"relationship": "worker"}, "claimed_amount": amount,
                    "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]}),
        );
        res.expect(201).clone()
    };
    let paid = distress(&members[0], "2026-03-05", "4000.00");
    let id = paid["id"].as_str().unwrap();
    app.post(
        &format!("/v1/claims/{id}/decision"),
        &app.admin(),
        &json!({"outcome": "approve"}),
    )
    .expect(200);
    app.post(
        &format!("/v1/claims/{id}/payment"),
        &app.admin(),
        &json!({"paid_on": mwf::time::today().to_string()}),
    )
    .expect(200);
    let pending = distress(&members[1], "2026-03-20", "1000.00");
    distress(&members[2], "2026-04-02", "500.00"); // after the period

    let get = |query: &str| {
        app.get(
            &format!("/v1/funds/KE-MWF/reports/claims?from=2026-03-01&to=2026-03-31{query}"),
            &app.token(Role::Auditor, &["*"]),
        )
        .expect(200)
        .clone()
    };
    let s = get("");
    assert_eq!(s["count"], 2);
    assert_eq!(s["by"], json!(["benefit"]));
    let assessed = |c: &Value| {
        c["assessment"]["payable"]
            .as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    let total_assessed = assessed(&paid) + assessed(&pending);
    assert_eq!(
        s["amounts"],
        json!([{"currency": "KES", "claimed": "5000.00", "assessed": total_assessed.to_string(),
                "approved": "4000.00", "paid": "4000.00"}])
    );
    assert_eq!(s["groups"][0]["benefit"], "REPATRIATION_DISTRESS");
    assert_eq!(s["groups"][0]["count"], 2);

    let s = get("&by=status,sex");
    assert_eq!(
        s["groups"],
        json!([
            {"status": "paid", "sex": "female", "count": 1, "payees": 1, "amounts": [
                {"currency": "KES", "claimed": "4000.00", "assessed": assessed(&paid).to_string(),
                 "approved": "4000.00", "paid": "4000.00"}]},
            {"status": pending["status"], "sex": "male", "count": 1, "payees": 1, "amounts": [
                {"currency": "KES", "claimed": "1000.00", "assessed": assessed(&pending).to_string(),
                 "approved": "0.00", "paid": "0.00"}]}
        ])
    );
    let april = app.get(
        "/v1/funds/KE-MWF/reports/claims?from=2026-04-01&to=2026-04-30&by=sex",
        &app.admin(),
    );
    assert_eq!(
        april.expect(200)["groups"],
        json!([{"sex": "female", "count": 1, "payees": 1, "amounts": [
            {"currency": "KES", "claimed": "500.00", "assessed": "500.00", "approved": "0.00", "paid": "0.00"}]}])
    );
}

#[test]
fn claims_statistics_add_up_claimed_amounts_past_64_bits_exactly() {
    let app = spawn();
    app.load_fund("KE-MWF");
    for doc in ["KO1", "KO2"] {
        let (worker, contract) = enroll_as(
            &app,
            "KE-MWF",
            doc,
            "female",
            "SA",
            None,
            ("2026-02-01", "2028-07-31"),
        );
        app.contribute(
            "KE-MWF",
            &worker,
            Some(&contract),
            "2026-01-05",
            ("3000.00", "KES", "3000.00"),
        )
        .expect(201);
        app.post(
            &format!("/v1/workers/{worker}/claims"),
            &app.admin(),
            &json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
                    "filed_on": "2026-03-05", "claimant": {"relationship": "worker"}, "claimed_amount": "100.00",
                    "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]}),
        )
        .expect(201);
    }
    // Claimed amounts are bounded per claim, not in number: stand-ins for ten
    // thousand claims at the largest amount, whose sum passes 64 bits.
    use diesel::connection::SimpleConnection;
    app.connection()
        .batch_execute("UPDATE claims SET claimed_amount_minor = 5000000000000000000")
        .unwrap();
    let s = app.get(
        "/v1/funds/KE-MWF/reports/claims?from=2026-03-01&to=2026-03-31",
        &app.token(Role::Auditor, &["*"]),
    );
    assert_eq!(
        s.expect(200)["amounts"][0]["claimed"],
        "100000000000000000.00"
    );
}

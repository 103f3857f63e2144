//! Funds: creation with a chart of accounts, duplicates, listing, period close.

use serde_json::json;

use crate::helpers::spawn;

#[test]
fn creating_a_fund_creates_its_chart_of_accounts_in_its_currency() {
    let app = spawn();
    let res = app.post("/v1/funds", &app.admin(), &json!({"code": "NP-FEWF", "country": "NP", "name": "Foreign Employment Welfare Fund", "currency": "NPR"}));
    let fund = res.expect(201);
    assert_eq!(fund["code"], "NP-FEWF");
    assert_eq!(fund["entries"], 0);
    assert_eq!(fund["chain_head"], "0".repeat(64));
    let accounts = app.get("/v1/funds/NP-FEWF/accounts", &app.admin());
    let items = accounts.expect(200)["items"].as_array().unwrap().clone();
    let codes: Vec<&str> = items.iter().map(|a| a["code"].as_str().unwrap()).collect();
    for code in [
        "1000", "2000", "2100", "3000", "4000", "4100", "5100", "5200", "5300",
    ] {
        assert!(codes.contains(&code), "missing {code}");
    }
    assert!(items
        .iter()
        .all(|a| a["currency"] == "NPR" && a["balance"] == "0.00"));
    let cash = items.iter().find(|a| a["code"] == "1000").unwrap();
    assert_eq!(cash["allow_negative"], false);
    assert_eq!(cash["type"], "asset");
}

#[test]
fn a_second_fund_with_the_same_code_is_a_409() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let res = app.post(
        "/v1/funds",
        &app.admin(),
        &json!({"code": "KE-MWF", "country": "KE", "name": "again", "currency": "KES"}),
    );
    res.assert_problem(409, "FUND_ALREADY_EXISTS");
    assert_eq!(res.body["fund"], "KE-MWF");
}

#[test]
fn funds_are_listed_oldest_first_across_pages() {
    let app = spawn();
    for (code, country) in [("KE-MWF", "KE"), ("UG-MWF", "UG"), ("PH-OWWA", "PH")] {
        app.create_fund(code, country, "USD");
    }
    let first = app.get("/v1/funds?limit=2", &app.admin());
    let page = first.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["code"], "KE-MWF");
    let next = page["next"].as_str().expect("a next cursor").to_string();
    let second = app.get(&format!("/v1/funds?limit=2&after={next}"), &app.admin());
    let page = second.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["code"], "PH-OWWA");
    assert!(page.get("next").is_none());
}

#[test]
fn after_a_period_close_no_entry_may_be_dated_in_it() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    app.transfer("KE-MWF", "2025-12-15", "1000", "3100", "100.00", "KES")
        .expect(201);
    let closed = app.post(
        "/v1/funds/KE-MWF/periods/close",
        &app.admin(),
        &json!({"through": "2025-12-31"}),
    );
    assert_eq!(closed.expect(200)["closed_through"], "2025-12-31");
    let res = app.transfer("KE-MWF", "2025-12-31", "1000", "3100", "5.00", "KES");
    res.assert_problem(409, "PERIOD_CLOSED");
    assert_eq!(res.body["closed_through"], "2025-12-31");
    app.transfer("KE-MWF", "2026-01-01", "1000", "3100", "5.00", "KES")
        .expect(201);
    // A reversal dated in the closed period is refused too; dated after it, allowed.
    let entries = app.get("/v1/funds/KE-MWF/journal-entries", &app.admin());
    let first_id = entries.body["items"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/funds/KE-MWF/journal-entries/{first_id}/reversal");
    app.post(
        &path,
        &app.admin(),
        &json!({"effective_date": "2025-12-20", "memo": "undo"}),
    )
    .assert_problem(409, "PERIOD_CLOSED");
    app.post(
        &path,
        &app.admin(),
        &json!({"effective_date": "2026-01-02", "memo": "undo"}),
    )
    .expect(201);
    // Closing backwards, or in the future, is refused.
    app.post(
        "/v1/funds/KE-MWF/periods/close",
        &app.admin(),
        &json!({"through": "2025-11-30"}),
    )
    .assert_problem(409, "PERIOD_ALREADY_CLOSED");
    let res = app.post(
        "/v1/funds/KE-MWF/periods/close",
        &app.admin(),
        &json!({"through": "2999-01-01"}),
    );
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(res.error_fields(), vec!["/through"]);
    assert_eq!(app.get("/v1/funds/KE-MWF", &app.admin()).body["entries"], 3);
}

//! Bad input of every kind gets a problem+json naming the field, and writes nothing.

use serde_json::json;

use crate::helpers::spawn;

#[test]
fn malformed_json_is_a_400_that_says_where() {
    let app = spawn();
    let res = app.post_raw(
        "/v1/funds",
        &app.admin(),
        "{\"code\": \"KE-MWF\",",
        &[("Content-Type", "application/json")],
    );
    let body = res.assert_problem(400, "MALFORMED_JSON");
    assert_eq!(body["line"], 1);
}

#[test]
fn unknown_fields_wrong_types_and_missing_fields_name_the_field() {
    let app = spawn();
    let admin = app.admin();
    let res = app.post("/v1/funds", &admin, &json!({"code": "KE-MWF", "country": "KE", "name": "K", "currency": "KES", "colour": "red"}));
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(res.error_fields(), vec!["/colour"]);
    assert_eq!(res.body["errors"][0]["code"], "unknown_field");

    let res = app.post(
        "/v1/funds",
        &admin,
        &json!({"code": "KE-MWF", "country": "KE", "name": 7, "currency": "KES"}),
    );
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(res.error_fields(), vec!["/name"]);
    assert_eq!(res.body["errors"][0]["code"], "invalid_type");

    let res = app.post(
        "/v1/funds",
        &admin,
        &json!({"code": "KE-MWF", "country": "KE", "currency": "KES"}),
    );
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(res.error_fields(), vec!["/name"]);
    assert_eq!(res.body["errors"][0]["code"], "required");

    let res = app.post(
        "/v1/funds",
        &admin,
        &json!({"code": "ke mwf", "country": "XX", "name": "", "currency": "KSH"}),
    );
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(
        res.error_fields(),
        vec!["/code", "/country", "/name", "/currency"]
    );
    app.get("/v1/funds", &admin).expect(200);
    assert_eq!(
        app.get("/v1/funds", &admin).body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn amounts_must_be_decimal_strings_with_the_currency_decimals() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let entry = |amount: serde_json::Value| {
        json!({"effective_date": "2026-01-05", "memo": "m", "postings": [
            {"account": "1000", "side": "debit", "amount": amount, "currency": "KES"},
            {"account": "3100", "side": "credit", "amount": "10.00", "currency": "KES"}]})
    };
    let path = "/v1/funds/KE-MWF/journal-entries";
    let res = app.post(path, &app.admin(), &entry(json!(10.0)));
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(res.error_fields(), vec!["/postings/0/amount"]);
    let res = app.post(path, &app.admin(), &entry(json!("10.001")));
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(res.error_fields(), vec!["/postings/0/amount"]);
    assert_eq!(res.body["errors"][0]["code"], "too_many_decimals");
    let res = app.post(path, &app.admin(), &entry(json!("-10.00")));
    assert_eq!(res.body["errors"][0]["code"], "not_positive");
    let res = app.post(path, &app.admin(), &entry(json!("1e3")));
    assert_eq!(res.body["errors"][0]["code"], "invalid_value");
    let bad_side = json!({"effective_date": "2026-01-05", "memo": "m", "postings": [
        {"account": "1000", "side": "left", "amount": "1.00", "currency": "KES"},
        {"account": "3100", "side": "credit", "amount": "1.00", "currency": "KES"}]});
    let res = app.post(path, &app.admin(), &bad_side);
    assert_eq!(res.error_fields(), vec!["/postings/0/side"]);
    assert_eq!(app.get("/v1/funds/KE-MWF", &app.admin()).body["entries"], 0);
}

#[test]
fn unknown_routes_and_wrong_methods_are_problems() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    app.get("/v1/nothing-here", &app.admin())
        .assert_problem(404, "ROUTE_NOT_FOUND");
    let res = app.delete("/v1/funds/KE-MWF", &app.admin());
    res.assert_problem(405, "METHOD_NOT_ALLOWED");
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
    let res = app.delete("/v1/funds/KE-MWF/journal-entries", &app.admin());
    res.assert_problem(405, "METHOD_NOT_ALLOWED");
    assert_eq!(res.header("allow"), Some("GET, HEAD, POST"));
}

#[test]
fn a_body_that_is_not_json_is_a_415_and_an_oversized_body_a_413() {
    let app = spawn();
    let res = app.post_raw(
        "/v1/funds",
        &app.admin(),
        "code=KE-MWF",
        &[("Content-Type", "application/x-www-form-urlencoded")],
    );
    res.assert_problem(415, "UNSUPPORTED_MEDIA_TYPE");
    let huge = format!("{{\"code\": \"{}\"}}", "A".repeat(2 * 1024 * 1024));
    let res = app.post_raw(
        "/v1/funds",
        &app.admin(),
        &huge,
        &[("Content-Type", "application/json")],
    );
    res.assert_problem(413, "PAYLOAD_TOO_LARGE");
}

#[test]
fn bad_query_parameters_are_a_400_naming_the_parameter() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let admin = app.admin();
    let res = app.get("/v1/funds/KE-MWF/accounts?as_of=yesterday", &admin);
    res.assert_problem(400, "INVALID_QUERY");
    assert_eq!(res.error_fields(), vec!["as_of"]);
    let res = app.get("/v1/funds/KE-MWF/accounts?asof=2026-01-01", &admin);
    res.assert_problem(400, "INVALID_QUERY");
    assert_eq!(res.error_fields(), vec!["asof"]);
    let res = app.get("/v1/funds?limit=501", &admin);
    res.assert_problem(400, "LIMIT_EXCEEDED");
    assert_eq!(res.body["limit"], 500);
    let res = app.get("/v1/funds?limit=ten", &admin);
    res.assert_problem(400, "INVALID_QUERY");
    let res = app.get("/v1/funds?after=xyz", &admin);
    res.assert_problem(400, "INVALID_QUERY");
    let res = app.get(
        "/v1/funds/KE-MWF/accounts/1000/statement?from=2026-02-01",
        &admin,
    );
    res.assert_problem(400, "INVALID_QUERY");
    assert_eq!(res.error_fields(), vec!["to"]);
}

#[test]
fn a_bad_idempotency_key_header_is_refused() {
    let app = spawn();
    let long = "k".repeat(300);
    let body = json!({"code": "KE-MWF", "country": "KE", "name": "Kenya", "currency": "KES"});
    let res = app.post_with_key("/v1/funds", &app.admin(), &long, &body);
    res.assert_problem(400, "INVALID_HEADER");
    assert_eq!(res.body["header"], "Idempotency-Key");
    app.get("/v1/funds/KE-MWF", &app.admin())
        .assert_problem(404, "NOT_FOUND");
}

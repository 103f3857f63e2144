//! Input hygiene at the edge: one rule for strings (no control characters, no
//! bidi overrides, nothing made only of invisible characters, names in NFC),
//! strict `YYYY-MM-DD` dates from 1900-01-01 to 2100-12-31, and no duplicate JSON
//! keys. Each bad input gets the same 4xx on SQLite and PostgreSQL.

use serde_json::{json, Value};

use crate::helpers::{spawn, Response, TestApp};

/// The `code` of the error listed for `field`.
#[track_caller]
fn error_code(res: &Response, field: &str) -> String {
    res.body["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["field"] == field))
        .and_then(|e| e["code"].as_str())
        .unwrap_or_else(|| panic!("no error for {field}: {}", res.text))
        .to_string()
}

fn worker(given_name: &str, family_name: &str, start: &str) -> Value {
    json!({
        "document_type": "passport", "document_number": "P1234567",
        "given_name": given_name, "family_name": family_name,
        "date_of_birth": "1990-04-02", "sex": "female",
        "occupation_sector": "domestic_work",
        "contracts": [{"employer": "Al Noor Household", "destination_country": "SA",
                       "start_date": start, "end_date": "2027-12-31"}]
    })
}

fn enroll(app: &TestApp, body: &Value) -> Response {
    app.post("/v1/funds/KE-MWF/workers", &app.admin(), body)
}

#[test]
fn nul_in_a_body_field_is_refused_naming_the_field() {
    let app = spawn();
    let res = app.post(
        "/v1/funds",
        &app.admin(),
        &json!({"code": "KE-MWF", "country": "KE", "name": "Kenya\u{0}fund", "currency": "KES"}),
    );
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(error_code(&res, "/name"), "control_character");
}

#[test]
fn control_characters_bidi_overrides_and_invisible_names_are_refused_each_by_pointer() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    for (given, family, code) in [
        ("Maria\u{1b}[31m", "Santos", "control_character"),
        ("Maria\r\nSantos", "Santos", "control_character"),
        ("Maria\tSantos", "Santos", "control_character"),
        ("Maria", "Santos\u{202e}", "bidi_override"),
        ("Maria", "\u{2067}Santos", "bidi_override"),
        ("Maria", "\u{200b}\u{200d}", "invisible_only"),
        ("Maria", " \u{feff} ", "invisible_only"),
    ] {
        let res = enroll(&app, &worker(given, family, "2026-01-01"));
        res.assert_problem(422, "VALIDATION_FAILED");
        let field = if given == "Maria" {
            "/family_name"
        } else {
            "/given_name"
        };
        assert_eq!(error_code(&res, field), code, "{given:?} {family:?}");
    }
    // Every bad field is listed at once, nested ones included.
    let mut body = worker("Ma\u{0}ria", "\u{202d}Santos", "2026-01-01");
    body["contracts"][0]["employer"] = json!("Al\u{7f}Noor");
    let res = enroll(&app, &body);
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(error_code(&res, "/given_name"), "control_character");
    assert_eq!(error_code(&res, "/family_name"), "bidi_override");
    assert_eq!(
        error_code(&res, "/contracts/0/employer"),
        "control_character"
    );
}

#[test]
fn a_name_sent_decomposed_is_stored_composed() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let res = enroll(&app, &worker("Jose\u{301}", "Nun\u{303}ez", "2026-01-01"));
    let body = res.expect(201);
    assert_eq!(body["given_name"], "Jos\u{e9}");
    assert_eq!(body["family_name"], "Nu\u{f1}ez");
    let id = body["id"].as_str().unwrap();
    let read = app.get(&format!("/v1/workers/{id}"), &app.admin());
    assert_eq!(read.expect(200)["given_name"], "Jos\u{e9}");
}

#[test]
fn a_line_break_is_allowed_in_a_memo_but_no_other_control_character() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let entry = |memo: &str| {
        json!({
            "effective_date": "2026-01-05", "memo": memo,
            "postings": [
                {"account": "1000", "side": "debit", "amount": "1.00", "currency": "KES"},
                {"account": "3100", "side": "credit", "amount": "1.00", "currency": "KES"}
            ]
        })
    };
    let path = "/v1/funds/KE-MWF/journal-entries";
    let ok = app.post(path, &app.admin(), &entry("opening\ncash"));
    assert_eq!(ok.expect(201)["memo"], "opening\ncash");
    let res = app.post(path, &app.admin(), &entry("opening\r\ncash"));
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(error_code(&res, "/memo"), "control_character");
}

#[test]
fn nul_or_a_bidi_override_in_a_query_filter_is_an_invalid_query_naming_it() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    for (query, parameter) in [
        (
            "/v1/funds/KE-MWF/workers?document_number=P%00",
            "document_number",
        ),
        ("/v1/audit-log?actor=a%00b", "actor"),
        ("/v1/audit-log?actor=%E2%80%AEnimda", "actor"),
    ] {
        let res = app.get(query, &app.admin());
        res.assert_problem(400, "INVALID_QUERY");
        assert_eq!(res.error_fields(), vec![parameter.to_string()], "{query}");
    }
}

#[test]
fn nul_or_a_control_character_in_a_path_id_is_an_invalid_path_parameter() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    for (path, parameter) in [
        ("/v1/funds/KE%00MWF", "fund"),
        ("/v1/funds/KE-MWF%1B/accounts", "fund"),
        ("/v1/funds/KE-MWF/accounts/1000%00", "code"),
        ("/v1/workers/%00", "id"),
        ("/v1/claims/abc%E2%80%AE", "id"),
        ("/v1/contributions/%0A", "id"),
    ] {
        let res = app.get(path, &app.admin());
        res.assert_problem(400, "INVALID_PATH_PARAMETER");
        assert_eq!(res.error_fields(), vec![parameter.to_string()], "{path}");
    }
    let res = app.post(
        "/v1/funds/KE%00MWF/workers",
        &app.admin(),
        &worker("Maria", "Santos", "2026-01-01"),
    );
    res.assert_problem(400, "INVALID_PATH_PARAMETER");
}

#[test]
fn dates_must_be_strict_iso_days_from_1900_to_2100() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    for (start, code) in [
        ("2026-1-1", "invalid_date"),
        ("2026-01-01T00:00:00", "invalid_date"),
        ("+2026-01-01", "invalid_date"),
        (" 2026-01-01", "invalid_date"),
        ("2026-02-30", "invalid_date"),
        ("0000-01-01", "date_out_of_range"),
        ("1899-12-31", "date_out_of_range"),
        ("2101-01-01", "date_out_of_range"),
    ] {
        let res = enroll(&app, &worker("Maria", "Santos", start));
        res.assert_problem(422, "VALIDATION_FAILED");
        assert_eq!(
            error_code(&res, "/contracts/0/start_date"),
            code,
            "{start}: {}",
            res.text
        );
    }
    let entry = json!({
        "effective_date": "-4714-01-01", "memo": "ancient",
        "postings": [
            {"account": "1000", "side": "debit", "amount": "1.00", "currency": "KES"},
            {"account": "3100", "side": "credit", "amount": "1.00", "currency": "KES"}
        ]
    });
    let res = app.post("/v1/funds/KE-MWF/journal-entries", &app.admin(), &entry);
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(error_code(&res, "/effective_date"), "invalid_date");
}

#[test]
fn dates_in_query_parameters_are_strict_too() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    for (query, parameter, code) in [
        (
            "/v1/funds/KE-MWF/accounts?as_of=-4714-01-01",
            "as_of",
            "invalid_date",
        ),
        (
            "/v1/funds/KE-MWF/accounts?as_of=2026-1-1",
            "as_of",
            "invalid_date",
        ),
        (
            "/v1/funds/KE-MWF/accounts?as_of=0000-01-01",
            "as_of",
            "date_out_of_range",
        ),
        (
            "/v1/funds/KE-MWF/reports/trial-balance?as_of=-4714-01-01",
            "as_of",
            "invalid_date",
        ),
        ("/v1/audit-log?from=0001-01-01", "from", "date_out_of_range"),
        (
            "/v1/funds/KE-MWF/journal-entries?to=2026-01-1",
            "to",
            "invalid_date",
        ),
    ] {
        let res = app.get(query, &app.admin());
        res.assert_problem(400, "INVALID_QUERY");
        assert_eq!(error_code(&res, parameter), code, "{query}");
    }
    // The edges of the range are accepted.
    app.get("/v1/funds/KE-MWF/accounts?as_of=1900-01-01", &app.admin())
        .expect(200);
    app.get("/v1/funds/KE-MWF/accounts?as_of=2100-12-31", &app.admin())
        .expect(200);
}

#[test]
fn a_duplicate_json_key_is_malformed_json_naming_the_key() {
    let app = spawn();
    let res = app.post_raw(
        "/v1/funds",
        &app.admin(),
        r#"{"code": "KE-MWF", "country": "KE", "name": "Kenya", "currency": "KES", "name": "Other"}"#,
        &[("Content-Type", "application/json")],
    );
    res.assert_problem(400, "MALFORMED_JSON");
    assert!(
        res.body["detail"].as_str().unwrap().contains("`name`"),
        "{}",
        res.text
    );
    assert_eq!(res.error_fields(), vec!["/name".to_string()]);
    app.create_fund("KE-MWF", "KE", "KES");
    let mut body = worker("Maria", "Santos", "2026-01-01").to_string();
    body = body.replace(
        r#""employer":"Al Noor Household""#,
        r#""employer":"Al Noor Household","employer":"Other""#,
    );
    let res = app.post_raw(
        "/v1/funds/KE-MWF/workers",
        &app.admin(),
        &body,
        &[("Content-Type", "application/json")],
    );
    res.assert_problem(400, "MALFORMED_JSON");
    assert_eq!(
        res.error_fields(),
        vec!["/contracts/0/employer".to_string()]
    );
}

#[test]
fn a_bad_string_in_a_batch_item_fails_that_item_only_and_names_it() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let mut second = worker("Ana\u{0}", "Cruz", "2026-01-01");
    second["document_number"] = json!("P7654321");
    let res = app.post(
        "/v1/funds/KE-MWF/workers/batch",
        &app.admin(),
        &json!({"items": [worker("Jose\u{301}", "Santos", "2026-01-01"), second]}),
    );
    let body = res.expect(200);
    assert_eq!(body["items"][0]["status"], "created", "{}", res.text);
    assert_eq!(body["items"][1]["status"], "failed");
    let problem = &body["items"][1]["problem"];
    assert_eq!(problem["code"], "VALIDATION_FAILED");
    assert_eq!(problem["errors"][0]["field"], "/items/1/given_name");
    assert_eq!(problem["errors"][0]["code"], "control_character");
    let found = app.get(
        "/v1/funds/KE-MWF/workers?document_number=P1234567",
        &app.admin(),
    );
    assert_eq!(found.expect(200)["items"][0]["given_name"], "Jos\u{e9}");
}

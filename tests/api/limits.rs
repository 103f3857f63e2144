//! Limits on body size, batch size, page size and string lengths: each refused
//! with a problem that names the limit (and the field or header).

use serde_json::{json, Value};

use crate::helpers::{spawn, Response, TestApp};

/// The field error for `field` in a validation problem.
#[track_caller]
fn field_error<'a>(res: &'a Response, field: &str) -> &'a Value {
    res.body["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["field"] == field))
        .unwrap_or_else(|| panic!("no error for {field}: {}", res.text))
}

/// Asserts a 422 naming `field` and the limit it went past.
#[track_caller]
fn assert_too_long(res: &Response, field: &str, limit: usize) {
    res.assert_problem(422, "VALIDATION_FAILED");
    let error = field_error(res, field);
    assert_eq!(error["limit"], limit, "{}", res.text);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains(&limit.to_string())),
        "{}",
        res.text
    );
}

fn worker(document: &str) -> Value {
    json!({
        "document_type": "passport", "document_number": document,
        "given_name": "Maria", "family_name": "Santos", "date_of_birth": "1990-04-02",
        "sex": "female"
    })
}

fn kenya() -> TestApp {
    let app = spawn();
    app.load_fund("KE-MWF");
    app
}

#[test]
fn a_body_over_one_mebibyte_is_refused_with_413_naming_the_limit() {
    let app = kenya();
    let memo = "x".repeat(1024 * 1024);
    let body = json!({"effective_date": "2026-01-05", "memo": memo, "postings": []});
    let res = app.post("/v1/funds/KE-MWF/journal-entries", &app.admin(), &body);
    let problem = res.assert_problem(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(problem["limit_bytes"], 1024 * 1024, "{}", res.text);
    // Just under the limit the body is read (and refused for what it says instead).
    let memo = "x".repeat(1000 * 1024);
    let body = json!({"effective_date": "2026-01-05", "memo": memo, "postings": []});
    let res = app.post("/v1/funds/KE-MWF/journal-entries", &app.admin(), &body);
    assert_too_long(&res, "/memo", 2000);
}

#[test]
fn a_batch_body_over_32_mebibytes_is_refused_with_413_naming_the_limit() {
    let app = kenya();
    let padding = "x".repeat(32 * 1024 * 1024);
    let res = app.post_raw(
        "/v1/funds/KE-MWF/workers/batch",
        &app.admin(),
        &format!("{{\"items\": [\"{padding}\"]}}"),
        &[("Content-Type", "application/json")],
    );
    let problem = res.assert_problem(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(problem["limit_bytes"], 32 * 1024 * 1024, "{}", res.text);
}

#[test]
fn a_batch_of_10001_items_is_refused_naming_the_limit_and_10000_are_taken() {
    let app = kenya();
    let items: Vec<Value> = (0..10_001).map(|i| worker(&format!("B{i:07}"))).collect();
    let res = app.post(
        "/v1/funds/KE-MWF/workers/batch",
        &app.admin(),
        &json!({ "items": items }),
    );
    let problem = res.assert_problem(400, "LIMIT_EXCEEDED");
    assert_eq!(problem["limit"], 10_000, "{}", res.text);
    assert_eq!(field_error(&res, "/items")["limit"], 10_000);
    // Nothing was enrolled.
    let listed = app.get("/v1/funds/KE-MWF/workers?limit=1", &app.admin());
    assert_eq!(listed.expect(200)["items"], json!([]));
    // An empty batch is refused the same way; 10,000 items are accepted.
    let res = app.post(
        "/v1/funds/KE-MWF/workers/batch",
        &app.admin(),
        &json!({ "items": [] }),
    );
    res.assert_problem(400, "LIMIT_EXCEEDED");
    let res = app.post(
        "/v1/funds/KE-MWF/workers/batch",
        &app.admin(),
        &json!({ "items": &items[..10_000] }),
    );
    assert_eq!(res.status, 200, "{}", &res.text[..res.text.len().min(2000)]);
    assert_eq!(res.body["created"], 10_000);
}

#[test]
fn a_page_size_over_500_is_refused_naming_the_limit() {
    let app = kenya();
    for path in [
        "/v1/funds?limit=501",
        "/v1/funds/KE-MWF/workers?limit=501",
        "/v1/funds/KE-MWF/journal-entries?limit=501",
        "/v1/funds/KE-MWF/contributions?limit=501",
        "/v1/funds/KE-MWF/claims?limit=501",
        "/v1/audit-log?limit=501",
        "/v1/events?limit=501",
    ] {
        let res = app.get(path, &app.admin());
        let problem = res.assert_problem(400, "LIMIT_EXCEEDED");
        assert_eq!(problem["limit"], 500, "{path}: {}", res.text);
        assert_eq!(field_error(&res, "limit")["limit"], 500, "{path}");
        // The largest page is served.
        let path = path.replace("501", "500");
        app.get(&path, &app.admin()).expect(200);
    }
    // An export page names its own limit.
    let res = app.get(
        "/v1/funds/KE-MWF/exports/ledger?format=jsonl&limit=1000001",
        &app.admin(),
    );
    let problem = res.assert_problem(400, "INVALID_QUERY");
    assert_eq!(problem["limit"], 1_000_000, "{}", res.text);
    assert_eq!(problem["errors"][0]["field"], "limit");
}

#[test]
fn an_over_long_worker_name_is_refused_naming_the_field_and_limit() {
    let app = kenya();
    let mut body = worker("L0000001");
    body["given_name"] = json!("M".repeat(201));
    let res = app.post("/v1/funds/KE-MWF/workers", &app.admin(), &body);
    assert_too_long(&res, "/given_name", 200);
    // 200 characters (not bytes: each of these is two bytes) are taken.
    body["given_name"] = json!("é".repeat(200));
    app.post("/v1/funds/KE-MWF/workers", &app.admin(), &body)
        .expect(201);
    // In a batch the item fails on its own, naming its field and the limit.
    let mut long = worker("L0000002");
    long["family_name"] = json!("S".repeat(201));
    let res = app.post(
        "/v1/funds/KE-MWF/workers/batch",
        &app.admin(),
        &json!({"items": [long, worker("L0000003")]}),
    );
    let batch = res.expect(200);
    assert_eq!(
        (batch["created"].as_u64(), batch["failed"].as_u64()),
        (Some(1), Some(1))
    );
    let problem = &batch["items"][0]["problem"];
    assert_eq!(problem["code"], "VALIDATION_FAILED", "{}", res.text);
    assert_eq!(problem["errors"][0]["field"], "/items/0/family_name");
    assert_eq!(problem["errors"][0]["limit"], 200);
}

#[test]
fn an_over_long_memo_is_refused_naming_the_field_and_limit() {
    let app = kenya();
    let entry = |memo: String| {
        json!({"effective_date": "2026-01-05", "memo": memo, "postings": [
            {"account": "1000", "side": "debit", "amount": "10.00", "currency": "KES"},
            {"account": "3100", "side": "credit", "amount": "10.00", "currency": "KES"}]})
    };
    let res = app.post(
        "/v1/funds/KE-MWF/journal-entries",
        &app.admin(),
        &entry("m".repeat(501)),
    );
    assert_too_long(&res, "/memo", 500);
    app.post(
        "/v1/funds/KE-MWF/journal-entries",
        &app.admin(),
        &entry("m".repeat(500)),
    )
    .expect(201);
}

#[test]
fn an_over_long_external_ref_is_refused_naming_the_field_and_limit() {
    let app = kenya();
    let (worker, contract) = app.enroll("KE-MWF", "K1000001", ("2026-03-01", "2028-02-28"));
    let body = json!({
        "worker_id": worker, "contract_id": contract, "paid_on": "2026-03-01",
        "amount": "1000.00", "currency": "KES", "external_ref": "R".repeat(129),
        "payers": [{"type": "worker", "amount": "1000.00"}]
    });
    let res = app.post("/v1/funds/KE-MWF/contributions", &app.admin(), &body);
    res.assert_problem(422, "VALIDATION_FAILED");
    let error = field_error(&res, "/external_ref");
    assert_eq!(error["limit"], 128, "{}", res.text);
}

#[test]
fn an_over_long_idempotency_key_is_refused_naming_the_header_and_limit() {
    let app = kenya();
    let body = json!({"code": "UG-MWF", "country": "UG", "name": "Uganda", "currency": "UGX"});
    let res = app.post_with_key("/v1/funds", &app.admin(), &"k".repeat(256), &body);
    let problem = res.assert_problem(400, "INVALID_HEADER");
    assert_eq!(problem["header"], "Idempotency-Key", "{}", res.text);
    assert_eq!(problem["limit"], 255, "{}", res.text);
    // Nothing was created; a key of 255 characters is taken.
    app.get("/v1/funds/UG-MWF", &app.admin())
        .assert_problem(404, "NOT_FOUND");
    app.post_with_key("/v1/funds", &app.admin(), &"k".repeat(255), &body)
        .expect(201);
}

#[test]
fn no_string_in_a_body_is_unbounded() {
    let app = kenya();
    let (worker, _) = app.enroll("KE-MWF", "K1000002", ("2026-03-01", "2028-02-28"));
    // Fields without a tighter bound of their own take at most 2,000 characters:
    // a claim's free-text grade and benefit, a fund's code, a contract's occupation.
    let claim = json!({"benefit": "B".repeat(2001), "incident_date": "2026-04-01",
                       "grade": "1".repeat(2001)});
    let res = app.post(
        &format!("/v1/workers/{worker}/claims"),
        &app.admin(),
        &claim,
    );
    assert_too_long(&res, "/benefit", 2000);
    assert_too_long(&res, "/grade", 2000);
    let fund =
        json!({"code": "C".repeat(5000), "country": "UG", "name": "Uganda", "currency": "UGX"});
    let res = app.post("/v1/funds", &app.admin(), &fund);
    assert_too_long(&res, "/code", 2000);
    // A contract's occupation, checked before the contract is.
    let res = app.post(
        &format!("/v1/workers/{worker}/contracts"),
        &app.admin(),
        &json!({"employer": "E", "destination_country": "SA", "start_date": "2026-05-01",
                "occupation": "o".repeat(2001)}),
    );
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(
        field_error(&res, "/occupation")["limit"],
        2000,
        "{}",
        res.text
    );
    // The OpenAPI document says so: every string of a request schema has a maxLength,
    // an enumeration or a format.
    let doc = app.get("/openapi.json", "");
    let doc = doc.expect(200);
    let unbounded = unbounded_request_strings(doc);
    assert!(
        unbounded.is_empty(),
        "request strings without a bound: {unbounded:?}"
    );
    let bound = |schema: &str, field: &str| {
        doc["components"]["schemas"][schema]["properties"][field]["maxLength"].as_u64()
    };
    assert_eq!(bound("ClaimRequest", "benefit"), Some(2000));
    // Fields with a tighter bound of their own document it.
    assert_eq!(bound("EnrollWorker", "given_name"), Some(200));
    assert_eq!(bound("PostJournalEntry", "memo"), Some(500));
    assert_eq!(bound("CreateAccount", "code"), Some(32));
}

/// Paths (`Schema/property/...`) of request-body strings with no `maxLength`,
/// `enum`, `const` or `format`.
fn unbounded_request_strings(doc: &Value) -> Vec<String> {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    out.push(r.trim_start_matches("#/components/schemas/").to_string());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    fn walk(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                let is_string = match &m.get("type") {
                    Some(Value::String(t)) => t == "string",
                    Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                    _ => false,
                };
                if is_string
                    && !["maxLength", "enum", "const", "format"]
                        .iter()
                        .any(|k| m.contains_key(*k))
                {
                    out.push(at.clone());
                }
                for (k, v) in m {
                    walk(v, format!("{at}/{k}"), out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, at.clone(), out)),
            _ => {}
        }
    }
    let mut names = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            refs(&op["requestBody"], &mut names);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    while let Some(name) = names.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let schema = &doc["components"]["schemas"][&name];
        refs(schema, &mut names);
        walk(schema, name, &mut out);
    }
    assert!(seen.len() > 20, "request schemas found: {seen:?}");
    out
}

use crate::helpers::spawn;

#[test]
fn health_and_readiness_answer_without_a_token() {
    let app = spawn();
    assert_eq!(app.get("/healthz", "").expect(200)["status"], "ok");
    let ready = app.get("/readyz", "");
    assert_eq!(ready.expect(200)["status"], "ok");
    let expected = if app.is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    assert_eq!(ready.body["database"], expected);
}

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = mwf::http::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `cargo run -- openapi > openapi/openapi.json` \
         (or UPDATE_OPENAPI=1 cargo test the_committed_openapi)"
    );
}

#[test]
fn the_server_serves_the_same_document_and_a_docs_page() {
    let app = spawn();
    let served = app.get("/openapi.json", "");
    served.expect(200);
    assert!(served.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let generated: serde_json::Value = serde_json::from_str(&mwf::http::openapi_json()).unwrap();
    assert_eq!(served.body, generated);
    for path in [
        "/v1/funds",
        "/v1/funds/{fund}/journal-entries",
        "/v1/funds/{fund}/ledger/verify",
        "/v1/audit-log",
    ] {
        assert!(
            served.body["paths"][path].is_object(),
            "{path} missing from the document"
        );
    }
    let docs = app.get("/docs/", "");
    assert_eq!(docs.status, 200);
    assert!(
        docs.text.contains("swagger-ui"),
        "docs page: {}",
        &docs.text[..200.min(docs.text.len())]
    );
    let initializer = app.get("/docs/swagger-initializer.js", "");
    assert_eq!(initializer.status, 200);
    assert!(initializer.text.contains("/openapi.json"));
}

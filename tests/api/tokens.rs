//! Token claims beyond the signature: time claims with leeway, the longest
//! lifetime, the subject's shape, and the principal (issuer and subject) that
//! idempotency and four-eyes compare.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp, SECRET};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn base(sub: &str) -> Value {
    json!({"sub": sub, "role": "admin", "funds": ["*"], "exp": now() + 3600,
           "iat": now(), "iss": "mwf", "aud": "mwf"})
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}

fn without(mut claims: Value, field: &str) -> Value {
    claims.as_object_mut().unwrap().remove(field);
    claims
}

fn hs256(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn rs256(claims: &Value) -> String {
    let pem = std::fs::read(format!(
        "{}/tests/keys/rsa_private.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap()
}

/// 401 with `code`, and a detail that names `claim`.
fn assert_refused_naming(app: &TestApp, token: &str, code: &str, claim: &str) -> String {
    let res = app.get("/v1/funds", token);
    res.assert_problem(401, code);
    let detail = res.body["detail"].as_str().unwrap_or_default().to_string();
    assert!(
        detail.contains(claim),
        "the detail {detail:?} should name {claim}"
    );
    detail
}

#[test]
fn a_token_not_valid_before_a_future_time_is_refused_beyond_the_leeway() {
    let app = spawn();
    let later = with(base("nadia"), "nbf", json!(now() + 3600));
    assert_refused_naming(&app, &hs256(&later), "TOKEN_INVALID", "nbf");
    let skewed = with(base("nadia"), "nbf", json!(now() + 5));
    app.get("/v1/funds", &hs256(&skewed)).expect(200);
}

#[test]
fn a_token_issued_in_the_future_is_refused_beyond_the_leeway() {
    let app = spawn();
    let future = with(base("ivan"), "iat", json!(now() + 3600));
    assert_refused_naming(&app, &hs256(&future), "TOKEN_INVALID", "iat");
    let skewed = with(base("ivan"), "iat", json!(now() + 5));
    app.get("/v1/funds", &hs256(&skewed)).expect(200);
}

#[test]
fn a_token_living_longer_than_the_maximum_lifetime_is_refused() {
    let app = spawn();
    let year = with(base("lena"), "exp", json!(now() + 365 * 24 * 3600));
    assert_refused_naming(&app, &hs256(&year), "TOKEN_INVALID", "lifetime");
    // Without iat, the lifetime left (exp − now) counts.
    let no_iat = without(year, "iat");
    assert_refused_naming(&app, &hs256(&no_iat), "TOKEN_INVALID", "lifetime");
    // Issued a while ago for two days: exp − iat is what counts.
    let old = with(
        with(base("lena"), "iat", json!(now() - 40 * 3600)),
        "exp",
        json!(now() + 8 * 3600),
    );
    assert_refused_naming(&app, &hs256(&old), "TOKEN_INVALID", "lifetime");
    let day = with(base("lena"), "exp", json!(now() + 23 * 3600));
    app.get("/v1/funds", &hs256(&day)).expect(200);
    app.get("/v1/funds", &hs256(&without(day, "iat")))
        .expect(200);
}

#[test]
fn an_expiry_in_the_past_or_not_a_time_is_never_reported_as_missing() {
    let app = spawn();
    let detail = assert_refused_naming(
        &app,
        &hs256(&with(base("eve"), "exp", json!(-1))),
        "TOKEN_EXPIRED",
        "expired",
    );
    assert!(!detail.contains("missing"), "{detail}");
    let detail = assert_refused_naming(
        &app,
        &hs256(&with(base("eve"), "exp", json!("tomorrow"))),
        "TOKEN_INVALID",
        "exp",
    );
    assert!(!detail.contains("missing"), "{detail}");
    assert_refused_naming(
        &app,
        &hs256(&without(base("eve"), "exp")),
        "TOKEN_INVALID",
        "missing claim exp",
    );
}

#[test]
fn a_subject_longer_than_255_characters_is_refused() {
    let app = spawn();
    let long = "é".repeat(256);
    assert_refused_naming(&app, &hs256(&base(&long)), "TOKEN_INVALID", "sub");
    let huge = "x".repeat(20_000);
    assert_refused_naming(&app, &hs256(&base(&huge)), "TOKEN_INVALID", "sub");
    let longest = "é".repeat(255);
    app.get("/v1/funds", &hs256(&base(&longest))).expect(200);
}

#[test]
fn a_subject_with_a_control_character_is_refused_the_same_on_both_backends() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    for sub in ["nul\u{0}byte", "line\nbreak", "esc\u{1b}[31m", "del\u{7f}"] {
        let token = hs256(&base(sub));
        assert_refused_naming(&app, &token, "TOKEN_INVALID", "sub");
        app.post(
            "/v1/funds/KE-MWF/journal-entries",
            &token,
            &json!({"date": "2026-01-01", "postings": []}),
        )
        .assert_problem(401, "TOKEN_INVALID");
    }
}

#[test]
fn a_subject_with_surrounding_whitespace_is_refused_so_it_cannot_pass_for_another() {
    let app = spawn();
    for sub in [
        "demo-officer ",
        " demo-officer",
        "\u{a0}demo-officer",
        "   ",
    ] {
        let token = hs256(&with(base(sub), "role", json!("approver")));
        let res = app.post("/v1/claims/CLM-1/approvals", &token, &json!({}));
        res.assert_problem(401, "TOKEN_INVALID");
        assert!(res.body["detail"].as_str().unwrap().contains("sub"));
    }
}

#[test]
fn the_same_subject_from_the_shared_secret_and_from_a_public_key_are_different_callers() {
    let app = spawn();
    let body = |code: &str, country: &str, currency: &str| json!({"code": code, "name": format!("{code} fund"), "country": country, "currency": currency});
    let from_secret = hs256(&base("kim"));
    let from_key = rs256(&base("kim"));
    app.post_with_key(
        "/v1/funds",
        &from_secret,
        "k-1",
        &body("KE-MWF", "KE", "KES"),
    )
    .expect(201);
    // Another caller's key is not this caller's: no replay, no reuse refusal.
    let res = app.post_with_key("/v1/funds", &from_key, "k-1", &body("UG-MWF", "UG", "UGX"));
    res.expect(201);
    assert_eq!(res.header("idempotent-replayed"), None);
}

#[test]
fn one_subject_in_two_unicode_spellings_is_one_caller() {
    let app = spawn();
    let body = |code: &str, country: &str, currency: &str| json!({"code": code, "name": format!("{code} fund"), "country": country, "currency": currency});
    let composed = hs256(&base("Jos\u{e9}"));
    let decomposed = hs256(&base("Jose\u{301}"));
    app.post_with_key("/v1/funds", &composed, "k-1", &body("KE-MWF", "KE", "KES"))
        .expect(201);
    app.post_with_key(
        "/v1/funds",
        &decomposed,
        "k-1",
        &body("UG-MWF", "UG", "UGX"),
    )
    .assert_problem(409, "IDEMPOTENCY_KEY_REUSED");
    let replay = app.post_with_key(
        "/v1/funds",
        &decomposed,
        "k-1",
        &body("KE-MWF", "KE", "KES"),
    );
    replay.expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
}

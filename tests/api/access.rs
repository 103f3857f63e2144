//! Authentication, roles and fund scope.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use mwf::auth::Role;
use serde_json::json;

use crate::helpers::{spawn, TestApp, SECRET};

fn claims(role: &str, funds: &[&str], exp_offset: i64, iss: &str, aud: &str) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": "someone", "role": role, "funds": funds, "exp": now + exp_offset, "iss": iss, "aud": aud})
}

fn hs256(claims: &serde_json::Value, secret: &[u8]) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn key_file(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn two_funds() -> TestApp {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    app.create_fund("UG-MWF", "UG", "UGX");
    app
}

#[test]
fn requests_without_a_token_or_with_a_malformed_one_are_refused_with_401() {
    let app = spawn();
    app.get("/v1/funds", "")
        .assert_problem(401, "UNAUTHENTICATED");
    assert_eq!(
        app.get("/v1/funds", "").header("www-authenticate"),
        Some("Bearer realm=\"mwf\"")
    );
    app.get("/v1/funds", "not-a-jwt")
        .assert_problem(401, "TOKEN_INVALID");
    // Genuinely signed, but a role mwf does not know.
    app.get(
        "/v1/funds",
        &hs256(
            &claims("superuser", &["*"], 3600, "mwf", "mwf"),
            SECRET.as_bytes(),
        ),
    )
    .assert_problem(401, "TOKEN_INVALID");
    // A genuine token is accepted, so the refusals above are about what was wrong.
    let admin = claims("admin", &["*"], 3600, "mwf", "mwf");
    app.get("/v1/funds", &hs256(&admin, SECRET.as_bytes()))
        .expect(200);
}

fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | *b as u32) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn rs256_and_es256_tokens_from_configured_public_keys_are_accepted() {
    let app = spawn();
    let auditor = claims("auditor", &["*"], 3600, "mwf", "mwf");
    let rs = encode(
        &Header::new(Algorithm::RS256),
        &auditor,
        &EncodingKey::from_rsa_pem(&key_file("rsa_private.pem")).unwrap(),
    )
    .unwrap();
    app.get("/v1/funds", &rs).expect(200);
    let es = encode(
        &Header::new(Algorithm::ES256),
        &auditor,
        &EncodingKey::from_ec_pem(&key_file("ec_private.pem")).unwrap(),
    )
    .unwrap();
    app.get("/v1/funds", &es).expect(200);
    // HS/RS confusion: an HS256 token keyed with the public key's PEM text must fail.
    let confused = hs256(&auditor, &key_file("rsa_public.pem"));
    app.get("/v1/funds", &confused)
        .assert_problem(401, "TOKEN_INVALID");
}

#[test]
fn a_token_of_another_fund_sees_404_and_lists_only_its_funds() {
    let app = two_funds();
    let kenya = app.token(Role::Ministry, &["KE-MWF"]);
    app.get("/v1/funds/KE-MWF", &kenya).expect(200);
    app.get("/v1/funds/UG-MWF", &kenya)
        .assert_problem(404, "NOT_FOUND");
    app.get("/v1/funds/UG-MWF/accounts", &kenya)
        .assert_problem(404, "NOT_FOUND");
    app.get("/v1/funds/UG-MWF/ledger/verify", &kenya)
        .assert_problem(404, "NOT_FOUND");
    // Out of scope reads exactly like a fund that does not exist.
    let missing = app.get("/v1/funds/ZZ-NONE", &kenya);
    missing.assert_problem(404, "NOT_FOUND");
    let listed = app.get("/v1/funds", &kenya);
    let codes: Vec<&str> = listed.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["KE-MWF"]);
    let scoped_admin = app.token(Role::Admin, &["KE-MWF"]);
    app.transfer("KE-MWF", "2026-01-05", "1000", "3100", "10.00", "KES")
        .expect(201);
    let body = json!({"effective_date": "2026-01-05", "memo": "x", "postings": [
        {"account": "1000", "side": "debit", "amount": "5", "currency": "UGX"},
        {"account": "3100", "side": "credit", "amount": "5", "currency": "UGX"}]});
    app.post("/v1/funds/UG-MWF/journal-entries", &scoped_admin, &body)
        .assert_problem(404, "NOT_FOUND");
    assert_eq!(app.get("/v1/funds/UG-MWF", &app.admin()).body["entries"], 0);
}

#[test]
fn each_role_may_do_only_what_its_role_allows() {
    let app = two_funds();
    let entry = json!({"effective_date": "2026-01-05", "memo": "grant", "postings": [
        {"account": "1000", "side": "debit", "amount": "100.00", "currency": "KES"},
        {"account": "4200", "side": "credit", "amount": "100.00", "currency": "KES"}]});
    let fund = json!({"code": "NP-FEWF", "country": "NP", "name": "Nepal", "currency": "NPR"});
    let account = json!({"code": "1010", "name": "USD cash", "type": "asset", "currency": "USD"});
    let close = json!({"through": "2025-12-31"});
    for role in [Role::Officer, Role::Approver, Role::Ministry, Role::Auditor] {
        let token = app.token(role, &["*"]);
        // reads are open to every role
        app.get("/v1/funds/KE-MWF", &token).expect(200);
        app.get("/v1/funds/KE-MWF/accounts", &token).expect(200);
        app.get("/v1/funds/KE-MWF/journal-entries", &token)
            .expect(200);
        app.get("/v1/funds/KE-MWF/ledger/verify", &token)
            .expect(200);
        // ledger and fund administration is the admin's
        app.post("/v1/funds", &token, &fund)
            .assert_problem(403, "ROLE_NOT_PERMITTED");
        app.post("/v1/funds/KE-MWF/journal-entries", &token, &entry)
            .assert_problem(403, "ROLE_NOT_PERMITTED");
        app.post("/v1/funds/KE-MWF/accounts", &token, &account)
            .assert_problem(403, "ROLE_NOT_PERMITTED");
        app.post("/v1/funds/KE-MWF/periods/close", &token, &close)
            .assert_problem(403, "ROLE_NOT_PERMITTED");
        let audit = app.get("/v1/audit-log", &token);
        if role == Role::Auditor {
            audit.expect(200);
        } else {
            audit.assert_problem(403, "ROLE_NOT_PERMITTED");
        }
    }
    // Nothing was written by the refused requests.
    assert_eq!(app.get("/v1/funds/KE-MWF", &app.admin()).body["entries"], 0);
    app.get("/v1/funds/NP-FEWF", &app.admin())
        .assert_problem(404, "NOT_FOUND");
    // The admin may do all of it.
    let admin = app.admin();
    app.post("/v1/funds", &admin, &fund).expect(201);
    app.post("/v1/funds/KE-MWF/journal-entries", &admin, &entry)
        .expect(201);
    app.post("/v1/funds/KE-MWF/accounts", &admin, &account)
        .expect(201);
    app.post("/v1/funds/KE-MWF/periods/close", &admin, &close)
        .expect(200);
    app.get("/v1/audit-log", &admin).expect(200);
}

#[test]
fn an_admin_limited_to_some_funds_cannot_create_another() {
    let app = spawn();
    let kenya_admin = app.token(Role::Admin, &["KE-MWF"]);
    let body = json!({"code": "UG-MWF", "country": "UG", "name": "Uganda", "currency": "UGX"});
    app.post("/v1/funds", &kenya_admin, &body)
        .assert_problem(403, "FUND_NOT_IN_SCOPE");
    let body = json!({"code": "KE-MWF", "country": "KE", "name": "Kenya", "currency": "KES"});
    app.post("/v1/funds", &kenya_admin, &body).expect(201);
}

// Tokens that must fail, one case per test: each is refused with 401
// problem+json and its code, and the same claims genuinely signed are accepted,
// so the refusal is about what was changed.

/// Asserts `token` is refused with 401 `code` on a read every role may do.
#[track_caller]
fn assert_refused(app: &TestApp, token: &str, code: &str) {
    let res = app.get("/v1/funds/KE-MWF", token);
    res.assert_problem(401, code);
    assert_eq!(res.header("www-authenticate"), Some("Bearer realm=\"mwf\""));
}

fn kenya() -> TestApp {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    app.create_fund("UG-MWF", "UG", "UGX");
    app
}

fn b64_json(v: &serde_json::Value) -> String {
    base64_url(v.to_string().as_bytes())
}

/// A token with this header and claims, its signature computed over them with
/// `key` and `alg` (which need not be the header's algorithm).
fn signed_as(
    header: &serde_json::Value,
    claims: &serde_json::Value,
    key: &EncodingKey,
    alg: Algorithm,
) -> String {
    let message = format!("{}.{}", b64_json(header), b64_json(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

#[test]
fn token_with_alg_none_is_refused() {
    let app = kenya();
    let admin = claims("admin", &["*"], 3600, "mwf", "mwf");
    for alg in ["none", "None", "NONE"] {
        let unsigned = format!(
            "{}.{}.",
            b64_json(&json!({"alg": alg, "typ": "JWT"})),
            b64_json(&admin)
        );
        assert_refused(&app, &unsigned, "TOKEN_INVALID");
    }
    // alg none carrying a valid HS256 signature of the same claims is refused too.
    let genuine = hs256(&admin, SECRET.as_bytes());
    let signature = genuine.rsplit('.').next().unwrap();
    let none_signed = format!(
        "{}.{}.{signature}",
        b64_json(&json!({"alg": "none", "typ": "JWT"})),
        b64_json(&admin)
    );
    assert_refused(&app, &none_signed, "TOKEN_INVALID");
    app.get("/v1/funds/KE-MWF", &genuine).expect(200);
}

#[test]
fn token_signed_with_a_wrong_hs256_key_is_refused() {
    let app = kenya();
    let admin = claims("admin", &["*"], 3600, "mwf", "mwf");
    let wrong = hs256(&admin, b"another-secret-another-secret-another-secret");
    assert_refused(&app, &wrong, "TOKEN_INVALID");
    app.get("/v1/funds/KE-MWF", &hs256(&admin, SECRET.as_bytes()))
        .expect(200);
}

#[test]
fn token_signed_with_an_unconfigured_rsa_key_is_refused() {
    let app = kenya();
    let auditor = claims("auditor", &["*"], 3600, "mwf", "mwf");
    let rs = |pem: &str| {
        encode(
            &Header::new(Algorithm::RS256),
            &auditor,
            &EncodingKey::from_rsa_pem(&key_file(pem)).unwrap(),
        )
        .unwrap()
    };
    assert_refused(&app, &rs("other_rsa_private.pem"), "TOKEN_INVALID");
    app.get("/v1/funds/KE-MWF", &rs("rsa_private.pem"))
        .expect(200);
}

#[test]
fn hs256_token_keyed_with_the_rsa_public_key_is_refused() {
    let app = kenya();
    let auditor = claims("auditor", &["*"], 3600, "mwf", "mwf");
    // The classic confusion: the verifier's public key used as an HMAC secret.
    let confused = hs256(&auditor, &key_file("rsa_public.pem"));
    assert_refused(&app, &confused, "TOKEN_INVALID");
    let confused = hs256(&auditor, &key_file("ec_public.pem"));
    assert_refused(&app, &confused, "TOKEN_INVALID");
}

#[test]
fn rs256_or_es256_header_over_an_hmac_signature_is_refused() {
    let app = kenya();
    let auditor = claims("auditor", &["*"], 3600, "mwf", "mwf");
    let secret = EncodingKey::from_secret(SECRET.as_bytes());
    for alg in ["RS256", "ES256", "PS256"] {
        // An HMAC with the server's own secret, under a public-key algorithm's header.
        let token = signed_as(
            &json!({"alg": alg, "typ": "JWT"}),
            &auditor,
            &secret,
            Algorithm::HS256,
        );
        assert_refused(&app, &token, "TOKEN_INVALID");
    }
    let genuine = signed_as(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &auditor,
        &secret,
        Algorithm::HS256,
    );
    app.get("/v1/funds/KE-MWF", &genuine).expect(200);
}

#[test]
fn expired_token_is_refused_as_expired() {
    let app = kenya();
    let expired = hs256(
        &claims("admin", &["*"], -3600, "mwf", "mwf"),
        SECRET.as_bytes(),
    );
    assert_refused(&app, &expired, "TOKEN_EXPIRED");
    app.get(
        "/v1/funds/KE-MWF",
        &hs256(
            &claims("admin", &["*"], 3600, "mwf", "mwf"),
            SECRET.as_bytes(),
        ),
    )
    .expect(200);
}

#[test]
fn token_of_another_issuer_is_refused() {
    let app = kenya();
    let token = hs256(
        &claims("admin", &["*"], 3600, "someone-else", "mwf"),
        SECRET.as_bytes(),
    );
    assert_refused(&app, &token, "TOKEN_INVALID");
}

#[test]
fn token_for_another_audience_is_refused() {
    let app = kenya();
    let token = hs256(
        &claims("admin", &["*"], 3600, "mwf", "other"),
        SECRET.as_bytes(),
    );
    assert_refused(&app, &token, "TOKEN_INVALID");
}

#[test]
fn token_whose_role_was_edited_is_refused() {
    let app = kenya();
    let auditor = hs256(
        &claims("auditor", &["KE-MWF"], 3600, "mwf", "mwf"),
        SECRET.as_bytes(),
    );
    app.get("/v1/funds/KE-MWF", &auditor).expect(200);
    let parts: Vec<&str> = auditor.split('.').collect();
    let edited = claims("admin", &["KE-MWF"], 3600, "mwf", "mwf");
    let forged = format!("{}.{}.{}", parts[0], b64_json(&edited), parts[2]);
    assert_refused(&app, &forged, "TOKEN_INVALID");
}

#[test]
fn token_whose_fund_list_was_edited_is_refused() {
    let app = kenya();
    let original = claims("ministry", &["KE-MWF"], 3600, "mwf", "mwf");
    let kenya_only = hs256(&original, SECRET.as_bytes());
    app.get("/v1/funds/UG-MWF", &kenya_only)
        .assert_problem(404, "NOT_FOUND");
    let parts: Vec<&str> = kenya_only.split('.').collect();
    for funds in [&["*"][..], &["KE-MWF", "UG-MWF"][..], &["UG-MWF"][..]] {
        let mut edited = original.clone();
        edited["funds"] = json!(funds);
        let forged = format!("{}.{}.{}", parts[0], b64_json(&edited), parts[2]);
        assert_refused(&app, &forged, "TOKEN_INVALID");
        let res = app.get("/v1/funds/UG-MWF", &forged);
        res.assert_problem(401, "TOKEN_INVALID");
    }
}

#[test]
fn token_without_an_expiry_is_refused() {
    let app = kenya();
    let mut eternal = claims("admin", &["*"], 3600, "mwf", "mwf");
    eternal.as_object_mut().unwrap().remove("exp");
    assert_refused(&app, &hs256(&eternal, SECRET.as_bytes()), "TOKEN_INVALID");
}

/// The audit records `token` may read, oldest first.
fn audit_log_of(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    let mut path = "/v1/audit-log?limit=500".to_string();
    loop {
        let page = app.get(&path, token);
        let page = page.expect(200);
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => path = format!("/v1/audit-log?limit=500&after={next}"),
            None => return items,
        }
    }
}

/// A worker of `fund` covered by one contribution (`paid`: date, amount,
/// currency), with `claim` filed and approved by an officer, and a dependant
/// added after; returns the claim.
fn decided_claim(
    app: &TestApp,
    fund: &str,
    contract: (&str, &str),
    paid: (&str, &str, &str),
    claim: serde_json::Value,
) -> String {
    let (worker, contract_id) = app.enroll(fund, &format!("{fund}-1"), contract);
    app.contribute(
        fund,
        &worker,
        Some(&contract_id),
        paid.0,
        (paid.1, paid.2, paid.1),
    )
    .expect(201);
    let mut claim = claim;
    if claim["claimant"]["relationship"] == "spouse" {
        let w = app.get(&format!("/v1/workers/{worker}"), &app.admin());
        claim["claimant"]["dependant_id"] = w.expect(200)["dependants"][0]["id"].clone();
    }
    let filed = app.post(
        &format!("/v1/workers/{worker}/claims"),
        &app.admin(),
        &claim,
    );
    let id = filed.expect(201)["id"].as_str().unwrap().to_string();
    let officer = app.token_for("olivia", Role::Officer, &[fund]);
    app.post(
        &format!("/v1/claims/{id}/decision"),
        &officer,
        &json!({"outcome": "approve"}),
    )
    .expect(200);
    let child = json!({"name": "Lea", "relationship": "child", "date_of_birth": "2015-01-01"});
    app.post(
        &format!("/v1/workers/{worker}/dependants"),
        &app.admin(),
        &child,
    )
    .expect(201);
    id
}

#[test]
fn a_one_fund_auditor_reads_every_record_of_its_fund_and_none_of_another() {
    let app = spawn();
    app.load_fund("PH-OWWA");
    app.load_fund("KE-MWF");
    app.transfer("PH-OWWA", "2018-01-02", "1000", "3100", "500000.00", "PHP")
        .expect(201);
    let documents: Vec<serde_json::Value> = [
        "DEATH_CERTIFICATE",
        "PROOF_OF_RELATIONSHIP",
        "CLAIMANT_ID",
        "BURIAL_PERMIT_AND_FUNERAL_RECEIPT",
        "POLICE_OR_ACCIDENT_REPORT",
    ]
    .iter()
    .map(|t| json!({"type": t, "reference": "R-1"}))
    .collect();
    let death = json!({"benefit": "DEATH_ACCIDENT", "incident_date": "2018-05-10", "incident_phase": "abroad",
                       "filed_on": "2018-06-01", "claimant": {"relationship": "spouse"}, "documents": documents});
    let ph = decided_claim(
        &app,
        "PH-OWWA",
        ("2017-03-15", "2019-03-14"),
        ("2017-03-01", "25.00", "USD"),
        death,
    );
    // Above the threshold: a second approval, then the payment.
    let approver = app.token_for("amara", Role::Approver, &["PH-OWWA"]);
    app.post(&format!("/v1/claims/{ph}/approvals"), &approver, &json!({}))
        .expect(200);
    let today = mwf::time::today().to_string();
    app.post(
        &format!("/v1/claims/{ph}/payment"),
        &app.admin(),
        &json!({"paid_on": today}),
    )
    .expect(200);
    // A refusal of a claim that was found names its fund too.
    app.post(
        &format!("/v1/claims/{ph}/payment"),
        &app.admin(),
        &json!({"paid_on": today}),
    )
    .assert_problem(409, "CLAIM_STATUS_CONFLICT");
    let distress = json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
                          "filed_on": "2026-03-05", "claimant": {"relationship": "worker"}, "claimed_amount": "1000.00",
                          "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]});
    let ke = decided_claim(
        &app,
        "KE-MWF",
        ("2026-02-01", "2028-07-31"),
        ("2026-01-05", "3000.00", "KES"),
        distress,
    );
    app.post(
        &format!("/v1/claims/{ke}/payment"),
        &app.admin(),
        &json!({"paid_on": today}),
    )
    .expect(200);
    // An unknown claim names no fund.
    app.post(
        "/v1/claims/no-such-claim/payment",
        &app.admin(),
        &json!({"paid_on": today}),
    )
    .assert_problem(404, "NOT_FOUND");

    let of = |fund: &str, claim: &str| {
        let auditor = app.token(Role::Auditor, &[fund]);
        let records = audit_log_of(&app, &auditor);
        for r in &records {
            assert_eq!(r["fund"], fund, "{r}");
        }
        let about = |action: &str| {
            records.iter().any(|r| {
                let target = r["target"].as_str().unwrap_or("");
                r["action"] == action
                    && r["outcome"] == "succeeded"
                    && (!action.starts_with("claim.") || target.contains(claim))
            })
        };
        for action in [
            "worker.enroll",
            "contribution.record",
            "worker.add_dependant",
            "claim.submit",
            "claim.decide",
            "claim.pay",
        ] {
            assert!(
                about(action),
                "{fund} auditor misses {action}: {records:#?}"
            );
        }
        records
    };
    let ph_records = of("PH-OWWA", &ph);
    assert!(ph_records
        .iter()
        .any(|r| r["action"] == "claim.approve" && r["outcome"] == "succeeded"));
    assert!(ph_records
        .iter()
        .any(|r| r["action"] == "claim.pay" && r["outcome"] == "refused:CLAIM_STATUS_CONFLICT"));
    assert!(ph_records
        .iter()
        .all(|r| !r["target"].as_str().unwrap_or("").contains(&ke)));
    let ke_records = of("KE-MWF", &ke);
    assert!(ke_records
        .iter()
        .all(|r| !r["target"].as_str().unwrap_or("").contains(&ph)));
    // Every claim record of a fund is one its auditor reads.
    let all = audit_log_of(&app, &app.token(Role::Auditor, &["*"]));
    for r in &all {
        let target = r["target"].as_str().unwrap_or("");
        if target.contains(&ph) {
            assert_eq!(r["fund"], "PH-OWWA", "{r}");
        }
        if target.contains(&ke) {
            assert_eq!(r["fund"], "KE-MWF", "{r}");
        }
    }
    let unknown = all
        .iter()
        .find(|r| r["action"] == "claim.pay" && r["outcome"] == "refused:NOT_FOUND")
        .expect("the unknown claim's refusal is audited");
    assert_eq!(unknown["fund"], serde_json::Value::Null);
}

/// Reverts and re-applies the migration that gave audit records and stored
/// responses their fund, as an upgrade of a database written before it.
fn upgrade_to_audit_fund(app: &TestApp) {
    use diesel::migration::{Migration, MigrationSource};
    use diesel_migrations::MigrationHarness;
    use mwf::db::DbConnection;
    fn again<DB, C>(c: &mut C, source: &diesel_migrations::EmbeddedMigrations)
    where
        DB: diesel::backend::Backend,
        C: MigrationHarness<DB>,
        diesel_migrations::EmbeddedMigrations: MigrationSource<DB>,
    {
        let all: Vec<Box<dyn Migration<DB>>> = source.migrations().unwrap();
        let mine = all
            .iter()
            .find(|m| m.name().to_string().ends_with("_audit_fund"))
            .expect("the audit_fund migration");
        c.revert_migration(mine.as_ref()).unwrap();
        c.run_migration(mine.as_ref()).unwrap();
    }
    match &mut app.connection() {
        DbConnection::Sqlite(c) => again(c, &mwf::db::SQLITE_MIGRATIONS),
        DbConnection::Postgresql(c) => again(c, &mwf::db::POSTGRES_MIGRATIONS),
    }
}

#[test]
fn the_upgrade_gives_records_written_without_a_fund_the_fund_of_their_target() {
    use diesel::connection::SimpleConnection;
    let app = spawn();
    app.load_fund("KE-MWF");
    let distress = json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
                          "filed_on": "2026-03-05", "claimant": {"relationship": "worker"}, "claimed_amount": "1000.00",
                          "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]});
    let claim = decided_claim(
        &app,
        "KE-MWF",
        ("2026-02-01", "2028-07-31"),
        ("2026-01-05", "3000.00", "KES"),
        distress,
    );
    let today = mwf::time::today().to_string();
    let pay = format!("/v1/claims/{claim}/payment");
    let wide = app.token_for("olivia", Role::Officer, &["*"]);
    app.post_with_key(&pay, &wide, "k-pay", &json!({"paid_on": today}))
        .expect(200);
    // As the records of id-addressed changes were written before the upgrade.
    app.connection()
        .batch_execute(
            "UPDATE audit_log SET fund_code = NULL WHERE action NOT IN ('fund.create', 'rules.publish', 'worker.enroll', 'contribution.record');
             UPDATE idempotency_keys SET fund_code = NULL;",
        )
        .unwrap();
    let auditor = app.token(Role::Auditor, &["KE-MWF"]);
    let before = audit_log_of(&app, &auditor);
    assert!(!before.iter().any(|r| r["action"] == "claim.pay"));
    upgrade_to_audit_fund(&app);
    let after = audit_log_of(&app, &auditor);
    for action in [
        "claim.submit",
        "claim.decide",
        "claim.pay",
        "worker.add_dependant",
    ] {
        assert!(
            after
                .iter()
                .any(|r| r["action"] == action && r["fund"] == "KE-MWF"),
            "{action}: {after:#?}"
        );
    }
    let all = audit_log_of(&app, &app.token(Role::Auditor, &["*"]));
    assert_eq!(all.len(), after.len(), "every record names its fund");
    // The stored response took the fund of its claim.
    let narrow = app.token_for("olivia", Role::Officer, &["NP-FEWF"]);
    app.post_with_key(&pay, &narrow, "k-pay", &json!({"paid_on": today}))
        .assert_problem(404, "NOT_FOUND");
    let own = app.token_for("olivia", Role::Officer, &["KE-MWF"]);
    let replayed = app.post_with_key(&pay, &own, "k-pay", &json!({"paid_on": today}));
    assert_eq!(replayed.expect(200)["status"], "paid");
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
}

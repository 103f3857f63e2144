//! Keys of an identity provider from a JWKS document, chosen by `kid`: served
//! on loopback by a small HTTP server whose document the test rotates, or
//! read from a file. The fixtures `tests/keys/*.jwk.json` are the public keys
//! of the PEMs beside them (made by `tests/keys/make_jwks.py`).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use mwf::config::{JwksSettings, JwksSource, JwtSettings};
use serde_json::{json, Value};

use crate::helpers::{spawn_with, TestApp};

fn key_file(name: &str) -> String {
    format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn jwk(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(key_file(name)).unwrap()).unwrap()
}

fn key_set(names: &[&str]) -> String {
    let keys: Vec<Value> = names.iter().map(|n| jwk(n)).collect();
    json!({ "keys": keys }).to_string()
}

/// A token for `sub` signed with the private PEM `pem`, naming `kid` (or none).
fn token(pem: &str, alg: Algorithm, kid: Option<&str>, sub: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": sub, "role": "auditor", "funds": ["*"], "exp": now + 600,
                        "iat": now, "iss": "mwf", "aud": "mwf"});
    let pem = std::fs::read(key_file(pem)).unwrap();
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem).unwrap(),
        _ => EncodingKey::from_rsa_pem(&pem).unwrap(),
    };
    let header = Header {
        kid: kid.map(str::to_string),
        ..Header::new(alg)
    };
    encode(&header, &claims, &key).unwrap()
}

fn key_a(sub: &str) -> String {
    token("rsa_private.pem", Algorithm::RS256, Some("a"), sub)
}

fn key_b(sub: &str) -> String {
    token("other_rsa_private.pem", Algorithm::RS256, Some("b"), sub)
}

/// An identity provider on loopback serving the document it holds (or a 500
/// while it holds none), counting the times it was read.
struct Provider {
    url: String,
    document: Arc<Mutex<Option<String>>>,
    reads: Arc<AtomicUsize>,
}

impl Provider {
    fn serving(document: String) -> Provider {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/certs", listener.local_addr().unwrap());
        let served = Arc::new(Mutex::new(Some(document)));
        let reads = Arc::new(AtomicUsize::new(0));
        let (doc, count) = (served.clone(), reads.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                count.fetch_add(1, Ordering::SeqCst);
                let answer = match doc.lock().unwrap().clone() {
                    Some(body) => format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()),
                    None => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                };
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        Provider {
            url,
            document: served,
            reads,
        }
    }

    fn serve(&self, document: Option<String>) {
        *self.document.lock().unwrap() = document;
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

/// A server whose only provider keys come from `source` (no PEM keys).
fn spawn_with_key_set(source: JwksSource, refresh: Duration) -> TestApp {
    spawn_with(|s| {
        s.jwt.public_key_files.clear();
        s.jwt.jwks = Some(JwksSettings { source, refresh });
    })
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_rotated_key_is_accepted_without_a_restart_and_the_retired_one_refused() {
    let provider = Provider::serving(key_set(&["rsa.jwk.json"]));
    let app = spawn_with_key_set(JwksSource::Url(provider.url.clone()), HOUR);
    app.get("/v1/funds", &key_a("amina")).expect(200);

    provider.serve(Some(key_set(&["other_rsa.jwk.json"])));
    // kid "b" is unknown until the set is read again, which it asks for.
    app.get("/v1/funds", &key_b("amina")).expect(200);
    let res = app.get("/v1/funds", &key_a("amina"));
    let detail = res.assert_problem(401, "TOKEN_INVALID")["detail"].to_string();
    assert!(detail.contains(r#"kid \"a\""#), "{detail}");
}

#[test]
fn a_key_set_file_gives_rsa_and_ec_keys_by_kid() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, key_set(&["rsa.jwk.json", "ec.jwk.json"])).unwrap();
    let app = spawn_with_key_set(JwksSource::File(file), HOUR);
    app.get("/v1/funds", &key_a("bo")).expect(200);
    let ec = token("ec_private.pem", Algorithm::ES256, Some("ec"), "bo");
    app.get("/v1/funds", &ec).expect(200);
    // The right kid does not make another key's signature good.
    let forged = token("other_rsa_private.pem", Algorithm::RS256, Some("a"), "bo");
    app.get("/v1/funds", &forged)
        .assert_problem(401, "TOKEN_INVALID");
    // Nor does naming an EC key for an RSA signature.
    let mismatched = token("rsa_private.pem", Algorithm::RS256, Some("ec"), "bo");
    app.get("/v1/funds", &mismatched)
        .assert_problem(401, "TOKEN_INVALID");
}

#[test]
fn an_unknown_kid_is_refused_and_reads_the_set_again_at_most_once_per_ten_seconds() {
    let provider = Provider::serving(key_set(&["rsa.jwk.json"]));
    let app = spawn_with_key_set(JwksSource::Url(provider.url.clone()), HOUR);
    let at_start = provider.reads();
    for n in 0..20 {
        let made_up = token(
            "rsa_private.pem",
            Algorithm::RS256,
            Some(&format!("made-up-{n}")),
            "eve",
        );
        let res = app.get("/v1/funds", &made_up);
        let detail = res.assert_problem(401, "TOKEN_INVALID")["detail"].to_string();
        assert!(detail.contains("made-up"), "{detail}");
    }
    // One read for the first unknown kid; a second only if these twenty
    // requests took longer than ten seconds.
    let reads = provider.reads() - at_start;
    assert!(
        (1..=2).contains(&reads),
        "{reads} reads for 20 unknown kids"
    );
}

#[test]
fn a_token_without_kid_is_refused_when_only_a_key_set_could_check_it() {
    let provider = Provider::serving(key_set(&["rsa.jwk.json"]));
    let app = spawn_with_key_set(JwksSource::Url(provider.url.clone()), HOUR);
    let without_kid = token("rsa_private.pem", Algorithm::RS256, None, "kim");
    let res = app.get("/v1/funds", &without_kid);
    let detail = res.assert_problem(401, "TOKEN_INVALID")["detail"].to_string();
    assert!(detail.contains("no kid"), "{detail}");
    // HS256 tokens are still checked against the shared secret, and a kid in
    // one does not send mwf to the provider.
    let reads = provider.reads();
    let now = chrono::Utc::now().timestamp();
    let hs256 = encode(
        &Header {
            kid: Some("made-up".into()),
            ..Header::new(Algorithm::HS256)
        },
        &json!({"sub": "kim", "role": "auditor", "funds": ["*"], "exp": now + 600,
                "iss": "mwf", "aud": "mwf"}),
        &EncodingKey::from_secret(crate::helpers::SECRET.as_bytes()),
    )
    .unwrap();
    app.get("/v1/funds", &hs256).expect(200);
    assert_eq!(provider.reads(), reads);
}

#[test]
fn beside_pem_keys_a_token_the_set_does_not_know_is_checked_against_them() {
    let provider = Provider::serving(key_set(&["other_rsa.jwk.json"]));
    let app = spawn_with(|s| {
        s.jwt.jwks = Some(JwksSettings {
            source: JwksSource::Url(provider.url.clone()),
            refresh: HOUR,
        });
    });
    // rsa_public.pem is configured as a PEM key; the set holds only "b".
    let pem_signed = token("rsa_private.pem", Algorithm::RS256, Some("pem-key"), "lu");
    app.get("/v1/funds", &pem_signed).expect(200);
    app.get("/v1/funds", &key_b("lu")).expect(200);
}

#[test]
fn the_set_is_read_again_on_schedule_and_a_failed_read_keeps_the_keys() {
    let provider = Provider::serving(key_set(&["rsa.jwk.json", "other_rsa.jwk.json"]));
    let app = spawn_with_key_set(
        JwksSource::Url(provider.url.clone()),
        Duration::from_secs(1),
    );
    app.get("/v1/funds", &key_a("olu")).expect(200);

    // The provider fails: the keys read before stay in force.
    provider.serve(None);
    wait_for_reads(&provider, 2);
    app.get("/v1/funds", &key_a("olu")).expect(200);

    // The provider retires "a": a scheduled read drops it.
    provider.serve(Some(key_set(&["other_rsa.jwk.json"])));
    wait_for_reads(&provider, 2);
    app.get("/v1/funds", &key_a("olu"))
        .assert_problem(401, "TOKEN_INVALID");
    app.get("/v1/funds", &key_b("olu")).expect(200);
}

/// Waits until the provider has been read `more` more times (the refreshing
/// thread's schedule), failing only after a minute.
fn wait_for_reads(provider: &Provider, more: usize) {
    let target = provider.reads() + more;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while provider.reads() < target {
        assert!(
            std::time::Instant::now() < deadline,
            "the key set was not read again"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_unreachable_or_empty_key_set_stops_the_start_naming_the_variable() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/certs", closed.local_addr().unwrap());
    drop(closed);
    let provider = Provider::serving(json!({"keys": []}).to_string());
    for source in [JwksSource::Url(url), JwksSource::Url(provider.url.clone())] {
        let settings = JwtSettings {
            secret: None,
            public_key_files: vec![],
            issuer: "mwf".into(),
            audience: "mwf".into(),
            max_lifetime_seconds: 3600,
            jwks: Some(JwksSettings {
                source,
                refresh: HOUR,
            }),
        };
        let error = mwf::auth::Verifier::new(&settings, None)
            .err()
            .expect("the start is refused");
        assert!(error.starts_with("MWF_JWT_JWKS: "), "{error}");
    }
}

/// Runs `mwf migrate` on a fresh SQLite file with only `env` set.
pub fn migrate_with(env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_mwf"))
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", dir.path().join("mwf.db"))
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

#[test]
fn the_key_set_settings_are_checked_at_start_and_a_key_set_alone_serves_production() {
    for (env, variable) in [
        (
            &[("MWF_JWT_JWKS", "/no/such/jwks.json")][..],
            "MWF_JWT_JWKS",
        ),
        (
            &[("MWF_JWT_JWKS", "ftp://sso.example/certs")][..],
            "MWF_JWT_JWKS",
        ),
        (
            &[("MWF_JWT_JWKS_REFRESH_SECONDS", "0")][..],
            "MWF_JWT_JWKS_REFRESH_SECONDS",
        ),
    ] {
        let out = migrate_with(env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {stderr}");
        assert!(stderr.contains(variable), "{env:?}: {stderr}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, key_set(&["rsa.jwk.json"])).unwrap();
    let file = file.to_string_lossy();
    let out = migrate_with(&[("MWF_ENV", "production"), ("MWF_JWT_JWKS", &file)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

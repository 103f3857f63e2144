//! The web's conventions: CORS for the configured origins, `ETag` and
//! `If-None-Match`, `Link` on every paged list, gzip, and `HEAD` wherever `GET`
//! exists. The test client sends headers as given and reads bodies as bytes
//! (ureq's gzip feature is off, so it neither asks for nor decodes gzip).

use std::io::Read;
use std::time::Duration;

use mwf::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn, spawn_with, TestApp};

/// An answer as it came over the wire.
pub(crate) struct Raw {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Sends `method path` with `token` and `headers`, reading the body as bytes.
pub(crate) fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> Raw {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(app.url(path));
    if !token.is_empty() {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut res = agent.run(request.body(()).unwrap()).expect("request sent");
    Raw {
        status: res.status().as_u16(),
        headers: res
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect(),
        body: res
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_default(),
    }
}

pub(crate) fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

/// A fund with a few manual entries and one enrolled worker; returns the worker's id.
fn fund_with_entries(app: &TestApp) -> String {
    app.create_fund("KE-MWF", "KE", "KES");
    for day in 1..=5 {
        app.transfer(
            "KE-MWF",
            &format!("2026-01-0{day}"),
            "1000",
            "4000",
            "100.00",
            "KES",
        )
        .expect(201);
    }
    app.enroll("KE-MWF", "P1234567", ("2026-01-01", "2027-12-31"))
        .0
}

const PORTAL: &str = "https://portal.labour.example";

#[test]
fn a_preflight_from_an_allowed_origin_is_answered_and_its_requests_may_read_our_headers() {
    let app = spawn_with(|s| s.cors_origins = vec![PORTAL.to_string()]);
    let preflight = send(
        &app,
        "OPTIONS",
        "/v1/funds",
        "",
        &[
            ("Origin", PORTAL),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization, idempotency-key",
            ),
        ],
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some(PORTAL)
    );
    let methods = preflight.header("access-control-allow-methods").unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let allowed = preflight.header("access-control-allow-headers").unwrap();
    for name in [
        "Authorization",
        "Content-Type",
        "Idempotency-Key",
        "If-None-Match",
    ] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert!(preflight.header("access-control-max-age").is_some());

    let res = send(
        &app,
        "GET",
        "/v1/funds",
        &app.admin(),
        &[("Origin", PORTAL)],
    );
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-origin"), Some(PORTAL));
    let exposed = res.header("access-control-expose-headers").unwrap();
    for name in [
        "X-Request-Id",
        "Idempotent-Replayed",
        "Link",
        "ETag",
        "X-Mwf-Next-After",
    ] {
        assert!(exposed.contains(name), "{exposed}");
    }
    // Refusals carry the headers too, so the page can read the problem.
    let refused = send(&app, "GET", "/v1/funds", "", &[("Origin", PORTAL)]);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("access-control-allow-origin"), Some(PORTAL));
}

#[test]
fn another_origin_gets_no_cors_headers_and_no_server_error() {
    let app = spawn_with(|s| s.cors_origins = vec![PORTAL.to_string()]);
    let other = "https://portal.labour.example.evil.test";
    let res = send(&app, "GET", "/v1/funds", &app.admin(), &[("Origin", other)]);
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-origin"), None);
    let preflight = send(
        &app,
        "OPTIONS",
        "/v1/funds",
        "",
        &[("Origin", other), ("Access-Control-Request-Method", "POST")],
    );
    assert_eq!(preflight.status, 405);
    assert_eq!(preflight.header("access-control-allow-origin"), None);
    assert!(preflight
        .header("content-type")
        .unwrap()
        .starts_with("application/problem+json"));

    // Without configured origins nothing is added, even for the portal.
    let plain = spawn();
    let res = send(
        &plain,
        "GET",
        "/v1/funds",
        &plain.admin(),
        &[("Origin", PORTAL)],
    );
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-origin"), None);
    assert_eq!(res.header("vary"), None);
}

#[test]
fn a_record_carries_an_etag_and_if_none_match_answers_304_until_it_changes() {
    let app = spawn();
    let worker = fund_with_entries(&app);
    let path = format!("/v1/workers/{worker}");
    let first = send(&app, "GET", &path, &app.admin(), &[]);
    assert_eq!(first.status, 200);
    let tag = first.header("etag").expect("an ETag").to_string();
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34,
        "{tag}"
    );

    let again = send(&app, "GET", &path, &app.admin(), &[("If-None-Match", &tag)]);
    assert_eq!(again.status, 304);
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    assert!(again.body.is_empty());
    // Another tag, or a weak form of this one in a list.
    let other = send(
        &app,
        "GET",
        &path,
        &app.admin(),
        &[("If-None-Match", "\"0\"")],
    );
    assert_eq!(other.status, 200);
    let listed = format!("\"0\", W/{tag}");
    let weak = send(
        &app,
        "GET",
        &path,
        &app.admin(),
        &[("If-None-Match", &listed)],
    );
    assert_eq!(weak.status, 304);

    app.post(
        &format!("/v1/workers/{worker}/dependants"),
        &app.admin(),
        &json!({"name": "Ana Santos", "relationship": "child"}),
    )
    .expect(201);
    let changed = send(&app, "GET", &path, &app.admin(), &[("If-None-Match", &tag)]);
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), Some(tag.as_str()));
    assert_eq!(changed.json()["dependants"].as_array().unwrap().len(), 2);
}

#[test]
fn lists_carry_an_etag_while_streams_refusals_and_writes_do_not() {
    let app = spawn();
    fund_with_entries(&app);
    let list = send(
        &app,
        "GET",
        "/v1/funds/KE-MWF/journal-entries",
        &app.admin(),
        &[],
    );
    let tag = list.header("etag").expect("a list has an ETag").to_string();
    let again = send(
        &app,
        "GET",
        "/v1/funds/KE-MWF/journal-entries",
        &app.admin(),
        &[("If-None-Match", &tag)],
    );
    assert_eq!(again.status, 304);
    let export = send(
        &app,
        "GET",
        "/v1/funds/KE-MWF/exports/ledger?format=csv",
        &app.admin(),
        &[],
    );
    assert_eq!(export.status, 200);
    assert_eq!(export.header("etag"), None);
    let missing = send(&app, "GET", "/v1/funds/NO-FUND", &app.admin(), &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("etag"), None);
    let created = app.transfer("KE-MWF", "2026-01-09", "1000", "4000", "1.00", "KES");
    assert_eq!(created.status, 201);
    assert_eq!(created.header("etag"), None);
}

#[test]
fn every_paged_list_links_to_its_next_page_keeping_the_query() {
    let app = spawn();
    fund_with_entries(&app);
    let admin = app.admin();
    let mut path = "/v1/funds/KE-MWF/journal-entries?from=2026-01-02&limit=2".to_string();
    let mut seen = Vec::new();
    loop {
        let page = send(&app, "GET", &path, &admin, &[]);
        assert_eq!(page.status, 200);
        let body = page.json();
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["sequence"].clone()),
        );
        let Some(link) = page.header("link") else {
            assert!(body.get("next").is_none(), "a next cursor without a Link");
            break;
        };
        let next = body["next"]
            .as_str()
            .expect("a Link only with a next cursor");
        let target = link
            .strip_prefix('<')
            .and_then(|l| l.strip_suffix(">; rel=\"next\""))
            .unwrap_or_else(|| panic!("not a next link: {link}"));
        assert!(
            target.starts_with("/v1/funds/KE-MWF/journal-entries?"),
            "{target}"
        );
        assert!(
            target.contains("from=2026-01-02") && target.contains("limit=2"),
            "{target}"
        );
        assert!(target.ends_with(&format!("after={next}")), "{target}");
        path = target.to_string();
    }
    assert_eq!(seen, vec![json!(2), json!(3), json!(4), json!(5)]);

    // The other lists answer the same way.
    app.create_fund("UG-MWF", "UG", "UGX");
    app.enroll("KE-MWF", "P7654321", ("2026-01-01", "2027-12-31"));
    for list in [
        "/v1/funds?limit=1",
        "/v1/funds/KE-MWF/workers?limit=1",
        "/v1/audit-log?limit=1",
        "/v1/events?limit=1",
    ] {
        let page = send(&app, "GET", list, &admin, &[]);
        assert_eq!(page.status, 200, "{list}");
        let link = page
            .header("link")
            .unwrap_or_else(|| panic!("{list} has no Link"));
        assert!(link.contains("limit=1&after="), "{list}: {link}");
    }
}

#[test]
fn answers_are_gzipped_when_the_client_accepts_gzip_exports_included() {
    let app = spawn();
    fund_with_entries(&app);
    let auditor = app.token(Role::Auditor, &["*"]);
    for path in [
        "/v1/funds/KE-MWF/accounts",
        "/v1/funds/KE-MWF/exports/ledger?format=csv",
        "/v1/audit-log/export?format=csv",
    ] {
        let plain = send(&app, "GET", path, &auditor, &[]);
        assert_eq!(plain.status, 200, "{path}");
        assert_eq!(plain.header("content-encoding"), None);
        let zipped = send(&app, "GET", path, &auditor, &[("Accept-Encoding", "gzip")]);
        assert_eq!(zipped.status, 200, "{path}");
        assert_eq!(zipped.header("content-encoding"), Some("gzip"), "{path}");
        assert_ne!(zipped.body, plain.body);
        assert_eq!(gunzip(&zipped.body), plain.body, "{path}");
    }
    // A refusal of every coding mwf has is ignored, not answered 406.
    let refused_all = send(
        &app,
        "GET",
        "/v1/funds",
        &auditor,
        &[("Accept-Encoding", "br, identity;q=0")],
    );
    assert_eq!(refused_all.status, 200);
    assert_eq!(refused_all.header("content-encoding"), None);
}

#[test]
fn head_answers_like_get_without_a_body_for_records_lists_and_exports() {
    let app = spawn();
    let worker = fund_with_entries(&app);
    let auditor = app.token(Role::Auditor, &["*"]);
    for path in [
        format!("/v1/workers/{worker}"),
        "/v1/funds/KE-MWF/journal-entries?limit=2".to_string(),
        "/v1/funds/KE-MWF/exports/ledger?format=csv&limit=2".to_string(),
    ] {
        let get = send(&app, "GET", &path, &auditor, &[]);
        let head = send(
            &app,
            "HEAD",
            &path,
            &auditor,
            &[("Accept-Encoding", "gzip")],
        );
        assert_eq!(head.status, get.status, "{path}");
        assert!(head.body.is_empty(), "{path}");
        assert_eq!(head.header("content-encoding"), None, "{path}");
        for name in [
            "content-type",
            "content-length",
            "etag",
            "link",
            "x-mwf-chain-head",
            "x-mwf-next-after",
        ] {
            assert_eq!(head.header(name), get.header(name), "{path} {name}");
        }
        assert!(head.header("x-request-id").is_some());
    }
    // A HEAD with the record's tag is answered 304, as the GET is.
    let record = send(&app, "GET", &format!("/v1/workers/{worker}"), &auditor, &[]);
    let tag = record.header("etag").unwrap();
    let head = send(
        &app,
        "HEAD",
        &format!("/v1/workers/{worker}"),
        &auditor,
        &[("If-None-Match", tag)],
    );
    assert_eq!(head.status, 304);
    // Refusals are the GET's: 401 without a token, 405 where only POST exists.
    assert_eq!(send(&app, "HEAD", "/v1/funds", "", &[]).status, 401);
    let post_only = send(
        &app,
        "HEAD",
        "/v1/funds/KE-MWF/journal-entries/x/reversal",
        &auditor,
        &[],
    );
    assert_eq!(post_only.status, 405);
}

#[test]
fn an_origin_with_a_path_or_a_wildcard_is_refused_at_start() {
    for bad in [
        "https://portal.labour.example/",
        "*",
        "portal.labour.example",
    ] {
        let out = crate::jwks::migrate_with(&[("MWF_CORS_ORIGINS", bad)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("MWF_CORS_ORIGINS"), "{bad}: {stderr}");
    }
    let good = "https://portal.labour.example, http://localhost:5173";
    let out = crate::jwks::migrate_with(&[("MWF_CORS_ORIGINS", good)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

//! The operator console at `/console/`: served from the binary with the right
//! content types, a strict Content-Security-Policy, `Cache-Control` and a
//! content `ETag` answered `304` when it matches, and gzip on request. What
//! the page does is tested in Chromium by `.ci/browser`.

use crate::conventions::{gunzip, send};
use crate::helpers::spawn;

const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#[test]
fn the_console_page_and_its_modules_are_served_with_their_types_a_strict_policy_and_cache_headers()
{
    let app = spawn();
    for (path, content_type, marker) in [
        (
            "/console/",
            "text/html; charset=utf-8",
            "<script type=\"module\" src=\"app.js\">",
        ),
        (
            "/console/app.js",
            "text/javascript; charset=utf-8",
            "takeTokenFromFragment()",
        ),
        (
            "/console/i18n.js",
            "text/javascript; charset=utf-8",
            "export function t(",
        ),
        (
            "/console/console.css",
            "text/css; charset=utf-8",
            ":focus-visible",
        ),
        ("/console/favicon.svg", "image/svg+xml", "<svg"),
    ] {
        let res = send(&app, "GET", path, "", &[]);
        assert_eq!(res.status, 200, "{path}");
        assert_eq!(res.header("content-type"), Some(content_type), "{path}");
        assert_eq!(
            res.header("content-security-policy"),
            Some(POLICY),
            "{path}"
        );
        assert_eq!(res.header("cache-control"), Some("no-cache"), "{path}");
        assert_eq!(
            res.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(res.header("referrer-policy"), Some("no-referrer"), "{path}");
        let tag = res.header("etag").expect("an ETag");
        assert!(tag.len() == 34 && tag.starts_with('"'), "{path}: {tag}");
        let body = String::from_utf8(res.body.clone()).unwrap();
        assert!(body.contains(marker), "{path} lacks {marker}");
    }
    // No page of the console reaches outside the origin (no CDN, no font service).
    for path in ["/console/", "/console/console.css", "/console/app.js"] {
        let body = String::from_utf8(send(&app, "GET", path, "", &[]).body).unwrap();
        assert!(
            !body.contains("https://") && !body.contains("http://"),
            "{path}"
        );
    }
}

#[test]
fn a_console_file_is_answered_304_while_its_etag_matches() {
    let app = spawn();
    let first = send(&app, "GET", "/console/dashboard.js", "", &[]);
    let tag = first.header("etag").unwrap().to_string();
    let again = send(
        &app,
        "GET",
        "/console/dashboard.js",
        "",
        &[("If-None-Match", &tag)],
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    assert_eq!(again.header("cache-control"), Some("no-cache"));
    let other = send(
        &app,
        "GET",
        "/console/dashboard.js",
        "",
        &[("If-None-Match", "\"0123\"")],
    );
    assert_eq!(other.status, 200);
    assert_eq!(other.body, first.body);
    // Another file has another tag.
    let index = send(&app, "GET", "/console/", "", &[]);
    assert_ne!(index.header("etag").unwrap(), tag);
}

#[test]
fn console_files_are_gzipped_when_the_client_accepts_gzip() {
    let app = spawn();
    let plain = send(&app, "GET", "/console/dashboard.js", "", &[]);
    assert_eq!(plain.header("content-encoding"), None);
    let zipped = send(
        &app,
        "GET",
        "/console/dashboard.js",
        "",
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert!(zipped.body.len() < plain.body.len());
    assert_eq!(gunzip(&zipped.body), plain.body);
    assert_eq!(zipped.header("etag"), plain.header("etag"));
}

#[test]
fn the_bare_console_path_redirects_into_the_folder_and_an_unknown_file_is_a_404_problem() {
    let app = spawn();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let bare = agent.get(app.url("/console")).call().unwrap();
    assert_eq!(bare.status().as_u16(), 308);
    assert_eq!(bare.headers()["location"], "/console/");
    let missing = send(&app, "GET", "/console/missing.js", "", &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    let problem: serde_json::Value = serde_json::from_slice(&missing.body).unwrap();
    assert_eq!(problem["code"], "NOT_FOUND");
    // The console answers without a token: the page holds no data, the API does.
    let head = send(&app, "HEAD", "/console/", "", &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[test]
fn every_file_of_the_console_folder_is_served_as_it_is_in_the_repository() {
    let app = spawn();
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
    let mut served = 0;
    // The folder and its sub-folders (the vendored chart library in `vendor/`).
    let mut folders = vec![folder.clone()];
    while let Some(here) = folders.pop() {
        for entry in std::fs::read_dir(&here).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let name = path
                .strip_prefix(&folder)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let res = send(&app, "GET", &format!("/console/{name}"), "", &[]);
            assert_eq!(
                res.status, 200,
                "console/{name} is not served: add it to ASSETS"
            );
            assert_eq!(res.body, std::fs::read(&path).unwrap(), "console/{name}");
            served += 1;
        }
    }
    assert!(served >= 10, "only {served} console files");
}

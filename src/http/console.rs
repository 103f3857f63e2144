//! The operator console at `/console/`: plain HTML, ES modules and CSS from the
//! repository's `console/` folder, compiled into the binary (no build step, no
//! CDN, works offline). The page is a client of the JSON API with the caller's
//! own token; it decides what to show, the API decides what is allowed.
//!
//! Every answer carries a strict `Content-Security-Policy` (scripts, styles and
//! API calls from this origin only), `Cache-Control: no-cache` with a strong
//! `ETag` of the content (the names carry no content hash, so a browser asks
//! again each time and is answered `304` while nothing changed), and is gzipped
//! by the application's `Compress` when the client accepts it.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{AppError, AppResult};

/// One file of the console, as compiled in.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!("../../console/", $name)),
        }
    };
}

/// Every file the console serves; anything else under `/console/` is a 404.
const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("api.js", "text/javascript; charset=utf-8"),
    asset!("session.js", "text/javascript; charset=utf-8"),
    asset!("dashboard.js", "text/javascript; charset=utf-8"),
    asset!("format.js", "text/javascript; charset=utf-8"),
    asset!("dom.js", "text/javascript; charset=utf-8"),
    asset!("widgets.js", "text/javascript; charset=utf-8"),
    asset!("i18n.js", "text/javascript; charset=utf-8"),
    asset!("claims.js", "text/javascript; charset=utf-8"),
    asset!("claim.js", "text/javascript; charset=utf-8"),
    asset!("desk.js", "text/javascript; charset=utf-8"),
    asset!("claims.css", "text/css; charset=utf-8"),
    asset!("workers.js", "text/javascript; charset=utf-8"),
    asset!("worker-page.js", "text/javascript; charset=utf-8"),
    asset!("timeline.js", "text/javascript; charset=utf-8"),
    asset!("workers.css", "text/css; charset=utf-8"),
    asset!("ledger.js", "text/javascript; charset=utf-8"),
    asset!("audit.js", "text/javascript; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("charts.js", "text/javascript; charset=utf-8"),
    asset!("charts.css", "text/css; charset=utf-8"),
    asset!("vendor/uPlot.esm.js", "text/javascript; charset=utf-8"),
    asset!("vendor/uPlot.min.css", "text/css; charset=utf-8"),
    asset!("vendor/LICENSE", "text/plain; charset=utf-8"),
];

/// Scripts, styles, images and API calls from this origin only; no inline
/// script or style, no frames, no plugins, no form posts elsewhere.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The strong tags of [`ASSETS`], in the same order, computed once.
fn tags() -> &'static [String] {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| super::conventions::tag_of(a.body))
            .collect()
    })
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(to_folder))
        .route("/console/", web::get().to(index))
        // `{asset:.*}`: the vendored files are one folder down (`vendor/…`).
        .route("/console/{asset:.*}", web::get().to(asset));
}

/// `/console` → `/console/`, so that the page's relative module paths resolve
/// inside the folder (a browser keeps the `#fragment` across the redirect).
async fn to_folder() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/console/"))
        .finish()
}

async fn index(req: HttpRequest) -> AppResult<HttpResponse> {
    serve(&req, "index.html")
}

async fn asset(req: HttpRequest, name: web::Path<String>) -> AppResult<HttpResponse> {
    serve(&req, &name)
}

fn serve(req: &HttpRequest, name: &str) -> AppResult<HttpResponse> {
    let position = ASSETS
        .iter()
        .position(|a| a.name == name)
        .ok_or_else(|| AppError::not_found(format!("no console file {name}")))?;
    let (asset, tag) = (&ASSETS[position], &tags()[position]);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|names| super::conventions::names_tag(names, tag));
    let mut answer = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::ETAG, tag.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    Ok(if unchanged {
        answer.finish()
    } else {
        answer
            .insert_header((header::CONTENT_TYPE, asset.content_type))
            .body(asset.body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_distinct_name_and_a_body() {
        for (i, a) in ASSETS.iter().enumerate() {
            assert!(!a.body.is_empty(), "{} is empty", a.name);
            assert!(
                ASSETS[i + 1..].iter().all(|b| b.name != a.name),
                "{} twice",
                a.name
            );
        }
    }

    #[test]
    fn every_file_of_the_console_folder_is_served() {
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/console"));
        let mut folders = vec![root.to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                let name = path.strip_prefix(root).unwrap().to_str().unwrap();
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "console/{name} is not in ASSETS"
                );
            }
        }
    }
}

//! The web's conventions, as middleware so that handlers know nothing of them:
//! CORS for the configured origins ([`cross_origin`]), `ETag` and
//! `If-None-Match` on complete JSON answers ([`entity_tag`]), `HEAD` wherever
//! `GET` exists ([`answer_head`]), and gzip through actix-web's `Compress`
//! ([`usable_accept_encoding`] keeps its one refusal out of the API). `Link`
//! headers of lists are made by the list's answer itself ([`super::page::Page`]).

use std::convert::Infallible;

use actix_web::body::{BodySize, BodyStream, BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, AcceptEncoding, Encoding, Header, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use futures_util::future::LocalBoxFuture;
use futures_util::{FutureExt, TryFutureExt};
use sha2::{Digest, Sha256};

type Answer = LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>;

/// Hands the request on and boxes the answer's body.
fn pass<S, B>(req: ServiceRequest, srv: &S) -> Answer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    srv.call(req)
        .map_ok(ServiceResponse::map_into_boxed_body)
        .boxed_local()
}

/// Methods a browser page may use, answered to a preflight request.
const ALLOWED_METHODS: &str = "GET, HEAD, POST, PATCH, DELETE";
/// Request headers a browser page may send.
const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-Id";
/// Response headers a browser page may read besides the simple ones.
const EXPOSED_HEADERS: &str = "X-Request-Id, Idempotent-Replayed, Link, X-Mwf-Next-After, X-Mwf-Chain-Head, ETag, Content-Disposition, WWW-Authenticate";
/// How long a browser may keep a preflight answer: two hours, the most
/// Chromium honours.
const PREFLIGHT_MAX_AGE_SECONDS: &str = "7200";

/// The origins whose pages may call the API from a browser (`MWF_CORS_ORIGINS`),
/// compared exactly with the request's `Origin`.
#[derive(Debug, Clone)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    pub fn new(origins: Vec<String>) -> AllowedOrigins {
        AllowedOrigins(origins)
    }

    /// The request's `Origin`, if it is one of ours.
    fn of(&self, req: &ServiceRequest) -> Option<HeaderValue> {
        let origin = req.headers().get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.0.iter().any(|o| o == text).then(|| origin.clone())
    }
}

/// CORS: a preflight (`OPTIONS` with `Access-Control-Request-Method`) from an
/// allowed origin is answered 204 here; any other request from an allowed
/// origin gets `Access-Control-Allow-Origin` and the exposed headers on its
/// answer. A request from any other origin gets no CORS header, so the
/// browser keeps its page from reading the answer. With no origins
/// configured nothing is added.
pub fn cross_origin<S, B>(origins: &AllowedOrigins, req: ServiceRequest, srv: &S) -> Answer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    if origins.0.is_empty() {
        return pass(req, srv);
    }
    let origin = origins.of(&req);
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if let (Some(origin), true) = (&origin, preflight) {
        let answer = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECONDS))
            .insert_header((header::VARY, "Origin"))
            .finish();
        let res = req.into_response(answer);
        return async move { Ok(res) }.boxed_local();
    }
    srv.call(req)
        .map_ok(move |mut res| {
            let headers = res.headers_mut();
            // The answer depends on Origin even when it carries no CORS header.
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
            if let Some(origin) = origin {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                headers.insert(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static(EXPOSED_HEADERS),
                );
            }
            res.map_into_boxed_body()
        })
        .boxed_local()
}

/// `HEAD` wherever `GET` exists: the request is routed as a `GET` and
/// answered with the same status and headers and no body. A complete body
/// stays on the answer so that `Content-Length` is the `GET`'s (actix-http
/// writes no body for a `HEAD`); a streamed one (an export) is dropped
/// unread, which stops its producer. The answer is never compressed.
pub fn answer_head<S, B>(mut req: ServiceRequest, srv: &S) -> Answer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    if req.method() != Method::HEAD {
        return pass(req, srv);
    }
    req.head_mut().method = Method::GET;
    req.headers_mut().remove(header::ACCEPT_ENCODING);
    srv.call(req)
        .map_ok(|res| res.map_body(|_, body| without_stream(body)))
        .boxed_local()
}

fn without_stream<B: MessageBody + 'static>(body: B) -> BoxBody {
    match body.size() {
        BodySize::Stream => BoxBody::new(BodyStream::new(futures_util::stream::empty::<
            Result<Bytes, Infallible>,
        >())),
        _ => body.boxed(),
    }
}

/// actix-web's `Compress` answers a plain-text 406 when `Accept-Encoding`
/// refuses every coding it has (`identity;q=0` without gzip); HTTP allows a
/// server to ignore such a header instead, so it is dropped and the answer
/// is sent uncompressed.
pub fn usable_accept_encoding<S, B>(mut req: ServiceRequest, srv: &S) -> Answer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let usable = [Encoding::gzip(), Encoding::identity()];
    let refuses_all = AcceptEncoding::parse(&req)
        .is_ok_and(|accepted| accepted.negotiate(usable.iter()).is_none());
    if refuses_all {
        req.headers_mut().remove(header::ACCEPT_ENCODING);
    }
    pass(req, srv)
}

/// `ETag` on every successful `GET` answered with a complete JSON body (a
/// record, a list page, a report; not a streamed export): the quoted hex of
/// the first 16 bytes of the body's SHA-256, so equal bodies have equal tags
/// on every process. A request whose `If-None-Match` names the tag (or `*`)
/// is answered 304 with the tag and no body.
pub fn entity_tag<S, B>(req: ServiceRequest, srv: &S) -> Answer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    if req.method() != Method::GET {
        return pass(req, srv);
    }
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let call = srv.call(req);
    async move {
        let res = call.await?;
        if !is_complete_json(&res) {
            return Ok(res.map_into_boxed_body());
        }
        let (req, res) = res.into_parts();
        let (head, body) = res.into_parts();
        let bytes = actix_web::body::to_bytes(body)
            .await
            .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
        let tag = tag_of(&bytes);
        let res = if if_none_match.is_some_and(|names| names_tag(&names, &tag)) {
            HttpResponse::NotModified()
                .insert_header((header::ETAG, tag))
                .finish()
        } else {
            let mut res = head.set_body(BoxBody::new(bytes));
            if let Ok(value) = HeaderValue::from_str(&tag) {
                res.headers_mut().insert(header::ETAG, value);
            }
            res
        };
        Ok(ServiceResponse::new(req, res))
    }
    .boxed_local()
}

fn is_complete_json<B: MessageBody>(res: &ServiceResponse<B>) -> bool {
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    res.status() == StatusCode::OK
        && json
        && matches!(res.response().body().size(), BodySize::Sized(_))
}

/// The strong entity tag of a body: `"` + 32 hex digits + `"`.
pub(crate) fn tag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// True when an `If-None-Match` list names `tag` or is `*`; the comparison is
/// weak, as RFC 9110 says for `If-None-Match` (`W/"x"` names `"x"`).
pub(crate) fn names_tag(if_none_match: &HeaderValue, tag: &str) -> bool {
    if_none_match.to_str().is_ok_and(|list| {
        list.split(',').map(str::trim).any(|candidate| {
            candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_the_quoted_hex_of_a_sha256_prefix_of_the_body() {
        let tag = tag_of(b"{}");
        assert_eq!(tag.len(), 34);
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        assert_eq!(tag, tag_of(b"{}"));
        assert_ne!(tag, tag_of(b"{ }"));
    }

    #[test]
    fn if_none_match_names_a_tag_in_a_list_weakly_or_as_a_star() {
        let tag = tag_of(b"[]");
        let header = |s: &str| HeaderValue::from_str(s).unwrap();
        assert!(names_tag(&header(&tag), &tag));
        assert!(names_tag(&header(&format!("\"other\", W/{tag}")), &tag));
        assert!(names_tag(&header("*"), &tag));
        assert!(!names_tag(&header("\"other\""), &tag));
        assert!(!names_tag(&header(&tag[1..33]), &tag));
    }
}

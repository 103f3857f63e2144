//! Errors as HTTP responses: an [`AppError`] answered as problem+json, and the
//! errors that arise outside handlers (unknown routes, wrong methods, any
//! framework error response) turned into problem+json too.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::BlockingError;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};

use super::extract::RequestId;
use crate::error::{AppError, ErrorCode};

/// An error is answered with its code's status, the headers it names and its
/// problem document.
impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code().status())
            .expect("every error code has a valid HTTP status")
    }

    /// The one place a failure is logged: where its response is made.
    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match self {
            AppError::Refused(refusal) => {
                for (name, value) in &refusal.headers {
                    response.insert_header((*name, value.clone()));
                }
            }
            AppError::Failed(failure) => log::error!("{failure}"),
        }
        response.json(self.problem())
    }
}

/// A task on the blocking pool that panicked or was cancelled.
impl From<BlockingError> for AppError {
    fn from(e: BlockingError) -> Self {
        AppError::internal(format_args!("blocking task: {e}"))
    }
}

/// Known path templates and their methods, from the OpenAPI document.
pub struct RouteTable(Vec<(Vec<String>, Vec<String>)>);

impl RouteTable {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> RouteTable {
        let value = serde_json::to_value(api).unwrap_or_default();
        let mut routes = Vec::new();
        if let Some(paths) = value.get("paths").and_then(|p| p.as_object()) {
            for (path, item) in paths {
                let methods: Vec<String> = item
                    .as_object()
                    .map(|o| {
                        o.keys()
                            .filter(|k| is_method(k))
                            .map(|k| k.to_uppercase())
                            .collect()
                    })
                    .unwrap_or_default();
                routes.push((segments(path), methods));
            }
        }
        RouteTable(routes)
    }

    /// The parameters of `path` (name, raw segment) by the first template it
    /// matches, if any.
    pub fn parameters<'p>(&self, path: &'p str) -> Option<Vec<(&str, &'p str)>> {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        self.0.iter().find_map(|(template, _)| {
            let matches = template.len() == parts.len()
                && template
                    .iter()
                    .zip(&parts)
                    .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p);
            matches.then(|| {
                template
                    .iter()
                    .zip(&parts)
                    .filter_map(|(t, p)| {
                        let name = t.strip_prefix('{')?.strip_suffix('}')?;
                        Some((name, *p))
                    })
                    .collect()
            })
        })
    }

    /// The methods allowed on `path`, if it matches a known template.
    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts = segments(path);
        let mut allowed: Vec<String> = Vec::new();
        for (template, methods) in &self.0 {
            let matches = template.len() == parts.len()
                && template
                    .iter()
                    .zip(&parts)
                    .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p);
            if matches {
                allowed.extend(methods.iter().cloned());
            }
        }
        // Every GET is answered to HEAD too (`http::conventions`).
        if let Some(at) = allowed.iter().position(|m| m == "GET") {
            allowed.insert(at + 1, "HEAD".to_string());
        }
        (!allowed.is_empty()).then_some(allowed)
    }
}

fn is_method(k: &str) -> bool {
    matches!(
        k,
        "get" | "post" | "put" | "patch" | "delete" | "head" | "options"
    )
}

fn segments(path: &str) -> Vec<String> {
    path.trim_end_matches('/')
        .split('/')
        .map(str::to_string)
        .collect()
}

/// The default service: 405 with `Allow` for a known path, else 404.
pub async fn no_route(req: HttpRequest) -> HttpResponse {
    let table = req.app_data::<actix_web::web::Data<RouteTable>>();
    match table.and_then(|t| t.allowed(req.path())) {
        Some(mut methods) => {
            methods.sort();
            methods.dedup();
            AppError::new(
                ErrorCode::MethodNotAllowed,
                format!(
                    "{} is not allowed on {}; allowed: {}",
                    req.method(),
                    req.path(),
                    methods.join(", ")
                ),
            )
            .with_header("allow", methods.join(", "))
            .error_response()
        }
        None => AppError::new(
            ErrorCode::RouteNotFound,
            format!("there is no route {}", req.path()),
        )
        .error_response(),
    }
}

/// Turns any error response that is not already problem+json (an actix
/// extractor's plain-text error, a payload too large) into one.
pub fn to_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = match status.as_u16() {
        400 => ErrorCode::MalformedJson,
        401 => ErrorCode::Unauthenticated,
        403 => ErrorCode::RoleNotPermitted,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        503 => ErrorCode::ServiceUnavailable,
        _ => ErrorCode::InternalError,
    };
    let detail = match code {
        ErrorCode::PayloadTooLarge => format!(
            "the body is larger than the {} bytes accepted here",
            super::MAX_BODY_BYTES
        ),
        ErrorCode::InternalError => {
            log::error!(
                "unmapped error response {status} for {}",
                res.request().path()
            );
            "an unexpected error occurred; it has been logged".to_string()
        }
        _ => res
            .response()
            .error()
            .map(|e| e.to_string())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string()),
    };
    let mut error = match code {
        ErrorCode::ServiceUnavailable => AppError::unavailable(detail),
        ErrorCode::InternalError => AppError::internal(detail),
        _ => AppError::new(code, detail),
    };
    if code == ErrorCode::PayloadTooLarge {
        error = error.with("limit_bytes", super::MAX_BODY_BYTES);
    }
    let (req, _) = res.into_parts();
    let response: HttpResponse<BoxBody> = error.error_response();
    let res = ServiceResponse::new(req, response).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

/// Gives every request an id (the caller's `X-Request-Id` if it is sane) and
/// echoes it on the response.
pub fn assign_request_id(req: &ServiceRequest) -> String {
    let id = req
        .headers()
        .get("X-Request-Id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_is_answered_with_a_client_or_server_error_status() {
        for code in ErrorCode::ALL {
            let error = match code {
                ErrorCode::InternalError => AppError::internal("a bug"),
                ErrorCode::ServiceUnavailable => AppError::unavailable("no database"),
                refusal => AppError::new(*refusal, ""),
            };
            assert_eq!(error.code(), *code);
            let status = error.status_code();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code:?}"
            );
            assert_eq!(status.as_u16(), code.status());
        }
    }
}

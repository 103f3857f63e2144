//! Request parsing at the edge: JSON bodies and query strings into typed
//! requests, each failure a problem naming the field.

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult, ErrorCode, FieldError};

/// Turns a serde_path_to_error path into a JSON pointer (`/postings/0/amount`).
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1")))
            }
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => out.push_str("/?"),
        }
    }
    out
}

/// Classifies a serde message into a field error; `unknown field` and
/// `missing field` name the field itself rather than its parent.
fn field_error(prefix: String, message: String, separator: &str) -> FieldError {
    let quoted = |m: &str, lead: &str| {
        m.strip_prefix(lead)
            .and_then(|r| r.split('`').next())
            .map(str::to_string)
    };
    let join = |name: &str| {
        // serde_path_to_error already ends the path with an unknown field's name.
        if prefix.rsplit(['/', '.']).next() == Some(name) {
            if separator == "/" && !prefix.starts_with('/') {
                return format!("/{prefix}");
            }
            return prefix.clone();
        }
        if prefix.is_empty() && separator == "/" {
            format!("/{name}")
        } else if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}{separator}{name}")
        }
    };
    if let Some(name) = quoted(&message, "unknown field `") {
        return FieldError::new(join(&name), "unknown_field", "is not a known field");
    }
    if let Some(name) = quoted(&message, "missing field `") {
        return FieldError::new(join(&name), "required", "is required");
    }
    let code = if message.starts_with("invalid type") {
        "invalid_type"
    } else {
        "invalid_value"
    };
    let field = if prefix.is_empty() && separator == "/" {
        "/".to_string()
    } else {
        prefix
    };
    FieldError::new(field, code, message)
}

/// A JSON body parsed into `T`, with the SHA-256 of its canonical form (keys
/// sorted, no whitespace) for idempotency checks.
pub struct ParsedBody<T> {
    pub value: T,
    pub canonical_hash: String,
}

/// Parses a request body: the content type must be JSON; malformed JSON is a
/// 400; wrong types, unknown and missing fields are a 422 listing each field.
pub fn parse_json<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> AppResult<ParsedBody<T>> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(AppError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "send the body as Content-Type: application/json (got {})",
                if content_type.is_empty() {
                    "none"
                } else {
                    content_type
                }
            ),
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        AppError::new(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {e}"),
        )
        .with("line", e.line())
        .with("column", e.column())
    })?;
    let canonical = serde_json::to_vec(&value)?;
    let canonical_hash = hex::encode(Sha256::digest(&canonical));
    let parsed = deserialize_value(value, "")?;
    Ok(ParsedBody {
        value: parsed,
        canonical_hash,
    })
}

/// Deserializes a JSON value into `T`; a failure is a 422 naming the field,
/// its JSON pointer prefixed with `prefix` (`/items/3` for a batch item).
pub fn deserialize_value<T: DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> AppResult<T> {
    // A batch's items are checked one by one, each failing on its own.
    if std::any::type_name::<T>() != std::any::type_name::<super::batch::BatchRequest>() {
        let mut errors = Vec::new();
        check_text_lengths(&value, &mut prefix.to_string(), &mut errors);
        if !errors.is_empty() {
            return Err(AppError::validation(errors));
        }
    }
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = format!("{prefix}{}", pointer(e.path()));
        AppError::validation(vec![field_error(path, e.into_inner().to_string(), "/")])
    })
}

/// The longest string any JSON body may carry, in characters (fields with a
/// tighter bound of their own check it where they are validated).
pub const MAX_TEXT_LENGTH: usize = 2000;

/// Lists every string (and object key) of `value` longer than
/// [`MAX_TEXT_LENGTH`], by its JSON pointer.
fn check_text_lengths(value: &serde_json::Value, at: &mut String, errors: &mut Vec<FieldError>) {
    use serde_json::Value;
    let too_long = |s: &str| s.len() > MAX_TEXT_LENGTH && s.chars().count() > MAX_TEXT_LENGTH;
    let push = |at: &str, errors: &mut Vec<FieldError>| {
        let field = if at.is_empty() { "/" } else { at };
        errors.push(
            FieldError::new(
                field,
                "too_long",
                format!("must be at most {MAX_TEXT_LENGTH} characters"),
            )
            .with_limit(MAX_TEXT_LENGTH),
        );
    };
    match value {
        Value::String(s) if too_long(s) => push(at, errors),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                check_text_lengths(item, at, errors);
                at.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if too_long(key) {
                    // The object itself is named: its key is too long to repeat.
                    push(at, errors);
                    continue;
                }
                let len = at.len();
                at.push('/');
                at.push_str(&key.replace('~', "~0").replace('/', "~1"));
                check_text_lengths(item, at, errors);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// Reads a request body of at most `limit` bytes (for the batch endpoints, whose
/// bodies are larger than the default limit).
pub async fn read_body(
    mut payload: actix_web::web::Payload,
    limit: usize,
) -> AppResult<actix_web::web::Bytes> {
    use futures_util::StreamExt;
    let mut body = actix_web::web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            AppError::new(
                ErrorCode::MalformedJson,
                format!("the body could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("the body is larger than the {limit} bytes accepted here"),
            )
            .with("limit_bytes", limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Query parameters parsed into `T`; a bad or unknown parameter is a 400 naming it.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> AppResult<T> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
    serde_path_to_error::deserialize::<_, T>(deserializer).map_err(|e| {
        let prefix = e.path().to_string();
        let prefix = if prefix == "." { String::new() } else { prefix };
        let error = field_error(prefix, e.into_inner().to_string(), ".");
        AppError::new(
            ErrorCode::InvalidQuery,
            format!("{}: {}", error.field, error.message),
        )
        .with_errors(vec![error])
    })
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// The request's id: the caller's `X-Request-Id` when it is sane, else a new one.
pub fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| "unknown".to_string())
}

#[derive(Clone)]
pub struct RequestId(pub String);

use actix_web::HttpMessage;

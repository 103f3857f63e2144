//! Request parsing at the edge: JSON bodies and query strings into typed
//! requests, each failure a problem naming the field.

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::text;
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
pub(super) fn field_error(prefix: String, message: String, separator: &str) -> FieldError {
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
    let code = if let Some(code) = crate::date::DateError::code_of(&message) {
        code
    } else if message.starts_with("invalid type") {
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
    let mut value = parse_unique_keys(body)?;
    text::normalize(&mut value);
    let canonical = serde_json::to_vec(&value)?;
    let canonical_hash = hex::encode(Sha256::digest(&canonical));
    let parsed = deserialize_value(value, "")?;
    Ok(ParsedBody {
        value: parsed,
        canonical_hash,
    })
}

/// Parses JSON text into a value, refusing an object that repeats a key (a 400
/// naming it by JSON pointer: `serde_json::Value` would silently keep the last).
fn parse_unique_keys(body: &[u8]) -> AppResult<serde_json::Value> {
    use serde::de::DeserializeSeed;
    let duplicate = std::cell::RefCell::new(None);
    let mut json = serde_json::Deserializer::from_slice(body);
    let mut track = serde_path_to_error::Track::new();
    let parsed = UniqueKeys {
        duplicate: &duplicate,
    }
    .deserialize(serde_path_to_error::Deserializer::new(
        &mut json, &mut track,
    ))
    .and_then(|value| json.end().map(|()| value));
    parsed.map_err(|e| {
        let (line, column) = (e.line(), e.column());
        let error = match duplicate.take() {
            Some(key) => {
                let at = format!("{}/{}", pointer(&track.path()), escape_key(&key));
                let shown: String = key.chars().take(100).collect();
                AppError::new(
                    ErrorCode::MalformedJson,
                    format!("the body repeats the key `{shown}` in one object (at {at})"),
                )
                .with_errors(vec![FieldError::new(
                    at,
                    "duplicate_key",
                    "appears more than once in its object",
                )])
            }
            None => AppError::new(
                ErrorCode::MalformedJson,
                format!("the body is not valid JSON: {e}"),
            ),
        };
        error.with("line", line).with("column", column)
    })
}

/// A JSON pointer segment for an object key.
fn escape_key(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Builds a `serde_json::Value`, noting the first key an object repeats.
#[derive(Clone, Copy)]
struct UniqueKeys<'a> {
    duplicate: &'a std::cell::RefCell<Option<String>>,
}

impl<'de> serde::de::DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = serde_json::Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for UniqueKeys<'_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                use serde::de::Error;
                let error = A::Error::custom(format!("duplicate key `{key}`"));
                *self.duplicate.borrow_mut() = Some(key);
                return Err(error);
            }
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(serde_json::Value::Object(object))
    }
}

/// Deserializes a JSON value into `T`; a failure is a 422 naming the field,
/// its JSON pointer prefixed with `prefix` (`/items/3` for a batch item).
pub fn deserialize_value<T: DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> AppResult<T> {
    // A batch's items are checked one by one, each failing on its own.
    let mut errors = Vec::new();
    if std::any::type_name::<T>() != std::any::type_name::<super::batch::BatchRequest>() {
        check_strings(&value, None, &mut prefix.to_string(), &mut errors);
    }
    // Every bad field at once, not only the first (super::collect).
    let read = super::collect::deserialize_all::<T>(value, prefix);
    match read.value {
        Some(value) if errors.is_empty() && read.errors.is_empty() => Ok(value),
        _ => {
            for e in read.errors {
                if !errors.iter().any(|k| k.field == e.field) {
                    errors.push(e);
                }
            }
            Err(AppError::validation(errors))
        }
    }
}

/// The longest string any JSON body may carry, in characters (fields with a
/// tighter bound of their own check it where they are validated).
pub const MAX_TEXT_LENGTH: usize = 2000;

/// Lists every string (and object key) of `value` that breaks the rule for
/// strings ([`text`]) or is longer than [`MAX_TEXT_LENGTH`], by its JSON pointer,
/// one error per string. `field` is the name of the member holding `value` (a
/// free-text field may hold line feeds).
fn check_strings(
    value: &serde_json::Value,
    field: Option<&str>,
    at: &mut String,
    errors: &mut Vec<FieldError>,
) {
    use serde_json::Value;
    let too_long = |s: &str| s.len() > MAX_TEXT_LENGTH && s.chars().count() > MAX_TEXT_LENGTH;
    let named = |at: &str| {
        if at.is_empty() {
            "/".to_string()
        } else {
            at.to_string()
        }
    };
    let long = |at: &str| {
        FieldError::new(
            named(at),
            "too_long",
            format!("must be at most {MAX_TEXT_LENGTH} characters"),
        )
        .with_limit(MAX_TEXT_LENGTH)
    };
    match value {
        Value::String(s) => {
            let line_breaks = field.is_some_and(|f| text::FREE_TEXT_FIELDS.contains(&f));
            if let Some(fault) = text::value_fault(s, line_breaks) {
                errors.push(FieldError::new(named(at), fault.code(), fault.message()));
            } else if too_long(s) {
                errors.push(long(at));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                check_strings(item, field, at, errors);
                at.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                // A bad key names the object itself: the key is not fit to repeat.
                if let Some(fault) = text::lookup_fault(key) {
                    let message = format!("has a key that {}", fault.message());
                    errors.push(FieldError::new(named(at), fault.code(), message));
                    continue;
                }
                if too_long(key) {
                    errors.push(long(at));
                    continue;
                }
                let len = at.len();
                at.push('/');
                at.push_str(&escape_key(key));
                check_strings(item, Some(key), at, errors);
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
    check_query_text(query)?;
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

/// Refuses a query parameter (name or value) with a control character or a
/// bidi override, naming the parameter ([`text`]).
fn check_query_text(query: &str) -> AppResult<()> {
    for (name, value) in form_urlencoded_parse(query) {
        let Some(fault) = text::lookup_fault(&name).or_else(|| text::lookup_fault(&value)) else {
            continue;
        };
        let name = name.escape_debug().to_string();
        return Err(AppError::new(
            ErrorCode::InvalidQuery,
            format!("{name}: {}", fault.message()),
        )
        .with_errors(vec![FieldError::new(name, fault.code(), fault.message())]));
    }
    Ok(())
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

/// The raw body of a change the path says all of (a DELETE, a redelivery):
/// read and checked like any body ([`super::write::Mutation::bodiless`]), but
/// not documented as a request body, so a generated client sends none.
pub struct UndocumentedBody(pub actix_web::web::Bytes);

impl FromRequest for UndocumentedBody {
    type Error = actix_web::Error;
    type Future = futures_util::future::MapOk<
        <actix_web::web::Bytes as FromRequest>::Future,
        fn(actix_web::web::Bytes) -> UndocumentedBody,
    >;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        use futures_util::TryFutureExt;
        actix_web::web::Bytes::from_request(req, payload).map_ok(UndocumentedBody as fn(_) -> _)
    }
}

//! Every bad field of a body at once. serde stops at the first error; a partner
//! fixing a rule document one field per round trip is what this spares. After an
//! error, the bad value is repaired in a scratch copy (with a value the type
//! accepts, found by trying a few; an unknown field is dropped; a missing one is
//! filled) and the body is read again, until it reads or no repair helps. The
//! repaired document is then good enough for the semantic checks to run on the
//! fields nobody touched, so type errors and rule errors come back together.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::extract::field_error;
use crate::error::FieldError;

/// At most this many errors are collected from one body.
const MAX_ERRORS: usize = 50;
/// Bodies larger than this are read for their first error only (each repair
/// reads the body again).
const MAX_REPAIRED_BYTES: usize = 64 * 1024;

/// What reading a body found: the value (read from the repaired copy when there
/// were errors), every error by JSON pointer, and the pointers repaired.
pub struct Collected<T> {
    pub value: Option<T>,
    pub errors: Vec<FieldError>,
    pub repaired: Vec<String>,
}

impl<T> Collected<T> {
    /// Keeps the errors of a check that ran on the repaired value, except those
    /// about a repaired field, its parts or the objects holding it (the type error
    /// already says what is wrong there).
    pub fn add_checked(&mut self, errors: Vec<FieldError>) {
        for e in errors {
            let related = self.repaired.iter().any(|r| {
                e.field == *r
                    || e.field.starts_with(&format!("{r}/"))
                    || (e.field != "/" && r.starts_with(&format!("{}/", e.field)))
            });
            if !related && !self.errors.iter().any(|k| k.field == e.field) {
                self.errors.push(e);
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Token {
    Key(String),
    Index(usize),
}

fn tokens(path: &serde_path_to_error::Path) -> Vec<Token> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(Token::Index(*index)),
            Segment::Map { key } => Some(Token::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

fn render(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(|t| match t {
            Token::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Token::Index(i) => format!("/{i}"),
        })
        .collect()
}

fn slot<'v>(value: &'v mut Value, tokens: &[Token]) -> Option<&'v mut Value> {
    tokens.iter().try_fold(value, |v, t| match (t, v) {
        (Token::Key(k), Value::Object(map)) => map.get_mut(k),
        (Token::Index(i), Value::Array(items)) => items.get_mut(*i),
        _ => None,
    })
}

/// Values a field of some type will likely accept, the first one the error
/// message suggests (`expected one of `abroad`, ...`).
fn candidates(message: &str) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(rest) = message.split("expected one of `").nth(1) {
        if let Some(variant) = rest.split('`').next() {
            out.push(Value::String(variant.to_string()));
        }
    }
    if let Some(rest) = message.split("expected `").nth(1) {
        if let Some(variant) = rest.split('`').next() {
            out.push(Value::String(variant.to_string()));
        }
    }
    out.extend([
        Value::String("1.00".into()),
        Value::String("0.50".into()),
        Value::String("2000-01-01".into()),
        Value::String("X".into()),
        Value::from(1),
        Value::Bool(true),
        Value::Array(Vec::new()),
        Value::Object(Default::default()),
        Value::Null,
    ]);
    out
}

/// The error reading `value` as `T`, as (tokens, message), or `None` if it reads.
fn first_error<T: DeserializeOwned>(value: &Value) -> Option<(Vec<Token>, String)> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(_) => None,
        Err(e) => Some((tokens(e.path()), e.into_inner().to_string())),
    }
}

fn is_at_or_under(tokens: &[Token], place: &str) -> bool {
    let p = render(tokens);
    p == place || p.starts_with(&format!("{place}/"))
}

/// Reads `value` as `T`, collecting every error by JSON pointer (prefixed by
/// `prefix`).
pub fn deserialize_all<T: DeserializeOwned>(value: Value, prefix: &str) -> Collected<T> {
    let mut value = value;
    let mut collected = Collected {
        value: None,
        errors: Vec::new(),
        repaired: Vec::new(),
    };
    let small = serde_json::to_vec(&value).map_or(0, |b| b.len()) <= MAX_REPAIRED_BYTES;
    loop {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(read) => {
                // With errors, this was read from the repaired copy: for the
                // semantic checks only.
                collected.value = Some(read);
                return collected;
            }
            Err(e) => e,
        };
        let mut at = tokens(err.path());
        let message = err.into_inner().to_string();
        let path = format!("{prefix}{}", render(&at));
        let error = field_error(path, message.clone(), "/");
        if collected
            .errors
            .iter()
            .any(|e| e.field == error.field && e.code == error.code)
        {
            return collected;
        }
        collected.errors.push(error);
        if !small || collected.errors.len() >= MAX_ERRORS {
            return collected;
        }
        // Where to repair: the field itself (an unknown field's path already ends
        // with its name; a missing field is named in the message).
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
            .map(str::to_string);
        if let Some(name) = &missing {
            at.push(Token::Key(name.clone()));
        }
        let place = render(&at);
        if message.starts_with("unknown field `") {
            if !remove(&mut value, &at) {
                return collected;
            }
        } else if !repair::<T>(&mut value, &at, &place, &message, missing.is_some()) {
            return collected;
        }
        collected.repaired.push(format!("{prefix}{place}"));
    }
}

fn remove(value: &mut Value, at: &[Token]) -> bool {
    let Some((last, parent)) = at.split_last() else {
        return false;
    };
    match (last, slot(value, parent)) {
        (Token::Key(k), Some(Value::Object(map))) => map.remove(k).is_some(),
        _ => false,
    }
}

/// Puts a value the type accepts at `at`; false if none of the candidates does.
fn repair<T: DeserializeOwned>(
    value: &mut Value,
    at: &[Token],
    place: &str,
    message: &str,
    missing: bool,
) -> bool {
    let Some((last, parent)) = at.split_last() else {
        return false;
    };
    for candidate in candidates(message) {
        let mut trial = value.clone();
        let placed = match (last, slot(&mut trial, parent)) {
            (Token::Key(k), Some(Value::Object(map))) if missing || map.contains_key(k) => {
                map.insert(k.clone(), candidate);
                true
            }
            (Token::Index(i), Some(Value::Array(items))) if *i < items.len() => {
                items[*i] = candidate;
                true
            }
            _ => false,
        };
        if !placed {
            return false;
        }
        let fixed = match first_error::<T>(&trial) {
            None => true,
            Some((next, _)) => !is_at_or_under(&next, place),
        };
        if fixed {
            *value = trial;
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        phase: Phase,
        share: crate::money::DecimalString,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Phase {
        Abroad,
        AfterReturn,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        items: Vec<Inner>,
        count: u32,
    }

    #[test]
    fn every_type_error_is_listed_by_its_pointer() {
        let body = serde_json::json!({
            "name": 7,
            "items": [
                {"phase": "moon", "share": "0.5"},
                {"phase": "abroad", "share": "half", "extra": 1},
            ],
        });
        let c = deserialize_all::<Outer>(body, "");
        let mut fields: Vec<(&str, &str)> = c
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                ("/count", "required"),
                ("/items/0/phase", "invalid_value"),
                ("/items/1/extra", "unknown_field"),
                ("/items/1/share", "invalid_value"),
                ("/name", "invalid_type"),
            ]
        );
        assert!(c.value.is_some(), "the repaired copy reads");
    }

    #[test]
    fn a_good_body_reads_with_no_errors() {
        let body = serde_json::json!({"name": "a", "items": [], "count": 2});
        let c = deserialize_all::<Outer>(body, "");
        assert!(c.errors.is_empty() && c.repaired.is_empty() && c.value.is_some());
    }
}

//! The one rule for strings, applied at the edge to every JSON body, query
//! parameter and path parameter, whichever database is behind the service:
//!
//! * no control characters (C0, DEL, C1; NUL included, which PostgreSQL cannot
//!   store), except a line feed (`\n`) in the free-text fields of
//!   [`FREE_TEXT_FIELDS`];
//! * no bidirectional overrides or isolates (U+202A–U+202E, U+2066–U+2069), which
//!   make a name read differently from what it is;
//! * in bodies, no non-empty string made only of invisible characters
//!   (whitespace, U+200B–U+200D, U+2060, U+FEFF);
//! * every string of a body is stored in Unicode NFC, so text that looks the same
//!   is the same (a name, a document number, a memo) when compared and hashed.

use crate::error::{AppError, ErrorCode, FieldError};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Body fields, by name, whose text may span lines: a line feed is allowed in
/// them (a carriage return is not; send `\n` alone).
pub const FREE_TEXT_FIELDS: &[&str] = &["memo", "note", "reason", "description"];

/// What is wrong with a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFault {
    ControlCharacter,
    BidiOverride,
    InvisibleOnly,
}

impl TextFault {
    /// The stable code of the field error.
    pub fn code(self) -> &'static str {
        match self {
            TextFault::ControlCharacter => "control_character",
            TextFault::BidiOverride => "bidi_override",
            TextFault::InvisibleOnly => "invisible_only",
        }
    }

    /// The message of the field error.
    pub fn message(self) -> &'static str {
        match self {
            TextFault::ControlCharacter => "must not contain control characters",
            TextFault::BidiOverride => {
                "must not contain bidirectional overrides or isolates (U+202A to U+202E, U+2066 to U+2069)"
            }
            TextFault::InvisibleOnly => "must not be made only of invisible characters",
        }
    }
}

fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn is_invisible(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// The first fault of a string that names or looks something up (a query or path
/// parameter, an object key): control characters and bidi overrides.
pub fn lookup_fault(text: &str) -> Option<TextFault> {
    text.chars().find_map(|c| {
        if c.is_control() {
            Some(TextFault::ControlCharacter)
        } else if is_bidi_override(c) {
            Some(TextFault::BidiOverride)
        } else {
            None
        }
    })
}

/// The first fault of a string value of a body; `line_breaks` allows `\n`.
pub fn value_fault(text: &str, line_breaks: bool) -> Option<TextFault> {
    if text.is_ascii() {
        // The common case: only ASCII controls can be wrong.
        let control = text
            .bytes()
            .any(|b| b.is_ascii_control() && !(line_breaks && b == b'\n'));
        if control {
            return Some(TextFault::ControlCharacter);
        }
    } else {
        for c in text.chars() {
            if c.is_control() && !(line_breaks && c == '\n') {
                return Some(TextFault::ControlCharacter);
            }
            if is_bidi_override(c) {
                return Some(TextFault::BidiOverride);
            }
        }
    }
    if !text.is_empty() && text.chars().all(is_invisible) {
        return Some(TextFault::InvisibleOnly);
    }
    None
}

/// Refuses a request whose path parameters (percent-decoded) break the rule for
/// lookups ([`lookup_fault`]): a 400 `INVALID_PATH_PARAMETER` naming the first bad
/// parameter. Runs before routing, for every route of the OpenAPI document; a path
/// that matches none is left to the router (404).
pub fn path_refusal(req: &actix_web::dev::ServiceRequest) -> Option<AppError> {
    let table = req.app_data::<actix_web::web::Data<super::problem::RouteTable>>()?;
    let parameters = table.parameters(req.path())?;
    parameters.into_iter().find_map(|(name, raw)| {
        let fault = lookup_fault(&percent_decode(raw))?;
        Some(
            AppError::new(
                ErrorCode::InvalidPathParameter,
                format!("{name}: {}", fault.message()),
            )
            .with_errors(vec![FieldError::new(name, fault.code(), fault.message())]),
        )
    })
}

/// Decodes `%XX` escapes of a path segment (anything else is kept as it is).
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| Some(hex(bytes[i + 1])? * 16 + hex(bytes[i + 2])?))
            .flatten();
        match escaped {
            Some(byte) => {
                out.push(byte as u8);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Puts every string value of `value` in NFC (object keys are field names, which
/// are checked, not rewritten).
pub fn normalize(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) if !s.is_ascii() && is_nfc_quick(s.chars()) != IsNormalized::Yes => {
            *s = s.nfc().collect();
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::Object(map) => map.values_mut().for_each(normalize),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_named_in_order_of_gravity() {
        assert_eq!(value_fault("Maria", false), None);
        assert_eq!(value_fault("", false), None);
        assert_eq!(
            value_fault("a\u{0}b", false),
            Some(TextFault::ControlCharacter)
        );
        assert_eq!(
            value_fault("a\u{85}b", false),
            Some(TextFault::ControlCharacter)
        );
        assert_eq!(
            value_fault("a\nb", false),
            Some(TextFault::ControlCharacter)
        );
        assert_eq!(value_fault("a\nb", true), None);
        assert_eq!(
            value_fault("a\r\nb", true),
            Some(TextFault::ControlCharacter)
        );
        assert_eq!(
            value_fault("\u{202E}abc", false),
            Some(TextFault::BidiOverride)
        );
        assert_eq!(
            value_fault("\u{2069}", false),
            Some(TextFault::BidiOverride)
        );
        assert_eq!(
            value_fault(" \u{200B}\u{2060}\u{FEFF}", false),
            Some(TextFault::InvisibleOnly)
        );
        assert_eq!(value_fault("\u{200B}x", false), None);
        assert_eq!(lookup_fault(" "), None);
        assert_eq!(lookup_fault("a\u{1b}"), Some(TextFault::ControlCharacter));
    }

    #[test]
    fn path_segments_are_percent_decoded() {
        assert_eq!(percent_decode("KE%00MWF"), "KE\u{0}MWF");
        assert_eq!(percent_decode("a%E2%80%AEb"), "a\u{202E}b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz1"), "%zz1");
    }

    #[test]
    fn strings_are_composed_and_ascii_is_untouched() {
        let mut v = serde_json::json!({"a": ["Jose\u{301}", "plain"], "b": "\u{C5}"});
        normalize(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["Jos\u{E9}", "plain"], "b": "\u{C5}"})
        );
    }
}

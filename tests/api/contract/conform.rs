//! A response checked against the document's schema, as far as its schemas
//! go: JSON types (with `null` only where nullable), enumerations, formats of
//! ids, dates and times, required properties present, no property the schema
//! does not document, unions chosen by their discriminator, arrays' items and
//! maps' values. Enough to catch a field the server always sends but the
//! document leaves optional, or a `null` it does not allow.

use serde_json::{Map, Value};

/// Adds to `wrong` every way `value` (at `at`) breaks `schema` of `doc`.
pub fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str, wrong: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let target = doc.pointer(r.trim_start_matches('#')).unwrap();
        return conforms(doc, target, value, at, wrong);
    }
    if let Some(parts) = schema["allOf"].as_array() {
        return conforms(doc, &merged(doc, parts), value, at, wrong);
    }
    if let Some(variants) = schema["oneOf"].as_array() {
        return one_of(doc, schema, variants, value, at, wrong);
    }
    if !type_allows(&schema["type"], value) {
        wrong.push(format!("{at}: {value} is not of type {}", schema["type"]));
        return;
    }
    if let Some(values) = schema["enum"].as_array() {
        if !values.contains(value) {
            wrong.push(format!("{at}: {value} is not one of {}", schema["enum"]));
        }
    }
    if let (Some(format), Some(s)) = (schema["format"].as_str(), value.as_str()) {
        if !format_allows(format, s) {
            wrong.push(format!("{at}: {s:?} is not a {format}"));
        }
    }
    match value {
        Value::Object(object) => properties(doc, schema, object, at, wrong),
        Value::Array(items) if schema.get("items").is_some() => {
            for (i, item) in items.iter().enumerate() {
                conforms(doc, &schema["items"], item, &format!("{at}/{i}"), wrong);
            }
        }
        _ => {}
    }
}

/// The parts of an `allOf` as one object schema; a part without properties
/// (free-form members, such as a problem's) lets undocumented ones through.
fn merged(doc: &Value, parts: &[Value]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut free_form = false;
    for part in parts {
        let part = resolve(doc, part);
        match part["properties"].as_object() {
            Some(p) => properties.extend(p.clone()),
            None => free_form = true,
        }
        required.extend(part["required"].as_array().cloned().unwrap_or_default());
    }
    let mut schema =
        serde_json::json!({"type": "object", "properties": properties, "required": required});
    if free_form {
        schema["additionalProperties"] = Value::Bool(true);
    }
    schema
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(doc, doc.pointer(r.trim_start_matches('#')).unwrap()),
        None => schema,
    }
}

/// A union: the variant the discriminator names, or else exactly one variant
/// that `value` conforms to.
fn one_of(
    doc: &Value,
    schema: &Value,
    variants: &[Value],
    value: &Value,
    at: &str,
    wrong: &mut Vec<String>,
) {
    let discriminator = &schema["discriminator"];
    if let Some(property) = discriminator["propertyName"].as_str() {
        let tag = value[property].as_str().unwrap_or_default();
        match discriminator["mapping"][tag].as_str() {
            Some(r) => conforms(doc, &serde_json::json!({"$ref": r}), value, at, wrong),
            None => wrong.push(format!("{at}: {property} {tag:?} names no variant")),
        }
        return;
    }
    let matching = variants
        .iter()
        .filter(|v| {
            let mut errors = Vec::new();
            conforms(doc, v, value, at, &mut errors);
            errors.is_empty()
        })
        .count();
    if matching != 1 {
        wrong.push(format!(
            "{at}: {value} matches {matching} variants of {}",
            schema["oneOf"]
        ));
    }
}

/// Checks an object's properties: required ones present, each one documented
/// (unless the schema allows others) and conforming.
fn properties(
    doc: &Value,
    schema: &Value,
    object: &Map<String, Value>,
    at: &str,
    wrong: &mut Vec<String>,
) {
    for name in schema["required"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap();
        if !object.contains_key(name) {
            wrong.push(format!("{at}/{name}: required but absent"));
        }
    }
    let documented = schema["properties"].as_object();
    for (name, value) in object {
        let at = format!("{at}/{name}");
        match (
            documented.and_then(|d| d.get(name)),
            &schema["additionalProperties"],
        ) {
            (Some(property), _) => conforms(doc, property, value, &at, wrong),
            (None, Value::Object(_)) => {
                conforms(doc, &schema["additionalProperties"], value, &at, wrong)
            }
            (None, Value::Bool(true)) => {}
            (None, _) if documented.is_none() => {}
            (None, _) => wrong.push(format!("{at}: not documented")),
        }
    }
}

/// Whether the schema's `type` (absent, one name or a list) allows `value`.
fn type_allows(types: &Value, value: &Value) -> bool {
    let allows = |t: &str| match t {
        "null" => value.is_null(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    };
    match types {
        Value::String(t) => allows(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(allows),
        _ => true,
    }
}

fn format_allows(format: &str, s: &str) -> bool {
    match format {
        "uuid" => uuid::Uuid::parse_str(s).is_ok(),
        "date" => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
        "date-time" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        _ => true,
    }
}

#[test]
fn the_checker_finds_what_a_response_breaks() {
    let doc = serde_json::json!({"components": {"schemas": {
        "Thing": {"type": "object", "required": ["id", "note"], "properties": {
            "id": {"type": "string", "format": "uuid"},
            "note": {"type": ["string", "null"]},
            "kind": {"type": "string", "enum": ["a", "b"]}
        }},
        "A": {"type": "object", "required": ["tag"], "properties": {"tag": {"type": "string", "enum": ["a"]}}},
        "Union": {"oneOf": [{"$ref": "#/components/schemas/A"}],
                  "discriminator": {"propertyName": "tag", "mapping": {"a": "#/components/schemas/A"}}}
    }}});
    let thing = serde_json::json!({"$ref": "#/components/schemas/Thing"});
    let check = |schema: &Value, value: Value| {
        let mut wrong = Vec::new();
        conforms(&doc, schema, &value, "", &mut wrong);
        wrong
    };
    let id = "0193b0c4-5d2e-7a41-9c3f-2b8e6d1a4f70";
    assert!(check(
        &thing,
        serde_json::json!({"id": id, "note": null, "kind": "a"})
    )
    .is_empty());
    assert_eq!(
        check(&thing, serde_json::json!({"id": id})).len(),
        1,
        "required absent"
    );
    assert_eq!(
        check(&thing, serde_json::json!({"id": id, "note": null, "x": 1})).len(),
        1,
        "undocumented"
    );
    assert_eq!(
        check(&thing, serde_json::json!({"id": null, "note": null})).len(),
        1,
        "null"
    );
    assert_eq!(
        check(&thing, serde_json::json!({"id": "7", "note": null})).len(),
        1,
        "not a uuid"
    );
    assert_eq!(
        check(
            &thing,
            serde_json::json!({"id": id, "note": null, "kind": "c"})
        )
        .len(),
        1,
        "enum"
    );
    let union = serde_json::json!({"$ref": "#/components/schemas/Union"});
    assert!(check(&union, serde_json::json!({"tag": "a"})).is_empty());
    assert_eq!(
        check(&union, serde_json::json!({"tag": "z"})).len(),
        1,
        "unknown tag"
    );
}

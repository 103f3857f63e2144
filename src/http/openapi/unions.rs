//! Unions a client generator can name and tell apart. utoipa writes the
//! variants of an internally tagged enum (`#[serde(tag = "kind")]` with named
//! fields) inline, without a discriminator, and repeats a generic page's item
//! schema inline: generators then invent a name per inline schema (and
//! openapi-python-client drops variants whose invented names collide). Here
//! each variant with a `title` becomes a named schema, a union whose variants
//! each fix a tag to their own values gets a `discriminator`, and an inline
//! copy of a named schema becomes a reference to it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

const SCHEMAS: &str = "#/components/schemas/";

/// Moves every `oneOf` variant that has a `title` into the named schemas
/// under that title, leaving a `$ref` in its place. A title already taken by
/// a different schema leaves the variant inline (a unit test catches it).
pub(super) fn name_union_variants(doc: &mut Value) {
    let mut named = BTreeMap::new();
    lift_titled_variants(doc, &mut named);
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else {
        return;
    };
    for (name, schema) in named {
        schemas.entry(name).or_insert(schema);
    }
}

/// Replaces titled `oneOf` variants in `v`, at any depth, with references,
/// collecting the variants in `named` (the first of a title wins; a second,
/// different one stays inline).
fn lift_titled_variants(v: &mut Value, named: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            m.values_mut().for_each(|v| lift_titled_variants(v, named));
            let Some(Value::Array(variants)) = m.get_mut("oneOf") else {
                return;
            };
            for variant in variants {
                let Some(title) = variant.get("title").and_then(Value::as_str) else {
                    continue;
                };
                let title = title.to_string();
                let same = named.get(&title).is_none_or(|known| known == variant);
                if same {
                    let schema = std::mem::replace(variant, reference(&title));
                    named.insert(title, schema);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| lift_titled_variants(v, named)),
        _ => {}
    }
}

fn reference(name: &str) -> Value {
    serde_json::json!({ "$ref": format!("{SCHEMAS}{name}") })
}

/// Gives a `discriminator` to every `oneOf` of references whose variants all
/// require one property with an enumeration of their own values (the serde
/// tag): each value maps to its variant, so a generator picks the variant by
/// the tag instead of trying each in turn.
pub(super) fn discriminate_unions(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    add_discriminators(doc, &schemas);
}

fn add_discriminators(v: &mut Value, schemas: &Value) {
    match v {
        Value::Object(m) => {
            m.values_mut().for_each(|v| add_discriminators(v, schemas));
            if m.contains_key("discriminator") {
                return;
            }
            let Some(Value::Array(variants)) = m.get("oneOf") else {
                return;
            };
            if let Some(discriminator) = discriminator(variants, schemas) {
                m.insert("discriminator".into(), discriminator);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| add_discriminators(v, schemas)),
        _ => {}
    }
}

/// The discriminator of a union of `variants` (references into `schemas`), if
/// one required property tells every variant apart.
fn discriminator(variants: &[Value], schemas: &Value) -> Option<Value> {
    let refs: Vec<&str> = variants
        .iter()
        .map(|v| v.get("$ref").and_then(Value::as_str))
        .collect::<Option<_>>()?;
    let first = &schemas[refs.first()?.strip_prefix(SCHEMAS)?];
    let candidates = first["required"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str);
    candidates.into_iter().find_map(|property| {
        let mut mapping = Map::new();
        for r in &refs {
            let schema = &schemas[r.strip_prefix(SCHEMAS)?];
            let required = schema["required"].as_array()?;
            if !required.iter().any(|p| p == property) {
                return None;
            }
            for value in schema["properties"][property]["enum"].as_array()? {
                let value = value.as_str()?.to_string();
                if mapping
                    .insert(value, Value::String(r.to_string()))
                    .is_some()
                {
                    return None;
                }
            }
        }
        Some(serde_json::json!({ "propertyName": property, "mapping": mapping }))
    })
}

/// Replaces every inline copy of a named schema (an object, union or
/// enumeration equal to one under `components/schemas`) with a reference to
/// it: utoipa inlines the item type of a generic page.
pub(super) fn refer_to_named_schemas(doc: &mut Value) {
    let Some(schemas) = doc["components"]["schemas"].as_object() else {
        return;
    };
    let named: Vec<(String, Value)> = schemas
        .iter()
        .filter(|(_, schema)| worth_naming(schema))
        .map(|(name, schema)| (name.clone(), schema.clone()))
        .collect();
    if let Some(paths) = doc.get_mut("paths") {
        replace_copies(paths, &named);
    }
    if let Some(Value::Object(schemas)) = doc["components"].get_mut("schemas") {
        for schema in schemas.values_mut() {
            replace_copies_below(schema, &named);
        }
    }
}

/// Schemas too small to be told from another by content are left alone.
fn worth_naming(schema: &Value) -> bool {
    ["properties", "oneOf", "allOf", "enum"]
        .iter()
        .any(|k| schema.get(k).is_some())
}

fn replace_copies(v: &mut Value, named: &[(String, Value)]) {
    if let Some((name, _)) = named.iter().find(|(_, schema)| schema == v) {
        *v = reference(name);
        return;
    }
    replace_copies_below(v, named);
}

fn replace_copies_below(v: &mut Value, named: &[(String, Value)]) {
    match v {
        Value::Object(m) => m.values_mut().for_each(|v| replace_copies(v, named)),
        Value::Array(a) => a.iter_mut().for_each(|v| replace_copies(v, named)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tagged_union() -> Value {
        json!({
            "paths": {"/things": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"items": {"type": "array", "items": {"oneOf": [
                    {"title": "Fixed", "type": "object", "required": ["kind", "value"],
                     "properties": {"kind": {"type": "string", "enum": ["fixed"]}, "value": {"type": "string"}}},
                    {"title": "Scaled", "type": "object", "required": ["kind", "rate"],
                     "properties": {"kind": {"type": "string", "enum": ["scaled", "scaled_twice"]}, "rate": {"type": "string"}}}
                ]}}}
            }}}}}}}},
            "components": {"schemas": {}}
        })
    }

    #[test]
    fn titled_variants_become_named_schemas_told_apart_by_their_tag() {
        let mut doc = tagged_union();
        name_union_variants(&mut doc);
        discriminate_unions(&mut doc);
        let union = &doc["paths"]["/things"]["get"]["responses"]["200"]["content"]
            ["application/json"]["schema"]["properties"]["items"]["items"];
        assert_eq!(
            union["oneOf"],
            json!([{"$ref": "#/components/schemas/Fixed"}, {"$ref": "#/components/schemas/Scaled"}])
        );
        assert_eq!(
            union["discriminator"],
            json!({"propertyName": "kind", "mapping": {
                "fixed": "#/components/schemas/Fixed",
                "scaled": "#/components/schemas/Scaled",
                "scaled_twice": "#/components/schemas/Scaled"
            }})
        );
        assert_eq!(
            doc["components"]["schemas"]["Fixed"]["required"],
            json!(["kind", "value"])
        );
    }

    #[test]
    fn a_union_whose_variants_share_a_tag_value_gets_no_discriminator() {
        let mut doc = tagged_union();
        let variants = "/paths/~1things/get/responses/200/content/application~1json/schema/properties/items/items/oneOf";
        doc.pointer_mut(&format!("{variants}/1/properties/kind/enum"))
            .unwrap()
            .as_array_mut()
            .unwrap()
            .push(json!("fixed"));
        name_union_variants(&mut doc);
        discriminate_unions(&mut doc);
        let union = doc.pointer(variants.trim_end_matches("/oneOf")).unwrap();
        assert!(union.get("discriminator").is_none(), "{union}");
    }

    #[test]
    fn inline_copies_of_a_named_schema_become_references() {
        let thing = json!({"type": "object", "properties": {"id": {"type": "string"}}});
        let mut doc = json!({
            "paths": {"/things": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"items": {"type": "array", "items": thing.clone()}}
            }}}}}}}},
            "components": {"schemas": {"Thing": thing, "Name": {"type": "string"}}}
        });
        refer_to_named_schemas(&mut doc);
        let page = &doc["paths"]["/things"]["get"]["responses"]["200"]["content"]
            ["application/json"]["schema"];
        assert_eq!(page["properties"]["items"]["items"], reference("Thing"));
        assert_eq!(doc["components"]["schemas"]["Thing"]["type"], "object");
    }
}

//! The response headers of the service, each declared once under
//! `components/headers` and referred to from every response that carries it.
//! Most are added by the service around the handlers (the request id on every
//! answer, the replay marker on keyed writes, the entity tag on single
//! records, the next-page link on lists), so they are placed here by the rule
//! the service follows; a route that sends its own (the exports) names them in
//! its annotation, and the name is enough: the declaration is this table's.

use serde_json::{json, Map, Value};

/// A header of the service: its name, what it says, and its schema.
struct Header {
    name: &'static str,
    description: &'static str,
    schema: fn() -> Value,
}

const REQUEST_ID: &str = "X-Request-Id";
const REPLAYED: &str = "Idempotent-Replayed";
const ETAG: &str = "ETag";
const LINK: &str = "Link";

const HEADERS: &[Header] = &[
    Header {
        name: REQUEST_ID,
        description: "The request's id, as the caller sent it in `X-Request-Id` (1 to 128 visible \
ASCII characters) or else made by the service; the audit log records it.",
        schema: || json!({"type": "string", "minLength": 1, "maxLength": 128}),
    },
    Header {
        name: REPLAYED,
        description: "`true` when this is the stored response of an earlier request with the same \
`Idempotency-Key` and body: nothing was done again.",
        schema: || json!({"type": "string", "enum": ["true"]}),
    },
    Header {
        name: ETAG,
        description: "A strong entity tag of the answer (a record, a page, a report); send it \
back in `If-None-Match` to get 304 while the answer is unchanged.",
        schema: || json!({"type": "string"}),
    },
    Header {
        name: LINK,
        description: "`<…>; rel=\"next\"`: the URL of the next page, present when one follows.",
        schema: || json!({"type": "string"}),
    },
    Header {
        name: "X-Mwf-Next-After",
        description: "The sequence to pass as `after` for the next page of a limited export, \
present when more entries follow.",
        schema: || json!({"type": "integer", "format": "int64", "minimum": 0}),
    },
    Header {
        name: "X-Mwf-Chain-Head",
        description: "The fund's chain head when the export began: `sequence:hash` of its last \
journal entry.",
        schema: || json!({"type": "string", "pattern": "^[0-9]+:[0-9a-f]{64}$"}),
    },
];

/// Declares [`HEADERS`] under `components/headers`, adds the headers the
/// service sends around the handlers to the responses that carry them, and
/// makes every response header a reference to its declaration.
pub(super) fn document_headers(doc: &mut Value) {
    let declared: Map<String, Value> = HEADERS
        .iter()
        .map(|h| {
            let header = json!({"description": h.description, "schema": (h.schema)()});
            (h.name.to_string(), header)
        })
        .collect();
    doc["components"]["headers"] = Value::Object(declared);
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let keyed = takes_idempotency_key(operation);
            let get = method == "get";
            let Some(responses) = operation["responses"].as_object_mut() else {
                continue;
            };
            let tagged = get && responses.get("200").is_some_and(is_json);
            if tagged {
                responses.insert("304".into(), not_modified());
            }
            for (status, response) in responses.iter_mut() {
                let success = status.starts_with('2');
                let mut names = vec![REQUEST_ID];
                if keyed && success {
                    names.push(REPLAYED);
                }
                if tagged && (status == "200" || status == "304") {
                    names.push(ETAG);
                }
                if status == "200" && is_page(response) {
                    names.push(LINK);
                }
                add_header_refs(response, &names);
            }
        }
    }
}

/// Whether the operation documents the `Idempotency-Key` request header.
fn takes_idempotency_key(operation: &Value) -> bool {
    operation["parameters"].as_array().is_some_and(|ps| {
        ps.iter()
            .any(|p| p["in"] == "header" && p["name"] == "Idempotency-Key")
    })
}

/// Whether a response has a whole JSON body: the answers the service tags
/// (a streamed export is written as it is read, so it has no tag).
fn is_json(response: &Value) -> bool {
    response["content"]["application/json"].is_object()
}

/// The answer to a `GET` whose `If-None-Match` names the current tag.
fn not_modified() -> Value {
    json!({"description": "Not Modified: the `If-None-Match` tag is still the answer's; no body."})
}

/// Whether a response answers a page of a list (a `Page_…` schema).
fn is_page(response: &Value) -> bool {
    response["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .is_some_and(|r| r.starts_with("#/components/schemas/Page_"))
}

/// Adds `names` to the response's headers and makes each header the response
/// names a reference to its declaration.
fn add_header_refs(response: &mut Value, names: &[&str]) {
    let Some(response) = response.as_object_mut() else {
        return;
    };
    let headers = response
        .entry("headers")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(headers) = headers.as_object_mut() else {
        return;
    };
    for name in names {
        headers.entry(name.to_string()).or_insert(Value::Null);
    }
    for (name, header) in headers.iter_mut() {
        if HEADERS.iter().any(|h| h.name == name) {
            *header = json!({"$ref": format!("#/components/headers/{name}")});
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_declared_once_and_placed_by_the_rules_the_service_follows() {
        let mut doc = json!({"paths": {
            "/v1/things": {
                "get": {"responses": {"200": {"content": {"application/json": {"schema":
                    {"$ref": "#/components/schemas/Page_Thing"}}}}, "4XX": {}}},
                "post": {
                    "parameters": [{"name": "Idempotency-Key", "in": "header"}],
                    "responses": {"201": {}, "409": {}}
                }
            },
            "/v1/things/{id}": {"get": {"responses": {"200": {"content": {"application/json": {}}}}}},
            "/v1/export": {"get": {"responses": {"200": {"headers": {
                "X-Mwf-Chain-Head": {"schema": {"type": "string"}}
            }}}}}
        }, "components": {}});
        document_headers(&mut doc);
        let names = |pointer: &str| -> Vec<String> {
            let headers = doc.pointer(pointer).unwrap()["headers"]
                .as_object()
                .unwrap();
            for (name, header) in headers {
                assert_eq!(header["$ref"], format!("#/components/headers/{name}"));
            }
            headers.keys().cloned().collect()
        };
        assert_eq!(
            names("/paths/~1v1~1things/get/responses/200"),
            [ETAG, LINK, REQUEST_ID]
        );
        assert_eq!(
            names("/paths/~1v1~1things/get/responses/304"),
            [ETAG, REQUEST_ID]
        );
        assert_eq!(names("/paths/~1v1~1things/get/responses/4XX"), [REQUEST_ID]);
        assert_eq!(
            names("/paths/~1v1~1things/post/responses/201"),
            [REPLAYED, REQUEST_ID]
        );
        assert_eq!(
            names("/paths/~1v1~1things/post/responses/409"),
            [REQUEST_ID]
        );
        assert_eq!(
            names("/paths/~1v1~1things~1{id}/get/responses/200"),
            [ETAG, REQUEST_ID]
        );
        assert_eq!(
            names("/paths/~1v1~1export/get/responses/200"),
            ["X-Mwf-Chain-Head", REQUEST_ID]
        );
        assert!(doc
            .pointer("/paths/~1v1~1export/get/responses/304")
            .is_none());
        let declared = doc["components"]["headers"].as_object().unwrap();
        assert_eq!(declared.len(), HEADERS.len());
        assert!(declared["X-Mwf-Chain-Head"]["description"].is_string());
    }
}

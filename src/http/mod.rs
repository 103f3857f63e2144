//! The HTTP layer: routes, request and response types, pagination, errors,
//! authentication extraction and idempotency. It calls the domain services and
//! never touches the schema.

mod accounts;
mod audit_log;
mod batch;
mod claims;
mod collect;
mod contributions;
pub mod deadline;
pub mod docs;
mod events;
mod exports;
pub mod extract;
mod funds;
pub mod group;
mod journal;
pub mod problem;
mod reports;
mod rules;
mod stream;
mod system;
pub mod text;
mod workers;
mod write;

use actix_web::web;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::auth::Caller;
use crate::db::{DbConnection, DbPool};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::funds::{find_fund, Fund};

/// Shared state of the running service.
pub struct AppState {
    pub pool: DbPool,
    /// Books single contribution requests in groups ([`group`]).
    pub committer: group::Committer,
}

/// The default page size of list endpoints.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// The largest page a client may ask for; more is refused, not clamped.
pub const MAX_PAGE_SIZE: i64 = 500;
/// The largest JSON body accepted by ordinary endpoints.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Runs `f` with a pooled connection on the blocking thread pool, inside one
/// read-only snapshot: a response read in several queries (verification, a
/// statement, entries with their postings) is never torn by a booking that
/// commits meanwhile.
pub async fn read<T, F>(state: &web::Data<AppState>, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
{
    let state = state.clone();
    web::block(move || {
        let mut conn = state.pool.get()?;
        crate::db::read_snapshot(&mut conn, f)
    })
    .await?
}

/// The fund with `code` if the caller's token covers it. A fund outside the
/// token's scope is reported exactly like a missing one.
pub fn fund_in_scope(conn: &mut DbConnection, caller: &Caller, code: &str) -> AppResult<Fund> {
    let missing = || AppError::not_found(format!("no fund {code}"));
    if !caller.may_access_fund(code) {
        return Err(missing());
    }
    find_fund(conn, code)?.ok_or_else(missing)
}

/// Checks `limit` against [`MAX_PAGE_SIZE`] (refusing, never clamping).
pub fn page_limit(limit: Option<i64>) -> AppResult<i64> {
    match limit {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(n) => Err(AppError::new(
            ErrorCode::LimitExceeded,
            format!("limit must be between 1 and {MAX_PAGE_SIZE}, got {n}"),
        )
        .with_errors(vec![FieldError::new(
            "limit",
            "out_of_range",
            format!("must be 1 to {MAX_PAGE_SIZE}"),
        )
        .with_limit(MAX_PAGE_SIZE as usize)])
        .with("limit", MAX_PAGE_SIZE)),
    }
}

/// Parses an opaque `after` cursor (a position in a list).
pub fn cursor(after: Option<&str>) -> AppResult<i64> {
    match after {
        None => Ok(0),
        Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidQuery,
                "after: is not a cursor returned by this list",
            )
            .with_errors(vec![FieldError::new(
                "after",
                "invalid_cursor",
                "is not a cursor returned by this list",
            )])
        }),
    }
}

/// Trims a list fetched with `limit + 1` rows to `limit` and gives the cursor of
/// the next page, if there is one.
pub fn paginate<T>(
    mut rows: Vec<T>,
    limit: i64,
    position: impl Fn(&T) -> i64,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| position(r).to_string())
    } else {
        None
    };
    (rows, next)
}

/// Like [`paginate`] for lists whose cursor is a string (time-ordered UUIDs).
pub fn paginate_by<T>(
    mut rows: Vec<T>,
    limit: i64,
    position: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(position)
    } else {
        None
    };
    (rows, next)
}

/// A page of a list: `items`, newest last, and the `next` cursor to pass as
/// `after` (absent on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mwf: Migrant Welfare Fund ledger",
        description = "The system of record for Migrant Welfare Funds: funds and their rules, worker enrollment, \
contributions and benefit claims, booked in a double-entry ledger with a per-fund hash chain.\n\n\
Authenticate with `Authorization: Bearer <JWT>`; the token's `role` and `funds` decide what it may do, and a fund \
outside `funds` answers 404. Amounts are decimal strings beside an ISO 4217 `currency`. Every error is \
`application/problem+json` with a stable `code`. Requests that create or book may carry an `Idempotency-Key` \
header: a retry with the same key and body returns the original response (with `Idempotent-Replayed: true`) and \
never books twice; the same key with another body is a 409 `IDEMPOTENCY_KEY_REUSED`.",
        version = env!("CARGO_PKG_VERSION"),
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    tags(
        (name = "system", description = "Health and documentation (no token)"),
        (name = "funds", description = "Funds and accounting periods"),
        (name = "ledger", description = "Accounts, journal entries, statements and verification"),
        (name = "rules", description = "Versioned fund rules"),
        (name = "workers", description = "Enrollment, dependants, contracts and membership"),
        (name = "contributions", description = "Quotes, contributions and their reversal"),
        (name = "claims", description = "Claims: assessment, decisions, approvals and payment"),
        (name = "events", description = "The domain event feed for partner systems"),
        (name = "reports", description = "Trial balance, membership and claims statistics"),
        (name = "exports", description = "Streamed ledger and audit-log exports for auditors"),
        (name = "audit", description = "The audit log")
    )
)]
struct ApiDoc;

/// Registers every route of the API on `cfg`.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(system::healthz)
        .service(system::readyz)
        .configure(funds::routes)
        .configure(accounts::routes)
        .configure(journal::routes)
        .configure(rules::routes)
        .configure(workers::routes)
        .configure(contributions::routes)
        .configure(claims::routes)
        .configure(events::routes)
        .configure(reports::routes)
        .configure(exports::routes)
        .configure(audit_log::routes);
}

/// The OpenAPI document generated from the routes and their annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt;
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    let mut api = api;
    problems_as_problem_json(&mut api);
    bound_request_strings(api)
}

/// Every string a request body may carry is bounded ([`extract::MAX_TEXT_LENGTH`]
/// for those without a tighter bound, an enumeration or a format): say so in the
/// document, as `maxLength` on each string of the schemas requests use.
fn bound_request_strings(api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use serde_json::Value;
    let Ok(mut doc) = serde_json::to_value(&api) else {
        return api;
    };
    fn refs(v: &Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    if let Some(name) = r.strip_prefix("#/components/schemas/") {
                        out.insert(name.to_string());
                    }
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    fn bound(v: &mut Value) {
        match v {
            Value::Object(m) => {
                let is_string = match m.get("type") {
                    Some(Value::String(t)) => t == "string",
                    Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                    _ => false,
                };
                let constrained = ["maxLength", "enum", "const", "format"]
                    .iter()
                    .any(|k| m.contains_key(*k));
                if is_string && !constrained {
                    m.insert("maxLength".into(), extract::MAX_TEXT_LENGTH.into());
                }
                m.values_mut().for_each(bound);
            }
            Value::Array(a) => a.iter_mut().for_each(bound),
            _ => {}
        }
    }
    // The schemas request bodies use, and the schemas those use.
    let mut wanted = std::collections::BTreeSet::new();
    if let Some(paths) = doc["paths"].as_object() {
        for item in paths.values() {
            for op in item.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(body) = op.get("requestBody") {
                    refs(body, &mut wanted);
                }
            }
        }
    }
    let mut todo: Vec<String> = wanted.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        let mut found = std::collections::BTreeSet::new();
        refs(&doc["components"]["schemas"][&name], &mut found);
        for name in found {
            if wanted.insert(name.clone()) {
                todo.push(name);
            }
        }
    }
    for name in &wanted {
        if let Some(schema) = doc["components"]["schemas"].get_mut(name) {
            bound(schema);
        }
    }
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for op in item
                .as_object_mut()
                .into_iter()
                .flat_map(|o| o.values_mut())
            {
                if let Some(body) = op.get_mut("requestBody") {
                    bound(body);
                }
            }
        }
    }
    serde_json::from_value(doc).unwrap_or(api)
}

/// Refusals are answered as `application/problem+json`: document them so,
/// on every operation.
/// (utoipa writes `application/json` for every `body = Problem`.)
fn problems_as_problem_json(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    const PROBLEM: &str = "#/components/schemas/Problem";
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            // Any operation may refuse (a bad token, query or body): one that
            // documents only some refusals gets the rest as `4XX`.
            if !op.responses.responses.contains_key("4XX") {
                let refusals = ResponseBuilder::new()
                    .description("Other refusals (problem+json)")
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build();
                op.responses
                    .responses
                    .insert("4XX".to_string(), RefOr::T(refusals));
            }
            for response in op.responses.responses.values_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                let is_problem = response.content.get("application/json").is_some_and(|c| {
                    matches!(c, RefOr::T(c)
                        if matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location == PROBLEM))
                });
                if is_problem {
                    if let Some(content) = response.content.shift_remove("application/json") {
                        response
                            .content
                            .insert("application/problem+json".to_string(), content);
                    }
                }
            }
        }
    }
}

/// The document as committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut text = openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    /// Every `$ref` of the document names a schema it defines, and refusals are
    /// documented as problem+json.
    #[test]
    fn every_reference_resolves_and_problems_are_problem_json() {
        let doc: serde_json::Value = serde_json::from_str(&super::openapi_json()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut refs = Vec::new();
        fn walk(v: &serde_json::Value, refs: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                        refs.push(r.clone());
                    }
                    m.values().for_each(|v| walk(v, refs));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, refs)),
                _ => {}
            }
        }
        walk(&doc, &mut refs);
        assert!(!refs.is_empty());
        for r in &refs {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
            assert!(schemas.contains_key(name), "unresolved reference {r}");
        }
        let text = serde_json::to_string(&doc["paths"]).unwrap();
        assert!(text.contains("application/problem+json"));
        let get_fund = &doc["paths"]["/v1/funds/{fund}"]["get"]["responses"];
        let refusals = get_fund
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| k.starts_with('4'));
        let (_, refusals) = refusals.expect("refusals are documented");
        assert!(
            refusals["content"]["application/problem+json"].is_object(),
            "{refusals}"
        );
        assert!(refusals["content"].get("application/json").is_none());
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let r = &op["responses"]["4XX"]["content"]["application/problem+json"];
                assert!(r.is_object(), "{method} {path} documents no 4XX problem");
            }
        }
    }
}

//! Batch requests: up to 10,000 items, each answered on its own.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::extract::deserialize_value;
use crate::error::{AppError, AppResult, ErrorCode, FieldError, Problem, Refusal};

/// The most items one batch may carry.
pub const MAX_BATCH_ITEMS: usize = 10_000;
/// The largest batch body accepted.
pub const MAX_BATCH_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A batch: `items` are what the single endpoint takes, at most 10,000. Each
/// item is parsed on its own ([`parse_items`]), so the request keeps them as
/// JSON; the document describes them with [`Batch`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub items: Vec<Value>,
}

/// A batch as the OpenAPI document describes it: 1 to 10,000 `items`, each
/// what the single endpoint takes, each answered on its own.
#[derive(ToSchema)]
#[allow(
    dead_code,
    reason = "describes the request in the document; BatchRequest reads it"
)]
pub struct Batch<T: ToSchema> {
    #[schema(min_items = 1, max_items = 10000)]
    pub items: Vec<T>,
}

/// What became of a batch item.
#[derive(ToSchema)]
#[schema(as = BatchItemStatus)]
#[allow(
    dead_code,
    reason = "describes BatchItemResult::status in the document"
)]
pub enum ItemStatus {
    /// Recorded now.
    #[schema(rename = "created")]
    Created,
    /// Already recorded under the same `external_ref` (contributions).
    #[schema(rename = "existing")]
    Existing,
    /// Refused: see `problem`.
    #[schema(rename = "failed")]
    Failed,
}

/// The id of the record an item created or found, by the endpoint's record.
#[derive(ToSchema)]
#[schema(as = BatchItemRecord)]
#[allow(
    dead_code,
    reason = "describes BatchItemResult::fields in the document"
)]
pub struct ItemRecord {
    /// The worker enrolled (workers batch).
    #[schema(format = Uuid, nullable = false)]
    worker_id: Option<String>,
    /// The contribution recorded or found (contributions batch).
    #[schema(format = Uuid, nullable = false)]
    contribution_id: Option<String>,
}

/// Checks the batch size and parses each item on its own: an item that does not
/// parse becomes its own problem and does not stop the others.
pub fn parse_items<T: serde::de::DeserializeOwned>(
    batch: BatchRequest,
) -> AppResult<Vec<AppResult<T>>> {
    if batch.items.is_empty() || batch.items.len() > MAX_BATCH_ITEMS {
        return Err(AppError::new(
            ErrorCode::LimitExceeded,
            format!(
                "a batch holds 1 to {MAX_BATCH_ITEMS} items, not {}",
                batch.items.len()
            ),
        )
        .with_errors(vec![FieldError::new(
            "/items",
            "out_of_range",
            format!("must hold 1 to {MAX_BATCH_ITEMS} items"),
        )
        .with_limit(MAX_BATCH_ITEMS)])
        .with("limit", MAX_BATCH_ITEMS));
    }
    Ok(batch
        .items
        .into_iter()
        .enumerate()
        .map(|(i, value)| deserialize_value(value, &item_path(i)))
        .collect())
}

/// The outcome of one item.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchItemResult {
    /// The item's position in the request, from 0.
    pub index: usize,
    /// `created`; `existing` (already recorded under the same `external_ref`); or `failed`.
    #[schema(value_type = ItemStatus)]
    pub status: String,
    /// The record's id (`worker_id`, `contribution_id`), when not failed.
    #[serde(flatten)]
    #[schema(value_type = ItemRecord)]
    pub fields: Map<String, Value>,
    /// Why the item failed (problem+json, with the item's field paths).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<Problem>)]
    pub problem: Option<Value>,
}

impl BatchItemResult {
    fn with(index: usize, status: &str, fields: Value) -> Self {
        BatchItemResult {
            index,
            status: status.to_string(),
            fields: match fields {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            problem: None,
        }
    }

    pub fn created(index: usize, fields: Value) -> Self {
        Self::with(index, "created", fields)
    }

    pub fn existing(index: usize, fields: Value) -> Self {
        Self::with(index, "existing", fields)
    }

    /// An item refused: its problem, whose field paths are already the
    /// batch's (`/items/3/worker_id`).
    pub fn failed(index: usize, refusal: Refusal) -> Self {
        let mut result = Self::with(index, "failed", Value::Null);
        result.problem = serde_json::to_value(AppError::from(refusal).problem()).ok();
        result
    }

    /// An item a domain function refused: its field paths (`/worker_id`) put
    /// under the item's position.
    pub fn refused(index: usize, refusal: Refusal) -> Self {
        Self::failed(index, refusal.nested_under(&item_path(index)))
    }
}

/// Per-item results in request order, with counts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    pub received: usize,
    pub created: usize,
    pub existing: usize,
    pub failed: usize,
    pub items: Vec<BatchItemResult>,
}

impl BatchResponse {
    pub fn new(items: Vec<BatchItemResult>) -> Self {
        let count = |s: &str| items.iter().filter(|i| i.status == s).count();
        BatchResponse {
            received: items.len(),
            created: count("created"),
            existing: count("existing"),
            failed: count("failed"),
            items,
        }
    }
}

/// Sorts an item's outcome: refusals (decided before the item wrote anything)
/// become the item's answer; a failure spoils the transaction and fails the
/// whole batch (outer `Err`), so nothing is half-written.
pub fn refusal_or_fatal<T>(outcome: AppResult<T>) -> AppResult<Result<T, Refusal>> {
    match outcome {
        Ok(value) => Ok(Ok(value)),
        Err(AppError::Refused(refusal)) => Ok(Err(*refusal)),
        Err(failure) => Err(failure),
    }
}

/// Where item `index` of a batch is: what its field paths are put under.
pub fn item_path(index: usize) -> String {
    format!("/items/{index}")
}

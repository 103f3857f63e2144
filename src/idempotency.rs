//! Stored responses of requests sent with an `Idempotency-Key`, so that a retry
//! returns the original response and never books twice. Keys are scoped to the
//! caller (`sub`) and kept in the database, so every process sees them.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::idempotency_keys;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode};

/// The longest key accepted.
pub const MAX_KEY_LENGTH: usize = 255;

#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

pub fn lookup(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
) -> QueryResult<Option<StoredResponse>> {
    let row: Option<(String, i32, String)> = idempotency_keys::table
        .find((actor, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::response_body,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(request_hash, status, body)| StoredResponse {
        request_hash,
        status: status as u16,
        body,
    }))
}

/// The stored response to replay for a repeat of the request `request_hash`, or
/// the refusal of a key used before for a different request.
pub fn replay(stored: StoredResponse, request_hash: &str) -> AppResult<StoredResponse> {
    if stored.request_hash != request_hash {
        return Err(AppError::new(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was used for a different request; use a new key for a new request",
        ));
    }
    Ok(stored)
}

/// The stored responses of several (actor, key) pairs, read in one query per
/// chunk: for a group of requests.
pub fn lookup_all(
    conn: &mut DbConnection,
    pairs: &[(&str, &str)],
) -> QueryResult<HashMap<(String, String), StoredResponse>> {
    let mut by_actor: HashMap<&str, Vec<&str>> = HashMap::new();
    for (actor, key) in pairs {
        by_actor.entry(actor).or_default().push(key);
    }
    let mut found = HashMap::new();
    for (actor, keys) in by_actor {
        for chunk in keys.chunks(500) {
            // The primary key is (actor, key): both are named so it is used.
            let rows: Vec<(String, String, i32, String)> = idempotency_keys::table
                .filter(idempotency_keys::actor.eq(actor))
                .filter(idempotency_keys::idempotency_key.eq_any(chunk))
                .select((
                    idempotency_keys::idempotency_key,
                    idempotency_keys::request_hash,
                    idempotency_keys::status,
                    idempotency_keys::response_body,
                ))
                .load(conn)?;
            for (key, request_hash, status, body) in rows {
                let response = StoredResponse {
                    request_hash,
                    status: status as u16,
                    body,
                };
                found.insert((actor.to_string(), key), response);
            }
        }
    }
    Ok(found)
}

/// Stores the response in the caller's transaction. A unique violation means a
/// concurrent request with the same key committed first.
pub fn store(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
    response: &StoredResponse,
) -> QueryResult<()> {
    store_all(conn, &[(actor, key, response)])
}

/// Stores several responses with one multi-row INSERT. A unique violation means
/// a concurrent request with one of the keys committed first.
pub fn store_all(
    conn: &mut DbConnection,
    responses: &[(&str, &str, &StoredResponse)],
) -> QueryResult<()> {
    let now = crate::time::now();
    let rows: Vec<_> = responses
        .iter()
        .map(|(actor, key, response)| {
            (
                idempotency_keys::actor.eq(*actor),
                idempotency_keys::idempotency_key.eq(*key),
                idempotency_keys::request_hash.eq(&response.request_hash),
                idempotency_keys::status.eq(response.status as i32),
                idempotency_keys::response_body.eq(&response.body),
                idempotency_keys::created_at.eq(now),
            )
        })
        .collect();
    crate::insert_rows!(conn, idempotency_keys::table, rows)?;
    Ok(())
}

//! Stored responses of requests sent with an `Idempotency-Key`, so that a retry
//! returns the original response and never books twice. Keys are scoped to the
//! caller (`sub`) and kept in the database, so every process sees them.

use diesel::prelude::*;

use crate::db::schema::idempotency_keys;
use crate::db::DbConnection;

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

/// Stores the response in the caller's transaction. A unique violation means a
/// concurrent request with the same key committed first.
pub fn store(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
    response: &StoredResponse,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::actor.eq(actor),
            idempotency_keys::idempotency_key.eq(key),
            idempotency_keys::request_hash.eq(&response.request_hash),
            idempotency_keys::status.eq(response.status as i32),
            idempotency_keys::response_body.eq(&response.body),
            idempotency_keys::created_at.eq(crate::time::now()),
        ))
        .execute(conn)?;
    Ok(())
}

//! Stored responses of requests sent with an `Idempotency-Key`, so that a retry
//! returns the original response and never books twice. Keys are scoped to the
//! caller (`Caller::principal`: issuer and subject) and kept in the database, so every process sees them.
//!
//! A keyed change claims its key first in its transaction ([`claim`]): an
//! identical request racing it blocks on the primary key until the first
//! commits, then finds the key taken and replays the stored response, instead
//! of running the change again and being refused by what the first one did. A
//! replay is answered only to a caller whose token covers the fund of the
//! stored response ([`replay`]).

use std::collections::HashMap;

use diesel::prelude::*;

use crate::auth::Caller;
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
    /// The fund of what was answered: only tokens covering it get a replay.
    /// `None` only for keys stored before funds were recorded with them.
    pub fund_code: Option<String>,
}

/// What is read of an `idempotency_keys` row to answer a repeat.
#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct StoredRow {
    request_hash: String,
    status: i32,
    response_body: String,
    fund_code: Option<String>,
}

impl From<StoredRow> for StoredResponse {
    fn from(row: StoredRow) -> StoredResponse {
        StoredResponse {
            request_hash: row.request_hash,
            status: row.status as u16,
            body: row.response_body,
            fund_code: row.fund_code,
        }
    }
}

/// A [`StoredRow`] with its key, for lookups of several keys.
#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct KeyedStoredRow {
    idempotency_key: String,
    #[diesel(embed)]
    stored: StoredRow,
}

/// An `idempotency_keys` row to insert. `None` is written as NULL (not as the
/// column default), as multi-row inserts on SQLite require.
#[derive(Insertable)]
#[diesel(table_name = idempotency_keys, treat_none_as_default_value = false)]
struct NewKeyRow<'a> {
    actor: &'a str,
    idempotency_key: &'a str,
    request_hash: &'a str,
    status: i32,
    response_body: &'a str,
    created_at: chrono::NaiveDateTime,
    fund_code: Option<&'a str>,
}

pub fn lookup(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
) -> QueryResult<Option<StoredResponse>> {
    let row: Option<StoredRow> = idempotency_keys::table
        .find((actor, key))
        .select(StoredRow::as_select())
        .first(conn)
        .optional()?;
    debug_assert!(
        row.as_ref().is_none_or(|r| r.status != PENDING),
        "a claimed key is only seen by its own transaction"
    );
    Ok(row.map(StoredResponse::from))
}

/// The stored response to replay to `caller` for a repeat of the request
/// `request_hash`; or the refusal of a key used before for a different request;
/// or, when the caller's token does not cover the fund of the stored response,
/// 404 as for any record of a fund outside the token (the role was checked
/// before the key was looked up, as for any request).
pub fn replay(
    stored: StoredResponse,
    request_hash: &str,
    caller: &Caller,
) -> AppResult<StoredResponse> {
    if stored.request_hash != request_hash {
        return Err(AppError::new(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was used for a different request; use a new key for a new request",
        ));
    }
    let in_scope = match &stored.fund_code {
        Some(code) => caller.may_access_fund(code),
        None => caller.all_funds(),
    };
    if !in_scope {
        return Err(AppError::not_found(
            "no such record in the funds this token covers",
        ));
    }
    Ok(stored)
}

/// The status of a key claimed by a transaction that has not finished: never
/// committed (the change stores its response before committing, or rolls back).
const PENDING: i32 = 0;

/// Claims `key` for the caller's transaction before the change runs. If an
/// identical request holds it uncommitted, this waits for that transaction
/// (PostgreSQL blocks on the primary key; SQLite writers are serialised): a
/// unique violation then means the key is stored and the caller should roll
/// back and replay. The claim is completed by [`complete`] or undone by the
/// rollback.
pub fn claim(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
    request_hash: &str,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values(NewKeyRow {
            actor,
            idempotency_key: key,
            request_hash,
            status: PENDING,
            response_body: "",
            created_at: crate::time::now(),
            fund_code: None,
        })
        .execute(conn)?;
    Ok(())
}

/// Stores the response of a key claimed in this transaction by [`claim`].
pub fn complete(
    conn: &mut DbConnection,
    actor: &str,
    key: &str,
    response: &StoredResponse,
) -> QueryResult<()> {
    debug_assert!(response.status != PENDING as u16);
    let updated = diesel::update(idempotency_keys::table.find((actor, key)))
        .set((
            idempotency_keys::status.eq(response.status as i32),
            idempotency_keys::response_body.eq(&response.body),
            idempotency_keys::fund_code.eq(&response.fund_code),
        ))
        .filter(idempotency_keys::status.eq(PENDING))
        .execute(conn)?;
    assert_eq!(updated, 1, "the key was claimed in this transaction");
    Ok(())
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
            let rows: Vec<KeyedStoredRow> = idempotency_keys::table
                .filter(idempotency_keys::actor.eq(actor))
                .filter(idempotency_keys::idempotency_key.eq_any(chunk))
                .select(KeyedStoredRow::as_select())
                .load(conn)?;
            for row in rows {
                found.insert((actor.to_string(), row.idempotency_key), row.stored.into());
            }
        }
    }
    Ok(found)
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
        .map(|(actor, key, response)| NewKeyRow {
            actor,
            idempotency_key: key,
            request_hash: &response.request_hash,
            status: response.status as i32,
            response_body: &response.body,
            created_at: now,
            fund_code: response.fund_code.as_deref(),
        })
        .collect();
    crate::insert_rows!(conn, idempotency_keys::table, rows)?;
    Ok(())
}

//! The outbox: one delivery per (subscription, event), written in the
//! transaction that writes the event, and the delivery log read from it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{subscriptions, DeliveryStatus, PENDING};
use crate::audit::events::EventType;
use crate::db::schema::{events, webhook_attempts, webhook_deliveries, webhook_subscriptions};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};

/// An event just appended, as the outbox needs it.
pub struct Appended<'a> {
    pub id: i64,
    pub fund_code: &'a str,
    pub event_type: EventType,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_deliveries, treat_none_as_default_value = false)]
struct NewDeliveryRow {
    id: String,
    subscription_id: String,
    event_id: i64,
    status: &'static str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
}

/// Writes a delivery for every active subscription of the events' funds that
/// wants their type, in the caller's transaction. Without subscriptions (the
/// usual case) this is one indexed query.
pub fn enqueue(conn: &mut DbConnection, appended: &[Appended]) -> AppResult<()> {
    let mut funds: Vec<&str> = appended.iter().map(|e| e.fund_code).collect();
    funds.sort_unstable();
    funds.dedup();
    let subscribed: Vec<(String, String, String)> = webhook_subscriptions::table
        .filter(webhook_subscriptions::fund_code.eq_any(&funds))
        .filter(webhook_subscriptions::disabled_at.is_null())
        .select((
            webhook_subscriptions::id,
            webhook_subscriptions::fund_code,
            webhook_subscriptions::event_types,
        ))
        .load(conn)?;
    if subscribed.is_empty() {
        return Ok(());
    }
    let now = crate::time::now();
    let mut rows = Vec::new();
    for (subscription_id, fund_code, stored_types) in subscribed {
        let wanted = subscriptions::event_types(&stored_types)?;
        for event in appended.iter().filter(|e| e.fund_code == fund_code) {
            if wanted.is_empty() || wanted.iter().any(|t| t == event.event_type.as_str()) {
                rows.push(NewDeliveryRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    subscription_id: subscription_id.clone(),
                    event_id: event.id,
                    status: PENDING,
                    attempts: 0,
                    next_attempt_at: now,
                    delivered_at: None,
                    last_error: None,
                    created_at: now,
                });
            }
        }
    }
    crate::insert_rows!(conn, webhook_deliveries::table, rows)?;
    Ok(())
}

/// One delivery of the log, with its attempts.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub event_id: i64,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub log: Vec<Attempt>,
}

/// One attempt to deliver: when, the receiver's status code or the error, and
/// how long it took.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct DeliveryRow {
    id: String,
    event_id: i64,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_attempts, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct AttemptRow {
    delivery_id: String,
    attempted_at: NaiveDateTime,
    status_code: Option<i32>,
    error: Option<String>,
    duration_ms: i64,
}

/// A subscription's deliveries in event order after event `after_event`,
/// optionally of one status, each with its attempts.
pub fn deliveries(
    conn: &mut DbConnection,
    subscription_id: &str,
    status: Option<DeliveryStatus>,
    after_event: i64,
    limit: i64,
) -> AppResult<Vec<Delivery>> {
    let mut query = webhook_deliveries::table
        .inner_join(events::table)
        .filter(webhook_deliveries::subscription_id.eq(subscription_id))
        .filter(webhook_deliveries::event_id.gt(after_event))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::status.eq(status.as_str()));
    }
    let rows: Vec<(DeliveryRow, String)> = query
        .order(webhook_deliveries::event_id.asc())
        .limit(limit)
        .select((DeliveryRow::as_select(), events::event_type))
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|(d, _)| d.id.as_str()).collect();
    let mut logs = attempts_of(conn, &ids)?;
    rows.into_iter()
        .map(|(row, event_type)| {
            let log = logs.remove(&row.id).unwrap_or_default();
            into_delivery(row, event_type, log)
        })
        .collect()
}

/// The attempts of the deliveries `ids`, oldest first.
fn attempts_of(conn: &mut DbConnection, ids: &[&str]) -> AppResult<HashMap<String, Vec<Attempt>>> {
    let rows: Vec<AttemptRow> = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(ids))
        .order(webhook_attempts::id.asc())
        .select(AttemptRow::as_select())
        .load(conn)?;
    let mut logs: HashMap<String, Vec<Attempt>> = HashMap::new();
    for row in rows {
        logs.entry(row.delivery_id).or_default().push(Attempt {
            attempted_at: row.attempted_at,
            status_code: row.status_code,
            error: row.error,
            duration_ms: row.duration_ms,
        });
    }
    Ok(logs)
}

fn into_delivery(row: DeliveryRow, event_type: String, log: Vec<Attempt>) -> AppResult<Delivery> {
    Ok(Delivery {
        status: DeliveryStatus::parse(&row.status)
            .ok_or_else(|| AppError::internal(format!("delivery status {}", row.status)))?,
        id: row.id,
        event_id: row.event_id,
        event_type,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        delivered_at: row.delivered_at,
        last_error: row.last_error,
        created_at: row.created_at,
        log,
    })
}

/// One delivery of the subscription, with its attempts, or a 404.
pub fn delivery(
    conn: &mut DbConnection,
    subscription_id: &str,
    delivery_id: &str,
) -> AppResult<Delivery> {
    let (row, event_type): (DeliveryRow, String) = webhook_deliveries::table
        .inner_join(events::table)
        .filter(webhook_deliveries::id.eq(delivery_id))
        .filter(webhook_deliveries::subscription_id.eq(subscription_id))
        .select((DeliveryRow::as_select(), events::event_type))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no delivery {delivery_id}")))?;
    let log = attempts_of(conn, &[delivery_id])?
        .remove(delivery_id)
        .unwrap_or_default();
    into_delivery(row, event_type, log)
}

/// Puts a delivery back in the queue, whatever became of it: pending, due now,
/// its attempts counted from zero (its log is kept). It is sent in its event's
/// place: later pending deliveries of the subscription wait for it.
pub fn redeliver(
    conn: &mut DbConnection,
    subscription_id: &str,
    delivery_id: &str,
) -> AppResult<Delivery> {
    delivery(conn, subscription_id, delivery_id)?;
    diesel::update(webhook_deliveries::table.find(delivery_id))
        .set((
            webhook_deliveries::status.eq(PENDING),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(crate::time::now()),
            webhook_deliveries::delivered_at.eq(None::<NaiveDateTime>),
            webhook_deliveries::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    delivery(conn, subscription_id, delivery_id)
}

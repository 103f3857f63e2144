//! What the delivery worker asks of the database: subscriptions with something
//! due, the lease on a subscription, its next delivery, and the outcome of an
//! attempt. Every statement is short; none is open while a delivery is sent.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{DELIVERED, FAILED, PENDING};
use crate::db::schema::{events, webhook_attempts, webhook_deliveries, webhook_subscriptions};
use crate::db::{write_transaction, DbConnection};
use crate::error::AppResult;

/// How many subscriptions one round of the worker looks at.
const SUBSCRIPTIONS_PER_ROUND: i64 = 100;
/// The longest wait between two attempts of a delivery.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// The longest error text kept for an attempt.
const MAX_ERROR_LENGTH: usize = 500;

fn later(now: NaiveDateTime, by: Duration) -> NaiveDateTime {
    now + chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX)
}

/// Active subscriptions that have a delivery due and no live lease.
pub fn due_subscriptions(conn: &mut DbConnection, now: NaiveDateTime) -> AppResult<Vec<String>> {
    Ok(webhook_deliveries::table
        .inner_join(webhook_subscriptions::table)
        .filter(webhook_deliveries::status.eq(PENDING))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(webhook_subscriptions::disabled_at.is_null())
        .filter(
            webhook_subscriptions::lease_until
                .is_null()
                .or(webhook_subscriptions::lease_until.lt(now)),
        )
        .select(webhook_deliveries::subscription_id)
        .distinct()
        .limit(SUBSCRIPTIONS_PER_ROUND)
        .load(conn)?)
}

/// Takes or renews the lease on an active subscription for `lease` from `now`:
/// true when `owner` holds it afterwards. One conditional UPDATE, so of two
/// processes asking at once exactly one gets it; a lease that ran out (its
/// owner was killed) may be taken by anyone.
pub fn take_lease(
    conn: &mut DbConnection,
    subscription_id: &str,
    owner: &str,
    now: NaiveDateTime,
    lease: Duration,
) -> AppResult<bool> {
    let taken = diesel::update(
        webhook_subscriptions::table
            .filter(webhook_subscriptions::id.eq(subscription_id))
            .filter(webhook_subscriptions::disabled_at.is_null())
            .filter(
                webhook_subscriptions::lease_until
                    .is_null()
                    .or(webhook_subscriptions::lease_until.lt(now))
                    .or(webhook_subscriptions::lease_owner.eq(owner)),
            ),
    )
    .set((
        webhook_subscriptions::lease_owner.eq(owner),
        webhook_subscriptions::lease_until.eq(later(now, lease)),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Gives the lease back, if `owner` still holds it.
pub fn release_lease(conn: &mut DbConnection, subscription_id: &str, owner: &str) -> AppResult<()> {
    diesel::update(
        webhook_subscriptions::table
            .filter(webhook_subscriptions::id.eq(subscription_id))
            .filter(webhook_subscriptions::lease_owner.eq(owner)),
    )
    .set((
        webhook_subscriptions::lease_owner.eq(None::<String>),
        webhook_subscriptions::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}

/// The next delivery of a subscription, with what sending it needs.
pub struct Outgoing {
    pub delivery_id: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub url: String,
    pub secret: String,
    pub event: serde_json::Value,
    pub event_type: String,
    pub occurred_at: NaiveDateTime,
}

type EventColumns = (i64, NaiveDateTime, String, String, String, String);

/// The subscription's pending delivery of the earliest event: the only one
/// that may go (later ones wait for it, so a fund's events arrive in order).
pub fn head(conn: &mut DbConnection, subscription_id: &str) -> AppResult<Option<Outgoing>> {
    let found: Option<(String, i32, NaiveDateTime, String, String, EventColumns)> =
        webhook_deliveries::table
            .inner_join(webhook_subscriptions::table)
            .inner_join(events::table)
            .filter(webhook_deliveries::subscription_id.eq(subscription_id))
            .filter(webhook_deliveries::status.eq(PENDING))
            .order(webhook_deliveries::event_id.asc())
            .select((
                webhook_deliveries::id,
                webhook_deliveries::attempts,
                webhook_deliveries::next_attempt_at,
                webhook_subscriptions::url,
                webhook_subscriptions::secret,
                (
                    events::id,
                    events::occurred_at,
                    events::fund_code,
                    events::event_type,
                    events::subject_id,
                    events::payload,
                ),
            ))
            .first(conn)
            .optional()?;
    let Some((delivery_id, attempts, next_attempt_at, url, secret, event)) = found else {
        return Ok(None);
    };
    let (id, occurred_at, fund, event_type, subject_id, payload) = event;
    let data: serde_json::Value = serde_json::from_str(&payload)?;
    Ok(Some(Outgoing {
        delivery_id,
        attempts,
        next_attempt_at,
        url,
        secret,
        // The event exactly as `GET /v1/events` shows it.
        event: serde_json::json!({
            "id": id,
            "type": event_type,
            "fund": fund,
            "subject_id": subject_id,
            "occurred_at": crate::time::rfc3339(occurred_at),
            "data": data,
        }),
        event_type,
        occurred_at,
    }))
}

/// What one attempt came to.
pub struct Outcome {
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration: Duration,
}

impl Outcome {
    pub fn delivered(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// How the worker retries.
pub struct Retries {
    pub max_attempts: u32,
    pub backoff_base: Duration,
}

impl Retries {
    /// The wait after the `attempts`-th failure: base × 2^(attempts − 1), at
    /// most [`MAX_BACKOFF`].
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.backoff_base
            .saturating_mul(1 << doublings)
            .min(MAX_BACKOFF)
    }
}

#[derive(Insertable)]
#[diesel(table_name = webhook_attempts, treat_none_as_default_value = false)]
struct NewAttemptRow<'a> {
    delivery_id: &'a str,
    attempted_at: NaiveDateTime,
    status_code: Option<i32>,
    error: Option<&'a str>,
    duration_ms: i64,
}

/// Logs the attempt and moves the delivery on: delivered on a 2xx; else due
/// again after the backoff, or failed after the last attempt. The delivery is
/// changed only if nothing else did meanwhile (a redelivery, a deletion).
/// Answers whether the delivery is still pending.
pub fn record(
    conn: &mut DbConnection,
    sent: &Outgoing,
    outcome: &Outcome,
    retries: &Retries,
) -> AppResult<bool> {
    let error: Option<String> = (outcome.error.as_deref())
        .map(|e| e.chars().take(MAX_ERROR_LENGTH).collect())
        .or_else(|| (!outcome.delivered()).then(|| http_error(outcome.status_code)));
    write_transaction(conn, |conn| {
        diesel::insert_into(webhook_attempts::table)
            .values(NewAttemptRow {
                delivery_id: &sent.delivery_id,
                attempted_at: outcome.attempted_at,
                status_code: outcome.status_code.map(i32::from),
                error: error.as_deref(),
                duration_ms: outcome.duration.as_millis().min(i64::MAX as u128) as i64,
            })
            .execute(conn)?;
        let unchanged = webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(&sent.delivery_id))
            .filter(webhook_deliveries::status.eq(PENDING))
            .filter(webhook_deliveries::attempts.eq(sent.attempts));
        let attempts = sent.attempts + 1;
        let now = crate::time::now();
        if outcome.delivered() {
            diesel::update(unchanged)
                .set((
                    webhook_deliveries::status.eq(DELIVERED),
                    webhook_deliveries::attempts.eq(attempts),
                    webhook_deliveries::delivered_at.eq(now),
                    webhook_deliveries::last_error.eq(None::<String>),
                ))
                .execute(conn)?;
            return Ok(false);
        }
        let gave_up = attempts as u32 >= retries.max_attempts;
        diesel::update(unchanged)
            .set((
                webhook_deliveries::status.eq(if gave_up { FAILED } else { PENDING }),
                webhook_deliveries::attempts.eq(attempts),
                webhook_deliveries::next_attempt_at
                    .eq(later(now, retries.backoff(attempts as u32))),
                webhook_deliveries::last_error.eq(&error),
            ))
            .execute(conn)?;
        Ok(!gave_up)
    })
}

fn http_error(status_code: Option<u16>) -> String {
    match status_code {
        Some(code) => format!("the receiver answered {code}"),
        None => "no answer".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_after_each_failure_up_to_an_hour() {
        let retries = Retries {
            max_attempts: 8,
            backoff_base: Duration::from_secs(5),
        };
        let waits: Vec<u64> = (1..=8).map(|n| retries.backoff(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640]);
        assert_eq!(retries.backoff(40), MAX_BACKOFF);
    }
}

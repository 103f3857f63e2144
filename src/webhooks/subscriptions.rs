//! Subscriptions: a fund's receivers, with the event types each wants and the
//! secret its deliveries are signed with.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::signing;
use crate::audit::events::EventType;
use crate::db::schema::{webhook_deliveries, webhook_subscriptions};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::funds::{lock_fund, Fund};

/// The longest receiver URL accepted.
pub const MAX_URL_LENGTH: usize = 2000;
/// Active subscriptions a fund may have: each costs a delivery per event.
pub const MAX_SUBSCRIPTIONS_PER_FUND: i64 = 20;

/// A subscription (never its secret, which is shown once, at creation).
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    pub fund_code: String,
    pub url: String,
    /// The event type names delivered; empty means every type.
    pub event_types: Vec<String>,
    pub created_at: NaiveDateTime,
    /// When it was deleted: nothing more is delivered.
    pub disabled_at: Option<NaiveDateTime>,
}

/// A subscription just created, with its secret.
pub struct Created {
    pub subscription: Subscription,
    pub secret: String,
}

/// What a subscription asks for, checked: an http(s) URL with a host, and known
/// event types without repeats.
pub struct NewSubscription {
    url: String,
    event_types: Vec<EventType>,
}

impl NewSubscription {
    /// Checks both fields, naming each refusal by its JSON pointer (`/url`,
    /// `/event_types/2`).
    pub fn parse(url: &str, event_types: &[String]) -> Result<NewSubscription, Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Err(message) = check_url(url) {
            errors.push(FieldError::new("/url", "invalid_url", message).with_limit(MAX_URL_LENGTH));
        }
        let mut types: Vec<EventType> = Vec::new();
        for (i, name) in event_types.iter().enumerate() {
            match EventType::ALL.iter().find(|t| t.as_str() == name) {
                Some(t) if types.contains(t) => errors.push(FieldError::new(
                    format!("/event_types/{i}"),
                    "duplicate",
                    format!("{name} is listed twice"),
                )),
                Some(t) => types.push(*t),
                None => errors.push(FieldError::new(
                    format!("/event_types/{i}"),
                    "unknown_event_type",
                    format!("{name:?} is not an event type of the feed"),
                )),
            }
        }
        if errors.is_empty() {
            Ok(NewSubscription {
                url: url.to_string(),
                event_types: types,
            })
        } else {
            Err(errors)
        }
    }
}

/// An absolute http or https URL with a host, no credentials, at most
/// [`MAX_URL_LENGTH`] characters.
fn check_url(url: &str) -> Result<(), String> {
    const EXPECTED: &str = "must be an absolute http:// or https:// URL with a host";
    if url.len() > MAX_URL_LENGTH {
        return Err(format!("must be at most {MAX_URL_LENGTH} characters"));
    }
    let uri: ureq::http::Uri = url.parse().map_err(|_| EXPECTED.to_string())?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(EXPECTED.to_string());
    }
    match uri.authority() {
        Some(a) if a.as_str().contains('@') => {
            Err("must not carry credentials; the signature authenticates deliveries".into())
        }
        Some(a) if !a.host().is_empty() => Ok(()),
        _ => Err(EXPECTED.to_string()),
    }
}

/// A `webhook_subscriptions` row as the API shows it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_subscriptions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct SubscriptionRow {
    id: String,
    fund_code: String,
    url: String,
    event_types: String,
    created_at: NaiveDateTime,
    disabled_at: Option<NaiveDateTime>,
}

impl SubscriptionRow {
    fn into_subscription(self) -> AppResult<Subscription> {
        Ok(Subscription {
            event_types: event_types(&self.event_types)?,
            id: self.id,
            fund_code: self.fund_code,
            url: self.url,
            created_at: self.created_at,
            disabled_at: self.disabled_at,
        })
    }
}

/// The stored event types (a JSON array of names).
pub(super) fn event_types(stored: &str) -> AppResult<Vec<String>> {
    serde_json::from_str(stored)
        .map_err(|e| AppError::internal(format!("stored webhook event types: {e}")))
}

#[derive(Insertable)]
#[diesel(table_name = webhook_subscriptions, treat_none_as_default_value = false)]
struct NewSubscriptionRow<'a> {
    id: &'a str,
    fund_code: &'a str,
    url: &'a str,
    event_types: &'a str,
    secret: &'a str,
    created_by: &'a str,
    created_at: NaiveDateTime,
    disabled_at: Option<NaiveDateTime>,
    lease_owner: Option<&'a str>,
    lease_until: Option<NaiveDateTime>,
}

/// Subscribes `new` to the events of `fund`, for `created_by` (a principal).
/// Takes the fund lock, so that two processes cannot both add the last
/// subscription the fund may have.
pub fn subscribe(
    conn: &mut DbConnection,
    fund: &Fund,
    created_by: &str,
    new: NewSubscription,
) -> AppResult<Created> {
    lock_fund(conn, fund.id)?;
    let active: i64 = webhook_subscriptions::table
        .filter(webhook_subscriptions::fund_code.eq(&fund.code))
        .filter(webhook_subscriptions::disabled_at.is_null())
        .count()
        .get_result(conn)?;
    if active >= MAX_SUBSCRIPTIONS_PER_FUND {
        return Err(AppError::new(
            ErrorCode::LimitExceeded,
            format!("a fund may have at most {MAX_SUBSCRIPTIONS_PER_FUND} webhook subscriptions"),
        )
        .with("limit", MAX_SUBSCRIPTIONS_PER_FUND));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let secret = signing::new_secret()?;
    let names: Vec<&str> = new.event_types.iter().map(|t| t.as_str()).collect();
    let stored_types = serde_json::to_string(&names)?;
    let now = crate::time::now();
    diesel::insert_into(webhook_subscriptions::table)
        .values(NewSubscriptionRow {
            id: &id,
            fund_code: &fund.code,
            url: &new.url,
            event_types: &stored_types,
            secret: &secret,
            created_by,
            created_at: now,
            disabled_at: None,
            lease_owner: None,
            lease_until: None,
        })
        .execute(conn)?;
    let subscription = Subscription {
        id,
        fund_code: fund.code.clone(),
        url: new.url,
        event_types: names.into_iter().map(str::to_string).collect(),
        created_at: now,
        disabled_at: None,
    };
    Ok(Created {
        subscription,
        secret,
    })
}

/// A fund's subscriptions (deleted ones too), oldest first, after the id `after`.
pub fn list(
    conn: &mut DbConnection,
    fund_code: &str,
    after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Subscription>> {
    let mut query = webhook_subscriptions::table
        .filter(webhook_subscriptions::fund_code.eq(fund_code))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(webhook_subscriptions::id.gt(after));
    }
    let rows: Vec<SubscriptionRow> = query
        .order(webhook_subscriptions::id.asc())
        .limit(limit)
        .select(SubscriptionRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(SubscriptionRow::into_subscription)
        .collect()
}

/// The subscription `id` of the fund, or a 404.
pub fn find(conn: &mut DbConnection, fund_code: &str, id: &str) -> AppResult<Subscription> {
    webhook_subscriptions::table
        .filter(webhook_subscriptions::id.eq(id))
        .filter(webhook_subscriptions::fund_code.eq(fund_code))
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no webhook subscription {id} in {fund_code}")))?
        .into_subscription()
}

/// The active subscription `id` of the fund, or a 404 (a deleted one takes no
/// more changes).
pub fn find_active(conn: &mut DbConnection, fund_code: &str, id: &str) -> AppResult<Subscription> {
    let subscription = find(conn, fund_code, id)?;
    if subscription.disabled_at.is_some() {
        return Err(AppError::not_found(format!(
            "the webhook subscription {id} was deleted"
        )));
    }
    Ok(subscription)
}

/// Deletes (disables) a subscription: nothing more is written to its outbox,
/// and its pending deliveries are marked failed, so the worker stops sending.
/// The subscription and its delivery log stay readable.
pub fn disable(conn: &mut DbConnection, fund_code: &str, id: &str) -> AppResult<Subscription> {
    find_active(conn, fund_code, id)?;
    let now = crate::time::now();
    let changed = diesel::update(
        webhook_subscriptions::table
            .filter(webhook_subscriptions::id.eq(id))
            .filter(webhook_subscriptions::disabled_at.is_null()),
    )
    .set(webhook_subscriptions::disabled_at.eq(now))
    .execute(conn)?;
    if changed == 0 {
        return Err(AppError::not_found(format!(
            "the webhook subscription {id} was deleted"
        )));
    }
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::subscription_id.eq(id))
            .filter(webhook_deliveries::status.eq(super::PENDING)),
    )
    .set((
        webhook_deliveries::status.eq(super::FAILED),
        webhook_deliveries::last_error.eq("the subscription was deleted"),
    ))
    .execute(conn)?;
    find(conn, fund_code, id)
}

//! Webhooks: a fund's domain events pushed to partner systems.
//!
//! * [`subscriptions`]: who receives which event types of a fund, and the
//!   secret deliveries are signed with (shown once).
//! * [`outbox`]: a delivery per (subscription, event), written by
//!   `audit::events::append` in the transaction of the events, so a delivery
//!   exists exactly when its event committed; the delivery log; redelivery.
//! * [`signing`]: Standard Webhooks signatures.
//! * [`Worker`]: the thread that sends deliveries under a lease taken in the
//!   database, with retries and exponential backoff.
//!
//! Webhooks are not domain events: subscribing, deleting and redelivering are
//! audited, and add nothing to the feed.

mod outbox;
mod queue;
mod signing;
mod subscriptions;
mod worker;

pub use outbox::{deliveries, delivery, enqueue, redeliver, Appended, Attempt, Delivery};
pub use subscriptions::{
    disable, find, find_active, list, subscribe, Created, NewSubscription, Subscription,
    MAX_SUBSCRIPTIONS_PER_FUND, MAX_URL_LENGTH,
};
pub use worker::Worker;

const PENDING: &str = "pending";
const DELIVERED: &str = "delivered";
const FAILED: &str = "failed";

/// Where a delivery stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Every attempt failed, or the subscription was deleted.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => PENDING,
            DeliveryStatus::Delivered => DELIVERED,
            DeliveryStatus::Failed => FAILED,
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        DeliveryStatus::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

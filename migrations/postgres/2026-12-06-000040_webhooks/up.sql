-- Webhook subscriptions of a fund. `event_types` is a JSON array of event type
-- names; an empty array means every type. A deleted subscription is kept
-- (`disabled_at`) with its delivery log. `lease_owner` and `lease_until` are the
-- lease a delivery worker takes on the row before it sends the subscription's
-- deliveries, so two processes never send them at once.
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    fund_code TEXT NOT NULL,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP,
    lease_owner TEXT,
    lease_until TIMESTAMP
);
-- What the outbox looks up in every writing transaction: a fund's active subscriptions.
CREATE INDEX webhook_subscriptions_fund ON webhook_subscriptions (fund_code) WHERE disabled_at IS NULL;

-- The outbox: one delivery per (subscription, event), written in the transaction
-- of the event. Sent in event order per subscription.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    event_id BIGINT NOT NULL REFERENCES events (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (subscription_id, status, event_id);
-- The worker's scan for subscriptions with something due.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

-- The delivery log: every attempt, its answer or error, and how long it took.
CREATE TABLE webhook_attempts (
    id BIGSERIAL PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at TIMESTAMP NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

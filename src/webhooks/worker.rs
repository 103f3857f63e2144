//! The delivery worker: one thread per process. Each round it looks for
//! subscriptions with a delivery due, takes the lease on one (a conditional
//! UPDATE of its row: two processes never send for one subscription at once),
//! sends its pending deliveries one at a time in event order, renewing the
//! lease before each send, and gives the lease back. A process killed while
//! sending leaves its lease to run out; then any process sends the delivery
//! again, with the same `webhook-id` (at least once).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use super::queue::{self, Outcome, Outgoing, Retries};
use super::signing;
use crate::config::WebhookSettings;
use crate::db::DbPool;
use crate::error::AppResult;

/// A handle of the worker thread, which runs until [`Worker::stop`].
#[derive(Clone)]
pub struct Worker {
    wake: SyncSender<()>,
    stopped: Arc<AtomicBool>,
}

impl Worker {
    /// Starts the worker thread, which sends with connections from `pool`.
    pub fn start(pool: DbPool, settings: WebhookSettings) -> Worker {
        assert!(
            settings.lease > settings.timeout,
            "a lease must outlast an attempt"
        );
        let (wake, signals) = mpsc::sync_channel(1);
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = stopped.clone();
        std::thread::Builder::new()
            .name("mwf-webhooks".to_string())
            .spawn(move || run(&pool, &settings, &signals, &flag))
            .expect("the webhook thread starts");
        Worker { wake, stopped }
    }

    /// Stops the thread: after the attempt in flight, if any, nothing more is
    /// sent (what was not recorded is sent again by the next process).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// Looks for due deliveries now rather than at the next poll.
    pub fn wake(&self) {
        let _ = self.wake.try_send(());
    }
}

/// What one worker needs for a round: where, how and as whom it sends.
struct Sender<'a> {
    pool: &'a DbPool,
    settings: &'a WebhookSettings,
    retries: Retries,
    agent: ureq::Agent,
    /// This process's name in the leases it takes.
    owner: String,
    stopped: &'a AtomicBool,
}

fn run(pool: &DbPool, settings: &WebhookSettings, signals: &Receiver<()>, stopped: &AtomicBool) {
    let sender = Sender {
        pool,
        settings,
        retries: Retries {
            max_attempts: settings.max_attempts,
            backoff_base: settings.backoff_base,
        },
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(settings.timeout))
            .max_redirects(0)
            .user_agent("mwf-webhooks/1")
            .build()
            .into(),
        owner: uuid::Uuid::now_v7().to_string(),
        stopped,
    };
    loop {
        match signals.recv_timeout(settings.poll_interval) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if sender.stopped() {
            return;
        }
        if let Err(e) = sender.round() {
            log::warn!("webhook delivery round: {}", e.explain());
        }
    }
}

impl Sender<'_> {
    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Sends for every subscription with something due that no other process
    /// is sending for.
    fn round(&self) -> AppResult<()> {
        let mut conn = self.pool.get()?;
        let due = queue::due_subscriptions(&mut conn, crate::time::now())?;
        drop(conn);
        for subscription_id in due {
            if self.stopped() {
                return Ok(());
            }
            self.send_for(&subscription_id)?;
        }
        Ok(())
    }

    /// Under the lease, sends the subscription's deliveries in event order
    /// until none is due, one waits for its next attempt, or the lease is lost.
    fn send_for(&self, subscription_id: &str) -> AppResult<()> {
        loop {
            let next = {
                let mut conn = self.pool.get()?;
                let now = crate::time::now();
                if !queue::take_lease(
                    &mut conn,
                    subscription_id,
                    &self.owner,
                    now,
                    self.settings.lease,
                )? {
                    return Ok(());
                }
                match queue::head(&mut conn, subscription_id)? {
                    Some(next) if next.next_attempt_at <= now && !self.stopped() => next,
                    _ => return queue::release_lease(&mut conn, subscription_id, &self.owner),
                }
            };
            // No connection is held while the receiver answers.
            let outcome = self.send(&next)?;
            let mut conn = self.pool.get()?;
            if queue::record(&mut conn, &next, &outcome, &self.retries)? {
                return queue::release_lease(&mut conn, subscription_id, &self.owner);
            }
        }
    }

    /// One attempt: the event signed and posted, and what came back.
    fn send(&self, next: &Outgoing) -> AppResult<Outcome> {
        let body = serde_json::to_string(&serde_json::json!({
            "type": next.event_type,
            "timestamp": crate::time::rfc3339(next.occurred_at),
            "data": next.event,
        }))?;
        let timestamp = chrono::Utc::now().timestamp();
        let signature = signing::signature(&next.secret, &next.delivery_id, timestamp, &body)?;
        let attempted_at = crate::time::now();
        let started = Instant::now();
        let answer = self
            .agent
            .post(&next.url)
            .header("content-type", "application/json")
            .header("webhook-id", &next.delivery_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .send(body.as_str());
        let (status_code, error) = match answer {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Ok(Outcome {
            attempted_at,
            status_code,
            error,
            duration: started.elapsed(),
        })
    }
}

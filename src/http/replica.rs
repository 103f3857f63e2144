//! Which reads may go to the read replica (`MWF_READ_DATABASE_URL`), and the
//! `X-Mwf-Read-Source` header that tells a client where its answer was read.
//!
//! The rule: a read that a client makes right after its own write, or that is
//! part of a write, reads the primary (a GET of one record by its id or number;
//! one worker's membership, quote, contributions and claims; idempotent replays;
//! tokens and keys; funds, rules, webhooks and the event feed, which are small
//! and polled). Fund-wide reads that tolerate the replica's lag read the replica
//! ([`super::read_replica`]): lists and searches over a fund, reports, account
//! statements, the journal's list, ledger verification and exports. A replica
//! snapshot is the primary's at an earlier commit, so such an answer is complete
//! and consistent, only possibly older by the replica's delay.
//!
//! The header is only sent when a replica is configured, on the answers of
//! replica-routed reads: `replica`, or `primary` when the replica could not be
//! reached and the read fell back to the primary.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::db::ReadSource;

/// The response header naming where a replica-routed read ran.
pub const READ_SOURCE_HEADER: &str = "x-mwf-read-source";

type Slot = Rc<Cell<Option<ReadSource>>>;

thread_local! {
    /// The slot of the request whose handler is being polled on this thread.
    static CURRENT: RefCell<Option<Slot>> = const { RefCell::new(None) };
}

/// Notes where the current request's read ran (called from the handler's task).
pub(crate) fn note(source: ReadSource) {
    CURRENT.with(|current| {
        if let Some(slot) = current.borrow().as_ref() {
            slot.set(Some(source));
        }
    });
}

/// A request's future with its slot installed while it is polled (a task-local
/// value: actix polls many requests on one thread, one at a time).
pub(crate) struct Scoped<F> {
    slot: Slot,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let previous = CURRENT.with(|c| c.replace(Some(this.slot.clone())));
        let outcome = this.inner.as_mut().poll(cx);
        CURRENT.with(|c| *c.borrow_mut() = previous);
        outcome
    }
}

/// Runs `call` with a fresh slot; the slot tells afterwards where its read ran.
pub(crate) fn scoped<F: Future>(call: F) -> (Scoped<F>, Rc<Cell<Option<ReadSource>>>) {
    let slot: Slot = Rc::new(Cell::new(None));
    (
        Scoped {
            slot: slot.clone(),
            inner: Box::pin(call),
        },
        slot,
    )
}

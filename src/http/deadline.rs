//! A time limit on receiving a request body. actix-web limits how long the
//! request head may take (`client_request_timeout`), but a client that sends
//! its headers and then trickles the body a byte a second would hold a worker's
//! connection as long as it likes. [`limit_body_time`] wraps the body in a
//! stream that fails once the limit has passed; the request is then answered
//! 408 `REQUEST_TIMEOUT` and the connection closed.
//!
//! Oversized heads are refused here too, 431 problem+json, below the limits
//! where actix-http answers a bare 431 itself (a head over 128 KiB or over 96
//! headers never reaches the application).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::rt::time::{sleep, Sleep};
use actix_web::web::Bytes;
use actix_web::{HttpMessage, ResponseError};
use futures_util::Stream;

use crate::error::{AppError, ErrorCode};

/// Whether the body of a request ran out of time.
#[derive(Clone, Default)]
pub struct BodyDeadline(Rc<Cell<bool>>);

impl BodyDeadline {
    pub fn expired(&self) -> bool {
        self.0.get()
    }
}

/// Replaces the body of `req` (if it has one) with one that fails after `limit`,
/// counted from now: the head has arrived, so the limit is the body's.
pub fn limit_body_time(req: &mut ServiceRequest, limit: Duration) -> BodyDeadline {
    let deadline = BodyDeadline::default();
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if has_body {
        let inner = req.take_payload();
        let limited = TimeLimited {
            inner,
            sleep: Box::pin(sleep(limit)),
            expired: deadline.clone(),
            limit,
        };
        let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(limited);
        req.set_payload(Payload::from(boxed));
    }
    deadline
}

/// The answer to a request whose body ran out of time: 408 problem+json, and
/// the connection closed (the rest of the body is never read).
pub fn timed_out<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    limit: Duration,
) -> ServiceResponse<BoxBody> {
    let (req, _) = res.into_parts();
    let mut response = AppError::new(
        ErrorCode::RequestTimeout,
        format!(
            "the request body did not arrive within {} seconds",
            limit.as_secs()
        ),
    )
    .with("limit_seconds", limit.as_secs())
    .error_response();
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    ServiceResponse::new(req, response)
}

struct TimeLimited {
    inner: Payload,
    sleep: Pin<Box<Sleep>>,
    expired: BodyDeadline,
    limit: Duration,
}

impl Stream for TimeLimited {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired.expired() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.expired.0.set(true);
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the request body did not arrive within {} seconds",
                    this.limit.as_secs()
                ),
            )))));
        }
        Poll::Pending
    }
}

/// The most header bytes (names and values) a request may carry.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// The most header lines a request may carry.
pub const MAX_HEADER_COUNT: usize = 64;

/// 431 `HEADERS_TOO_LARGE` for a request whose headers exceed
/// [`MAX_HEADER_BYTES`] or [`MAX_HEADER_COUNT`].
pub fn head_refusal(req: &ServiceRequest) -> Option<AppError> {
    let count = req.headers().len();
    let bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    (count > MAX_HEADER_COUNT || bytes > MAX_HEADER_BYTES).then(|| {
        AppError::new(
            ErrorCode::HeadersTooLarge,
            format!(
                "the request carries {count} headers of {bytes} bytes; at most \
                 {MAX_HEADER_COUNT} headers of {MAX_HEADER_BYTES} bytes in all are accepted"
            ),
        )
        .with("limit_bytes", MAX_HEADER_BYTES)
        .with("limit_headers", MAX_HEADER_COUNT)
    })
}

//! Streamed responses: a producer runs on the blocking pool and writes into a
//! bounded channel that the response body drains, so a slow client slows the
//! producer instead of filling memory. [`stream`] gives the producer a pooled
//! connection inside one read snapshot for the whole response;
//! [`stream_pooled`] gives it the pool, to take a connection for each short
//! read and give it back before writing, so that a slow client holds none
//! (the ledger export).
//!
//! The producer first checks the request and reads what it needs; only when it
//! calls [`Starter::start`] do the status and headers go out. A refusal before
//! that is an ordinary problem+json answer; a failure after it cuts the stream
//! (the client sees an incomplete body without the closing records).

use std::io::{self, Write};

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use tokio::sync::{mpsc, oneshot};

use super::AppState;
use crate::db::{DbConnection, DbPool};
use crate::error::{AppError, AppResult};

/// Bytes gathered before a chunk is handed to the response (the ledger export
/// writes pieces of about this size, which go as they are).
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks in flight between producer and client: memory per export is about
/// `CHUNK_BYTES × CHANNEL_CHUNKS`.
const CHANNEL_CHUNKS: usize = 4;

type Chunk = Result<Bytes, io::Error>;

/// The status line and headers of a streamed response.
pub struct StreamHead {
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
}

/// Hands the producer its writer once it has decided to answer 200.
pub struct Starter {
    head: Option<oneshot::Sender<AppResult<StreamHead>>>,
    /// Where the export reads, when a read replica is configured.
    source: Option<crate::db::ReadSource>,
    tx: mpsc::Sender<Chunk>,
}

impl Starter {
    pub fn start(&mut self, mut head: StreamHead) -> ChannelWriter {
        if let Some(source) = self.source {
            let header = super::replica::READ_SOURCE_HEADER;
            head.headers.push((header, source.as_str().to_string()));
        }
        if let Some(sender) = self.head.take() {
            let _ = sender.send(Ok(head));
        }
        ChannelWriter {
            tx: self.tx.clone(),
            buf: Vec::with_capacity(CHUNK_BYTES),
        }
    }
}

/// A writer whose bytes become the response body.
pub struct ChannelWriter {
    tx: mpsc::Sender<Chunk>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        self.send_chunk(Bytes::from(chunk))
    }

    fn send_chunk(&self, chunk: Bytes) -> io::Result<()> {
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.is_empty() && data.len() >= CHUNK_BYTES {
            // A large write is a chunk of its own, copied once.
            self.send_chunk(Bytes::copy_from_slice(data))?;
            return Ok(data.len());
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// Turns an error of the writing phase into an [`AppError`] for [`stream`].
pub fn write_failed(e: io::Error) -> AppError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        AppError::unavailable(e)
    } else {
        AppError::internal(e)
    }
}

/// Runs `produce` in a read snapshot and answers with what it streams. Exports
/// tolerate a replica's lag: they read the read replica when one is configured.
pub async fn stream<F>(state: &web::Data<AppState>, produce: F) -> AppResult<HttpResponse>
where
    F: FnOnce(&mut DbConnection, &mut Starter) -> AppResult<()> + Send + 'static,
{
    stream_pooled(state, move |pool, starter| {
        let mut conn = pool.get()?;
        crate::db::read_snapshot(&mut conn, |conn| produce(conn, starter))
    })
    .await
}

/// Runs `produce` with the connection pool and answers with what it streams.
/// The producer takes connections itself, for as long as each read lasts.
pub async fn stream_pooled<F>(state: &web::Data<AppState>, produce: F) -> AppResult<HttpResponse>
where
    F: FnOnce(&DbPool, &mut Starter) -> AppResult<()> + Send + 'static,
{
    let (head_tx, head_rx) = oneshot::channel();
    let (tx, rx) = mpsc::channel::<Chunk>(CHANNEL_CHUNKS);
    let state = state.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut starter = Starter {
            head: Some(head_tx),
            source: None,
            tx: tx.clone(),
        };
        let outcome = match state.reads.pool() {
            Ok((pool, source)) => {
                starter.source = source;
                produce(&pool, &mut starter)
            }
            Err(e) => Err(AppError::from(e)),
        };
        if let Err(e) = outcome {
            match starter.head.take() {
                Some(head) => {
                    let _ = head.send(Err(e));
                }
                None => {
                    log::warn!("streamed response cut short: {e}");
                    let _ = tx.blocking_send(Err(io::Error::other(e.detail().to_string())));
                }
            }
        }
    });
    let head = head_rx
        .await
        .map_err(|_| AppError::internal("the export producer ended without answering"))??;
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let mut response = HttpResponse::Ok();
    response.content_type(head.content_type);
    for (name, value) in head.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.insert_header((HeaderName::from_static(name), value));
        }
    }
    Ok(response.streaming(body))
}

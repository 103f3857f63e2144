//! The one path every mutating request takes: role check, key check and body
//! parsing, then the change in one database transaction sealed by its
//! [`Envelope`] (audit record, events, stored response).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::extract::{deserialize_value, parse_json, request_id, ParsedBody};
use super::AppState;
use crate::auth::{Act, Caller};
use crate::db::{write_transaction, DbConnection};
use crate::envelope::{Envelope, Keyed};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::idempotency::{StoredResponse, MAX_KEY_LENGTH};

pub use crate::envelope::{in_fund, Done};

/// A mutating request on its way to the database: its [`Envelope`], what it
/// does (whose roles may do it), and its route (part of what a key stands for).
pub struct Mutation {
    state: web::Data<AppState>,
    envelope: Envelope,
    act: Act,
    /// The `Idempotency-Key` header as sent (checked by [`Mutation::prepare`]).
    key: Option<String>,
    route: String,
    /// The path says everything (a DELETE): an empty body stands for `{}`.
    bodiless: bool,
}

impl Mutation {
    /// `act` is what is done: its name (`journal_entry.post`) in the audit log,
    /// and its roles the only ones allowed.
    pub fn new(
        req: &HttpRequest,
        state: web::Data<AppState>,
        caller: Caller,
        act: Act,
    ) -> Mutation {
        Mutation {
            state,
            envelope: Envelope {
                caller,
                action: act.name(),
                fund_code: None,
                request_id: request_id(req),
                keyed: None,
            },
            act,
            key: req
                .headers()
                .get("Idempotency-Key")
                .map(|v| v.to_str().unwrap_or("\u{0}").to_string()),
            route: format!("{} {}", req.method(), req.path()),
            bodiless: false,
        }
    }

    /// The fund the path names, for the audit log (a change addressed by id
    /// names its fund with [`Done::in_fund`] or [`in_fund`] instead).
    pub fn fund(mut self, code: &str) -> Mutation {
        self.envelope.fund_code = Some(code.to_string());
        self
    }

    /// Reads an empty body as `{}` (no content type needed): for a change the
    /// path says all of, such as a DELETE.
    pub fn bodiless(mut self) -> Mutation {
        self.bodiless = true;
        self
    }

    /// Parses `body` as `T` and runs `f` in one write transaction with the audit
    /// record and the idempotency record. Refusals are audited too.
    pub async fn run<T, R, F>(
        self,
        req: &HttpRequest,
        body: web::Bytes,
        f: F,
    ) -> AppResult<HttpResponse>
    where
        T: DeserializeOwned + Send + 'static,
        R: Serialize,
        F: FnOnce(&mut DbConnection, &Caller, T) -> AppResult<Done<R>> + Send + 'static,
    {
        let state = self.state.clone();
        let prepared = self.prepare::<T>(req, &body);
        let mut envelope = self.envelope;
        let (stored, replayed) = web::block(move || {
            let mut conn = state.pool.get()?;
            match prepared {
                Ok((input, keyed)) => {
                    envelope.keyed = keyed;
                    execute(&mut conn, &envelope, input, f)
                        .map_err(|e| envelope.record_refusal(&mut conn, e))
                }
                Err(refusal) => Err(envelope.record_refusal(&mut conn, refusal)),
            }
        })
        .await??;
        Ok(respond(&stored, replayed))
    }

    /// Like [`Mutation::run`] for a change booked by a committer together with
    /// the other requests waiting at that moment ([`super::group`]): `check`
    /// turns the parsed body into the job's change, and `submit` hands the
    /// envelope and the change to the committer, which seals them. Refusals
    /// before the committer are audited here.
    pub async fn run_grouped<T, P, F, S, Fut>(
        self,
        req: &HttpRequest,
        body: web::Bytes,
        check: F,
        submit: S,
    ) -> AppResult<HttpResponse>
    where
        T: DeserializeOwned,
        F: FnOnce(&Caller, T) -> AppResult<P>,
        S: FnOnce(Envelope, P) -> Fut,
        Fut: std::future::Future<Output = AppResult<(StoredResponse, bool)>>,
    {
        let checked = (self.prepare::<T>(req, &body))
            .and_then(|(input, keyed)| Ok((check(&self.envelope.caller, input)?, keyed)));
        let (state, mut envelope) = (self.state, self.envelope);
        match checked {
            Ok((change, keyed)) => {
                envelope.keyed = keyed;
                let (stored, replayed) = submit(envelope, change).await?;
                Ok(respond(&stored, replayed))
            }
            Err(e) => Err(web::block(move || match state.pool.get() {
                Ok(mut conn) => envelope.record_refusal(&mut conn, e),
                Err(_) => e,
            })
            .await?),
        }
    }

    /// Checks the role and the key, and parses the body: the input, and the
    /// key with what it stands for (the same key on another route, or with
    /// another body, is a different request).
    fn prepare<T: DeserializeOwned>(
        &self,
        req: &HttpRequest,
        body: &[u8],
    ) -> AppResult<(T, Option<Keyed>)> {
        self.envelope.caller.require(self.act)?;
        check_key(self.key.as_deref())?;
        let parsed = match body {
            b"" if self.bodiless => empty_object::<T>()?,
            _ => parse_json::<T>(req, body)?,
        };
        let keyed = self.key.clone().map(|key| Keyed {
            key,
            request_hash: format!("{}|{}", self.route, parsed.canonical_hash),
        });
        Ok((parsed.value, keyed))
    }
}

/// An empty body read as `{}`, hashed as `{}` is: with or without it, a
/// request is the same request.
fn empty_object<T: DeserializeOwned>() -> AppResult<ParsedBody<T>> {
    use sha2::{Digest, Sha256};
    Ok(ParsedBody {
        value: deserialize_value(serde_json::json!({}), "")?,
        canonical_hash: hex::encode(Sha256::digest(b"{}")),
    })
}

/// Refuses an `Idempotency-Key` that is empty, too long or not visible ASCII.
fn check_key(key: Option<&str>) -> AppResult<()> {
    let Some(key) = key else {
        return Ok(());
    };
    let valid = !key.is_empty()
        && key.len() <= MAX_KEY_LENGTH
        && key.bytes().all(|b| (0x21..0x7f).contains(&b));
    if valid {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::InvalidHeader,
        format!("Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"),
    )
    .with("header", "Idempotency-Key")
    .with("limit", MAX_KEY_LENGTH))
}

/// Runs the change in one write transaction with its traces; a retry of a
/// committed request replays without one.
fn execute<T, R, F>(
    conn: &mut DbConnection,
    envelope: &Envelope,
    input: T,
    f: F,
) -> AppResult<(StoredResponse, bool)>
where
    R: Serialize,
    F: FnOnce(&mut DbConnection, &Caller, T) -> AppResult<Done<R>>,
{
    if let Some(stored) = envelope.stored_response(conn)? {
        return Ok((stored, true));
    }
    let outcome = write_transaction(conn, |conn| {
        envelope.claim_key(conn)?;
        let done = f(conn, &envelope.caller, input)?;
        envelope.seal(conn, done)
    });
    match outcome {
        Ok(response) => Ok((response, false)),
        Err(e) if envelope.keyed.is_some() => envelope
            .replay_after_race(conn, e)
            .map(|stored| (stored, true)),
        Err(e) => Err(e),
    }
}

fn respond(stored: &StoredResponse, replayed: bool) -> HttpResponse {
    let mut response =
        HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
    response.content_type("application/json");
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response.body(stored.body.clone())
}

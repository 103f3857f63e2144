//! The one path every mutating request takes: role check, body parsing,
//! idempotency, the database transaction, and the audit record written in it.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::extract::{parse_json, request_id};
use super::AppState;
use crate::audit::events::{self, NewEvent};
use crate::audit::{self, AuditRecord};
use crate::auth::{Act, Caller};
use crate::contributions::NewContribution;
use crate::db::{is_unique_violation, write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::idempotency::{self, StoredResponse, MAX_KEY_LENGTH};

/// What a successful mutation produced.
pub struct Done<R> {
    pub status: StatusCode,
    /// The record changed or created, for the audit log (`entry 0193…`).
    pub target: String,
    pub body: R,
    /// Domain events to publish in the same transaction.
    pub events: Vec<NewEvent>,
    /// The fund of the record changed, when the path does not name it
    /// ([`Mutation::fund`]): for the audit log and the stored response.
    pub fund: Option<String>,
}

impl<R> Done<R> {
    pub fn created(target: impl Into<String>, body: R) -> Self {
        Done {
            status: StatusCode::CREATED,
            target: target.into(),
            body,
            events: Vec::new(),
            fund: None,
        }
    }

    pub fn ok(target: impl Into<String>, body: R) -> Self {
        Done {
            status: StatusCode::OK,
            target: target.into(),
            body,
            events: Vec::new(),
            fund: None,
        }
    }

    pub fn with_events(mut self, events: Vec<NewEvent>) -> Self {
        self.events = events;
        self
    }

    /// Names the fund of the record changed.
    pub fn in_fund(mut self, code: &str) -> Self {
        self.fund = Some(code.to_string());
        self
    }
}

/// Runs `change` of a record of fund `code` (found by the path's id): its
/// success and its refusal both name the fund in the audit log.
pub fn in_fund<R>(code: &str, change: impl FnOnce() -> AppResult<Done<R>>) -> AppResult<Done<R>> {
    match change() {
        Ok(done) => Ok(done.in_fund(code)),
        Err(refusal) => Err(refusal.in_fund(code)),
    }
}

/// A mutating request on its way to the database.
pub struct Mutation {
    state: web::Data<AppState>,
    caller: Caller,
    request_id: String,
    /// What the audit log calls it: `act`'s name.
    action: &'static str,
    act: Act,
    fund_code: Option<String>,
    idempotency_key: Option<String>,
    route: String,
}

enum Failure {
    App(AppError),
    KeyTaken,
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure::App(e.into())
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::App(e)
    }
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
            caller,
            request_id: request_id(req),
            action: act.name(),
            act,
            fund_code: None,
            idempotency_key: req
                .headers()
                .get("Idempotency-Key")
                .map(|v| v.to_str().unwrap_or("\u{0}").to_string()),
            route: format!("{} {}", req.method(), req.path()),
        }
    }

    /// The fund the path names, for the audit log (a change addressed by id
    /// names its fund with [`Done::in_fund`] or [`in_fund`] instead).
    pub fn fund(mut self, code: &str) -> Mutation {
        self.fund_code = Some(code.to_string());
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
        let prepared = self.prepare::<T>(req, &body);
        let state = self.state.clone();
        let (stored, replayed) = web::block(move || {
            let mut conn = state.pool.get()?;
            match prepared {
                Ok((input, request_hash)) => self.execute(&mut conn, input, request_hash, f),
                Err(e) => Err(self.refused(&mut conn, e)),
            }
        })
        .await??;
        Ok(respond(&stored, replayed))
    }

    /// Like [`Mutation::run`] for recording one contribution, booked by the group
    /// committer together with the other requests waiting at that moment
    /// ([`super::group`]). `check` turns the parsed body into the contribution
    /// to record; its refusals and the ones before it are audited here.
    pub async fn run_grouped<T, F>(
        self,
        req: &HttpRequest,
        body: web::Bytes,
        check: F,
    ) -> AppResult<HttpResponse>
    where
        T: DeserializeOwned,
        F: FnOnce(&Caller, T) -> AppResult<NewContribution>,
    {
        let checked = self
            .prepare::<T>(req, &body)
            .and_then(|(input, hash)| Ok((check(&self.caller, input)?, hash)));
        let (new, request_hash) = match checked {
            Ok(checked) => checked,
            Err(e) => {
                let state = self.state.clone();
                let e = web::block(move || match state.pool.get() {
                    Ok(mut conn) => self.refused(&mut conn, e),
                    Err(_) => e,
                })
                .await?;
                return Err(e);
            }
        };
        let committer = self.state.committer.clone();
        let (stored, replayed) = committer
            .submit(
                self.caller,
                self.fund_code.unwrap_or_default(),
                new,
                self.idempotency_key,
                request_hash,
                self.request_id,
                self.action,
            )
            .await?;
        Ok(respond(&stored, replayed))
    }

    fn prepare<T: DeserializeOwned>(
        &self,
        req: &HttpRequest,
        body: &[u8],
    ) -> AppResult<(T, String)> {
        self.caller.require(self.act)?;
        if let Some(key) = &self.idempotency_key {
            let valid = !key.is_empty()
                && key.len() <= MAX_KEY_LENGTH
                && key.bytes().all(|b| (0x21..0x7f).contains(&b));
            if !valid {
                return Err(AppError::new(
                    ErrorCode::InvalidHeader,
                    format!(
                        "Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
                    ),
                )
                .with("header", "Idempotency-Key")
                .with("limit", MAX_KEY_LENGTH));
            }
        }
        let parsed = parse_json::<T>(req, body)?;
        // The same key on another route, or with another body, is a different request.
        let request_hash = format!("{}|{}", self.route, parsed.canonical_hash);
        Ok((parsed.value, request_hash))
    }

    fn execute<T, R, F>(
        self,
        conn: &mut DbConnection,
        input: T,
        request_hash: String,
        f: F,
    ) -> AppResult<(StoredResponse, bool)>
    where
        R: Serialize,
        F: FnOnce(&mut DbConnection, &Caller, T) -> AppResult<Done<R>>,
    {
        if let Some(key) = &self.idempotency_key {
            // A retry of a request that has committed: no write transaction needed.
            if let Some(stored) = idempotency::lookup(conn, self.caller.principal(), key)? {
                return self.replay(conn, stored, &request_hash);
            }
        }
        let outcome = write_transaction(conn, |conn| -> Result<StoredResponse, Failure> {
            // The key is claimed before the change, so an identical request
            // racing this one waits here until this one commits, then replays
            // (it never runs the change and is refused by what this one did).
            if let Some(key) = &self.idempotency_key {
                match idempotency::claim(conn, self.caller.principal(), key, &request_hash) {
                    Err(e) if is_unique_violation(&e) => return Err(Failure::KeyTaken),
                    other => other?,
                }
            }
            let done = f(conn, &self.caller, input)?;
            let fund_code = done.fund.or_else(|| self.fund_code.clone());
            debug_assert!(fund_code.is_some(), "{} names no fund", self.action);
            let status = done.status.as_u16();
            let response = StoredResponse {
                request_hash: request_hash.clone(),
                status,
                body: serde_json::to_string(&done.body).map_err(AppError::from)?,
                fund_code: fund_code.clone(),
            };
            let record = self.audit_record(fund_code, Some(done.target), "succeeded", status);
            audit::record(conn, &self.caller, &record)?;
            events::append(conn, &done.events)?;
            if let Some(key) = &self.idempotency_key {
                idempotency::complete(conn, self.caller.principal(), key, &response)?;
            }
            Ok(response)
        });
        match outcome {
            Ok(response) => Ok((response, false)),
            Err(Failure::KeyTaken) => {
                let key = self.idempotency_key.as_deref().unwrap_or_default();
                let stored =
                    idempotency::lookup(conn, self.caller.principal(), key)?.ok_or_else(|| {
                        AppError::internal("idempotency key vanished after a conflict")
                    })?;
                self.replay(conn, stored, &request_hash)
            }
            Err(Failure::App(e)) => Err(self.refused(conn, e)),
        }
    }

    fn replay(
        &self,
        conn: &mut DbConnection,
        stored: StoredResponse,
        request_hash: &str,
    ) -> AppResult<(StoredResponse, bool)> {
        match idempotency::replay(stored, request_hash, &self.caller) {
            Ok(stored) => Ok((stored, true)),
            Err(reused) => Err(self.refused(conn, reused)),
        }
    }

    fn audit_record(
        &self,
        fund_code: Option<String>,
        target: Option<String>,
        outcome: &str,
        status: u16,
    ) -> AuditRecord {
        AuditRecord {
            action: self.action.to_string(),
            fund_code,
            target,
            request_id: self.request_id.clone(),
            outcome: outcome.to_string(),
            status,
        }
    }

    /// Records a refused request in its own transaction and hands the error back.
    /// It names the fund of the path, or of the record the change had found.
    fn refused(&self, conn: &mut DbConnection, error: AppError) -> AppError {
        let fund_code =
            (error.fund_code.as_deref().map(str::to_string)).or_else(|| self.fund_code.clone());
        audit_refusal(
            conn,
            &self.caller,
            |outcome, status| self.audit_record(fund_code, None, &outcome, status),
            error,
        )
    }
}

/// What the audit log says of a refusal: `refused:<CODE>`, and its status.
pub(super) fn refusal_outcome(error: &AppError) -> (String, u16) {
    (
        format!("refused:{}", error.code.as_str()),
        error.code.status(),
    )
}

/// Records a refused request in its own transaction (`record` makes the audit
/// record from the outcome and status) and hands the error back. Internal
/// failures are not refusals: they are logged where they happen, not audited.
pub(super) fn audit_refusal(
    conn: &mut DbConnection,
    caller: &Caller,
    record: impl FnOnce(String, u16) -> AuditRecord,
    error: AppError,
) -> AppError {
    if error.code == ErrorCode::InternalError || error.code == ErrorCode::ServiceUnavailable {
        return error;
    }
    let (outcome, status) = refusal_outcome(&error);
    let record = record(outcome, status);
    if let Err(e) = write_transaction(conn, |conn| audit::record(conn, caller, &record)) {
        log::error!("could not record a refused request in the audit log: {e}");
    }
    error
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

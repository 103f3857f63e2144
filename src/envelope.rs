//! What surrounds every change, whichever way it arrives: a request
//! (`http::write::Mutation`), a batch, a group of requests the committer books
//! in one transaction (`http::group`), or `mwf demo`.
//!
//! An [`Envelope`] names who asks (the caller), for what (the audit action), in
//! which fund, under which request id and, for a keyed request, which
//! idempotency key and request hash. Sealing it writes, in the transaction of
//! the change, what every change leaves behind: its audit record, its domain
//! events and, for a keyed request, its stored response. A refusal is audited
//! too ([`Envelope::record_refusal`], in a transaction of its own, since the
//! change's rolled back); a failure is not (it is logged where its response is
//! made).

use serde::Serialize;

use crate::audit::events::{self, NewEvent};
use crate::audit::{self, AuditRecord};
use crate::auth::Caller;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, Refusal};
use crate::idempotency::{self, StoredResponse};

/// A keyed request: its key and what it asked (route and canonical body), so a
/// key reused for another request is refused.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub key: String,
    pub request_hash: String,
}

/// Who asks for a change, and how it is named in the audit log.
pub struct Envelope {
    pub caller: Caller,
    /// What is done (`contribution.record`).
    pub action: &'static str,
    /// The fund the request names (a change addressed by a record's id names
    /// its fund when it has found it: [`Done::in_fund`], [`AppError::in_fund`]).
    pub fund_code: Option<String>,
    pub request_id: String,
    pub keyed: Option<Keyed>,
}

/// What a successful change produced.
pub struct Done<R> {
    pub status: u16,
    /// The record changed or created, for the audit log (`entry 0193…`).
    pub target: String,
    pub body: R,
    /// Domain events to publish in the same transaction.
    pub events: Vec<NewEvent>,
    /// The fund of the record changed, when the request does not name it.
    pub fund: Option<String>,
}

impl<R> Done<R> {
    pub fn created(target: impl Into<String>, body: R) -> Self {
        Self::new(201, target, body)
    }

    pub fn ok(target: impl Into<String>, body: R) -> Self {
        Self::new(200, target, body)
    }

    pub fn new(status: u16, target: impl Into<String>, body: R) -> Self {
        Done {
            status,
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

/// A change's traces, made but not yet written: so that a group of changes
/// writes all of theirs with one multi-row INSERT per table ([`write_all`]).
pub struct Sealed {
    pub audit: AuditRecord,
    pub events: Vec<NewEvent>,
    /// The response of a success (stored for a keyed request); `None` for a
    /// refusal.
    pub response: Option<StoredResponse>,
}

impl Envelope {
    /// The stored response of an earlier request with this key, if one
    /// committed: replayed, or refused if the key was used for another request
    /// or its fund is outside the caller's token.
    pub fn stored_response(&self, conn: &mut DbConnection) -> AppResult<Option<StoredResponse>> {
        let Some(keyed) = &self.keyed else {
            return Ok(None);
        };
        match idempotency::lookup(conn, self.caller.principal(), &keyed.key)? {
            Some(stored) => self.replay(stored).map(Some),
            None => Ok(None),
        }
    }

    /// A stored response for this request's key, checked for this request.
    pub fn replay(&self, stored: StoredResponse) -> AppResult<StoredResponse> {
        let request_hash = self.keyed.as_ref().map(|k| k.request_hash.as_str());
        idempotency::replay(stored, request_hash.unwrap_or_default(), &self.caller)
    }

    /// Claims the key first in the change's transaction, so an identical
    /// request racing this one waits until this one commits, then replays (it
    /// never runs the change and is refused by what this one did). A unique
    /// violation means the key is stored: roll back and replay.
    pub fn claim_key(&self, conn: &mut DbConnection) -> AppResult<()> {
        if let Some(keyed) = &self.keyed {
            idempotency::claim(
                conn,
                self.caller.principal(),
                &keyed.key,
                &keyed.request_hash,
            )?;
        }
        Ok(())
    }

    /// After a change failed on a unique key: the response another
    /// transaction stored for this key, or the failure itself.
    pub fn replay_after_race(
        &self,
        conn: &mut DbConnection,
        failure: AppError,
    ) -> AppResult<StoredResponse> {
        if !failure.is_unique_violation() {
            return Err(failure);
        }
        match self.stored_response(conn)? {
            Some(stored) => Ok(stored),
            None => Err(failure),
        }
    }

    fn audit_record(
        &self,
        fund_code: Option<String>,
        target: Option<String>,
        outcome: String,
        status: u16,
    ) -> AuditRecord {
        AuditRecord {
            action: self.action.to_string(),
            fund_code,
            target,
            request_id: self.request_id.clone(),
            outcome,
            status,
        }
    }

    /// The traces of a success: its audit record, events and response.
    pub fn succeeded<R: Serialize>(&self, done: Done<R>) -> AppResult<Sealed> {
        let fund_code = done.fund.or_else(|| self.fund_code.clone());
        debug_assert!(fund_code.is_some(), "{} names no fund", self.action);
        let response = StoredResponse {
            request_hash: (self.keyed.as_ref())
                .map(|k| k.request_hash.clone())
                .unwrap_or_default(),
            status: done.status,
            body: serde_json::to_string(&done.body)?,
            fund_code: fund_code.clone(),
        };
        let audit = self.audit_record(
            fund_code,
            Some(done.target),
            "succeeded".to_string(),
            done.status,
        );
        Ok(Sealed {
            audit,
            events: done.events,
            response: Some(response),
        })
    }

    /// The traces of a refusal: its audit record (`refused:<CODE>`), naming the
    /// fund of the request or of the record the change had found.
    pub fn refused(&self, refusal: &Refusal) -> Sealed {
        let fund_code =
            (refusal.fund_code.as_deref().map(str::to_string)).or_else(|| self.fund_code.clone());
        let outcome = format!("refused:{}", refusal.code.as_str());
        let status = refusal.code.status();
        Sealed {
            audit: self.audit_record(fund_code, None, outcome, status),
            events: Vec::new(),
            response: None,
        }
    }

    /// Writes the traces of a success in the change's transaction: the audit
    /// record, the events and, for a key claimed by [`Envelope::claim_key`],
    /// the stored response. Answers the response.
    pub fn seal<R: Serialize>(
        &self,
        conn: &mut DbConnection,
        done: Done<R>,
    ) -> AppResult<StoredResponse> {
        let sealed = self.succeeded(done)?;
        audit::record(conn, &self.caller, &sealed.audit)?;
        events::append(conn, &sealed.events)?;
        let response = sealed.response.expect("a success has a response");
        if let Some(keyed) = &self.keyed {
            idempotency::complete(conn, self.caller.principal(), &keyed.key, &response)?;
        }
        Ok(response)
    }

    /// Records a refused request in a transaction of its own (the change's was
    /// rolled back) and hands the error back. A failure is not a refusal: it is
    /// handed back unrecorded, and logged where its response is made.
    pub fn record_refusal(&self, conn: &mut DbConnection, error: AppError) -> AppError {
        if let AppError::Refused(refusal) = &error {
            let sealed = self.refused(refusal);
            let written = write_transaction(conn, |conn| {
                audit::record(conn, &self.caller, &sealed.audit)
            });
            if let Err(e) = written {
                log::error!("could not record a refused request in the audit log: {e}");
            }
        }
        error
    }
}

/// Writes the traces of several changes made in one transaction (a group of
/// requests): audit records in order, events, and the responses of keyed
/// successes, with one multi-row INSERT each. A unique violation means a
/// concurrent request with one of the keys committed first.
pub fn write_all(conn: &mut DbConnection, mut sealed: Vec<(&Envelope, Sealed)>) -> AppResult<()> {
    let records: Vec<(&Caller, &AuditRecord)> = sealed
        .iter()
        .map(|(envelope, s)| (&envelope.caller, &s.audit))
        .collect();
    audit::record_all(conn, &records)?;
    let new_events: Vec<NewEvent> = sealed
        .iter_mut()
        .flat_map(|(_, s)| std::mem::take(&mut s.events))
        .collect();
    events::append(conn, &new_events)?;
    let to_store: Vec<(&str, &str, &StoredResponse)> = sealed
        .iter()
        .filter_map(|(envelope, s)| {
            let keyed = envelope.keyed.as_ref()?;
            let response = s.response.as_ref()?;
            Some((envelope.caller.principal(), keyed.key.as_str(), response))
        })
        .collect();
    if !to_store.is_empty() {
        idempotency::store_all(conn, &to_store)?;
    }
    Ok(())
}

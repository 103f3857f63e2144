//! The domain event feed for partner systems that poll. Event ids come from a
//! one-row counter updated inside the writing transaction, so ids are handed out
//! in commit order on any number of processes: a poller that remembers the last id
//! it saw never misses an event committed later with a smaller id.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::{event_counter, events};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};

/// Declares the event types once: each variant with the name the feed gives it,
/// the schema of its `data`, and the name of its schema in the OpenAPI document.
macro_rules! event_types {
    ($($(#[$doc:meta])* $variant:ident = $name:tt, $constant:ident, $data:ty, $title:literal;)*) => {
        /// The type of a domain event, as the feed names it (`type`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
        pub enum EventType {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }

            /// The event type the feed names `name`, if there is one.
            pub fn parse(name: &str) -> Option<EventType> {
                EventType::ALL.iter().copied().find(|t| t.as_str() == name)
            }
        }

        /// The event types, by the names the code books them under.
        pub mod kind {
            use super::EventType;
            $($(#[$doc])* pub const $constant: EventType = EventType::$variant;)*
        }

        /// One event of the feed, as `GET /v1/events` answers it: its `type`
        /// says which record changed how, and the shape of its `data`.
        #[derive(serde::Serialize, utoipa::ToSchema)]
        #[serde(tag = "type")]
        #[schema(as = Event)]
        pub enum FeedEvent {
            $(
                $(#[$doc])*
                #[serde(rename = $name)]
                #[schema(title = $title)]
                $variant {
                    /// Increases in commit order: remember the last one seen and ask for events after it.
                    id: i64,
                    /// The fund's code.
                    fund: String,
                    /// The record the event is about (a worker, contribution or claim id).
                    #[schema(format = Uuid)]
                    subject_id: String,
                    #[schema(format = DateTime)]
                    occurred_at: String,
                    data: $data,
                },
            )*
        }
    };
}

event_types! {
    WorkerEnrolled = "worker.enrolled", WORKER_ENROLLED, WorkerEnrolledData, "WorkerEnrolledEvent";
    ContributionRecorded = "contribution.recorded", CONTRIBUTION_RECORDED, ContributionRecordedData, "ContributionRecordedEvent";
    ContributionReversed = "contribution.reversed", CONTRIBUTION_REVERSED, ContributionReversedData, "ContributionReversedEvent";
    ClaimSubmitted = "claim.submitted", CLAIM_SUBMITTED, ClaimEventData, "ClaimSubmittedEvent";
    ClaimReassessed = "claim.reassessed", CLAIM_REASSESSED, ClaimEventData, "ClaimReassessedEvent";
    ClaimDecided = "claim.decided", CLAIM_DECIDED, ClaimEventData, "ClaimDecidedEvent";
    ClaimApprovalGiven = "claim.approval_given", CLAIM_APPROVAL_GIVEN, ClaimEventData, "ClaimApprovalGivenEvent";
    ClaimApproved = "claim.approved", CLAIM_APPROVED, ClaimEventData, "ClaimApprovedEvent";
    ClaimRejected = "claim.rejected", CLAIM_REJECTED, ClaimEventData, "ClaimRejectedEvent";
    ClaimAwaitingFunds = "claim.awaiting_funds", CLAIM_AWAITING_FUNDS, ClaimEventData, "ClaimAwaitingFundsEvent";
    ClaimPaid = "claim.paid", CLAIM_PAID, ClaimEventData, "ClaimPaidEvent";
    ClaimWithdrawn = "claim.withdrawn", CLAIM_WITHDRAWN, ClaimEventData, "ClaimWithdrawnEvent";
    ClaimAppealed = "claim.appealed", CLAIM_APPEALED, ClaimEventData, "ClaimAppealedEvent";
    /// A decision no longer stands on fresh facts; the claim is back with an officer.
    ClaimReviewRequired = "claim.review_required", CLAIM_REVIEW_REQUIRED, ClaimEventData, "ClaimReviewRequiredEvent";
    /// The award booked at approval was reversed (the claim was rejected or reduced on review).
    ClaimAwardReversed = "claim.award_reversed", CLAIM_AWARD_REVERSED, ClaimEventData, "ClaimAwardReversedEvent";
    /// A contribution's refund was asked for (its contract was cancelled before it started).
    RefundRequested = "refund.requested", REFUND_REQUESTED, crate::refunds::RefundEventData, "RefundRequestedEvent";
    /// A refund was approved: the contribution's income and taxes are booked back and its coverage ends.
    RefundApproved = "refund.approved", REFUND_APPROVED, crate::refunds::RefundEventData, "RefundApprovedEvent";
    RefundRejected = "refund.rejected", REFUND_REJECTED, crate::refunds::RefundEventData, "RefundRejectedEvent";
    RefundPaid = "refund.paid", REFUND_PAID, crate::refunds::RefundEventData, "RefundPaidEvent";
    /// A rebate a rule grants a long-standing member was asked for.
    RebateRequested = "rebate.requested", REBATE_REQUESTED, crate::refunds::RefundEventData, "RebateRequestedEvent";
    /// A rebate was approved: benefit expense is booked to refunds payable.
    RebateApproved = "rebate.approved", REBATE_APPROVED, crate::refunds::RefundEventData, "RebateApprovedEvent";
    RebateRejected = "rebate.rejected", REBATE_REJECTED, crate::refunds::RefundEventData, "RebateRejectedEvent";
    RebatePaid = "rebate.paid", REBATE_PAID, crate::refunds::RefundEventData, "RebatePaidEvent";
    /// An agency or employer was entered in a fund's registry.
    PartyRegistered = "party.registered", PARTY_REGISTERED, crate::parties::PartyEventData, "PartyRegisteredEvent";
    /// A party's details, bond or status changed (`suspended`, `active` again).
    PartyUpdated = "party.updated", PARTY_UPDATED, crate::parties::PartyEventData, "PartyUpdatedEvent";
    /// A claim's award was marked recoverable from a party: a receivable is booked.
    RecoveryOpened = "recovery.opened", RECOVERY_OPENED, crate::recoveries::RecoveryEventData, "RecoveryOpenedEvent";
    /// Money came in against a recovery (in cash or drawn from the party's bond).
    RecoverySettlementRecorded = "recovery.settlement_recorded", RECOVERY_SETTLEMENT_RECORDED, crate::recoveries::RecoveryEventData, "RecoverySettlementRecordedEvent";
    /// What remained of a recovery was written off by a decision.
    RecoveryWrittenOff = "recovery.written_off", RECOVERY_WRITTEN_OFF, crate::recoveries::RecoveryEventData, "RecoveryWrittenOffEvent";
    /// A bulk transfer was received and booked to unallocated receipts.
    ReceiptRecorded = "receipt.recorded", RECEIPT_RECORDED, crate::receipts::ReceiptEventData, "ReceiptRecordedEvent";
    /// Part of a bulk transfer was matched to workers' contributions.
    ReceiptMatched = "receipt.matched", RECEIPT_MATCHED, crate::receipts::ReceiptEventData, "ReceiptMatchedEvent";
    /// A later heir joined a claim whose heirs share the benefit; the shares were split again.
    ClaimBeneficiaryJoined = "claim.beneficiary_joined", CLAIM_BENEFICIARY_JOINED, ClaimEventData, "ClaimBeneficiaryJoinedEvent";
    /// One payee of a shared claim was paid (its own journal entry).
    ClaimPayeePaid = "claim.payee_paid", CLAIM_PAYEE_PAID, crate::claims::payees::PayeePaidData, "ClaimPayeePaidEvent";
    /// A later instalment of an instalment benefit was re-assessed on its due date and paid.
    ClaimInstalmentPaid = "claim.instalment_paid", CLAIM_INSTALMENT_PAID, crate::claims::instalments::InstalmentEventData, "ClaimInstalmentPaidEvent";
    /// The claimant reached the age limit: this instalment and every later one lapsed.
    ClaimInstalmentLapsed = "claim.instalment_lapsed", CLAIM_INSTALMENT_LAPSED, crate::claims::instalments::InstalmentEventData, "ClaimInstalmentLapsedEvent";
    /// An officer stopped a schedule of instalments, with reasons.
    ClaimInstalmentsStopped = "claim.instalments_stopped", CLAIM_INSTALMENTS_STOPPED, crate::claims::instalments::InstalmentEventData, "ClaimInstalmentsStoppedEvent";
    /// Proof was attached to an instalment (enrolment for its school year).
    ClaimInstalmentDocumentsAdded = "claim.instalment_documents_added", CLAIM_INSTALMENT_DOCUMENTS_ADDED, crate::claims::instalments::InstalmentEventData, "ClaimInstalmentDocumentsAddedEvent";
}

/// The `data` of `worker.enrolled` (built by `workers::enrolled_event`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct WorkerEnrolledData {
    #[schema(format = Uuid)]
    pub worker_id: String,
    pub document_type: String,
    pub document_number: String,
    pub sex: crate::workers::Sex,
    #[schema(required = true)]
    pub occupation_sector: Option<String>,
}

/// The `data` of `contribution.recorded` (built by `contributions::recorded_event`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ContributionRecordedData {
    #[schema(format = Uuid)]
    pub contribution_id: String,
    #[schema(format = Uuid)]
    pub worker_id: String,
    pub paid_on: chrono::NaiveDate,
    /// The contribution without taxes.
    pub amount: crate::money::DecimalString,
    /// The contribution with its taxes.
    pub total: crate::money::DecimalString,
    pub currency: crate::money::Currency,
    pub rule_version: String,
    pub coverage: EventCoverage,
    #[schema(format = Uuid)]
    pub journal_entry_id: String,
}

/// The days a contribution covers, both included.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct EventCoverage {
    pub start: chrono::NaiveDate,
    pub end: chrono::NaiveDate,
}

/// The `data` of `contribution.reversed` (built by `contributions::reverse`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ContributionReversedData {
    #[schema(format = Uuid)]
    pub contribution_id: String,
    #[schema(format = Uuid)]
    pub worker_id: String,
    pub reason: String,
    /// The reversing journal entry.
    #[schema(format = Uuid)]
    pub journal_entry_id: String,
}

/// The `data` of every `claim.*` event (built by `claims::event`): the claim
/// as it stands after the change.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ClaimEventData {
    #[schema(format = Uuid)]
    pub claim_id: String,
    #[schema(format = Uuid)]
    pub worker_id: String,
    pub benefit: String,
    pub status: crate::claims::ClaimStatus,
    /// The main claim, when this claim is a rider of it.
    #[schema(required = true, format = Uuid)]
    pub rider_of: Option<String>,
    /// The decided award, once a decision is made.
    #[schema(required = true)]
    pub amount: Option<crate::money::DecimalString>,
    /// Why the claim is under review (reason codes), while it is `under_review`.
    #[schema(required = true)]
    pub reasons: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub fund_code: String,
    pub event_type: EventType,
    pub subject_id: String,
    pub payload: Value,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub occurred_at: NaiveDateTime,
    pub fund_code: String,
    pub event_type: String,
    pub subject_id: String,
    pub payload: Value,
}

/// An `events` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = events, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct EventRow {
    id: i64,
    occurred_at: NaiveDateTime,
    fund_code: String,
    event_type: String,
    subject_id: String,
    payload: String,
}

impl EventRow {
    fn into_event(self) -> AppResult<Event> {
        Ok(Event {
            id: self.id,
            occurred_at: self.occurred_at,
            fund_code: self.fund_code,
            event_type: self.event_type,
            subject_id: self.subject_id,
            payload: serde_json::from_str(&self.payload)
                .map_err(|e| AppError::internal(format!("event payload: {e}")))?,
        })
    }
}

/// An `events` row to insert.
#[derive(Insertable)]
#[diesel(table_name = events)]
struct NewEventRow<'a> {
    id: i64,
    occurred_at: NaiveDateTime,
    fund_code: &'a str,
    event_type: &'a str,
    subject_id: &'a str,
    payload: &'a str,
    worker_id: Option<&'a str>,
}

/// Appends events at the end of the caller's transaction. Call it last: the
/// counter row stays locked until commit.
pub fn append(conn: &mut DbConnection, new: &[NewEvent]) -> AppResult<()> {
    if new.is_empty() {
        return Ok(());
    }
    let last: i64 = diesel::update(event_counter::table.find(1))
        .set(event_counter::last_id.eq(event_counter::last_id + new.len() as i64))
        .returning(event_counter::last_id)
        .get_result(conn)?;
    let first = last - new.len() as i64 + 1;
    let now = crate::time::now();
    let payloads: Vec<String> = new.iter().map(|e| e.payload.to_string()).collect();
    let rows: Vec<_> = new
        .iter()
        .zip(&payloads)
        .enumerate()
        .map(|(i, (event, payload))| NewEventRow {
            id: first + i as i64,
            occurred_at: now,
            fund_code: &event.fund_code,
            event_type: event.event_type.as_str(),
            subject_id: &event.subject_id,
            payload,
            worker_id: event.payload.get("worker_id").and_then(Value::as_str),
        })
        .collect();
    crate::insert_rows!(conn, events::table, rows)?;
    // The webhook outbox, in the same transaction: a delivery exists exactly
    // when its event committed.
    let appended: Vec<crate::webhooks::Appended> = new
        .iter()
        .enumerate()
        .map(|(i, event)| crate::webhooks::Appended {
            id: first + i as i64,
            fund_code: &event.fund_code,
            event_type: event.event_type,
        })
        .collect();
    crate::webhooks::enqueue(conn, &appended)
}

/// Which events a feed reader wants: all the conditions hold.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// The funds the reader may see (`None`: every fund).
    pub scope: Option<Vec<String>>,
    /// One fund, by code.
    pub fund_code: Option<String>,
    /// Any of these types (empty: every type).
    pub types: Vec<EventType>,
    /// Events about one worker: its enrollment, contributions and claims
    /// (every event's payload names its worker; `append` copies it to a column).
    pub worker_id: Option<String>,
    /// Events whose subject is this record (a claim, a contribution, a worker).
    pub subject_id: Option<String>,
}

/// Events after `after_id` that pass `filter`, oldest first.
pub fn list(
    conn: &mut DbConnection,
    filter: &EventFilter,
    after_id: i64,
    limit: i64,
) -> AppResult<Vec<Event>> {
    let mut query = events::table.filter(events::id.gt(after_id)).into_boxed();
    if let Some(codes) = &filter.scope {
        query = query.filter(events::fund_code.eq_any(codes));
    }
    if let Some(code) = &filter.fund_code {
        query = query.filter(events::fund_code.eq(code));
    }
    if !filter.types.is_empty() {
        let names: Vec<&str> = filter.types.iter().map(|t| t.as_str()).collect();
        query = query.filter(events::event_type.eq_any(names));
    }
    if let Some(worker) = &filter.worker_id {
        query = query.filter(events::worker_id.eq(worker));
    }
    if let Some(subject) = &filter.subject_id {
        query = query.filter(events::subject_id.eq(subject));
    }
    let rows: Vec<EventRow> = query
        .order(events::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    rows.into_iter().map(EventRow::into_event).collect()
}

#[cfg(test)]
mod tests {
    use super::EventType;

    /// The name the feed serialises is the name the database stores.
    #[test]
    fn each_event_type_has_one_name() {
        for t in EventType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str(), "{t:?}");
        }
        let mut names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventType::ALL.len(), "two types share a name");
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(EventType::parse("claim.exploded"), None);
    }
}

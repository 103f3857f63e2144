//! Claim statuses and the one table of which action moves a claim from which
//! status to which. Every change of a claim's status goes through [`Claim::move_to`]
//! after [`ensure_may`]: an action from a status the table does not list is a 409
//! naming the current status, and a move the table does not list is a bug.
//!
//! [`Claim::move_to`]: super::Claim::move_to

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, ErrorCode};

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Filed and assessed; waits for an officer's decision.
    Submitted,
    /// Only documents (or the documented expense, or a disability grade) are missing.
    PendingDocuments,
    /// An entitlement award above `second_approval_above` waits for a second approver.
    AwaitingSecondApproval,
    /// A discretionary award waits for `committee_size` distinct approvers.
    AwaitingCommittee,
    /// Finally approved: benefit expense booked against benefits payable.
    Approved,
    /// Finally approved for less than the payable amount, with a reason.
    PartiallyApproved,
    /// Rejected with reason codes; may be appealed once.
    Rejected,
    /// Approved, but cash does not cover it (as of some date from the payment's
    /// date on) or other claims were waiting first; a payment run pays it.
    AwaitingFunds,
    /// Paid from cash.
    Paid,
    /// Withdrawn by the claimant before a decision.
    Withdrawn,
    /// A rejection appealed; assessed again and waiting for a new decision.
    Appealed,
    /// A decision that no longer stands on the records as they are now (a
    /// contribution reversed, a cap or `max_claims` used by an earlier award): it
    /// is not approved or paid, and waits for an officer's new decision. An
    /// expense already booked is reversed when the officer rejects or reduces it.
    UnderReview,
}

use ClaimStatus::*;

impl ClaimStatus {
    pub const ALL: [ClaimStatus; 12] = [
        Submitted,
        PendingDocuments,
        AwaitingSecondApproval,
        AwaitingCommittee,
        Approved,
        PartiallyApproved,
        Rejected,
        AwaitingFunds,
        Paid,
        Withdrawn,
        Appealed,
        UnderReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Submitted => "submitted",
            PendingDocuments => "pending_documents",
            AwaitingSecondApproval => "awaiting_second_approval",
            AwaitingCommittee => "awaiting_committee",
            Approved => "approved",
            PartiallyApproved => "partially_approved",
            Rejected => "rejected",
            AwaitingFunds => "awaiting_funds",
            Paid => "paid",
            Withdrawn => "withdrawn",
            Appealed => "appealed",
            UnderReview => "under_review",
        }
    }

    pub fn parse(text: &str) -> Option<ClaimStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// An award that stands: it counts against `max_claims`, the family limit
    /// and the caps of every claim decided after it.
    pub fn is_award(self) -> bool {
        matches!(self, Approved | PartiallyApproved | AwaitingFunds | Paid)
    }

    /// Ended without an award.
    pub fn is_closed_without_award(self) -> bool {
        matches!(self, Rejected | Withdrawn)
    }
}

impl std::fmt::Display for ClaimStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What may be done to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Documents, the documented expense or a grade added; assessed again.
    AddDocuments,
    /// An officer's decision to approve or partially approve.
    Award,
    /// An officer's rejection.
    Reject,
    /// A second or committee approval.
    Approve,
    /// A direct payment.
    Pay,
    /// A payment run over the claims waiting for funds.
    PaymentRun,
    Withdraw,
    Appeal,
    /// A later heir joins the claim as a beneficiary; assessed again.
    JoinBeneficiary,
}

impl Action {
    /// How the action reads in a refusal: "claim X is paid; it cannot be {verb}".
    fn verb(self) -> &'static str {
        match self {
            Action::AddDocuments => "given documents",
            Action::Award | Action::Reject => "decided",
            Action::Approve => "approved",
            Action::Pay | Action::PaymentRun => "paid",
            Action::Withdraw => "withdrawn",
            Action::Appeal => "appealed",
            Action::JoinBeneficiary => "joined",
        }
    }
}

/// (action, the statuses it may start from, the statuses it may lead to).
pub const TRANSITIONS: &[(Action, &[ClaimStatus], &[ClaimStatus])] = &[
    (
        Action::AddDocuments,
        &[Submitted, PendingDocuments, Appealed],
        &[Submitted, PendingDocuments, Appealed],
    ),
    (
        Action::Award,
        &[Submitted, Appealed, UnderReview],
        &[
            AwaitingSecondApproval,
            AwaitingCommittee,
            Approved,
            PartiallyApproved,
        ],
    ),
    (
        Action::Reject,
        &[Submitted, PendingDocuments, Appealed, UnderReview],
        &[Rejected],
    ),
    (
        Action::Approve,
        &[AwaitingSecondApproval, AwaitingCommittee],
        &[
            AwaitingSecondApproval,
            AwaitingCommittee,
            Approved,
            PartiallyApproved,
            UnderReview,
        ],
    ),
    (
        Action::Pay,
        &[Approved, PartiallyApproved, AwaitingFunds],
        &[Paid, AwaitingFunds, UnderReview],
    ),
    (
        Action::PaymentRun,
        &[AwaitingFunds],
        &[Paid, AwaitingFunds, UnderReview],
    ),
    (
        Action::Withdraw,
        &[Submitted, PendingDocuments],
        &[Withdrawn],
    ),
    (Action::Appeal, &[Rejected], &[Appealed, PendingDocuments]),
    (
        Action::JoinBeneficiary,
        &[Submitted, PendingDocuments, Appealed],
        &[Submitted, PendingDocuments, Appealed],
    ),
];

fn row(action: Action) -> (&'static [ClaimStatus], &'static [ClaimStatus]) {
    TRANSITIONS
        .iter()
        .find(|(a, _, _)| *a == action)
        .map(|(_, from, to)| (*from, *to))
        .expect("every action has a row")
}

/// Whether `action` may start from `from`.
pub fn may(action: Action, from: ClaimStatus) -> bool {
    row(action).0.contains(&from)
}

/// A 409 naming the current status unless `action` may start from `from`.
pub fn ensure_may(claim_id: &str, action: Action, from: ClaimStatus) -> Result<(), AppError> {
    if may(action, from) {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::ClaimStatusConflict,
        format!("claim {claim_id} is {from}; it cannot be {}", action.verb()),
    )
    .with("claim_status", from.as_str()))
}

/// Whether the table lets `action` move a claim from `from` to `to`.
pub fn allowed(action: Action, from: ClaimStatus, to: ClaimStatus) -> bool {
    let (starts, ends) = row(action);
    starts.contains(&from) && ends.contains(&to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_from_their_names() {
        for s in ClaimStatus::ALL {
            assert_eq!(ClaimStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        assert_eq!(ClaimStatus::parse("approved "), None);
    }

    #[test]
    fn finished_claims_accept_no_action() {
        for action in TRANSITIONS.iter().map(|t| t.0) {
            assert!(!may(action, Paid), "{action:?} from paid");
            assert!(!may(action, Withdrawn), "{action:?} from withdrawn");
        }
        assert!(may(Action::Appeal, Rejected));
        assert!(!may(Action::Withdraw, UnderReview));
    }

    #[test]
    fn every_status_is_reached_by_some_action_and_left_unless_final() {
        for s in ClaimStatus::ALL {
            let reached = TRANSITIONS.iter().any(|(_, _, to)| to.contains(&s));
            assert!(reached, "{s} is never reached");
            let left = TRANSITIONS.iter().any(|(_, from, _)| from.contains(&s));
            assert_eq!(left, !matches!(s, Paid | Withdrawn), "{s}");
        }
    }
}

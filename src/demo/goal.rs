//! What a demo claim is meant to end as, and the mix of them.

/// What a claim is meant to end as. `awaiting_funds` is not chosen: it comes of
/// paying where cash does not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    Submitted,
    PendingDocuments,
    Withdrawn,
    Rejected,
    Appealed,
    AwaitingSecondApproval,
    AwaitingCommittee,
    Approved,
    PartiallyApproved,
    Paid,
    PartiallyPaid,
}

impl Goal {
    /// One of each, so that even a small demo has every status.
    pub const ALL: [Goal; 11] = [
        Goal::Paid,
        Goal::Rejected,
        Goal::Submitted,
        Goal::PendingDocuments,
        Goal::Withdrawn,
        Goal::Appealed,
        Goal::AwaitingSecondApproval,
        Goal::AwaitingCommittee,
        Goal::Approved,
        Goal::PartiallyApproved,
        Goal::PartiallyPaid,
    ];

    /// The mix of the rest: most claims are paid.
    pub(super) const MIX: &'static [(Goal, u32)] = &[
        (Goal::Paid, 45),
        (Goal::Rejected, 12),
        (Goal::Withdrawn, 5),
        (Goal::Appealed, 3),
        (Goal::Submitted, 8),
        (Goal::PendingDocuments, 8),
        (Goal::Approved, 5),
        (Goal::PartiallyApproved, 3),
        (Goal::PartiallyPaid, 4),
        (Goal::AwaitingSecondApproval, 4),
        (Goal::AwaitingCommittee, 3),
    ];

    /// Claims still open on the demo's today were filed in its last months.
    pub(super) fn is_open(self) -> bool {
        !matches!(
            self,
            Goal::Paid | Goal::PartiallyPaid | Goal::Rejected | Goal::Withdrawn | Goal::Appealed
        )
    }

    /// Goals that end in an award.
    pub(super) fn is_awarded(self) -> bool {
        !matches!(
            self,
            Goal::Submitted
                | Goal::PendingDocuments
                | Goal::Withdrawn
                | Goal::Rejected
                | Goal::Appealed
        )
    }

    pub(super) fn is_refused(self) -> bool {
        matches!(self, Goal::Rejected | Goal::Appealed)
    }

    /// Goals whose award is paid out of cash now.
    pub fn is_paid(self) -> bool {
        matches!(self, Goal::Paid | Goal::PartiallyPaid)
    }
}

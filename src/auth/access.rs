//! Who may do what: one table of every act a caller may attempt and the roles
//! allowed it. A request's role is checked against this table before anything
//! is looked up ([`super::Caller::require`]), so a refusal says nothing about
//! which funds or records exist.
//!
//! | act | audit action | admin | officer | approver | ministry | auditor | worker |
//! | --- | --- | :-: | :-: | :-: | :-: | :-: | :-: |
//! | [`Act::ReadFunds`] | | ✓ | ✓ | ✓ | ✓ | ✓ | |
//! | [`Act::ReadAuditTrail`] | | ✓ | | | | ✓ | |
//! | [`Act::ReadWorkerRecords`] | | ✓ | ✓ | ✓ | ✓ | ✓ | ✓¹ |
//! | [`Act::CreateFund`] | `fund.create` | ✓ | | | | | |
//! | [`Act::ClosePeriod`] | `period.close` | ✓ | | | | | |
//! | [`Act::CreateAccount`] | `account.create` | ✓ | | | | | |
//! | [`Act::PostJournalEntry`] | `journal_entry.post` | ✓ | | | | | |
//! | [`Act::ReverseJournalEntry`] | `journal_entry.reverse` | ✓ | | | | | |
//! | [`Act::PublishRules`] | `rules.publish` | ✓ | | | | | |
//! | [`Act::EnrollWorker`] | `worker.enroll` | ✓ | ✓ | | ✓ | | |
//! | [`Act::EnrollWorkers`] | `worker.enroll_batch` | ✓ | ✓ | | ✓ | | |
//! | [`Act::AddDependant`] | `worker.add_dependant` | ✓ | ✓ | | ✓ | | |
//! | [`Act::AddContract`] | `worker.add_contract` | ✓ | ✓ | | ✓ | | |
//! | [`Act::UpdateContract`] | `worker.update_contract` | ✓ | ✓ | | ✓ | | |
//! | [`Act::RecordContribution`] | `contribution.record` | ✓ | ✓ | | ✓ | | |
//! | [`Act::RecordContributions`] | `contribution.record_batch` | ✓ | ✓ | | ✓ | | |
//! | [`Act::ReverseContribution`] | `contribution.reverse` | ✓ | ✓ | | | | |
//! | [`Act::SubmitClaim`] | `claim.submit` | ✓ | ✓ | | ✓ | | ✓¹ |
//! | [`Act::AddClaimDocuments`] | `claim.add_documents` | ✓ | ✓ | | ✓ | | |
//! | [`Act::WithdrawClaim`] | `claim.withdraw` | ✓ | ✓ | | ✓ | | |
//! | [`Act::AppealClaim`] | `claim.appeal` | ✓ | ✓ | | ✓ | | |
//! | [`Act::DecideClaim`] | `claim.decide` | ✓ | ✓ | | | | |
//! | [`Act::PayClaim`] | `claim.pay` | ✓ | ✓ | | | | |
//! | [`Act::RunPayments`] | `claim.payment_run` | ✓ | ✓ | | | | |
//! | [`Act::ApproveClaim`] | `claim.approve` | ✓ | | ✓ | | | |
//! | [`Act::RequestRefund`] | `refund.request` | ✓ | ✓ | | ✓ | | |
//! | [`Act::DecideRefund`] | `refund.decide` | ✓ | ✓ | | | | |
//! | [`Act::PayRefund`] | `refund.pay` | ✓ | ✓ | | | | |
//! | [`Act::AddInstalmentDocuments`] | `claim.add_instalment_documents` | ✓ | ✓ | | ✓ | | |
//! | [`Act::StopInstalments`] | `claim.stop_instalments` | ✓ | ✓ | | | | |
//! | [`Act::ReadWebhooks`] | | ✓ | | | ✓ | ✓ | |
//! | [`Act::SubscribeWebhook`] | `webhook.subscribe` | ✓ | | | ✓ | | |
//! | [`Act::DeleteWebhook`] | `webhook.delete` | ✓ | | | ✓ | | |
//! | [`Act::RedeliverWebhook`] | `webhook.redeliver` | ✓ | | | ✓ | | |
//! | [`Act::RegisterParty`] | `party.register` | ✓ | ✓ | | | | |
//! | [`Act::UpdateParty`] | `party.update` | ✓ | ✓ | | | | |
//! | [`Act::OpenRecovery`] | `recovery.open` | ✓ | ✓ | | | | |
//! | [`Act::SettleRecovery`] | `recovery.settle` | ✓ | ✓ | | | | |
//! | [`Act::WriteOffRecovery`] | `recovery.write_off` | ✓ | ✓ | | | | |
//! | [`Act::RecordReceipt`] | `receipt.record` | ✓ | ✓ | | | | |
//! | [`Act::MatchReceipt`] | `receipt.match` | ✓ | ✓ | | | | |
//! | [`Act::JoinClaim`] | `claim.join_beneficiary` | ✓ | ✓ | | ✓ | | |
//!
//! ¹ The `worker` role's self scope: a worker's token (`sub` the worker's id,
//! or a registered dependant's) reaches only that worker's records, and any
//! other worker's are 404 like a record outside the token's funds
//! ([`super::Caller::own_records`]); it files claims only as its holder.
//!
//! Four-eyes rests on the last two groups: whoever may decide a claim may not
//! approve it, except `admin`, who may do everything (and is still refused
//! approving a decision of its own by the claims module).

use super::Role;

/// Everything a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Read funds, their ledgers, rules, workers, contributions, claims, reports
    /// and the event feed.
    ReadFunds,
    /// Read the audit log and export it or a ledger.
    ReadAuditTrail,
    /// Read one worker's records: the worker, membership, contributions and
    /// claims (the `worker` role only its own).
    ReadWorkerRecords,
    CreateFund,
    ClosePeriod,
    CreateAccount,
    PostJournalEntry,
    ReverseJournalEntry,
    PublishRules,
    EnrollWorker,
    EnrollWorkers,
    AddDependant,
    AddContract,
    UpdateContract,
    RecordContribution,
    RecordContributions,
    ReverseContribution,
    SubmitClaim,
    AddClaimDocuments,
    WithdrawClaim,
    AppealClaim,
    DecideClaim,
    PayClaim,
    RunPayments,
    ApproveClaim,
    /// Ask for a contribution back (its contract was cancelled before it started).
    RequestRefund,
    /// Approve or reject a refund: approval books it back and ends its coverage.
    DecideRefund,
    PayRefund,
    /// Attach proof to one instalment of a claim (enrolment for its school year).
    AddInstalmentDocuments,
    /// Stop a claim's schedule of instalments: a decision with reasons.
    StopInstalments,
    /// Read a fund's webhook subscriptions and their delivery logs.
    ReadWebhooks,
    SubscribeWebhook,
    DeleteWebhook,
    RedeliverWebhook,
    /// Enter an agency or employer in a fund's registry.
    RegisterParty,
    /// Change a party's details, bond or status.
    UpdateParty,
    /// Mark a claim's award recoverable from a party (books a receivable).
    OpenRecovery,
    /// Record money received against a recovery, in cash or from a bond.
    SettleRecovery,
    /// Write off what remains of a recovery, by a decision.
    WriteOffRecovery,
    /// Book a bulk transfer to unallocated receipts.
    RecordReceipt,
    /// Match part of a bulk transfer to workers' contributions.
    MatchReceipt,
    /// A later heir joins a claim whose heirs share the benefit.
    JoinClaim,
}

/// Every institutional role reads what its funds hold (not `worker`, who
/// reads only its own records).
const EVERYONE: &[Role] = &[
    Role::Admin,
    Role::Officer,
    Role::Approver,
    Role::Ministry,
    Role::Auditor,
];
/// Those who read one worker's records: everyone, and the worker themselves.
const WORKER_READERS: &[Role] = &[
    Role::Admin,
    Role::Officer,
    Role::Approver,
    Role::Ministry,
    Role::Auditor,
    Role::Worker,
];
/// Those who file claims: the enrollers, and a worker (or dependant) for themselves.
const CLAIMANTS: &[Role] = &[Role::Admin, Role::Officer, Role::Ministry, Role::Worker];
/// Those who keep the books by hand and set a fund up.
const ADMIN: &[Role] = &[Role::Admin];
/// Those who read the audit trail.
const AUDITORS: &[Role] = &[Role::Admin, Role::Auditor];
/// Those who bring workers, their contributions and their claims in.
const ENROLLERS: &[Role] = &[Role::Admin, Role::Officer, Role::Ministry];
/// Those who decide and pay claims and reverse contributions (bounced payments).
const OFFICERS: &[Role] = &[Role::Admin, Role::Officer];
/// Those who give the second (and committee) approvals of a decision.
const APPROVERS: &[Role] = &[Role::Admin, Role::Approver];
/// Those who connect a fund's partner systems (webhooks).
const INTEGRATORS: &[Role] = &[Role::Admin, Role::Ministry];
/// Those who read how a fund's partner systems are connected.
const INTEGRATION_READERS: &[Role] = &[Role::Admin, Role::Ministry, Role::Auditor];

impl Act {
    /// What the audit log calls the act (`journal_entry.post`). The names of
    /// changes are stored in the audit log: never change one. (Reads are not
    /// audited; theirs only complete the table.)
    pub const fn name(self) -> &'static str {
        match self {
            Act::ReadFunds => "funds.read",
            Act::ReadAuditTrail => "audit_trail.read",
            Act::ReadWorkerRecords => "worker_records.read",
            Act::CreateFund => "fund.create",
            Act::ClosePeriod => "period.close",
            Act::CreateAccount => "account.create",
            Act::PostJournalEntry => "journal_entry.post",
            Act::ReverseJournalEntry => "journal_entry.reverse",
            Act::PublishRules => "rules.publish",
            Act::EnrollWorker => "worker.enroll",
            Act::EnrollWorkers => "worker.enroll_batch",
            Act::AddDependant => "worker.add_dependant",
            Act::AddContract => "worker.add_contract",
            Act::UpdateContract => "worker.update_contract",
            Act::RecordContribution => "contribution.record",
            Act::RecordContributions => "contribution.record_batch",
            Act::ReverseContribution => "contribution.reverse",
            Act::SubmitClaim => "claim.submit",
            Act::AddClaimDocuments => "claim.add_documents",
            Act::WithdrawClaim => "claim.withdraw",
            Act::AppealClaim => "claim.appeal",
            Act::DecideClaim => "claim.decide",
            Act::PayClaim => "claim.pay",
            Act::RunPayments => "claim.payment_run",
            Act::ApproveClaim => "claim.approve",
            Act::RequestRefund => "refund.request",
            Act::DecideRefund => "refund.decide",
            Act::PayRefund => "refund.pay",
            Act::AddInstalmentDocuments => "claim.add_instalment_documents",
            Act::StopInstalments => "claim.stop_instalments",
            Act::ReadWebhooks => "webhooks.read",
            Act::SubscribeWebhook => "webhook.subscribe",
            Act::DeleteWebhook => "webhook.delete",
            Act::RedeliverWebhook => "webhook.redeliver",
            Act::RegisterParty => "party.register",
            Act::UpdateParty => "party.update",
            Act::OpenRecovery => "recovery.open",
            Act::SettleRecovery => "recovery.settle",
            Act::WriteOffRecovery => "recovery.write_off",
            Act::RecordReceipt => "receipt.record",
            Act::MatchReceipt => "receipt.match",
            Act::JoinClaim => "claim.join_beneficiary",
        }
    }

    /// The roles that may do it, in the order a refusal lists them.
    pub const fn roles(self) -> &'static [Role] {
        match self {
            Act::ReadFunds => EVERYONE,
            Act::ReadAuditTrail => AUDITORS,
            Act::ReadWorkerRecords => WORKER_READERS,
            Act::SubmitClaim => CLAIMANTS,
            Act::CreateFund
            | Act::ClosePeriod
            | Act::CreateAccount
            | Act::PostJournalEntry
            | Act::ReverseJournalEntry
            | Act::PublishRules => ADMIN,
            Act::EnrollWorker
            | Act::EnrollWorkers
            | Act::AddDependant
            | Act::AddContract
            | Act::UpdateContract
            | Act::RecordContribution
            | Act::RecordContributions
            | Act::AddClaimDocuments
            | Act::WithdrawClaim
            | Act::AppealClaim => ENROLLERS,
            Act::ReverseContribution | Act::DecideClaim | Act::PayClaim | Act::RunPayments => {
                OFFICERS
            }
            Act::ApproveClaim => APPROVERS,
            Act::RequestRefund => ENROLLERS,
            Act::DecideRefund | Act::PayRefund => OFFICERS,
            Act::AddInstalmentDocuments => ENROLLERS,
            Act::StopInstalments => OFFICERS,
            Act::ReadWebhooks => INTEGRATION_READERS,
            Act::SubscribeWebhook | Act::DeleteWebhook | Act::RedeliverWebhook => INTEGRATORS,
            Act::RegisterParty
            | Act::UpdateParty
            | Act::OpenRecovery
            | Act::SettleRecovery
            | Act::WriteOffRecovery
            | Act::RecordReceipt
            | Act::MatchReceipt => OFFICERS,
            Act::JoinClaim => ENROLLERS,
        }
    }

    /// True when `role` may do it.
    pub fn allows(self, role: Role) -> bool {
        self.roles().contains(&role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every act.
    const ALL: &[Act] = &[
        Act::ReadFunds,
        Act::ReadAuditTrail,
        Act::ReadWorkerRecords,
        Act::CreateFund,
        Act::ClosePeriod,
        Act::CreateAccount,
        Act::PostJournalEntry,
        Act::ReverseJournalEntry,
        Act::PublishRules,
        Act::EnrollWorker,
        Act::EnrollWorkers,
        Act::AddDependant,
        Act::AddContract,
        Act::UpdateContract,
        Act::RecordContribution,
        Act::RecordContributions,
        Act::ReverseContribution,
        Act::SubmitClaim,
        Act::AddClaimDocuments,
        Act::WithdrawClaim,
        Act::AppealClaim,
        Act::DecideClaim,
        Act::PayClaim,
        Act::RunPayments,
        Act::ApproveClaim,
        Act::RequestRefund,
        Act::DecideRefund,
        Act::PayRefund,
        Act::AddInstalmentDocuments,
        Act::StopInstalments,
        Act::ReadWebhooks,
        Act::SubscribeWebhook,
        Act::DeleteWebhook,
        Act::RedeliverWebhook,
        Act::RegisterParty,
        Act::UpdateParty,
        Act::OpenRecovery,
        Act::SettleRecovery,
        Act::WriteOffRecovery,
        Act::RecordReceipt,
        Act::MatchReceipt,
        Act::JoinClaim,
    ];

    const ROLES: [Role; 6] = [
        Role::Admin,
        Role::Officer,
        Role::Approver,
        Role::Ministry,
        Role::Auditor,
        Role::Worker,
    ];

    fn allowed(role: Role) -> Vec<Act> {
        ALL.iter().copied().filter(|a| a.allows(role)).collect()
    }

    #[test]
    fn admin_may_do_everything_and_everyone_reads() {
        assert_eq!(allowed(Role::Admin), ALL);
        for role in ROLES {
            assert!(Act::ReadWorkerRecords.allows(role), "{role:?}");
            assert_eq!(
                Act::ReadFunds.allows(role),
                role != Role::Worker,
                "{role:?}"
            );
        }
    }

    #[test]
    fn the_auditor_only_reads_and_only_it_and_admin_read_the_audit_trail() {
        assert_eq!(
            allowed(Role::Auditor),
            [
                Act::ReadFunds,
                Act::ReadAuditTrail,
                Act::ReadWorkerRecords,
                Act::ReadWebhooks
            ]
        );
        assert_eq!(Act::ReadAuditTrail.roles(), [Role::Admin, Role::Auditor]);
    }

    #[test]
    fn only_admin_keeps_the_books_by_hand_and_sets_funds_up() {
        for act in [
            Act::CreateFund,
            Act::ClosePeriod,
            Act::CreateAccount,
            Act::PostJournalEntry,
            Act::ReverseJournalEntry,
            Act::PublishRules,
        ] {
            assert_eq!(act.roles(), [Role::Admin], "{act:?}");
        }
    }

    #[test]
    fn those_who_decide_a_claim_never_approve_it_except_admin() {
        for decide in [Act::DecideClaim, Act::PayClaim, Act::RunPayments] {
            for role in ROLES {
                let both = decide.allows(role) && Act::ApproveClaim.allows(role);
                assert_eq!(
                    both,
                    role == Role::Admin,
                    "{decide:?} and approve: {role:?}"
                );
            }
        }
    }

    #[test]
    fn the_approver_only_reads_and_approves() {
        assert_eq!(
            allowed(Role::Approver),
            [Act::ReadFunds, Act::ReadWorkerRecords, Act::ApproveClaim]
        );
    }

    #[test]
    fn the_worker_reads_its_own_records_and_files_claims_and_nothing_else() {
        assert_eq!(
            allowed(Role::Worker),
            [Act::ReadWorkerRecords, Act::SubmitClaim]
        );
    }

    #[test]
    fn the_ministry_brings_people_money_and_claims_in_but_decides_nothing() {
        for act in [Act::DecideClaim, Act::PayClaim, Act::ReverseContribution] {
            assert!(!act.allows(Role::Ministry), "{act:?}");
        }
        assert!(Act::RecordContribution.allows(Role::Ministry));
        assert!(Act::SubmitClaim.allows(Role::Ministry));
    }

    #[test]
    fn admin_and_the_ministry_connect_partner_systems_and_auditors_read_the_connections() {
        for act in [
            Act::SubscribeWebhook,
            Act::DeleteWebhook,
            Act::RedeliverWebhook,
        ] {
            assert_eq!(act.roles(), [Role::Admin, Role::Ministry], "{act:?}");
        }
        assert_eq!(
            Act::ReadWebhooks.roles(),
            [Role::Admin, Role::Ministry, Role::Auditor]
        );
    }

    #[test]
    fn audit_action_names_are_unique_and_name_a_record_and_a_verb() {
        let mut names: Vec<&str> = ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for name in names {
            assert!(
                matches!(name.split_once('.'), Some((record, verb)) if !record.is_empty() && !verb.is_empty()),
                "{name}"
            );
        }
        assert_eq!(Act::RecordContributions.name(), "contribution.record_batch");
        assert_eq!(Act::RunPayments.name(), "claim.payment_run");
    }
}

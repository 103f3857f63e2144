//! Claim assessment (RULES.md, "Assessment"): pure functions over loaded data.
//! Every check runs and is reported with its stable reason code; the payable
//! amount is the amount rule's result reduced by what the caps leave.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::status::ClaimStatus;
use crate::money::{from_minor, round_to_minor, to_minor, Currency};
use crate::rules::document::{
    AmountRule, BenefitRules, FilingWindowFrom, Phase, Relationship, RuleDocument, Track,
};
use crate::rules::evaluate::{active_on, version_in_force, Period};

/// Declares the reason codes once: each a constant the assessment reports and
/// a variant of [`ReasonCode`], the closed set the API documents.
macro_rules! reason_codes {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        /// Reason codes.
        pub mod reason {
            $($(#[$doc])* pub const $name: &str = stringify!($name);)*
        }

        /// The reason code of a failed check (RULES.md, "Assessment").
        #[derive(ToSchema)]
        #[allow(
            non_camel_case_types,
            dead_code,
            reason = "documents the codes of `reason` as the API names them; never built"
        )]
        pub enum ReasonCode {
            $($(#[$doc])* $name,)*
        }
    };
}

reason_codes! {
    NO_RULES_IN_FORCE;
    BENEFIT_NOT_COVERED;
    FILING_WINDOW_EXPIRED;
    MEMBERSHIP_INACTIVE;
    WAITING_PERIOD_NOT_MET;
    INCIDENT_PHASE_NOT_COVERED;
    COVERAGE_TAIL_EXPIRED;
    CLAIMANT_NOT_ELIGIBLE;
    HIGHER_PRIORITY_CLAIMANT;
    DUPLICATE_EVENT;
    MAX_CLAIMS_REACHED;
    PER_FAMILY_LIMIT_REACHED;
    MISSING_DOCUMENTS;
    ANNUAL_CAP_REACHED;
    LIFETIME_CAP_REACHED;
    /// A reimbursement needs the documented expense (`claimed_amount`).
    CLAIMED_AMOUNT_REQUIRED;
    /// A schedule benefit needs one of its grades.
    GRADE_REQUIRED;
    /// Another claim for the same incident, open or awarded, is of a benefit
    /// this one excludes (`excludes`): a death is natural or accidental, not both.
    EXCLUDED_BY_OTHER_BENEFIT;
    /// A beneficiary is not in the class of heirs that takes (or not registered).
    BENEFICIARY_NOT_ENTITLED;
    /// A beneficiary (or the guardian named for one) has died.
    BENEFICIARY_DECEASED;
    /// A minor beneficiary has no guardian to receive for them (or the one named can't).
    GUARDIAN_REQUIRED;
    /// The beneficiaries' shares do not add up to exactly 1.
    SHARES_DO_NOT_ADD_UP;
    /// Nobody qualifies: no living heir of any class, and the estate may not take.
    NO_BENEFICIARY;
    /// An instalment benefit stops at an age the claimant had reached on the incident date.
    AGE_LIMIT_REACHED;
}

/// Rule versions by start date, with their labels.
pub type Versions = Vec<(NaiveDate, (String, RuleDocument))>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    pub relationship: Relationship,
    /// The dependant claiming (absent when the worker claims).
    pub dependant_id: Option<String>,
}

/// What the claim says.
#[derive(Debug, Clone)]
pub struct ClaimFacts {
    pub benefit: String,
    pub incident_date: NaiveDate,
    pub incident_phase: Phase,
    pub filed_on: NaiveDate,
    pub claimant: Claimant,
    pub claimed_amount_minor: Option<i64>,
    pub grade: Option<String>,
    pub documents: BTreeSet<String>,
    /// Who the claim pays, when the benefit has `beneficiaries`.
    pub payees: Vec<super::payees::PayeeFacts>,
}

#[derive(Debug, Clone)]
pub struct DependantFacts {
    pub id: String,
    pub relationship: Relationship,
    pub deceased: bool,
    /// The worker's nominee.
    pub nominee: bool,
    pub date_of_birth: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct ContractFacts {
    pub start_date: NaiveDate,
    pub returned_on: Option<NaiveDate>,
    /// Its early termination, else its end date.
    pub last_day: NaiveDate,
}

/// What is known of the worker.
#[derive(Debug, Clone, Default)]
pub struct WorkerFacts {
    pub dependants: Vec<DependantFacts>,
    pub contracts: Vec<ContractFacts>,
    pub coverage: Vec<Period>,
}

/// Another claim of the same worker.
#[derive(Debug, Clone)]
pub struct OtherClaim {
    pub benefit: String,
    pub incident_date: NaiveDate,
    pub claimant: Claimant,
    pub status: ClaimStatus,
    /// The decided award, counted against caps when the status is an award.
    pub awarded_minor: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Eligible,
    PartiallyEligible,
    Ineligible,
    PendingDocuments,
}

/// One check and how it came out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CheckResult {
    /// `rules_in_force`, `benefit_covered`, `filing_window`, `active_membership`,
    /// `waiting_period`, `incident_phase`, `claimant_eligible`, `claimant_priority`,
    /// `duplicate_event`, `excluded_benefits` (only for a benefit that excludes or is
    /// excluded by another), `max_claims`, `per_family_limit`, `documents`, `amount`, `caps`,
    /// `beneficiaries` (only for a benefit whose heirs share it).
    pub check: &'static str,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub rule_version: Option<String>,
    pub track: Option<Track>,
    pub outcome: Outcome,
    /// The amount rule's result before caps.
    pub amount_minor: i64,
    /// What may be awarded: the amount reduced by the caps; zero when ineligible.
    pub payable_minor: i64,
    pub checks: Vec<CheckResult>,
    /// The reason codes of the failed checks.
    pub reasons: Vec<&'static str>,
    pub missing_documents: Vec<String>,
}

struct Checks(Vec<CheckResult>);

impl Checks {
    fn add(&mut self, check: &'static str, failure: Option<(&'static str, String)>) {
        self.0.push(match failure {
            None => CheckResult {
                check,
                passed: true,
                reason: None,
                detail: None,
            },
            Some((reason, detail)) => CheckResult {
                check,
                passed: false,
                reason: Some(reason),
                detail: Some(detail),
            },
        });
    }
}

fn ineligible(version: Option<String>, checks: Checks) -> Assessment {
    let reasons = checks.0.iter().filter_map(|c| c.reason).collect();
    Assessment {
        rule_version: version,
        track: None,
        outcome: Outcome::Ineligible,
        amount_minor: 0,
        payable_minor: 0,
        checks: checks.0,
        reasons,
        missing_documents: Vec::new(),
    }
}

/// The amount rule's result for this claim, or the reason it can't be worked out.
pub fn benefit_amount(
    rule: &AmountRule,
    currency: Currency,
    claim: &ClaimFacts,
) -> Result<i64, (&'static str, String)> {
    let minor = |d: Decimal| round_to_minor(d, currency).expect("validated amounts fit");
    match rule {
        AmountRule::Fixed { value } => {
            Ok(to_minor(value.0, currency).expect("validated amounts fit"))
        }
        AmountRule::Reimbursement { rate, cap } => {
            let claimed = claim.claimed_amount_minor.ok_or((
                reason::CLAIMED_AMOUNT_REQUIRED,
                "a reimbursement needs the documented expense as claimed_amount".to_string(),
            ))?;
            Ok(minor(from_minor(claimed, currency) * rate.0).min(minor(cap.0)))
        }
        AmountRule::Schedule { maximum, grades } => {
            let grade = claim
                .grade
                .as_ref()
                .and_then(|g| grades.get(g).map(|share| (g, share)));
            match grade {
                Some((_, share)) => Ok(minor(maximum.0 * share.0)),
                None => Err((
                    reason::GRADE_REQUIRED,
                    format!(
                        "name one of the grades {}",
                        grades.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
    }
}

/// Reasons that papers still to come will settle: the documented expense, the grade.
fn awaits_papers(reason: &str) -> bool {
    reason == reason::CLAIMED_AMOUNT_REQUIRED || reason == reason::GRADE_REQUIRED
}

/// Whether `a` and `b` are the same claimant.
fn same_claimant(a: &Claimant, b: &Claimant) -> bool {
    a.relationship == b.relationship && a.dependant_id == b.dependant_id
}

/// A failed check: its reason code and what the officer reads.
type Failure = (&'static str, String);

/// Assesses `claim` under the version in force on its incident date: every
/// check of RULES.md in its order, then the amount, the documents and the caps.
pub fn assess(
    versions: &[(NaiveDate, (String, RuleDocument))],
    currency: Currency,
    claim: &ClaimFacts,
    worker: &WorkerFacts,
    others: &[OtherClaim],
) -> Assessment {
    let mut checks = Checks(Vec::new());
    let Some((version, doc)) = version_in_force(versions, claim.incident_date) else {
        checks.add(
            "rules_in_force",
            Some((
                reason::NO_RULES_IN_FORCE,
                format!("no rule version is in force on {}", claim.incident_date),
            )),
        );
        return ineligible(None, checks);
    };
    checks.add("rules_in_force", None);
    let Some(benefit) = doc.benefits.iter().find(|b| b.code == claim.benefit) else {
        checks.add(
            "benefit_covered",
            Some((
                reason::BENEFIT_NOT_COVERED,
                format!("{version} has no benefit {}", claim.benefit),
            )),
        );
        return ineligible(Some(version.clone()), checks);
    };
    checks.add("benefit_covered", None);
    run_checks(&mut checks, doc, benefit, claim, worker, others);

    let amount = benefit_amount(&benefit.amount, currency, claim);
    checks.add("amount", amount.as_ref().err().cloned());
    let documents_missing = missing_documents(benefit, claim);
    checks.add(
        "documents",
        (!documents_missing.is_empty()).then(|| {
            (
                reason::MISSING_DOCUMENTS,
                format!("missing: {}", documents_missing.join(", ")),
            )
        }),
    );
    let (capped, cap_failure) = caps_leave(doc, benefit, currency, claim, others, &amount);
    checks.add("caps", cap_failure.clone());

    let amount_minor = amount.unwrap_or(0);
    let (outcome, payable_minor) =
        outcome_of(&checks, &documents_missing, capped, cap_failure.is_some());
    debug_assert!(
        (0..=amount_minor).contains(&payable_minor),
        "the caps only ever reduce the amount"
    );
    let reasons = checks.0.iter().filter_map(|c| c.reason).collect();
    Assessment {
        rule_version: Some(version.clone()),
        track: Some(benefit.track),
        outcome,
        amount_minor,
        payable_minor,
        checks: checks.0,
        reasons,
        missing_documents: documents_missing,
    }
}

/// The benefit's required documents that the claim lacks, in the rules' order.
fn missing_documents(benefit: &BenefitRules, claim: &ClaimFacts) -> Vec<String> {
    benefit
        .documents
        .iter()
        .filter(|d| !claim.documents.contains(*d))
        .cloned()
        .collect()
}

/// What the caps leave: of the amount when it is known, else whether they
/// leave anything at all (a claim whose caps leave nothing is ineligible even
/// while its papers are missing).
fn caps_leave(
    doc: &RuleDocument,
    benefit: &BenefitRules,
    currency: Currency,
    claim: &ClaimFacts,
    others: &[OtherClaim],
    amount: &Result<i64, Failure>,
) -> (i64, Option<Failure>) {
    match amount {
        Ok(amount_minor) => apply_caps(doc, benefit, currency, claim, others, *amount_minor),
        Err(_) => match apply_caps(doc, benefit, currency, claim, others, i64::MAX) {
            (0, failure) => (0, failure),
            _ => (0, None),
        },
    }
}

/// The outcome and what is payable, from the checks made. Ineligible wins over
/// pending: documents (and the papers that give the amount: the documented
/// expense, the grade) are asked for only when they are all that is missing.
fn outcome_of(
    checks: &Checks,
    documents_missing: &[String],
    capped: i64,
    caps_reduced: bool,
) -> (Outcome, i64) {
    let caps_leave_nothing = caps_reduced && capped == 0;
    let blocking = caps_leave_nothing
        || checks.0.iter().any(|c| {
            !c.passed
                && !matches!(c.check, "documents" | "caps")
                && !c.reason.is_some_and(awaits_papers)
        });
    let waiting_for_papers = !documents_missing.is_empty()
        || checks.0.iter().any(|c| c.reason.is_some_and(awaits_papers));
    if blocking {
        (Outcome::Ineligible, 0)
    } else if waiting_for_papers {
        (Outcome::PendingDocuments, capped)
    } else if capped == 0 {
        (Outcome::Ineligible, 0)
    } else if caps_reduced {
        (Outcome::PartiallyEligible, capped)
    } else {
        (Outcome::Eligible, capped)
    }
}

/// The checks of RULES.md after the version and the benefit are found, in the
/// table's order; a check that does not apply to this benefit or claimant is
/// not reported.
fn run_checks(
    checks: &mut Checks,
    doc: &RuleDocument,
    benefit: &BenefitRules,
    claim: &ClaimFacts,
    worker: &WorkerFacts,
    others: &[OtherClaim],
) {
    checks.add("filing_window", check_filing_window(benefit, claim, worker));
    if benefit.requires_active_membership {
        checks.add("active_membership", check_active_membership(claim, worker));
    }
    checks.add(
        "waiting_period",
        check_waiting_period(benefit, claim, worker),
    );
    checks.add(
        "incident_phase",
        check_incident_phase(benefit, claim, worker),
    );
    checks.add(
        "claimant_eligible",
        check_claimant_eligible(benefit, &claim.claimant, worker),
    );
    if let Some(rules) = &benefit.beneficiaries {
        // Heirs share: who takes is the beneficiaries' check, not the claimant's rank.
        checks.add(
            "beneficiaries",
            super::payees::check_beneficiaries(rules, claim, worker),
        );
    }
    if claim.claimant.relationship != Relationship::Worker {
        let outranked = match &benefit.beneficiaries {
            Some(rules) => super::payees::check_claimant_rank(rules, claim, worker),
            None => check_claimant_priority(doc, benefit, &claim.claimant, worker),
        };
        checks.add("claimant_priority", outranked);
    }
    checks.add(
        "duplicate_event",
        check_duplicate_event(benefit, claim, others),
    );
    if doc.benefits.iter().any(|b| b.excludes_benefit(benefit)) {
        checks.add(
            "excluded_benefits",
            check_excluded_benefits(doc, benefit, claim, others),
        );
    }

    let awarded: Vec<&OtherClaim> = others
        .iter()
        .filter(|o| o.benefit == benefit.code && o.status.is_award())
        .collect();
    if let Some(max) = benefit.max_claims {
        checks.add("max_claims", check_max_claims(benefit, max, &awarded));
    }
    if let Some(limit) = benefit.per_family_limit {
        checks.add(
            "per_family_limit",
            check_family_limit(limit, &claim.claimant, &awarded),
        );
    }
}

/// Filed within `filing_window_days` of the incident (or of the later of the
/// incident and the contract's end, as `filing_window_from` says).
fn check_filing_window(
    benefit: &BenefitRules,
    claim: &ClaimFacts,
    worker: &WorkerFacts,
) -> Option<Failure> {
    let window_start = match benefit.filing_window_from {
        None | Some(FilingWindowFrom::Incident) => claim.incident_date,
        Some(FilingWindowFrom::LaterOfIncidentAndContractEnd) => claims_contract(worker, claim)
            .map_or(claim.incident_date, |c| c.last_day.max(claim.incident_date)),
    };
    let window_end = window_start + Days::new(benefit.filing_window_days as u64);
    (claim.filed_on > window_end).then(|| {
        (
            reason::FILING_WINDOW_EXPIRED,
            format!(
                "filed on {}, the window closed on {window_end}",
                claim.filed_on
            ),
        )
    })
}

/// The worker was active on the incident date.
fn check_active_membership(claim: &ClaimFacts, worker: &WorkerFacts) -> Option<Failure> {
    active_on(&worker.coverage, claim.incident_date)
        .is_none()
        .then(|| {
            (
                reason::MEMBERSHIP_INACTIVE,
                format!(
                    "the worker was not an active member on {}",
                    claim.incident_date
                ),
            )
        })
}

/// The incident came at least `waiting_days` after the first coverage began.
fn check_waiting_period(
    benefit: &BenefitRules,
    claim: &ClaimFacts,
    worker: &WorkerFacts,
) -> Option<Failure> {
    let first_start = worker.coverage.iter().map(|p| p.start).min();
    match first_start {
        Some(start) => {
            let met_on = start + Days::new(benefit.waiting_days as u64);
            (claim.incident_date < met_on).then(|| {
                (
                    reason::WAITING_PERIOD_NOT_MET,
                    format!(
                        "the {}-day waiting period ran until {met_on}",
                        benefit.waiting_days
                    ),
                )
            })
        }
        None if benefit.waiting_days > 0 => Some((
            reason::WAITING_PERIOD_NOT_MET,
            "the worker has no coverage, so no waiting period has run".to_string(),
        )),
        None => None,
    }
}

/// The incident's phase is covered, and an incident after return falls within
/// `days_after_return`.
fn check_incident_phase(
    benefit: &BenefitRules,
    claim: &ClaimFacts,
    worker: &WorkerFacts,
) -> Option<Failure> {
    if !benefit.covered_phases.contains(&claim.incident_phase) {
        Some((
            reason::INCIDENT_PHASE_NOT_COVERED,
            format!(
                "{:?} incidents are not covered by {}",
                claim.incident_phase, benefit.code
            ),
        ))
    } else if claim.incident_phase == Phase::AfterReturn {
        check_coverage_tail(benefit, claim, worker)
    } else {
        None
    }
}

/// An incident after return: the claim's contract (the latest to start on or
/// before the incident) records a return on or before it, at most
/// `days_after_return` days earlier.
fn check_coverage_tail(
    benefit: &BenefitRules,
    claim: &ClaimFacts,
    worker: &WorkerFacts,
) -> Option<Failure> {
    let contract = claims_contract(worker, claim);
    let days = benefit.days_after_return.unwrap_or(0) as u64;
    match contract.and_then(|c| c.returned_on) {
        Some(returned)
            if returned <= claim.incident_date
                && claim.incident_date <= returned + Days::new(days) =>
        {
            None
        }
        Some(returned) => Some((
            reason::COVERAGE_TAIL_EXPIRED,
            format!("returned on {returned}; coverage after return lasts {days} days"),
        )),
        None => Some((
            reason::COVERAGE_TAIL_EXPIRED,
            "no return is recorded on the worker's contract".to_string(),
        )),
    }
}

/// The claim's contract: the latest to start on or before the incident.
fn claims_contract<'a>(worker: &'a WorkerFacts, claim: &ClaimFacts) -> Option<&'a ContractFacts> {
    worker
        .contracts
        .iter()
        .filter(|c| c.start_date <= claim.incident_date)
        .max_by_key(|c| c.start_date)
}

/// No other claim for the same incident date, open or awarded, whoever claims
/// it, is of a benefit that this one excludes or that excludes it.
fn check_excluded_benefits(
    doc: &RuleDocument,
    benefit: &BenefitRules,
    claim: &ClaimFacts,
    others: &[OtherClaim],
) -> Option<Failure> {
    let excluding = others.iter().find(|o| {
        o.incident_date == claim.incident_date
            && !o.status.is_closed_without_award()
            && (doc.benefits.iter()).any(|b| b.code == o.benefit && b.excludes_benefit(benefit))
    })?;
    Some((
        reason::EXCLUDED_BY_OTHER_BENEFIT,
        format!(
            "a {} claim for {} is open or awarded, and {} excludes it",
            excluding.benefit, claim.incident_date, benefit.code
        ),
    ))
}

/// The claimant's relationship may claim the benefit, and a dependant is
/// registered on the worker with that relationship.
fn check_claimant_eligible(
    benefit: &BenefitRules,
    claimant: &Claimant,
    worker: &WorkerFacts,
) -> Option<Failure> {
    let dependant = claimant
        .dependant_id
        .as_ref()
        .and_then(|id| worker.dependants.iter().find(|d| &d.id == id));
    let nominee_takes = benefit
        .beneficiaries
        .as_ref()
        .is_some_and(super::payees::nominee_may_take);
    let ineligible = if nominee_takes
        && dependant.is_some_and(|d| d.nominee && d.relationship == claimant.relationship)
    {
        // The nominee claims what the rules give the nominee first.
        None
    } else if !benefit.claimants.contains(&claimant.relationship) {
        Some(format!(
            "{} may not claim {}",
            claimant.relationship.as_str(),
            benefit.code
        ))
    } else if claimant.relationship == Relationship::Worker {
        None
    } else {
        match dependant {
            Some(d) if d.relationship == claimant.relationship => None,
            _ => Some(format!(
                "no {} is registered as the worker's dependant",
                claimant.relationship.as_str()
            )),
        }
    };
    ineligible.map(|d| (reason::CLAIMANT_NOT_ELIGIBLE, d))
}

/// No living dependant whose relationship the benefit allows ranks before a
/// dependant claimant in `claimant_order`.
fn check_claimant_priority(
    doc: &RuleDocument,
    benefit: &BenefitRules,
    claimant: &Claimant,
    worker: &WorkerFacts,
) -> Option<Failure> {
    debug_assert_ne!(
        claimant.relationship,
        Relationship::Worker,
        "priority applies only to claims by a dependant"
    );
    let rank = |r: Relationship| {
        doc.claimant_order
            .iter()
            .position(|o| *o == r)
            .unwrap_or(usize::MAX)
    };
    let own = rank(claimant.relationship);
    let higher = worker
        .dependants
        .iter()
        .filter(|d| {
            !d.deceased && benefit.claimants.contains(&d.relationship) && rank(d.relationship) < own
        })
        .min_by_key(|d| rank(d.relationship));
    higher.map(|d| {
        (
            reason::HIGHER_PRIORITY_CLAIMANT,
            format!(
                "a living {} ranks before a {}",
                d.relationship.as_str(),
                claimant.relationship.as_str()
            ),
        )
    })
}

/// No other claim of the same benefit, incident date and claimant is open or
/// approved.
fn check_duplicate_event(
    benefit: &BenefitRules,
    claim: &ClaimFacts,
    others: &[OtherClaim],
) -> Option<Failure> {
    let duplicate = others.iter().any(|o| {
        o.benefit == benefit.code
            && o.incident_date == claim.incident_date
            && same_claimant(&o.claimant, &claim.claimant)
            && !o.status.is_closed_without_award()
    });
    duplicate.then(|| {
        (
            reason::DUPLICATE_EVENT,
            format!(
                "another {} claim for {} is open or decided",
                benefit.code, claim.incident_date
            ),
        )
    })
}

/// Fewer than `max` claims of the benefit awarded (`awarded`: the worker's
/// awards of this benefit).
fn check_max_claims(benefit: &BenefitRules, max: u32, awarded: &[&OtherClaim]) -> Option<Failure> {
    debug_assert!(awarded
        .iter()
        .all(|o| o.benefit == benefit.code && o.status.is_award()));
    (awarded.len() as u32 >= max).then(|| {
        (
            reason::MAX_CLAIMS_REACHED,
            format!(
                "{} of {max} allowed {} claims already awarded",
                awarded.len(),
                benefit.code
            ),
        )
    })
}

/// Fewer than `limit` distinct dependants have been awarded the benefit, unless
/// the claimant is already one of them.
fn check_family_limit(limit: u32, claimant: &Claimant, awarded: &[&OtherClaim]) -> Option<Failure> {
    debug_assert!(awarded.iter().all(|o| o.status.is_award()));
    let family: BTreeSet<&str> = awarded
        .iter()
        .filter_map(|o| o.claimant.dependant_id.as_deref())
        .collect();
    let already = claimant
        .dependant_id
        .as_deref()
        .is_some_and(|d| family.contains(d));
    (!already && family.len() as u32 >= limit).then(|| {
        (
            reason::PER_FAMILY_LIMIT_REACHED,
            format!(
                "{} of {limit} family members have already benefited",
                family.len()
            ),
        )
    })
}

/// Reduces `amount_minor` to what the annual and lifetime caps leave.
fn apply_caps(
    doc: &RuleDocument,
    benefit: &BenefitRules,
    currency: Currency,
    claim: &ClaimFacts,
    others: &[OtherClaim],
    amount_minor: i64,
) -> (i64, Option<(&'static str, String)>) {
    let group = |code: &str| {
        doc.benefits
            .iter()
            .find(|b| b.code == code)
            .and_then(|b| b.cap_group.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let own_group = benefit
        .cap_group
        .clone()
        .unwrap_or_else(|| benefit.code.clone());
    let counted: Vec<&OtherClaim> = others
        .iter()
        .filter(|o| o.status.is_award() && group(&o.benefit) == own_group)
        .collect();
    debug_assert!(amount_minor >= 0, "amounts are never negative");
    debug_assert!(
        counted.iter().all(|o| o.awarded_minor >= 0),
        "awards are never negative"
    );
    let mut payable = amount_minor;
    let mut failure = None;
    if let Some(cap) = &benefit.annual_cap {
        let cap = to_minor(cap.0, currency).expect("validated caps fit");
        let year = claim.incident_date.year();
        let used: i64 = counted
            .iter()
            .filter(|o| o.incident_date.year() == year)
            .map(|o| o.awarded_minor)
            .sum();
        let left = (cap - used).max(0);
        if payable > left {
            payable = left;
            failure = Some((
                reason::ANNUAL_CAP_REACHED,
                format!(
                    "{} of the {year} cap is left",
                    crate::money::format_minor(left, currency)
                ),
            ));
        }
    }
    if let Some(cap) = &benefit.lifetime_cap {
        let cap = to_minor(cap.0, currency).expect("validated caps fit");
        let used: i64 = counted.iter().map(|o| o.awarded_minor).sum();
        let left = (cap - used).max(0);
        if payable > left {
            payable = left;
            failure = Some((
                reason::LIFETIME_CAP_REACHED,
                format!(
                    "{} of the lifetime cap is left",
                    crate::money::format_minor(left, currency)
                ),
            ));
        }
    }
    (payable, failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn versions(code: &str) -> (Versions, Currency) {
        let file = crate::demo::fund_file(code).unwrap();
        let versions = file
            .versions
            .into_iter()
            .map(|v| {
                let doc: RuleDocument = serde_json::from_value(v).unwrap();
                (doc.effective_from, (doc.version.clone(), doc))
            })
            .collect();
        (versions, Currency::parse(&file.fund.currency).unwrap())
    }

    fn family() -> WorkerFacts {
        WorkerFacts {
            dependants: vec![
                DependantFacts {
                    id: "spouse-1".into(),
                    relationship: Relationship::Spouse,
                    deceased: false,
                    nominee: false,
                    date_of_birth: None,
                },
                DependantFacts {
                    id: "parent-1".into(),
                    relationship: Relationship::Parent,
                    deceased: false,
                    nominee: false,
                    date_of_birth: None,
                },
                DependantFacts {
                    id: "child-1".into(),
                    relationship: Relationship::Child,
                    deceased: false,
                    nominee: false,
                    date_of_birth: None,
                },
                DependantFacts {
                    id: "child-2".into(),
                    relationship: Relationship::Child,
                    deceased: false,
                    nominee: false,
                    date_of_birth: None,
                },
                DependantFacts {
                    id: "child-3".into(),
                    relationship: Relationship::Child,
                    deceased: false,
                    nominee: false,
                    date_of_birth: None,
                },
            ],
            contracts: vec![ContractFacts {
                start_date: d("2017-03-15"),
                returned_on: None,
                last_day: d("2030-12-31"),
            }],
            coverage: vec![Period {
                start: d("2017-03-01"),
                end: d("2019-02-28"),
                grace_days: 0,
            }],
        }
    }

    fn claim(
        benefit: &str,
        incident: &str,
        phase: Phase,
        relationship: Relationship,
        dependant: Option<&str>,
        documents: &[&str],
    ) -> ClaimFacts {
        ClaimFacts {
            benefit: benefit.into(),
            incident_date: d(incident),
            incident_phase: phase,
            filed_on: d(incident) + Days::new(10),
            claimant: Claimant {
                relationship,
                dependant_id: dependant.map(str::to_string),
            },
            claimed_amount_minor: None,
            grade: None,
            documents: documents.iter().map(|s| s.to_string()).collect(),
            payees: Vec::new(),
        }
    }

    const DEATH_DOCS: &[&str] = &["DEATH_CERTIFICATE", "PROOF_OF_RELATIONSHIP", "CLAIMANT_ID"];

    fn failed(a: &Assessment) -> Vec<&'static str> {
        a.reasons.clone()
    }

    #[test]
    fn a_spouse_claiming_a_natural_death_abroad_of_an_active_member_is_eligible() {
        let (v, php) = versions("PH-OWWA");
        let a = assess(
            &v,
            php,
            &claim(
                "DEATH_NATURAL",
                "2018-05-10",
                Phase::Abroad,
                Relationship::Spouse,
                Some("spouse-1"),
                DEATH_DOCS,
            ),
            &family(),
            &[],
        );
        assert_eq!(a.outcome, Outcome::Eligible, "{:?}", a.checks);
        assert_eq!(a.payable_minor, 10_000_000);
        assert_eq!(a.rule_version.as_deref(), Some("PH-OWWA-2016"));
        assert!(a.checks.iter().all(|c| c.passed));
    }

    #[test]
    fn a_death_three_days_after_coverage_ended_is_membership_inactive() {
        let (v, php) = versions("PH-OWWA");
        let a = assess(
            &v,
            php,
            &claim(
                "DEATH_NATURAL",
                "2019-03-03",
                Phase::Abroad,
                Relationship::Spouse,
                Some("spouse-1"),
                DEATH_DOCS,
            ),
            &family(),
            &[],
        );
        assert_eq!(a.outcome, Outcome::Ineligible);
        assert_eq!(a.payable_minor, 0);
        assert_eq!(failed(&a), vec![reason::MEMBERSHIP_INACTIVE]);
    }

    #[test]
    fn an_accident_death_without_the_police_report_waits_for_documents() {
        let (v, php) = versions("PH-OWWA");
        let a = assess(
            &v,
            php,
            &claim(
                "DEATH_ACCIDENT",
                "2018-05-10",
                Phase::Abroad,
                Relationship::Spouse,
                Some("spouse-1"),
                DEATH_DOCS,
            ),
            &family(),
            &[],
        );
        assert_eq!(a.outcome, Outcome::PendingDocuments);
        assert_eq!(a.missing_documents, vec!["POLICE_OR_ACCIDENT_REPORT"]);
        assert_eq!(failed(&a), vec![reason::MISSING_DOCUMENTS]);
    }

    #[test]
    fn a_parent_may_not_claim_while_a_spouse_lives_but_may_once_the_spouse_has_died() {
        let (v, php) = versions("PH-OWWA");
        let parent = claim(
            "DEATH_NATURAL",
            "2018-05-10",
            Phase::Abroad,
            Relationship::Parent,
            Some("parent-1"),
            DEATH_DOCS,
        );
        let a = assess(&v, php, &parent, &family(), &[]);
        assert_eq!(failed(&a), vec![reason::HIGHER_PRIORITY_CLAIMANT]);
        let mut widowed = family();
        widowed
            .dependants
            .retain(|d| d.relationship != Relationship::Child);
        widowed.dependants[0].deceased = true;
        assert_eq!(
            assess(&v, php, &parent, &widowed, &[]).outcome,
            Outcome::Eligible
        );
        // A child's scholarship is not blocked by a spouse, who may not claim it.
        let scholarship = claim(
            "SCHOLARSHIP",
            "2018-05-10",
            Phase::Abroad,
            Relationship::Child,
            Some("child-1"),
            &[],
        );
        assert!(!assess(&v, php, &scholarship, &family(), &[])
            .reasons
            .contains(&reason::HIGHER_PRIORITY_CLAIMANT));
    }

    #[test]
    fn nepal_death_benefit_follows_the_version_in_force_on_the_incident_date() {
        let (v, npr) = versions("NP-FEWF");
        let mut worker = family();
        worker.coverage = vec![Period {
            start: d("2016-01-01"),
            end: d("2021-12-31"),
            grace_days: 0,
        }];
        let death = |date: &str, phase: Phase| {
            claim(
                "DEATH",
                date,
                phase,
                Relationship::Spouse,
                Some("spouse-1"),
                &[
                    "DEATH_CERTIFICATE",
                    "PROOF_OF_RELATIONSHIP",
                    "CLAIMANT_ID",
                    "LABOUR_PERMIT",
                ],
            )
        };
        let july = assess(&v, npr, &death("2017-07-20", Phase::Abroad), &worker, &[]);
        let august = assess(&v, npr, &death("2017-08-05", Phase::Abroad), &worker, &[]);
        assert_eq!(
            (july.rule_version.as_deref(), july.amount_minor),
            (Some("NP-FEWF-2008"), 30_000_000)
        );
        assert_eq!(
            (august.rule_version.as_deref(), august.amount_minor),
            (Some("NP-FEWF-2017"), 70_000_000)
        );
        let leave_2019 = assess(
            &v,
            npr,
            &death("2019-06-01", Phase::HomeOnLeave),
            &worker,
            &[],
        );
        assert_eq!(
            failed(&leave_2019).first(),
            Some(&reason::INCIDENT_PHASE_NOT_COVERED)
        );
        let leave_2020 = assess(
            &v,
            npr,
            &death("2020-06-01", Phase::HomeOnLeave),
            &worker,
            &[],
        );
        assert!(!leave_2020
            .reasons
            .contains(&reason::INCIDENT_PHASE_NOT_COVERED));
    }

    #[test]
    fn kenya_waiting_period_and_lifetime_cap() {
        let (v, kes) = versions("KE-MWF");
        let mut worker = family();
        worker.coverage = vec![Period {
            start: d("2026-02-01"),
            end: d("2028-01-31"),
            grace_days: 30,
        }];
        worker.contracts = vec![ContractFacts {
            start_date: d("2026-02-01"),
            returned_on: None,
            last_day: d("2030-12-31"),
        }];
        let early = claim(
            "DEATH_NATURAL",
            "2026-02-20",
            Phase::Abroad,
            Relationship::Spouse,
            Some("spouse-1"),
            DEATH_DOCS,
        );
        assert_eq!(
            failed(&assess(&v, kes, &early, &worker, &[])),
            vec![reason::WAITING_PERIOD_NOT_MET]
        );
        let mut invalidity = claim(
            "INVALIDITY",
            "2026-06-01",
            Phase::Abroad,
            Relationship::Worker,
            None,
            &["MEDICAL_CERTIFICATE"],
        );
        invalidity.grade = Some("2".into());
        let first = assess(&v, kes, &invalidity, &worker, &[]);
        assert_eq!(
            (first.outcome, first.payable_minor),
            (Outcome::Eligible, 30_000_000),
            "{:?}",
            first.checks
        );
        let earlier = OtherClaim {
            benefit: "INVALIDITY".into(),
            incident_date: d("2026-03-01"),
            claimant: Claimant {
                relationship: Relationship::Worker,
                dependant_id: None,
            },
            status: ClaimStatus::Paid,
            awarded_minor: 30_000_000,
        };
        let second = assess(&v, kes, &invalidity, &worker, &[earlier]);
        assert_eq!(second.outcome, Outcome::PartiallyEligible);
        assert_eq!(second.payable_minor, 10_000_000);
        assert_eq!(failed(&second), vec![reason::LIFETIME_CAP_REACHED]);
    }

    #[test]
    fn filing_window_duplicates_and_family_limits_are_checked() {
        let (v, php) = versions("PH-OWWA");
        let mut late = claim(
            "DEATH_NATURAL",
            "2018-05-10",
            Phase::Abroad,
            Relationship::Spouse,
            Some("spouse-1"),
            DEATH_DOCS,
        );
        late.filed_on = d("2019-05-11");
        assert_eq!(
            failed(&assess(&v, php, &late, &family(), &[])),
            vec![reason::FILING_WINDOW_EXPIRED]
        );
        let open = OtherClaim {
            benefit: "DEATH_NATURAL".into(),
            incident_date: d("2018-05-10"),
            claimant: Claimant {
                relationship: Relationship::Spouse,
                dependant_id: Some("spouse-1".into()),
            },
            status: ClaimStatus::Submitted,
            awarded_minor: 0,
        };
        let again = claim(
            "DEATH_NATURAL",
            "2018-05-10",
            Phase::Abroad,
            Relationship::Spouse,
            Some("spouse-1"),
            DEATH_DOCS,
        );
        assert_eq!(
            failed(&assess(
                &v,
                php,
                &again,
                &family(),
                std::slice::from_ref(&open)
            )),
            vec![reason::DUPLICATE_EVENT]
        );
        let withdrawn = OtherClaim {
            status: ClaimStatus::Withdrawn,
            ..open.clone()
        };
        assert_eq!(
            assess(&v, php, &again, &family(), &[withdrawn]).outcome,
            Outcome::Eligible
        );
        let paid = OtherClaim {
            status: ClaimStatus::Paid,
            incident_date: d("2018-01-01"),
            awarded_minor: 10_000_000,
            ..open
        };
        assert_eq!(
            failed(&assess(&v, php, &again, &family(), &[paid])),
            vec![reason::MAX_CLAIMS_REACHED]
        );
        // Philippine scholarship: one family member only; the same child may claim again.
        let scholar = |child: &str| {
            claim(
                "SCHOLARSHIP",
                "2018-06-01",
                Phase::Abroad,
                Relationship::Child,
                Some(child),
                &["SCHOOL_ENROLMENT", "PROOF_OF_RELATIONSHIP"],
            )
        };
        let awarded = OtherClaim {
            benefit: "SCHOLARSHIP".into(),
            incident_date: d("2017-06-01"),
            claimant: Claimant {
                relationship: Relationship::Child,
                dependant_id: Some("child-1".into()),
            },
            status: ClaimStatus::Paid,
            awarded_minor: 6_000_000,
        };
        assert_eq!(
            failed(&assess(
                &v,
                php,
                &scholar("child-2"),
                &family(),
                std::slice::from_ref(&awarded)
            )),
            vec![reason::PER_FAMILY_LIMIT_REACHED]
        );
        assert!(!assess(&v, php, &scholar("child-1"), &family(), &[awarded])
            .reasons
            .contains(&reason::PER_FAMILY_LIMIT_REACHED));
    }

    #[test]
    fn coverage_after_return_lasts_days_after_return() {
        let (v, kes) = versions("KE-MWF");
        let mut worker = family();
        worker.coverage = vec![Period {
            start: d("2026-02-01"),
            end: d("2028-01-31"),
            grace_days: 30,
        }];
        worker.contracts = vec![ContractFacts {
            start_date: d("2026-02-01"),
            returned_on: Some(d("2026-06-30")),
            last_day: d("2030-12-31"),
        }];
        let scholarship = |date: &str| {
            claim(
                "SCHOLARSHIP",
                date,
                Phase::AfterReturn,
                Relationship::Child,
                Some("child-1"),
                &["SCHOOL_ENROLMENT", "PROOF_OF_RELATIONSHIP"],
            )
        };
        assert!(!assess(&v, kes, &scholarship("2027-06-30"), &worker, &[])
            .reasons
            .contains(&reason::COVERAGE_TAIL_EXPIRED));
        assert!(assess(&v, kes, &scholarship("2027-07-01"), &worker, &[])
            .reasons
            .contains(&reason::COVERAGE_TAIL_EXPIRED));
    }

    #[test]
    fn a_reimbursement_waits_for_the_documented_expense_and_is_capped() {
        let (v, kes) = versions("KE-MWF");
        let mut worker = family();
        worker.coverage = vec![Period {
            start: d("2026-01-01"),
            end: d("2028-01-31"),
            grace_days: 30,
        }];
        let mut medical = claim(
            "MEDICAL_ASSISTANCE",
            "2026-06-01",
            Phase::Abroad,
            Relationship::Worker,
            None,
            &["MEDICAL_RECEIPTS"],
        );
        let a = assess(&v, kes, &medical, &worker, &[]);
        assert_eq!(a.outcome, Outcome::PendingDocuments);
        assert!(a.reasons.contains(&reason::CLAIMED_AMOUNT_REQUIRED));
        medical.claimed_amount_minor = Some(20_000_000);
        let a = assess(&v, kes, &medical, &worker, &[]);
        assert_eq!(
            (a.outcome, a.payable_minor),
            (Outcome::Eligible, 10_000_000),
            "{:?}",
            a.checks
        );
    }

    #[test]
    fn ineligible_wins_over_pending_and_a_grade_may_come_later() {
        let (v, kes) = versions("KE-MWF");
        let mut worker = family();
        worker.coverage = vec![Period {
            start: d("2026-02-01"),
            end: d("2028-01-31"),
            grace_days: 30,
        }];
        // No grade yet, certificate attached: only papers are missing.
        let ungraded = claim(
            "INVALIDITY",
            "2026-06-01",
            Phase::Abroad,
            Relationship::Worker,
            None,
            &["MEDICAL_CERTIFICATE"],
        );
        let a = assess(&v, kes, &ungraded, &worker, &[]);
        assert_eq!(a.outcome, Outcome::PendingDocuments);
        assert_eq!(failed(&a), vec![reason::GRADE_REQUIRED]);
        // The lifetime cap is used up: nothing to pay, so no papers are asked for.
        let used = OtherClaim {
            benefit: "INVALIDITY".into(),
            incident_date: d("2026-03-01"),
            claimant: Claimant {
                relationship: Relationship::Worker,
                dependant_id: None,
            },
            status: ClaimStatus::Approved,
            awarded_minor: 40_000_000,
        };
        let bare = claim(
            "INVALIDITY",
            "2026-06-01",
            Phase::Abroad,
            Relationship::Worker,
            None,
            &[],
        );
        let a = assess(&v, kes, &bare, &worker, std::slice::from_ref(&used));
        assert_eq!((a.outcome, a.payable_minor), (Outcome::Ineligible, 0));
        assert!(
            a.reasons.contains(&reason::LIFETIME_CAP_REACHED),
            "{:?}",
            a.reasons
        );
        // An award under review does not count.
        let reviewed = OtherClaim {
            status: ClaimStatus::UnderReview,
            ..used
        };
        assert_eq!(
            assess(&v, kes, &ungraded, &worker, &[reviewed]).outcome,
            Outcome::PendingDocuments
        );
    }

    #[test]
    fn a_death_is_natural_or_accidental_not_both() {
        let (v, php) = versions("PH-OWWA");
        let natural = OtherClaim {
            benefit: "DEATH_NATURAL".into(),
            incident_date: d("2018-05-10"),
            claimant: Claimant {
                relationship: Relationship::Parent,
                dependant_id: Some("parent-1".into()),
            },
            status: ClaimStatus::Submitted,
            awarded_minor: 0,
        };
        let accident = |date: &str| {
            claim(
                "DEATH_ACCIDENT",
                date,
                Phase::Abroad,
                Relationship::Spouse,
                Some("spouse-1"),
                &[
                    "DEATH_CERTIFICATE",
                    "PROOF_OF_RELATIONSHIP",
                    "CLAIMANT_ID",
                    "POLICE_OR_ACCIDENT_REPORT",
                ],
            )
        };
        let same_day = assess(
            &v,
            php,
            &accident("2018-05-10"),
            &family(),
            std::slice::from_ref(&natural),
        );
        assert_eq!(failed(&same_day), vec![reason::EXCLUDED_BY_OTHER_BENEFIT]);
        // Listed on the natural death only, the exclusion holds both ways.
        let accidental = OtherClaim {
            benefit: "DEATH_ACCIDENT".into(),
            ..natural.clone()
        };
        let natural_claim = claim(
            "DEATH_NATURAL",
            "2018-05-10",
            Phase::Abroad,
            Relationship::Spouse,
            Some("spouse-1"),
            DEATH_DOCS,
        );
        assert_eq!(
            failed(&assess(&v, php, &natural_claim, &family(), &[accidental])),
            vec![reason::EXCLUDED_BY_OTHER_BENEFIT]
        );
        let other_day = assess(
            &v,
            php,
            &accident("2018-05-11"),
            &family(),
            std::slice::from_ref(&natural),
        );
        assert_eq!(
            other_day.outcome,
            Outcome::Eligible,
            "{:?}",
            other_day.checks
        );
        let rejected = OtherClaim {
            status: ClaimStatus::Rejected,
            ..natural
        };
        assert_eq!(
            assess(&v, php, &accident("2018-05-10"), &family(), &[rejected]).outcome,
            Outcome::Eligible
        );
    }

    #[test]
    fn a_nepali_filing_window_counts_from_the_later_of_the_incident_and_the_contract_end() {
        let (v, npr) = versions("NP-FEWF");
        let mut worker = family();
        worker.coverage = vec![Period {
            start: d("2020-02-20"),
            end: d("2022-02-28"),
            grace_days: 0,
        }];
        worker.contracts = vec![ContractFacts {
            start_date: d("2020-03-01"),
            returned_on: None,
            last_day: d("2022-02-28"),
        }];
        let mut disability = claim(
            "DISABILITY",
            "2020-06-01",
            Phase::Abroad,
            Relationship::Worker,
            None,
            &["MEDICAL_CERTIFICATE"],
        );
        disability.grade = Some("2".into());
        disability.filed_on = d("2023-02-28");
        assert_eq!(
            assess(&v, npr, &disability, &worker, &[]).outcome,
            Outcome::Eligible
        );
        disability.filed_on = d("2023-03-01");
        assert_eq!(
            failed(&assess(&v, npr, &disability, &worker, &[])),
            vec![reason::FILING_WINDOW_EXPIRED]
        );
        // Under the 2017 version the year counts from the incident alone.
        disability.incident_date = d("2019-06-01");
        disability.filed_on = d("2020-06-02");
        worker.coverage[0].start = d("2019-01-01");
        worker.contracts[0].start_date = d("2019-01-01");
        assert_eq!(
            failed(&assess(&v, npr, &disability, &worker, &[])),
            vec![reason::FILING_WINDOW_EXPIRED]
        );
    }
}

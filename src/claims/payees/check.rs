//! Who may be paid (pure functions over the worker's register): the class of
//! heirs that takes, who is a minor, the beneficiaries a claim pays by default,
//! and what is wrong with the ones it names. The same checks refuse a request
//! (with field pointers) and fail the assessment when the records change under
//! a claim (a nominee registered since it was filed).

use chrono::NaiveDate;

use super::share::{add_up_to_one, Share};
use crate::claims::assess::{reason, ClaimFacts, DependantFacts, WorkerFacts};
use crate::rules::beneficiaries::{BeneficiaryRules, Heir};

/// Who a payee is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// A dependant registered on the worker.
    Dependant(String),
    /// The worker's estate (when no heir qualifies and the rules allow it).
    Estate,
}

impl Recipient {
    /// The dependant paid (`None` for the estate).
    pub fn dependant_id(&self) -> Option<String> {
        match self {
            Recipient::Dependant(id) => Some(id.clone()),
            Recipient::Estate => None,
        }
    }
}

/// Who receives for a minor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guardian {
    /// A living adult dependant registered on the worker.
    Dependant(String),
    /// Someone outside the register, identified by a document.
    Named {
        name: String,
        id_number: String,
        relationship: Option<String>,
    },
}

impl Guardian {
    /// (the identity document of a guardian outside the register, the
    /// registered guardian's dependant id).
    pub fn identity(&self) -> (Option<String>, Option<String>) {
        match self {
            Guardian::Named { id_number, .. } => (Some(id_number.clone()), None),
            Guardian::Dependant(id) => (None, Some(id.clone())),
        }
    }
}

/// One payee as the assessment sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayeeFacts {
    pub recipient: Recipient,
    pub guardian: Option<Guardian>,
    pub share: Share,
}

/// Who takes the benefit on the register as it is.
#[derive(Debug, Clone)]
pub enum Taker<'a> {
    /// The living members of the first class that has any.
    Class(&'a [Heir], Vec<&'a DependantFacts>),
    /// Nobody of any class lives; the rules let the estate take.
    Estate,
    /// Nobody qualifies.
    Nobody,
}

fn is_heir(heir: Heir, d: &DependantFacts) -> bool {
    match heir.relationship() {
        None => d.nominee,
        Some(relationship) => d.relationship == relationship,
    }
}

/// The first class with a living member, else the estate when the rules allow it.
pub fn class_that_takes<'a>(
    rules: &'a BeneficiaryRules,
    dependants: &'a [DependantFacts],
) -> Taker<'a> {
    for class in &rules.classes {
        let members: Vec<&DependantFacts> = dependants
            .iter()
            .filter(|d| !d.deceased && class.iter().any(|h| is_heir(*h, d)))
            .collect();
        if !members.is_empty() {
            return Taker::Class(class, members);
        }
    }
    if rules.estate {
        Taker::Estate
    } else {
        Taker::Nobody
    }
}

/// Whether the rules name a nominee class (a nominee may then claim).
pub fn nominee_may_take(rules: &BeneficiaryRules) -> bool {
    rules.classes.iter().flatten().any(|h| *h == Heir::Nominee)
}

/// A dependant younger than `minor_below_age` on `on` (a dependant without a
/// date of birth is taken to be an adult: the register does not say otherwise).
pub fn is_minor(rules: &BeneficiaryRules, d: &DependantFacts, on: NaiveDate) -> bool {
    match (rules.minor_below_age, d.date_of_birth) {
        (Some(age), Some(born)) => on.years_since(born).unwrap_or(0) < age,
        _ => false,
    }
}

/// The payees when a claim names none: the class that takes, in equal shares,
/// a minor's guardian being the claimant when the claimant is a living adult
/// dependant; or the estate, whole; or nobody.
pub fn default_payees(
    rules: &BeneficiaryRules,
    claim: &ClaimFacts,
    worker: &WorkerFacts,
) -> Vec<PayeeFacts> {
    let claimant = claim
        .claimant
        .dependant_id
        .as_ref()
        .and_then(|id| worker.dependants.iter().find(|d| &d.id == id))
        .filter(|d| !d.deceased && !is_minor(rules, d, claim.incident_date));
    match class_that_takes(rules, &worker.dependants) {
        Taker::Class(_, members) => {
            let share = Share::equal(members.len());
            members
                .iter()
                .map(|d| PayeeFacts {
                    recipient: Recipient::Dependant(d.id.clone()),
                    guardian: claimant
                        .filter(|c| c.id != d.id && is_minor(rules, d, claim.incident_date))
                        .map(|c| Guardian::Dependant(c.id.clone())),
                    share,
                })
                .collect()
        }
        Taker::Estate => vec![PayeeFacts {
            recipient: Recipient::Estate,
            guardian: None,
            share: Share::whole(),
        }],
        Taker::Nobody => Vec::new(),
    }
}

/// One thing wrong with a claim's beneficiaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The beneficiary's line (`None`: the list as a whole).
    pub line: Option<usize>,
    /// The field of the line (or of the list) it is about.
    pub field: &'static str,
    /// The assessment's reason code.
    pub reason: &'static str,
    /// The field error's code.
    pub code: &'static str,
    pub message: String,
}

fn problem(
    line: Option<usize>,
    field: &'static str,
    reason: &'static str,
    code: &'static str,
    message: String,
) -> Problem {
    Problem {
        line,
        field,
        reason,
        code,
        message,
    }
}

/// Who takes, as a refusal says it.
fn describe(taker: &Taker) -> String {
    match taker {
        Taker::Class(class, _) => format!(
            "the class that takes is {}",
            class
                .iter()
                .map(|h| h.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Taker::Estate => "no heir lives: the estate takes".to_string(),
        Taker::Nobody => "no heir lives and the rules do not let the estate take".to_string(),
    }
}

/// Everything wrong with `payees` on the register as it is: each in the class
/// that takes (or the estate when it takes), registered and living; a minor
/// with a guardian who is a living adult; each once; shares adding up to 1.
pub fn problems(
    rules: &BeneficiaryRules,
    incident_date: NaiveDate,
    dependants: &[DependantFacts],
    payees: &[PayeeFacts],
) -> Vec<Problem> {
    if payees.is_empty() {
        return vec![problem(
            None,
            "",
            reason::NO_BENEFICIARY,
            "no_beneficiary",
            describe(&class_that_takes(rules, dependants)),
        )];
    }
    let taker = class_that_takes(rules, dependants);
    let mut found = Vec::new();
    for (i, payee) in payees.iter().enumerate() {
        if payees[..i].iter().any(|p| p.recipient == payee.recipient) {
            let field = match payee.recipient {
                Recipient::Estate => "estate",
                Recipient::Dependant(_) => "dependant_id",
            };
            found.push(problem(
                Some(i),
                field,
                reason::BENEFICIARY_NOT_ENTITLED,
                "duplicate",
                "is named twice".into(),
            ));
            continue;
        }
        found.extend(recipient_problems(
            rules,
            incident_date,
            dependants,
            &taker,
            i,
            payee,
        ));
        found.extend(guardian_problems(
            rules,
            incident_date,
            dependants,
            i,
            payee,
        ));
    }
    let shares: Vec<Share> = payees.iter().map(|p| p.share).collect();
    if !add_up_to_one(&shares) {
        found.push(problem(
            None,
            "share",
            reason::SHARES_DO_NOT_ADD_UP,
            "not_one",
            "the shares must add up to exactly 1".into(),
        ));
    }
    found
}

fn recipient_problems(
    rules: &BeneficiaryRules,
    incident_date: NaiveDate,
    dependants: &[DependantFacts],
    taker: &Taker,
    i: usize,
    payee: &PayeeFacts,
) -> Option<Problem> {
    let line = Some(i);
    let id = match &payee.recipient {
        Recipient::Estate => {
            return (!matches!(taker, Taker::Estate)).then(|| {
                problem(
                    line,
                    "estate",
                    reason::BENEFICIARY_NOT_ENTITLED,
                    "not_entitled",
                    describe(taker),
                )
            })
        }
        Recipient::Dependant(id) => id,
    };
    let field = "dependant_id";
    let Some(d) = dependants.iter().find(|d| &d.id == id) else {
        return Some(problem(
            line,
            field,
            reason::BENEFICIARY_NOT_ENTITLED,
            "unknown_dependant",
            "is not a dependant registered on the worker".into(),
        ));
    };
    let in_class =
        matches!(taker, Taker::Class(_, members) if members.iter().any(|m| m.id == d.id));
    if d.deceased {
        Some(problem(
            line,
            field,
            reason::BENEFICIARY_DECEASED,
            "deceased",
            "the dependant has died".into(),
        ))
    } else if !in_class {
        Some(problem(
            line,
            field,
            reason::BENEFICIARY_NOT_ENTITLED,
            "not_entitled",
            format!(
                "a {} does not take: {}",
                d.relationship.as_str(),
                describe(taker)
            ),
        ))
    } else if payee.guardian.is_none() && is_minor(rules, d, incident_date) {
        Some(problem(
            line,
            "guardian",
            reason::GUARDIAN_REQUIRED,
            "required",
            format!("a minor on {incident_date}: name the guardian who receives"),
        ))
    } else {
        None
    }
}

fn guardian_problems(
    rules: &BeneficiaryRules,
    incident_date: NaiveDate,
    dependants: &[DependantFacts],
    i: usize,
    payee: &PayeeFacts,
) -> Option<Problem> {
    let Some(Guardian::Dependant(id)) = &payee.guardian else {
        return None;
    };
    let line = Some(i);
    let field = "guardian_dependant_id";
    let refuse =
        |reason, code, message: &str| Some(problem(line, field, reason, code, message.to_string()));
    match dependants.iter().find(|d| &d.id == id) {
        None => refuse(
            reason::GUARDIAN_REQUIRED,
            "unknown_dependant",
            "is not a dependant registered on the worker",
        ),
        Some(_) if payee.recipient == Recipient::Dependant(id.clone()) => refuse(
            reason::GUARDIAN_REQUIRED,
            "self",
            "a minor cannot be their own guardian",
        ),
        Some(g) if g.deceased => refuse(
            reason::BENEFICIARY_DECEASED,
            "deceased",
            "the guardian has died",
        ),
        Some(g) if is_minor(rules, g, incident_date) => {
            refuse(reason::GUARDIAN_REQUIRED, "minor", "a guardian is an adult")
        }
        Some(_) => None,
    }
}

/// The claim's payees, or those it pays by default when it names none.
fn payees_or_default(
    rules: &BeneficiaryRules,
    claim: &ClaimFacts,
    worker: &WorkerFacts,
) -> Vec<PayeeFacts> {
    if claim.payees.is_empty() {
        default_payees(rules, claim, worker)
    } else {
        claim.payees.clone()
    }
}

/// The assessment's `beneficiaries` check: the claim's payees (or, when it
/// names none, those it would pay by default) have no problem.
pub fn check_beneficiaries(
    rules: &BeneficiaryRules,
    claim: &ClaimFacts,
    worker: &WorkerFacts,
) -> Option<(&'static str, String)> {
    let payees = payees_or_default(rules, claim, worker);
    let found = problems(rules, claim.incident_date, &worker.dependants, &payees);
    let first = found.first()?;
    let detail = found
        .iter()
        .map(|p| match p.line {
            Some(line) => format!("beneficiary {line}: {}", p.message),
            None => p.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    Some((first.reason, detail))
}

/// The assessment's `claimant_priority` check for a benefit with
/// `beneficiaries`: a dependant claims for the class that takes when they are
/// in it or receive for a minor of it; a lower class is outranked.
pub fn check_claimant_rank(
    rules: &BeneficiaryRules,
    claim: &ClaimFacts,
    worker: &WorkerFacts,
) -> Option<(&'static str, String)> {
    let id = claim.claimant.dependant_id.as_ref()?;
    let Taker::Class(class, members) = class_that_takes(rules, &worker.dependants) else {
        return None;
    };
    let guardian = Guardian::Dependant(id.clone());
    let receives_for_a_minor = payees_or_default(rules, claim, worker)
        .iter()
        .any(|p| p.guardian.as_ref() == Some(&guardian));
    if members.iter().any(|m| &m.id == id) || receives_for_a_minor {
        return None;
    }
    Some((
        reason::HIGHER_PRIORITY_CLAIMANT,
        format!(
            "a living {} takes before a {}",
            class
                .iter()
                .map(|h| h.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            claim.claimant.relationship.as_str()
        ),
    ))
}

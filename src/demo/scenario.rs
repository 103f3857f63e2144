//! Chooses the demo's claims. For each status a claim should end in (its
//! goal), a benefit of the fund's rules, a worker who has not claimed yet, the
//! claimant the rules let claim, and an incident the rules cover (for a
//! rejection, one they don't: membership lapsed, or the claim filed too late).
//! Pure: it reads the plans of the enrolled workers, writes nothing.
//!
//! A death is the worker's last event: it happens on the last contract, after
//! the last contribution, and ends the contract early.

use chrono::NaiveDate;
use fastrand::Rng;

pub use super::goal::Goal;
use super::incident;
use super::plan::weighted;
use super::record::Enrolled;
use super::Calendar;
use crate::claims::assess::{benefit_amount, ClaimFacts, Claimant, Versions};
use crate::claims::{expense_account, NewClaim};
use crate::ledger::account_code;
use crate::money::{from_minor, round_to_minor, to_minor, Currency};
use crate::rules::document::{AmountRule, BenefitRules, Relationship, RuleDocument, Track};
use crate::rules::evaluate::version_in_force;

/// One claim to submit and how far to take it.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Index into the enrolled workers.
    pub worker: usize,
    pub goal: Goal,
    pub claim: NewClaim,
    /// The contract the worker's death ends (its index), for death claims.
    pub death_ends_contract: Option<usize>,
    /// Documented expenses of riders paid as reimbursements, by benefit.
    pub rider_expenses: Vec<(String, i64)>,
    /// A document sent after the claim (which waits for it meanwhile).
    pub late_document: Option<(String, String)>,
}

/// Share of awarded claims (percent) first filed without one of their documents.
const LATE_DOCUMENT_PERCENT: u32 = 25;

/// One claim for every twenty workers, and at least one of each goal.
const WORKERS_PER_CLAIM: usize = 20;
/// Workers looked at for one benefit before trying another.
const WORKERS_TRIED: usize = 400;

fn is_death(code: &str) -> bool {
    expense_account(code) == account_code::BENEFIT_EXPENSE_DEATH
}

/// How common a kind of claim is, by its expense account.
fn frequency(code: &str, track: Track) -> u32 {
    if track == Track::Discretionary {
        return 2;
    }
    match expense_account(code) {
        account_code::BENEFIT_EXPENSE_DEATH => 1,
        account_code::BENEFIT_EXPENSE_DISABILITY => 2,
        account_code::BENEFIT_EXPENSE_EDUCATION_AND_LIVELIHOOD => 3,
        _ => 3,
    }
}

/// Chooses the claims of one fund.
pub struct Chooser<'a> {
    pub versions: &'a Versions,
    pub currency: Currency,
    pub calendar: &'a Calendar,
    pub enrolled: &'a [Enrolled],
    /// What the fund can pay out (fund currency, minor units), for paid goals.
    pub budget_minor: i64,
}

impl Chooser<'_> {
    /// The goals for a fund of this many workers, each of them once first.
    pub fn goals(rng: &mut Rng, workers: usize) -> Vec<Goal> {
        let count = (workers / WORKERS_PER_CLAIM).max(Goal::ALL.len());
        let mut goals = Goal::ALL.to_vec();
        while goals.len() < count {
            goals.push(weighted(rng, Goal::MIX));
        }
        goals
    }

    pub fn choose(mut self, rng: &mut Rng, goals: &[Goal]) -> Vec<Scenario> {
        let mut used: Vec<bool> = self
            .enrolled
            .iter()
            .map(|e| !e.reversed.is_empty())
            .collect();
        let mut scenarios = Vec::new();
        for goal in goals {
            let mut benefits = self.benefits(*goal);
            'benefits: while !benefits.is_empty() {
                let pick = weighted_index(rng, &benefits);
                let (code, _) = benefits.swap_remove(pick);
                let mut order: Vec<usize> =
                    (0..self.enrolled.len()).filter(|w| !used[*w]).collect();
                rng.shuffle(&mut order);
                for w in order.into_iter().take(WORKERS_TRIED) {
                    if let Some((scenario, cost)) = self.scenario(rng, w, &code, *goal) {
                        if goal.is_paid() {
                            self.budget_minor -= cost;
                        }
                        used[w] = true;
                        scenarios.push(scenario);
                        break 'benefits;
                    }
                }
            }
        }
        scenarios
    }

    /// The benefits a worker may claim on their own (not only as riders),
    /// that can end as `goal`, with how common they are.
    fn benefits(&self, goal: Goal) -> Vec<(String, u32)> {
        let mut out: Vec<(String, u32)> = Vec::new();
        for (_, (_, doc)) in self.versions {
            for b in &doc.benefits {
                let rider = doc.benefits.iter().any(|m| m.riders.contains(&b.code));
                if rider || out.iter().any(|(c, _)| *c == b.code) {
                    continue;
                }
                let threshold = to_minor(doc.approval.second_approval_above.0, self.currency)
                    .unwrap_or(i64::MAX);
                let fits = match goal {
                    Goal::AwaitingCommittee => b.track == Track::Discretionary,
                    Goal::AwaitingSecondApproval => {
                        b.track == Track::Entitlement
                            && largest_amount(b, self.currency) > threshold
                    }
                    Goal::PendingDocuments => {
                        !b.documents.is_empty()
                            || matches!(b.amount, AmountRule::Reimbursement { .. })
                    }
                    Goal::Paid | Goal::PartiallyPaid => {
                        smallest_amount(b, self.currency) <= self.budget_minor
                    }
                    _ => true,
                };
                if fits {
                    out.push((b.code.clone(), frequency(&b.code, b.track)));
                }
            }
        }
        out
    }

    /// A claim of `code` for worker `w` that can end as `goal`, with what it would
    /// pay (riders included), if the worker's history allows one.
    fn scenario(&self, rng: &mut Rng, w: usize, code: &str, goal: Goal) -> Option<(Scenario, i64)> {
        let e = &self.enrolled[w];
        let today = self.calendar.today;
        let offered: Vec<&(NaiveDate, (String, RuleDocument))> = self
            .versions
            .iter()
            .filter(|(_, (_, d))| d.benefits.iter().any(|b| b.code == code))
            .collect();
        let first_offered = offered.iter().map(|(from, _)| *from).min()?;
        let (_, (_, latest)) = offered.iter().max_by_key(|(from, _)| *from)?;
        let benefit = latest.benefits.iter().find(|b| b.code == code)?;
        let death = is_death(code);
        let claimant = self.claimant(rng, e, latest, benefit, death)?;
        let incident = incident::choose(
            rng,
            &e.plan,
            &e.reversed,
            benefit,
            first_offered,
            death,
            goal,
            today,
        )?;
        // The rules in force on the incident date judge the claim.
        let (_, doc) = version_in_force(self.versions, incident.date)?;
        let rules = doc.benefits.iter().find(|b| b.code == code)?;
        if !rules.covered_phases.contains(&incident.phase) {
            return None;
        }
        let place = incident::destination_on(&e.plan, incident.date);
        let mut claim = NewClaim {
            benefit: code.to_string(),
            incident_date: incident.date,
            incident_phase: incident.phase,
            filed_on: incident.filed_on,
            claimant,
            claimed_amount_minor: None,
            grade: None,
            documents: Vec::new(),
            description: Some(incident::description(code, incident.phase, &place)),
            beneficiaries: None,
            rider_claimants: Vec::new(),
        };
        let threshold = to_minor(doc.approval.second_approval_above.0, self.currency).ok()?;
        let budget = if goal.is_paid() {
            self.budget_minor
        } else {
            i64::MAX
        };
        self.amount(rng, rules, goal, threshold, budget, &mut claim)?;
        let late_document = papers(rng, doc, rules, goal, &mut claim)?;
        let (cost, rider_expenses) = self.cost(rng, doc, rules, &claim)?;
        if cost > budget || (goal == Goal::AwaitingSecondApproval && cost <= threshold) {
            return None;
        }
        let last = e.plan.contracts.len() - 1;
        let death_ends_contract = (death && e.plan.contracts[last].ongoing(today)).then_some(last);
        Some((
            Scenario {
                worker: w,
                goal,
                claim,
                death_ends_contract,
                rider_expenses,
                late_document,
            },
            cost,
        ))
    }

    /// What the claim would pay, with its riders (whose documented expenses,
    /// for those that reimburse one, are chosen here).
    fn cost(
        &self,
        rng: &mut Rng,
        doc: &RuleDocument,
        rules: &BenefitRules,
        claim: &NewClaim,
    ) -> Option<(i64, Vec<(String, i64)>)> {
        let facts = ClaimFacts {
            benefit: claim.benefit.clone(),
            incident_date: claim.incident_date,
            incident_phase: claim.incident_phase,
            filed_on: claim.filed_on,
            claimant: claim.claimant.clone(),
            claimed_amount_minor: claim.claimed_amount_minor,
            grade: claim.grade.clone(),
            documents: Default::default(),
            payees: Vec::new(),
        };
        let mut cost = benefit_amount(&rules.amount, self.currency, &facts).unwrap_or(0);
        let mut rider_expenses = Vec::new();
        for rider in doc
            .benefits
            .iter()
            .filter(|r| rules.riders.contains(&r.code))
        {
            match &rider.amount {
                AmountRule::Reimbursement { rate, cap } => {
                    let cap = from_minor(to_minor(cap.0, self.currency).ok()?, self.currency);
                    let expense = share_of(cap / rate.0, rng.i64(30..=90), self.currency);
                    let award = from_minor(expense, self.currency) * rate.0;
                    cost += round_to_minor(award, self.currency).ok()?;
                    rider_expenses.push((rider.code.clone(), expense));
                }
                _ if rider.claimants.contains(&claim.claimant.relationship) => {
                    cost += largest_amount(rider, self.currency);
                }
                _ => {}
            }
        }
        Some((cost, rider_expenses))
    }

    /// The worker, or for a death (or a benefit only dependants may claim) the
    /// living dependant who ranks first among those the benefit allows.
    fn claimant(
        &self,
        rng: &mut Rng,
        e: &Enrolled,
        doc: &RuleDocument,
        benefit: &BenefitRules,
        death: bool,
    ) -> Option<Claimant> {
        if !death && benefit.claimants.contains(&Relationship::Worker) {
            return Some(Claimant {
                relationship: Relationship::Worker,
                dependant_id: None,
            });
        }
        let dependants = &e.plan.worker.dependants;
        let relationship = doc.claimant_order.iter().copied().find(|r| {
            benefit.claimants.contains(r)
                && dependants
                    .iter()
                    .any(|d| d.relationship == *r && !d.deceased)
        })?;
        let candidates: Vec<usize> = (0..dependants.len())
            .filter(|i| dependants[*i].relationship == relationship && !dependants[*i].deceased)
            .collect();
        let chosen = candidates[rng.usize(0..candidates.len())];
        Some(Claimant {
            relationship,
            dependant_id: Some(e.dependant_ids[chosen].clone()),
        })
    }

    /// Sets the grade or the documented expense the benefit's amount needs.
    fn amount(
        &self,
        rng: &mut Rng,
        rules: &BenefitRules,
        goal: Goal,
        threshold: i64,
        budget: i64,
        claim: &mut NewClaim,
    ) -> Option<()> {
        match &rules.amount {
            AmountRule::Fixed { .. } => Some(()),
            AmountRule::Schedule { maximum, grades } => {
                let affordable: Vec<(&String, i64)> = grades
                    .iter()
                    .map(|(g, share)| {
                        let amount =
                            round_to_minor(maximum.0 * share.0, self.currency).unwrap_or(i64::MAX);
                        (g, amount)
                    })
                    .filter(|(_, amount)| *amount <= budget)
                    .collect();
                let grade = if goal == Goal::AwaitingSecondApproval {
                    affordable
                        .iter()
                        .filter(|(_, a)| *a > threshold)
                        .map(|(g, _)| *g)
                        .next()?
                } else {
                    // Milder grades are the more common: the last grades have the smaller shares.
                    let n = affordable.len();
                    if n == 0 {
                        return None;
                    }
                    let roll = rng.usize(0..n * (n + 1) / 2);
                    let mut index = 0;
                    let mut seen = 0;
                    for i in 0..n {
                        seen += i + 1;
                        if roll < seen {
                            index = i;
                            break;
                        }
                    }
                    affordable[index].0
                };
                claim.grade = Some(grade.clone());
                Some(())
            }
            AmountRule::Reimbursement { rate, cap } => {
                let cap = from_minor(to_minor(cap.0, self.currency).ok()?, self.currency);
                let mut expense = share_of(cap / rate.0, rng.i64(20..=110), self.currency);
                let affordable = from_minor(budget.min(i64::MAX / 2), self.currency) / rate.0;
                if from_minor(expense, self.currency) > affordable {
                    expense = share_of(affordable, 90, self.currency);
                }
                if expense <= 0 {
                    return None;
                }
                claim.claimed_amount_minor = Some(expense);
                Some(())
            }
        }
    }
}

/// Attaches the documents the benefit and its riders ask for: all of them, but
/// the last one for a claim meant to wait for documents (or the expense, when
/// there are none to leave out), and sometimes one sent later for an awarded
/// claim. Returns that later document.
fn papers(
    rng: &mut Rng,
    doc: &RuleDocument,
    rules: &BenefitRules,
    goal: Goal,
    claim: &mut NewClaim,
) -> Option<Option<(String, String)>> {
    claim.documents = documents(rng, doc, rules);
    if goal == Goal::PendingDocuments {
        match (rules.documents.last(), &rules.amount) {
            (Some(last), _) => claim.documents.retain(|(t, _)| t != last),
            (None, AmountRule::Reimbursement { .. }) => claim.claimed_amount_minor = None,
            (None, _) => return None,
        }
    }
    if !goal.is_awarded() || rng.u32(0..100) >= LATE_DOCUMENT_PERCENT {
        return Some(None);
    }
    let riders_need = |t: &String| {
        doc.benefits
            .iter()
            .any(|r| rules.riders.contains(&r.code) && r.documents.contains(t))
    };
    let Some(late) = rules.documents.iter().rev().find(|t| !riders_need(t)) else {
        return Some(None);
    };
    let at = claim.documents.iter().position(|(t, _)| t == late)?;
    Some(Some(claim.documents.remove(at)))
}

/// `percent` of `amount`, in whole units of the currency, in minor units.
fn share_of(amount: rust_decimal::Decimal, percent: i64, currency: Currency) -> i64 {
    let whole = (amount * rust_decimal::Decimal::from(percent)
        / rust_decimal::Decimal::ONE_HUNDRED)
        .trunc();
    round_to_minor(whole, currency).unwrap_or(0)
}

fn weighted_index(rng: &mut Rng, items: &[(String, u32)]) -> usize {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.u32(0..total);
    for (i, (_, w)) in items.iter().enumerate() {
        if roll < *w {
            return i;
        }
        roll -= w;
    }
    items.len() - 1
}

/// The largest award the benefit's amount rule allows.
fn largest_amount(b: &BenefitRules, currency: Currency) -> i64 {
    let minor = |d| round_to_minor(d, currency).unwrap_or(i64::MAX);
    match &b.amount {
        AmountRule::Fixed { value } => minor(value.0),
        AmountRule::Reimbursement { cap, .. } => minor(cap.0),
        AmountRule::Schedule { maximum, grades } => grades
            .values()
            .map(|share| minor(maximum.0 * share.0))
            .max()
            .unwrap_or(0),
    }
}

/// The smallest award worth claiming under the benefit's amount rule.
fn smallest_amount(b: &BenefitRules, currency: Currency) -> i64 {
    let minor = |d| round_to_minor(d, currency).unwrap_or(i64::MAX);
    match &b.amount {
        AmountRule::Fixed { value } => minor(value.0),
        AmountRule::Reimbursement { .. } => 10i64.pow(currency.exponent()),
        AmountRule::Schedule { maximum, grades } => grades
            .values()
            .map(|share| minor(maximum.0 * share.0))
            .min()
            .unwrap_or(0),
    }
}

/// Every document the benefit and its riders ask for, with a reference.
fn documents(rng: &mut Rng, doc: &RuleDocument, rules: &BenefitRules) -> Vec<(String, String)> {
    let mut types: Vec<&String> = rules.documents.iter().collect();
    for rider in doc
        .benefits
        .iter()
        .filter(|r| rules.riders.contains(&r.code))
    {
        for t in &rider.documents {
            if !types.contains(&t) {
                types.push(t);
            }
        }
    }
    types
        .into_iter()
        .map(|t| (t.clone(), format!("SCAN-{:07}", rng.u32(0..10_000_000))))
        .collect()
}

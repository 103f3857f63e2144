//! The random steps: each picks its target so that conflicts are likely (the
//! claim in the status the action needs, most of the time; any claim now and
//! then), sends one request, judges the answer against the codes documented for
//! the action, and takes what the service answered into the model. This file
//! chooses the step; `filing.rs` (workers, claims, documents), `deciding.rs`
//! (decisions, approvals, withdrawals, appeals), `paying.rs` (payments and
//! payment runs) and `money.rs` (contributions, reversals, manual cash entries,
//! period closes) perform them.

use chrono::{Datelike, Days, NaiveDate};
use serde_json::Value;

use super::rules::Benefit;
use super::world::Dependant;
use super::Model;

#[derive(Debug, Clone, Copy)]
enum Action {
    Enroll,
    AddDependant,
    Contribute,
    ReverseContribution,
    Claim,
    Documents,
    Decide,
    Approve,
    Pay,
    PaymentRun,
    Withdraw,
    Appeal,
    Deposit,
    CashWithdrawal,
    ReverseDeposit,
    ClosePeriod,
}

const WEIGHTS: [(Action, u32); 16] = [
    (Action::Enroll, 2),
    (Action::AddDependant, 2),
    (Action::Contribute, 10),
    (Action::ReverseContribution, 3),
    (Action::Claim, 11),
    (Action::Documents, 6),
    (Action::Decide, 20),
    (Action::Approve, 9),
    (Action::Pay, 10),
    (Action::PaymentRun, 4),
    (Action::Withdraw, 2),
    (Action::Appeal, 2),
    (Action::Deposit, 4),
    (Action::CashWithdrawal, 4),
    (Action::ReverseDeposit, 1),
    (Action::ClosePeriod, 1),
];

/// Workers per fund: few, so that their claims collide.
const MAX_WORKERS: usize = 6;
/// Every example fund's `claimant_order`.
pub const CLAIMANT_ORDER: [&str; 4] = ["spouse", "child", "parent", "sibling"];
/// Periods are closed only through one of the first few money dates.
pub const CLOSABLE_DATES: usize = 3;

pub fn units(n: i64) -> String {
    format!("{n}.00")
}

pub fn in_set(status: &str, set: &[&str]) -> bool {
    set.contains(&status)
}

impl Model<'_> {
    pub fn setup(&mut self) {
        for f in 0..self.funds.len() {
            let code = self.funds[f].code;
            self.app.load_fund(code);
            self.note(format!("{code} loaded"));
            for _ in 0..2 {
                self.enroll(f);
            }
            for w in self.funds[f].workers.clone() {
                let on = self.funds[f].money_dates[self.rng.usize(..4)];
                self.contribute_for(w, on);
            }
            let first = self.funds[f].money_dates[0];
            let (low, _) = self.funds[f].deposit;
            self.deposit_at(f, first, low);
        }
        self.after_step();
    }

    pub fn random_step(&mut self) {
        let f = self.rng.usize(..self.funds.len());
        if self.funds[f].workers.len() < 2 {
            return self.enroll(f);
        }
        let total: u32 = WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut roll = self.rng.u32(..total);
        let mut action = Action::Claim;
        for (a, w) in WEIGHTS {
            if roll < w {
                action = a;
                break;
            }
            roll -= w;
        }
        match action {
            Action::Enroll if self.funds[f].workers.len() < MAX_WORKERS => self.enroll(f),
            Action::Enroll | Action::AddDependant => self.add_dependant(f),
            Action::Contribute => self.contribute(f),
            Action::ReverseContribution => self.reverse_contribution(f),
            Action::Claim => self.claim(f),
            Action::Documents => self.documents(f),
            Action::Decide => self.decide(f),
            Action::Approve => self.approve(f),
            Action::Pay => self.pay(f),
            Action::PaymentRun => self.payment_run(f),
            Action::Withdraw => self.withdraw(f),
            Action::Appeal => self.appeal(f),
            Action::Deposit => {
                let on = self.money_date(f, true);
                let (low, high) = self.funds[f].deposit;
                let amount = self.rng.i64(low..=high);
                self.deposit_at(f, on, amount)
            }
            Action::CashWithdrawal => self.cash_withdrawal(f),
            Action::ReverseDeposit => self.reverse_deposit(f),
            Action::ClosePeriod => self.close_period(f),
        }
    }

    /// A date for money: mostly one of the fund's few dates, else today (or
    /// tomorrow, when `tomorrow`) or any day between.
    pub fn money_date(&mut self, f: usize, tomorrow: bool) -> NaiveDate {
        let dates = self.funds[f].money_dates.clone();
        let roll = self.rng.f64();
        if roll < 0.6 {
            self.pick(&dates)
        } else if roll < 0.8 {
            self.today
        } else if roll < 0.9 && tomorrow {
            self.tomorrow()
        } else {
            let first = dates[0];
            let span = (self.today - first).num_days().max(1) as u64;
            let d = first + Days::new(self.rng.u64(..span));
            // Day 29 and later never: the oracle's coverage ends need no fallback.
            d.with_day(d.day().min(28)).expect("a date")
        }
    }

    pub fn closed(&self, f: usize, on: NaiveDate) -> bool {
        self.funds[f].closed_through.is_some_and(|c| on <= c)
    }

    pub fn fund_claims(&self, f: usize, statuses: &[&str]) -> Vec<usize> {
        (0..self.claims.len())
            .filter(|&c| self.claims[c].fund == f && in_set(&self.claims[c].status, statuses))
            .collect()
    }

    /// With probability `p` a claim of the fund in one of `statuses` (None when
    /// there is none: the caller does something else), else any claim of the fund.
    pub fn target(&mut self, f: usize, statuses: &[&str], p: f64) -> Option<usize> {
        if self.chance(p) {
            let preferred = self.fund_claims(f, statuses);
            return (!preferred.is_empty()).then(|| self.pick(&preferred));
        }
        let any: Vec<usize> = (0..self.claims.len())
            .filter(|&c| self.claims[c].fund == f)
            .collect();
        (!any.is_empty()).then(|| self.pick(&any))
    }

    pub fn claim_line(&self, ci: usize) -> String {
        let c = &self.claims[ci];
        format!(
            "{} ({} {} {}{} {}{})",
            c.label,
            self.workers[c.worker].label,
            c.benefit,
            c.incident_date,
            c.rider_of
                .map(|m| format!(" rider of {}", self.claims[m].label))
                .unwrap_or_default(),
            c.status,
            c.award.map(|a| format!(" {a}")).unwrap_or_default()
        )
    }

    pub fn pick_worker(&mut self, f: usize) -> usize {
        let ws = self.funds[f].workers.clone();
        self.pick(&ws)
    }
}

/// Whether only the worker may claim the benefit (several incidents make a burst).
pub fn benefit_claimed_by_worker(benefit: Option<&Benefit>) -> bool {
    benefit.is_none_or(|b| b.claimants.iter().all(|c| c == "worker"))
}

/// The last characters of an id, enough to tell dependants apart in the log.
pub fn tail(id: &str) -> &str {
    &id[id.len().saturating_sub(6)..]
}

pub fn dependant_of(v: &Value) -> Dependant {
    Dependant {
        id: v["id"].as_str().unwrap_or_default().to_string(),
        relationship: v["relationship"].as_str().unwrap_or_default().to_string(),
        deceased: v["deceased"] == true,
    }
}

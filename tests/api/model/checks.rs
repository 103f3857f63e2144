//! The oracle's checks after each step and in the full sweeps.
//!
//! Dates swept: cash as of a date is lowest on a day cash went out, so after a
//! step that took cash out on day D the test reads cash as of D and as of every
//! known outflow date after D (exact, and cheap because the run books money on
//! a few dates per fund); after any booking it reads the trial balance as of the
//! entry's date. Every 100 steps and at the end a full sweep reads the trial
//! balance (with its cash lines) as of every date ever booked (plus today and
//! tomorrow), lists every claim afresh, checks every worker's limits, verifies
//! the ledgers and compares benefits payable (2000) with the awards not yet paid.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::actions::tail;
use super::rules::active_on;
use super::world::{amount, PAYABLE};
use super::{short, Model};

/// Statuses that mean the award was (finally) approved or paid.
const APPROVED_OR_PAID: [&str; 3] = ["approved", "partially_approved", "paid"];

impl Model<'_> {
    pub fn after_step(&mut self) {
        let changed = std::mem::take(&mut self.changed);
        self.changed_set.clear();
        let mut workers = BTreeSet::new();
        for (ci, before) in changed {
            self.check_transition(ci, &before);
            workers.insert(self.claims[ci].worker);
        }
        for w in workers {
            self.check_limits(w);
        }
        let touched = std::mem::take(&mut self.touched);
        let mut balances: BTreeSet<(usize, NaiveDate)> = BTreeSet::new();
        let mut cash: BTreeSet<(usize, NaiveDate)> = BTreeSet::new();
        for (f, on, outflow) in touched {
            self.funds[f].touched_dates.insert(on);
            balances.insert((f, on));
            cash.insert((f, on));
            if outflow {
                self.funds[f].outflow_dates.insert(on);
                for later in self.funds[f].outflow_dates.range(on..) {
                    cash.insert((f, *later));
                }
            }
        }
        for (f, on) in balances {
            self.check_trial_balance(f, on);
        }
        for (f, on) in cash {
            self.check_cash(f, on);
        }
    }

    /// A claim that became approved, partially approved or paid: the worker was a
    /// member on the incident date (by the oracle's own coverage), and a payment
    /// is dated between its approval and today.
    fn check_transition(&mut self, ci: usize, before: &str) {
        let c = self.claims[ci].clone();
        if c.status == before {
            return;
        }
        let f = c.fund;
        // From under review straight to paid is a partly paid claim whose rest a
        // rejection stopped: no new award (what was paid was checked when paid).
        let rest_stopped = before == "under_review" && c.status == "paid";
        if APPROVED_OR_PAID.contains(&c.status.as_str()) && !rest_stopped {
            let rules = &self.funds[f].rules;
            match rules.benefit(c.incident_date, &c.benefit) {
                None => self.fail(
                    "award outside the rules",
                    Some(c.id.clone()),
                    format!(
                        "{} became {} but {} is not a benefit on {}",
                        c.label, c.status, c.benefit, c.incident_date
                    ),
                ),
                Some(b) if b.requires_active_membership => {
                    let worker = &self.workers[c.worker];
                    if !active_on(rules, &worker.contributions, c.incident_date, false) {
                        let only_reversed =
                            active_on(rules, &worker.contributions, c.incident_date, true);
                        let paid: Vec<String> = worker
                            .contributions
                            .iter()
                            .map(|p| {
                                format!(
                                    "{}{}",
                                    p.paid_on,
                                    if p.reversed { " (reversed)" } else { "" }
                                )
                            })
                            .collect();
                        let message = format!(
                            "{} ({} of {}, incident {}) became {} from {before} but the worker was not a member on {}: {} (contributions: {paid:?})",
                            c.label,
                            c.benefit,
                            worker.label,
                            c.incident_date,
                            c.status,
                            c.incident_date,
                            if only_reversed {
                                "the membership rests only on reversed contributions"
                            } else {
                                "no contribution covers that day"
                            }
                        );
                        self.fail(
                            "award without membership",
                            Some(format!("{} {}", c.id, c.status)),
                            message,
                        );
                    }
                }
                Some(_) => {}
            }
        }
        if c.status == "paid" {
            match (c.paid_on, c.approved_on()) {
                (Some(paid), Some(approved)) if paid < approved || paid > self.today => self.fail(
                    "payment date accepted",
                    Some(c.id.clone()),
                    format!(
                        "{} paid on {paid}, approved {approved}, today {}",
                        c.label, self.today
                    ),
                ),
                (None, _) | (_, None) => self.fail(
                    "paid without payment",
                    Some(c.id.clone()),
                    format!(
                        "{} is paid without a payment date or approval ({:?}, {:?})",
                        c.label, c.paid_on, c.approved_at
                    ),
                ),
                _ => {}
            }
        }
    }

    /// The worker's awards stay within `max_claims`, `per_family_limit`, and the
    /// lifetime and annual caps (per benefit or cap group; annual per calendar
    /// year of incident), as the rules in force on each incident date set them.
    pub fn check_limits(&mut self, w: usize) {
        let f = self.workers[w].fund;
        let awards: Vec<usize> = self.workers[w]
            .claims
            .iter()
            .copied()
            .filter(|&c| self.claims[c].awarded())
            .collect();
        let mut problems: Vec<(String, String)> = Vec::new();
        {
            let rules = &self.funds[f].rules;
            let claims = &self.claims;
            let describe = |xs: &[usize]| -> String {
                xs.iter()
                    .map(|&x| {
                        let c = &claims[x];
                        format!(
                            "{} {} {} {} {}{}",
                            c.label,
                            c.benefit,
                            c.incident_date,
                            c.status,
                            c.award.unwrap_or_default(),
                            c.dependant_id
                                .as_ref()
                                .map(|d| format!(" for {}", tail(d)))
                                .unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            for &ci in &awards {
                let c = &claims[ci];
                let Some(b) = rules.benefit(c.incident_date, &c.benefit) else {
                    continue;
                };
                let same: Vec<usize> = awards
                    .iter()
                    .copied()
                    .filter(|&x| claims[x].benefit == c.benefit)
                    .collect();
                if let Some(max) = b.max_claims {
                    if same.len() > max {
                        problems.push((
                            format!("max_claims {} {}", self.workers[w].id, b.code),
                            format!(
                                "{} has {} awards of {} (max_claims {max}): {}",
                                self.workers[w].label,
                                same.len(),
                                b.code,
                                describe(&same)
                            ),
                        ));
                    }
                }
                if let Some(limit) = b.per_family_limit {
                    let family: BTreeSet<&String> = same
                        .iter()
                        .filter_map(|&x| claims[x].dependant_id.as_ref())
                        .collect();
                    if family.len() > limit {
                        problems.push((
                            format!("per_family_limit {} {}", self.workers[w].id, b.code),
                            format!(
                                "{} dependants of {} have awards of {} (per_family_limit {limit}): {}",
                                family.len(),
                                self.workers[w].label,
                                b.code,
                                describe(&same)
                            ),
                        ));
                    }
                }
                let group: Vec<usize> = awards
                    .iter()
                    .copied()
                    .filter(|&x| {
                        rules
                            .benefit(claims[x].incident_date, &claims[x].benefit)
                            .is_some_and(|o| o.cap_key() == b.cap_key())
                    })
                    .collect();
                let sum = |xs: &[usize]| -> Decimal {
                    xs.iter()
                        .map(|&x| claims[x].award.unwrap_or_default())
                        .sum()
                };
                if let Some(cap) = b.lifetime_cap {
                    if sum(&group) > cap {
                        problems.push((
                            format!("lifetime_cap {} {}", self.workers[w].id, b.cap_key()),
                            format!(
                                "{}'s awards of {} add up to {} over the lifetime cap {cap}: {}",
                                self.workers[w].label,
                                b.cap_key(),
                                sum(&group),
                                describe(&group)
                            ),
                        ));
                    }
                }
                if let Some(cap) = b.annual_cap {
                    let year = c.incident_date.year();
                    let in_year: Vec<usize> = group
                        .iter()
                        .copied()
                        .filter(|&x| claims[x].incident_date.year() == year)
                        .collect();
                    if sum(&in_year) > cap {
                        problems.push((
                            format!("annual_cap {} {} {year}", self.workers[w].id, b.cap_key()),
                            format!(
                                "{}'s awards of {} for incidents in {year} add up to {} over the annual cap {cap}: {}",
                                self.workers[w].label,
                                b.cap_key(),
                                sum(&in_year),
                                describe(&in_year)
                            ),
                        ));
                    }
                }
            }
        }
        for (key, message) in problems {
            let kind = match key.split(' ').next() {
                Some("max_claims") => "max_claims exceeded",
                Some("per_family_limit") => "per_family_limit exceeded",
                Some("lifetime_cap") => "lifetime cap exceeded",
                _ => "annual cap exceeded",
            };
            self.fail(kind, Some(key), message);
        }
    }

    /// Guarded cash accounts are not below zero as of `on`.
    pub fn check_cash(&mut self, f: usize, on: NaiveDate) {
        let code = self.funds[f].code;
        let res = self.app.get(
            &format!("/v1/funds/{code}/accounts?as_of={on}"),
            &self.tokens.admin,
        );
        if res.status != 200 {
            return self.fail(
                "read",
                None,
                format!(
                    "{code} accounts as of {on}: {} {}",
                    res.status,
                    short(&res.text)
                ),
            );
        }
        for account in self.funds[f].cash_accounts.clone() {
            let balance = res.body["items"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["code"] == account.as_str()))
                .and_then(|a| amount(&a["balance"]));
            match balance {
                Some(b) if b < Decimal::ZERO => self.fail(
                    "cash below zero",
                    Some(format!("{code} {account} {on}")),
                    format!("{code} account {account} is {b} as of {on}"),
                ),
                Some(_) => {}
                None => self.fail(
                    "read",
                    None,
                    format!("{code} has no account {account} as of {on}"),
                ),
            }
        }
    }

    /// The trial balance as of `on` balances in every currency.
    pub fn check_trial_balance(&mut self, f: usize, on: NaiveDate) {
        let code = self.funds[f].code;
        let res = self.app.get(
            &format!("/v1/funds/{code}/reports/trial-balance?as_of={on}"),
            &self.tokens.admin,
        );
        if res.status != 200 {
            return self.fail(
                "read",
                None,
                format!(
                    "{code} trial balance as of {on}: {} {}",
                    res.status,
                    short(&res.text)
                ),
            );
        }
        // The cash lines too: a second reading of cash as of the date.
        for account in self.funds[f].cash_accounts.clone() {
            let balance = res.body["lines"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["account"] == account.as_str()))
                .and_then(|a| amount(&a["balance"]));
            if let Some(b) = balance.filter(|b| *b < Decimal::ZERO) {
                self.fail(
                    "cash below zero",
                    Some(format!("{code} {account} {on}")),
                    format!("{code} account {account} is {b} as of {on} (trial balance)"),
                );
            }
        }
        let totals = res.body["totals"].as_array().cloned().unwrap_or_default();
        for t in totals {
            let same = |a: &str, b: &str| amount(&t[a]).is_some() && amount(&t[a]) == amount(&t[b]);
            if t["balanced"] != true
                || !same("debits", "credits")
                || !same("debit_balances", "credit_balances")
            {
                self.fail(
                    "trial balance",
                    Some(format!("{code} {on} {}", t["currency"])),
                    format!("{code} trial balance as of {on} does not balance: {t}"),
                );
            }
        }
    }

    /// Every claim listed afresh, every worker's limits, every booked date swept,
    /// the ledgers verified, benefits payable compared with the unpaid awards.
    pub fn full_sweep(&mut self) {
        let mut listed = 0;
        for f in 0..self.funds.len() {
            let code = self.funds[f].code;
            let mut after: Option<String> = None;
            loop {
                let path = match &after {
                    Some(a) => format!("/v1/funds/{code}/claims?limit=500&after={a}"),
                    None => format!("/v1/funds/{code}/claims?limit=500"),
                };
                let res = self.app.get(&path, &self.tokens.admin);
                if res.status != 200 {
                    self.fail(
                        "read",
                        None,
                        format!("{path}: {} {}", res.status, short(&res.text)),
                    );
                    break;
                }
                for item in res.body["items"].as_array().cloned().unwrap_or_default() {
                    listed += 1;
                    self.apply_claim(&item);
                }
                match res.body["next"].as_str() {
                    Some(next) => after = Some(next.to_string()),
                    None => break,
                }
            }
        }
        if listed != self.claims.len() {
            self.fail(
                "claims listed",
                Some(format!("{listed} {}", self.claims.len())),
                format!("{listed} claims listed, {} submitted", self.claims.len()),
            );
        }
        // Status changes the step-by-step reads did not see (checked the same way).
        let unnoticed: Vec<String> = self
            .changed
            .iter()
            .filter(|(ci, before)| self.claims[*ci].status != *before)
            .map(|(ci, before)| {
                format!(
                    "{} {before} → {}",
                    self.claims[*ci].label, self.claims[*ci].status
                )
            })
            .collect();
        if !unnoticed.is_empty() {
            self.note(format!(
                "full sweep: status changes seen only now: {unnoticed:?}"
            ));
            *self
                .stats
                .entry("status changes seen only by a full sweep".into())
                .or_default() += unnoticed.len();
        }
        self.after_step();
        for w in 0..self.workers.len() {
            self.check_limits(w);
        }
        for f in 0..self.funds.len() {
            let mut dates: BTreeSet<NaiveDate> =
                self.funds[f].money_dates.iter().copied().collect();
            dates.extend(self.funds[f].touched_dates.iter().copied());
            dates.extend(self.funds[f].outflow_dates.iter().copied());
            dates.insert(self.today);
            dates.insert(self.tomorrow());
            for on in dates {
                self.check_trial_balance(f, on);
            }
            let today = self.today;
            self.check_cash(f, today);
            self.verify(f);
            self.check_benefits_payable(f);
        }
    }

    fn verify(&mut self, f: usize) {
        let code = self.funds[f].code;
        let res = self.app.get(
            &format!("/v1/funds/{code}/ledger/verify"),
            &self.tokens.admin,
        );
        if res.status != 200 || res.body["ok"] != true {
            self.fail(
                "ledger does not verify",
                None,
                format!("{code}: {} {}", res.status, short(&res.text)),
            );
        }
    }

    /// Benefits payable (2000) holds the awards approved and not yet paid: those
    /// approved, partially approved or waiting for funds, and those put under
    /// review after their approval was booked (until re-decided).
    fn check_benefits_payable(&mut self, f: usize) {
        let code = self.funds[f].code;
        let res = self
            .app
            .get(&format!("/v1/funds/{code}/accounts"), &self.tokens.admin);
        let Some(balance) = res.body["items"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["code"] == "2000"))
            .and_then(|a| amount(&a["balance"]))
        else {
            return self.fail(
                "read",
                None,
                format!("{code} account 2000: {} {}", res.status, short(&res.text)),
            );
        };
        let mut by_status: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut expected = Decimal::ZERO;
        for c in self.claims.iter().filter(|c| c.fund == f) {
            let open = PAYABLE.contains(&c.status.as_str())
                || (c.status == "under_review" && c.approval_entry.is_some());
            if open {
                let award = c.award.unwrap_or_default() - c.paid_to_payees;
                expected += award;
                *by_status.entry(c.status.clone()).or_default() += award;
            }
        }
        if balance != expected {
            self.fail(
                "benefits payable",
                Some(format!("{code} {balance} {expected}")),
                format!(
                    "{code} benefits payable (2000) is {balance}, the unpaid awards add up to {expected} ({by_status:?})"
                ),
            );
        }
    }
}

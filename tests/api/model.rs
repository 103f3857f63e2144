//! A model-based property test: long seeded random histories of enrollments,
//! contributions (some back-dated) and their reversals, claims with riders,
//! documents, decisions, second and committee approvals, payments (some dated
//! before their approval or in the future), payment runs, withdrawals, appeals,
//! manual cash entries and period closes on three example funds whose
//! membership is `fixed_months` (Kenya, Indonesia, the Philippines' 2016 rules),
//! driven through the real API. The data make conflicts likely: a few workers
//! per fund, bursts of claims against one limit (every child claiming the same
//! death, several invalidity incidents under one lifetime cap), reversals of a
//! worker's only contribution, cash kept short.
//!
//! After every step an oracle written from `RULES.md` and the README (not from
//! the service's code; membership is computed from the contributions the test
//! recorded) checks that:
//! * no worker's awards exceed a lifetime or annual cap, `max_claims` or
//!   `per_family_limit` (`checks.rs`);
//! * no claim became approved, partially approved or paid while the worker was
//!   not a member on the incident date (when the benefit requires it), and no
//!   payment is dated before its approval, after today or in a closed period;
//! * a direct payment never overtakes a claim waiting for funds, and a payment
//!   run pays the queue in the order claims joined it (`paying.rs`);
//! * cash is never below zero as of any date (see `checks.rs` for which dates
//!   are swept when), and the trial balance balances;
//! * the ledgers verify and benefits payable (2000) holds exactly the awards not
//!   yet paid (every 100 steps, or 20 times in a longer run, and at the end);
//! * no answer is a 5xx, every 4xx is a code documented for that action, and no
//!   action succeeds from a status that does not allow it.
//!
//! Failures are collected and the run goes on (to 200 failures); the report
//! gives the seed, each kind of failure with the steps before its first
//! occurrence, and every failure.
//!
//! `MWF_MODEL_SEED` repeats a run (the seed is printed), `MWF_MODEL_STEPS` sets
//! its length (default 2,000), `MWF_MODEL_LOG` names a file for every step (a
//! failed run writes it to the temporary directory anyway).

mod actions;
mod checks;
mod deciding;
mod filing;
mod money;
mod paying;
mod rules;
mod world;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Instant;

use chrono::{Days, NaiveDate, Utc};
use mwf::auth::Role;

use self::world::{ClaimModel, FundModel, WorkerModel};
use crate::helpers::{spawn, Response, TestApp};

const DEFAULT_STEPS: usize = 2_000;
/// Full sweeps (every claim listed, every date swept, the ledgers verified) this
/// often, or 20 in all in a longer run (a sweep grows with the history).
const SWEEP_EVERY: usize = 100;
/// Steps shown with a failure.
const LOG_TAIL: usize = 20;
/// A run stops early after this many failures.
const MAX_FAILURES: usize = 200;

const OFFICERS: [&str; 2] = ["officer-1", "officer-2"];
const APPROVERS: [&str; 3] = ["approver-1", "approver-2", "approver-3"];

pub struct Failure {
    pub step: usize,
    pub kind: &'static str,
    pub message: String,
    pub log_tail: Vec<String>,
}

pub struct Tokens {
    pub admin: String,
    /// (subject, officer token, admin token of the same subject for self-approval)
    pub officers: Vec<(String, String, String)>,
    /// (subject, approver token)
    pub approvers: Vec<(String, String)>,
}

pub struct Model<'a> {
    pub app: &'a TestApp,
    pub rng: fastrand::Rng,
    pub seed: u64,
    pub step: usize,
    pub today: NaiveDate,
    pub tokens: Tokens,
    pub funds: Vec<FundModel>,
    pub workers: Vec<WorkerModel>,
    pub claims: Vec<ClaimModel>,
    pub claim_index: HashMap<String, usize>,
    pub log: Vec<String>,
    pub failures: Vec<Failure>,
    /// Violations already reported (a cap stays exceeded; report it once).
    pub reported: BTreeSet<String>,
    /// Claims whose status the service answered this step, with their status before.
    pub changed: Vec<(usize, String)>,
    pub changed_set: HashSet<usize>,
    /// Seconds spent in full sweeps.
    pub sweep_seconds: f64,
    /// (fund, effective date, whether cash went out) booked this step.
    pub touched: Vec<(usize, NaiveDate, bool)>,
    /// "action status code" → count, and the final statuses, for the summary.
    pub stats: BTreeMap<String, usize>,
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

impl<'a> Model<'a> {
    fn new(app: &'a TestApp, seed: u64) -> Model<'a> {
        let officer = |s: &str| {
            (
                s.to_string(),
                app.token_for(s, Role::Officer, &["*"]),
                app.token_for(s, Role::Admin, &["*"]),
            )
        };
        let today = today();
        Model {
            app,
            rng: fastrand::Rng::with_seed(seed),
            seed,
            step: 0,
            today,
            tokens: Tokens {
                admin: app.token_for("model-admin", Role::Admin, &["*"]),
                officers: OFFICERS.iter().map(|s| officer(s)).collect(),
                approvers: APPROVERS
                    .iter()
                    .map(|s| (s.to_string(), app.token_for(s, Role::Approver, &["*"])))
                    .collect(),
            },
            funds: FundModel::all(today),
            workers: Vec::new(),
            claims: Vec::new(),
            claim_index: HashMap::new(),
            log: Vec::new(),
            failures: Vec::new(),
            reported: BTreeSet::new(),
            changed: Vec::new(),
            changed_set: HashSet::new(),
            sweep_seconds: 0.0,
            touched: Vec::new(),
            stats: BTreeMap::new(),
        }
    }

    pub fn tomorrow(&self) -> NaiveDate {
        self.today + Days::new(1)
    }

    /// Appends a line to the step log.
    pub fn note(&mut self, line: String) {
        self.log.push(format!("#{} {line}", self.step));
    }

    /// Records a failure of the oracle (once per `key` when one is given).
    pub fn fail(&mut self, kind: &'static str, key: Option<String>, message: String) {
        if let Some(key) = key {
            if !self.reported.insert(format!("{kind} {key}")) {
                return;
            }
        }
        let from = self.log.len().saturating_sub(LOG_TAIL);
        self.log
            .push(format!("#{} !!! {kind}: {message}", self.step));
        self.failures.push(Failure {
            step: self.step,
            kind,
            message,
            log_tail: self.log[from..].to_vec(),
        });
    }

    /// Checks an answer: never a 5xx, a 4xx only with one of `allowed` codes.
    /// Returns whether it succeeded, and a short description for the log.
    pub fn judge(&mut self, action: &str, res: &Response, allowed: &[&str]) -> (bool, String) {
        let code = res.body["code"].as_str().unwrap_or("").to_string();
        let outcome = if res.status < 300 {
            res.body["status"]
                .as_str()
                .map(|s| format!("{} {s}", res.status))
                .unwrap_or_else(|| res.status.to_string())
        } else {
            format!("{} {code}", res.status)
        };
        *self
            .stats
            .entry(format!("{action} → {outcome}"))
            .or_default() += 1;
        if res.status >= 500 {
            self.fail(
                "5xx",
                None,
                format!("{action}: {} {}", res.status, short(&res.text)),
            );
        } else if res.status >= 300 && !allowed.contains(&code.as_str()) {
            self.fail(
                "unexpected 4xx",
                None,
                format!(
                    "{action}: {} {} (allowed here: {allowed:?})",
                    res.status,
                    short(&res.text)
                ),
            );
        } else if res.status >= 300 {
            self.check_problem_extensions(action, res);
        }
        (res.status < 300, outcome)
    }

    /// The extensions the new refusals promise.
    fn check_problem_extensions(&mut self, action: &str, res: &Response) {
        match res.body["code"].as_str() {
            Some("DECISION_EXCEEDS_PAYABLE") if !res.body["payable"].is_string() => self.fail(
                "problem extension",
                None,
                format!(
                    "{action}: DECISION_EXCEEDS_PAYABLE without `payable`: {}",
                    short(&res.text)
                ),
            ),
            Some("CLAIM_NOT_ELIGIBLE")
                if res.body["reasons"]
                    .as_array()
                    .is_none_or(|r| r.is_empty() || r.iter().any(|x| !x.is_string())) =>
            {
                self.fail(
                    "problem extension",
                    None,
                    format!(
                        "{action}: CLAIM_NOT_ELIGIBLE without `reasons`: {}",
                        short(&res.text)
                    ),
                )
            }
            _ => {}
        }
    }

    /// Takes what the service answered about a claim (full or a rider summary).
    pub fn apply_claim(&mut self, body: &serde_json::Value) {
        let Some(id) = body["id"].as_str() else {
            return;
        };
        let Some(&ci) = self.claim_index.get(id) else {
            return;
        };
        let before = self.claims[ci].status.clone();
        self.claims[ci].update(body);
        let claim = &mut self.claims[ci];
        if claim.status != "awaiting_funds" {
            claim.queued_step = None;
        } else if before != "awaiting_funds" {
            claim.queued_step = Some(self.step);
        }
        if self.changed_set.insert(ci) {
            self.changed.push((ci, before));
        }
    }

    /// Reads a claim afresh.
    pub fn refresh_claim(&mut self, ci: usize) {
        let res = self.app.get(
            &format!("/v1/claims/{}", self.claims[ci].id),
            &self.tokens.admin,
        );
        if res.status != 200 {
            self.fail(
                "read",
                None,
                format!(
                    "GET claim {}: {} {}",
                    self.claims[ci].label,
                    res.status,
                    short(&res.text)
                ),
            );
            return;
        }
        self.apply_claim(&res.body);
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.rng.usize(..items.len())].clone()
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.f64() < p
    }

    fn summary(&self) -> String {
        let mut statuses: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for c in &self.claims {
            *statuses
                .entry((self.funds[c.fund].code, c.status.as_str()))
                .or_default() += 1;
        }
        let statuses: Vec<String> = statuses
            .iter()
            .map(|((f, s), n)| format!("{f} {s}: {n}"))
            .collect();
        let answers: Vec<String> = self
            .stats
            .iter()
            .map(|(k, n)| format!("  {k}: {n}"))
            .collect();
        format!(
            "{:.1} s in full sweeps; {} workers, {} claims; final statuses: {}\nanswers:\n{}",
            self.sweep_seconds,
            self.workers.len(),
            self.claims.len(),
            statuses.join(", "),
            answers.join("\n")
        )
    }

    fn report(&self, steps: usize, elapsed: f64) {
        let backend = if self.app.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        eprintln!(
            "model: seed {} ({backend}), {steps} steps in {elapsed:.1} s; {}",
            self.seed,
            self.summary()
        );
        // Every step to MWF_MODEL_LOG, or to a temporary file when the run failed.
        let log_file = match std::env::var_os("MWF_MODEL_LOG") {
            Some(path) => std::path::PathBuf::from(path),
            None if self.failures.is_empty() => return,
            None => std::env::temp_dir().join(format!("mwf-model-{}.log", self.seed)),
        };
        let written = std::fs::write(&log_file, self.log.join("\n") + "\n").is_ok();
        if self.failures.is_empty() {
            return;
        }
        let mut kinds: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for f in &self.failures {
            let e = kinds.entry(f.kind).or_insert((0, f.step));
            e.0 += 1;
        }
        let mut text = format!(
            "model test failed: seed {} (MWF_MODEL_SEED={} MWF_MODEL_STEPS={steps} to repeat), {} failures on {backend}:\n",
            self.seed,
            self.seed,
            self.failures.len()
        );
        if written {
            text += &format!("  (every step: {})\n", log_file.display());
        }
        for (kind, (n, first)) in &kinds {
            text += &format!("  {kind}: {n}, first at step {first}\n");
        }
        let mut shown = BTreeSet::new();
        for f in &self.failures {
            if shown.insert(f.kind) {
                text += &format!(
                    "\n=== first {} at step {}: {}\nlast steps:\n{}\n",
                    f.kind,
                    f.step,
                    f.message,
                    f.log_tail.join("\n")
                );
            }
        }
        text += "\nall failures:\n";
        for f in self.failures.iter().take(100) {
            text += &format!("  #{} {}: {}\n", f.step, f.kind, f.message);
        }
        panic!("{text}");
    }
}

pub fn short(text: &str) -> String {
    if text.len() > 400 {
        let mut end = 400;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &text[..end])
    } else {
        text.to_string()
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}"))
    })
}

#[test]
fn random_histories_keep_awards_within_the_rules_and_cash_above_zero() {
    let seed = env_number("MWF_MODEL_SEED").unwrap_or_else(|| fastrand::u64(..));
    let steps = env_number("MWF_MODEL_STEPS").map_or(DEFAULT_STEPS, |n| n as usize);
    eprintln!("model: seed {seed}, {steps} steps (MWF_MODEL_SEED={seed} repeats this run)");
    let started = Instant::now();
    let app = spawn();
    let mut model = Model::new(&app, seed);
    model.setup();
    let sweep_every = (steps / 20).max(SWEEP_EVERY);
    for step in 1..=steps {
        model.step = step;
        model.today = today();
        model.random_step();
        model.after_step();
        if step % sweep_every == 0 {
            let sweep = Instant::now();
            model.full_sweep();
            model.sweep_seconds += sweep.elapsed().as_secs_f64();
        }
        if model.failures.len() >= MAX_FAILURES {
            model.note(format!("stopping after {MAX_FAILURES} failures"));
            break;
        }
    }
    model.step = steps + 1;
    model.full_sweep();
    model.report(steps, started.elapsed().as_secs_f64());
}

//! Steps that enroll workers, add dependants, file claims (with their riders,
//! in bursts against the same limits) and attach documents.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::actions::{benefit_claimed_by_worker, dependant_of, in_set, tail, CLAIMANT_ORDER};
use super::rules::{AmountRule, Benefit};
use super::world::{ClaimModel, Dependant, WorkerModel};
use super::Model;

impl Model<'_> {
    pub fn enroll(&mut self, f: usize) {
        let code = self.funds[f].code;
        let n = self.workers.len();
        let dependant = |name: String, relationship: &str, deceased: bool| json!({"name": name, "relationship": relationship, "deceased": deceased});
        let mut dependants = Vec::new();
        match self.rng.usize(..3) {
            0 => {
                dependants.push(dependant(format!("Spouse {n}"), "spouse", false));
                dependants.push(dependant(format!("Child {n}a"), "child", false));
                dependants.push(dependant(format!("Child {n}b"), "child", false));
                dependants.push(dependant(format!("Parent {n}"), "parent", false));
            }
            1 => {
                // No spouse: the children rank first and all claim the same death.
                for k in 0..self.rng.usize(3..=4) {
                    dependants.push(dependant(format!("Child {n}-{k}"), "child", false));
                }
                dependants.push(dependant(format!("Parent {n}"), "parent", false));
            }
            _ => {
                dependants.push(dependant(format!("Spouse {n}"), "spouse", true));
                dependants.push(dependant(format!("Child {n}a"), "child", false));
                dependants.push(dependant(format!("Child {n}b"), "child", false));
                dependants.push(dependant(format!("Sibling {n}"), "sibling", false));
            }
        }
        let (start, end) = self.funds[f].contract;
        let body = json!({
            "document_type": "passport", "document_number": format!("M{}-{n}", self.seed % 100_000),
            "given_name": format!("Worker{n}"), "family_name": "Model", "date_of_birth": "1988-03-03",
            "sex": if n % 2 == 0 { "female" } else { "male" }, "occupation_sector": "construction",
            "dependants": dependants,
            "contracts": [{"employer": "Model Employer", "destination_country": "SA",
                           "start_date": start, "end_date": end}]
        });
        let res = self.app.post(
            &format!("/v1/funds/{code}/workers"),
            &self.tokens.admin,
            &body,
        );
        let (ok, outcome) = self.judge("enroll", &res, &[]);
        let label = format!("w{n}");
        self.note(format!("{code} enroll {label} → {outcome}"));
        if !ok {
            return;
        }
        let worker = WorkerModel {
            id: res.body["id"].as_str().unwrap_or_default().to_string(),
            label,
            fund: f,
            contract_id: res.body["contracts"][0]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            dependants: res.body["dependants"]
                .as_array()
                .map(|a| a.iter().map(dependant_of).collect())
                .unwrap_or_default(),
            contributions: Vec::new(),
            claims: Vec::new(),
        };
        self.workers.push(worker);
        self.funds[f].workers.push(n);
    }

    pub fn add_dependant(&mut self, f: usize) {
        let w = self.pick_worker(f);
        let has_spouse = self.workers[w]
            .dependants
            .iter()
            .any(|d| d.relationship == "spouse" && !d.deceased);
        let relationship = match self.rng.u32(..100) {
            0..=39 => "child",
            40..=64 if !has_spouse => "spouse",
            40..=79 => "parent",
            _ => "sibling",
        };
        let deceased = self.chance(0.1);
        let n = self.workers[w].dependants.len();
        let res = self.app.post(
            &format!("/v1/workers/{}/dependants", self.workers[w].id),
            &self.tokens.admin,
            &json!({"name": format!("Added {relationship} {n}"), "relationship": relationship, "deceased": deceased}),
        );
        let (ok, outcome) = self.judge("add dependant", &res, &[]);
        let line = format!(
            "{} add {relationship}{} to {} → {outcome}",
            self.funds[f].code,
            if deceased { " (deceased)" } else { "" },
            self.workers[w].label
        );
        self.note(line);
        if ok {
            self.workers[w].dependants.push(dependant_of(&res.body));
        }
    }

    /// Files a claim; a third of the time a burst of claims against the same
    /// limits: every first-ranking dependant claiming the same death, or the
    /// worker claiming several incidents of a capped benefit.
    pub fn claim(&mut self, f: usize) {
        let w = self.pick_worker(f);
        let benefits = self.funds[f].benefits.clone();
        let total: u32 = benefits.iter().map(|(_, n)| n).sum();
        let mut roll = self.rng.u32(..total);
        let mut code = benefits[0].0;
        for (b, n) in &benefits {
            if roll < *n {
                code = b;
                break;
            }
            roll -= n;
        }
        let incidents = self.funds[f].incident_dates.clone();
        let mut incident = if self.chance(0.8) {
            self.pick(&incidents)
        } else {
            let first = incidents[0];
            let span = (self.today - first).num_days().max(1) as u64;
            first + Days::new(self.rng.u64(..span))
        };
        let burst = if self.chance(0.35) {
            self.rng.usize(2..=4)
        } else {
            1
        };
        let mut claimants: Vec<Option<Dependant>> = Vec::new();
        for n in 0..burst {
            let benefit: Option<Benefit> = self.funds[f].rules.benefit(incident, code).cloned();
            let claimant = self.claimant(w, benefit.as_ref(), &claimants);
            claimants.push(claimant.clone());
            self.file_claim(f, w, code, incident, benefit, claimant);
            if n + 1 < burst
                && benefit_claimed_by_worker(self.funds[f].rules.benefit(incident, code))
            {
                incident = self.pick(&incidents);
            }
        }
    }

    /// Who claims: the worker, or a dependant the benefit allows (those ranking
    /// first most of the time, one not yet in `before` when there is one), now
    /// and then any dependant at all.
    pub fn claimant(
        &mut self,
        w: usize,
        benefit: Option<&Benefit>,
        before: &[Option<Dependant>],
    ) -> Option<Dependant> {
        let allowed = benefit
            .map(|b| b.claimants.clone())
            .unwrap_or_else(|| vec!["worker".to_string()]);
        let dependants: Vec<Dependant> = self.workers[w]
            .dependants
            .iter()
            .filter(|d| !d.deceased && allowed.contains(&d.relationship))
            .cloned()
            .collect();
        let worker_may = allowed.iter().any(|c| c == "worker");
        if self.chance(0.05) {
            let all = self.workers[w].dependants.clone();
            return Some(self.pick(&all));
        }
        if dependants.is_empty() || (worker_may && self.chance(0.5)) {
            return None;
        }
        let rank = |d: &Dependant| {
            CLAIMANT_ORDER
                .iter()
                .position(|r| *r == d.relationship)
                .unwrap_or(CLAIMANT_ORDER.len())
        };
        let first = dependants.iter().map(rank).min().unwrap_or_default();
        let mut pool: Vec<Dependant> = if self.chance(0.75) {
            dependants
                .iter()
                .filter(|d| rank(d) == first)
                .cloned()
                .collect()
        } else {
            dependants.clone()
        };
        let fresh: Vec<Dependant> = pool
            .iter()
            .filter(|d| !before.iter().flatten().any(|b| b.id == d.id))
            .cloned()
            .collect();
        if !fresh.is_empty() {
            pool = fresh;
        }
        Some(self.pick(&pool))
    }

    pub fn file_claim(
        &mut self,
        f: usize,
        w: usize,
        code: &str,
        incident: NaiveDate,
        benefit: Option<Benefit>,
        claimant: Option<Dependant>,
    ) {
        let mut filed = incident + Days::new(self.rng.u64(0..=30));
        if self.chance(0.04) && incident + Days::new(370) <= self.today {
            filed = incident + Days::new(370);
        }
        let filed = filed.min(self.today);
        let mut documents: Vec<String> = benefit
            .as_ref()
            .map(|b| b.documents.clone())
            .unwrap_or_default();
        if !documents.is_empty() && self.chance(0.2) {
            let k = self.rng.usize(..documents.len());
            documents.remove(k);
        }
        for rider in benefit
            .as_ref()
            .map(|b| b.riders.clone())
            .unwrap_or_default()
        {
            if self.chance(0.6) {
                if let Some(r) = self.funds[f].rules.benefit(incident, &rider) {
                    documents.extend(r.documents.iter().cloned());
                }
            }
        }
        documents.sort();
        documents.dedup();
        let mut body = json!({
            "benefit": code, "incident_date": incident, "incident_phase": "abroad", "filed_on": filed,
            "claimant": match &claimant {
                None => json!({"relationship": "worker"}),
                Some(d) => json!({"relationship": d.relationship, "dependant_id": d.id}),
            },
            "documents": documents.iter().enumerate().map(|(i, t)| json!({"type": t, "reference": format!("REF-{i}")})).collect::<Vec<_>>(),
        });
        match benefit.as_ref().map(|b| b.amount.clone()) {
            Some(AmountRule::Schedule { grades }) if self.chance(0.8) => {
                body["grade"] = json!(self.pick(&grades));
            }
            Some(AmountRule::Reimbursement { cap }) if self.chance(0.85) => {
                body["claimed_amount"] = json!(self.expense(cap));
            }
            _ => {}
        }
        let res = self.app.post(
            &format!("/v1/workers/{}/claims", self.workers[w].id),
            &self.tokens.admin,
            &body,
        );
        // One death is one benefit where heirs share it: a second claim of the
        // event while one is open or awarded is refused, naming it.
        let open_claim_of_the_event = self.workers[w].claims.iter().copied().find(|&ci| {
            let c = &self.claims[ci];
            c.benefit == code
                && c.incident_date == incident
                && c.rider_of.is_none()
                && !in_set(&c.status, &["rejected", "withdrawn"])
        });
        let shared = benefit.as_ref().is_some_and(|b| b.shared);
        let allowed: &[&str] = match open_claim_of_the_event {
            Some(_) if shared => &["CLAIM_ALREADY_FILED"],
            _ => &[],
        };
        let (ok, outcome) = self.judge("claim", &res, allowed);
        if let (true, Some(ci), true) = (ok, open_claim_of_the_event, shared) {
            let message = format!(
                "a second {code} claim of {incident} was filed while {} is {}",
                self.claims[ci].label, self.claims[ci].status
            );
            self.fail("one claim per death", None, message);
        }
        let who = claimant
            .as_ref()
            .map(|d| format!("{} {}", d.relationship, tail(&d.id)))
            .unwrap_or_else(|| "worker".into());
        let label = format!("c{}", self.claims.len());
        let line = format!(
            "{} claim {label} {code} for {} incident {incident} by {who} → {outcome} payable {} {}",
            self.funds[f].code,
            self.workers[w].label,
            res.body["assessment"]["payable"].as_str().unwrap_or("?"),
            res.body["assessment"]["reasons"]
        );
        self.note(line);
        if !ok {
            return;
        }
        let main = self.new_claim(f, w, &res.body, None, incident, &claimant);
        let riders = res.body["riders"].as_array().cloned().unwrap_or_default();
        for r in &riders {
            let rc = self.new_claim(f, w, r, Some(main), incident, &claimant);
            let line = format!(
                "   rider {} {} → {} payable {}",
                self.claims[rc].label,
                self.claims[rc].benefit,
                self.claims[rc].status,
                self.claims[rc].payable
            );
            self.note(line);
        }
    }

    /// A documented expense around a reimbursement's cap, in whole units.
    pub fn expense(&mut self, cap: Decimal) -> String {
        let share = Decimal::from(self.rng.u32(10..=120)) / Decimal::from(100);
        let n = (cap * share).trunc().max(Decimal::ONE);
        format!("{n}.00")
    }

    pub fn new_claim(
        &mut self,
        f: usize,
        w: usize,
        body: &Value,
        rider_of: Option<usize>,
        incident: NaiveDate,
        claimant: &Option<Dependant>,
    ) -> usize {
        let ci = self.claims.len();
        let id = body["id"].as_str().unwrap_or_default().to_string();
        self.claims.push(ClaimModel {
            id: id.clone(),
            label: format!("c{ci}"),
            fund: f,
            worker: w,
            benefit: body["benefit"].as_str().unwrap_or_default().to_string(),
            rider_of,
            incident_date: incident,
            dependant_id: claimant.as_ref().map(|d| d.id.clone()),
            status: String::new(),
            appealed: false,
            award: None,
            payable: Decimal::ZERO,
            reasons: Vec::new(),
            missing_documents: Vec::new(),
            documents: Default::default(),
            grade: None,
            claimed_amount: None,
            decided_by: None,
            approvers: Vec::new(),
            approved_at: None,
            queued_step: None,
            approval_entry: None,
            paid_on: None,
            paid_to_payees: Decimal::ZERO,
        });
        self.claim_index.insert(id, ci);
        self.workers[w].claims.push(ci);
        self.apply_claim(body);
        ci
    }

    pub fn documents(&mut self, f: usize) {
        let Some(ci) = self.target(f, &["pending_documents"], 0.9) else {
            return self.claim(f);
        };
        let c = self.claims[ci].clone();
        let benefit = self.funds[f]
            .rules
            .benefit(c.incident_date, &c.benefit)
            .cloned();
        let mut missing: Vec<String> = c.missing_documents.clone();
        if missing.is_empty() {
            missing = benefit
                .as_ref()
                .map(|b| {
                    b.documents
                        .iter()
                        .filter(|d| !c.documents.contains(*d))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
        }
        if missing.is_empty() {
            missing.push("SUPPORTING_LETTER".to_string());
        }
        self.funds[f].documents_counter += 1;
        let n = self.funds[f].documents_counter;
        let mut body = json!({
            "documents": missing.iter().map(|t| json!({"type": t, "reference": format!("LATE-{n}")})).collect::<Vec<_>>()
        });
        let mut extra = String::new();
        match benefit.as_ref().map(|b| b.amount.clone()) {
            Some(AmountRule::Reimbursement { cap })
                if c.claimed_amount.is_none() || self.chance(0.1) =>
            {
                let e = self.expense(cap);
                extra = format!(" claimed {e}");
                body["claimed_amount"] = json!(e);
            }
            Some(AmountRule::Schedule { grades }) if c.grade.is_none() => {
                // Given later with the documents (issue 11).
                let g = self.pick(&grades);
                extra = format!(" grade {g}");
                body["grade"] = json!(g);
            }
            _ => {}
        }
        let res = self.app.post(
            &format!("/v1/claims/{}/documents", c.id),
            &self.tokens.admin,
            &body,
        );
        let open = in_set(&c.status, &["submitted", "pending_documents", "appealed"]);
        let allowed: &[&str] = if open {
            &[]
        } else {
            &["CLAIM_STATUS_CONFLICT"]
        };
        let (ok, outcome) = self.judge("documents", &res, allowed);
        let line = format!(
            "{} documents {missing:?}{extra} for {} → {outcome} payable {}",
            self.funds[f].code,
            self.claim_line(ci),
            res.body["assessment"]["payable"].as_str().unwrap_or("-")
        );
        self.note(line);
        if ok {
            if !open {
                self.fail(
                    "state machine",
                    None,
                    format!("documents accepted for {} in status {}", c.label, c.status),
                );
            }
            self.apply_claim(&res.body);
        } else {
            self.refresh_claim(ci);
        }
    }
}

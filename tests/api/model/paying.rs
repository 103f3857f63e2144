//! Steps that pay claims (some dated before their approval or in the future)
//! and run payments; they check the queue is never overtaken.

use chrono::Days;
use serde_json::json;

use super::actions::in_set;
use super::world::PAYABLE;
use super::{short, Model};

impl Model<'_> {
    pub fn pay(&mut self, f: usize) {
        let Some(ci) = self.target(f, &PAYABLE, 0.9) else {
            return self.decide(f);
        };
        let c = self.claims[ci].clone();
        let roll = self.rng.u32(..100);
        let paid_on = match (roll, self.funds[f].closed_through) {
            (0..=69, _) => self.today,
            (70..=81, _) => self.today - Days::new(self.rng.u64(1..=90)),
            (82..=91, _) => self.today + Days::new(self.rng.u64(1..=20)),
            (_, Some(closed)) => closed,
            _ => self.today,
        };
        // Claims ahead of this one in the queue: every claim waiting, or for a
        // claim already waiting, those that joined before it.
        let waiting_before: Vec<usize> = self
            .fund_claims(f, &["awaiting_funds"])
            .into_iter()
            .filter(|&x| x != ci)
            .filter(|&x| match (c.queued_step, self.claims[x].queued_step) {
                (Some(mine), Some(theirs)) => theirs < mine,
                _ => true,
            })
            .collect();
        let res = self.app.post(
            &format!("/v1/claims/{}/payment", c.id),
            &self.tokens.officers[0].1,
            &json!({"paid_on": paid_on, "payee_reference": format!("BANK-{}", c.label)}),
        );
        let payable = in_set(&c.status, &PAYABLE);
        let bad_date =
            paid_on > self.today || c.approved_on().is_some_and(|approved| paid_on < approved);
        let mut allowed: Vec<&str> = Vec::new();
        if !payable {
            allowed.push("CLAIM_STATUS_CONFLICT");
        }
        if bad_date {
            allowed.push("VALIDATION_FAILED");
        }
        if self.closed(f, paid_on) {
            allowed.push("PERIOD_CLOSED");
        }
        let (ok, answer) = self.judge("payment", &res, &allowed);
        if res.body["code"] == "VALIDATION_FAILED" && res.error_fields() != vec!["/paid_on"] {
            self.fail(
                "unexpected 4xx",
                None,
                format!(
                    "a payment refused for other fields than /paid_on: {}",
                    short(&res.text)
                ),
            );
        }
        let line = format!(
            "{} pay {} on {paid_on} (approved {:?}, {} waiting ahead) → {answer}",
            self.funds[f].code,
            self.claim_line(ci),
            c.approved_on(),
            waiting_before.len()
        );
        self.note(line);
        if !ok {
            self.refresh_claim(ci);
            return;
        }
        if !payable {
            self.fail(
                "state machine",
                None,
                format!("{} paid in status {}", c.label, c.status),
            );
        }
        if bad_date {
            self.fail(
                "payment date accepted",
                None,
                format!(
                    "payment of {} dated {paid_on} accepted ({}), approved {:?}, today {}",
                    c.label,
                    res.body["status"],
                    c.approved_on(),
                    self.today
                ),
            );
        }
        if self.closed(f, paid_on) {
            self.fail(
                "closed period",
                None,
                format!(
                    "payment of {} dated {paid_on} accepted in a period closed through {:?}",
                    c.label, self.funds[f].closed_through
                ),
            );
        }
        self.apply_claim(&res.body);
        let now = self.claims[ci].status.clone();
        if !["paid", "awaiting_funds", "under_review"].contains(&now.as_str()) {
            self.fail(
                "state machine",
                None,
                format!(
                    "the payment of {} answered 200 with the claim {now}",
                    c.label
                ),
            );
        }
        if now == "paid" && !waiting_before.is_empty() {
            let waiting: Vec<String> = waiting_before
                .iter()
                .map(|&x| self.claims[x].label.clone())
                .collect();
            self.fail(
                "payment overtook the queue",
                None,
                format!(
                    "{} was paid directly while {waiting:?} of the fund waited for funds ahead of it",
                    c.label
                ),
            );
        }
        if now == "paid" {
            self.touched.push((f, paid_on, true));
        }
    }

    pub fn payment_run(&mut self, f: usize) {
        let code = self.funds[f].code;
        let roll = self.rng.u32(..100);
        let paid_on = match (roll, self.funds[f].closed_through) {
            (0..=84, _) => self.today,
            (85..=94, _) => self.today - Days::new(self.rng.u64(1..=30)),
            (_, Some(closed)) => closed,
            _ => self.today,
        };
        let waiting_before = self.fund_claims(f, &["awaiting_funds"]);
        let queue_before: Vec<(usize, usize)> = waiting_before
            .iter()
            .filter_map(|&c| self.claims[c].queued_step.map(|q| (c, q)))
            .collect();
        let res = self.app.post(
            &format!("/v1/funds/{code}/payment-runs"),
            &self.tokens.officers[1].1,
            &json!({"paid_on": paid_on}),
        );
        let mut allowed: Vec<&str> = Vec::new();
        if paid_on != self.today {
            allowed.push("VALIDATION_FAILED");
        }
        if self.closed(f, paid_on) {
            allowed.push("PERIOD_CLOSED");
        }
        let (ok, answer) = self.judge("payment run", &res, &allowed);
        let ids = |key: &str| -> Vec<String> {
            res.body[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let paid_ids = ids("paid");
        let mut affected: Vec<usize> = waiting_before.clone();
        for id in paid_ids.iter().chain(ids("waiting").iter()) {
            if let Some(&ci) = self.claim_index.get(id) {
                if !affected.contains(&ci) {
                    affected.push(ci);
                }
            }
        }
        for &ci in &affected {
            self.refresh_claim(ci);
        }
        let labels = |m: &Self, xs: &[usize]| -> Vec<String> {
            xs.iter().map(|&x| m.claims[x].label.clone()).collect()
        };
        let paid: Vec<usize> = affected
            .iter()
            .copied()
            .filter(|&x| paid_ids.contains(&self.claims[x].id))
            .collect();
        let still: Vec<usize> = self.fund_claims(f, &["awaiting_funds"]);
        let line = format!(
            "{code} payment run on {paid_on}: waiting {:?} → {answer}, paid {:?}, still waiting {:?}, statuses {:?}",
            labels(self, &waiting_before),
            labels(self, &paid),
            labels(self, &still),
            affected
                .iter()
                .map(|&x| format!("{} {}", self.claims[x].label, self.claims[x].status))
                .collect::<Vec<_>>()
        );
        self.note(line);
        if !ok {
            return;
        }
        if self.closed(f, paid_on) && !paid.is_empty() {
            self.fail(
                "closed period",
                None,
                format!("a payment run dated {paid_on} paid claims in a closed period"),
            );
        }
        // The queue in the order claims joined it (README; RULES.md says "first
        // approved, first paid"): nothing still waiting joined before a claim this
        // run paid. The oracle keeps the step each claim joined at.
        for &p in &paid {
            for &w in &still {
                let joined = |x: usize| queue_before.iter().find(|(c, _)| *c == x).map(|q| q.1);
                if let (Some(pj), Some(wj)) = (joined(p), joined(w)) {
                    if pj > wj {
                        let message = format!(
                            "the run paid {} (queued at step {pj}) before {} (queued at step {wj}), which still waits",
                            self.claims[p].label, self.claims[w].label
                        );
                        self.fail("payment run order", None, message);
                    }
                }
            }
        }
        if !paid.is_empty() {
            self.touched.push((f, paid_on, true));
        }
    }
}

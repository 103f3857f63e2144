//! Steps that move money outside claims: contributions (some back-dated) and
//! their reversals, manual deposits and withdrawals of cash (some back-dated,
//! some reversed), and period closes.

use chrono::NaiveDate;
use serde_json::json;

use super::actions::{units, CLOSABLE_DATES};
use super::rules::Paid;
use super::Model;

impl Model<'_> {
    pub fn contribute(&mut self, f: usize) {
        // The worker with fewer standing contributions of two.
        let a = self.pick_worker(f);
        let b = self.pick_worker(f);
        let w = if self.workers[a].standing() <= self.workers[b].standing() {
            a
        } else {
            b
        };
        let on = self.money_date(f, false);
        self.contribute_for(w, on);
    }

    pub fn contribute_for(&mut self, w: usize, on: NaiveDate) {
        let f = self.workers[w].fund;
        let code = self.funds[f].code;
        let (worker, contract) = (
            self.workers[w].id.clone(),
            self.workers[w].contract_id.clone(),
        );
        let quote = self.app.get(
            &format!(
                "/v1/funds/{code}/contributions/quote?worker_id={worker}&contract_id={contract}&paid_on={on}"
            ),
            &self.tokens.admin,
        );
        let (ok, outcome) = self.judge("quote", &quote, &[]);
        if !ok {
            let label = self.workers[w].label.clone();
            self.note(format!("{code} quote for {label} on {on} → {outcome}"));
            return;
        }
        let q = quote.body.clone();
        let body = json!({
            "worker_id": worker, "contract_id": contract, "paid_on": on,
            "amount": q["amount"], "currency": q["currency"],
            "payers": [{"type": "worker", "amount": q["total"]}]
        });
        let res = self.app.post(
            &format!("/v1/funds/{code}/contributions"),
            &self.tokens.admin,
            &body,
        );
        let allowed: &[&str] = if self.closed(f, on) {
            &["PERIOD_CLOSED"]
        } else {
            &[]
        };
        let (ok, outcome) = self.judge("contribution", &res, allowed);
        if ok && self.closed(f, on) {
            self.fail(
                "closed period",
                None,
                format!(
                    "a contribution dated {on} was booked in a period closed through {:?}",
                    self.funds[f].closed_through
                ),
            );
        }
        let label = self.workers[w].label.clone();
        self.note(format!(
            "{code} contribution {} for {label} paid {on} → {outcome}",
            q["total"].as_str().unwrap_or("?")
        ));
        if ok {
            let id = res.body["id"].as_str().unwrap_or_default().to_string();
            self.workers[w].contributions.push(Paid {
                id,
                paid_on: on,
                reversed: false,
            });
            self.touched.push((f, on, false));
        }
    }

    pub fn reverse_contribution(&mut self, f: usize) {
        let mut candidates: Vec<(usize, usize)> = Vec::new();
        let mut only: Vec<(usize, usize)> = Vec::new();
        let mut reversed: Vec<(usize, usize)> = Vec::new();
        for &w in &self.funds[f].workers {
            let standing = self.workers[w].standing();
            for (k, c) in self.workers[w].contributions.iter().enumerate() {
                if c.reversed {
                    reversed.push((w, k));
                } else {
                    candidates.push((w, k));
                    if standing == 1 {
                        only.push((w, k));
                    }
                }
            }
        }
        let (w, k) = if !reversed.is_empty() && self.chance(0.08) {
            self.pick(&reversed)
        } else if !only.is_empty() && self.chance(0.6) {
            self.pick(&only)
        } else if !candidates.is_empty() {
            self.pick(&candidates)
        } else {
            return self.contribute(f);
        };
        let c = self.workers[w].contributions[k].clone();
        let res = self.app.post(
            &format!("/v1/contributions/{}/reversal", c.id),
            &self.tokens.admin,
            &json!({"reason": "bounced"}),
        );
        let allowed: &[&str] = if c.reversed {
            &["ALREADY_REVERSED", "INSUFFICIENT_FUNDS"]
        } else {
            &["INSUFFICIENT_FUNDS"]
        };
        let (ok, outcome) = self.judge("contribution reversal", &res, allowed);
        if ok && c.reversed {
            self.fail(
                "state machine",
                None,
                format!("contribution {} reversed twice", c.id),
            );
        }
        let line = format!(
            "{} reverse contribution of {} paid {} ({} standing) → {outcome}",
            self.funds[f].code,
            self.workers[w].label,
            c.paid_on,
            self.workers[w].standing()
        );
        self.note(line);
        if ok {
            self.workers[w].contributions[k].reversed = true;
            let on = self.today.max(c.paid_on);
            self.touched.push((f, on, true));
        }
    }

    pub fn entry(
        &mut self,
        f: usize,
        on: NaiveDate,
        debit: &str,
        credit: &str,
        amount: i64,
    ) -> crate::helpers::Response {
        let code = self.funds[f].code;
        let currency = self.funds[f].rules.currency.clone();
        self.app.post(
            &format!("/v1/funds/{code}/journal-entries"),
            &self.tokens.admin,
            &json!({
                "effective_date": on, "memo": format!("{debit} from {credit}"),
                "postings": [
                    {"account": debit, "side": "debit", "amount": units(amount), "currency": currency},
                    {"account": credit, "side": "credit", "amount": units(amount), "currency": currency}
                ]
            }),
        )
    }

    pub fn deposit_at(&mut self, f: usize, on: NaiveDate, amount: i64) {
        let amount = (amount / 1000).max(1) * 1000;
        let credit = if self.chance(0.5) { "3100" } else { "4200" };
        let res = self.entry(f, on, "1000", credit, amount);
        let allowed: &[&str] = if self.closed(f, on) {
            &["PERIOD_CLOSED"]
        } else {
            &[]
        };
        let (ok, answer) = self.judge("deposit", &res, allowed);
        self.note(format!(
            "{} deposit {amount} dated {on} → {answer}",
            self.funds[f].code
        ));
        if ok {
            if self.closed(f, on) {
                self.fail(
                    "closed period",
                    None,
                    format!("a deposit dated {on} was booked in a closed period"),
                );
            }
            let id = res.body["id"].as_str().unwrap_or_default().to_string();
            self.funds[f].deposits.push((id, on, false));
            self.touched.push((f, on, false));
        }
    }

    pub fn cash_withdrawal(&mut self, f: usize) {
        let on = self.money_date(f, false);
        let (low, high) = self.funds[f].withdrawal;
        let amount = (self.rng.i64(low..=high) / 1000).max(1) * 1000;
        let res = self.entry(f, on, "6100", "1000", amount);
        let allowed: &[&str] = if self.closed(f, on) {
            &["INSUFFICIENT_FUNDS", "PERIOD_CLOSED"]
        } else {
            &["INSUFFICIENT_FUNDS"]
        };
        let (ok, answer) = self.judge("cash withdrawal", &res, allowed);
        self.note(format!(
            "{} withdraw {amount} of cash dated {on} → {answer}",
            self.funds[f].code
        ));
        if ok {
            if self.closed(f, on) {
                self.fail(
                    "closed period",
                    None,
                    format!("a withdrawal dated {on} was booked in a closed period"),
                );
            }
            self.touched.push((f, on, true));
        }
    }

    pub fn reverse_deposit(&mut self, f: usize) {
        let deposits = self.funds[f].deposits.clone();
        if deposits.is_empty() {
            return self.cash_withdrawal(f);
        }
        let k = self.rng.usize(..deposits.len());
        let (id, dated, reversed) = deposits[k].clone();
        let on = if self.chance(0.5) { dated } else { self.today };
        let code = self.funds[f].code;
        let res = self.app.post(
            &format!("/v1/funds/{code}/journal-entries/{id}/reversal"),
            &self.tokens.admin,
            &json!({"effective_date": on, "memo": "deposit bounced"}),
        );
        let mut allowed = vec!["INSUFFICIENT_FUNDS"];
        if reversed {
            allowed.push("ALREADY_REVERSED");
        }
        if self.closed(f, on) {
            allowed.push("PERIOD_CLOSED");
        }
        let (ok, answer) = self.judge("deposit reversal", &res, &allowed);
        self.note(format!(
            "{code} reverse the deposit of {dated} as of {on}{} → {answer}",
            if reversed { " (reversed before)" } else { "" }
        ));
        if ok {
            self.funds[f].deposits[k].2 = true;
            self.touched.push((f, on, true));
        }
    }

    pub fn close_period(&mut self, f: usize) {
        let dates = self.funds[f].money_dates.clone();
        let next = match self.funds[f].closed_through {
            None => dates.first().copied(),
            Some(c) => dates.iter().copied().find(|d| *d > c),
        };
        let Some(through) =
            next.filter(|d| dates.iter().position(|x| x == d) < Some(CLOSABLE_DATES))
        else {
            let on = self.money_date(f, true);
            let (low, high) = self.funds[f].deposit;
            let amount = self.rng.i64(low..=high);
            return self.deposit_at(f, on, amount);
        };
        let code = self.funds[f].code;
        let res = self.app.post(
            &format!("/v1/funds/{code}/periods/close"),
            &self.tokens.admin,
            &json!({"through": through}),
        );
        let (ok, answer) = self.judge("period close", &res, &[]);
        self.note(format!(
            "{code} close the books through {through} → {answer}"
        ));
        if ok {
            self.funds[f].closed_through = Some(through);
        }
    }
}

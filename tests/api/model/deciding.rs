//! Steps that decide claims, approve them (second approval and committee,
//! self-approval and repeated approvers now and then), withdraw and appeal them.

use rust_decimal::Decimal;
use serde_json::json;

use super::actions::in_set;
use super::world::{AWAITING_APPROVAL, DECIDABLE};
use super::{short, Model};

impl Model<'_> {
    pub fn decide(&mut self, f: usize) {
        let Some(ci) = self.target(f, &DECIDABLE, 0.9) else {
            return self.claim(f);
        };
        let c = self.claims[ci].clone();
        let under_review = c.status == "under_review";
        let roll = self.rng.u32(..100);
        let outcome = if under_review {
            match roll {
                0..=39 => "approve",
                40..=59 => "partially_approve",
                _ => "reject",
            }
        } else if c.status == "pending_documents" {
            "reject"
        } else if c.payable.is_zero() && roll < 75 {
            // What an officer does with an ineligible claim (most of the time).
            "reject"
        } else {
            match roll {
                0..=64 => "approve",
                65..=79 => "partially_approve",
                _ => "reject",
            }
        };
        let mut body = json!({"outcome": outcome});
        match outcome {
            // An explicit amount is positive: the payable last seen (perhaps more
            // than what is left now), or one more than it.
            "approve" => match self.rng.u32(..10) {
                6..=8 if c.payable > Decimal::ZERO => body["amount"] = json!(c.payable.to_string()),
                9 => body["amount"] = json!((c.payable + Decimal::ONE).to_string()),
                _ => {}
            },
            "partially_approve" => {
                let half = (c.payable / Decimal::TWO).trunc().max(Decimal::ONE);
                body["amount"] = json!(format!("{half}"));
                body["reasons"] = json!(["PARTIAL_AWARD"]);
            }
            _ => body["reasons"] = json!(["NOT_SUPPORTED"]),
        }
        let officers = self.tokens.officers.clone();
        let (subject, token, _) = self.pick(&officers);
        let res = self
            .app
            .post(&format!("/v1/claims/{}/decision", c.id), &token, &body);
        let decidable = in_set(&c.status, &DECIDABLE)
            || (outcome == "reject" && c.status == "pending_documents");
        let mut allowed: Vec<&str> = Vec::new();
        if !decidable {
            allowed.push("CLAIM_STATUS_CONFLICT");
        }
        if outcome != "reject" {
            allowed.extend(["DECISION_EXCEEDS_PAYABLE", "CLAIM_NOT_ELIGIBLE"]);
        }
        // A partly paid award (some heirs paid before it went back to review)
        // is confirmed or reduced to no less than what was paid, never raised:
        // an amount outside that is refused for /amount.
        let partly_paid = under_review && c.paid_to_payees > Decimal::ZERO;
        if outcome == "partially_approve" || (partly_paid && outcome != "reject") {
            allowed.push("VALIDATION_FAILED");
        }
        let (ok, answer) = self.judge("decision", &res, &allowed);
        if res.body["code"] == "VALIDATION_FAILED" && res.error_fields() != vec!["/amount"] {
            self.fail(
                "unexpected 4xx",
                None,
                format!(
                    "a partial approval refused for other fields than /amount: {}",
                    short(&res.text)
                ),
            );
        }
        let line = format!(
            "{} {subject} decides {outcome} {} on {} → {answer}{}",
            self.funds[f].code,
            body["amount"].as_str().unwrap_or(""),
            self.claim_line(ci),
            res.body["payable"]
                .as_str()
                .map(|p| format!(" payable {p}"))
                .unwrap_or_default()
        );
        self.note(line);
        if ok {
            if !decidable {
                self.fail(
                    "state machine",
                    None,
                    format!("{} decided in status {}", c.label, c.status),
                );
            }
            self.apply_claim(&res.body);
            self.touched.push((f, self.today, false));
        } else {
            self.refresh_claim(ci);
        }
    }

    pub fn approve(&mut self, f: usize) {
        let Some(ci) = self.target(f, &AWAITING_APPROVAL, 0.9) else {
            return self.decide(f);
        };
        let c = self.claims[ci].clone();
        let approvers = self.tokens.approvers.clone();
        let roll = self.rng.u32(..100);
        let own = c.decided_by.as_ref().and_then(|d| {
            self.tokens
                .officers
                .iter()
                .find(|(s, _, _)| s == d)
                .map(|(s, _, admin)| (s.clone(), admin.clone()))
        });
        let fresh: Vec<(String, String)> = approvers
            .iter()
            .filter(|(s, _)| !c.approvers.contains(s))
            .cloned()
            .collect();
        let again: Vec<(String, String)> = approvers
            .iter()
            .filter(|(s, _)| c.approvers.contains(s))
            .cloned()
            .collect();
        let (subject, token) = match (roll, own) {
            (0..=7, Some(own)) => own,
            (8..=14, _) if !again.is_empty() => self.pick(&again),
            _ if !fresh.is_empty() => self.pick(&fresh),
            _ => self.pick(&approvers),
        };
        let res = self.app.post(
            &format!("/v1/claims/{}/approvals", c.id),
            &token,
            &json!({"note": "checked"}),
        );
        let waiting = in_set(&c.status, &AWAITING_APPROVAL);
        let mut allowed: Vec<&str> = vec!["DECISION_EXCEEDS_PAYABLE", "CLAIM_NOT_ELIGIBLE"];
        if !waiting {
            allowed.push("CLAIM_STATUS_CONFLICT");
        }
        if c.decided_by.as_deref() == Some(subject.as_str()) {
            allowed.push("SELF_APPROVAL");
        }
        if c.approvers.contains(&subject) {
            allowed.push("ALREADY_APPROVED");
        }
        let (ok, answer) = self.judge("approval", &res, &allowed);
        let line = format!(
            "{} {subject} approves {} → {answer}{}",
            self.funds[f].code,
            self.claim_line(ci),
            res.body["payable"]
                .as_str()
                .map(|p| format!(" payable {p}"))
                .unwrap_or_default()
        );
        self.note(line);
        if ok {
            if !waiting || c.decided_by.as_deref() == Some(subject.as_str()) {
                self.fail(
                    "state machine",
                    None,
                    format!(
                        "{subject} approved {} in status {} decided by {:?}",
                        c.label, c.status, c.decided_by
                    ),
                );
            }
            self.apply_claim(&res.body);
            self.touched.push((f, self.today, false));
        } else {
            self.refresh_claim(ci);
            let refused = matches!(
                res.body["code"].as_str(),
                Some("DECISION_EXCEEDS_PAYABLE" | "CLAIM_NOT_ELIGIBLE")
            );
            if refused && self.claims[ci].status != "under_review" {
                let status = self.claims[ci].status.clone();
                self.fail(
                    "refused approval not under review",
                    None,
                    format!(
                        "the approval of {} was refused {} but the claim is {status}",
                        c.label, res.body["code"]
                    ),
                );
            }
        }
    }

    pub fn withdraw(&mut self, f: usize) {
        let Some(ci) = self.target(f, &["submitted", "pending_documents"], 0.8) else {
            return self.claim(f);
        };
        let c = self.claims[ci].clone();
        let res = self.app.post(
            &format!("/v1/claims/{}/withdrawal", c.id),
            &self.tokens.admin,
            &json!({"note": "no longer needed"}),
        );
        let open = in_set(&c.status, &["submitted", "pending_documents"]);
        let allowed: &[&str] = if open {
            &[]
        } else {
            &["CLAIM_STATUS_CONFLICT"]
        };
        let (ok, answer) = self.judge("withdrawal", &res, allowed);
        let line = format!(
            "{} withdraw {} → {answer}",
            self.funds[f].code,
            self.claim_line(ci)
        );
        self.note(line);
        if ok {
            if !open {
                self.fail(
                    "state machine",
                    None,
                    format!("{} withdrawn in status {}", c.label, c.status),
                );
            }
            self.apply_claim(&res.body);
        } else {
            self.refresh_claim(ci);
        }
    }

    pub fn appeal(&mut self, f: usize) {
        let Some(ci) = self.target(f, &["rejected"], 0.9) else {
            return self.decide(f);
        };
        let c = self.claims[ci].clone();
        let res = self.app.post(
            &format!("/v1/claims/{}/appeal", c.id),
            &self.tokens.admin,
            &json!({"note": "new evidence"}),
        );
        let mut allowed: Vec<&str> = Vec::new();
        if c.status != "rejected" {
            allowed.push("CLAIM_STATUS_CONFLICT");
        }
        if c.appealed {
            allowed.push("ALREADY_APPEALED");
        }
        let (ok, answer) = self.judge("appeal", &res, &allowed);
        let line = format!(
            "{} appeal {} → {answer}",
            self.funds[f].code,
            self.claim_line(ci)
        );
        self.note(line);
        if ok {
            if c.status != "rejected" || c.appealed {
                self.fail(
                    "state machine",
                    None,
                    format!(
                        "{} appealed in status {} (appealed before: {})",
                        c.label, c.status, c.appealed
                    ),
                );
            }
            self.apply_claim(&res.body);
        } else {
            self.refresh_claim(ci);
        }
    }
}

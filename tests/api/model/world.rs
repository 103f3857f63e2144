//! What the test knows of the world: the funds it drives (with the dates and
//! amounts that make conflicts likely), their workers, contributions and claims
//! as the service last answered them.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

use super::rules::{FundRules, Paid};

/// Statuses whose award counts against caps, `max_claims` and `per_family_limit`.
pub const AWARDED: [&str; 4] = ["approved", "partially_approved", "awaiting_funds", "paid"];
/// Statuses a claim may be paid from.
pub const PAYABLE: [&str; 3] = ["approved", "partially_approved", "awaiting_funds"];
/// Statuses an officer may decide.
pub const DECIDABLE: [&str; 3] = ["submitted", "appealed", "under_review"];
/// Statuses waiting for an approver.
pub const AWAITING_APPROVAL: [&str; 2] = ["awaiting_second_approval", "awaiting_committee"];

fn d(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// One fund of the run: its rules and how the generator uses it.
pub struct FundModel {
    pub code: &'static str,
    pub rules: FundRules,
    /// Guarded cash accounts: the benefit currency's, and the contribution currency's.
    pub cash_accounts: Vec<String>,
    /// Main benefits a claim is filed for, with weights.
    pub benefits: Vec<(&'static str, u32)>,
    /// Dates of contributions and manual entries (few, so that they collide).
    pub money_dates: Vec<NaiveDate>,
    /// Incident dates (few, so that siblings claim the same death).
    pub incident_dates: Vec<NaiveDate>,
    /// Every worker's contract.
    pub contract: (NaiveDate, NaiveDate),
    /// Deposits and withdrawals of cash, in whole units of the fund's currency.
    pub deposit: (i64, i64),
    pub withdrawal: (i64, i64),
    pub workers: Vec<usize>,
    pub closed_through: Option<NaiveDate>,
    /// Dates on which cash went out (payments, withdrawals, reversals): cash as of
    /// any date is lowest on one of these.
    pub outflow_dates: BTreeSet<NaiveDate>,
    /// Every effective date booked so far.
    pub touched_dates: BTreeSet<NaiveDate>,
    /// Manual deposits: (journal entry id, date, reversed).
    pub deposits: Vec<(String, NaiveDate, bool)>,
    pub documents_counter: usize,
}

/// How the generator uses a fund.
struct Plan {
    code: &'static str,
    benefits: Vec<(&'static str, u32)>,
    money_dates: &'static [&'static str],
    incident_dates: &'static [&'static str],
    contract: (&'static str, &'static str),
    deposit: (i64, i64),
    withdrawal: (i64, i64),
}

impl FundModel {
    fn new(plan: Plan, today: NaiveDate) -> FundModel {
        let Plan {
            code,
            benefits,
            money_dates,
            incident_dates,
            contract,
            deposit,
            withdrawal,
        } = plan;
        let mut rules = FundRules::load(code);
        rules.contract = Some((d(contract.0), d(contract.1)));
        let mut cash_accounts = vec!["1000".to_string()];
        if code == "PH-OWWA" {
            // Contributions in dollars, benefits in pesos.
            cash_accounts.push("1000-USD".to_string());
        }
        FundModel {
            code,
            rules,
            cash_accounts,
            benefits,
            money_dates: money_dates
                .iter()
                .map(|s| d(s))
                .filter(|x| *x <= today)
                .collect(),
            incident_dates: incident_dates
                .iter()
                .map(|s| d(s))
                .filter(|x| *x <= today)
                .collect(),
            contract: (d(contract.0), d(contract.1)),
            deposit,
            withdrawal,
            workers: Vec::new(),
            closed_through: None,
            outflow_dates: BTreeSet::new(),
            touched_dates: BTreeSet::new(),
            deposits: Vec::new(),
            documents_counter: 0,
        }
    }

    /// The funds of the run. Each uses `fixed_months` membership, or (Indonesia
    /// from 2023) `contract_events` on a contract with no events recorded, for
    /// every date the run books (the oracle models both exactly).
    pub fn all(today: NaiveDate) -> Vec<FundModel> {
        vec![
            // Kenya: 24 months + 30 days of grace; INVALIDITY under a lifetime cap,
            // annual caps, max_claims 1 deaths with a rider, scholarships per family,
            // and a committee for hardship.
            Plan {
                code: "KE-MWF",
                benefits: vec![
                    ("INVALIDITY", 6),
                    ("DEATH_NATURAL", 4),
                    ("DEATH_ACCIDENT", 2),
                    ("REPATRIATION_DISTRESS", 2),
                    ("MEDICAL_ASSISTANCE", 2),
                    ("LEGAL_ASSISTANCE", 2),
                    ("SCHOLARSHIP", 3),
                    ("HARDSHIP", 2),
                ],
                money_dates: &[
                    "2026-01-05",
                    "2026-01-25",
                    "2026-02-15",
                    "2026-03-10",
                    "2026-04-01",
                    "2026-05-05",
                    "2026-06-10",
                    "2026-07-15",
                    "2026-08-20",
                    "2026-09-15",
                    "2026-10-10",
                    "2026-11-05",
                    "2026-11-20",
                ],
                incident_dates: &[
                    "2026-02-20",
                    "2026-03-15",
                    "2026-04-12",
                    "2026-05-20",
                    "2026-07-01",
                    "2026-08-25",
                    "2026-10-05",
                    "2026-11-12",
                ],
                contract: ("2026-01-02", "2028-06-30"),
                deposit: (20_000, 250_000),
                withdrawal: (5_000, 120_000),
            },
            // Indonesia: 31 months, no grace; a death with a scholarship rider for up
            // to two children, treatment under an annual cap.
            Plan {
                code: "ID-BPJS-PMI",
                benefits: vec![
                    ("JKM_DEATH_DURING_WORK", 5),
                    ("JKM_SCHOLARSHIP", 2),
                    ("JKK_TREATMENT_ABROAD", 4),
                ],
                money_dates: &[
                    "2023-01-10",
                    "2023-05-20",
                    "2023-09-15",
                    "2024-01-20",
                    "2024-06-10",
                    "2024-11-05",
                    "2025-03-15",
                    "2025-07-01",
                    "2025-10-20",
                    "2026-02-10",
                    "2026-05-25",
                    "2026-08-15",
                    "2026-10-28",
                ],
                incident_dates: &[
                    "2023-06-14",
                    "2023-12-02",
                    "2024-05-18",
                    "2024-12-24",
                    "2025-06-30",
                    "2025-11-11",
                    "2026-04-04",
                    "2026-09-09",
                ],
                contract: ("2022-12-01", "2029-12-31"),
                deposit: (5_000_000, 100_000_000),
                withdrawal: (2_000_000, 60_000_000),
            },
            // The Philippines (2016 rules): 24 months, no grace; disability under one
            // lifetime cap shared by two benefits, a burial rider, one scholarship per
            // family; contributions in dollars, so pesos come only from deposits.
            Plan {
                code: "PH-OWWA",
                benefits: vec![
                    ("DEATH_NATURAL", 3),
                    ("DEATH_ACCIDENT", 2),
                    ("DISABILITY_PARTIAL", 4),
                    ("DISABILITY_TOTAL", 3),
                    ("SCHOLARSHIP", 3),
                ],
                money_dates: &[
                    "2023-02-10",
                    "2023-06-20",
                    "2023-10-15",
                    "2024-02-20",
                    "2024-07-10",
                    "2024-12-05",
                    "2025-04-15",
                    "2025-08-01",
                    "2025-11-20",
                    "2026-03-10",
                    "2026-06-25",
                    "2026-09-15",
                    "2026-11-02",
                ],
                incident_dates: &[
                    "2023-08-14",
                    "2024-03-02",
                    "2024-09-18",
                    "2025-02-24",
                    "2025-07-30",
                    "2025-12-11",
                    "2026-05-04",
                    "2026-10-09",
                ],
                contract: ("2022-12-01", "2029-12-31"),
                deposit: (10_000, 150_000),
                withdrawal: (5_000, 80_000),
            },
        ]
        .into_iter()
        .map(|plan| FundModel::new(plan, today))
        .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Dependant {
    pub id: String,
    pub relationship: String,
    pub deceased: bool,
}

pub struct WorkerModel {
    pub id: String,
    pub label: String,
    pub fund: usize,
    pub contract_id: String,
    pub dependants: Vec<Dependant>,
    pub contributions: Vec<Paid>,
    pub claims: Vec<usize>,
}

impl WorkerModel {
    pub fn standing(&self) -> usize {
        self.contributions.iter().filter(|c| !c.reversed).count()
    }
}

#[derive(Debug, Clone)]
pub struct ClaimModel {
    pub id: String,
    pub label: String,
    pub fund: usize,
    pub worker: usize,
    pub benefit: String,
    pub rider_of: Option<usize>,
    pub incident_date: NaiveDate,
    pub dependant_id: Option<String>,
    pub status: String,
    pub appealed: bool,
    /// The decided amount.
    pub award: Option<Decimal>,
    /// The last assessment's payable amount.
    pub payable: Decimal,
    pub reasons: Vec<String>,
    pub missing_documents: Vec<String>,
    pub documents: BTreeSet<String>,
    pub grade: Option<String>,
    pub claimed_amount: Option<Decimal>,
    pub decided_by: Option<String>,
    pub approvers: Vec<String>,
    pub approved_at: Option<String>,
    /// The step at which the claim joined the queue of claims waiting for funds.
    pub queued_step: Option<usize>,
    pub approval_entry: Option<String>,
    pub paid_on: Option<NaiveDate>,
    /// What its payees were paid so far (a claim whose heirs share it is paid
    /// payee by payee, and may wait for funds partly paid).
    pub paid_to_payees: Decimal,
}

pub fn amount(v: &Value) -> Option<Decimal> {
    v.as_str().and_then(|s| s.parse().ok())
}

impl ClaimModel {
    pub fn awarded(&self) -> bool {
        AWARDED.contains(&self.status.as_str())
    }

    /// The date part of `approved_at`.
    pub fn approved_on(&self) -> Option<NaiveDate> {
        self.approved_at
            .as_deref()
            .and_then(|t| t.get(..10))
            .and_then(|t| t.parse().ok())
    }

    /// Updates what the test knows from a claim as the service answered it
    /// (a full claim, or a rider summary with `status` and `assessment`).
    pub fn update(&mut self, body: &Value) {
        if let Some(s) = body["status"].as_str() {
            self.status = s.to_string();
        }
        let a = &body["assessment"];
        if let Some(p) = amount(&a["payable"]) {
            self.payable = p;
        }
        if let Some(r) = a["reasons"].as_array() {
            self.reasons = r
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
        }
        if let Some(m) = a["missing_documents"].as_array() {
            self.missing_documents = m
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
        }
        if body.get("id").is_some() && body.get("approvals").is_some() {
            // A full claim.
            self.appealed = body["appealed"] == true;
            self.award = amount(&body["decision"]["amount"]);
            self.decided_by = body["decision"]["decided_by"].as_str().map(str::to_string);
            self.approvers = body["approvals"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x["approver"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            self.approved_at = body["approved_at"].as_str().map(str::to_string);
            self.approval_entry = body["approval_entry_id"].as_str().map(str::to_string);
            self.paid_on = body["payment"]["paid_on"]
                .as_str()
                .and_then(|s| s.parse().ok());
            if let Some(docs) = body["documents"].as_array() {
                self.documents = docs
                    .iter()
                    .filter_map(|x| x["type"].as_str().map(str::to_string))
                    .collect();
            }
            self.grade = body["grade"].as_str().map(str::to_string);
            self.claimed_amount = amount(&body["claimed_amount"]);
            self.paid_to_payees = body["payees"]
                .as_array()
                .map(|payees| {
                    payees
                        .iter()
                        .filter(|p| p["paid_on"].is_string())
                        .filter_map(|p| amount(&p["amount"]))
                        .sum()
                })
                .unwrap_or_default();
        }
    }
}

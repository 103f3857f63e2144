//! The rule document as partner ministries and administrators write it
//! (RULES.md). Field names are a contract: unknown fields are refused, and every
//! field must be present (`null` where it does not apply).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::money::DecimalString;

/// A field that must be present but may be `null`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// One version of a fund's rules.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
        "version": "KE-MWF-2026",
        "effective_from": "2026-01-01",
        "contribution": {
            "currency": "KES",
            "basis": "flat",
            "tiers": [
                {
                    "max_contract_months": 24,
                    "amount": "2000.00"
                },
                {
                    "max_contract_months": null,
                    "amount": "3000.00"
                }
            ],
            "rate": null,
            "minimum": null,
            "maximum": null,
            "taxes": [],
            "payers": [
                "worker",
                "employer",
                "agency",
                "government"
            ],
            "allocation": {
                "benefit_reserve": "0.90",
                "administration": "0.10"
            }
        },
        "membership": {
            "validity": "fixed_months",
            "months": 24,
            "grace_days": 30
        },
        "claimant_order": [
            "spouse",
            "child",
            "parent",
            "sibling"
        ],
        "approval": {
            "second_approval_above": "250000.00",
            "committee_size": 2
        },
        "benefits": [
            {
                "code": "DEATH_NATURAL",
                "name": "Death benefit, natural causes",
                "track": "entitlement",
                "amount": {
                    "kind": "fixed",
                    "value": "300000.00"
                },
                "requires_active_membership": true,
                "waiting_days": 30,
                "covered_phases": [
                    "abroad",
                    "home_on_leave"
                ],
                "days_after_return": null,
                "filing_window_days": 365,
                "claimants": [
                    "spouse",
                    "child",
                    "parent",
                    "sibling"
                ],
                "documents": [
                    "DEATH_CERTIFICATE",
                    "PROOF_OF_RELATIONSHIP",
                    "CLAIMANT_ID"
                ],
                "max_claims": 1,
                "per_family_limit": null,
                "annual_cap": null,
                "lifetime_cap": null,
                "cap_group": null,
                "riders": [
                    "REPATRIATION_OF_REMAINS"
                ]
            },
            {
                "code": "REPATRIATION_OF_REMAINS",
                "name": "Repatriation of remains",
                "track": "entitlement",
                "amount": {
                    "kind": "reimbursement",
                    "rate": "1.00",
                    "cap": "250000.00"
                },
                "requires_active_membership": true,
                "waiting_days": 0,
                "covered_phases": [
                    "abroad"
                ],
                "days_after_return": null,
                "filing_window_days": 365,
                "claimants": [
                    "spouse",
                    "child",
                    "parent",
                    "sibling"
                ],
                "documents": [
                    "TRANSPORT_RECEIPTS"
                ],
                "max_claims": 1,
                "per_family_limit": null,
                "annual_cap": null,
                "lifetime_cap": null,
                "cap_group": null,
                "riders": []
            },
            {
                "code": "INVALIDITY",
                "name": "Invalidity",
                "track": "entitlement",
                "amount": {
                    "kind": "schedule",
                    "maximum": "400000.00",
                    "grades": {
                        "1": "1.00",
                        "2": "0.75",
                        "3": "0.50",
                        "4": "0.25",
                        "5": "0.04"
                    }
                },
                "requires_active_membership": true,
                "waiting_days": 0,
                "covered_phases": [
                    "abroad"
                ],
                "days_after_return": null,
                "filing_window_days": 365,
                "claimants": [
                    "worker"
                ],
                "documents": [
                    "MEDICAL_CERTIFICATE"
                ],
                "max_claims": null,
                "per_family_limit": null,
                "annual_cap": null,
                "lifetime_cap": "400000.00",
                "cap_group": "INVALIDITY",
                "riders": []
            }
        ]
    }))]
pub struct RuleDocument {
    /// A label unique within the fund (`PH-OWWA-2016`).
    pub version: String,
    /// The first day the version is in force; it ends the day before the next version's.
    #[serde(deserialize_with = "crate::date::strict")]
    pub effective_from: NaiveDate,
    pub contribution: ContributionRules,
    pub membership: MembershipRules,
    /// Relationships in order of priority among dependants.
    pub claimant_order: Vec<Relationship>,
    pub approval: ApprovalRules,
    pub benefits: Vec<BenefitRules>,
    /// A sum granted to long-standing members (README, "Rebates"). Optional:
    /// absent or `null`, the fund grants none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebate: Option<RebateRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Flat,
    PercentOfWage,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The longest contract (in started months) this tier applies to; `null` for any length.
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true)]
    pub max_contract_months: Option<u32>,
    #[schema(example = "1500.00")]
    pub amount: DecimalString,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tax {
    #[schema(example = "VAT")]
    pub code: String,
    /// Charged on top of the contribution, as a share (`"0.15"`).
    #[schema(example = "0.15")]
    pub rate: DecimalString,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayerType {
    Worker,
    Employer,
    Agency,
    Government,
}

impl PayerType {
    pub fn as_str(self) -> &'static str {
        match self {
            PayerType::Worker => "worker",
            PayerType::Employer => "employer",
            PayerType::Agency => "agency",
            PayerType::Government => "government",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    /// Share of the contribution (without taxes) booked to benefit-reserve income.
    #[schema(example = "0.90")]
    pub benefit_reserve: DecimalString,
    /// Share booked to administration income; the two add up to exactly 1.
    #[schema(example = "0.10")]
    pub administration: DecimalString,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContributionRules {
    /// What the contribution is charged in (may differ from the fund's benefit currency).
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
    pub basis: Basis,
    /// `flat`: the first tier that fits the contract's length.
    pub tiers: Vec<Tier>,
    /// `percent_of_wage`: rate × declared monthly wage × membership months.
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true)]
    pub rate: Option<DecimalString>,
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true)]
    pub minimum: Option<DecimalString>,
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true)]
    pub maximum: Option<DecimalString>,
    pub taxes: Vec<Tax>,
    /// Who may pay.
    pub payers: Vec<PayerType>,
    /// Occupation sectors (the worker's `occupation_sector`) whose contribution the
    /// employer alone pays (Indonesia from 15 July 2021: domestic work and nine
    /// other occupations). Optional, unlike the other fields, so documents written
    /// before it existed keep their meaning: absent or `null`, any allowed payer pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = json!(["domestic_work", "agriculture", "fishing"]))]
    pub employer_pays_for_sectors: Option<Vec<String>>,
    pub allocation: Allocation,
    /// How a renewal is priced, apart from a first registration (Sri Lanka).
    /// Optional: absent or `null`, every contribution is priced by `tiers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal: Option<RenewalPricing>,
}

impl ContributionRules {
    /// Whether the employer alone must pay for a worker of `sector`.
    pub fn employer_must_pay(&self, sector: Option<&str>) -> bool {
        match (&self.employer_pays_for_sectors, sector) {
            (Some(sectors), Some(sector)) => sectors.iter().any(|s| s == sector),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    FixedMonths,
    ContractEnd,
    /// Anchored on the contract's departure and return (`membership.anchors`).
    ContractEvents,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipRules {
    pub validity: Validity,
    /// Months a contribution covers: needed with `fixed_months` validity or a
    /// `percent_of_wage` basis; may be `null` otherwise.
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true)]
    pub months: Option<u32>,
    /// Days membership stays active after coverage ends.
    pub grace_days: u32,
    /// With `contract_events` validity: how far coverage reaches before the
    /// departure and after the return. Optional: absent or `null` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchors: Option<CoverageAnchors>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    Worker,
    Spouse,
    Child,
    Parent,
    Sibling,
    Other,
}

impl Relationship {
    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Worker => "worker",
            Relationship::Spouse => "spouse",
            Relationship::Child => "child",
            Relationship::Parent => "parent",
            Relationship::Sibling => "sibling",
            Relationship::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Relationship> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRules {
    /// An entitlement decision above this amount needs a second approver.
    #[schema(example = "150000.00")]
    pub second_approval_above: DecimalString,
    /// Distinct approvers a discretionary award needs.
    pub committee_size: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    Entitlement,
    Discretionary,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    BeforeDeparture,
    Abroad,
    HomeOnLeave,
    AfterReturn,
}

/// How a benefit's amount is worked out.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AmountRule {
    /// The same amount for every eligible claim.
    #[schema(title = "FixedAmount")]
    Fixed { value: DecimalString },
    /// rate × documented expense, at most cap.
    #[schema(title = "ReimbursementAmount")]
    Reimbursement {
        rate: DecimalString,
        cap: DecimalString,
    },
    /// A grade's share of maximum (disability).
    #[schema(title = "ScheduleAmount")]
    Schedule {
        maximum: DecimalString,
        /// The share of `maximum` for each grade (`"1"`: `"1.00"`, `"2"`: `"0.75"`, …).
        grades: BTreeMap<String, DecimalString>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BenefitRules {
    #[schema(example = "DEATH_NATURAL")]
    pub code: String,
    pub name: String,
    pub track: Track,
    pub amount: AmountRule,
    pub requires_active_membership: bool,
    pub waiting_days: u32,
    pub covered_phases: Vec<Phase>,
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true)]
    pub days_after_return: Option<u32>,
    pub filing_window_days: u32,
    pub claimants: Vec<Relationship>,
    pub documents: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true)]
    pub max_claims: Option<u32>,
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true)]
    pub per_family_limit: Option<u32>,
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true)]
    pub annual_cap: Option<DecimalString>,
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true)]
    pub lifetime_cap: Option<DecimalString>,
    #[serde(deserialize_with = "nullable")]
    #[schema(required = true)]
    pub cap_group: Option<String>,
    pub riders: Vec<String>,
    /// Benefits of this version that cannot be paid for the same event as this
    /// one (a death is natural or accidental, not both). Mutual: listing it on
    /// one of the two is enough. Optional: absent or `null`, none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = json!(["DEATH_ACCIDENT"]))]
    pub excludes: Option<Vec<String>>,
    /// The day the filing window counts from. Optional: absent or `null`, the incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing_window_from: Option<FilingWindowFrom>,
    /// Who shares the benefit and in what order (heirs, a nominee, the estate),
    /// and who is a minor paid through a guardian. Optional, so documents
    /// written before it existed keep their meaning: absent, the claimant alone
    /// is paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiaries: Option<super::beneficiaries::BeneficiaryRules>,
    /// Paid as a schedule of instalments rather than one sum (a scholarship per
    /// school year, a monthly allowance). Optional, so documents written before
    /// it existed keep their meaning: absent, the benefit is one sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instalments: Option<InstalmentRules>,
}

impl BenefitRules {
    /// Whether this benefit and `other` exclude each other, as either lists it.
    pub fn excludes_benefit(&self, other: &BenefitRules) -> bool {
        let lists = |b: &BenefitRules, code: &str| {
            b.excludes
                .as_ref()
                .is_some_and(|codes| codes.iter().any(|c| c == code))
        };
        lists(self, &other.code) || lists(other, &self.code)
    }
}

/// What the filing window of a benefit counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilingWindowFrom {
    /// The incident date (the default).
    Incident,
    /// The later of the incident date and the last day of the claim's contract
    /// (its early termination, else its end date): Nepal.
    LaterOfIncidentAndContractEnd,
}

/// How far `contract_events` coverage reaches around the placement: from
/// `before_departure_months` before the departure (the recorded one, else the
/// contract's start date), but never before the payment, to
/// `after_return_months` after the return (the recorded one, else the
/// contract's last day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageAnchors {
    #[schema(example = 5)]
    pub before_departure_months: u32,
    #[schema(example = 1)]
    pub after_return_months: u32,
}

/// The price of a renewal: a contribution of a worker who already has a
/// recorded, not reversed contribution paid on an earlier day. Tiers as in
/// `contribution.tiers`; only with a `flat` basis.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewalPricing {
    pub tiers: Vec<Tier>,
}

/// A rebate: a worker with at least `min_years` years of contributions may be
/// granted `amount` (in the fund's currency) once per `code`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebateRule {
    /// Names the rebate across versions: one rebate per worker per code.
    #[schema(example = "LONG_MEMBERSHIP")]
    pub code: String,
    /// Whole years of contributions needed: the days covered by the worker's
    /// recorded, not reversed contributions (periods merged, up to the day of
    /// the check), divided by 365, rounded down.
    #[schema(example = 10)]
    pub min_years: u32,
    #[schema(example = "5000.00")]
    pub amount: DecimalString,
}

/// How often an instalment benefit falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstalmentFrequency {
    /// On the same day of each month, from the incident date.
    Month,
    /// On the incident date for the school year then running, then at the
    /// start of each school year (`school_year_starts`).
    SchoolYear,
}

/// A benefit paid in instalments: the amount rule gives each instalment's
/// amount. The first falls due on the incident date and is booked at approval;
/// each later one is re-assessed on its due date (the award still stands, the
/// claimant is under `max_age`, its `documents` are attached) before a payment
/// run pays it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"every": "school_year", "school_year_starts": "04-14", "count": 12, "max_age": 18, "documents": ["SCHOOL_ENROLMENT"]}))]
pub struct InstalmentRules {
    pub every: InstalmentFrequency,
    /// `MM-DD`, the first day of a school year (needed with `school_year`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "04-14")]
    pub school_year_starts: Option<String>,
    /// How many instalments at most; absent or `null`, as long as the claimant
    /// is under `max_age` (which is then required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// The claimant's age (in whole years) at which instalments stop: an
    /// instalment falling due on or after that birthday lapses, with every later one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    /// Documents each later instalment needs, attached for it (proof of
    /// enrolment for its school year); the first needs the benefit's `documents`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
}

impl InstalmentRules {
    /// The (month, day) a school year starts on, when given and well formed.
    pub fn school_year_start(&self) -> Option<(u32, u32)> {
        let text = self.school_year_starts.as_deref()?;
        let (month, day) = text.split_once('-')?;
        if month.len() != 2 || day.len() != 2 {
            return None;
        }
        let (month, day): (u32, u32) = (month.parse().ok()?, day.parse().ok()?);
        // A day every year has (not 29 February).
        NaiveDate::from_ymd_opt(2001, month, day).map(|_| (month, day))
    }
}

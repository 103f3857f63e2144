//! Validation of a rule document beyond its shape: every impossible value is
//! reported with the JSON pointer of its field, all at once.

use std::collections::{BTreeSet, HashSet};

use rust_decimal::Decimal;

use super::beneficiaries::{BeneficiaryRules, MAX_CLASSES, MAX_MINOR_AGE};
use super::document::{
    Allocation, AmountRule, ApprovalRules, Basis, BenefitRules, ContributionRules,
    InstalmentFrequency, InstalmentRules, MembershipRules, PayerType, Phase, RuleDocument, Tax,
    Tier, Validity,
};
use crate::error::FieldError;

mod features;
use crate::money::{to_minor, Currency, DecimalString};

/// Limits on a rule document.
pub const MAX_BENEFITS: usize = 100;
pub const MAX_TIERS: usize = 50;
pub const MAX_MONTHS: u32 = 600;
pub const MAX_DAYS: u32 = 36_500;

fn is_code(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    fn fail(&mut self, field: String, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// A positive amount in `currency`, exact to its minor unit.
    fn amount(&mut self, field: String, value: &DecimalString, currency: Currency) {
        if let Err(e) = to_minor(value.0, currency) {
            self.errors.push(FieldError::money(field, &e));
        }
    }

    /// A share between 0 and 1 (inclusive of 1; `positive` excludes 0).
    fn share(&mut self, field: String, value: &DecimalString, positive: bool) {
        let v = value.0;
        let low_ok = if positive {
            v > Decimal::ZERO
        } else {
            v >= Decimal::ZERO
        };
        if !low_ok || v > Decimal::ONE {
            let range = if positive {
                "greater than 0 and at most 1"
            } else {
                "between 0 and 1"
            };
            self.fail(field, "out_of_range", format!("must be {range}"));
        }
    }

    fn unique<T: Ord + Copy>(&mut self, field: &str, items: &[T]) {
        let mut seen = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            if !seen.insert(*item) {
                self.fail(format!("{field}/{i}"), "duplicate", "is listed twice");
            }
        }
    }
}

/// Checks a parsed document against RULES.md. Benefit amounts are in the fund's
/// currency; contribution amounts in `contribution.currency`. Every section is
/// checked, in the document's order, so all errors come back at once.
pub fn validate(doc: &RuleDocument, fund_currency: Currency) -> Result<Currency, Vec<FieldError>> {
    let mut c = Check { errors: Vec::new() };
    check_version(&mut c, &doc.version);
    let currency = check_contribution(&mut c, &doc.contribution);
    check_membership(&mut c, &doc.membership, doc.contribution.basis);
    c.unique("/claimant_order", &doc.claimant_order);
    check_approval(&mut c, &doc.approval, fund_currency);
    check_benefits(&mut c, &doc.benefits, fund_currency);
    features::check_rule_features(&mut c, doc, fund_currency);

    if c.errors.is_empty() {
        Ok(currency.expect("a valid document has a valid contribution currency"))
    } else {
        Err(c.errors)
    }
}

impl Check {
    fn amount_or_zero(&mut self, field: &str, value: &DecimalString, currency: Currency) {
        if value.0 != Decimal::ZERO {
            self.amount(field.to_string(), value, currency);
        }
    }
}

/// The version label: 1 to 64 letters, digits, '.', '-' or '_'.
fn check_version(c: &mut Check, version: &str) {
    let version_ok = !version.is_empty()
        && version.len() <= 64
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !version_ok {
        c.fail(
            "/version".into(),
            "invalid_format",
            "must be 1 to 64 letters, digits, '.', '-' or '_'",
        );
    }
}

/// The contribution section; returns its currency when that is valid. The
/// amounts (basis and tiers) are checked only in a valid currency.
fn check_contribution(c: &mut Check, contribution: &ContributionRules) -> Option<Currency> {
    let currency = match Currency::parse(&contribution.currency) {
        Ok(currency) => Some(currency),
        Err(e) => {
            c.errors
                .push(FieldError::money("/contribution/currency", &e));
            None
        }
    };
    if let Some(currency) = currency {
        match contribution.basis {
            Basis::Flat => check_flat_basis(c, contribution),
            Basis::PercentOfWage => check_percent_of_wage(c, contribution, currency),
        }
        check_tiers(c, "/contribution/tiers", &contribution.tiers, currency);
    }
    check_taxes(c, &contribution.taxes);
    if contribution.payers.is_empty() {
        c.fail(
            "/contribution/payers".into(),
            "required",
            "name at least one payer",
        );
    }
    c.unique("/contribution/payers", &contribution.payers);
    if let Some(sectors) = &contribution.employer_pays_for_sectors {
        check_employer_sectors(c, sectors, &contribution.payers);
    }
    check_allocation(c, &contribution.allocation);
    currency
}

/// The longest sector name `employer_pays_for_sectors` may list: as long as a
/// worker's `occupation_sector` may be.
const MAX_SECTOR_LEN: usize = 200;

/// Sectors the employer pays for: named (as workers' `occupation_sector`), each
/// once, and only where the employer is among the payers, or nobody could pay.
fn check_employer_sectors(c: &mut Check, sectors: &[String], payers: &[PayerType]) {
    let field = "/contribution/employer_pays_for_sectors";
    if !sectors.is_empty() && !payers.contains(&PayerType::Employer) {
        c.fail(
            field.into(),
            "employer_not_a_payer",
            "list sectors only when `employer` is among the payers",
        );
    }
    for (i, sector) in sectors.iter().enumerate() {
        // Workers' sectors are stored trimmed, so a name with spaces around it
        // would never match.
        let trimmed = sector.trim();
        if trimmed.is_empty() || trimmed != sector || sector.chars().count() > MAX_SECTOR_LEN {
            c.errors.push(
                FieldError::new(
                    format!("{field}/{i}"),
                    "invalid_length",
                    format!("must be a sector name of 1 to {MAX_SECTOR_LEN} characters, without spaces around it"),
                )
                .with_limit(MAX_SECTOR_LEN),
            );
        }
    }
    let names: Vec<&str> = sectors.iter().map(String::as_str).collect();
    c.unique(field, &names);
}

/// A flat contribution is priced by its tiers alone: at least one tier, and no
/// rate, minimum or maximum.
fn check_flat_basis(c: &mut Check, contribution: &ContributionRules) {
    if contribution.tiers.is_empty() {
        c.fail(
            "/contribution/tiers".into(),
            "required",
            "a flat contribution needs at least one tier",
        );
    }
    for field in ["rate", "minimum", "maximum"] {
        let present = match field {
            "rate" => contribution.rate.is_some(),
            "minimum" => contribution.minimum.is_some(),
            _ => contribution.maximum.is_some(),
        };
        if present {
            c.fail(
                format!("/contribution/{field}"),
                "not_applicable",
                "must be null for a flat contribution",
            );
        }
    }
}

/// A share of the wage: no tiers, a rate, and a minimum no larger than the maximum.
fn check_percent_of_wage(c: &mut Check, contribution: &ContributionRules, currency: Currency) {
    if !contribution.tiers.is_empty() {
        c.fail(
            "/contribution/tiers".into(),
            "not_applicable",
            "must be empty for percent_of_wage",
        );
    }
    match &contribution.rate {
        Some(rate) => c.share("/contribution/rate".into(), rate, true),
        None => c.fail(
            "/contribution/rate".into(),
            "required",
            "percent_of_wage needs a rate",
        ),
    }
    if let Some(min) = &contribution.minimum {
        c.amount("/contribution/minimum".into(), min, currency);
    }
    if let Some(max) = &contribution.maximum {
        c.amount("/contribution/maximum".into(), max, currency);
    }
    if let (Some(min), Some(max)) = (&contribution.minimum, &contribution.maximum) {
        if min.0 > max.0 {
            c.fail(
                "/contribution/minimum".into(),
                "out_of_range",
                "must not exceed maximum",
            );
        }
    }
}

/// Tiers give every contract length one amount: at most [`MAX_TIERS`], in
/// increasing order of contract length, only the last one open-ended.
fn check_tiers(c: &mut Check, at: &str, tiers: &[Tier], currency: Currency) {
    if tiers.len() > MAX_TIERS {
        c.fail(at.into(), "too_many", format!("at most {MAX_TIERS} tiers"));
    }
    let mut previous: Option<u32> = None;
    for (i, tier) in tiers.iter().enumerate() {
        let field = format!("{at}/{i}");
        c.amount(format!("{field}/amount"), &tier.amount, currency);
        let last = i + 1 == tiers.len();
        match tier.max_contract_months {
            None if !last => c.fail(
                format!("{field}/max_contract_months"),
                "unreachable_tier",
                "only the last tier may be open-ended (null)",
            ),
            Some(_) if last => c.fail(
                format!("{field}/max_contract_months"),
                "required_open_tier",
                "the last tier must be null so that every contract length has an amount",
            ),
            Some(m) if m == 0 || m > MAX_MONTHS => c.fail(
                format!("{field}/max_contract_months"),
                "out_of_range",
                format!("must be 1 to {MAX_MONTHS}"),
            ),
            Some(m) if previous.is_some_and(|p| m <= p) => c.fail(
                format!("{field}/max_contract_months"),
                "not_increasing",
                "tiers must be in increasing order of contract length",
            ),
            _ => {}
        }
        previous = tier.max_contract_months.or(previous);
    }
}

/// Taxes: each a distinct code with a positive rate.
fn check_taxes(c: &mut Check, taxes: &[Tax]) {
    let mut tax_codes = HashSet::new();
    for (i, tax) in taxes.iter().enumerate() {
        if !is_code(&tax.code, 16) {
            c.fail(
                format!("/contribution/taxes/{i}/code"),
                "invalid_format",
                "must be upper-case letters, digits or '_'",
            );
        } else if !tax_codes.insert(tax.code.as_str()) {
            c.fail(
                format!("/contribution/taxes/{i}/code"),
                "duplicate",
                "is listed twice",
            );
        }
        c.share(format!("/contribution/taxes/{i}/rate"), &tax.rate, true);
    }
}

/// The split of the amount between benefit reserve and administration: two
/// shares adding up to exactly 1.
fn check_allocation(c: &mut Check, allocation: &Allocation) {
    c.share(
        "/contribution/allocation/benefit_reserve".into(),
        &allocation.benefit_reserve,
        false,
    );
    c.share(
        "/contribution/allocation/administration".into(),
        &allocation.administration,
        false,
    );
    if allocation.benefit_reserve.0 + allocation.administration.0 != Decimal::ONE {
        c.fail(
            "/contribution/allocation".into(),
            "shares_not_one",
            "benefit_reserve and administration must add up to exactly 1",
        );
    }
}

/// Membership: months where the validity or a percent-of-wage basis needs them,
/// and a bounded grace.
fn check_membership(c: &mut Check, membership: &MembershipRules, basis: Basis) {
    match (membership.validity, membership.months) {
        (Validity::FixedMonths, None) => c.fail(
            "/membership/months".into(),
            "required",
            "fixed_months needs months",
        ),
        (_, Some(m)) if m == 0 || m > MAX_MONTHS => c.fail(
            "/membership/months".into(),
            "out_of_range",
            format!("must be 1 to {MAX_MONTHS}"),
        ),
        _ => {}
    }
    if basis == Basis::PercentOfWage && membership.months.is_none() {
        c.fail(
            "/membership/months".into(),
            "required",
            "percent_of_wage multiplies the wage by membership months",
        );
    }
    if membership.grace_days > MAX_DAYS {
        c.fail(
            "/membership/grace_days".into(),
            "out_of_range",
            format!("must be at most {MAX_DAYS}"),
        );
    }
}

/// Approval: the second-approval threshold (0 for none) and a committee of 1 to 20.
fn check_approval(c: &mut Check, approval: &ApprovalRules, fund_currency: Currency) {
    c.amount_or_zero(
        "/approval/second_approval_above",
        &approval.second_approval_above,
        fund_currency,
    );
    if approval.committee_size == 0 || approval.committee_size > 20 {
        c.fail(
            "/approval/committee_size".into(),
            "out_of_range",
            "must be 1 to 20",
        );
    }
}

/// At most [`MAX_BENEFITS`] benefits, each code defined once, each benefit valid.
fn check_benefits(c: &mut Check, benefits: &[BenefitRules], fund_currency: Currency) {
    if benefits.len() > MAX_BENEFITS {
        c.fail(
            "/benefits".into(),
            "too_many",
            format!("at most {MAX_BENEFITS} benefits"),
        );
    }
    let codes: Vec<&str> = benefits.iter().map(|b| b.code.as_str()).collect();
    let mut seen = HashSet::new();
    for (i, benefit) in benefits.iter().enumerate() {
        if is_code(&benefit.code, 64) && !seen.insert(benefit.code.as_str()) {
            c.fail(
                format!("/benefits/{i}/code"),
                "duplicate",
                format!("benefit {} is defined twice", benefit.code),
            );
        }
        check_benefit(c, i, benefit, benefits, &codes, fund_currency);
    }
}

/// One benefit, `all[i]`, its fields in the document's order; `codes` are the
/// codes of `all`, in the same order.
fn check_benefit(
    c: &mut Check,
    i: usize,
    b: &BenefitRules,
    all: &[BenefitRules],
    codes: &[&str],
    currency: Currency,
) {
    debug_assert!(std::ptr::eq(b, &all[i]), "b is the benefit at index i");
    debug_assert_eq!(codes.len(), all.len(), "codes are the codes of all");
    let at = |field: &str| format!("/benefits/{i}/{field}");
    if !is_code(&b.code, 64) {
        c.fail(
            at("code"),
            "invalid_format",
            "must be upper-case letters, digits or '_'",
        );
    }
    if b.name.trim().is_empty() || b.name.chars().count() > 200 {
        c.fail(at("name"), "invalid_length", "must be 1 to 200 characters");
    }
    check_amount_rule(c, &at, &b.amount, currency);
    if b.waiting_days > MAX_DAYS {
        c.fail(
            at("waiting_days"),
            "out_of_range",
            format!("must be at most {MAX_DAYS}"),
        );
    }
    check_covered_phases(c, &at, b);
    if b.filing_window_days == 0 || b.filing_window_days > MAX_DAYS {
        c.fail(
            at("filing_window_days"),
            "out_of_range",
            format!("must be 1 to {MAX_DAYS}"),
        );
    }
    if b.claimants.is_empty() {
        c.fail(
            at("claimants"),
            "required",
            "name at least one claimant relationship",
        );
    }
    c.unique(&at("claimants"), &b.claimants);
    check_documents(c, &at, &b.documents);
    check_limits_and_caps(c, &at, b, currency);
    check_riders(c, &at, b, all, codes);
    if let Some(rules) = &b.beneficiaries {
        check_beneficiaries(c, &at, rules);
    }
    if let Some(instalments) = &b.instalments {
        check_instalments(c, &at, instalments);
        // A schedule pays its one claimant; heirs sharing instalments is not modelled.
        if b.beneficiaries.is_some() {
            c.fail(
                at("instalments"),
                "not_combinable",
                "a benefit paid in instalments pays its claimant: drop `beneficiaries` or `instalments`",
            );
        }
    }
}

/// The amount rule: a valid amount, rate and cap, or a schedule of numbered grades.
fn check_amount_rule(
    c: &mut Check,
    at: &impl Fn(&str) -> String,
    amount: &AmountRule,
    currency: Currency,
) {
    match amount {
        AmountRule::Fixed { value } => c.amount(at("amount/value"), value, currency),
        AmountRule::Reimbursement { rate, cap } => {
            c.share(at("amount/rate"), rate, true);
            c.amount(at("amount/cap"), cap, currency);
        }
        AmountRule::Schedule { maximum, grades } => {
            c.amount(at("amount/maximum"), maximum, currency);
            if grades.is_empty() {
                c.fail(
                    at("amount/grades"),
                    "required",
                    "a schedule needs at least one grade",
                );
            }
            for (grade, share) in grades {
                if grade.is_empty() || grade.len() > 8 || !grade.bytes().all(|b| b.is_ascii_digit())
                {
                    c.fail(
                        at(&format!("amount/grades/{grade}")),
                        "invalid_format",
                        "grades are numbers written as strings (\"1\", \"2\")",
                    );
                }
                c.share(at(&format!("amount/grades/{grade}")), share, true);
            }
        }
    }
}

/// Covered phases: at least one, each once; `days_after_return` exactly when
/// `after_return` is covered.
fn check_covered_phases(c: &mut Check, at: &impl Fn(&str) -> String, b: &BenefitRules) {
    if b.covered_phases.is_empty() {
        c.fail(at("covered_phases"), "required", "name at least one phase");
    }
    c.unique(&at("covered_phases"), &b.covered_phases);
    match (
        b.covered_phases.contains(&Phase::AfterReturn),
        b.days_after_return,
    ) {
        (true, None) => c.fail(
            at("days_after_return"),
            "required",
            "after_return coverage needs days_after_return",
        ),
        (false, Some(_)) => c.fail(
            at("days_after_return"),
            "not_applicable",
            "must be null unless after_return is covered",
        ),
        (_, Some(d)) if d > MAX_DAYS => c.fail(
            at("days_after_return"),
            "out_of_range",
            format!("must be at most {MAX_DAYS}"),
        ),
        _ => {}
    }
}

/// Required documents: codes, each listed once.
fn check_documents(c: &mut Check, at: &impl Fn(&str) -> String, documents: &[String]) {
    let mut seen = HashSet::new();
    for (d, document) in documents.iter().enumerate() {
        if !is_code(document, 64) {
            c.fail(
                at(&format!("documents/{d}")),
                "invalid_format",
                "must be upper-case letters, digits or '_'",
            );
        } else if !seen.insert(document.as_str()) {
            c.fail(
                at(&format!("documents/{d}")),
                "duplicate",
                "is listed twice",
            );
        }
    }
}

/// Claim limits (at least 1, or null) and caps (valid amounts, a code for their group).
fn check_limits_and_caps(
    c: &mut Check,
    at: &impl Fn(&str) -> String,
    b: &BenefitRules,
    currency: Currency,
) {
    for (field, value) in [
        ("max_claims", b.max_claims),
        ("per_family_limit", b.per_family_limit),
    ] {
        if value == Some(0) {
            c.fail(
                at(field),
                "out_of_range",
                "must be at least 1, or null for no limit",
            );
        }
    }
    if let Some(cap) = &b.annual_cap {
        c.amount(at("annual_cap"), cap, currency);
    }
    if let Some(cap) = &b.lifetime_cap {
        c.amount(at("lifetime_cap"), cap, currency);
    }
    if let Some(group) = &b.cap_group {
        if !is_code(group, 64) {
            c.fail(
                at("cap_group"),
                "invalid_format",
                "must be upper-case letters, digits or '_'",
            );
        }
    }
}

/// Riders: other benefits of this version that carry no riders of their own.
fn check_riders(
    c: &mut Check,
    at: &impl Fn(&str) -> String,
    b: &BenefitRules,
    all: &[BenefitRules],
    codes: &[&str],
) {
    for (r, rider) in b.riders.iter().enumerate() {
        let field = at(&format!("riders/{r}"));
        if rider == &b.code {
            c.fail(field, "self_rider", "a benefit cannot be its own rider");
        } else if !codes.contains(&rider.as_str()) {
            c.fail(
                field,
                "unknown_benefit",
                format!("no benefit {rider} in this version"),
            );
        } else if all.iter().any(|o| &o.code == rider && !o.riders.is_empty()) {
            c.fail(
                field,
                "nested_rider",
                format!("{rider} has riders of its own; a rider cannot carry riders"),
            );
        }
    }
}

/// Who shares a benefit: 1 to [`MAX_CLASSES`] classes, none empty, each heir in
/// one class once; a minor's age limit from 1 to [`MAX_MINOR_AGE`].
fn check_beneficiaries(c: &mut Check, at: &impl Fn(&str) -> String, rules: &BeneficiaryRules) {
    if rules.classes.is_empty() || rules.classes.len() > MAX_CLASSES {
        c.fail(
            at("beneficiaries/classes"),
            "invalid_length",
            format!("name 1 to {MAX_CLASSES} classes of heirs"),
        );
    }
    let mut seen = BTreeSet::new();
    for (k, class) in rules.classes.iter().enumerate() {
        if class.is_empty() {
            c.fail(
                at(&format!("beneficiaries/classes/{k}")),
                "required",
                "a class names at least one heir",
            );
        }
        for (h, heir) in class.iter().enumerate() {
            if !seen.insert(*heir) {
                c.fail(
                    at(&format!("beneficiaries/classes/{k}/{h}")),
                    "duplicate",
                    format!("{} is already in a class", heir.as_str()),
                );
            }
        }
    }
    if let Some(age) = rules.minor_below_age {
        if age == 0 || age > MAX_MINOR_AGE {
            c.fail(
                at("beneficiaries/minor_below_age"),
                "out_of_range",
                format!("must be 1 to {MAX_MINOR_AGE}"),
            );
        }
    }
}

/// The most instalments a schedule may have (fifty years of months).
pub const MAX_INSTALMENTS: u32 = 600;
/// The highest age limit an instalment benefit may set.
pub const MAX_AGE: u32 = 120;

/// Instalments: a bounded count or an age limit (else the schedule never
/// ends), a school year's first day exactly for school years, and document codes.
fn check_instalments(c: &mut Check, at: &impl Fn(&str) -> String, rules: &InstalmentRules) {
    let field = |name: &str| at(&format!("instalments/{name}"));
    match rules.count {
        Some(n) if n == 0 || n > MAX_INSTALMENTS => c.fail(
            field("count"),
            "out_of_range",
            format!("must be 1 to {MAX_INSTALMENTS}"),
        ),
        None if rules.max_age.is_none() => c.fail(
            field("count"),
            "required",
            "give a count, or a max_age that ends the schedule",
        ),
        _ => {}
    }
    if rules.max_age.is_some_and(|a| a == 0 || a > MAX_AGE) {
        c.fail(
            field("max_age"),
            "out_of_range",
            format!("must be 1 to {MAX_AGE}"),
        );
    }
    match (rules.every, &rules.school_year_starts) {
        (InstalmentFrequency::SchoolYear, None) => c.fail(
            field("school_year_starts"),
            "required",
            "a school-year schedule names the day school years start (MM-DD)",
        ),
        (InstalmentFrequency::SchoolYear, Some(_)) if rules.school_year_start().is_none() => c
            .fail(
                field("school_year_starts"),
                "invalid_format",
                "must be MM-DD, a day every year has",
            ),
        (InstalmentFrequency::Month, Some(_)) => c.fail(
            field("school_year_starts"),
            "not_applicable",
            "only a school-year schedule has a school year",
        ),
        _ => {}
    }
    check_documents(c, &|name: &str| field(name), &rules.documents);
}

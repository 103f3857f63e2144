//! Validation of the optional fields that let a document say what real funds
//! write (issue 15): benefits that exclude each other, coverage anchored on
//! contract events, renewal pricing, the filing window's start, rebates.
//! Documents without them are untouched by these checks.

use std::collections::HashSet;

use super::{check_tiers, is_code, Check, MAX_MONTHS};
use crate::money::Currency;
use crate::rules::document::{Basis, BenefitRules, RuleDocument, Validity};

/// The most years of contributions a rebate may ask for.
pub const MAX_REBATE_YEARS: u32 = 100;

/// Every optional feature of `doc`, each field reported with its pointer.
pub(super) fn check_rule_features(c: &mut Check, doc: &RuleDocument, fund_currency: Currency) {
    check_anchors(c, doc);
    check_renewal(c, doc);
    for (i, benefit) in doc.benefits.iter().enumerate() {
        check_excludes(c, i, benefit, &doc.benefits);
    }
    check_rebate(c, doc, fund_currency);
}

/// `anchors` exactly with `contract_events` validity, each reach bounded.
fn check_anchors(c: &mut Check, doc: &RuleDocument) {
    let membership = &doc.membership;
    match (membership.validity, &membership.anchors) {
        (Validity::ContractEvents, None) => c.fail(
            "/membership/anchors".into(),
            "required",
            "contract_events validity needs anchors",
        ),
        (Validity::ContractEvents, Some(anchors)) => {
            for (field, months) in [
                ("before_departure_months", anchors.before_departure_months),
                ("after_return_months", anchors.after_return_months),
            ] {
                if months > MAX_MONTHS {
                    c.fail(
                        format!("/membership/anchors/{field}"),
                        "out_of_range",
                        format!("must be at most {MAX_MONTHS}"),
                    );
                }
            }
        }
        (_, Some(_)) => c.fail(
            "/membership/anchors".into(),
            "not_applicable",
            "must be null unless validity is contract_events",
        ),
        (_, None) => {}
    }
}

/// Renewal tiers: a flat basis only, tiers valid like `contribution.tiers`.
fn check_renewal(c: &mut Check, doc: &RuleDocument) {
    let Some(renewal) = &doc.contribution.renewal else {
        return;
    };
    if doc.contribution.basis != Basis::Flat {
        c.fail(
            "/contribution/renewal".into(),
            "not_applicable",
            "renewal pricing applies to a flat contribution only",
        );
        return;
    }
    if renewal.tiers.is_empty() {
        c.fail(
            "/contribution/renewal/tiers".into(),
            "required",
            "renewal pricing needs at least one tier",
        );
    }
    // The currency is reported by the contribution's own checks.
    if let Ok(currency) = Currency::parse(&doc.contribution.currency) {
        check_tiers(c, "/contribution/renewal/tiers", &renewal.tiers, currency);
    }
}

/// Excluded benefits: other benefits of this version, each listed once.
fn check_excludes(c: &mut Check, i: usize, benefit: &BenefitRules, all: &[BenefitRules]) {
    let Some(excludes) = &benefit.excludes else {
        return;
    };
    let mut seen = HashSet::new();
    for (e, code) in excludes.iter().enumerate() {
        let field = format!("/benefits/{i}/excludes/{e}");
        if code == &benefit.code {
            c.fail(field, "self_exclusion", "a benefit cannot exclude itself");
        } else if !all.iter().any(|b| &b.code == code) {
            c.fail(
                field,
                "unknown_benefit",
                format!("no benefit {code} in this version"),
            );
        } else if !seen.insert(code.as_str()) {
            c.fail(field, "duplicate", "is listed twice");
        }
    }
}

/// A rebate: a code, 1 to [`MAX_REBATE_YEARS`] years, an amount in the fund's currency.
fn check_rebate(c: &mut Check, doc: &RuleDocument, fund_currency: Currency) {
    let Some(rebate) = &doc.rebate else {
        return;
    };
    if !is_code(&rebate.code, 64) {
        c.fail(
            "/rebate/code".into(),
            "invalid_format",
            "must be upper-case letters, digits or '_'",
        );
    }
    if rebate.min_years == 0 || rebate.min_years > MAX_REBATE_YEARS {
        c.fail(
            "/rebate/min_years".into(),
            "out_of_range",
            format!("must be 1 to {MAX_REBATE_YEARS}"),
        );
    }
    c.amount("/rebate/amount".into(), &rebate.amount, fund_currency);
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::validate;
    use crate::money::Currency;
    use crate::rules::document::RuleDocument;

    /// The Kenyan example's document, changed by `edit`; the pointers of its errors.
    fn errors(edit: impl FnOnce(&mut Value)) -> Vec<String> {
        let file = crate::demo::fund_file("KE-MWF").unwrap();
        let mut doc = file.versions[0].clone();
        edit(&mut doc);
        let doc: RuleDocument = serde_json::from_value(doc).unwrap();
        match validate(&doc, Currency::parse("KES").unwrap()) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn the_new_fields_are_optional_and_valid_values_pass() {
        assert!(errors(|_| {}).is_empty());
        assert!(errors(|d| {
            d["membership"] = json!({"validity": "contract_events", "months": null, "grace_days": 0,
                                     "anchors": {"before_departure_months": 5, "after_return_months": 1}});
            d["contribution"]["renewal"] = json!({"tiers": [{"max_contract_months": null, "amount": "800.00"}]});
            d["benefits"][1]["excludes"] = json!(["INVALIDITY"]);
            d["benefits"][1]["filing_window_from"] = json!("later_of_incident_and_contract_end");
            d["rebate"] = json!({"code": "LONG_MEMBERSHIP", "min_years": 10, "amount": "5000.00"});
        })
        .is_empty());
    }

    #[test]
    fn bad_new_fields_are_reported_with_their_pointers() {
        let found = errors(|d| {
            d["membership"]["validity"] = json!("contract_events");
            d["contribution"]["renewal"] =
                json!({"tiers": [{"max_contract_months": 12, "amount": "0.001"}]});
            d["benefits"][0]["excludes"] =
                json!(["DEATH_NATURAL", "NOPE", "INVALIDITY", "INVALIDITY"]);
            d["rebate"] = json!({"code": "long", "min_years": 0, "amount": "-1.00"});
        });
        assert_eq!(
            found,
            vec![
                "/membership/anchors",
                "/contribution/renewal/tiers/0/amount",
                "/contribution/renewal/tiers/0/max_contract_months",
                "/benefits/0/excludes/0",
                "/benefits/0/excludes/1",
                "/benefits/0/excludes/3",
                "/rebate/code",
                "/rebate/min_years",
                "/rebate/amount",
            ]
        );
        let misplaced = errors(|d| {
            d["membership"]["anchors"] =
                json!({"before_departure_months": 5, "after_return_months": 1});
        });
        assert_eq!(misplaced, vec!["/membership/anchors"]);
    }
}

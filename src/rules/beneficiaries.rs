//! Who shares a benefit (issue 15): the optional `beneficiaries` of a benefit.
//!
//! Real funds pay a death benefit to heirs, not to whoever files first: OWWA's
//! legal heirs share it, Nepal pays the worker's nominee and else the next of
//! kin in order, BPJS pays its heirs in a fixed order. The rule names priority
//! classes: the first class with a living registered dependant takes the whole
//! benefit, shared equally within the class unless the claim names other
//! shares. A benefit without `beneficiaries` pays its claimant alone, as before.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::document::Relationship;

/// One kind of heir in a priority class: the worker's registered nominee, or
/// the dependants registered with a relationship.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Heir {
    /// The dependant registered as the worker's nominee (`nominee: true`).
    Nominee,
    Spouse,
    Child,
    Parent,
    Sibling,
    Other,
}

impl Heir {
    /// The relationship this heir stands for; `None` for the nominee, who may
    /// be registered with any relationship.
    pub fn relationship(self) -> Option<Relationship> {
        match self {
            Heir::Nominee => None,
            Heir::Spouse => Some(Relationship::Spouse),
            Heir::Child => Some(Relationship::Child),
            Heir::Parent => Some(Relationship::Parent),
            Heir::Sibling => Some(Relationship::Sibling),
            Heir::Other => Some(Relationship::Other),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Heir::Nominee => "nominee",
            Heir::Spouse => "spouse",
            Heir::Child => "child",
            Heir::Parent => "parent",
            Heir::Sibling => "sibling",
            Heir::Other => "other",
        }
    }
}

/// How the class that takes shares the benefit when the claim names no shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShareRule {
    /// Each payee of the class an equal share.
    Equal,
}

/// Who shares a benefit, and in what order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"classes": [["nominee"], ["spouse", "child"], ["parent"], ["sibling"]], "shares": "equal", "minor_below_age": 18, "estate": true}))]
pub struct BeneficiaryRules {
    /// Priority classes, first first: the first class with a living registered
    /// dependant (or a living nominee) takes the whole benefit. Each heir is
    /// listed once in all the classes.
    pub classes: Vec<Vec<Heir>>,
    /// How the class that takes shares it when the claim names no shares.
    pub shares: ShareRule,
    /// A payee younger than this on the incident date (from the dependant's
    /// `date_of_birth`) is a minor, paid through a guardian. Absent: nobody is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 30)]
    pub minor_below_age: Option<u32>,
    /// Whether the worker's estate takes when no class has a living member.
    #[serde(default)]
    pub estate: bool,
}

/// The most priority classes a rule may list.
pub const MAX_CLASSES: usize = 10;
/// The highest `minor_below_age`.
pub const MAX_MINOR_AGE: u32 = 30;

//! Country-of-origin fund rules: the versioned rule document, its validation,
//! and pure evaluation (contribution quotes, coverage, membership).

pub mod beneficiaries;
pub mod document;
pub mod evaluate;
mod features;
mod store;
pub mod validate;

pub use document::RuleDocument;
pub use store::{currency_account, publish, version_table, versions_for_fund, RuleVersion};

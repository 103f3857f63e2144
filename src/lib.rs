//! mwf: the system of record for Migrant Welfare Funds. See ARCHITECTURE.md for
//! the map of modules and the invariants they keep.

pub mod audit;
pub mod auth;
pub mod claims;
pub mod config;
pub mod contributions;
pub mod date;
pub mod db;
pub mod demo;
pub mod envelope;
pub mod error;
pub mod export;
pub mod funds;
pub mod http;
pub mod idempotency;
pub mod ledger;
pub mod money;
pub mod parties;
pub mod progress;
pub mod receipts;
pub mod recoveries;
pub mod refunds;
pub mod reports;
pub mod rules;
pub mod startup;
pub mod time;
pub mod webhooks;
pub mod workers;

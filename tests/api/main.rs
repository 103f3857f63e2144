//! Black-box API tests: one module per resource, shared helpers. Each test starts
//! the real server on a fresh database (SQLite, or PostgreSQL with TEST_DATABASE_URL).
mod access;
mod claims;
mod cli;
mod connections;
mod contract;
mod contributions;
mod demo;
mod errors;
mod exports;
mod feed;
mod funds;
mod helpers;
mod hygiene;
mod idempotency;
mod ledger;
mod limits;
mod model;
mod overflow;
mod races;
mod reassessment;
mod reports;
mod rules;
mod system;
mod tokens;
mod workers;

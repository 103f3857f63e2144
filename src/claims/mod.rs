//! Claims: assessment against the rules in force on the incident date.
//! (Decisions, approvals and payment build on it.)

pub mod assess;

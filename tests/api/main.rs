//! Black-box API tests: one module per resource, shared helpers.
mod helpers;

//! Tests that run the real `mwf` binary as separate processes: killed with
//! SIGKILL under load and restarted, and two servers on one database. A test
//! target of its own, so the in-process API suite stays fast.
mod crash;
#[path = "../api/receiver.rs"]
mod receiver;
mod replica;
mod server;
mod two_processes;
mod webhooks;

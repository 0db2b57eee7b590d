//! Integration tests: one binary, one module per area (STYLE.md, "Tests").

mod check;
mod common;
mod components;
mod crash;
mod determinism;
mod failover;
mod fault_errors;
mod faults;
mod hello_kv;
mod network;
mod raft;
mod reports;
mod scenario_errors;
mod shrink;
mod timers;

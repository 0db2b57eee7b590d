//! Integration tests: one binary, one module per area (STYLE.md, "Tests").

mod common;
mod crash;
mod determinism;
mod hello_kv;
mod network;
mod scenario_errors;

//! Protocol models, one module each. Each is a sans-IO `Process`.
pub mod kv;
pub mod phold;
pub mod raft;

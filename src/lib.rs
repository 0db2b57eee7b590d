//! Stormglass: a deterministic discrete-event simulator of distributed systems.
pub mod process;
pub mod protocols;
pub mod scenario;
pub mod sim;
pub mod simulation;
pub mod workload;
pub mod world;

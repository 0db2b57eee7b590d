//! Stormglass: a deterministic discrete-event simulator of distributed systems.
pub mod sim;

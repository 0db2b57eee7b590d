//! The kernel: time, the event queue, seeded random streams, distributions and the event
//! loop. Generic: it knows nothing of nodes, networks or protocols.

pub mod dist;
pub mod engine;
pub mod fastexp;
pub mod queue;
pub mod rng;
pub mod time;
pub mod ziggurat;

pub use dist::Dist;
pub use engine::{Engine, EventRecord, EventTag, Handler, Limits, RunStats, Scheduler, SimError, StopReason};
pub use rng::RngStream;
pub use time::{parse_duration, SimDuration, SimTime};

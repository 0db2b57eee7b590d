//! Components: reusable pieces a system's processes host, each written once against
//! [`Context`](crate::process::Context) in its own message and timer types. A process
//! runs one by handing it a scoped context (`cx.scope(MyMsg::Beat, MyTimer::Beat)`) that
//! wraps what it sends and arms into the process's own types, and by unwrapping what
//! arrives for it. Static dispatch throughout: a scope is a wrap, no more.
//!
//! - [`heartbeat`]: a pacemaker that sends heartbeats and a failure detector that suspects
//!   a peer after a silence.
//! - The workload's client driver (`workload::Driver`) is one too: every system's clients
//!   host it with a scope for its timers.
//!
//! Coming with the service-architecture issue: retry policies, circuit breakers, load
//! balancers and caches, on the same pattern.

pub mod heartbeat;

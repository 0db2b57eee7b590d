//! The raw scenario schema, version 1: exactly what a RON file may say.
//!
//! These structs mirror the file; they are validated by `validate` and resolved into
//! runtime objects by `simulation`. Unknown fields are errors. Field-local checks (a
//! duration's syntax, a probability's range) happen while parsing, so their errors carry
//! the exact position from `ron`.

use crate::sim::{parse_duration, SimDuration};
use serde::{Deserialize, Deserializer};

/// A human duration: `"150ms"`, `"2s"`, `"1.5s"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub SimDuration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map(Dur).map_err(serde::de::Error::custom)
    }
}

/// A probability in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Prob(pub f64);

impl<'de> Deserialize<'de> for Prob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = f64::deserialize(d)?;
        if !(0.0..=1.0).contains(&p) {
            return Err(serde::de::Error::custom(format!(
                "probability {p} is outside [0, 1]; write e.g. 0.01 for 1%"
            )));
        }
        Ok(Prob(p))
    }
}

/// A finite number greater than zero.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Positive(pub f64);

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let x = f64::deserialize(d)?;
        if !(x.is_finite() && x > 0.0) {
            return Err(serde::de::Error::custom(format!(
                "{x} is not above zero; write a positive number, e.g. 400.0"
            )));
        }
        Ok(Positive(x))
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct RawScenario {
    pub version: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The default seed; `--seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub duration: Dur,
    pub topology: RawTopology,
    pub system: RawSystem,
    pub workload: RawWorkload,
    #[serde(default)]
    pub faults: Vec<RawFault>,
    #[serde(default)]
    pub limits: RawLimits,
}

fn default_seed() -> u64 {
    1
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopology {
    pub nodes: Vec<RawNode>,
    /// The link every pair uses unless an override says otherwise.
    #[serde(default)]
    pub link: RawLink,
    /// Overrides for pairs of nodes (both directions unless `one_way`).
    #[serde(default)]
    pub links: Vec<RawLinkOverride>,
    /// Overrides for every pair between two zones (a zone with itself: within the zone).
    #[serde(default)]
    pub zones: Vec<RawLinkOverride>,
    /// Overrides for every pair between two regions.
    #[serde(default)]
    pub regions: Vec<RawLinkOverride>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub name: String,
    #[serde(default = "default_place")]
    pub zone: String,
    #[serde(default = "default_place")]
    pub region: String,
    #[serde(default)]
    pub service: Option<RawService>,
}

pub fn default_place() -> String {
    "default".to_string()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub workers: u32,
    pub queue: usize,
    pub time: RawDist,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    #[serde(default = "zero_latency")]
    pub latency: RawDist,
    #[serde(default)]
    pub loss: Prob,
    #[serde(default)]
    pub duplicate: Prob,
    #[serde(default)]
    pub fifo: bool,
    #[serde(default)]
    pub bandwidth_bps: Option<u64>,
}

fn zero_latency() -> RawDist {
    RawDist::Constant(Dur(SimDuration::ZERO))
}

impl Default for RawLink {
    fn default() -> Self {
        RawLink {
            latency: zero_latency(),
            loss: Prob(0.0),
            duplicate: Prob(0.0),
            fifo: false,
            bandwidth_bps: None,
        }
    }
}

/// A link override: fields left out inherit the topology's default `link`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLinkOverride {
    pub between: (String, String),
    /// Only from the first to the second (pairs of nodes only).
    #[serde(default)]
    pub one_way: bool,
    #[serde(default)]
    pub latency: Option<RawDist>,
    #[serde(default)]
    pub loss: Option<Prob>,
    #[serde(default)]
    pub duplicate: Option<Prob>,
    #[serde(default)]
    pub fifo: Option<bool>,
    #[serde(default)]
    pub bandwidth_bps: Option<u64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawDist {
    Constant(Dur),
    Uniform { lo: Dur, hi: Dur },
    Normal { mean: Dur, std_dev: Dur },
    LogNormal { median: Dur, p99: Dur },
    Exponential { mean: Dur },
    Pareto { scale: Dur, shape: Positive },
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawSystem {
    /// One key-value server (`hello-kv`).
    KeyValue {
        server: String,
        #[serde(default = "yes")]
        fsync_before_ack: bool,
    },
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub clients: u32,
    /// Where the client nodes live.
    #[serde(default = "default_place")]
    pub zone: String,
    #[serde(default = "default_place")]
    pub region: String,
    pub arrival: RawArrival,
    pub keys: RawKeys,
    pub write_ratio: Prob,
    pub timeout: Dur,
    #[serde(default)]
    pub retry: RawRetry,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawArrival {
    /// Open loop: Poisson arrivals, `rate_per_s` in total, split evenly over the clients.
    Poisson { rate_per_s: Positive },
    /// Closed loop: each client waits for a reply, thinks, then sends the next.
    Closed { think: RawDist },
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawKeys {
    Uniform { n: u64 },
    Zipf { n: u64, s: f64 },
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawRetry {
    #[default]
    None,
    Fixed {
        delay: Dur,
        max_attempts: u32,
    },
    Exponential {
        base: Dur,
        cap: Dur,
        max_attempts: u32,
        #[serde(default)]
        jitter: RawJitter,
    },
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub enum RawJitter {
    None,
    #[default]
    Full,
    Equal,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub at: Dur,
    /// Undo the action after this long (restart the crashed, heal the partition).
    #[serde(default, rename = "for")]
    pub for_: Option<Dur>,
    #[serde(rename = "do")]
    pub action: RawAction,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawAction {
    Crash(RawTarget),
    Restart(RawTarget),
    Partition {
        groups: Vec<Vec<String>>,
        #[serde(default)]
        one_way: bool,
    },
    Heal,
}

#[derive(Clone, Debug, Deserialize)]
pub enum RawTarget {
    Node(String),
    Nodes(Vec<String>),
    Zone(String),
    Crashed,
    Role(String),
    RandomNode,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    #[serde(default = "default_max_events")]
    pub max_events: u64,
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: u64,
    #[serde(default = "default_max_queue")]
    pub max_queue: usize,
}

fn default_max_events() -> u64 {
    200_000_000
}
fn default_max_in_flight() -> u64 {
    1_000_000
}
fn default_max_queue() -> usize {
    10_000_000
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            max_events: default_max_events(),
            max_in_flight: default_max_in_flight(),
            max_queue: default_max_queue(),
        }
    }
}

//! The raw scenario schema, version 1: exactly what a RON file may say.
//!
//! These structs mirror the file; they are validated by `validate` and resolved into
//! runtime objects by `simulation`. Unknown fields are errors. Field-local checks (a
//! duration's syntax, a probability's range) happen while parsing, so their errors carry
//! the exact position from `ron`. They serialize back to RON that parses to the same
//! scenario (durations in their shortest exact form), which is how `sweep::shrink` writes
//! a shrunk scenario file.

use crate::sim::{parse_duration, SimDuration};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A human duration: `"150ms"`, `"2s"`, `"1.5s"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub SimDuration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map(Dur).map_err(serde::de::Error::custom)
    }
}

/// Written back as its shortest exact human form (`"1.5s"`), which parses to the same value.
impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl std::fmt::Display for Dur {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}'", self.0)
    }
}

impl std::fmt::Display for Prob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Display for SignedDur {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "'{sign}{}'", SimDuration(self.0.unsigned_abs()))
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

impl Serialize for Prob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
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

impl Serialize for Positive {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

/// A scenario file. `S` is the `system:` section, a type of the systems layer (see
/// [`super::SystemSection`]): this module knows no particular system.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct RawScenario<S> {
    pub version: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The default seed; `--seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub duration: Dur,
    pub topology: RawTopology,
    pub system: S,
    pub workload: RawWorkload,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<RawFault>,
    #[serde(default)]
    pub nemesis: RawNemesis,
    /// The liveness phase: from this time on the nemesis draws no new fault and undoes the
    /// ones it drew (crashed nodes restart, partitions heal), so the system must recover
    /// (see `RecoversWithin`). Fault-plan entries at or after it may only repair
    /// (`Restart`, `Heal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_after: Option<Dur>,
    /// How windows, availability and recovery are judged.
    #[serde(default)]
    pub metrics: RawMetrics,
    /// What must hold; `run` exits 1 if any does not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<RawExpect>,
    #[serde(default)]
    pub limits: RawLimits,
}

fn default_seed() -> u64 {
    1
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopology {
    pub nodes: Vec<RawNode>,
    /// The link every pair uses unless an override says otherwise.
    #[serde(default)]
    pub link: RawLink,
    /// Overrides for pairs of nodes (both directions unless `one_way`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<RawLinkOverride>,
    /// Overrides for every pair between two zones (a zone with itself: within the zone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<RawLinkOverride>,
    /// Overrides for every pair between two regions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<RawLinkOverride>,
    /// The disk of every node (a node's own `disk` replaces it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<RawDisk>,
    /// The clock of every node, clients included (a node's own `clock` replaces it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<RawClock>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub name: String,
    #[serde(default = "default_place")]
    pub zone: String,
    #[serde(default = "default_place")]
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<RawService>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<RawDisk>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<RawClock>,
}

pub fn default_place() -> String {
    "default".to_string()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub workers: u32,
    pub queue: usize,
    pub time: RawDist,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_bps: Option<u64>,
    /// Probability that a message is corrupted in flight on this link.
    #[serde(default)]
    pub corrupt: Prob,
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
            corrupt: Prob(0.0),
        }
    }
}

/// A link override: fields left out inherit the topology's default `link`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLinkOverride {
    pub between: (String, String),
    /// Only from the first to the second (pairs of nodes only).
    #[serde(default)]
    pub one_way: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<RawDist>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Prob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<Prob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fifo: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_bps: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<Prob>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawDist {
    Constant(Dur),
    Uniform { lo: Dur, hi: Dur },
    Normal { mean: Dur, std_dev: Dur },
    LogNormal { median: Dur, p99: Dur },
    Exponential { mean: Dur },
    Pareto { scale: Dur, shape: Positive },
}

/// The default of a field that is on unless turned off.
pub fn yes() -> bool {
    true
}

/// One second, the default of several intervals.
pub fn one_second() -> Dur {
    Dur(SimDuration::from_secs(1))
}

#[derive(Clone, Debug, Deserialize, Serialize)]
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

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawArrival {
    /// Open loop: Poisson arrivals, `rate_per_s` in total, split evenly over the clients.
    Poisson { rate_per_s: Positive },
    /// Closed loop: each client waits for a reply, thinks, then sends the next.
    Closed { think: RawDist },
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawKeys {
    Uniform { n: u64 },
    Zipf { n: u64, s: f64 },
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
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

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize)]
pub enum RawJitter {
    None,
    #[default]
    Full,
    Equal,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub at: Dur,
    /// Undo the action after this long (restart the crashed, heal the partition).
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<Dur>,
    #[serde(rename = "do")]
    pub action: RawAction,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
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
    /// Moves the targets' clocks by `by` (forward or back) at once.
    ClockStep {
        target: RawTarget,
        by: SignedDur,
    },
    /// Sets the targets' clock drift; with `for`, the old drift returns after.
    ClockDrift {
        target: RawTarget,
        ppm: f64,
    },
    /// The targets' disks fail every operation (`IoError`) or every write (`Full`).
    DiskFault {
        target: RawTarget,
        kind: RawDiskFault,
    },
    /// Gray failure: service times × `factor`, and `latency` added to every message sent.
    Slow {
        target: RawTarget,
        #[serde(default = "one")]
        factor: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latency: Option<Dur>,
    },
    /// Stop-the-world pause (needs `for`): nothing runs; at the end, overdue timers fire and
    /// held messages are handled at once.
    Pause {
        target: RawTarget,
    },
    /// Messages are corrupted in flight with this probability (between the groups, or on
    /// every link if `groups` is left out).
    Corrupt {
        probability: Knob<Prob>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        groups: Option<Vec<Vec<String>>>,
    },
    /// Bursty loss (Gilbert–Elliott) between the groups: a link enters the bad state with
    /// `p_enter` per message, leaves it with `p_exit`, and loses `loss` of messages in it.
    Flaky {
        groups: Vec<Vec<String>>,
        p_enter: Knob<Prob>,
        p_exit: Knob<Prob>,
        loss: Knob<Prob>,
    },
    /// Messages between the groups are held (needs `for`), then released together.
    Clog {
        groups: Vec<Vec<String>>,
    },
    /// Cuts every link between the nodes of `target` and those of `from`, both ways, both
    /// resolved when the fault fires (e.g. the leader from its followers, not its clients).
    Cut {
        target: RawTarget,
        from: RawTarget,
        /// Only messages from `from` to `target` are cut: the target still speaks, but
        /// hears nothing from them.
        #[serde(default)]
        one_way: bool,
    },
    /// The target nodes are cut off from every other node, clients included, both ways.
    Isolate(RawTarget),
    /// Every node of the zone crashes, or the zone is cut off.
    ZoneOutage {
        zone: String,
        #[serde(default)]
        mode: RawOutage,
    },
    /// Every node of the region crashes, or the region is cut off.
    RegionOutage {
        region: String,
        #[serde(default)]
        mode: RawOutage,
    },
}

fn one() -> f64 {
    1.0
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub enum RawTarget {
    Node(String),
    Nodes(Vec<String>),
    Zone(String),
    Region(String),
    Crashed,
    Role(String),
    /// One live node of the fault pool (the topology's nodes, never clients).
    RandomNode,
    /// A random minority of the pool: floor((n - 1) / 2) nodes.
    RandomMinority,
    /// A random majority of the pool: floor(n / 2) + 1 nodes.
    RandomMajority,
    /// `k` random nodes of the pool.
    RandomNodes(u32),
    /// Every node of the topology (never clients).
    All,
    /// One random live node with this role (e.g. "follower").
    OneWithRole(String),
    /// A random minority of the pool that includes every node with this role.
    MinorityWithRole(String),
}

#[derive(Clone, Debug, Deserialize, Serialize)]
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

/// A knob that is either one value or a range `(lo, hi)` from which each seed draws its
/// own value (swarm testing); the run's output records the values drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Knob<T> {
    Fixed(T),
    Range(T, T),
}

impl<T: Default> Default for Knob<T> {
    fn default() -> Self {
        Knob::Fixed(T::default())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Knob<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr<T> {
            Fixed(T),
            Range((T, T)),
        }
        match Repr::deserialize(d) {
            Ok(Repr::Fixed(x)) => Ok(Knob::Fixed(x)),
            Ok(Repr::Range((lo, hi))) => Ok(Knob::Range(lo, hi)),
            Err(_) => Err(serde::de::Error::custom(
                "expected one value or a range (lo, hi) of values of this field's kind, e.g. 0.01 or (0.0, 0.05), \"5ms\" or (\"1ms\", \"10ms\")",
            )),
        }
    }
}

/// A fixed knob is written as its value, a range as the tuple `(lo, hi)`.
impl<T: Serialize> Serialize for Knob<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Knob::Fixed(x) => x.serialize(s),
            Knob::Range(lo, hi) => (lo, hi).serialize(s),
        }
    }
}

/// A signed human duration: `"-200ms"`, `"+1s"`, `"5ms"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct SignedDur(pub i64);

impl<'de> Deserialize<'de> for SignedDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let t = text.trim();
        let (sign, rest) = match t.strip_prefix('-') {
            Some(rest) => (-1i64, rest),
            None => (1, t.strip_prefix('+').unwrap_or(t)),
        };
        let ns = parse_duration(rest).map_err(serde::de::Error::custom)?.0;
        let ns = i64::try_from(ns).map_err(|_| serde::de::Error::custom(format!("'{text}' is too long")))?;
        Ok(SignedDur(sign * ns))
    }
}

/// Written back as `"-200ms"` or `"200ms"`.
impl Serialize for SignedDur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let sign = if self.0 < 0 { "-" } else { "" };
        s.serialize_str(&format!("{sign}{}", SimDuration(self.0.unsigned_abs())))
    }
}

/// A node's disk: latencies per operation and silent-corruption probabilities.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawDisk {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<RawDist>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsync: Option<RawDist>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<RawDist>,
    #[serde(default)]
    pub torn_write: Knob<Prob>,
    #[serde(default)]
    pub write_corruption: Knob<Prob>,
    #[serde(default)]
    pub misdirected_write: Knob<Prob>,
    #[serde(default)]
    pub read_corruption: Knob<Prob>,
}

/// A node's local clock: drift, initial offset, optional periodic synchronisation.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawClock {
    /// Parts per million fast (negative: slow).
    #[serde(default)]
    pub drift_ppm: Knob<f64>,
    /// The local clock's reading at true time zero minus zero.
    #[serde(default)]
    pub offset: Knob<SignedDur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<RawSync>,
}

/// NTP-like synchronisation: every `interval` the clock is set to true time plus an error
/// drawn uniformly from [-max_error, +max_error].
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSync {
    pub interval: Dur,
    pub max_error: Dur,
}

/// A random nemesis: faults drawn from rates instead of a fixed plan.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawNemesis {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crashes: Option<RawCrashNemesis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<RawPartitionNemesis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_steps: Option<RawClockNemesis>,
    /// Which nodes it may hit (default: every topology node, never clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCrashNemesis {
    /// Mean time between failures, per node.
    pub mtbf: Knob<Dur>,
    /// Mean time to repair.
    pub mttr: Knob<Dur>,
    #[serde(default)]
    pub distribution: RawLifetime,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize)]
pub enum RawLifetime {
    #[default]
    Exponential,
    /// Weibull with this shape (1 is exponential; above 1, wear-out; below, infant mortality).
    Weibull(f64),
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPartitionNemesis {
    /// Mean time between partitions (exponential gaps).
    pub every: Knob<Dur>,
    /// How long each lasts.
    pub duration: Knob<Dur>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawClockNemesis {
    /// Mean time between steps (exponential gaps).
    pub every: Knob<Dur>,
    /// Each step is uniform in [-max_step, +max_step].
    pub max_step: Dur,
}

/// What a zone or region outage does to its nodes.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawOutage {
    /// Every node in the domain crashes.
    #[default]
    Crash,
    /// The domain is cut off from every node outside it.
    Isolate,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawDiskFault {
    IoError,
    Full,
}

/// Windows, SLO and recovery for the metrics.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    #[serde(default = "one_second")]
    pub window: Dur,
    /// A window is good when at least this share of its operations succeed.
    #[serde(default = "default_slo")]
    pub slo: Prob,
    /// Consecutive good windows that count as recovered.
    #[serde(default = "default_recovery_windows")]
    pub recovery_windows: u32,
}

fn default_slo() -> Prob {
    Prob(0.99)
}

fn default_recovery_windows() -> u32 {
    3
}

impl Default for RawMetrics {
    fn default() -> Self {
        RawMetrics { window: one_second(), slo: default_slo(), recovery_windows: default_recovery_windows() }
    }
}

/// Which operations a latency expectation covers.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawOps {
    #[default]
    All,
    Reads,
    Writes,
}

/// One expectation about a run.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub enum RawExpect {
    /// Request availability (ok / decided operations) at least this.
    AvailabilityAbove(Prob),
    /// Time availability (good / non-idle windows) at least this.
    TimeAvailabilityAbove(Prob),
    /// The given percentile of successful operations' latency at most `bound`.
    LatencyBelow {
        percentile: f64,
        bound: Dur,
        #[serde(default)]
        ops: RawOps,
    },
    /// Every incident recovered, each within this.
    RtoBelow(Dur),
    /// Every incident's RPO at most this.
    RpoAtMost(Dur),
    /// No acknowledged write is missing from the system's state after the run.
    NoLostWrites,
    /// No successful read returned a value never written to its key.
    NoWrongReads,
    /// A named property of the system's model (see the protocol's docs page).
    Property(String),
    /// A named property that this scenario demonstrates being broken (a teaching scenario
    /// or a broken variant): holds when the checker finds the property violated.
    Violated(String),
    /// A "sometimes" property: an event that some seed of a sweep must reach (e.g.
    /// `LeaderElected`, `LostWrite`; see docs/ci.md). Informational in a single run; in
    /// `check`, a sweep where no seed reached it fails as vacuous.
    Sometimes(String),
    /// The liveness phase: after `quiet_after`, every incident has recovered and the service
    /// has been good for `metrics.recovery_windows` windows within this bound.
    RecoversWithin(Dur),
}

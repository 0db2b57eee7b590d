//! Metrics: the numbers a run is judged by, all derived from its history.
//!
//! docs/metrics.md defines every figure precisely enough to recompute it by hand:
//! latency percentiles ([`latency`]), request and time availability and per-window
//! throughput/goodput ([`availability`]), RTO and RPO per incident ([`recovery`]), retry
//! amplification (attempts per logical operation) and messages per operation.

pub mod availability;
pub mod latency;
pub mod recovery;
pub mod table;

use crate::history::{FaultRecord, History, Outcome};
use crate::sim::{SimDuration, SimTime};
use availability::{round6, Availability, WindowStats};
use latency::LatencySummary;
use recovery::Incident;
use serde::Serialize;

/// How windows and recovery are judged.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MetricsConfig {
    pub window: SimDuration,
    /// A window is good when its success ratio is at least this.
    pub slo: f64,
    /// Consecutive good windows that count as recovered.
    pub recovery_windows: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { window: SimDuration::from_secs(1), slo: 0.99, recovery_windows: 3 }
    }
}

/// Every metric of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub latency: LatencySummary,
    pub availability: Availability,
    pub incidents: Vec<Incident>,
    /// Lost acknowledged writes acknowledged after every incident (attributed to none).
    pub lost_writes_unattributed: u64,
    /// Attempts per decided logical operation.
    pub retry_amplification: f64,
    /// Messages sent (copies included) per logical operation.
    pub messages_per_op: f64,
    pub windows: Vec<WindowStats>,
}

/// What the metrics need beyond the history.
pub struct Inputs<'a> {
    pub history: &'a History,
    pub faults: &'a [FaultRecord],
    pub duration: SimDuration,
    /// Acknowledgement times of the acknowledged writes found lost.
    pub lost_acks: &'a [SimTime],
    pub messages_sent: u64,
}

pub fn compute(inputs: &Inputs, config: &MetricsConfig) -> Metrics {
    let ops = &inputs.history.ops;
    let windows = availability::windows(ops, inputs.duration, config.window);
    let availability = availability::availability(ops, &windows, config.slo, config.window);
    let (incidents, unattributed) = recovery::incidents(
        inputs.faults,
        &windows,
        config.window,
        config.slo,
        config.recovery_windows,
        inputs.lost_acks,
    );
    let decided: Vec<_> = ops.iter().filter(|o| o.outcome != Outcome::Incomplete).collect();
    let attempts: u64 = decided.iter().map(|o| u64::from(o.attempts)).sum();
    Metrics {
        latency: latency::summary(ops),
        availability,
        incidents,
        lost_writes_unattributed: unattributed,
        retry_amplification: if decided.is_empty() {
            0.0
        } else {
            round6(attempts as f64 / decided.len() as f64)
        },
        messages_per_op: if ops.is_empty() {
            0.0
        } else {
            round6(inputs.messages_sent as f64 / ops.len() as f64)
        },
        windows,
    }
}

#[cfg(test)]
mod tests;

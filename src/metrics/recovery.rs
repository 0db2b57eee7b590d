//! Recovery: RTO and RPO per incident.
//!
//! An *incident* is a fault-log record of a fault that takes something away (a crash, a
//! partition, an isolation, a pause, a slow node, a disk fault, corruption, flaky or
//! clogged links, a clock drift); restarts, heals and clock steps are not incidents.
//!
//! RTO (observed): from the fault's injection `t0` to the start of the first run of `k`
//! consecutive good windows (see `availability`) that starts in the window containing `t0`
//! or later, clamped at zero — a service that never degraded has RTO 0. If no such run
//! exists, the verdict is *not recovered*; if fewer than `k` windows follow `t0` and every
//! one of them is good, the verdict is *undetermined* (the run ended too soon to tell).
//!
//! RPO (observed, against ground truth): every acknowledged write missing from the model's
//! authoritative state after the run is *lost*. A lost write belongs to the first incident
//! at or after its acknowledgement (a write acknowledged after every incident belongs to
//! none and is reported apart). An incident's RPO = t0 − the earliest acknowledgement among
//! its lost writes (0 if it lost none), beside the count of its lost writes.

use super::availability::WindowStats;
use crate::history::{FaultName, FaultRecord};
use crate::sim::{SimDuration, SimTime};
use serde::Serialize;

/// The RTO verdict of one incident.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Rto {
    Recovered { rto_s: f64 },
    NotRecovered,
    Undetermined,
}

/// One incident's recovery figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Incident {
    pub kind: FaultName,
    pub targets: Vec<String>,
    pub start_s: f64,
    pub end_s: Option<f64>,
    pub rto: Rto,
    pub rpo_s: f64,
    pub lost_writes: u64,
}

/// RTO of an incident injected at `t0`.
pub fn rto(windows: &[WindowStats], window: SimDuration, t0: SimTime, slo: f64, k: usize) -> Rto {
    let first = ((t0.0 / window.0) as usize).min(windows.len());
    let mut run = 0;
    for (i, w) in windows.iter().enumerate().skip(first) {
        if w.is_good(slo) {
            run += 1;
            if run == k {
                let start = (i + 1 - k) as u64 * window.0;
                return Rto::Recovered {
                    rto_s: super::availability::round6(start.saturating_sub(t0.0) as f64 / 1e9),
                };
            }
        } else {
            run = 0;
        }
    }
    if run > 0 && run == windows.len() - first {
        Rto::Undetermined
    } else {
        Rto::NotRecovered
    }
}

/// Attributes lost writes (their acknowledgement times) to incidents and computes each
/// incident's RPO; returns the incidents and the count of lost writes attributed to none.
pub fn incidents(
    faults: &[FaultRecord],
    windows: &[WindowStats],
    window: SimDuration,
    slo: f64,
    k: usize,
    lost_acks: &[SimTime],
) -> (Vec<Incident>, u64) {
    let recs: Vec<&FaultRecord> = faults.iter().filter(|f| f.kind.is_incident()).collect();
    let mut earliest: Vec<Option<SimTime>> = vec![None; recs.len()];
    let mut counts = vec![0u64; recs.len()];
    let mut unattributed = 0;
    for &ack in lost_acks {
        // The first incident at or after the acknowledgement (records are in time order).
        match recs.iter().position(|r| r.start >= ack) {
            Some(i) => {
                counts[i] += 1;
                earliest[i] = Some(earliest[i].map_or(ack, |e: SimTime| e.min(ack)));
            }
            None => unattributed += 1,
        }
    }
    let incidents = recs
        .iter()
        .enumerate()
        .map(|(i, r)| Incident {
            kind: r.kind,
            targets: r.targets.clone(),
            start_s: r.start.as_secs_f64(),
            end_s: r.end.map(SimTime::as_secs_f64),
            rto: rto(windows, window, r.start, slo, k),
            rpo_s: earliest[i].map_or(0.0, |e| super::availability::round6(r.start.since(e).as_secs_f64())),
            lost_writes: counts[i],
        })
        .collect();
    (incidents, unattributed)
}

//! Expectations: a scenario's `expect` list evaluated against a run's figures.
//!
//! Each expectation yields a [`Verdict`]: what was expected, what was measured, the bound,
//! and whether it holds. `run` exits 1 if any does not hold, except informational verdicts:
//! a `Sometimes` event need not be reached by every run, only by some seed of a sweep
//! (`stormglass check` judges that, see [`WORLD_SOMETIMES`] and each system's declared
//! properties).

use crate::history::{History, OpKind, Outcome};
use crate::metrics::recovery::{self, Rto};
use crate::metrics::{latency, Metrics};
use crate::scenario::raw::{Dur, RawExpect, RawMetrics, RawOps};
use crate::sim::SimTime;
use serde::Serialize;

/// One evaluated expectation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub expectation: String,
    pub measured: String,
    pub bound: String,
    pub holds: bool,
    /// A verdict that never fails a run (a `Sometimes` event: `holds` says whether this run
    /// reached it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub informational: bool,
}

impl Verdict {
    /// Whether this verdict fails the run: it does not hold and is not informational.
    pub fn fails(&self) -> bool {
        !self.holds && !self.informational
    }
}

/// The figures expectations are judged on.
pub struct Facts<'a> {
    pub history: &'a History,
    pub metrics: &'a Metrics,
    pub lost_writes: u64,
    pub wrong_reads: u64,
    pub properties: &'a [PropertyResult],
    /// The system's own "sometimes" events this run reached (its judge says which).
    pub reached: &'a [&'static str],
    /// The scenario's liveness phase start and metrics settings.
    pub quiet_after: Option<Dur>,
    pub metrics_config: &'a RawMetrics,
    /// What the system can say about a service still down at a deadline, given the start
    /// of the liveness phase and the deadline (e.g. Raft: when the last leader was elected).
    pub liveness_note: &'a dyn Fn(SimTime, SimTime) -> Option<String>,
}

/// A named property of the model, as its checkers judged it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PropertyResult {
    pub name: String,
    /// `None`: the checker could not decide (e.g. its search budget ran out).
    pub holds: Option<bool>,
    pub detail: String,
}

pub fn evaluate(expect: &[RawExpect], facts: &Facts) -> Vec<Verdict> {
    expect.iter().map(|e| evaluate_one(e, facts)).collect()
}

fn verdict(expectation: String, measured: String, bound: String, holds: bool) -> Verdict {
    Verdict { expectation, measured, bound, holds, informational: false }
}

fn evaluate_one(e: &RawExpect, f: &Facts) -> Verdict {
    let a = &f.metrics.availability;
    match e {
        RawExpect::AvailabilityAbove(p) => verdict(
            "request availability".into(),
            format!("{:.6}", a.request_availability),
            format!(">= {}", p.0),
            a.request_availability >= p.0,
        ),
        RawExpect::TimeAvailabilityAbove(p) => verdict(
            "time availability".into(),
            format!("{:.6}", a.time_availability),
            format!(">= {}", p.0),
            a.time_availability >= p.0,
        ),
        RawExpect::LatencyBelow { percentile, bound, ops } => {
            let kind = match ops {
                RawOps::All => None,
                RawOps::Reads => Some(OpKind::Read),
                RawOps::Writes => Some(OpKind::Write),
            };
            let h = latency::histogram(&f.history.ops, latency::Selection::Ok(kind));
            let ns = h.percentile_ns(*percentile);
            let what = match ops {
                RawOps::All => "ok operations",
                RawOps::Reads => "ok reads",
                RawOps::Writes => "ok writes",
            };
            verdict(
                format!("p{percentile} latency of {what}"),
                format!("{:.3} ms", ns as f64 / 1e6),
                format!("<= {}", bound.0),
                ns <= bound.0 .0,
            )
        }
        RawExpect::RtoBelow(bound) => rto_verdict(f.metrics, bound.0.as_secs_f64(), &bound.0.to_string()),
        RawExpect::RpoAtMost(bound) => {
            let worst = f.metrics.incidents.iter().map(|i| i.rpo_s).fold(0.0, f64::max);
            verdict(
                "worst RPO".into(),
                format!("{worst:.6} s"),
                format!("<= {}", bound.0),
                worst <= bound.0.as_secs_f64(),
            )
        }
        RawExpect::NoLostWrites => verdict(
            "no acknowledged write lost".into(),
            format!("{} lost", f.lost_writes),
            "0 lost".into(),
            f.lost_writes == 0,
        ),
        RawExpect::NoWrongReads => verdict(
            "no wrong read".into(),
            format!("{} wrong", f.wrong_reads),
            "0 wrong".into(),
            f.wrong_reads == 0,
        ),
        RawExpect::Property(name) => match f.properties.iter().find(|p| &p.name == name) {
            Some(p) => {
                let measured = match p.holds {
                    Some(true) => "holds".to_string(),
                    Some(false) => format!("violated: {}", p.detail),
                    None => format!("unknown: {}", p.detail),
                };
                verdict(format!("property '{name}'"), measured, "holds".into(), p.holds == Some(true))
            }
            None => verdict(
                format!("property '{name}'"),
                "not checked by this model".into(),
                "holds".into(),
                false,
            ),
        },
        RawExpect::Sometimes(name) => {
            let reached = sometimes_reached(name, f);
            let measured = if reached { "reached" } else { "not reached in this run" };
            Verdict {
                expectation: format!("sometimes '{name}'"),
                measured: measured.into(),
                bound: "reached by some seed".into(),
                holds: reached,
                informational: true,
            }
        }
        RawExpect::RecoversWithin(bound) => recovers_within(*bound, f),
        RawExpect::Violated(name) => match f.properties.iter().find(|p| &p.name == name) {
            Some(p) => {
                let measured = match p.holds {
                    Some(false) => format!("violated: {}", p.detail),
                    Some(true) => "holds (the demonstration did not happen)".to_string(),
                    None => format!("unknown: {}", p.detail),
                };
                verdict(
                    format!("property '{name}' broken"),
                    measured,
                    "violated".into(),
                    p.holds == Some(false),
                )
            }
            None => verdict(
                format!("property '{name}' broken"),
                "not checked by this model".into(),
                "violated".into(),
                false,
            ),
        },
    }
}

/// Every incident must recover, within the bound.
fn rto_verdict(m: &Metrics, bound_s: f64, bound: &str) -> Verdict {
    let mut worst: Option<f64> = Some(0.0);
    let mut note = String::new();
    for i in &m.incidents {
        match i.rto {
            Rto::Recovered { rto_s } => worst = worst.map(|w| w.max(rto_s)),
            Rto::NotRecovered => {
                worst = None;
                note = format!("{} at {} s not recovered", i.kind, i.start_s);
                break;
            }
            Rto::Undetermined => {
                worst = None;
                note = format!("{} at {} s: run ended too soon to tell", i.kind, i.start_s);
                break;
            }
        }
    }
    match worst {
        Some(w) => verdict("worst RTO".into(), format!("{w:.6} s"), format!("< {bound}"), w < bound_s),
        None => verdict("worst RTO".into(), note, format!("< {bound}"), false),
    }
}

/// The "sometimes" events of the world, which every system can reach: (name, meaning).
/// A scenario declares the ones it means to exercise with `Sometimes(name)`; `check`
/// counts, for every event that applies to the system (the system's own first, then
/// these), the seeds that reached it (the coverage table).
pub const WORLD_SOMETIMES: &[(&str, &str)] = &[
    ("FaultFired", "a fault of the plan or of the nemesis fired"),
    ("Timeout", "a client operation timed out"),
    ("Recovered", "an incident degraded the service, which then recovered (RTO above zero)"),
    ("LostWrite", "an acknowledged write was lost"),
    ("WrongRead", "a read returned a value never written (silent corruption reached a client)"),
];

/// Whether the run reached the "sometimes" event `name`: a world event judged here, or
/// one of the system's that its judge reported reached (an unknown name is never
/// reached; validation refuses unknown names).
pub fn sometimes_reached(name: &str, f: &Facts) -> bool {
    match name {
        "FaultFired" => !f.history.faults.is_empty(),
        "Timeout" => f.history.ops.iter().any(|o| o.outcome == Outcome::TimedOut),
        "Recovered" => {
            f.metrics.incidents.iter().any(|i| matches!(i.rto, Rto::Recovered { rto_s } if rto_s > 0.0))
        }
        "LostWrite" => f.lost_writes > 0,
        "WrongRead" => f.wrong_reads > 0,
        other => f.reached.contains(&other),
    }
}

/// The liveness phase: from `quiet_after` (q) the service must be good for the recovery
/// windows by q + bound, and every incident that started before then must have recovered
/// by then. A failure names what is still pending.
fn recovers_within(bound: Dur, f: &Facts) -> Verdict {
    let q = f.quiet_after.expect("validation: RecoversWithin comes with quiet_after").0;
    let q_time = SimTime::ZERO + q;
    let deadline = q_time + bound.0;
    let deadline_s = deadline.as_secs_f64();
    let m = f.metrics_config;
    let (window, slo, k) = (m.window.0, m.slo.0, m.recovery_windows as usize);
    assert!(k > 0 && window.0 > 0, "validation: recovery needs a window and at least one good window");
    let mut pending = Vec::new();
    for i in f.metrics.incidents.iter().filter(|i| i.start_s < deadline_s) {
        let recovered_at = match i.rto {
            Rto::Recovered { rto_s } => Some(i.start_s + rto_s),
            Rto::NotRecovered | Rto::Undetermined => None,
        };
        if recovered_at.is_none_or(|t| t > deadline_s + 1e-9) {
            pending.push(format!("incident {} at {} s not recovered by {deadline_s} s", i.kind, i.start_s));
        }
    }
    let service = recovery::rto(&f.metrics.windows, window, q_time, slo, k);
    let service_at = match service {
        Rto::Recovered { rto_s } if rto_s <= bound.0.as_secs_f64() + 1e-9 => Some(q.as_secs_f64() + rto_s),
        _ => None,
    };
    if service_at.is_none() {
        pending.push(format!("service not good for {k} consecutive windows by {deadline_s} s"));
        pending.extend((f.liveness_note)(q_time, deadline));
    }
    let holds = pending.is_empty();
    let measured = match service_at {
        Some(t) if holds => format!("recovered at {t} s"),
        _ => pending.join("; "),
    };
    verdict(
        format!("recovery after quiet_after {}", Dur(q)),
        measured,
        format!("by {deadline_s} s (quiet_after + {})", bound),
        holds,
    )
}

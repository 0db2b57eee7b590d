//! Expectations: a scenario's `expect` list evaluated against a run's figures.
//!
//! Each expectation yields a [`Verdict`]: what was expected, what was measured, the bound,
//! and whether it holds. `run` exits 1 if any does not hold.

use crate::metrics::recovery::Rto;
use crate::metrics::{latency, Metrics};
use crate::scenario::raw::{RawExpect, RawOps};
use crate::sim::history::{History, OpKind};
use serde::Serialize;

/// One evaluated expectation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub expectation: String,
    pub measured: String,
    pub bound: String,
    pub holds: bool,
}

/// The figures expectations are judged on.
pub struct Facts<'a> {
    pub history: &'a History,
    pub metrics: &'a Metrics,
    pub lost_writes: u64,
    pub wrong_reads: u64,
    pub properties: &'a [PropertyResult],
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
    Verdict { expectation, measured, bound, holds }
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

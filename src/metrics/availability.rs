//! Availability: per operation and per window of time.
//!
//! - Request availability = ok / (ok + failed + timed out) over logical operations (a
//!   retried request counts once); incomplete operations are left out. 1.0 when none.
//! - Windows: the run is cut into windows of `window` (default 1 s). An operation belongs
//!   to the window in which it was *invoked* (was the service there when the client asked?).
//!   A window's success ratio is ok / decided operations in it; a window with no decided
//!   operation is *idle*. A window is *good* when its ratio meets the SLO (default 0.99).
//! - Time availability = good windows / non-idle windows; idle windows are reported apart
//!   and never counted as up.
//! - Throughput and goodput per window count completions (any outcome, and ok only) by
//!   completion time, per second.

use crate::history::{OpRecord, Outcome};
use crate::sim::SimDuration;
use serde::Serialize;

/// One window's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WindowStats {
    pub start_s: f64,
    /// Operations invoked in the window, by outcome.
    pub ok: u64,
    pub failed: u64,
    pub timed_out: u64,
    /// ok / (ok + failed + timed_out); `None` when idle.
    pub success_ratio: Option<f64>,
    /// Completions per second (any outcome), by completion time.
    pub throughput_per_s: f64,
    /// Successful completions per second, by completion time.
    pub goodput_per_s: f64,
    /// Median and 99th percentile latency (ms) of ok operations completed in the window.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl WindowStats {
    pub fn decided(&self) -> u64 {
        self.ok + self.failed + self.timed_out
    }

    pub fn is_good(&self, slo: f64) -> bool {
        self.success_ratio.is_some_and(|r| r >= slo)
    }
}

/// Availability figures of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Availability {
    pub request_availability: f64,
    pub slo: f64,
    pub window_s: f64,
    pub windows: u64,
    pub good_windows: u64,
    pub idle_windows: u64,
    /// good / (windows − idle); 1.0 when every window is idle.
    pub time_availability: f64,
}

pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// ok / decided over logical operations; 1.0 if none was decided.
pub fn request_availability(ops: &[OpRecord]) -> f64 {
    let ok = ops.iter().filter(|o| o.outcome == Outcome::Ok).count();
    let decided = ops.iter().filter(|o| o.outcome != Outcome::Incomplete).count();
    if decided == 0 {
        1.0
    } else {
        ok as f64 / decided as f64
    }
}

/// Cuts the run into windows and computes each one's figures.
pub fn windows(ops: &[OpRecord], duration: SimDuration, window: SimDuration) -> Vec<WindowStats> {
    assert!(window.0 > 0, "a window has a length");
    let n = duration.0.div_ceil(window.0).max(1) as usize;
    let index = |t: u64| ((t / window.0) as usize).min(n - 1);
    let mut w: Vec<WindowStats> = (0..n)
        .map(|i| WindowStats { start_s: round6((i as u64 * window.0) as f64 / 1e9), ..Default::default() })
        .collect();
    let mut latencies: Vec<Vec<u64>> = vec![Vec::new(); n];
    let per_s = 1e9 / window.0 as f64;
    for op in ops.iter().filter(|o| o.outcome != Outcome::Incomplete) {
        let inv = &mut w[index(op.invoke.0)];
        match op.outcome {
            Outcome::Ok => inv.ok += 1,
            Outcome::Failed => inv.failed += 1,
            Outcome::TimedOut => inv.timed_out += 1,
            Outcome::Incomplete => unreachable!("incomplete operations are filtered out"),
        }
        let c = index(op.complete.0);
        w[c].throughput_per_s += per_s;
        if op.outcome == Outcome::Ok {
            w[c].goodput_per_s += per_s;
            latencies[c].push(op.complete.since(op.invoke).0);
        }
    }
    for (ws, mut lat) in w.iter_mut().zip(latencies) {
        let decided = ws.decided();
        ws.success_ratio = (decided > 0).then(|| round6(ws.ok as f64 / decided as f64));
        ws.throughput_per_s = round6(ws.throughput_per_s);
        ws.goodput_per_s = round6(ws.goodput_per_s);
        if !lat.is_empty() {
            // The order statistics themselves (a selection each, not a sort).
            let rank = |q: f64| ((lat.len() as f64 * q).ceil() as usize).clamp(1, lat.len()) - 1;
            let (r50, r99) = (rank(0.5), rank(0.99));
            let p50 = *lat.select_nth_unstable(r50).1;
            // Everything after r50 is at least p50, so rank r99 (>= r50) lies among them.
            let p99 = if r99 == r50 { p50 } else { *lat[r50 + 1..].select_nth_unstable(r99 - r50 - 1).1 };
            ws.p50_ms = Some(round6(p50 as f64 / 1e6));
            ws.p99_ms = Some(round6(p99 as f64 / 1e6));
        }
    }
    w
}

pub fn availability(
    ops: &[OpRecord],
    windows: &[WindowStats],
    slo: f64,
    window: SimDuration,
) -> Availability {
    let idle = windows.iter().filter(|w| w.success_ratio.is_none()).count() as u64;
    let good = windows.iter().filter(|w| w.is_good(slo)).count() as u64;
    let busy = windows.len() as u64 - idle;
    Availability {
        request_availability: round6(request_availability(ops)),
        slo,
        window_s: window.as_secs_f64(),
        windows: windows.len() as u64,
        good_windows: good,
        idle_windows: idle,
        time_availability: if busy == 0 { 1.0 } else { round6(good as f64 / busy as f64) },
    }
}

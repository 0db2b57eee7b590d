//! Latency percentiles from HDR histograms.
//!
//! Latency of a logical operation = completion − invocation (true time), over all its
//! attempts. Recorded in nanoseconds into `hdrhistogram` with 3 significant digits, so a
//! percentile is exact to within 0.1% of its value. Percentiles follow HdrHistogram's
//! definition: the smallest recorded value v such that at least p% of values are ≤ v
//! (within the histogram's precision). Incomplete operations have no latency. Latencies
//! above one simulated day are recorded as one day.

use crate::history::{OpKind, OpRecord, Outcome};
use hdrhistogram::Histogram;
use serde::Serialize;

/// Percentiles of one set of operations, in milliseconds (6 decimals).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// A histogram of operation latencies.
pub struct LatencyHistogram {
    h: Histogram<u64>,
}

/// Latencies above this (a simulated day) are recorded as it.
const DAY_NS: u64 = 86_400 * 1_000_000_000;

impl Default for LatencyHistogram {
    fn default() -> Self {
        // 3 significant digits. The histogram grows to the largest value recorded (a run's
        // latencies span milliseconds, not a day: a day-wide one is 300 KB of counters to
        // clear and scan); its buckets do not depend on its range, so neither do the
        // percentiles.
        let h = Histogram::new(3).expect("valid histogram precision");
        LatencyHistogram { h }
    }
}

fn ms(ns: u64) -> f64 {
    (ns as f64 / 1e3).round() / 1e3
}

impl LatencyHistogram {
    pub fn record(&mut self, ns: u64) {
        self.h.record(ns.min(DAY_NS)).expect("an auto-resizing histogram takes any value up to a day");
    }

    pub fn len(&self) -> u64 {
        self.h.len()
    }

    pub fn is_empty(&self) -> bool {
        self.h.is_empty()
    }

    /// The value at percentile `p` (0–100) in nanoseconds, 0 if empty.
    pub fn percentile_ns(&self, p: f64) -> u64 {
        if self.h.is_empty() {
            0
        } else {
            self.h.value_at_quantile(p / 100.0)
        }
    }

    pub fn percentiles(&self) -> Percentiles {
        if self.h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: self.h.len(),
            p50_ms: ms(self.percentile_ns(50.0)),
            p90_ms: ms(self.percentile_ns(90.0)),
            p99_ms: ms(self.percentile_ns(99.0)),
            p999_ms: ms(self.percentile_ns(99.9)),
            max_ms: ms(self.h.max()),
        }
    }

    /// (latency in ms, cumulative fraction) at each recorded value step, for a CDF plot.
    pub fn cdf(&self) -> Vec<(f64, f64)> {
        let total = self.h.len().max(1) as f64;
        let mut points = Vec::new();
        let mut seen = 0u64;
        for v in self.h.iter_recorded() {
            seen += v.count_at_value();
            points.push((ms(v.value_iterated_to()), seen as f64 / total));
        }
        points
    }
}

/// Latency by operation kind, for successful operations and for all that completed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub read_ok: Percentiles,
    pub write_ok: Percentiles,
    pub all_ok: Percentiles,
    /// Every completed operation, whatever its outcome (timeouts count at their timeout).
    pub all: Percentiles,
}

/// Which operations a latency figure covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    Ok(Option<OpKind>),
    AllCompleted,
}

pub fn histogram(ops: &[OpRecord], sel: Selection) -> LatencyHistogram {
    let mut h = LatencyHistogram::default();
    for op in ops.iter().filter(|o| o.outcome != Outcome::Incomplete) {
        let keep = match sel {
            Selection::Ok(kind) => op.outcome == Outcome::Ok && kind.is_none_or(|k| k == op.kind),
            Selection::AllCompleted => true,
        };
        if keep {
            h.record(op.complete.since(op.invoke).0);
        }
    }
    h
}

pub fn summary(ops: &[OpRecord]) -> LatencySummary {
    // One pass into three disjoint histograms; the wider selections are their sums (the
    // same counts, so the same percentiles as recording each selection anew).
    let (mut reads, mut writes, mut others) =
        (LatencyHistogram::default(), LatencyHistogram::default(), LatencyHistogram::default());
    for op in ops.iter().filter(|o| o.outcome != Outcome::Incomplete) {
        let ns = op.complete.since(op.invoke).0;
        match (op.outcome, op.kind) {
            (Outcome::Ok, OpKind::Read) => reads.record(ns),
            (Outcome::Ok, OpKind::Write) => writes.record(ns),
            _ => others.record(ns),
        }
    }
    let sum = |a: &LatencyHistogram, b: &LatencyHistogram| {
        let mut h = a.h.clone();
        h.add(&b.h).expect("an auto-resizing histogram takes another's counts");
        LatencyHistogram { h }
    };
    let all_ok = sum(&reads, &writes);
    let all = sum(&all_ok, &others);
    LatencySummary {
        read_ok: reads.percentiles(),
        write_ok: writes.percentiles(),
        all_ok: all_ok.percentiles(),
        all: all.percentiles(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        // 1..=1000 microseconds, once each: p50 = 500 us, p99 = 990 us, max = 1000 us.
        let mut h = LatencyHistogram::default();
        for us in 1..=1000u64 {
            h.record(us * 1000);
        }
        let p = h.percentiles();
        assert_eq!(p.count, 1000);
        assert!((p.p50_ms - 0.5).abs() <= 0.0005, "{p:?}");
        assert!((p.p90_ms - 0.9).abs() <= 0.0009, "{p:?}");
        assert!((p.p99_ms - 0.99).abs() <= 0.001, "{p:?}");
        assert!((p.max_ms - 1.0).abs() <= 0.001, "{p:?}");
        let cdf = h.cdf();
        assert!((cdf.last().unwrap().1 - 1.0).abs() < 1e-12);
        assert!(cdf.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
    }

    #[test]
    fn a_growing_histogram_gives_the_percentiles_of_a_day_wide_one() {
        // The buckets of an HDR histogram depend on its precision, not its range.
        let mut rng = crate::sim::RngStream::new(4, "latency-test");
        let mut grown = LatencyHistogram::default();
        let mut wide = Histogram::<u64>::new_with_bounds(1, DAY_NS, 3).unwrap();
        for i in 0..20_000u64 {
            // Log-uniform from 1 ns to 5 · 10^13 ns (about 14 hours).
            let ns = libm::exp(rng.unit() * 31.5) as u64 + i % 3;
            grown.record(ns);
            wide.record(ns).unwrap();
        }
        for q in [0.0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0] {
            assert_eq!(grown.h.value_at_quantile(q), wide.value_at_quantile(q), "quantile {q}");
        }
        assert_eq!((grown.h.max(), grown.len()), (wide.max(), wide.len()));
        let steps = |h: &Histogram<u64>| {
            h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect::<Vec<_>>()
        };
        assert_eq!(steps(&grown.h), steps(&wide), "the CDF's steps");
        grown.record(3 * DAY_NS);
        assert_eq!(grown.h.max(), grown.h.highest_equivalent(DAY_NS), "longer than a day counts as a day");
    }

    proptest::proptest! {
        #[test]
        fn the_summary_is_each_selection_recorded_apart(
            ops in proptest::collection::vec((0u64..4, 0u64..3_000_000_000, proptest::bool::ANY), 0..200),
        ) {
            use crate::history::ClientId;
            use crate::sim::SimTime;
            let outcomes = [Outcome::Ok, Outcome::Failed, Outcome::TimedOut, Outcome::Incomplete];
            let ops: Vec<OpRecord> = ops
                .iter()
                .map(|&(o, latency, write)| OpRecord {
                    client: ClientId(0),
                    kind: if write { OpKind::Write } else { OpKind::Read },
                    key: 0,
                    value: None,
                    invoke: SimTime(1_000),
                    complete: SimTime(1_000 + latency),
                    outcome: outcomes[o as usize],
                    attempts: 1,
                })
                .collect();
            let apart = |sel| histogram(&ops, sel).percentiles();
            let expected = LatencySummary {
                read_ok: apart(Selection::Ok(Some(OpKind::Read))),
                write_ok: apart(Selection::Ok(Some(OpKind::Write))),
                all_ok: apart(Selection::Ok(None)),
                all: apart(Selection::AllCompleted),
            };
            proptest::prop_assert_eq!(summary(&ops), expected);
        }
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        assert_eq!(LatencyHistogram::default().percentiles(), Percentiles::default());
    }
}

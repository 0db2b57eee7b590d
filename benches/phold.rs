#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // benchmarks measure wall time by design
//! PHOLD throughput: the kernel (`run_phold`) against a bare loop over std's binary heap
//! that makes exactly the same draws, so both handle the same events.
//!
//! `cargo bench --bench phold` runs N = 1,000 and N = 100,000 LPs (E = 10, p = 0.9,
//! lookahead 0.1 s, mean 1 s), 10M events each, 3 repetitions interleaved (bare, kernel,
//! bare, ...) so that a change in machine load hits both; it prints medians, bests and the
//! median of the per-repetition ratios, and the same draws with no queue as a floor.
//! `-- --quick` (or `PHOLD_QUICK=1`) runs 1M events, for a smoke test.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Instant;
use stormglass::protocols::phold::{run_phold, PholdModel, PholdParams};

/// The baseline: PHOLD on a bare `BinaryHeap<Reverse<(time, seq, lp)>>`, same draws.
/// Returns the remote-event count (to check that both loops did the same work).
fn bare_heap(p: &PholdParams) -> u64 {
    let mut model = PholdModel::new(p).expect("benchmark parameters are valid");
    let mut heap: BinaryHeap<Reverse<(u64, u64, u32)>> = BinaryHeap::new();
    let mut seq = 0u64;
    for lp in 0..p.lps {
        for _ in 0..p.events_per_lp {
            heap.push(Reverse((model.delay_ns(), seq, lp)));
            seq += 1;
        }
    }
    let mut remote = 0u64;
    for _ in 0..p.events {
        let Reverse((now, _, lp)) = heap.pop().expect("phold never drains");
        let (target, delay) = model.next(lp);
        remote += u64::from(target != lp);
        heap.push(Reverse((now + delay, seq, target)));
        seq += 1;
    }
    remote
}

/// The floor: the same draws with no queue at all (each event's LP is the last target).
fn draws_only(p: &PholdParams) -> u64 {
    let mut model = PholdModel::new(p).expect("benchmark parameters are valid");
    let (mut lp, mut now, mut remote) = (0u32, 0u64, 0u64);
    for _ in 0..p.events {
        let (target, delay) = model.next(lp);
        remote += u64::from(target != lp);
        now = now.wrapping_add(delay);
        lp = target;
    }
    black_box(now);
    remote
}

/// Events per second of one call of `f`, and its result.
fn rate(events: u64, f: impl FnOnce() -> u64) -> (f64, u64) {
    let start = Instant::now();
    let out = black_box(f());
    (events as f64 / start.elapsed().as_secs_f64(), out)
}

/// The best and the median of `xs`.
fn best_median(mut xs: Vec<f64>) -> (f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() - 1], xs[xs.len() / 2])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick") || std::env::var_os("PHOLD_QUICK").is_some();
    let events = if quick { 1_000_000 } else { 10_000_000 };
    let reps = 3;
    println!("phold: E=10 p=0.9 lookahead=0.1s mean=1s, {events} events, {reps} interleaved reps");
    for lps in [1_000u32, 100_000] {
        let p = PholdParams { lps, events, ..PholdParams::default() };
        let (mut bare, mut kernel, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..reps {
            let (b, bare_remote) = rate(events, || bare_heap(&p));
            let (k, kernel_remote) = rate(events, || run_phold(&p).expect("phold runs").remote_events);
            assert_eq!(bare_remote, kernel_remote, "the bare heap and the kernel handle the same events");
            bare.push(b);
            kernel.push(k);
            ratio.push(k / b);
        }
        let (draws, _) = rate(events, || draws_only(&p));
        let ((bare_best, bare_med), (kern_best, kern_med)) = (best_median(bare), best_median(kernel));
        let (_, ratio_med) = best_median(ratio);
        println!(
            "N={lps:>7}  bare heap {:>6.2} Mev/s (median; best {:.2})   kernel {:>6.2} Mev/s (median; best {:.2})   \
             kernel/bare {ratio_med:.2} (median of per-rep ratios)   draws alone, no queue: {:.2} Mev/s",
            bare_med / 1e6,
            bare_best / 1e6,
            kern_med / 1e6,
            kern_best / 1e6,
            draws / 1e6,
        );
    }
}

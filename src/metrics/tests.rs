//! Metrics against small hand-built histories with known answers.

use super::availability::{request_availability, windows};
use super::recovery::{incidents, rto, Rto};
use super::*;
use crate::history::{ClientId, FaultName, OpKind, OpRecord};
use proptest::prelude::*;

const S: u64 = 1_000_000_000;

fn op(invoke_ms: u64, latency_ms: u64, outcome: Outcome) -> OpRecord {
    OpRecord {
        client: ClientId(0),
        kind: OpKind::Write,
        key: 0,
        value: Some(invoke_ms),
        invoke: SimTime(invoke_ms * 1_000_000),
        complete: SimTime((invoke_ms + latency_ms) * 1_000_000),
        outcome,
        attempts: 1,
    }
}

/// Ten ops per second for `secs` seconds; seconds in `bad` fail every op.
fn steady(secs: u64, bad: &[u64]) -> Vec<OpRecord> {
    (0..secs * 10)
        .map(|i| {
            let s = i / 10;
            let outcome = if bad.contains(&s) { Outcome::TimedOut } else { Outcome::Ok };
            op(i * 100, 5, outcome)
        })
        .collect()
}

fn fault(kind: FaultName, start_ms: u64) -> FaultRecord {
    FaultRecord {
        index: 0,
        kind,
        targets: vec!["kv".into()],
        start: SimTime(start_ms * 1_000_000),
        end: None,
    }
}

fn win(ops: &[OpRecord], secs: u64) -> Vec<WindowStats> {
    windows(ops, SimDuration(secs * S), SimDuration(S))
}

#[test]
fn rto_is_zero_when_the_fault_never_hurts() {
    let w = win(&steady(10, &[]), 10);
    assert_eq!(rto(&w, SimDuration(S), SimTime(3_500_000_000), 0.99, 3), Rto::Recovered { rto_s: 0.0 });
}

#[test]
fn rto_runs_to_the_first_of_k_good_windows() {
    // Fault at 3.5 s; seconds 3, 4, 5 fail; 6, 7, 8 are good: RTO = 6 − 3.5 = 2.5 s.
    let w = win(&steady(10, &[3, 4, 5]), 10);
    assert_eq!(rto(&w, SimDuration(S), SimTime(3_500_000_000), 0.99, 3), Rto::Recovered { rto_s: 2.5 });
    // A single good second inside the outage does not count as recovery with k = 3.
    let w = win(&steady(12, &[3, 4, 6, 7]), 12);
    assert_eq!(rto(&w, SimDuration(S), SimTime(3 * S), 0.99, 3), Rto::Recovered { rto_s: 5.0 });
}

#[test]
fn a_service_that_never_recovers_is_not_recovered() {
    let w = win(&steady(10, &[5, 6, 7, 8, 9]), 10);
    assert_eq!(rto(&w, SimDuration(S), SimTime(5 * S), 0.99, 3), Rto::NotRecovered);
}

#[test]
fn a_fault_at_the_very_end_is_undetermined_or_not_recovered() {
    let w = win(&steady(10, &[]), 10);
    // Two good windows remain after 8 s: fewer than k = 3, all good: cannot tell.
    assert_eq!(rto(&w, SimDuration(S), SimTime(8 * S), 0.99, 3), Rto::Undetermined);
    let w = win(&steady(10, &[9]), 10);
    assert_eq!(rto(&w, SimDuration(S), SimTime(8 * S), 0.99, 3), Rto::NotRecovered);
}

#[test]
fn overlapping_incidents_each_get_their_own_rto() {
    // A crash at 2 s, a partition at 3 s; both bad until 6 s.
    let w = win(&steady(12, &[2, 3, 4, 5]), 12);
    let faults =
        [fault(FaultName::Crash, 2000), fault(FaultName::Partition, 3000), fault(FaultName::Restart, 4000)];
    let (inc, unattributed) = incidents(&faults, &w, SimDuration(S), 0.99, 3, &[]);
    assert_eq!(inc.len(), 2, "a restart is not an incident");
    assert_eq!(inc[0].rto, Rto::Recovered { rto_s: 4.0 });
    assert_eq!(inc[1].rto, Rto::Recovered { rto_s: 3.0 });
    assert_eq!(unattributed, 0);
}

#[test]
fn rpo_with_no_loss_with_loss_and_with_an_early_acknowledgement() {
    let w = win(&steady(20, &[]), 20);
    let faults = [fault(FaultName::Crash, 5000), fault(FaultName::Crash, 15000)];
    // No loss: RPO 0 everywhere.
    let (inc, _) = incidents(&faults, &w, SimDuration(S), 0.99, 3, &[]);
    assert!(inc.iter().all(|i| i.rpo_s == 0.0 && i.lost_writes == 0));
    // Writes acknowledged at 4.2 s and 4.9 s lost in the first crash: RPO = 5 − 4.2 = 0.8 s.
    // One acknowledged long before the second crash's window (at 7 s) belongs to it:
    // RPO = 15 − 7 = 8 s. One acknowledged after every incident is unattributed.
    let acks = [SimTime(4_200_000_000), SimTime(4_900_000_000), SimTime(7 * S), SimTime(16 * S)];
    let (inc, unattributed) = incidents(&faults, &w, SimDuration(S), 0.99, 3, &acks);
    assert_eq!((inc[0].lost_writes, inc[0].rpo_s), (2, 0.8));
    assert_eq!((inc[1].lost_writes, inc[1].rpo_s), (1, 8.0));
    assert_eq!(unattributed, 1);
}

#[test]
fn idle_windows_are_reported_apart_and_not_counted_as_up() {
    // Traffic in seconds 0–2 and 6–9 only; second 1 fails.
    let ops: Vec<OpRecord> =
        steady(10, &[1]).into_iter().filter(|o| !(3..6).contains(&(o.invoke.0 / S))).collect();
    let w = win(&ops, 10);
    let a = availability::availability(&ops, &w, 0.99, SimDuration(S));
    assert_eq!((a.windows, a.idle_windows, a.good_windows), (10, 3, 6));
    assert_eq!(a.time_availability, round6(6.0 / 7.0));
    assert!(w[4].success_ratio.is_none());
    assert_eq!(a.request_availability, round6(60.0 / 70.0));
}

#[test]
fn windows_count_by_invocation_and_throughput_by_completion() {
    // One op invoked at 0.9 s completing at 1.2 s: it belongs to window 0 for availability,
    // to window 1 for throughput and latency.
    let w = win(&[op(900, 300, Outcome::Ok)], 2);
    assert_eq!((w[0].ok, w[1].ok), (1, 0));
    assert_eq!((w[0].goodput_per_s, w[1].goodput_per_s), (0.0, 1.0));
    assert_eq!(w[1].p50_ms, Some(300.0));
}

#[test]
fn retry_amplification_and_messages_per_op() {
    let mut ops = steady(1, &[]);
    ops[0].attempts = 3;
    let history = History { ops, ..History::default() };
    let m = compute(
        &Inputs {
            history: &history,
            faults: &[],
            duration: SimDuration(S),
            lost_acks: &[],
            messages_sent: 25,
        },
        &MetricsConfig::default(),
    );
    assert_eq!(m.retry_amplification, 1.2);
    assert_eq!(m.messages_per_op, 2.5);
    assert_eq!(m.latency.all_ok.count, 10);
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![Just(Outcome::Ok), Just(Outcome::Failed), Just(Outcome::TimedOut), Just(Outcome::Incomplete)]
}

proptest! {
    #[test]
    fn request_availability_is_ok_over_all_decided(outcomes in prop::collection::vec(outcome(), 0..200)) {
        let ops: Vec<OpRecord> = outcomes.iter().enumerate().map(|(i, &o)| op(i as u64, 1, o)).collect();
        let a = request_availability(&ops);
        prop_assert!((0.0..=1.0).contains(&a));
        let ok = outcomes.iter().filter(|&&o| o == Outcome::Ok).count();
        let decided = outcomes.iter().filter(|&&o| o != Outcome::Incomplete).count();
        let expected = if decided == 0 { 1.0 } else { ok as f64 / decided as f64 };
        prop_assert_eq!(a, expected);
    }

    #[test]
    fn window_percentiles_are_the_order_statistics(latencies in prop::collection::vec(0u64..50, 1..300)) {
        // Every op in window 0 (invoked and completed within the first second).
        let ops: Vec<OpRecord> = latencies.iter().map(|&l| op(1, l, Outcome::Ok)).collect();
        let w = win(&ops, 1);
        let mut sorted = latencies.clone();
        sorted.sort_unstable();
        let at = |q: f64| sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1];
        prop_assert_eq!(w[0].p50_ms, Some(at(0.5) as f64));
        prop_assert_eq!(w[0].p99_ms, Some(at(0.99) as f64));
    }
}

#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // benchmarks measure wall time by design
//! The generic model-based checker with the `Register` model against the specialised
//! register search, on the same register histories.
//!
//! `cargo bench --bench model` checks histories of a real register (each client runs its
//! operations one after another; each takes effect at one instant of its interval; some
//! fail, time out or are still in flight at the end), and the same histories with one read
//! made stale (not linearizable). Each shape runs 5 repetitions interleaved (specialised,
//! generic, specialised, ...), and prints medians and the median of the per-repetition
//! ratios. The generic time includes converting the records (`register_operations`).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;
use stormglass::check::{linearizability, model};
use stormglass::history::{ClientId, OpKind, OpRecord, Outcome};
use stormglass::sim::{RngStream, SimTime};

/// A history of a real register: `n` operations of `clients` clients over `keys` keys.
fn register_history(seed: u64, n: usize, clients: u64, keys: u64) -> Vec<OpRecord> {
    let mut rng = RngStream::new(seed, "bench-model");
    let mut cursor = vec![0u64; clients as usize];
    let (mut ops, mut effects) = (Vec::with_capacity(n), Vec::new());
    for i in 0..n {
        let client = rng.below(clients);
        let (key, write) = (rng.below(keys), rng.chance(0.4));
        let invoke = cursor[client as usize] + rng.below(20);
        let duration = rng.below(100);
        cursor[client as usize] = invoke + duration;
        let (outcome, applied) = match rng.below(30) {
            0 => (Outcome::Failed, false),
            1 => (Outcome::TimedOut, rng.chance(0.5)),
            2 => (Outcome::Incomplete, rng.chance(0.5)),
            _ => (Outcome::Ok, true),
        };
        // A write that timed out may take effect after its timeout.
        let pct = if write && outcome != Outcome::Ok { rng.below(201) } else { rng.below(101) };
        if applied && (write || outcome == Outcome::Ok) {
            effects.push((invoke + duration * pct / 100, i));
        }
        let kind = if write { OpKind::Write } else { OpKind::Read };
        ops.push(OpRecord {
            client: ClientId(client as u32),
            kind,
            key,
            value: write.then_some(i as u64 + 1),
            invoke: SimTime(invoke),
            complete: SimTime(invoke + duration),
            outcome,
            attempts: 1,
        });
    }
    effects.sort_unstable();
    let mut register: BTreeMap<u64, u64> = BTreeMap::new();
    for (_, i) in effects {
        let o = &mut ops[i];
        match o.kind {
            OpKind::Write => {
                register.insert(o.key, o.value.expect("generated writes carry a value"));
            }
            OpKind::Read => o.value = register.get(&o.key).copied(),
        }
    }
    ops
}

/// The same history with its last successful read of a value made to return the key's
/// first written value instead: a stale read, unless that is what it saw.
fn with_stale_read(mut ops: Vec<OpRecord>) -> Vec<OpRecord> {
    let last =
        ops.iter().rposition(|o| o.kind == OpKind::Read && o.outcome == Outcome::Ok && o.value.is_some());
    let i = last.expect("the history has a successful read of a value");
    let key = ops[i].key;
    let first = ops.iter().find(|o| o.key == key && o.kind == OpKind::Write && o.outcome == Outcome::Ok);
    ops[i].value = first.and_then(|w| w.value);
    ops
}

/// Seconds per call of `f`, and its result.
fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let out = black_box(f());
    (start.elapsed().as_secs_f64(), out)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn bench(name: &str, ops: &[OpRecord], reps: usize) {
    let (mut special, mut generic, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    let (mut special_steps, mut generic_steps, mut verdicts) = (0, 0, (String::new(), String::new()));
    for _ in 0..reps {
        let (s, rs) = timed(|| linearizability::check(ops, &linearizability::Config::default()));
        let (g, rg) = timed(|| {
            let converted = model::register_operations(ops);
            model::check(&model::Register, &converted.ops, &model::Config::default())
        });
        let kind = |linearizable: bool, unknown: bool| match (linearizable, unknown) {
            (true, _) => "linearizable",
            (false, true) => "unknown",
            (false, false) => "not linearizable",
        };
        verdicts = (
            kind(
                rs.verdict == linearizability::Verdict::Linearizable,
                matches!(rs.verdict, linearizability::Verdict::Unknown { .. }),
            )
            .to_string(),
            kind(
                rg.verdict == model::Verdict::Linearizable,
                matches!(rg.verdict, model::Verdict::Unknown { .. }),
            )
            .to_string(),
        );
        (special_steps, generic_steps) = (rs.steps, rg.steps);
        special.push(s);
        generic.push(g);
        ratio.push(g / s);
    }
    println!(
        "{name:<44} specialised {:>9.3} ms ({} steps, {})   generic {:>9.3} ms ({} steps, {})   generic/specialised {:.1}x",
        median(special) * 1e3,
        special_steps,
        verdicts.0,
        median(generic) * 1e3,
        generic_steps,
        verdicts.1,
        median(ratio),
    );
}

fn main() {
    let reps = 5;
    println!("register histories, {reps} interleaved reps, medians");
    for (n, clients, keys) in [(5_000, 8, 100), (5_000, 8, 10), (5_000, 32, 10), (5_000, 32, 2)] {
        let ops = register_history(42, n, clients, keys);
        bench(&format!("{n} ops, {clients} clients, {keys} keys"), &ops, reps);
        bench(
            &format!("{n} ops, {clients} clients, {keys} keys, one stale read"),
            &with_stale_read(ops),
            reps,
        );
    }
}

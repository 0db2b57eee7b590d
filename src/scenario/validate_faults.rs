//! Cross-field checks of the fault model: the fault plan, clocks, disks and the nemesis.
//! Each failure is `(field path, message with hint)`.

use super::raw::*;
use super::validate::{fail, Check};
use super::SystemSection;
use crate::sim::SimDuration;
use std::collections::BTreeSet;

/// What a scenario's faults may name.
struct Names<'a> {
    nodes: &'a BTreeSet<String>,
    zones: BTreeSet<&'a str>,
    regions: BTreeSet<&'a str>,
    /// Size of the fault pool (the topology's nodes, or the nemesis's targets).
    pool: usize,
    /// The roles the system declares (for `Role(..)` targets).
    roles: Vec<&'static str>,
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.take(12).map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

impl Names<'_> {
    fn node(&self, name: &str, path: String) -> Check {
        if self.nodes.contains(name) {
            return Ok(());
        }
        fail(
            path,
            format!("unknown node '{name}'; known nodes: {}", list(self.nodes.iter().map(String::as_str))),
        )
    }

    fn zone(&self, zone: &str, path: String) -> Check {
        if self.zones.contains(zone) {
            return Ok(());
        }
        fail(path, format!("unknown zone '{zone}'; known zones: {}", list(self.zones.iter().copied())))
    }

    fn region(&self, region: &str, path: String) -> Check {
        if self.regions.contains(region) {
            return Ok(());
        }
        fail(
            path,
            format!("unknown region '{region}'; known regions: {}", list(self.regions.iter().copied())),
        )
    }

    fn role(&self, role: &str, path: String) -> Check {
        if self.roles.contains(&role) {
            return Ok(());
        }
        let hint = match super::did_you_mean(role, &self.roles) {
            Some(close) => format!("did you mean '{close}'?"),
            None if self.roles.is_empty() => {
                "this system declares no roles; target nodes by name".to_string()
            }
            None => format!("the system's roles: {}", list(self.roles.iter().copied())),
        };
        fail(path, format!("unknown role '{role}'; {hint}"))
    }
}

pub fn validate<S: SystemSection>(s: &RawScenario<S>, all: &BTreeSet<String>) -> Check {
    let nodes = &s.topology.nodes;
    let pool = s.nemesis.targets.as_ref().map_or(nodes.len(), Vec::len);
    let names = Names {
        nodes: all,
        zones: nodes.iter().map(|n| n.zone.as_str()).chain([s.workload.zone.as_str()]).collect(),
        regions: nodes.iter().map(|n| n.region.as_str()).chain([s.workload.region.as_str()]).collect(),
        pool,
        roles: s.system.roles(),
    };
    for (i, f) in s.faults.iter().enumerate() {
        validate_fault(f, &format!("faults[{i}]"), s.duration, &names)?;
    }
    validate_overlaps(s)?;
    for (i, n) in nodes.iter().enumerate() {
        validate_disk(n.disk.as_ref(), &format!("topology.nodes[{i}].disk"))?;
        validate_clock(n.clock.as_ref(), &format!("topology.nodes[{i}].clock"))?;
    }
    validate_disk(s.topology.disk.as_ref(), "topology.disk")?;
    validate_clock(s.topology.clock.as_ref(), "topology.clock")?;
    validate_nemesis(&s.nemesis, &names)
}

fn validate_fault(f: &RawFault, path: &str, duration: Dur, names: &Names) -> Check {
    if f.at > duration {
        let msg =
            format!("'{}' is past the run's duration '{}'; shorten it or raise duration", f.at.0, duration.0);
        fail(format!("{path}.at"), msg)?;
    }
    if f.for_.is_some_and(|d| d.0 == SimDuration::ZERO) {
        fail(
            format!("{path}.for"),
            "'for' is how long the fault lasts and must be above zero, e.g. \"5s\"; leave it out for a lasting fault",
        )?;
    }
    let undoable = !matches!(f.action, RawAction::Restart(_) | RawAction::Heal | RawAction::ClockStep { .. });
    if f.for_.is_some() && !undoable {
        fail(
            format!("{path}.for"),
            "'for' undoes a lasting fault; restart, heal and clock steps have nothing to undo",
        )?;
    }
    let needs_for = matches!(f.action, RawAction::Pause { .. } | RawAction::Clog { .. });
    if needs_for && f.for_.is_none() {
        let what = if matches!(f.action, RawAction::Pause { .. }) { "a Pause" } else { "a Clog" };
        fail(format!("{path}.for"), format!("{what} must end: add 'for: \"2s\"' (how long it lasts)"))?;
    }
    validate_action(&f.action, &format!("{path}.do"), names)
}

fn validate_action(a: &RawAction, path: &str, names: &Names) -> Check {
    match a {
        RawAction::Crash(t) | RawAction::Restart(t) => validate_target(t, &format!("{path}[0]"), names),
        RawAction::Partition { groups, .. } => validate_groups(groups, &format!("{path}.groups"), names),
        RawAction::Heal => Ok(()),
        RawAction::Isolate(t) => validate_target(t, &format!("{path}[0]"), names),
        RawAction::Cut { target, from, .. } => {
            validate_target(target, &format!("{path}.target"), names)?;
            validate_target(from, &format!("{path}.from"), names)
        }
        RawAction::ClockStep { target, .. }
        | RawAction::DiskFault { target, .. }
        | RawAction::Pause { target } => validate_target(target, &format!("{path}.target"), names),
        RawAction::ClockDrift { target, ppm } => {
            validate_target(target, &format!("{path}.target"), names)?;
            validate_ppm(*ppm, &format!("{path}.ppm"))
        }
        RawAction::Slow { target, factor, .. } => {
            validate_target(target, &format!("{path}.target"), names)?;
            if !(factor.is_finite() && *factor > 0.0) {
                fail(
                    format!("{path}.factor"),
                    format!("factor {factor} must be above zero; 3.0 makes the node three times slower"),
                )?;
            }
            Ok(())
        }
        RawAction::Corrupt { probability, groups } => {
            validate_knob(probability, &format!("{path}.probability"))?;
            groups.as_ref().map_or(Ok(()), |g| validate_groups(g, &format!("{path}.groups"), names))
        }
        RawAction::Flaky { groups, p_enter, p_exit, loss } => {
            validate_knob(p_enter, &format!("{path}.p_enter"))?;
            validate_knob(p_exit, &format!("{path}.p_exit"))?;
            validate_knob(loss, &format!("{path}.loss"))?;
            validate_groups(groups, &format!("{path}.groups"), names)
        }
        RawAction::Clog { groups } => validate_groups(groups, &format!("{path}.groups"), names),
        RawAction::ZoneOutage { zone, .. } => names.zone(zone, format!("{path}.zone")),
        RawAction::RegionOutage { region, .. } => names.region(region, format!("{path}.region")),
    }
}

fn validate_groups(groups: &[Vec<String>], path: &str, names: &Names) -> Check {
    if groups.len() < 2 {
        fail(path, "needs at least two groups of nodes, e.g. [[\"a\"], [\"b\", \"c\"]]")?;
    }
    let mut seen = BTreeSet::new();
    for (g, group) in groups.iter().enumerate() {
        if group.is_empty() {
            fail(format!("{path}[{g}]"), "a group cannot be empty")?;
        }
        for (k, name) in group.iter().enumerate() {
            let p = format!("{path}[{g}][{k}]");
            names.node(name, p.clone())?;
            if !seen.insert(name) {
                fail(
                    p,
                    format!("node '{name}' is in two groups; a node belongs to one side of a partition"),
                )?;
            }
        }
    }
    Ok(())
}

fn validate_target(t: &RawTarget, path: &str, names: &Names) -> Check {
    match t {
        RawTarget::Node(n) => names.node(n, format!("{path}[0]")),
        RawTarget::Nodes(ns) => {
            if ns.is_empty() {
                fail(format!("{path}[0]"), "Nodes([...]) needs at least one node name")?;
            }
            ns.iter().enumerate().try_for_each(|(i, n)| names.node(n, format!("{path}[{i}]")))
        }
        RawTarget::Zone(z) => names.zone(z, format!("{path}[0]")),
        RawTarget::Region(r) => names.region(r, format!("{path}[0]")),
        RawTarget::Role(r) | RawTarget::OneWithRole(r) | RawTarget::MinorityWithRole(r) => {
            names.role(r, format!("{path}[0]"))
        }
        RawTarget::RandomNodes(0) => fail(format!("{path}[0]"), "RandomNodes(0) picks nobody; ask for 1 node or more"),
        RawTarget::RandomNodes(k) if *k as usize > names.pool => fail(
            format!("{path}[0]"),
            format!("RandomNodes({k}) asks for {k} nodes; the fault pool (the topology's nodes, or nemesis.targets) has {}", names.pool),
        ),
        _ => Ok(()),
    }
}

fn validate_ppm(ppm: f64, path: &str) -> Check {
    if !(ppm.is_finite() && ppm.abs() < 1_000_000.0) {
        fail(path, format!("drift {ppm} ppm is out of range; a clock drifts by less than ±1,000,000 ppm (real quartz: ±100)"))?;
    }
    Ok(())
}

fn validate_knob<T: PartialOrd + std::fmt::Display>(k: &Knob<T>, path: &str) -> Check {
    match k {
        Knob::Range(lo, hi) if lo > hi => {
            fail(path, format!("range ({lo}, {hi}) has lo above hi; swap them"))
        }
        _ => Ok(()),
    }
}

fn validate_disk(d: Option<&RawDisk>, path: &str) -> Check {
    let Some(d) = d else { return Ok(()) };
    for (dist, name) in [(&d.write, "write"), (&d.fsync, "fsync"), (&d.read, "read")] {
        if let Some(dist) = dist {
            super::validate::validate_dist(dist, &format!("{path}.{name}"))?;
        }
    }
    validate_knob(&d.torn_write, &format!("{path}.torn_write"))?;
    validate_knob(&d.write_corruption, &format!("{path}.write_corruption"))?;
    validate_knob(&d.misdirected_write, &format!("{path}.misdirected_write"))?;
    validate_knob(&d.read_corruption, &format!("{path}.read_corruption"))
}

fn validate_clock(c: Option<&RawClock>, path: &str) -> Check {
    let Some(c) = c else { return Ok(()) };
    match c.drift_ppm {
        Knob::Fixed(x) => validate_ppm(x, &format!("{path}.drift_ppm"))?,
        Knob::Range(lo, hi) => {
            validate_ppm(lo, &format!("{path}.drift_ppm"))?;
            validate_ppm(hi, &format!("{path}.drift_ppm"))?;
        }
    }
    validate_knob(&c.drift_ppm, &format!("{path}.drift_ppm"))?;
    validate_knob(&c.offset, &format!("{path}.offset"))?;
    if c.sync.as_ref().is_some_and(|s| s.interval.0 == SimDuration::ZERO) {
        fail(format!("{path}.sync.interval"), "a sync interval must be above zero; write e.g. '10s'")?;
    }
    Ok(())
}

fn validate_nemesis(n: &RawNemesis, names: &Names) -> Check {
    if let Some(targets) = &n.targets {
        if targets.is_empty() {
            fail(
                "nemesis.targets",
                "an empty target list leaves the nemesis nothing to hit; leave it out for every node",
            )?;
        }
        for (i, t) in targets.iter().enumerate() {
            names.node(t, format!("nemesis.targets[{i}]"))?;
        }
    }
    let positive = |k: &Knob<Dur>, path: &str| -> Check {
        validate_knob(k, path)?;
        let lo = match k {
            Knob::Fixed(d) | Knob::Range(d, _) => d.0,
        };
        if lo == SimDuration::ZERO {
            fail(path, "must be above zero, e.g. \"30s\" (a mean time, or a range of them)")?;
        }
        Ok(())
    };
    if let Some(c) = &n.crashes {
        positive(&c.mtbf, "nemesis.crashes.mtbf")?;
        positive(&c.mttr, "nemesis.crashes.mttr")?;
        if let RawLifetime::Weibull(shape) = c.distribution {
            if !(shape.is_finite() && shape > 0.0) {
                fail(
                    "nemesis.crashes.distribution",
                    format!("Weibull shape {shape} must be above zero; 1.0 is exponential"),
                )?;
            }
        }
    }
    if let Some(p) = &n.partitions {
        if names.pool < 3 {
            let msg = format!("a partition isolates a minority, and {} node(s) have none; give the nemesis at least 3 targets", names.pool);
            fail("nemesis.partitions", msg)?;
        }
        positive(&p.every, "nemesis.partitions.every")?;
        positive(&p.duration, "nemesis.partitions.duration")?;
    }
    if let Some(c) = &n.clock_steps {
        positive(&c.every, "nemesis.clock_steps.every")?;
    }
    Ok(())
}

/// The node names a fault's target names statically.
fn static_nodes(t: &RawTarget) -> Vec<&str> {
    match t {
        RawTarget::Node(n) => vec![n.as_str()],
        RawTarget::Nodes(ns) => ns.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A timed fault on fixed nodes: (index, kind, nodes, start, end).
type Window<'a> = (usize, &'static str, Vec<&'a str>, SimDuration, Option<SimDuration>);

/// Two timed faults of the same kind on the same node that overlap contradict each other
/// (which drift, which speed, which disk fault holds?).
fn validate_overlaps<S>(s: &RawScenario<S>) -> Check {
    let windows: Vec<Window> = s
        .faults
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let (kind, t) = match &f.action {
                RawAction::ClockDrift { target, .. } => ("ClockDrift", target),
                RawAction::DiskFault { target, .. } => ("DiskFault", target),
                RawAction::Slow { target, .. } => ("Slow", target),
                RawAction::Pause { target } => ("Pause", target),
                _ => return None,
            };
            Some((i, kind, static_nodes(t), f.at.0, f.for_.map(|d| f.at.0 + d.0)))
        })
        .collect();
    for (x, a) in windows.iter().enumerate() {
        for b in &windows[x + 1..] {
            let overlap = a.1 == b.1
                && a.3.max(b.3)
                    < a.4.unwrap_or(SimDuration(u64::MAX)).min(b.4.unwrap_or(SimDuration(u64::MAX)));
            if let Some(node) = a.2.iter().find(|n| overlap && b.2.contains(n)) {
                let end = |w: Option<SimDuration>| w.map_or("the end".to_string(), |e| format!("{e}"));
                let msg = format!(
                    "this {} fault on '{node}' ({} to {}) overlaps faults[{}]'s ({} to {}); make them not overlap",
                    b.1,
                    b.3,
                    end(b.4),
                    a.0,
                    a.3,
                    end(a.4)
                );
                fail(format!("faults[{}].at", b.0), msg)?;
            }
        }
    }
    Ok(())
}

//! Cross-field checks of a raw scenario. Each failure is `(field path, message with hint)`.

use super::raw::*;
use super::SystemSection;
use crate::sim::SimDuration;
use std::collections::BTreeSet;

pub(super) type Check = Result<(), (String, String)>;

pub(super) fn fail(path: impl Into<String>, message: impl Into<String>) -> Check {
    Err((path.into(), message.into()))
}

/// Names of client nodes, as the workload creates them.
pub fn client_name(i: u32) -> String {
    format!("client-{i}")
}

pub fn validate<S: SystemSection>(s: &RawScenario<S>) -> Check {
    if s.duration.0 == SimDuration::ZERO {
        return fail("duration", "the run must last longer than zero; write e.g. '60s'");
    }
    let names = validate_topology(&s.topology)?;
    let mut all = names.clone();
    for i in 0..s.workload.clients {
        if !all.insert(client_name(i)) {
            return fail(
                "workload.clients",
                format!("client node '{}' clashes with a node of that name; rename the node", client_name(i)),
            );
        }
    }
    validate_links(&s.topology, &all, &s.workload.zone, &s.workload.region)?;
    s.system.validate(&names).map_err(|(path, message)| (join_path("system", &path), message))?;
    validate_workload(&s.workload)?;
    super::validate_faults::validate(s, &all)?;
    validate_expectations(s)?;
    validate_limits(&s.limits)
}

fn validate_topology(t: &RawTopology) -> Result<BTreeSet<String>, (String, String)> {
    if t.nodes.is_empty() {
        fail("topology.nodes", "the topology has no nodes; add at least one, e.g. (name: \"kv\")")?;
    }
    let mut names = BTreeSet::new();
    for (i, n) in t.nodes.iter().enumerate() {
        if n.name.is_empty() {
            fail(format!("topology.nodes[{i}].name"), "a node needs a non-empty name")?;
        }
        if !names.insert(n.name.clone()) {
            fail(
                format!("topology.nodes[{i}].name"),
                format!("node name '{}' is used twice; node names must be unique", n.name),
            )?;
        }
        if let Some(svc) = &n.service {
            if svc.workers == 0 {
                fail(format!("topology.nodes[{i}].service.workers"), "a service needs at least one worker")?;
            }
            validate_dist(&svc.time, &format!("topology.nodes[{i}].service.time"))?;
        }
    }
    validate_dist(&t.link.latency, "topology.link.latency")?;
    Ok(names)
}

/// Link overrides name nodes (clients included), zones or regions (the workload's too).
fn validate_links(t: &RawTopology, all: &BTreeSet<String>, client_zone: &str, client_region: &str) -> Check {
    let zones: BTreeSet<&str> = t.nodes.iter().map(|n| n.zone.as_str()).chain([client_zone]).collect();
    let regions: BTreeSet<&str> = t.nodes.iter().map(|n| n.region.as_str()).chain([client_region]).collect();
    let nodes: BTreeSet<&str> = all.iter().map(String::as_str).collect();
    for (list, kind, known) in
        [(&t.links, "links", nodes), (&t.zones, "zones", zones), (&t.regions, "regions", regions)]
    {
        for (i, o) in list.iter().enumerate() {
            validate_override(o, &format!("topology.{kind}[{i}]"), kind, &known)?;
        }
    }
    Ok(())
}

fn validate_override(o: &RawLinkOverride, path: &str, kind: &str, known: &BTreeSet<&str>) -> Check {
    if kind == "links" && o.between.0 == o.between.1 {
        let msg = format!("a link joins two different nodes, not '{}' with itself", o.between.0);
        fail(format!("{path}.between"), msg)?;
    }
    for (j, name) in [&o.between.0, &o.between.1].into_iter().enumerate() {
        if !known.contains(name.as_str()) {
            let what = match kind {
                "links" => "node",
                "zones" => "zone",
                _ => "region",
            };
            let list = known.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
            fail(format!("{path}.between[{j}]"), format!("unknown {what} '{name}'; known: {list}"))?;
        }
    }
    if o.one_way && kind != "links" {
        fail(format!("{path}.one_way"), "one_way applies to node pairs only; remove it here")?;
    }
    if let Some(d) = &o.latency {
        validate_dist(d, &format!("{path}.latency"))?;
    }
    if o.bandwidth_bps == Some(0) {
        fail(format!("{path}.bandwidth_bps"), "bandwidth must be above zero; leave it out for unlimited")?;
    }
    Ok(())
}

pub(super) fn validate_dist(d: &RawDist, path: &str) -> Check {
    match d {
        RawDist::Uniform { lo, hi } if lo > hi => {
            fail(format!("{path}.lo"), format!("lo '{}' is above hi '{}'; swap them", lo.0, hi.0))
        }
        RawDist::LogNormal { median, .. } if median.0 == SimDuration::ZERO => {
            fail(format!("{path}.median"), "a log-normal median must be above zero")
        }
        RawDist::LogNormal { median, p99 } if p99 < median => fail(
            format!("{path}.p99"),
            format!("p99 '{}' is below the median '{}'; p99 must be at least the median", p99.0, median.0),
        ),
        RawDist::Pareto { scale, .. } if scale.0 == SimDuration::ZERO => {
            fail(format!("{path}.scale"), "a Pareto scale must be above zero")
        }
        _ => Ok(()),
    }
}

fn validate_workload(w: &RawWorkload) -> Check {
    if w.clients == 0 {
        fail("workload.clients", "the workload needs at least one client")?;
    }
    if w.timeout.0 == SimDuration::ZERO {
        fail("workload.timeout", "the timeout must be above zero; write e.g. '500ms'")?;
    }
    match w.keys {
        RawKeys::Uniform { n: 0 } | RawKeys::Zipf { n: 0, .. } => {
            fail("workload.keys.n", "there must be at least one key")?
        }
        RawKeys::Zipf { n, .. } if n > 10_000_000 => fail(
            "workload.keys.n",
            format!("{n} keys is more than the Zipf table allows (10,000,000); use Uniform or fewer keys"),
        )?,
        RawKeys::Zipf { s, .. } if !(s.is_finite() && s >= 0.0) => {
            fail("workload.keys.s", format!("the Zipf exponent {s} must be zero or more; 1.0 is typical"))?
        }
        _ => {}
    }
    if let RawArrival::Closed { think } = &w.arrival {
        validate_dist(think, "workload.arrival.think")?;
    }
    match &w.retry {
        RawRetry::Fixed { max_attempts: 0, .. } | RawRetry::Exponential { max_attempts: 0, .. } => fail(
            "workload.retry.max_attempts",
            "max_attempts counts the first attempt too; it must be at least 1",
        ),
        RawRetry::Exponential { base, cap, .. } if cap < base => {
            fail("workload.retry.cap", format!("cap '{}' is below base '{}'; raise the cap", cap.0, base.0))
        }
        _ => Ok(()),
    }
}

fn validate_limits(l: &RawLimits) -> Check {
    if l.max_events == 0 {
        fail("limits.max_events", "max_events must be above zero")?;
    }
    if l.max_queue == 0 {
        fail("limits.max_queue", "max_queue must be above zero")?;
    }
    if l.max_in_flight == 0 {
        fail("limits.max_in_flight", "max_in_flight must be above zero")?;
    }
    Ok(())
}

fn validate_expectations<S: SystemSection>(s: &RawScenario<S>) -> Check {
    if s.metrics.window.0 == SimDuration::ZERO {
        fail("metrics.window", "a window must be longer than zero; write e.g. '1s'")?;
    }
    if s.metrics.recovery_windows == 0 {
        fail("metrics.recovery_windows", "recovery needs at least one good window; 3 is usual")?;
    }
    validate_quiet_after(s)?;
    for (i, e) in s.expect.iter().enumerate() {
        match e {
            RawExpect::LatencyBelow { percentile, .. } if !(*percentile > 0.0 && *percentile <= 100.0) => {
                fail(
                    format!("expect[{i}].percentile"),
                    format!("percentile {percentile} must be in (0, 100]; write e.g. 99.0 or 99.9"),
                )?
            }
            RawExpect::Property(name) | RawExpect::Violated(name)
                if !s.system.properties().contains(&name.as_str()) =>
            {
                let known = s.system.properties();
                let list = match (super::did_you_mean(name, &known), S::owner(name)) {
                    (Some(close), _) => format!("did you mean '{close}'?"),
                    (None, Some(owner)) => format!(
                        "it applies to {owner} systems only; this system has: {}",
                        known.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ")
                    ),
                    (None, None) if known.is_empty() => "this system has no named properties".to_string(),
                    (None, None) => format!(
                        "known: {}",
                        known.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ")
                    ),
                };
                fail(format!("expect[{i}][0]"), format!("unknown property '{name}'; {list}"))?
            }
            RawExpect::Sometimes(name) => validate_sometimes(s, i, name)?,
            RawExpect::RecoversWithin(bound) => match s.quiet_after {
                None => fail(
                    format!("expect[{i}]"),
                    "RecoversWithin judges the liveness phase after quiet_after; add e.g. quiet_after: \"40s\"",
                )?,
                Some(q) if q.0 + bound.0 > s.duration.0 => fail(
                    format!("expect[{i}][0]"),
                    format!(
                        "quiet_after {q} + {bound} is past the run's duration {}; raise duration or shorten the bound",
                        s.duration
                    ),
                )?,
                Some(_) => {}
            },
            _ => {}
        }
    }
    Ok(())
}

fn validate_sometimes<S: SystemSection>(s: &RawScenario<S>, i: usize, name: &str) -> Check {
    let known = s.system.sometimes();
    if known.contains(&name) {
        return Ok(());
    }
    let list = known.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
    if let Some(owner) = S::owner(name) {
        fail(
            format!("expect[{i}][0]"),
            format!("'{name}' applies to {owner} systems only; this system has: {list}"),
        )
    } else if let Some(close) = super::did_you_mean(name, &known) {
        fail(format!("expect[{i}][0]"), format!("unknown sometimes event '{name}'; did you mean '{close}'?"))
    } else {
        fail(format!("expect[{i}][0]"), format!("unknown sometimes event '{name}'; known: {list}"))
    }
}

/// `base.rest`, or `base` alone for an empty `rest` (a path into the `system:` section).
fn join_path(base: &str, rest: &str) -> String {
    match rest {
        "" => base.to_string(),
        r if r.starts_with('[') => format!("{base}{r}"),
        r => format!("{base}.{r}"),
    }
}

/// `quiet_after` lies within the run, and the fault plan only repairs from then on.
fn validate_quiet_after<S>(s: &RawScenario<S>) -> Check {
    let Some(q) = s.quiet_after else { return Ok(()) };
    if q.0 == SimDuration::ZERO || q > s.duration {
        fail("quiet_after", format!("{q} must be above zero and within the run's duration {}", s.duration))?;
    }
    for (i, f) in s.faults.iter().enumerate() {
        let repair = matches!(f.action, RawAction::Restart(_) | RawAction::Heal);
        if f.at >= q && !repair {
            fail(
                format!("faults[{i}].at"),
                format!(
                    "{} is at or after quiet_after {q}, when faults stop; only Restart and Heal may come then. Move it earlier or raise quiet_after",
                    f.at
                ),
            )?;
        }
    }
    Ok(())
}

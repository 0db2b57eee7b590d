//! The report's content as plain sections of tables, shared by the Markdown and HTML pages.
//!
//! Every figure is formatted here, once, at a fixed precision: seconds and milliseconds
//! with 3 decimals, ratios with 6, rates with 1. Both renderers only lay these strings out,
//! so the two pages always say the same thing. docs/metrics.md defines every figure.

use crate::metrics::latency::Percentiles;
use crate::metrics::recovery::{Incident, Rto};
pub use crate::metrics::table::{fixed, ratio, secs, yes_no, Align, Block, Section, Table};
use crate::sim::SimTime;
use crate::simulation::RunResult;

fn time_s(t: SimTime) -> String {
    secs(t.as_secs_f64())
}

/// A serde enum's snake_case name.
fn serde_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// An incident's RTO cell: the figure, or its verdict.
pub fn rto_text(rto: &Rto) -> String {
    match rto {
        Rto::Recovered { rto_s } => format!("{} s", secs(*rto_s)),
        Rto::NotRecovered => "not recovered".to_string(),
        Rto::Undetermined => "undetermined (run ended too soon)".to_string(),
    }
}

/// Every section of the report, in order.
/// The system's own sections (see `systems::SystemReport`) come after the properties.
pub fn sections(r: &RunResult) -> Vec<Section> {
    let generic = [
        run_facts(r),
        expectations(r),
        Section { title: "Plots", blocks: vec![Block::Plots] },
        operations(r),
        latency(r),
        incidents(r),
        properties(r),
    ];
    let rest = [durability(r), messages(r), faults(r), nodes(r), disks(r), drawn(r)];
    (generic.into_iter().chain(r.system.sections.iter().cloned()).chain(rest))
        .filter(|s| !s.blocks.is_empty())
        .collect()
}

fn run_facts(r: &RunResult) -> Section {
    let mut t = Table::figures();
    t.figure("scenario", r.scenario.clone());
    t.figure("seed", r.seed.to_string());
    t.figure("duration (s)", secs(r.duration_s));
    t.figure("events", r.events.to_string());
    t.figure("stop", serde_name(&r.stop));
    t.figure("digest", r.digest.clone());
    t.figure("report version", r.report_version.to_string());
    let failing = r.expectations.iter().filter(|v| v.fails()).count();
    let verdict = if r.expectations.is_empty() {
        "no expectation stated".to_string()
    } else if failing == 0 {
        format!("passed ({} expectations hold)", r.expectations.len())
    } else {
        format!("FAILED ({failing} of {} expectations do not hold)", r.expectations.len())
    };
    t.figure("verdict", verdict);
    let mut blocks = Vec::new();
    if !r.description.is_empty() {
        blocks.push(Block::Note(r.description.clone()));
    }
    blocks.push(Block::Table(t));
    Section { title: "Run", blocks }
}

fn expectations(r: &RunResult) -> Section {
    if r.expectations.is_empty() {
        let note = Block::Note("The scenario states no expectation.".to_string());
        return Section { title: "Expectations", blocks: vec![note] };
    }
    let mut t = Table::new(&[
        ("expectation", Align::Left),
        ("measured", Align::Right),
        ("bound", Align::Right),
        ("holds", Align::Left),
    ]);
    for v in &r.expectations {
        let holds = match (v.holds, v.informational) {
            (true, _) => "yes",
            (false, true) => "no (informational)",
            (false, false) => "NO",
        };
        t.row(vec![v.expectation.clone(), v.measured.clone(), v.bound.clone(), holds.to_string()]);
    }
    Section { title: "Expectations", blocks: vec![Block::Table(t)] }
}

fn operations(r: &RunResult) -> Section {
    let (o, a, m) = (&r.ops, &r.metrics.availability, &r.metrics);
    let mut t = Table::figures();
    t.figure("logical operations", o.total.to_string());
    t.figure("ok", o.ok.to_string());
    t.figure("failed", o.failed.to_string());
    t.figure("timed out", o.timed_out.to_string());
    t.figure("incomplete at the end", o.incomplete.to_string());
    t.figure("reads", o.reads.to_string());
    t.figure("writes", o.writes.to_string());
    t.figure("attempts", o.attempts.to_string());
    t.figure("retry amplification (attempts per decided operation)", fixed(m.retry_amplification, 6));
    t.figure("messages per operation", fixed(m.messages_per_op, 6));
    t.figure("request availability", ratio(a.request_availability));
    t.figure("time availability", ratio(a.time_availability));
    t.figure("SLO (success ratio of a good window)", ratio(a.slo));
    t.figure("window (s)", secs(a.window_s));
    t.figure("windows", a.windows.to_string());
    t.figure("good windows", a.good_windows.to_string());
    t.figure("idle windows", a.idle_windows.to_string());
    Section { title: "Operations and availability", blocks: vec![Block::Table(t)] }
}

fn latency(r: &RunResult) -> Section {
    let mut t = Table::new(&[
        ("operations", Align::Left),
        ("count", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("p99.9", Align::Right),
        ("max", Align::Right),
    ]);
    let l = &r.metrics.latency;
    let rows: [(&str, &Percentiles); 4] = [
        ("ok reads", &l.read_ok),
        ("ok writes", &l.write_ok),
        ("all ok", &l.all_ok),
        ("all completed", &l.all),
    ];
    for (name, p) in rows {
        let ms = [p.p50_ms, p.p90_ms, p.p99_ms, p.p999_ms, p.max_ms];
        let mut cells = vec![name.to_string(), p.count.to_string()];
        cells.extend(ms.iter().map(|&x| if p.count == 0 { "-".to_string() } else { secs(x) }));
        t.row(cells);
    }
    let note = "In milliseconds, invocation to completion over all attempts; \"all completed\" \
                includes failed and timed-out operations.";
    Section { title: "Latency (ms)", blocks: vec![Block::Note(note.to_string()), Block::Table(t)] }
}

fn incidents(r: &RunResult) -> Section {
    let m = &r.metrics;
    let a = &m.availability;
    let mut blocks = Vec::new();
    if m.incidents.is_empty() {
        blocks.push(Block::Note("No incident: no fault that takes something away was injected.".into()));
    } else {
        blocks.push(Block::Note(format!(
            "RTO: from the injection to the start of the first run of consecutive good {} s \
             windows (success ratio at least {}) that counts as recovered (the scenario's \
             metrics.recovery_windows, 3 by default). RPO and lost writes: acknowledged writes \
             missing from the state after the run.{}",
            secs(a.window_s),
            ratio(a.slo),
            if m.incidents.len() > 1 {
                " The numbers match the marks in the success-ratio plot."
            } else {
                ""
            }
        )));
        let mut t = Table::new(&[
            ("#", Align::Right),
            ("kind", Align::Left),
            ("targets", Align::Left),
            ("start (s)", Align::Right),
            ("end (s)", Align::Right),
            ("RTO", Align::Right),
            ("RPO (s)", Align::Right),
            ("lost writes", Align::Right),
        ]);
        for (i, inc) in m.incidents.iter().enumerate() {
            t.row(incident_row(i + 1, inc));
        }
        blocks.push(Block::Table(t));
    }
    if m.lost_writes_unattributed > 0 {
        blocks.push(Block::Note(format!(
            "{} lost writes were acknowledged after every incident (attributed to none).",
            m.lost_writes_unattributed
        )));
    }
    Section { title: "Incidents", blocks }
}

fn incident_row(n: usize, i: &Incident) -> Vec<String> {
    vec![
        n.to_string(),
        i.kind.to_string(),
        i.targets.join(", "),
        secs(i.start_s),
        i.end_s.map_or_else(|| "open".to_string(), secs),
        rto_text(&i.rto),
        secs(i.rpo_s),
        i.lost_writes.to_string(),
    ]
}

fn properties(r: &RunResult) -> Section {
    let mut t = Table::new(&[("property", Align::Left), ("verdict", Align::Left), ("detail", Align::Left)]);
    for p in &r.properties {
        let verdict = match p.holds {
            Some(true) => "holds",
            Some(false) => "**VIOLATED**",
            None => "unknown",
        };
        t.row(vec![p.name.clone(), verdict.to_string(), p.detail.clone()]);
    }
    Section { title: "Properties", blocks: vec![Block::Table(t)] }
}

fn durability(r: &RunResult) -> Section {
    let d = &r.durability;
    let mut t = Table::figures();
    t.figure("acknowledged writes", d.acknowledged_writes.to_string());
    t.figure("lost acknowledged writes", d.lost_acknowledged_writes.to_string());
    let examples: Vec<String> = d.lost_examples.iter().map(|(k, v)| format!("{k}={v}")).collect();
    t.figure("lost examples (key=value)", if examples.is_empty() { "-".into() } else { examples.join(", ") });
    t.figure("wrong reads", d.wrong_reads.to_string());
    t.figure("corruptions detected by the system", d.detected_corruptions.to_string());
    Section { title: "Durability", blocks: vec![Block::Table(t)] }
}

fn messages(r: &RunResult) -> Section {
    let n = &r.messages;
    let mut t = Table::figures();
    t.figure("sent", n.sent.to_string());
    t.figure("duplicated copies", n.duplicated.to_string());
    t.figure("delivered", n.delivered.to_string());
    t.figure("dropped", n.dropped_total().to_string());
    for (reason, count) in &n.dropped {
        t.figure(&format!("dropped: {}", serde_name(reason)), count.to_string());
    }
    t.figure("in flight at the end", n.in_flight.to_string());
    t.figure("queued at the end", n.queued.to_string());
    t.figure("delivered corrupted", n.corrupted.to_string());
    Section { title: "Messages", blocks: vec![Block::Table(t)] }
}

fn faults(r: &RunResult) -> Section {
    if r.faults.is_empty() {
        return Section { title: "Faults", blocks: vec![Block::Note("No fault was injected.".into())] };
    }
    let mut t = Table::new(&[
        ("plan #", Align::Right),
        ("kind", Align::Left),
        ("targets", Align::Left),
        ("start (s)", Align::Right),
        ("end (s)", Align::Right),
    ]);
    for f in &r.faults {
        let end = f.end.map_or_else(|| "open".to_string(), time_s);
        t.row(vec![f.index.to_string(), f.kind.to_string(), f.targets.join(", "), time_s(f.start), end]);
    }
    let note = "In the order they fired; \"plan #\" is the action's index in the scenario's fault plan, \
                \"open\" a fault not undone within the run.";
    Section { title: "Faults", blocks: vec![Block::Note(note.into()), Block::Table(t)] }
}

fn nodes(r: &RunResult) -> Section {
    let mut t = Table::new(&[
        ("node", Align::Left),
        ("zone", Align::Left),
        ("up at end", Align::Left),
        ("crashes", Align::Right),
        ("restarts", Align::Right),
        ("pauses", Align::Right),
        ("messages handled", Align::Right),
        ("max queue depth", Align::Right),
        ("utilisation", Align::Right),
        ("clock offset at end (ms)", Align::Right),
    ]);
    for n in &r.nodes {
        t.row(vec![
            n.name.clone(),
            n.zone.clone(),
            yes_no(n.up_at_end),
            n.crashes.to_string(),
            n.restarts.to_string(),
            n.pauses.to_string(),
            n.messages_handled.to_string(),
            n.max_queue_depth.to_string(),
            n.utilisation.map_or_else(|| "-".to_string(), |u| fixed(u, 4)),
            secs(n.clock_offset_ms_at_end),
        ]);
    }
    let note = "Utilisation: busy worker time / (workers × duration), \"-\" for a node without a \
                service model.";
    Section { title: "Nodes", blocks: vec![Block::Note(note.into()), Block::Table(t)] }
}

fn disks(r: &RunResult) -> Section {
    let mut t = Table::new(&[
        ("node", Align::Left),
        ("writes", Align::Right),
        ("bytes written", Align::Right),
        ("fsyncs", Align::Right),
        ("reads", Align::Right),
        ("unsynced lost in crash", Align::Right),
        ("torn", Align::Right),
        ("garbled", Align::Right),
        ("misdirected", Align::Right),
        ("rotten reads", Align::Right),
        ("failed ops", Align::Right),
    ]);
    for n in &r.nodes {
        let k = &n.disk;
        let counts = [
            k.writes,
            k.bytes_written,
            k.fsyncs,
            k.reads,
            k.writes_lost_in_crash,
            k.torn_writes,
            k.corrupted_writes,
            k.misdirected_writes,
            k.rotten_reads,
            k.failed_ops,
        ];
        let mut cells = vec![n.name.clone()];
        cells.extend(counts.iter().map(u64::to_string));
        t.row(cells);
    }
    Section { title: "Disks", blocks: vec![Block::Table(t)] }
}

fn drawn(r: &RunResult) -> Section {
    if r.drawn.is_empty() {
        let note = "None: the scenario has no ranged (swarm) knob.";
        return Section { title: "Drawn swarm values", blocks: vec![Block::Note(note.into())] };
    }
    let mut t = Table::new(&[("knob", Align::Left), ("value drawn by this seed", Align::Right)]);
    for (k, v) in &r.drawn {
        t.row(vec![k.clone(), v.clone()]);
    }
    Section { title: "Drawn swarm values", blocks: vec![Block::Table(t)] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_precision_never_prints_negative_zero() {
        assert_eq!(fixed(-0.0, 3), "0.000");
        assert_eq!(fixed(-0.0001, 3), "0.000");
        assert_eq!(fixed(-1.5, 1), "-1.5");
        assert_eq!(secs(20.0), "20.000");
        assert_eq!(ratio(0.9), "0.900000");
    }
}

//! hello-kv end to end: the crash shows as a dip, the service recovers, and no
//! acknowledged write is lost — unless the server acknowledges before fsync.

use stormglass::simulation::{self, RunOptions, RunResult};
use stormglass::systems as scenario;

fn run(text: &str) -> RunResult {
    let s = scenario::parse(text, "hello-kv.ron").expect("scenario parses");
    simulation::run(&s, RunOptions::default()).expect("scenario runs")
}

fn hello_text() -> String {
    std::fs::read_to_string("scenarios/hello-kv.ron").expect("hello-kv.ron is readable")
}

#[test]
fn crash_shows_as_a_dip_then_recovery_with_no_acknowledged_write_lost() {
    let r = run(&hello_text());
    let ok = |s: usize| r.metrics.windows[s].ok;
    // Before the crash at 20 s: steady, about 400 operations per second.
    assert!((5..20).all(|s| ok(s) > 300), "steady before the crash: {:?}", &r.metrics.windows[5..20]);
    // Down from 20 s to 25 s: nothing invoked in the whole seconds 21..23 succeeds (an
    // operation invoked in second 24 may succeed on a retry after the restart).
    assert!((21..24).all(|s| ok(s) == 0), "dip during the crash: {:?}", &r.metrics.windows[20..26]);
    // Back after the restart.
    assert!((27..60).all(|s| ok(s) > 300), "recovered after the restart");
    assert!(r.ops.timed_out > 0, "operations sent into the crash time out");
    assert_eq!(r.durability.lost_acknowledged_writes, 0);
    assert!(r.durability.acknowledged_writes > 10_000);
    assert_eq!(r.faults.len(), 2);
    assert_eq!(r.faults[0].end.map(|t| t.as_nanos()), Some(25_000_000_000));
    // The crash is one incident; it recovers 5 s after injection (the restart), no loss.
    let inc = &r.metrics.incidents;
    assert_eq!(inc.len(), 1);
    assert_eq!(inc[0].rto, stormglass::metrics::recovery::Rto::Recovered { rto_s: 5.0 });
    assert_eq!((inc[0].rpo_s, inc[0].lost_writes), (0.0, 0));
    assert!(r.passed(), "hello-kv's expectations hold: {:?}", r.expectations);
}

#[test]
fn acknowledging_before_fsync_loses_acknowledged_writes() {
    // The same scenario with the server lying about durability: the durability check must
    // catch the writes acknowledged but not yet synced when the server crashed.
    let text = hello_text().replace("fsync_before_ack: true", "fsync_before_ack: false");
    assert_ne!(text, hello_text(), "the scenario names fsync_before_ack");
    let r = run(&text);
    assert!(r.durability.lost_acknowledged_writes > 0, "lost writes are detected: {:?}", r.durability);
}

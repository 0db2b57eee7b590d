//! Local clocks.
//!
//! Each node's local clock is a piecewise-linear function of true time:
//!
//! ```text
//! local(t) = base_local + (t - base_true) + floor((t - base_true) * drift_ppb / 1e9)
//! ```
//!
//! i.e. true time × (1 + drift) + offset, in integer nanoseconds with exact integer math.
//! A step of the offset or a change of drift re-bases the line at that instant, so the
//! clock stays continuous except where a step is wanted. A timer set for a local duration
//! `d` fires at the first true instant at which the local clock has advanced by `d`
//! ([`Clock::true_after_local`]); a fast clock (positive drift) fires early in true time.
//! Known limit: drift must stay above -1e9 ppb (a clock cannot run backwards); local time
//! is clamped at zero.

use crate::sim::{SimDuration, SimTime};
use serde::Serialize;

const PPB: i128 = 1_000_000_000;

/// A node's local clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Clock {
    base_true: u64,
    base_local: i128,
    drift_ppb: i64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new(0, 0)
    }
}

impl Clock {
    /// A clock reading `offset_ns` at true time zero, running `drift_ppb` parts per
    /// billion fast (negative: slow).
    pub fn new(offset_ns: i64, drift_ppb: i64) -> Clock {
        assert!(drift_ppb > -1_000_000_000, "a clock never runs backwards");
        Clock { base_true: 0, base_local: i128::from(offset_ns), drift_ppb }
    }

    pub fn drift_ppb(&self) -> i64 {
        self.drift_ppb
    }

    fn local_raw(&self, t: SimTime) -> i128 {
        let x = i128::from(t.0) - i128::from(self.base_true);
        if self.drift_ppb == 0 {
            return self.base_local + x; // the common case: no 128-bit division
        }
        self.base_local + x + (x * i128::from(self.drift_ppb)).div_euclid(PPB)
    }

    /// The local reading at true time `t` (clamped at zero).
    pub fn local(&self, t: SimTime) -> SimTime {
        let raw = self.local_raw(t).clamp(0, i128::from(u64::MAX));
        SimTime(raw as u64)
    }

    /// The first true instant at or after `start` at which the local clock reads at least
    /// `local(start) + d`.
    pub fn true_after_local(&self, start: SimTime, d: SimDuration) -> SimTime {
        if self.drift_ppb == 0 {
            return start + d;
        }
        let target = self.local_raw(start) + i128::from(d.0);
        // Solve x + floor(x * drift / 1e9) >= target - base_local for the least x.
        let need = target - self.base_local;
        let mut x = (need * PPB).div_euclid(PPB + i128::from(self.drift_ppb));
        let f = |x: i128| x + (x * i128::from(self.drift_ppb)).div_euclid(PPB);
        while f(x) < need {
            x += 1;
        }
        while f(x - 1) >= need {
            x -= 1;
        }
        let t = (i128::from(self.base_true) + x).max(i128::from(start.0));
        let t = SimTime(u64::try_from(t).expect("timer fires within u64 nanoseconds"));
        debug_assert!(self.local_raw(t) >= target, "the timer fires once the local clock has advanced");
        debug_assert!(
            t == start || self.local_raw(SimTime(t.0 - 1)) < target,
            "the timer fires at the first instant the local clock has advanced"
        );
        t
    }

    /// Re-bases at `now` and moves the local clock by `step_ns` (forward or back).
    pub fn step(&mut self, now: SimTime, step_ns: i64) {
        assert!(now.0 >= self.base_true, "a clock is re-based at or after its last base");
        self.base_local = self.local_raw(now) + i128::from(step_ns);
        self.base_true = now.0;
    }

    /// Re-bases at `now` and runs at `drift_ppb` from then on.
    pub fn set_drift(&mut self, now: SimTime, drift_ppb: i64) {
        assert!(drift_ppb > -1_000_000_000, "a clock never runs backwards");
        assert!(now.0 >= self.base_true, "a clock is re-based at or after its last base");
        self.base_local = self.local_raw(now);
        self.base_true = now.0;
        self.drift_ppb = drift_ppb;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_clock_is_identity() {
        let c = Clock::default();
        assert_eq!(c.local(SimTime(12345)), SimTime(12345));
        assert_eq!(c.true_after_local(SimTime(10), SimDuration(5)), SimTime(15));
    }

    #[test]
    fn drift_and_offset_follow_the_formula_exactly() {
        // 100 ppm fast, 5 ms ahead.
        let c = Clock::new(5_000_000, 100_000);
        let t = SimTime(1_000_000_000);
        assert_eq!(c.local(t), SimTime(1_000_000_000 + 100_000 + 5_000_000));
        // A 1 s local timer on a 100 ppm fast clock fires after 1e9 / 1.0001 ns, rounded up
        // to the first instant the local clock has advanced a full second.
        let fire = c.true_after_local(SimTime::ZERO, SimDuration::from_secs(1));
        assert_eq!(fire, SimTime(999_900_010));
        assert!(c.local(fire).0 - c.local(SimTime::ZERO).0 >= 1_000_000_000);
        assert!(c.local(SimTime(fire.0 - 1)).0 - c.local(SimTime::ZERO).0 < 1_000_000_000);
    }

    #[test]
    fn slow_clock_fires_late() {
        let c = Clock::new(0, -500_000); // 500 ppm slow
        let fire = c.true_after_local(SimTime::ZERO, SimDuration::from_secs(1));
        assert_eq!(fire, SimTime(1_000_500_251));
        assert!(c.local(fire) >= SimTime(1_000_000_000));
        assert!(c.local(SimTime(fire.0 - 1)) < SimTime(1_000_000_000));
    }

    #[test]
    fn step_moves_the_reading_and_keeps_the_rate() {
        let mut c = Clock::new(0, 0);
        c.step(SimTime(1_000), -400);
        assert_eq!(c.local(SimTime(1_000)), SimTime(600));
        assert_eq!(c.local(SimTime(2_000)), SimTime(1_600));
        c.set_drift(SimTime(2_000), 1_000_000_000 / 2); // twice as fast
        assert_eq!(c.local(SimTime(3_000)), SimTime(1_600 + 1_500));
    }

    #[test]
    #[should_panic(expected = "re-based at or after its last base")]
    fn re_basing_in_the_past_is_a_bug() {
        let mut c = Clock::new(0, 0);
        c.step(SimTime(1_000), 5);
        c.set_drift(SimTime(999), 10);
    }
}

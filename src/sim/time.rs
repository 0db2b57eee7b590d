//! Simulated time: integer nanoseconds from the start of a run.
//!
//! `SimTime` is an instant, `SimDuration` a span. Both are `u64` nanoseconds, so there is no
//! floating-point time anywhere in the engine and every comparison is exact. Arithmetic that
//! would overflow or go below zero is a bug and panics (checked arithmetic, on in release).
//! Known limit: a run can last at most `u64::MAX` ns, about 584 years.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An instant of simulated (true) time, in nanoseconds since the run began.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimDuration(pub u64);

pub const NS_PER_US: u64 = 1_000;
pub const NS_PER_MS: u64 = 1_000_000;
pub const NS_PER_S: u64 = 1_000_000_000;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds as a float, for display and reports only; never feed it back into the engine.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }

    /// The span from `earlier` to `self`; panics if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.checked_sub(earlier.0).expect("time never goes back: 'earlier' precedes 'self'"))
    }

    /// The span from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us * NS_PER_US)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * NS_PER_MS)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NS_PER_S)
    }
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Seconds as a float, for display and reports only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    /// Milliseconds as a float, for display and reports only.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / NS_PER_MS as f64
    }
}

impl std::ops::Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.checked_add(d.0).expect("simulated time fits in u64 nanoseconds"))
    }
}

impl std::ops::AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl std::ops::Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.checked_add(d.0).expect("durations fit in u64 nanoseconds"))
    }
}

impl std::ops::AddAssign for SimDuration {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl fmt::Display for SimDuration {
    /// The shortest exact human form: `1.5s`, `150ms`, `20us`, `7ns`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_nanos(self.0, f)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_nanos(self.0, f)
    }
}

fn format_nanos(ns: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let units = [(NS_PER_S, "s"), (NS_PER_MS, "ms"), (NS_PER_US, "us"), (1, "ns")];
    if ns == 0 {
        return f.write_str("0s");
    }
    for (scale, unit) in units {
        if ns >= scale {
            let whole = ns / scale;
            let frac = ns % scale;
            if frac == 0 {
                return write!(f, "{whole}{unit}");
            }
            // Exact decimal fraction, trailing zeros removed.
            let width = scale.ilog10() as usize;
            let digits = format!("{frac:0width$}");
            return write!(f, "{whole}.{}{unit}", digits.trim_end_matches('0'));
        }
    }
    unreachable!("every positive duration is at least one nanosecond")
}

/// Parses a human duration such as `"150ms"`, `"2s"`, `"1.5s"`, `"500us"`, `"10ns"`,
/// `"2m"`, `"1h"` into exact nanoseconds (decimal arithmetic, no floats).
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let s = text.trim();
    if s.starts_with('-') {
        return Err(format!("'{text}' is negative; durations are zero or more"));
    }
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(|| {
        format!("'{text}' has no unit; write e.g. '150ms' or '2s' (units: ns, us, ms, s, m, h)")
    })?;
    let (number, unit) = s.split_at(split);
    let scale = match unit.trim() {
        "ns" => 1u64,
        "us" | "µs" => NS_PER_US,
        "ms" => NS_PER_MS,
        "s" => NS_PER_S,
        "m" | "min" => 60 * NS_PER_S,
        "h" => 3600 * NS_PER_S,
        other => return Err(format!("'{text}' has an unknown unit '{other}'; use ns, us, ms, s, m or h")),
    };
    if number.is_empty() {
        return Err(format!("'{text}' has no number; write e.g. '150ms'"));
    }
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
        return Err(format!("'{text}' is not a number with a unit; write e.g. '1.5s'"));
    }
    let whole: u64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| format!("'{text}' is too large or not a number"))?
    };
    let mut ns =
        whole.checked_mul(scale).ok_or_else(|| format!("'{text}' is too long; at most about 584 years"))?;
    let mut place = scale;
    for c in frac_part.chars() {
        place /= 10;
        let digit = c.to_digit(10).expect("fraction holds only digits") as u64;
        if place == 0 {
            if digit != 0 {
                return Err(format!("'{text}' is finer than a nanosecond"));
            }
            continue;
        }
        ns += digit * place;
    }
    Ok(SimDuration(ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_human_durations_exactly() {
        assert_eq!(parse_duration("150ms"), Ok(SimDuration::from_millis(150)));
        assert_eq!(parse_duration("2s"), Ok(SimDuration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(SimDuration::from_millis(1500)));
        assert_eq!(parse_duration("0.1s"), Ok(SimDuration::from_millis(100)));
        assert_eq!(parse_duration("500us"), Ok(SimDuration::from_micros(500)));
        assert_eq!(parse_duration("10ns"), Ok(SimDuration(10)));
        assert_eq!(parse_duration("2m"), Ok(SimDuration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(SimDuration::from_secs(3600)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("1.5ns").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-5s").is_err());
    }

    #[test]
    fn displays_round_trip() {
        for s in ["1.5s", "150ms", "20us", "7ns", "2s", "1.000001s"] {
            let d = parse_duration(s).unwrap();
            assert_eq!(d.to_string(), s);
        }
    }
}

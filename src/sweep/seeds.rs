//! Seed lists and shards: what `--seeds` and `--shard` mean, and the compact text form of a
//! set of seeds used in summaries (`1..40,42,45..50`).
//!
//! `--seeds N` is the first N seeds, `1..N`; otherwise a comma-separated list of seeds and
//! inclusive ranges `A..B` (`A..=B` is read the same), e.g. `1..1000` or `3,17,100..120`.
//! Seeds are kept sorted and unique, so the same set always prints the same way.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;

/// The most seeds one sweep may ask for (a limit on everything).
pub const MAX_SEEDS: u64 = 100_000_000;

/// A sorted set of seeds, written in the compact range form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedSet(pub BTreeSet<u64>);

impl SeedSet {
    /// Parses `--seeds`: a bare `N` is `1..N`; otherwise a list of seeds and ranges.
    pub fn parse_arg(text: &str) -> Result<SeedSet, String> {
        let t = text.trim();
        if let Ok(n) = t.parse::<u64>() {
            if n == 0 {
                return Err("--seeds 0 asks for no seed; write e.g. --seeds 100 or --seeds 1..100".into());
            }
            return SeedSet::parse(&format!("1..{n}"));
        }
        SeedSet::parse(t)
    }

    /// Parses the list form: `1..40,42,45..50` (an empty text is the empty set).
    pub fn parse(text: &str) -> Result<SeedSet, String> {
        let mut set = BTreeSet::new();
        let mut count: u64 = 0;
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (lo, hi) = match item.split_once("..") {
                Some((a, b)) => (number(a, text)?, number(b.strip_prefix('=').unwrap_or(b), text)?),
                None => {
                    let n = number(item, text)?;
                    (n, n)
                }
            };
            if lo > hi {
                return Err(format!("seed range '{item}' runs backwards; write it as {hi}..{lo}"));
            }
            count = count.saturating_add(hi - lo + 1);
            if count > MAX_SEEDS {
                return Err(format!(
                    "'{text}' asks for more than {MAX_SEEDS} seeds; split the sweep with --shard"
                ));
            }
            set.extend(lo..=hi);
        }
        Ok(SeedSet(set))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().copied()
    }
}

fn number(s: &str, whole: &str) -> Result<u64, String> {
    s.trim().parse::<u64>().map_err(|_| {
        format!(
            "cannot read seeds '{whole}': '{}' is not a seed number; write e.g. 1..100 or 3,17,42",
            s.trim()
        )
    })
}

impl FromIterator<u64> for SeedSet {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Self {
        SeedSet(iter.into_iter().collect())
    }
}

/// Consecutive seeds fold into `A..B`; single seeds stand alone; items join with commas.
impl fmt::Display for SeedSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut it = self.0.iter().copied().peekable();
        while let Some(lo) = it.next() {
            let mut hi = lo;
            while it.peek() == Some(&(hi + 1)) {
                hi = it.next().expect("peeked");
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if hi == lo {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}..{hi}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for SeedSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for SeedSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        SeedSet::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `--shard K/N`: this process runs shard K of N (1 <= K <= N). The sweep's runs, listed in
/// order (scenario by scenario, seeds ascending), are dealt round-robin: run number j
/// (counting from 0) goes to shard (j mod N) + 1. Every run lands in exactly one shard, and
/// the shards are balanced to within one run whatever the scenarios cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, String> {
        let hint =
            "write K/N with 1 <= K <= N, e.g. --shard 1/4 (Kubernetes: $((JOB_COMPLETION_INDEX + 1))/N)";
        let (k, n) = text.split_once('/').ok_or_else(|| format!("cannot read shard '{text}'; {hint}"))?;
        let (k, n) = match (k.trim().parse::<u64>(), n.trim().parse::<u64>()) {
            (Ok(k), Ok(n)) => (k, n),
            _ => return Err(format!("cannot read shard '{text}'; {hint}")),
        };
        if n == 0 || k == 0 || k > n {
            return Err(format!("shard '{text}' is out of range; {hint}"));
        }
        Ok(Shard { index: k, count: n })
    }

    /// Whether run number `j` (from 0, over the whole sweep) belongs to this shard.
    pub fn owns(&self, j: usize) -> bool {
        j as u64 % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_lists_parse_and_print_in_their_compact_form() {
        assert_eq!(SeedSet::parse_arg("5").unwrap().to_string(), "1..5");
        assert_eq!(SeedSet::parse_arg("1..1000").unwrap().len(), 1000);
        assert_eq!(SeedSet::parse_arg("1..=3").unwrap().to_string(), "1..3");
        let s = SeedSet::parse_arg("9, 3,4,5 ,42..43,7").unwrap();
        assert_eq!(s.to_string(), "3..5,7,9,42..43");
        assert_eq!(SeedSet::parse(&s.to_string()).unwrap(), s);
        assert_eq!(SeedSet::parse("").unwrap().to_string(), "");
        assert!(SeedSet::parse_arg("0").is_err());
        assert!(SeedSet::parse_arg("5..1").unwrap_err().contains("backwards"));
        assert!(SeedSet::parse_arg("a..b").unwrap_err().contains("not a seed number"));
        assert!(SeedSet::parse_arg("1..1000000000").unwrap_err().contains("--shard"));
    }

    #[test]
    fn shards_deal_runs_round_robin_and_cover_each_run_once() {
        assert!(Shard::parse("0/2").is_err());
        assert!(Shard::parse("3/2").is_err());
        assert!(Shard::parse("1-2").is_err());
        let shards: Vec<Shard> = (1..=3).map(|k| Shard::parse(&format!("{k}/3")).unwrap()).collect();
        for j in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.owns(j)).count(), 1, "run {j} lands in exactly one shard");
        }
        assert!(shards[0].owns(0) && shards[1].owns(1) && shards[2].owns(2) && shards[0].owns(3));
        assert_eq!(shards[1].to_string(), "2/3");
    }
}

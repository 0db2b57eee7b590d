//! Disks with fsync semantics, latencies, silent corruption and I/O faults.
//!
//! A disk holds named files. Every file has a *view* (what the node reads: the page cache)
//! and *durable* content (what survives a crash). Writes — append, truncate, overwrite —
//! change the view at once and join the file's list of pending operations; `fsync` applies
//! them to the durable content. A crash throws the pending operations away, so exactly the
//! unsynced writes are lost; with probability `torn_write` the file written last keeps a
//! random prefix of its unsynced writes, the last of them *torn* (a prefix of its bytes).
//!
//! Silent corruption (drawn from the disk's own stream, `disk/<node>`):
//! - `write_corruption`: a write is garbled — one random bit of it flips as it is stored;
//! - `misdirected_write`: an append lands at a random earlier offset of the same file,
//!   overwriting old data, while its own place is filled with zeros;
//! - `read_corruption`: a read finds one bit rotten in the range it reads; the rot is on
//!   the medium, so it persists (in the view and in the durable content).
//!
//! The disk never detects corruption: checksums ([`crc32c`]) are the protocol's choice,
//! so the end-to-end argument can be shown with and without them.
//!
//! I/O faults: while an `IoError` fault holds, every operation fails; while `Full` holds,
//! writes fail and reads succeed. The model sees [`DiskError`]s.
//!
//! Latency: [`DiskIo`] (what `Context::disk` returns) draws a latency per operation from
//! the disk's configuration and adds it to the callback's work, so a slow fsync delays the
//! reply that follows it. The [`Disk`] methods themselves take no time (recovery, tests).
//! Known limit: a crash rebuilds each file's view from its durable content, O(file size).

use crate::sim::{Dist, RngStream, SimDuration};
use serde::Serialize;

/// CRC-32C (Castagnoli) of `bytes`, for models that checksum what they store or send.
pub fn crc32c(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}

/// Why a disk operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum DiskError {
    #[error("i/o error")]
    Io,
    #[error("disk full")]
    Full,
}

/// An injected disk fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum DiskFault {
    /// Every operation fails.
    IoError,
    /// Writes and fsyncs fail; reads succeed.
    Full,
}

/// How a disk behaves: latencies and corruption probabilities.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiskConfig {
    pub write: Dist,
    pub fsync: Dist,
    pub read: Dist,
    pub torn_write: f64,
    pub write_corruption: f64,
    pub misdirected_write: f64,
    pub read_corruption: f64,
}

impl Default for DiskConfig {
    fn default() -> Self {
        DiskConfig {
            write: Dist::Constant(0),
            fsync: Dist::Constant(0),
            read: Dist::Constant(0),
            torn_write: 0.0,
            write_corruption: 0.0,
            misdirected_write: 0.0,
            read_corruption: 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PendingOp {
    /// The next this many bytes of the file's journal.
    Append(usize),
    Truncate(usize),
    Overwrite(Vec<u8>),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct File {
    view: Vec<u8>,
    durable: Vec<u8>,
    pending: Vec<PendingOp>,
    /// The bytes of the pending appends, in order (one buffer, reused: no allocation per
    /// write).
    journal: Vec<u8>,
    /// Bits rotted in bytes that pending writes will still overwrite at fsync: re-applied
    /// after them, so the rot reaches the durable content too.
    pending_rot: Vec<(usize, u8)>,
}

impl File {
    /// The first byte the pending operations change (the view's length if none does), and
    /// the view's length they lead to, from the durable content's. O(pending).
    fn pending_reach(&self) -> (usize, usize) {
        let (mut first, mut len) = (self.durable.len(), self.durable.len());
        for op in &self.pending {
            match op {
                PendingOp::Append(n) => len += n,
                PendingOp::Truncate(n) => len = len.min(*n),
                PendingOp::Overwrite(bytes) => (first, len) = (0, bytes.len()),
            }
            first = first.min(len);
        }
        (first, len)
    }

    /// Checks the file: the journal holds exactly the pending appends' bytes, the pending
    /// operations lead from the durable content to the view's length, nothing is pending
    /// without a pending write, and — unless a rot waits for the next fsync — replaying the
    /// pending operations on the durable content gives the view from the first byte they
    /// touch on. (Not before it: a rot recorded behind pending writes is re-applied at the
    /// fsync even where a later write replaced the byte, so the durable content can keep a
    /// flipped bit the view does not have.) O(file size): tests and debug builds, before a
    /// crash.
    fn check_invariants(&self) {
        let appended: usize =
            self.pending.iter().map(|op| if let PendingOp::Append(n) = op { *n } else { 0 }).sum();
        assert_eq!(appended, self.journal.len(), "the journal holds exactly the pending appends");
        assert_eq!(
            self.pending_reach().1,
            self.view.len(),
            "the pending writes lead from the durable content to the view"
        );
        if self.pending.is_empty() {
            assert!(self.pending_rot.is_empty(), "a rot waits for an fsync only behind a pending write");
        }
        if self.pending_rot.is_empty() {
            let first = self.pending_reach().0;
            let mut replayed = self.durable.clone();
            let mut at = 0;
            for op in &self.pending {
                apply(&mut replayed, op, &self.journal, &mut at);
            }
            assert!(
                replayed[first..] == self.view[first..],
                "the durable content and the pending writes make the view"
            );
        }
    }
}

/// Applies `op` to `content`; an append takes its bytes from `journal` at `*at`, and moves
/// `*at` past them.
fn apply(content: &mut Vec<u8>, op: &PendingOp, journal: &[u8], at: &mut usize) {
    match op {
        PendingOp::Append(len) => {
            content.extend_from_slice(&journal[*at..*at + len]);
            *at += len;
        }
        PendingOp::Truncate(len) => content.truncate(*len),
        PendingOp::Overwrite(bytes) => {
            content.clear();
            content.extend_from_slice(bytes);
        }
    }
}

/// A disk's files by name: a short list (a model keeps a few files), searched in order.
#[derive(Clone, Debug, Default)]
struct Files {
    list: Vec<(String, File)>,
}

impl Files {
    fn get(&self, name: &str) -> Option<&File> {
        self.list.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut File> {
        self.list.iter_mut().find(|(n, _)| n == name).map(|(_, f)| f)
    }

    /// The file `name`, created empty if there is none (one search either way; the name
    /// is allocated only at creation).
    fn get_or_create(&mut self, name: &str) -> &mut File {
        let at = match self.list.iter().position(|(n, _)| n == name) {
            Some(at) => at,
            None => {
                self.list.push((name.to_string(), File::default()));
                self.list.len() - 1
            }
        };
        &mut self.list[at].1
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut File> {
        self.list.iter_mut().map(|(_, f)| f)
    }

    fn values(&self) -> impl Iterator<Item = &File> {
        self.list.iter().map(|(_, f)| f)
    }
}

/// Counters a disk keeps for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiskStats {
    pub writes: u64,
    pub bytes_written: u64,
    pub fsyncs: u64,
    pub reads: u64,
    /// Writes lost because they were not yet synced when the node crashed.
    pub writes_lost_in_crash: u64,
    pub torn_writes: u64,
    pub corrupted_writes: u64,
    pub misdirected_writes: u64,
    pub rotten_reads: u64,
    pub failed_ops: u64,
}

/// A node's disk.
#[derive(Clone, Debug)]
pub struct Disk {
    files: Files,
    /// The file written last (where a torn write happens).
    last_written: Option<String>,
    config: DiskConfig,
    rng: RngStream,
    fault: Option<DiskFault>,
    stats: DiskStats,
}

impl Default for Disk {
    fn default() -> Self {
        Disk::new()
    }
}

impl Disk {
    /// A perfect disk: instant, never corrupts, never fails.
    pub fn new() -> Disk {
        Disk::with_config(DiskConfig::default(), RngStream::new(0, "disk"))
    }

    pub fn with_config(config: DiskConfig, rng: RngStream) -> Disk {
        Disk {
            files: Files::default(),
            last_written: None,
            config,
            rng,
            fault: None,
            stats: DiskStats::default(),
        }
    }

    pub fn config(&self) -> &DiskConfig {
        &self.config
    }

    /// Starts (`Some`) or ends (`None`) an injected fault.
    pub fn set_fault(&mut self, fault: Option<DiskFault>) {
        self.fault = fault;
    }

    pub fn fault(&self) -> Option<DiskFault> {
        self.fault
    }

    fn check(&mut self, write: bool) -> Result<(), DiskError> {
        let err = match (self.fault, write) {
            (Some(DiskFault::IoError), _) => Some(DiskError::Io),
            (Some(DiskFault::Full), true) => Some(DiskError::Full),
            _ => None,
        };
        match err {
            Some(e) => {
                self.stats.failed_ops += 1;
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// A truncation or an overwrite.
    fn write(&mut self, name: &str, mut op: PendingOp) -> Result<(), DiskError> {
        self.check(true)?;
        let len = match &mut op {
            PendingOp::Overwrite(b) => {
                if !b.is_empty() && self.rng.chance(self.config.write_corruption) {
                    flip_bit(b, &mut self.rng);
                    self.stats.corrupted_writes += 1;
                }
                b.len() as u64
            }
            PendingOp::Append(_) | PendingOp::Truncate(_) => 0,
        };
        self.stats.writes += 1;
        self.stats.bytes_written += len;
        self.note_written(name);
        let file = self.files.get_or_create(name);
        let mut at = 0;
        apply(&mut file.view, &op, &[], &mut at);
        file.pending.push(op);
        Ok(())
    }

    fn note_written(&mut self, name: &str) {
        if self.last_written.as_deref() != Some(name) {
            self.last_written = Some(name.to_string());
        }
    }

    /// Appends what `fill` pushes onto the buffer it is given (volatile until fsync): the
    /// bytes are written straight into the file's journal, with no buffer of their own.
    pub fn append_with(&mut self, name: &str, fill: impl FnOnce(&mut Vec<u8>)) -> Result<(), DiskError> {
        self.check(true)?;
        let Disk { files, rng, config, stats, .. } = self;
        let file = files.get_or_create(name);
        let (old_len, start) = (file.view.len(), file.journal.len());
        fill(&mut file.journal);
        let len = file.journal.len() - start;
        if len > 0 && rng.chance(config.write_corruption) {
            flip_bit(&mut file.journal[start..], rng);
            stats.corrupted_writes += 1;
        }
        // (`chance(0)` draws nothing.)
        if config.misdirected_write > 0.0 && old_len > 0 && len > 0 && rng.chance(config.misdirected_write) {
            let bytes = file.journal.split_off(start);
            return self.misdirect(name, bytes, old_len);
        }
        stats.writes += 1;
        stats.bytes_written += len as u64;
        file.view.extend_from_slice(&file.journal[start..]);
        file.pending.push(PendingOp::Append(len));
        self.note_written(name);
        Ok(())
    }

    /// An append that lands at a random earlier offset: old data there is overwritten and
    /// the append's own place holds zeros.
    fn misdirect(&mut self, name: &str, bytes: Vec<u8>, old_len: usize) -> Result<(), DiskError> {
        self.stats.writes += 1;
        self.stats.misdirected_writes += 1;
        self.stats.bytes_written += bytes.len() as u64;
        let at = self.rng.below(old_len as u64) as usize;
        let file = self.files.get_or_create(name);
        let mut content = file.view.clone();
        content.resize(old_len + bytes.len(), 0);
        let end = (at + bytes.len()).min(old_len);
        content[at..end].copy_from_slice(&bytes[..end - at]);
        file.view = content.clone();
        file.pending.push(PendingOp::Overwrite(content));
        self.last_written = Some(name.to_string());
        Ok(())
    }

    /// Appends `bytes` to `name` (volatile until fsync).
    pub fn append(&mut self, name: &str, bytes: &[u8]) -> Result<(), DiskError> {
        self.append_with(name, |buf| buf.extend_from_slice(bytes))
    }

    /// Cuts `name` to `len` bytes (volatile until fsync).
    pub fn truncate(&mut self, name: &str, len: usize) -> Result<(), DiskError> {
        self.write(name, PendingOp::Truncate(len))
    }

    /// Replaces the whole content of `name` (volatile until fsync).
    pub fn overwrite(&mut self, name: &str, bytes: &[u8]) -> Result<(), DiskError> {
        self.write(name, PendingOp::Overwrite(bytes.to_vec()))
    }

    /// Makes every pending write to `name` durable.
    pub fn fsync(&mut self, name: &str) -> Result<(), DiskError> {
        self.check(true)?;
        self.stats.fsyncs += 1;
        let file = self.files.get_or_create(name);
        // Only the bytes from `first` on can change (debug builds compare just those).
        let (first, len) = if cfg!(debug_assertions) { file.pending_reach() } else { (0, 0) };
        debug_assert_eq!(
            len,
            file.view.len(),
            "the pending writes lead from the durable content to the view"
        );
        let clean = file.pending_rot.is_empty();
        let mut at = 0;
        for op in file.pending.drain(..) {
            apply(&mut file.durable, &op, &file.journal, &mut at); // (drained: buffers kept)
        }
        assert_eq!(at, file.journal.len(), "an fsync applies every journalled byte");
        file.journal.clear();
        for (byte, mask) in std::mem::take(&mut file.pending_rot) {
            if let Some(b) = file.durable.get_mut(byte) {
                *b ^= mask;
            }
        }
        assert_eq!(file.durable.len(), file.view.len(), "after fsync the durable content is the view");
        debug_assert!(
            !clean || file.durable[first..] == file.view[first..],
            "after fsync the durable content is the view"
        );
        Ok(())
    }

    /// The whole content of `name` as the node sees it.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, DiskError> {
        let len = self.files.get(name).map_or(0, |f| f.view.len());
        self.read_at(name, 0, len)
    }

    /// `len` bytes of `name` from `offset` (fewer at the end of the file). A read may find
    /// one bit rotten (`read_corruption`); the rot persists.
    pub fn read_at(&mut self, name: &str, offset: usize, len: usize) -> Result<Vec<u8>, DiskError> {
        self.check(false)?;
        self.stats.reads += 1;
        let Some(file) = self.files.get_mut(name) else {
            return Ok(Vec::new());
        };
        let start = offset.min(file.view.len());
        let end = offset.saturating_add(len).min(file.view.len());
        if end > start && self.rng.chance(self.config.read_corruption) {
            let bit = self.rng.below(((end - start) * 8) as u64) as usize;
            let (byte, mask) = (start + bit / 8, 1u8 << (bit % 8));
            file.view[byte] ^= mask;
            if file.pending.is_empty() && byte < file.durable.len() {
                file.durable[byte] ^= mask;
            } else {
                file.pending_rot.push((byte, mask));
            }
            self.stats.rotten_reads += 1;
        }
        Ok(file.view[start..end].to_vec())
    }

    /// The content a restarting process recovers from: the view, with no fault or latency.
    pub fn contents(&self, name: &str) -> &[u8] {
        self.files.get(name).map_or(&[], |f| f.view.as_slice())
    }

    /// The content of `name` that would survive a crash now.
    pub fn read_durable(&self, name: &str) -> &[u8] {
        self.files.get(name).map_or(&[], |f| f.durable.as_slice())
    }

    /// Whether `name` has writes not yet synced.
    pub fn is_dirty(&self, name: &str) -> bool {
        self.files.get(name).is_some_and(|f| !f.pending.is_empty())
    }

    /// A crash: every unsynced write is lost — except that, with probability `torn_write`,
    /// the file written last keeps a random prefix of its unsynced writes, in order, the
    /// last of them torn (a random prefix of its bytes, if it is an append).
    pub fn crash(&mut self) {
        #[cfg(debug_assertions)]
        self.check_invariants();
        if let Some(name) = self.last_written.take() {
            let file = self.files.get_mut(&name).expect("the last written file exists");
            if !file.pending.is_empty() && self.rng.chance(self.config.torn_write) {
                let n = file.pending.len();
                let whole = self.rng.below(n as u64) as usize;
                let mut at = 0;
                for op in file.pending.drain(..whole) {
                    apply(&mut file.durable, &op, &file.journal, &mut at);
                }
                if let Some(&PendingOp::Append(len)) = file.pending.first() {
                    let keep = self.rng.below(len.max(1) as u64) as usize;
                    file.durable.extend_from_slice(&file.journal[at..at + keep.min(len)]);
                }
                self.stats.torn_writes += 1;
            }
        }
        for file in self.files.values_mut() {
            self.stats.writes_lost_in_crash += file.pending.len() as u64;
            file.pending.clear();
            file.journal.clear();
            file.pending_rot.clear();
            file.view = file.durable.clone();
        }
    }

    /// Checks every file (see `File::check_invariants`). O(disk size): tests and debug
    /// builds, before a crash.
    pub fn check_invariants(&self) {
        for file in self.files.values() {
            file.check_invariants();
        }
    }

    pub fn stats(&self) -> DiskStats {
        self.stats
    }
}

fn flip_bit(bytes: &mut [u8], rng: &mut RngStream) {
    let bit = rng.below((bytes.len() * 8) as u64) as usize;
    bytes[bit / 8] ^= 1 << (bit % 8);
}

/// The disk as a process sees it during a callback: every operation draws its latency from
/// the disk's configuration and adds it to the callback's work.
pub struct DiskIo<'a> {
    pub(crate) disk: &'a mut Disk,
    pub(crate) elapsed: &'a mut SimDuration,
}

impl DiskIo<'_> {
    fn charge(&mut self, which: fn(&DiskConfig) -> &Dist) {
        let d = which(&self.disk.config).clone().sample(&mut self.disk.rng);
        *self.elapsed += d;
    }

    pub fn append(&mut self, name: &str, bytes: &[u8]) -> Result<(), DiskError> {
        self.append_with(name, |buf| buf.extend_from_slice(bytes))
    }

    /// [`Disk::append_with`], at the cost of one write.
    pub fn append_with(&mut self, name: &str, fill: impl FnOnce(&mut Vec<u8>)) -> Result<(), DiskError> {
        self.charge(|c| &c.write);
        self.disk.append_with(name, fill)
    }

    pub fn truncate(&mut self, name: &str, len: usize) -> Result<(), DiskError> {
        self.charge(|c| &c.write);
        self.disk.truncate(name, len)
    }

    pub fn overwrite(&mut self, name: &str, bytes: &[u8]) -> Result<(), DiskError> {
        self.charge(|c| &c.write);
        self.disk.overwrite(name, bytes)
    }

    pub fn fsync(&mut self, name: &str) -> Result<(), DiskError> {
        self.charge(|c| &c.fsync);
        self.disk.fsync(name)
    }

    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, DiskError> {
        self.charge(|c| &c.read);
        self.disk.read(name)
    }

    pub fn read_at(&mut self, name: &str, offset: usize, len: usize) -> Result<Vec<u8>, DiskError> {
        self.charge(|c| &c.read);
        self.disk.read_at(name, offset, len)
    }

    /// The length of `name` as the node sees it (metadata: no latency).
    pub fn len(&self, name: &str) -> usize {
        self.disk.contents(name).len()
    }

    pub fn is_empty(&self, name: &str) -> bool {
        self.len(name) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsynced_writes_are_lost_in_a_crash() {
        let mut d = Disk::new();
        d.append("log", b"abc").unwrap();
        d.fsync("log").unwrap();
        d.append("log", b"def").unwrap();
        assert_eq!(d.read("log").unwrap(), b"abcdef");
        assert_eq!(d.read_durable("log"), b"abc");
        assert!(d.is_dirty("log"));
        d.crash();
        assert_eq!(d.read("log").unwrap(), b"abc");
        assert_eq!(d.stats().writes_lost_in_crash, 1);
    }

    #[test]
    fn truncate_and_overwrite_apply_in_order() {
        let mut d = Disk::new();
        d.append("f", b"hello world").unwrap();
        d.truncate("f", 5).unwrap();
        d.append("f", b"!").unwrap();
        assert_eq!(d.read("f").unwrap(), b"hello!");
        d.fsync("f").unwrap();
        d.overwrite("f", b"x").unwrap();
        assert_eq!(d.read("f").unwrap(), b"x");
        assert_eq!(d.read_durable("f"), b"hello!");
        d.fsync("f").unwrap();
        assert_eq!(d.read_durable("f"), b"x");
        assert_eq!(d.read("missing").unwrap(), b"");
        assert_eq!(d.read_at("f", 0, 10).unwrap(), b"x");
    }

    fn disk(config: DiskConfig) -> Disk {
        Disk::with_config(config, RngStream::new(9, "disk/test"))
    }

    #[test]
    fn a_torn_write_keeps_a_strict_prefix_of_the_last_append() {
        let mut torn = 0;
        for seed in 0..200 {
            let mut d = Disk::with_config(
                DiskConfig { torn_write: 1.0, ..DiskConfig::default() },
                RngStream::new(seed, "disk/t"),
            );
            d.append("log", b"synced").unwrap();
            d.fsync("log").unwrap();
            d.append("log", b"0123456789").unwrap();
            d.crash();
            let content = d.read("log").unwrap();
            assert!(content.starts_with(b"synced"));
            assert!(b"synced0123456789".starts_with(&content));
            assert!(content.len() < 16, "a torn write never completes");
            torn += usize::from(content.len() > 6);
        }
        assert!(torn > 150, "most tears keep some bytes: {torn}");
        // Without tearing, the unsynced append is gone entirely.
        let mut d = disk(DiskConfig::default());
        d.append("log", b"0123456789").unwrap();
        d.crash();
        assert_eq!(d.read("log").unwrap(), b"");
    }

    #[test]
    fn corruption_flips_exactly_one_bit_and_persists() {
        let mut d = disk(DiskConfig { write_corruption: 1.0, ..DiskConfig::default() });
        d.append("f", &[0u8; 64]).unwrap();
        let ones: u32 = d.read("f").unwrap().iter().map(|b| b.count_ones()).sum();
        assert_eq!(ones, 1);
        let mut d = disk(DiskConfig { read_corruption: 1.0, ..DiskConfig::default() });
        d.append("f", &[0u8; 64]).unwrap();
        d.fsync("f").unwrap();
        let first = d.read("f").unwrap();
        assert_eq!(first.iter().map(|b| b.count_ones()).sum::<u32>(), 1);
        assert_eq!(d.read_durable("f"), first.as_slice(), "rot is on the medium");
        // With no corruption configured, nothing changes.
        let mut clean = disk(DiskConfig::default());
        clean.append("f", &[0u8; 64]).unwrap();
        assert!(clean.read("f").unwrap().iter().all(|&b| b == 0));
        assert_ne!(crc32c(&first), crc32c(&[0u8; 64]), "a checksum sees the flip");
    }

    #[test]
    fn a_misdirected_write_overwrites_old_data_and_leaves_zeros() {
        let mut d = disk(DiskConfig { misdirected_write: 1.0, ..DiskConfig::default() });
        d.append("f", b"aaaaaaaa").unwrap(); // the first append has nowhere earlier to land
        d.append("f", b"bb").unwrap();
        let content = d.read("f").unwrap();
        assert_eq!(content.len(), 10);
        assert_eq!(&content[8..], &[0, 0]);
        assert_eq!(
            content.iter().filter(|&&b| b == b'b').count(),
            2.min(8 - content.iter().position(|&b| b == b'b').unwrap())
        );
    }

    #[test]
    fn rot_in_unsynced_bytes_survives_the_fsync() {
        let mut d = disk(DiskConfig { read_corruption: 1.0, ..DiskConfig::default() });
        d.append("f", &[0u8; 16]).unwrap();
        let seen = d.read("f").unwrap(); // rots one bit of the unsynced append
        d.fsync("f").unwrap();
        assert_eq!(d.read_durable("f"), seen.as_slice());
    }

    #[test]
    fn a_crash_may_keep_a_prefix_of_many_unsynced_writes() {
        let mut kept = std::collections::BTreeSet::new();
        for seed in 0..100 {
            let mut d = Disk::with_config(
                DiskConfig { torn_write: 1.0, ..DiskConfig::default() },
                RngStream::new(seed, "disk/t"),
            );
            for chunk in [b"aaaa", b"bbbb", b"cccc"] {
                d.append("log", chunk).unwrap();
            }
            d.crash();
            let content = d.read("log").unwrap();
            assert!(b"aaaabbbbcccc".starts_with(&content), "a prefix, in order: {content:?}");
            assert!(content.len() < 12, "the last kept write is torn");
            kept.insert(content.len());
        }
        assert!(kept.len() > 6, "many prefix lengths occur: {kept:?}");
    }

    #[test]
    fn io_faults_fail_operations_until_lifted() {
        let mut d = Disk::new();
        d.set_fault(Some(DiskFault::Full));
        assert_eq!(d.append("f", b"x"), Err(DiskError::Full));
        assert_eq!(d.read("f"), Ok(Vec::new()));
        d.set_fault(Some(DiskFault::IoError));
        assert_eq!(d.read("f"), Err(DiskError::Io));
        assert_eq!(d.fsync("f"), Err(DiskError::Io));
        d.set_fault(None);
        assert_eq!(d.append("f", b"x"), Ok(()));
        assert_eq!(d.stats().failed_ops, 3);
    }

    #[test]
    fn the_pending_writes_always_make_the_view() {
        let mut d = disk(DiskConfig { torn_write: 0.5, ..DiskConfig::default() });
        for round in 0..20u8 {
            d.append("log", &[round; 7]).unwrap();
            d.check_invariants();
            if round % 3 == 0 {
                d.truncate("log", 5 * usize::from(round)).unwrap();
            }
            if round % 5 == 0 {
                d.overwrite("meta", &[round; 13]).unwrap();
            }
            d.check_invariants();
            if round % 4 == 0 {
                d.fsync("log").unwrap();
            }
            if round % 7 == 6 {
                d.crash();
            }
            d.check_invariants();
        }
    }

    #[test]
    #[should_panic(expected = "the journal holds exactly the pending appends")]
    fn a_journal_out_of_step_with_the_pending_list_is_caught() {
        let mut d = Disk::new();
        d.append("log", b"abc").unwrap();
        d.files.get_mut("log").unwrap().journal.push(b'!');
        d.check_invariants();
    }

    #[test]
    #[should_panic(expected = "the durable content and the pending writes make the view")]
    fn a_view_that_the_pending_writes_do_not_make_is_caught() {
        let mut d = Disk::new();
        d.append("log", b"abc").unwrap();
        d.fsync("log").unwrap();
        d.append("log", b"def").unwrap();
        d.files.get_mut("log").unwrap().view[4] = b'x';
        d.check_invariants();
    }

    #[test]
    fn disk_io_charges_latency() {
        let mut d = disk(DiskConfig {
            write: Dist::Constant(10),
            fsync: Dist::Constant(1_000),
            read: Dist::Constant(5),
            ..DiskConfig::default()
        });
        let mut elapsed = SimDuration::ZERO;
        let mut io = DiskIo { disk: &mut d, elapsed: &mut elapsed };
        io.append("f", b"x").unwrap();
        io.fsync("f").unwrap();
        io.read("f").unwrap();
        assert_eq!(elapsed, SimDuration(1_015));
    }
}

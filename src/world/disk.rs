//! Disks with fsync semantics.
//!
//! A disk holds named files. Writes (append, truncate, overwrite) land in a volatile list
//! of pending operations; `fsync` applies a file's pending operations to its durable
//! content. A crash discards every pending operation, so exactly the unsynced writes are
//! lost. Reads see the durable content with the pending operations applied (the page
//! cache). Checksums are the protocol's business, not the disk's.
//! Known limit: reads rebuild the volatile view, O(file size): models read at recovery,
//! not on the hot path.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
enum PendingOp {
    Append(Vec<u8>),
    Truncate(usize),
    Overwrite(Vec<u8>),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct File {
    durable: Vec<u8>,
    pending: Vec<PendingOp>,
}

impl File {
    fn apply(content: &mut Vec<u8>, op: &PendingOp) {
        match op {
            PendingOp::Append(bytes) => content.extend_from_slice(bytes),
            PendingOp::Truncate(len) => content.truncate(*len),
            PendingOp::Overwrite(bytes) => {
                content.clear();
                content.extend_from_slice(bytes);
            }
        }
    }
}

/// Counters a disk keeps for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiskStats {
    pub writes: u64,
    pub bytes_written: u64,
    pub fsyncs: u64,
    /// Writes lost because they were not yet synced when the node crashed.
    pub writes_lost_in_crash: u64,
}

/// A node's disk.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    files: BTreeMap<String, File>,
    stats: DiskStats,
}

impl Disk {
    pub fn new() -> Disk {
        Disk::default()
    }

    fn file(&mut self, name: &str) -> &mut File {
        if !self.files.contains_key(name) {
            self.files.insert(name.to_string(), File::default());
        }
        self.files.get_mut(name).expect("file was just created")
    }

    fn write(&mut self, name: &str, op: PendingOp) {
        let bytes = match &op {
            PendingOp::Append(b) | PendingOp::Overwrite(b) => b.len() as u64,
            PendingOp::Truncate(_) => 0,
        };
        self.stats.writes += 1;
        self.stats.bytes_written += bytes;
        self.file(name).pending.push(op);
    }

    /// Appends `bytes` to `name` (volatile until fsync).
    pub fn append(&mut self, name: &str, bytes: &[u8]) {
        self.write(name, PendingOp::Append(bytes.to_vec()));
    }

    /// Cuts `name` to `len` bytes (volatile until fsync).
    pub fn truncate(&mut self, name: &str, len: usize) {
        self.write(name, PendingOp::Truncate(len));
    }

    /// Replaces the whole content of `name` (volatile until fsync).
    pub fn overwrite(&mut self, name: &str, bytes: &[u8]) {
        self.write(name, PendingOp::Overwrite(bytes.to_vec()));
    }

    /// Makes every pending write to `name` durable.
    pub fn fsync(&mut self, name: &str) {
        self.stats.fsyncs += 1;
        let file = self.file(name);
        let pending = std::mem::take(&mut file.pending);
        for op in &pending {
            File::apply(&mut file.durable, op);
        }
    }

    /// The content of `name` as the node sees it (durable plus pending writes).
    pub fn read(&self, name: &str) -> Vec<u8> {
        let Some(file) = self.files.get(name) else {
            return Vec::new();
        };
        let mut content = file.durable.clone();
        for op in &file.pending {
            File::apply(&mut content, op);
        }
        content
    }

    /// The content of `name` that would survive a crash now.
    pub fn read_durable(&self, name: &str) -> &[u8] {
        self.files.get(name).map_or(&[], |f| f.durable.as_slice())
    }

    /// Whether `name` has writes not yet synced.
    pub fn is_dirty(&self, name: &str) -> bool {
        self.files.get(name).is_some_and(|f| !f.pending.is_empty())
    }

    /// A crash: every unsynced write is lost.
    pub fn crash(&mut self) {
        let mut lost = 0;
        for file in self.files.values_mut() {
            lost += file.pending.len() as u64;
            file.pending.clear();
        }
        self.stats.writes_lost_in_crash += lost;
    }

    pub fn stats(&self) -> DiskStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsynced_writes_are_lost_in_a_crash() {
        let mut d = Disk::new();
        d.append("log", b"abc");
        d.fsync("log");
        d.append("log", b"def");
        assert_eq!(d.read("log"), b"abcdef");
        assert_eq!(d.read_durable("log"), b"abc");
        assert!(d.is_dirty("log"));
        d.crash();
        assert_eq!(d.read("log"), b"abc");
        assert_eq!(d.stats().writes_lost_in_crash, 1);
    }

    #[test]
    fn truncate_and_overwrite_apply_in_order() {
        let mut d = Disk::new();
        d.append("f", b"hello world");
        d.truncate("f", 5);
        d.append("f", b"!");
        assert_eq!(d.read("f"), b"hello!");
        d.fsync("f");
        d.overwrite("f", b"x");
        assert_eq!(d.read("f"), b"x");
        assert_eq!(d.read_durable("f"), b"hello!");
        d.fsync("f");
        assert_eq!(d.read_durable("f"), b"x");
        assert_eq!(d.read("missing"), b"");
    }
}

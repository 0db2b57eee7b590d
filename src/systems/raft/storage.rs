//! Raft's persistent state on the node's disk: `raft.meta` holds currentTerm and votedFor
//! (overwritten whole), `raft.log` holds the log as fixed-size records (appended, cut on
//! conflict). Both are fsynced before the server answers a message that depends on them
//! (unless the `ack_before_fsync` bug is on). Recovery decodes whole records only, so a
//! torn tail is ignored.

use super::{Command, Entry};
use crate::history::OpKind;
use crate::process::disk::Disk;

pub const META: &str = "raft.meta";
pub const LOG: &str = "raft.log";
pub const RECORD: usize = 40;

pub fn encode_meta(term: u64, voted_for: Option<u32>) -> [u8; 13] {
    let mut b = [0u8; 13];
    b[..8].copy_from_slice(&term.to_le_bytes());
    b[8] = u8::from(voted_for.is_some());
    b[9..].copy_from_slice(&voted_for.unwrap_or(0).to_le_bytes());
    debug_assert_eq!(decode_meta(&b), (term, voted_for), "the meta record decodes to what was encoded");
    b
}

pub fn decode_meta(b: &[u8]) -> (u64, Option<u32>) {
    if b.len() < 13 {
        return (0, None);
    }
    let term = u64::from_le_bytes(b[..8].try_into().expect("8 bytes of term"));
    let voted = u32::from_le_bytes(b[9..13].try_into().expect("4 bytes of vote"));
    (term, (b[8] == 1).then_some(voted))
}

pub fn encode_entry(e: &Entry) -> [u8; RECORD] {
    let mut b = [0u8; RECORD];
    b[..8].copy_from_slice(&e.term.to_le_bytes());
    match e.cmd {
        Command::Noop => b[8] = 0,
        Command::Op { client, id, kind, key, value } => {
            b[8] = if kind == OpKind::Write { 1 } else { 2 };
            b[9..13].copy_from_slice(&client.to_le_bytes());
            b[13..21].copy_from_slice(&id.to_le_bytes());
            b[21..29].copy_from_slice(&key.to_le_bytes());
            b[29..37].copy_from_slice(&value.to_le_bytes());
        }
    }
    debug_assert_eq!(decode_entry(&b), *e, "a log record decodes to the entry encoded");
    b
}

pub fn decode_entry(b: &[u8]) -> Entry {
    assert!(b.len() >= RECORD, "a log record is whole (recovery ignores a torn tail)");
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let term = u64_at(0);
    let cmd = match b[8] {
        0 => Command::Noop,
        k => Command::Op {
            client: u32::from_le_bytes(b[9..13].try_into().expect("4 bytes")),
            id: u64_at(13),
            kind: if k == 1 { OpKind::Write } else { OpKind::Read },
            key: u64_at(21),
            value: u64_at(29),
        },
    };
    Entry { term, cmd }
}

/// The persistent state found on a disk at restart.
pub fn recover(disk: &Disk) -> (u64, Option<u32>, Vec<Entry>) {
    let (term, voted) = decode_meta(disk.contents(META));
    let log = disk.contents(LOG).chunks_exact(RECORD).map(decode_entry).collect();
    (term, voted, log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_meta_round_trip() {
        let e = Entry {
            term: 7,
            cmd: Command::Op { client: 3, id: 99, kind: OpKind::Write, key: 5, value: 1 << 41 },
        };
        assert_eq!(decode_entry(&encode_entry(&e)), e);
        let n = Entry { term: 2, cmd: Command::Noop };
        assert_eq!(decode_entry(&encode_entry(&n)), n);
        assert_eq!(decode_meta(&encode_meta(4, Some(2))), (4, Some(2)));
        assert_eq!(decode_meta(&encode_meta(4, None)), (4, None));
        assert_eq!(decode_meta(&[]), (0, None));
    }
}

//! Damaged files (issue 15): segments and images written by the real writers, then cut, bit
//! flipped or extended at random places, are read back without a panic. A segment gives an error
//! or, for a last segment cut short (a crash mid-write, the documented repair), the records
//! before the cut, the file truncated to them; it never gives a record that was not written.
//! `PROPTEST_CASES` overrides the bounded number of cases; no failure files are written.

use std::path::Path;

use openraft::{CommittedLeaderId, EntryPayload};
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::image::{read_image, write_image};
use super::segment::{HEADER, encode, read_at, read_segment, segment_path};
use crate::namespace::Op;
use crate::raft::{Entry, LogId, Proposal, Request, SnapshotMeta};

fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
    Config { cases, failure_persistence: None, ..Config::default() }
}

fn entry(index: u64, name_len: usize) -> Entry {
    let path = format!("/{}", "d".repeat(name_len + 1));
    let op = Op::Mkdirs { path, mtime_ms: index, owner: "alice".into(), mode: 0o755 };
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(1 + index / 4, 1), index),
        payload: EntryPayload::Normal(Request { ops: vec![Proposal { op, call: None }], at_ms: index }),
    }
}

/// Entries as comparable values (openraft's `Entry` has no `PartialEq`).
fn shown<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<String> {
    entries.into_iter().map(|e| format!("{e:?}")).collect()
}

#[derive(Debug, Clone)]
enum Damage {
    Cut(usize),
    Flip(usize, u8),
    Extend(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        2 => any::<usize>().prop_map(Damage::Cut),
        3 => (any::<usize>(), 0..8u8).prop_map(|(at, bit)| Damage::Flip(at, bit)),
        1 => prop::collection::vec(any::<u8>(), 1..40).prop_map(Damage::Extend),
    ]
}

fn apply(bytes: &mut Vec<u8>, d: &Damage) {
    match *d {
        Damage::Cut(at) => bytes.truncate(at % (bytes.len() + 1)),
        Damage::Flip(at, bit) => {
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
        }
        Damage::Extend(ref tail) => bytes.extend_from_slice(tail),
    }
}

/// Writes `bytes` as the segment of `dir` and reads it back.
fn read(dir: &Path, bytes: &[u8], is_last: bool) -> (crate::error::Result<Vec<(u64, Entry)>>, u64) {
    let path = segment_path(dir, 0);
    std::fs::write(&path, bytes).unwrap();
    let got = read_segment(&path, is_last);
    (got, std::fs::metadata(&path).unwrap().len())
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn a_damaged_segment_is_refused_or_repaired_as_documented(
        sizes in prop::collection::vec(0usize..300, 1..12),
        d in damage(),
        is_last in any::<bool>(),
    ) {
        let entries: Vec<Entry> = sizes.iter().enumerate().map(|(i, &n)| entry(i as u64, n)).collect();
        let (mut bytes, mut ends) = (Vec::new(), Vec::new());
        for e in &entries {
            encode(e, &mut bytes).unwrap();
            ends.push(bytes.len());
        }
        let starts: Vec<usize> = std::iter::once(0).chain(ends.iter().copied()).collect();
        let written = shown(&entries);
        let mut damaged = bytes.clone();
        apply(&mut damaged, &d);
        let dir = tempfile::tempdir().unwrap();
        let (got, len) = read(dir.path(), &damaged, is_last);
        if let Ok(records) = &got {
            // Never a record that was not written, and each where it was written.
            let n = records.len();
            prop_assert!(n <= entries.len(), "{} records from {} written", n, entries.len());
            prop_assert_eq!(shown(records.iter().map(|(_, e)| e)), written[..n].to_vec());
            for (i, (at, _)) in records.iter().enumerate() {
                prop_assert_eq!(*at as usize, starts[i]);
            }
            // A repaired last segment is cut after its last whole record.
            let len = len as usize;
            prop_assert!(len == starts[n] || (n == entries.len() && len == damaged.len()), "{} bytes left", len);
        }
        match d {
            Damage::Cut(_) => {
                let at = damaged.len();
                let whole = ends.iter().filter(|&&e| e <= at).count();
                if is_last || starts.contains(&at) {
                    prop_assert_eq!(got.as_ref().map(Vec::len).ok(), Some(whole), "cut at {}", at);
                    prop_assert_eq!(len as usize, starts[whole]);
                } else {
                    prop_assert!(got.is_err(), "a segment cut at {} mid-record was read", at);
                }
            }
            Damage::Flip(at, _) => {
                let at = at % bytes.len();
                let record = ends.iter().filter(|&&e| e <= at).count();
                // A flipped length field of the last record may make it look cut short by the
                // end of the file, as a torn write would (the format has no check on the length
                // itself): then the records before it are what is left. A whole record after
                // one that looks torn is an error (`whole_record_after`); anything else is
                // caught by the CRC.
                let in_length = at - starts[record] < 4;
                let last = record + 1 == entries.len();
                match &got {
                    Ok(records) if in_length && is_last && last => prop_assert_eq!(records.len(), record),
                    Ok(_) => prop_assert!(false, "a flipped bit at {} went unnoticed", at),
                    Err(_) => {}
                }
            }
            Damage::Extend(_) => {
                if let Ok(records) = &got {
                    prop_assert_eq!(records.len(), entries.len());
                    prop_assert!(is_last, "garbage after the last record of a middle segment was read");
                }
            }
        }
    }

    /// Reading one record at any offset of a damaged segment gives an error or a record that
    /// was written.
    #[test]
    fn a_record_read_at_any_offset_is_one_written_or_an_error(
        sizes in prop::collection::vec(0usize..100, 1..6),
        d in damage(),
        offset in any::<u16>(),
    ) {
        let entries: Vec<Entry> = sizes.iter().enumerate().map(|(i, &n)| entry(i as u64, n)).collect();
        let mut bytes = Vec::new();
        for e in &entries {
            encode(e, &mut bytes).unwrap();
        }
        apply(&mut bytes, &d);
        let dir = tempfile::tempdir().unwrap();
        let path = segment_path(dir.path(), 0);
        std::fs::write(&path, &bytes).unwrap();
        let offset = u64::from(offset) % (bytes.len() as u64 + HEADER as u64);
        if let Ok(e) = read_at(&path, offset) {
            prop_assert!(shown(&entries).contains(&format!("{e:?}")), "read {:?} at {}", e, offset);
        }
    }

    /// An image, cut, flipped or extended: read without a panic; whatever is read back is
    /// refused, or has the metadata written when the damage missed it.
    #[test]
    fn a_damaged_image_is_read_without_a_panic(
        data in prop::collection::vec(any::<u8>(), 0..200),
        index in any::<u64>(),
        d in damage(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let meta = SnapshotMeta {
            last_log_id: Some(LogId::new(CommittedLeaderId::new(3, 1), index)),
            snapshot_id: format!("snap-{index}"),
            ..SnapshotMeta::default()
        };
        write_image(dir.path(), &meta, &data).unwrap();
        let file = dir.path().join(super::image::IMAGE_FILE);
        let mut bytes = std::fs::read(&file).unwrap();
        let meta_end = bytes.len() - data.len();
        apply(&mut bytes, &d);
        std::fs::write(&file, &bytes).unwrap();
        let got = read_image(dir.path());
        match (&d, &got) {
            (Damage::Cut(_), _) if bytes.len() < meta_end => prop_assert!(got.is_err(), "an image cut in its metadata was read"),
            (Damage::Flip(at, _), Ok(Some((m, body)))) if at % (meta_end + data.len()) >= meta_end => {
                prop_assert_eq!(format!("{m:?}"), format!("{meta:?}"));
                prop_assert_eq!(body.len(), data.len());
            }
            (Damage::Extend(tail), Ok(Some((m, body)))) => {
                prop_assert_eq!(format!("{m:?}"), format!("{meta:?}"));
                prop_assert_eq!(body, &[&data[..], &tail[..]].concat());
            }
            _ => {}
        }
    }
}

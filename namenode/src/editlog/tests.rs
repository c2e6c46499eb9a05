//! The edit log's durability and recovery rules, with real files in temp dirs (openraft's own
//! storage suite runs over it in `namesystem/tests.rs`).

use openraft::storage::{RaftLogReader, RaftLogStorage, RaftLogStorageExt};
use openraft::{CommittedLeaderId, EntryPayload};

use super::segment::HEADER;
use super::*;
use crate::namespace::Op;
use crate::raft::{Proposal, Request};

fn entry(index: u64, term: u64) -> Entry {
    let op = Op::Mkdirs { path: format!("/d{index}"), mtime_ms: 1, owner: "alice".into(), mode: 0o755 };
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(term, 1), index),
        payload: EntryPayload::Normal(Request { ops: vec![Proposal { op, call: None }], at_ms: 1 }),
    }
}

async fn append(log: &mut EditLog, range: std::ops::RangeInclusive<u64>, term: u64) {
    log.blocking_append(range.map(|i| entry(i, term))).await.unwrap();
}

async fn indexes(log: &mut EditLog) -> Vec<u64> {
    log.try_get_log_entries(0..).await.unwrap().iter().map(|e| e.log_id.index).collect()
}

/// A log directory holding entries 0..=n (a log starts at 0), its log closed.
async fn log_of(n: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _syncer) = EditLog::open(dir.path()).unwrap();
    append(&mut log, 0..=n, 1).await;
    dir
}

fn open_error(dir: &Path) -> Error {
    match EditLog::open(dir) {
        Err(e) => e,
        Ok(_) => panic!("{} opened", dir.display()),
    }
}

#[tokio::test]
async fn appended_entries_and_the_vote_survive_a_reopen() {
    let dir = log_of(5).await;
    {
        let (mut log, _s) = EditLog::open(dir.path()).unwrap();
        assert_eq!(indexes(&mut log).await, [0, 1, 2, 3, 4, 5]);
        log.save_vote(&Vote::new(3, 2)).await.unwrap();
        append(&mut log, 6..=7, 3).await;
    }
    let (mut log, _s) = EditLog::open(dir.path()).unwrap();
    assert_eq!(indexes(&mut log).await, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(log.read_vote().await.unwrap(), Some(Vote::new(3, 2)));
    let entries = log.try_get_log_entries(6..=6).await.unwrap();
    assert_eq!(entries[0].log_id.leader_id.term, 3);
}

#[tokio::test]
async fn concurrent_appends_share_syncs_and_all_become_durable() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _s) = EditLog::open(dir.path()).unwrap();
        let log = Arc::new(tokio::sync::Mutex::new(log));
        let mut waits = Vec::new();
        for i in 0..200 {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let mut l = log.lock().await;
            // The callback is openraft's; what matters here is that each is answered once durable.
            l.blocking_append_noted(entry(i, 1), tx).await;
            waits.push(rx);
        }
        for w in waits {
            w.await.unwrap();
        }
    }
    let (mut log, _s) = EditLog::open(dir.path()).unwrap();
    assert_eq!(indexes(&mut log).await.len(), 200);
}

impl EditLog {
    /// Appends one entry and reports through `done` once openraft would have been told.
    async fn blocking_append_noted(&mut self, e: Entry, done: tokio::sync::oneshot::Sender<()>) {
        let mut me = self.clone();
        tokio::spawn(async move {
            me.blocking_append([e]).await.unwrap();
            let _ = done.send(());
        });
        // Let the spawned append take its place in order before the next one.
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_record_cut_short_at_the_end_is_dropped() {
    let dir = log_of(3).await;
    let path = segment_path(dir.path(), 0);
    let full = fs::metadata(&path).unwrap().len();
    fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(full - 3).unwrap();
    {
        let (mut log, _s) = EditLog::open(dir.path()).unwrap();
        assert_eq!(indexes(&mut log).await, [0, 1, 2], "the torn last record is gone");
        append(&mut log, 3..=3, 2).await;
    }
    let (mut log, _s) = EditLog::open(dir.path()).unwrap();
    assert_eq!(indexes(&mut log).await, [0, 1, 2, 3], "appending after the cut gives a whole log");
}

/// A damaged length that makes an acknowledged record look torn, with whole records after it:
/// refused, not dropped with everything after it (found by the property tests).
#[tokio::test]
async fn a_length_damaged_mid_segment_is_not_taken_for_a_torn_tail() {
    let dir = log_of(3).await;
    let path = segment_path(dir.path(), 0);
    let mut bytes = fs::read(&path).unwrap();
    let before = bytes.len();
    bytes[2] ^= 0x40; // record 0 now claims 4 MiB more than it has
    fs::write(&path, &bytes).unwrap();
    match open_error(dir.path()) {
        Error::CorruptLog { reason, .. } => assert!(reason.contains("a whole record follows"), "{reason}"),
        e => panic!("expected a corrupt log, got {e}"),
    }
    assert_eq!(fs::metadata(&path).unwrap().len(), before as u64, "nothing was cut");
}

#[tokio::test]
async fn refuses_a_garbled_record_naming_the_file() {
    let dir = log_of(3).await;
    let path = segment_path(dir.path(), 0);
    let mut bytes = fs::read(&path).unwrap();
    let first_len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
    bytes[HEADER + first_len + HEADER + 2] ^= 0xff;
    fs::write(&path, bytes).unwrap();
    match open_error(dir.path()) {
        Error::CorruptLog { index: 1, reason } => {
            assert!(reason.contains("checksum") && reason.contains("log-0000"), "{reason}")
        }
        e => panic!("expected corrupt record 1, got {e}"),
    }
}

#[tokio::test]
async fn truncation_cuts_the_files_too() {
    let dir = log_of(6).await;
    {
        let (mut log, _s) = EditLog::open(dir.path()).unwrap();
        log.truncate(LogId::new(CommittedLeaderId::new(1, 1), 4)).await.unwrap();
        assert_eq!(indexes(&mut log).await, [0, 1, 2, 3]);
        append(&mut log, 4..=5, 2).await;
    }
    let (mut log, _s) = EditLog::open(dir.path()).unwrap();
    assert_eq!(indexes(&mut log).await, [0, 1, 2, 3, 4, 5]);
    let e = log.try_get_log_entries(4..=4).await.unwrap();
    assert_eq!(e[0].log_id.leader_id.term, 2, "the new leader's entry, not the dropped one");
}

#[tokio::test]
async fn a_purge_deletes_covered_segments_and_is_remembered() {
    let dir = log_of(5).await;
    {
        let (mut log, _s) = EditLog::open(dir.path()).unwrap();
        log.purge(LogId::new(CommittedLeaderId::new(1, 1), 5)).await.unwrap();
        append(&mut log, 6..=8, 1).await;
        log.purge(LogId::new(CommittedLeaderId::new(1, 1), 6)).await.unwrap();
    }
    let firsts: Vec<u64> = list_segments(dir.path()).unwrap().into_iter().map(|(f, _)| f).collect();
    assert_eq!(firsts, [6, 9], "segments wholly purged are gone; the open one stays");
    let (mut log, _s) = EditLog::open(dir.path()).unwrap();
    assert_eq!(indexes(&mut log).await, [7, 8]);
    let state = log.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id.map(|l| l.index), Some(6));
    assert_eq!(state.last_log_id.map(|l| l.index), Some(8));
}

#[test]
fn one_namenode_per_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (log, syncer) = EditLog::open(dir.path()).unwrap();
    assert!(in_use(dir.path()));
    let e = open_error(dir.path());
    assert!(e.to_string().contains("another namenode"), "{e}");
    drop((log, syncer));
    assert!(!in_use(dir.path()));
    EditLog::open(dir.path()).unwrap();
}

#[test]
fn refuses_a_data_dir_of_an_earlier_format() {
    for old in ["editlog", "edits-00000000000000000001"] {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(old)).unwrap();
        let e = open_error(dir.path());
        assert!(e.to_string().contains("earlier format") && e.to_string().contains(old), "{e}");
    }
}

#[tokio::test]
async fn old_entries_leave_memory_and_are_read_back_from_their_segment() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _s) = EditLog::open(dir.path()).unwrap();
    let n = CACHED as u64 * 2;
    append(&mut log, 0..=n, 1).await;
    append(&mut log, n + 1..=n + 1, 1).await; // evicts behind the first batch, now durable
    {
        let mem = log.mem();
        assert!(mem.entries[0].entry.is_none(), "the oldest entry is no longer held decoded");
        assert!(mem.entries.back().unwrap().entry.is_some());
    }
    let old = log.try_get_log_entries(5..8).await.unwrap();
    assert_eq!(old.iter().map(|e| e.log_id.index).collect::<Vec<_>>(), [5, 6, 7]);
    assert_eq!(old[0], entry(5, 1), "read back from disk as written");
    assert_eq!(log.try_get_log_entries(n..).await.unwrap().len(), 2);
}

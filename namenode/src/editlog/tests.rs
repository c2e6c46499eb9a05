//! The edit log's durability and recovery rules, with real files in temp dirs.

use super::segment::HEADER;
use super::*;
use hdfs_proto::path::HdfsPath;

fn mkdir(n: u32) -> Op {
    Op::Mkdirs { path: format!("/d{n}"), mtime_ms: 1 }
}

async fn append_and_apply(log: &mut EditLog, ns: &mut Namespace, op: Op) {
    ns.apply(&op).unwrap();
    let index = log.append(&op).unwrap();
    log.sync_handle().wait(index).await.unwrap();
}

/// A log directory holding `n` durable mkdirs (`/d0`...), its log closed.
async fn log_of_mkdirs(n: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, mut ns) = EditLog::open(dir.path()).unwrap();
    for i in 0..n {
        append_and_apply(&mut log, &mut ns, mkdir(i)).await;
    }
    dir
}

/// The error `open` gives, which it must give.
fn open_error(dir: &Path) -> Error {
    match EditLog::open(dir) {
        Err(e) => e,
        Ok(_) => panic!("{} opened", dir.display()),
    }
}

fn segments(dir: &Path) -> Vec<u64> {
    list_segments(dir).unwrap().into_iter().map(|(f, _)| f).collect()
}

#[tokio::test]
async fn replays_log_over_image_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut log, mut ns) = EditLog::open(dir.path()).unwrap();
        for i in 0..5 {
            append_and_apply(&mut log, &mut ns, mkdir(i)).await;
        }
        log.checkpoint(&ns).unwrap();
        for i in 5..8 {
            append_and_apply(&mut log, &mut ns, mkdir(i)).await;
        }
    }
    assert_eq!(segments(dir.path()), [6], "segments before the checkpoint were removed");
    let (log, ns) = EditLog::open(dir.path()).unwrap();
    for i in 0..8 {
        ns.resolve(&HdfsPath::parse(&format!("/d{i}")).unwrap()).unwrap();
    }
    assert_eq!(log.next_index, 9);
    assert_eq!(log.since_checkpoint, 3, "only the records after the image were replayed");
}

#[tokio::test]
async fn concurrent_appenders_share_syncs_and_all_become_durable() {
    let dir = tempfile::tempdir().unwrap();
    let (log, mut ns) = EditLog::open(dir.path()).unwrap();
    let log = Arc::new(Mutex::new(log));
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let op = mkdir(i);
        ns.apply(&op).unwrap();
        let (index, sync) = {
            let mut l = log.lock().unwrap();
            (l.append(&op).unwrap(), l.sync_handle())
        };
        tasks.push(tokio::spawn(async move { sync.wait(index).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    drop(log);
    let (log, ns) = EditLog::open(dir.path()).unwrap();
    assert_eq!(log.next_index, 201);
    assert_eq!(ns.inode_count(), 201);
}

#[tokio::test]
async fn a_record_cut_short_at_the_end_is_dropped() {
    let dir = log_of_mkdirs(3).await;
    let path = segment_path(dir.path(), 1);
    let full = fs::metadata(&path).unwrap().len();
    let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(full - 3).unwrap();
    let (mut log, mut ns) = EditLog::open(dir.path()).unwrap();
    assert_eq!(log.next_index, 3, "the torn third record is gone");
    assert!(ns.resolve(&HdfsPath::parse("/d2").unwrap()).is_err());
    // Appending after the truncation gives a log that replays whole.
    append_and_apply(&mut log, &mut ns, mkdir(9)).await;
    drop(log);
    let (log, _) = EditLog::open(dir.path()).unwrap();
    assert_eq!(log.next_index, 4);
}

#[test]
fn one_namenode_per_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = EditLog::open(dir.path()).unwrap();
    assert!(in_use(dir.path()));
    let e = open_error(dir.path());
    assert!(e.to_string().contains("another namenode"), "{e}");
    drop(log);
    assert!(!in_use(dir.path()));
    EditLog::open(dir.path()).unwrap();
}

#[test]
fn refuses_a_data_dir_with_the_old_sled_log() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("editlog")).unwrap();
    let e = open_error(dir.path());
    assert!(e.to_string().contains("earlier sled format"), "{e}");
}

#[tokio::test]
async fn refuses_a_garbled_record() {
    let dir = log_of_mkdirs(3).await;
    // Flip a byte inside the second record's body.
    let path = segment_path(dir.path(), 1);
    let mut bytes = fs::read(&path).unwrap();
    let first_len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
    bytes[HEADER + first_len + HEADER + 2] ^= 0xff;
    fs::write(&path, bytes).unwrap();
    match open_error(dir.path()) {
        Error::CorruptLog { index: 2, reason } => assert!(reason.contains("checksum"), "{reason}"),
        e => panic!("expected corrupt record 2, got {e}"),
    }
}

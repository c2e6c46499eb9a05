//! Bad wire values (issue 15): a file status from the namenode converts to the client's own, or
//! is refused for an unknown file type, whatever its fields hold; mode bits past HDFS's are
//! dropped. `PROPTEST_CASES` overrides the bounded number of cases; no failure files are written.

use hdfs_client::{Error, FileKind, FileStatus};
use hdfs_proto::pb::namenode as pb;
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2000);
    Config { cases, failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_file_status_converts_or_is_refused(
        path in any::<String>(), file_type in prop_oneof![0..3i32, any::<i32>()], length in any::<u64>(),
        replication in any::<u32>(), permission in any::<u32>(), owner in any::<String>(), mtime in any::<u64>(),
    ) {
        let wire = pb::FileStatus {
            path: path.clone(), file_type, length, replication, permission, owner: owner.clone(), modification_time_ms: mtime,
            ..Default::default()
        };
        match FileStatus::try_from(wire) {
            Ok(s) => {
                prop_assert!(s.permission <= 0o1777);
                let _ = (s.kind == FileKind::Directory, s.modification_time(), s.mode_string());
                prop_assert_eq!((s.path, s.length, s.replication, s.owner), (path, length, replication, owner));
            }
            Err(e) => prop_assert!(matches!(e, Error::InvalidArgument(_)), "{e}"),
        }
    }
}

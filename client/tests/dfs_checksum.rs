//! `hdfs dfs -checksum` as Hadoop's shell prints it (`PATH<TAB>COMPOSITE-CRC32C<TAB>HEX`, `-v`'s
//! `BlockSize=N`, `Is a directory`, exit 1 when a path failed): the real binary against an
//! in-process cluster, run as alice, in the superuser group.

use std::path::Path;

use hdfs_tests::{ClusterOptions, MiniCluster};

mod shell;
use shell::Hdfs;

fn write(dir: &Path, name: &str, data: &[u8]) {
    std::fs::write(dir.join(name), data).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checksum_lines_as_hadoop_prints_them() {
    let opts = ClusterOptions { group_mapping: "alice=supergroup".into(), ..Default::default() };
    let cluster = MiniCluster::with_options(opts).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (hdfs, local) = (Hdfs::new(&cluster, tmp.path(), "alice"), tmp.path());
    let mut big = vec![0u8; 5 << 19];
    fastrand::Rng::with_seed(11).fill(&mut big);
    write(local, "big.bin", &big);
    write(local, "small.txt", b"Hello world!");
    let hex = format!("{:08x}", crc32c::crc32c(&big));

    // The same bytes with 1 MiB and 2 MiB blocks: one checksum; globs and several paths.
    hdfs.ok(&["-mkdir", "-p", "/d", "/user/alice"]).await;
    hdfs.ok(&["-D", "dfs.blocksize=1048576", "-put", "big.bin", "/d/one"]).await;
    hdfs.ok(&["-D", "dfs.blocksize=2097152", "-put", "big.bin", "/d/two"]).await;
    let both = format!("/d/one\tCOMPOSITE-CRC32C\t{hex}\n/d/two\tCOMPOSITE-CRC32C\t{hex}\n");
    assert_eq!(hdfs.ok(&["-checksum", "/d/one", "/d/two"]).await, both);
    assert_eq!(hdfs.ok(&["-checksum", "/d/*"]).await, both);
    assert_eq!(
        hdfs.ok(&["-checksum", "-v", "/d/one", "/d/two"]).await,
        format!(
            "/d/one\tCOMPOSITE-CRC32C\t{hex}\tBlockSize=1048576\n/d/two\tCOMPOSITE-CRC32C\t{hex}\tBlockSize=2097152\n"
        )
    );

    // Paths as given (relative to the home directory); an empty file; other bytes.
    hdfs.ok(&["-put", "small.txt", "small.txt"]).await;
    assert_eq!(hdfs.ok(&["-checksum", "small.txt"]).await, "small.txt\tCOMPOSITE-CRC32C\t7b98e751\n");
    hdfs.ok(&["-touchz", "/d/empty"]).await;
    assert_eq!(hdfs.ok(&["-checksum", "/d/empty"]).await, "/d/empty\tCOMPOSITE-CRC32C\t00000000\n");

    // A directory and a missing path are said, the others still done, exit 1; bad input 255.
    let out = hdfs.dfs(&["-checksum", "/d", "/nope", "/d/one"]).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "checksum: `/d': Is a directory\nchecksum: `/nope': No such file or directory\n");
    assert_eq!(out.text(), format!("/d/one\tCOMPOSITE-CRC32C\t{hex}\n"));
    assert!(hdfs.fails(&["-checksum"], 255).await.starts_with("-checksum: "));
    assert!(hdfs.fails(&["-checksum", "-x", "/d/one"], 255).await.starts_with("-checksum: Illegal option -x"));
    assert_eq!(hdfs.ok(&["-usage", "checksum"]).await, "Usage: hdfs dfs [generic options] -checksum [-v] <src> ...\n");
}

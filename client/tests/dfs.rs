//! `hdfs dfs` (and `dfsadmin`, `getconf`, `version`, single-dash `fsck`) as Hadoop's shell:
//! the real binary against an in-process cluster, checked for Hadoop's output, error lines and
//! exit statuses (0; 1 when a path failed; 255 for bad input).

use std::path::Path;

use tokio::io::AsyncWriteExt;

use hdfs_tests::{ClusterOptions, MiniCluster};

mod shell;
use shell::{Follow, Hdfs};

fn write(dir: &Path, name: &str, data: &[u8]) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// Every file and directory under `dir`, with each file's bytes, in name order.
fn tree(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            out.push((name.clone(), None));
            out.extend(tree(&p).into_iter().map(|(n, d)| (format!("{name}/{n}"), d)));
        } else {
            out.push((name, Some(std::fs::read(&p).unwrap())));
        }
    }
    out
}

/// These tests are about the verbs' spellings, not permissions (tests/tests/permissions.rs and
/// dfs_perms.rs are): alice, who runs them, is in the superuser group.
async fn cluster(datanodes: usize) -> Result<MiniCluster, Box<dyn std::error::Error>> {
    let replication = datanodes.clamp(1, 3) as u32;
    let opts =
        ClusterOptions { datanodes, replication, group_mapping: "alice=supergroup".into(), ..Default::default() };
    Ok(MiniCluster::with_options(opts).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_cp_mv_as_hadoop_does() {
    let cluster = cluster(3).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (hdfs, local) = (Hdfs::new(&cluster, tmp.path(), "alice"), tmp.path());
    let mut big = vec![0u8; (5 << 20) / 2 + 7];
    fastrand::Rng::with_seed(7).fill(&mut big);
    write(local, "a.txt", b"alpha\n");
    write(local, "b.txt", b"bravo\n");
    write(local, "tree/x.bin", &big);
    write(local, "tree/sub/w.txt", b"w\n");
    write(local, "tree/sub/y.txt", b"y\n");
    write(local, "tree/sub/deeper/z.txt", b"z\n");
    std::fs::create_dir(local.join("tree/empty")).unwrap();

    // Several sources into a directory; they need one that exists; a file is kept without -f.
    hdfs.ok(&["-mkdir", "/in"]).await;
    hdfs.ok(&["-put", "a.txt", "b.txt", "/in"]).await;
    assert_eq!(hdfs.ok(&["-cat", "/in/a.txt", "/in/b.txt"]).await, "alpha\nbravo\n");
    let err = hdfs.fails(&["-put", "a.txt", "b.txt", "/nodir"], 1).await;
    assert_eq!(err, "put: `/nodir': No such file or directory\n");
    assert_eq!(hdfs.fails(&["-put", "a.txt", "/in/b.txt"], 1).await, "put: `/in/b.txt': File exists\n");
    hdfs.ok(&["-put", "-f", "a.txt", "/in/b.txt"]).await;
    assert_eq!(hdfs.ok(&["-cat", "/in/b.txt"]).await, "alpha\n");
    // One bad source among good ones: said, and the others are copied.
    hdfs.ok(&["-mkdir", "/in/more"]).await;
    let err = hdfs.fails(&["-put", "nofile", "b.txt", "/in/more"], 1).await;
    assert_eq!(err, "put: `nofile': No such file or directory\n");
    assert_eq!(hdfs.ok(&["-cat", "/in/more/b.txt"]).await, "bravo\n");
    hdfs.put(&["-put", "-", "/in/stdin.txt"], b"from stdin\n").await;
    hdfs.ok(&["-copyFromLocal", "-d", "a.txt", "/in/c.txt"]).await;
    assert_eq!(hdfs.fails(&["-put", "-l", "a.txt", "/in/p.txt"], 1).await, "put: -l: not supported yet\n");
    assert_eq!(hdfs.test("-e", "/in/p.txt").await, 1);

    // A local directory recursively (a multi-block file, an empty directory), and back.
    hdfs.ok(&["-put", "tree", "/in"]).await;
    assert_eq!(
        hdfs.ok(&["-ls", "-R", "-C", "/in/tree"]).await,
        "/in/tree/empty\n/in/tree/sub\n/in/tree/sub/deeper\n/in/tree/sub/deeper/z.txt\n/in/tree/sub/w.txt\n\
         /in/tree/sub/y.txt\n/in/tree/x.bin\n"
    );
    hdfs.ok(&["-get", "/in/tree", "back"]).await;
    assert!(tree(&local.join("back")) == tree(&local.join("tree")), "the tree came back identical");

    // get: several sources into a directory; an existing file is kept without -f.
    std::fs::create_dir(local.join("got")).unwrap();
    hdfs.ok(&["-get", "/in/a.txt", "/in/c.txt", "got"]).await;
    assert_eq!(std::fs::read(local.join("got/c.txt")).unwrap(), b"alpha\n");
    assert_eq!(hdfs.fails(&["-get", "/in/stdin.txt", "got/a.txt"], 1).await, "get: `got/a.txt': File exists\n");
    hdfs.ok(&["-copyToLocal", "-f", "-ignoreCrc", "/in/stdin.txt", "got/a.txt"]).await;
    assert_eq!(std::fs::read(local.join("got/a.txt")).unwrap(), b"from stdin\n");
    let err = hdfs.fails(&["-get", "/in/nope", "/in/a.txt", "got/more"], 1).await;
    assert!(err.starts_with("get: `/in/nope': No such file or directory\n"), "{err}");
    hdfs.ok(&["-getmerge", "-nl", "/in/tree/sub", "merged.txt"]).await;
    assert_eq!(std::fs::read(local.join("merged.txt")).unwrap(), b"w\n\ny\n\n");

    // moveFromLocal deletes the local source once copied.
    hdfs.ok(&["-moveFromLocal", "b.txt", "/in/moved.txt"]).await;
    assert!(!local.join("b.txt").exists());
    assert_eq!(hdfs.ok(&["-cat", "/in/moved.txt"]).await, "bravo\n");

    // cp: a directory recursively; several files into a directory; not into itself.
    hdfs.ok(&["-cp", "/in/tree", "/in/tree2"]).await;
    assert!(hdfs.dfs(&["-cat", "/in/tree2/x.bin"]).await.stdout == big);
    assert_eq!(hdfs.fails(&["-cp", "/in/a.txt", "/in/c.txt"], 1).await, "cp: `/in/c.txt': File exists\n");
    hdfs.ok(&["-cp", "-f", "/in/stdin.txt", "/in/c.txt"]).await;
    assert_eq!(hdfs.ok(&["-cat", "/in/c.txt"]).await, "from stdin\n");
    hdfs.ok(&["-cp", "/in/a.txt", "/in/c.txt", "/in/tree2/sub"]).await;
    assert_eq!(hdfs.ok(&["-ls", "-C", "/in/tree2/sub"]).await.lines().count(), 5);
    let err = hdfs.fails(&["-cp", "/in/tree", "/in/tree/sub"], 1).await;
    assert_eq!(err, "cp: `/in/tree' to `/in/tree/sub/tree': is a subdirectory of itself\n");

    // mv: a rename; several into a directory; never over an existing file.
    hdfs.ok(&["-mv", "/in/c.txt", "/in/d.txt"]).await;
    assert_eq!(hdfs.test("-e", "/in/c.txt").await, 1);
    hdfs.ok(&["-mkdir", "/out"]).await;
    hdfs.ok(&["-mv", "/in/a.txt", "/in/d.txt", "/out"]).await;
    assert_eq!(hdfs.ok(&["-ls", "-C", "/out"]).await, "/out/a.txt\n/out/d.txt\n");
    assert_eq!(hdfs.fails(&["-mv", "/in/stdin.txt", "/in/moved.txt"], 1).await, "mv: `/in/moved.txt': File exists\n");
    let err = hdfs.fails(&["-mv", "/in/stdin.txt"], 255).await;
    assert!(err.starts_with("-mv: Not enough arguments: expected 2 but got 1\nUsage: hdfs dfs"), "{err}");
}

/// `-ls` line with its date (`yyyy-MM-dd HH:mm`) as DATE: mode, replication, owner, group,
/// size, DATE, path.
fn undated(line: &str) -> String {
    let b = line.as_bytes();
    let is_date = |i: usize| {
        b.len() >= i + 16
            && (0..16).all(|k| match k {
                4 | 7 => b[i + k] == b'-',
                10 => b[i + k] == b' ',
                13 => b[i + k] == b':',
                _ => b[i + k].is_ascii_digit(),
            })
    };
    let i = (0..b.len()).find(|&i| is_date(i)).unwrap_or_else(|| panic!("no date in {line}"));
    format!("{}DATE{}", &line[..i], &line[i + 16..])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_count_du_df_stat_find_test_and_globs() {
    let cluster = cluster(3).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let hdfs = Hdfs::new(&cluster, tmp.path(), "alice");
    hdfs.ok(&["-mkdir", "-p", "/data/logs", "/data/empty"]).await;
    hdfs.put(&["-D", "dfs.replication=2", "-put", "-", "/data/one"], &[1; 100]).await;
    hdfs.put(&["-put", "-", "/data/two"], &[2; 2000]).await;
    hdfs.put(&["-put", "-", "/data/logs/app.log"], b"log line\n").await;

    let ls = hdfs.ok(&["-ls", "/data"]).await;
    let lines: Vec<String> = ls.lines().skip(1).map(undated).collect();
    assert!(ls.starts_with("Found 4 items\n"), "{ls}");
    assert_eq!(
        lines,
        [
            "drwxr-xr-x   - alice supergroup          0 DATE /data/empty",
            "drwxr-xr-x   - alice supergroup          0 DATE /data/logs",
            "-rw-r--r--   2 alice supergroup        100 DATE /data/one",
            "-rw-r--r--   3 alice supergroup       2000 DATE /data/two",
        ]
    );
    assert_eq!(
        undated(hdfs.ok(&["-ls", "-d", "/data"]).await.trim_end()),
        "drwxr-xr-x   - alice supergroup          0 DATE /data"
    );
    let human = hdfs.ok(&["-ls", "-h", "/data/two"]).await;
    assert!(human.starts_with("-rw-r--r--   3 alice supergroup      2.0 K "), "{human}");
    assert_eq!(hdfs.ok(&["-ls", "-C", "-S", "/data"]).await, "/data/two\n/data/one\n/data/empty\n/data/logs\n");
    assert_eq!(hdfs.ok(&["-ls", "-C", "-S", "-r", "/data"]).await, "/data/empty\n/data/logs\n/data/one\n/data/two\n");
    let recursive = hdfs.ok(&["-ls", "-R", "/data"]).await;
    assert!(!recursive.contains("Found") && recursive.lines().nth(2).unwrap().ends_with(" /data/logs/app.log"));
    // -t: newest first, as the modification times say.
    let mut by_time: Vec<(i64, String)> = hdfs
        .ok(&["-stat", "%Y %n", "/data/*"])
        .await
        .lines()
        .map(|l| l.split_once(' ').map(|(t, n)| (-t.parse::<i64>().unwrap(), format!("/data/{n}"))).unwrap())
        .collect();
    by_time.sort();
    let expected: String = by_time.iter().map(|(_, p)| format!("{p}\n")).collect();
    assert_eq!(hdfs.ok(&["-ls", "-C", "-t", "/data"]).await, expected);
    assert_eq!(hdfs.ok(&["-ls", "-C", "-t", "-u", "/data"]).await, expected, "no access times: -u is -t");

    // A missing path: said in Hadoop's words; the others are still listed; exit 1.
    let out = hdfs.dfs(&["-ls", "-C", "/data/one", "/nope", "/data/two"]).await;
    assert_eq!((out.code, out.text().as_str()), (1, "/data/one\n/data/two\n"));
    assert_eq!(out.stderr, "ls: `/nope': No such file or directory\n");
    let err = hdfs.fails(&["-ls", "-x", "/"], 255).await;
    assert!(err.starts_with("-ls: Illegal option -x\nUsage: hdfs dfs [generic options] -ls [-C]"), "{err}");

    // Globs, per component; one that matches nothing is a missing path.
    let h = &hdfs;
    let globbed = move |p: &'static str| async move { h.ok(&["-ls", "-C", "-d", p]).await };
    assert_eq!(globbed("/data/*o*").await, "/data/logs\n/data/one\n/data/two\n");
    assert_eq!(globbed("/data/{one,empty}").await, "/data/empty\n/data/one\n");
    assert_eq!(globbed("/data/[a-m]*").await, "/data/empty\n/data/logs\n");
    assert_eq!(globbed("/data/[^el]*").await, "/data/one\n/data/two\n");
    assert_eq!(globbed("/d?ta/t?o").await, "/data/two\n");
    assert_eq!(globbed("/*/logs/*.log").await, "/data/logs/app.log\n");
    assert_eq!(hdfs.fails(&["-ls", "/data/zz*"], 1).await, "ls: `/data/zz*': No such file or directory\n");

    // URIs and the generic -fs option; relative paths are under /user/$HADOOP_USER_NAME.
    let addr = cluster.namenode_url().trim_start_matches("http://").to_string();
    let uri = format!("hdfs://{addr}/data/one");
    assert_eq!(hdfs.ok(&["-ls", "-C", &uri]).await, format!("{uri}\n"));
    assert_eq!(hdfs.ok(&["-ls", "-C", "hdfs:///data/one"]).await, "hdfs:///data/one\n");
    let other = Hdfs::at("http://127.0.0.1:1", tmp.path(), "alice");
    assert_eq!(other.ok(&["-fs", &format!("hdfs://{addr}"), "-ls", "-C", "/data/two"]).await, "/data/two\n");
    hdfs.ok(&["-mkdir", "-p", "/user/alice"]).await;
    hdfs.put(&["-put", "-", "notes.txt"], b"n\n").await;
    let home = hdfs.ok(&["-ls"]).await;
    assert!(
        home.starts_with("Found 1 items\n-rw-r--r--   3 alice supergroup          2 ")
            && home.ends_with(" notes.txt\n"),
        "{home}"
    );
    assert_eq!(hdfs.ok(&["-cat", "/user/alice/notes.txt"]).await, "n\n");

    // count: Hadoop's columns (the directory itself counts), quotas (none), header.
    let count = format!("{:>12} {:>12} {:>18} /data\n", 3, 3, 2109);
    assert_eq!(hdfs.ok(&["-count", "/data"]).await, count);
    let quotas = hdfs.ok(&["-count", "-q", "-v", "/data"]).await;
    assert_eq!(
        quotas,
        format!(
            "{:>12} {:>15} {:>15} {:>15} {:>12} {:>12} {:>18} PATHNAME\n{:>12} {:>15} {:>15} {:>15} {count}",
            "QUOTA",
            "REM_QUOTA",
            "SPACE_QUOTA",
            "REM_SPACE_QUOTA",
            "DIR_COUNT",
            "FILE_COUNT",
            "CONTENT_SIZE",
            "none",
            "inf",
            "none",
            "inf"
        )
    );
    assert_eq!(
        hdfs.ok(&["-count", "-h", "/data/two"]).await,
        format!("{:>12} {:>12} {:>18} /data/two\n", 0, 1, "2.0 K")
    );

    // du: per entry, or -s in total; size and space with every replica.
    assert_eq!(
        hdfs.ok(&["-du", "/data"]).await,
        "0     0     /data/empty\n9     27    /data/logs\n100   200   /data/one\n2000  6000  /data/two\n"
    );
    assert_eq!(hdfs.ok(&["-du", "-s", "/data"]).await, "2109  6227  /data\n");
    assert_eq!(hdfs.ok(&["-du", "-s", "-h", "/data"]).await, "2.1 K  6.1 K  /data\n");
    let header = hdfs.ok(&["-du", "-s", "-v", "/data"]).await;
    assert!(header.starts_with("SIZE  DISK_SPACE_CONSUMED_WITH_ALL_REPLICAS  FULL_PATH_NAME\n2109  6227 "), "{header}");
    let df = hdfs.ok(&["-df", "-h"]).await;
    let rows: Vec<Vec<&str>> = df.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], ["Filesystem", "Size", "Used", "Available", "Use%"]);
    assert!(rows[1][0] == format!("hdfs://{addr}") && rows[1].last().unwrap().ends_with('%'), "{df}");

    // stat: Hadoop's format conversions; %y is UTC to the second.
    assert_eq!(hdfs.ok(&["-stat", "%n %b %r %o %F", "/data/one"]).await, "one 100 2 1048576 regular file\n");
    assert_eq!(hdfs.ok(&["-stat", "%F %n %b", "/data/logs"]).await, "directory logs 0\n");
    let y = hdfs.ok(&["-stat", "/data/one"]).await;
    assert!(y.len() == 20 && &y[10..11] == " " && &y[16..17] == ":", "{y}");

    // find: by name, case-insensitively too, below and including each path.
    assert_eq!(hdfs.ok(&["-find", "/data", "-name", "*.log"]).await, "/data/logs/app.log\n");
    assert_eq!(hdfs.ok(&["-find", "/", "-iname", "ONE"]).await, "/data/one\n");
    assert_eq!(hdfs.ok(&["-find", "/data/logs"]).await, "/data/logs\n/data/logs/app.log\n");

    // test: the answer in the exit status alone.
    hdfs.ok(&["-touchz", "/data/zero"]).await;
    for (flag, path, code) in [
        ("-e", "/data/one", 0),
        ("-e", "/nope", 1),
        ("-d", "/data", 0),
        ("-d", "/data/one", 1),
        ("-f", "/data/one", 0),
        ("-f", "/data", 1),
        ("-s", "/data/one", 0),
        ("-s", "/data/zero", 1),
        ("-z", "/data/zero", 0),
        ("-z", "/data/one", 1),
        ("-w", "/data/one", 0),
        ("-r", "/nope", 1),
    ] {
        assert_eq!(hdfs.test(flag, path).await, code, "-test {flag} {path}");
    }
    assert!(hdfs.fails(&["-test", "/data"], 255).await.starts_with("-test: No test flag given\n"));
    assert!(hdfs.fails(&["-test", "-e", "-d", "/data"], 255).await.starts_with("-test: Only one test flag"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mkdir_touch_rm_rmdir_setrep_read_and_bad_input() {
    let cluster = cluster(3).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let hdfs = Hdfs::new(&cluster, tmp.path(), "alice");

    assert_eq!(hdfs.fails(&["-mkdir", "/a/b"], 1).await, "mkdir: `/a/b': No such file or directory\n");
    hdfs.ok(&["-mkdir", "-p", "/a/b"]).await;
    assert_eq!(hdfs.fails(&["-mkdir", "/a"], 1).await, "mkdir: `/a': File exists\n");
    hdfs.ok(&["-mkdir", "-p", "/a"]).await;

    hdfs.ok(&["-touchz", "/a/empty"]).await;
    hdfs.ok(&["-touchz", "/a/empty"]).await;
    hdfs.put(&["-put", "-", "/a/f"], &[b'x'; 3000]).await;
    assert_eq!(hdfs.fails(&["-touchz", "/a/f"], 1).await, "touchz: `/a/f': Not a zero-length file\n");
    assert_eq!(hdfs.fails(&["-touchz", "/nope/x"], 1).await, "touchz: `/nope/x': No such file or directory\n");
    hdfs.ok(&["-touch", "/a/t", "/a/f"]).await;
    hdfs.ok(&["-touch", "-c", "/a/never"]).await;
    assert_eq!(hdfs.ok(&["-stat", "%b %n", "/a/t", "/a/f"]).await, "0 t\n3000 f\n");
    assert_eq!(hdfs.test("-e", "/a/never").await, 1);

    // cat, head (first KiB), tail (last KiB); a directory is refused.
    let data: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    hdfs.put(&["-put", "-f", "-", "/a/f"], &data).await;
    assert!(hdfs.dfs(&["-cat", "/a/f"]).await.stdout == data);
    assert!(hdfs.dfs(&["-head", "/a/f"]).await.stdout == data[..1024]);
    assert!(hdfs.dfs(&["-tail", "/a/f"]).await.stdout == data[3000 - 1024..]);
    assert_eq!(hdfs.fails(&["-cat", "/a"], 1).await, "cat: `/a': Is a directory\n");

    // tail -f follows the file as it grows (appended to, then replaced by a longer one), until
    // stopped.
    hdfs.put(&["-put", "-f", "-", "/a/g"], b"first\n").await;
    let mut tail = Follow::start(hdfs.command(&["dfs", "-tail", "-f", "/a/g"]));
    assert_eq!(tail.wait_for(b"first\n"), b"first\n");
    hdfs.put(&["-appendToFile", "-", "/a/g"], b"second\n").await;
    assert_eq!(tail.wait_for(b"second\n"), b"first\nsecond\n");
    hdfs.put(&["-put", "-f", "-", "/a/g"], b"first\nsecond\nthird\n").await;
    assert!(tail.wait_for(b"third\n").starts_with(b"first\nsecond\n"));
    drop(tail);

    // And a file being written, as its writer hflushes, before it is closed.
    let writer = hdfs_client::Client::connect(&cluster.namenode_url()).await.unwrap();
    let mut w = writer.create("/growing", Default::default()).await.unwrap();
    w.write_all(b"line 1\n").await.unwrap();
    w.hflush().await.unwrap();
    let mut tail = Follow::start(hdfs.command(&["dfs", "-tail", "-f", "/growing"]));
    assert_eq!(tail.wait_for(b"line 1\n"), b"line 1\n");
    w.write_all(b"line 2\n").await.unwrap();
    w.hflush().await.unwrap();
    assert_eq!(tail.wait_for(b"line 2\n"), b"line 1\nline 2\n");
    assert!(writer.stat("/growing").await.unwrap().under_construction);
    drop(tail);
    w.close().await.unwrap();

    // rm: directories need -r; -f ignores missing paths; one bad path does not stop the others.
    assert_eq!(hdfs.fails(&["-rm", "/a"], 1).await, "rm: `/a': Is a directory\n");
    let err = hdfs.fails(&["-rm", "-rf", "/a"], 255).await;
    assert!(err.starts_with("-rm: Illegal option -rf\nUsage: hdfs dfs [generic options] -rm "), "{err}");
    assert_eq!(hdfs.test("-d", "/a/b").await, 0, "bad input changes nothing");
    assert_eq!(hdfs.ok(&["-rm", "-f", "/missing", "/missing*"]).await, "");
    hdfs.ok(&["-touchz", "/x", "/y"]).await;
    let out = hdfs.dfs(&["-rm", "/x", "/missing", "/y"]).await;
    assert_eq!((out.code, out.text().as_str()), (1, "Deleted /x\nDeleted /y\n"));
    assert_eq!(out.stderr, "rm: `/missing': No such file or directory\n");
    assert_eq!(hdfs.ok(&["-rm", "-r", "-skipTrash", "/a/b"]).await, "Deleted /a/b\n");
    hdfs.ok(&["-mkdir", "-p", "/r/s"]).await;
    assert_eq!(hdfs.ok(&["-stat", "-R", "%n", "/r"]).await, "r\ns\n");
    assert_eq!(hdfs.ok(&["-rm", "-R", "/r"]).await, "Deleted /r\n");

    // rmdir: only empty directories.
    hdfs.ok(&["-mkdir", "-p", "/d/e"]).await;
    assert_eq!(hdfs.fails(&["-rmdir", "/d"], 1).await, "rmdir: `/d': Directory is not empty\n");
    hdfs.ok(&["-rmdir", "--ignore-fail-on-non-empty", "/d"]).await;
    assert_eq!(hdfs.fails(&["-rmdir", "/a/f"], 1).await, "rmdir: `/a/f': Is not a directory\n");
    hdfs.ok(&["-rmdir", "/d/e"]).await;
    assert_eq!(hdfs.test("-e", "/d/e").await, 1);

    // setrep: each file, waiting with -w; a bad factor is bad input.
    assert_eq!(hdfs.ok(&["-setrep", "-w", "2", "/a/f"]).await, "Replication 2 set: /a/f\n");
    assert_eq!(hdfs.ok(&["-stat", "%r", "/a/f"]).await, "2\n");
    let mut set: Vec<String> = hdfs.ok(&["-setrep", "-R", "3", "/a"]).await.lines().map(String::from).collect();
    set.sort();
    assert_eq!(set, ["/a/empty", "/a/f", "/a/g", "/a/t"].map(|f| format!("Replication 3 set: {f}")));
    assert!(hdfs.fails(&["-setrep", "0", "/a/f"], 255).await.starts_with("-setrep: replication must be >= 1\n"));
    assert!(hdfs.fails(&["-setrep", "x", "/a/f"], 255).await.starts_with("-setrep: Illegal replication"));

    // Unknown verbs, verbs not supported yet, help.
    assert_eq!(hdfs.fails(&["-foo"], 255).await, "-foo: Unknown command\n");
    assert!(hdfs.fails(&["ls", "/"], 255).await.contains("Did you mean -ls?"));
    // truncate: inside the block, so block recovery cuts it (-w waits for that); past the end is
    // refused.
    assert!(hdfs.fails(&["-truncate", "5000", "/a/f"], 1).await.contains("Cannot truncate to a larger file size"));
    assert_eq!(
        hdfs.ok(&["-truncate", "-w", "2000", "/a/f"]).await,
        "Waiting for /a/f ...\nTruncated /a/f to length: 2000\n"
    );
    assert_eq!(hdfs.ok(&["-stat", "%b", "/a/f"]).await, "2000\n");
    // appendToFile: local files and stdin in order, to an existing file or a new one; a missing
    // source changes nothing.
    write(tmp.path(), "l1.txt", b"one\n");
    write(tmp.path(), "l2.txt", b"two\n");
    hdfs.ok(&["-appendToFile", "l1.txt", "l2.txt", "/a/log"]).await;
    hdfs.put(&["-appendToFile", "l1.txt", "-", "/a/log"], b"stdin\n").await;
    assert_eq!(hdfs.ok(&["-cat", "/a/log"]).await, "one\ntwo\none\nstdin\n");
    assert_eq!(
        hdfs.fails(&["-appendToFile", "nope.txt", "/a/log"], 1).await,
        "appendToFile: `nope.txt': No such file or directory\n"
    );
    assert_eq!(hdfs.fails(&["-appendToFile", "l1.txt", "/a"], 1).await, "appendToFile: `/a': Is a directory\n");
    assert_eq!(hdfs.ok(&["-stat", "%b", "/a/log"]).await, "18\n");
    // concat: the sources' blocks to the target's end, the sources gone; a missing one is said.
    hdfs.ok(&["-appendToFile", "l2.txt", "/a/log2"]).await;
    hdfs.ok(&["-concat", "/a/log", "/a/log2"]).await;
    assert_eq!(hdfs.ok(&["-cat", "/a/log"]).await, "one\ntwo\none\nstdin\ntwo\n");
    assert_eq!(hdfs.test("-e", "/a/log2").await, 1);
    assert_eq!(
        hdfs.fails(&["-concat", "/a/log", "/a/log2"], 1).await,
        "concat: `/a/log2': No such file or directory\n"
    );
    assert_eq!(
        hdfs.ok(&["-usage", "rm"]).await,
        "Usage: hdfs dfs [generic options] -rm [-f] [-r|-R] [-skipTrash] <src> ...\n"
    );
    assert!(hdfs.ok(&["-help"]).await.contains("-getmerge [-nl]"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dfsadmin_getconf_version_and_single_dash_fsck() {
    let mut cluster = cluster(1).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let hdfs = Hdfs::new(&cluster, tmp.path(), "alice");
    let h = &hdfs;
    let admin = move |args: &'static [&'static str]| h.run(args, b"");

    let report = admin(&["dfsadmin", "-report"]).await;
    let text = report.text();
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(text.starts_with("Configured Capacity: ") && text.contains("\nLive datanodes (1):\n\nName: "), "{text}");
    assert!(text.contains("\nDead datanodes (0):\n") && text.contains("Decommission Status : Normal"), "{text}");
    let dead_only = admin(&["dfsadmin", "-report", "-dead"]).await.text();
    assert!(dead_only.contains("Dead datanodes (0)") && !dead_only.contains("Live datanodes"), "{dead_only}");
    assert_eq!(admin(&["dfsadmin", "-report", "-bogus"]).await.code, 255);
    assert!(admin(&["dfsadmin", "-safemode", "enter"]).await.text().starts_with("Safe mode is ON"));
    assert!(admin(&["dfsadmin", "-safemode", "get"]).await.text().starts_with("Safe mode is ON"));
    let err = hdfs.fails(&["-mkdir", "/x"], 1).await;
    assert!(err.starts_with("mkdir: ") && err.contains("safe mode"), "{err}");
    assert!(admin(&["dfsadmin", "-safemode", "leave"]).await.text().starts_with("Safe mode is OFF"));
    assert!(admin(&["dfsadmin", "-safemode", "wait"]).await.text().starts_with("Safe mode is OFF"));
    assert_eq!(admin(&["dfsadmin", "-nope"]).await.code, 255);

    assert_eq!(admin(&["getconf", "-namenodes"]).await.text(), "127.0.0.1\n");
    let addr = cluster.namenode_url().trim_start_matches("http://").to_string();
    assert_eq!(admin(&["getconf", "-nnRpcAddresses"]).await.text(), format!("{addr}\n"));
    assert!(admin(&["version"]).await.text().starts_with("hdfs-rs "));

    // fsck in Hadoop's single dashes, exit 1 when CORRUPT: the only replica's datanode is gone.
    hdfs.put(&["-put", "-", "/lost"], b"bytes nobody can reach").await;
    let healthy = admin(&["fsck", "/", "-files", "-blocks", "-locations"]).await;
    assert_eq!(healthy.code, 0);
    assert!(healthy.text().contains("/lost 22 bytes") && healthy.text().contains("live_repl=1"), "{}", healthy.text());
    cluster.stop_datanode(0).await;
    cluster.restart_namenode(true).await.unwrap();
    let corrupt = admin(&["fsck", "/", "-files", "-blocks", "-locations"]).await;
    assert_eq!(corrupt.code, 1, "{}", corrupt.stderr);
    assert!(corrupt.text().contains("is CORRUPT"), "{}", corrupt.text());
}

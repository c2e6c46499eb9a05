//! The `hdfs` binary driven as a subprocess against an in-process cluster: what a person or a
//! script sees (stdout, stderr, exit status).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use hdfs_tests::MiniCluster;

struct Hdfs {
    namenode: String,
}

impl Hdfs {
    /// Runs `hdfs ARGS` with `stdin` as its input, off the async runtime.
    async fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hdfs"));
        cmd.args(args)
            .env("HDFS_NAMENODE", &self.namenode)
            .env_remove("RUST_LOG")
            .env_remove("HADOOP_CONF_DIR")
            .env_remove("HADOOP_HOME");
        let input = stdin.to_vec();
        tokio::task::spawn_blocking(move || {
            let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
            child.stdin.take().unwrap().write_all(&input).unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap()
    }

    async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, b"").await;
        assert!(out.status.success(), "hdfs {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must fail; returns its one-line stderr.
    async fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args, b"").await;
        assert!(!out.status.success(), "hdfs {args:?} should have failed");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "one line on stderr: {err:?}");
        err
    }
}

fn random_file(dir: &Path, name: &str, len: usize) -> (String, Vec<u8>) {
    let mut data = vec![0u8; len];
    fastrand::Rng::with_seed(len as u64).fill(&mut data);
    let path = dir.join(name);
    std::fs::write(&path, &data).unwrap();
    (path.to_str().unwrap().to_string(), data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_ls_rm_through_the_binary() {
    let cluster = MiniCluster::start(3).await.unwrap();
    let hdfs = Hdfs { namenode: cluster.namenode_url() };
    let tmp = tempfile::tempdir().unwrap();
    let (local, data) = random_file(tmp.path(), "data.bin", 2 * (1 << 20) + 99);

    // put: into a new path, into a directory, and refused onto an existing file without -f.
    hdfs.ok(&["mkdir", "-p", "/in"]).await;
    let out = hdfs.run(&["put", "--block-size", "1MiB", &local, "/in/copy.bin"], b"").await;
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "no progress bar when stderr is not a terminal: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    hdfs.ok(&["put", &local, "/in"]).await;
    let err = hdfs.fails(&["put", &local, "/in/copy.bin"]).await;
    assert_eq!(err.trim(), "hdfs: put: /in/copy.bin: already exists (use -f to overwrite)");
    hdfs.ok(&["put", "-f", "-r", "2", &local, "/in/copy.bin"]).await;

    // get: to a file, refused over an existing one without -f, and to stdout.
    let back = tmp.path().join("back.bin");
    let back_s = back.to_str().unwrap();
    hdfs.ok(&["get", "/in/copy.bin", back_s]).await;
    assert!(std::fs::read(&back).unwrap() == data);
    let err = hdfs.fails(&["get", "/in/data.bin", back_s]).await;
    assert!(err.contains("already exists (use -f to overwrite)"), "{err}");
    hdfs.ok(&["get", "-f", "/in/data.bin", back_s]).await;
    assert!(std::fs::read(&back).unwrap() == data);
    let out = hdfs.run(&["get", "/in/data.bin", "-"], b"").await;
    assert!(out.status.success() && out.stdout == data);
    let err = hdfs.fails(&["get", "/in/missing", tmp.path().join("m").to_str().unwrap()]).await;
    assert_eq!(err.trim(), "hdfs: get: /in/missing: no such file or directory");
    assert!(!tmp.path().join("m").exists(), "a failed get leaves no file");

    // stdin to put, cat to stdout.
    let out = hdfs.run(&["put", "-", "/in/stdin.txt"], b"from stdin\n").await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(hdfs.ok(&["cat", "/in/stdin.txt"]).await, "from stdin\n");

    // ls: plain, JSON, recursive; Hadoop's spelling works too.
    let ls = hdfs.ok(&["ls", "/in"]).await;
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines.len(), 3, "{ls}");
    assert!(
        lines[0].ends_with("/in/copy.bin") && lines[0].contains(" 2 ") && lines[0].contains(&data.len().to_string()),
        "{ls}"
    );
    let json: serde_json::Value = serde_json::from_str(&hdfs.ok(&["ls", "--json", "/in"]).await).unwrap();
    assert_eq!(json[1]["path"], "/in/data.bin");
    assert_eq!(json[1]["length"], data.len() as u64);
    assert_eq!(json[1]["type"], "file");
    assert_eq!(hdfs.ok(&["ls", "-R", "/"]).await.lines().count(), 4);
    // Hadoop's spelling answers in Hadoop's format (client/tests/dfs.rs has the details).
    let hadoop = hdfs.ok(&["dfs", "-ls", "/in"]).await;
    assert!(
        hadoop.starts_with("Found 3 items\n") && hadoop.lines().nth(1).unwrap().ends_with(" /in/copy.bin"),
        "{hadoop}"
    );
    let stat: serde_json::Value = serde_json::from_str(&hdfs.ok(&["stat", "--json", "/in/copy.bin"]).await).unwrap();
    assert_eq!(stat["replication"], 2);
    assert_eq!(stat["block_size"], 1 << 20);

    // Sizes for people, as `hdfs dfs -ls -h`.
    let human = hdfs.ok(&["ls", "-h", "/in/data.bin"]).await;
    assert!(human.contains("2.0 MiB"), "{human}");
    assert!(hdfs.ok(&["du", "-s", "-h", "/in"]).await.contains("MiB"));

    // du and mv.
    let du = hdfs.ok(&["du", "-s", "/in"]).await;
    let total = 2 * data.len() + 11;
    assert!(du.split_whitespace().next() == Some(&total.to_string()), "{du}");
    hdfs.ok(&["mkdir", "/out"]).await;
    hdfs.ok(&["mv", "/in/stdin.txt", "/out"]).await;
    assert_eq!(hdfs.ok(&["cat", "/out/stdin.txt"]).await, "from stdin\n");

    // rm: a directory needs -r; then everything is gone.
    let err = hdfs.fails(&["rm", "/in"]).await;
    assert!(err.contains("is a directory (use -r"), "{err}");
    hdfs.ok(&["rm", "-r", "/in", "/out"]).await;
    assert_eq!(hdfs.ok(&["ls", "/"]).await, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_line_and_a_failure_status() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let hdfs = Hdfs { namenode: cluster.namenode_url() };
    assert!(hdfs.fails(&["ls", "no/slash"]).await.contains("must be absolute"));
    assert!(hdfs.fails(&["mkdir", "/a/../b"]).await.contains("'..'"));
    assert!(hdfs.fails(&["put", "-r", "0", "/etc/hostname", "/x"]).await.contains("replication 0 is out of range"));
    assert!(
        hdfs.fails(&["put", "-b", "64k", "/etc/hostname", "/x"]).await.contains("block size 65536 is out of range")
    );
    assert!(hdfs.fails(&["put", "/no/such/local/file", "/x"]).await.contains("/no/such/local/file: cannot open"));
    assert!(hdfs.fails(&["setrep", "600", "/x"]).await.contains("replication 600"));
    // More replicas than datanodes: the put succeeds, and says the file is under-replicated.
    let out = hdfs.run(&["put", "-r", "3", "-", "/r3"], b"abc").await;
    assert!(out.status.success());
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(warning.contains("replication 3 but only 1 live datanode"), "{warning}");
    let dead = Hdfs { namenode: "http://127.0.0.1:1".into() };
    assert!(dead.fails(&["ls", "/"]).await.contains("cannot reach the namenode"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fsck_report_safemode_and_decommission_through_the_binary() {
    let cluster = MiniCluster::start(3).await.unwrap();
    let hdfs = Hdfs { namenode: cluster.namenode_url() };
    let out = hdfs.run(&["put", "-", "/f"], b"some bytes").await;
    assert!(out.status.success());

    let fsck = hdfs.ok(&["fsck", "/"]).await;
    assert!(fsck.contains("Status: HEALTHY") && fsck.contains("is HEALTHY"), "{fsck}");
    let json: serde_json::Value = serde_json::from_str(&hdfs.ok(&["fsck", "/", "--json"]).await).unwrap();
    assert_eq!(json["status"], "HEALTHY");
    assert_eq!(json["files"], 1);
    assert_eq!(json["blocks"], 1);
    assert_eq!(json["missing_blocks"], 0);
    let detail = hdfs.ok(&["fsck", "/", "--files", "--blocks", "--locations"]).await;
    assert!(detail.contains("/f 10 bytes") && detail.contains("live_repl=3"), "{detail}");

    let report: serde_json::Value = serde_json::from_str(&hdfs.ok(&["report", "--json"]).await).unwrap();
    let nodes = report["datanodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    assert!(nodes.iter().all(|n| n["state"] == "live" && n["capacity"].as_u64() > Some(0)));
    assert!(hdfs.ok(&["report"]).await.contains("Datanodes: 3 live or stale, 0 dead"));

    assert!(hdfs.ok(&["safemode", "enter"]).await.contains("Safe mode is ON"));
    let err = hdfs.fails(&["mkdir", "/x"]).await;
    assert!(err.contains("safe mode"), "{err}");
    assert!(hdfs.ok(&["safemode", "leave"]).await.contains("OFF"));
    assert!(hdfs.ok(&["safemode", "wait"]).await.contains("OFF"));
    hdfs.ok(&["mkdir", "/x"]).await;

    // setrep above the live datanodes: done, with put's warning; a wait for it is refused.
    let out = hdfs.run(&["setrep", "5", "/f"], b"").await;
    assert!(out.status.success());
    let warning = String::from_utf8(out.stderr).unwrap();
    assert!(warning.contains("warning: replication 5 but only 3 live datanode(s)"), "{warning}");
    assert!(hdfs.run(&["--quiet", "setrep", "4", "/f"], b"").await.stderr.is_empty());
    let err = hdfs.fails(&["setrep", "-w", "5", "/f"]).await;
    assert!(err.contains("replication 5 set, but -w would never end: only 3 live"), "{err}");
    hdfs.ok(&["setrep", "-w", "3", "/f"]).await;

    // Hints name real flags: mkdir's -p; put has none, so it says what to run.
    assert!(hdfs.fails(&["mkdir", "/no/such"]).await.contains("parent directory does not exist (use -p to create it)"));
    let err = String::from_utf8(hdfs.run(&["put", "-", "/no/such"], b"x").await.stderr).unwrap();
    assert!(err.contains("/no/such: parent directory does not exist (create it first: hdfs mkdir -p)"), "{err}");
    // Into a directory that does not exist: refused, rather than a file named like the directory.
    let err = hdfs.fails(&["put", "-", "/missing/"]).await;
    assert!(err.contains("/missing/: no such directory (create it first: hdfs mkdir -p)"), "{err}");
    assert!(hdfs.fails(&["stat", "/missing"]).await.contains("no such file"));

    let addr = cluster.datanode_addr(0).unwrap().to_string();
    assert!(hdfs.ok(&["decommission", &addr]).await.contains("Decommissioning"));
    let err = hdfs.fails(&["decommission", "no-such-node:1"]).await;
    assert!(err.contains("not registered"), "{err}");
    hdfs.ok(&["recommission", &addr]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namenode_stuck_in_safe_mode_says_why_lists_the_missing_blocks_and_can_be_left() {
    // One datanode at replication 1: stopping it and restarting the namenode leaves the only
    // block unreported, so safe mode cannot end by itself.
    let mut cluster = MiniCluster::start(1).await.unwrap();
    let hdfs = Hdfs { namenode: cluster.namenode_url() };
    assert!(hdfs.run(&["put", "-", "/lost"], b"bytes nobody can reach").await.status.success());
    cluster.stop_datanode(0).await;
    cluster.restart_namenode(true).await.unwrap();

    let status = hdfs.ok(&["safemode", "get"]).await;
    assert_eq!(
        status.trim_end(),
        "Safe mode is ON. The reported blocks 0 needs additional 1 blocks to reach the threshold 0.9990 of total \
         blocks 1. The number of live datanodes 0 has reached the minimum number 0. Safe mode will be turned off \
         automatically once the thresholds have been reached."
    );
    // A refused mutation gives the same reason.
    let err = hdfs.fails(&["mkdir", "/x"]).await;
    assert!(err.contains("namenode is in safe mode. The reported blocks 0 needs additional 1"), "{err}");

    // `wait` does not block forever in silence: it says why it waits, and gives up on a timeout.
    let out = hdfs.run(&["safemode", "wait", "--timeout", "1s"], b"").await;
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("hdfs: safemode: waiting: Safe mode is ON. The reported blocks 0"), "{err}");
    assert!(err.contains("still in safe mode after 1s: Safe mode is ON."), "{err}");
    let err = hdfs.fails(&["--quiet", "safemode", "wait", "--timeout", "500ms"]).await;
    assert!(err.contains("still in safe mode after 500ms"), "{err}");
    assert!(hdfs.fails(&["safemode", "get", "--timeout", "1s"]).await.contains("--timeout goes with"));

    let list = hdfs.ok(&["fsck", "/", "--list-corruptfileblocks"]).await;
    assert!(list.contains("The list of corrupt files under path '/' are:\nblk_"), "{list}");
    assert!(
        list.contains("\t/lost\n") && list.ends_with("The filesystem under path '/' has 1 CORRUPT files\n"),
        "{list}"
    );

    // Leaving knowingly: the operator is told what stays unreadable.
    let left = hdfs.ok(&["safemode", "leave"]).await;
    assert!(left.starts_with("Safe mode is OFF. 1 of 1 blocks have no reported replica"), "{left}");
    hdfs.ok(&["mkdir", "/x"]).await;

    // The datanode comes back: nothing is missing any more.
    cluster.restart_datanode(0).await.unwrap();
    cluster.wait_replicas("/lost", 1).await.unwrap();
    let list = hdfs.ok(&["fsck", "/", "--list-corruptfileblocks"]).await;
    assert!(list.ends_with("has 0 CORRUPT files\n"), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haadmin_shows_the_namenode_group_in_hadoop_spellings() {
    let opts = hdfs_tests::ClusterOptions { namenodes: 3, datanodes: 1, replication: 1, ..Default::default() };
    let cluster = MiniCluster::with_options(opts).await.unwrap();
    let hdfs = Hdfs { namenode: cluster.namenode_url() };
    let leader = cluster.wait_leader(None).await.unwrap();

    let states = hdfs.ok(&["haadmin", "-getAllServiceState"]).await;
    let words: Vec<&str> = states.lines().map(|l| l.split_whitespace().last().unwrap()).collect();
    assert_eq!(words.iter().filter(|w| **w == "active").count(), 1, "{states}");
    assert_eq!(words.iter().filter(|w| **w == "standby").count(), 2, "{states}");
    let leader_id = (leader + 1).to_string();
    assert_eq!(hdfs.ok(&["haadmin", "-getServiceState", &leader_id]).await.trim(), "active");
    assert_eq!(hdfs.ok(&["haadmin", "-getServiceState", &format!("nn{leader_id}")]).await.trim(), "active");

    let report: serde_json::Value = serde_json::from_str(&hdfs.ok(&["haadmin", "-report", "--json"]).await).unwrap();
    let members = report.as_array().unwrap();
    assert_eq!(members.len(), 3);
    assert!(members.iter().all(|m| m["term"].as_u64() >= Some(1) && m["applied_index"].as_u64() >= Some(1)));
    assert!(hdfs.ok(&["report"]).await.contains(&format!("leader {leader_id}")));

    assert!(hdfs.fails(&["haadmin", "-getServiceState", "x"]).await.contains("not a namenode id"));
    assert!(hdfs.fails(&["haadmin"]).await.contains("usage: hdfs haadmin"));
    // One member down: it is named unreachable, the others still answer.
    let mut cluster = cluster;
    let follower = (leader + 1) % 3;
    cluster.stop_namenode(follower, false).await;
    let states = hdfs.ok(&["haadmin", "-getAllServiceState"]).await;
    assert!(states.contains("unreachable"), "{states}");
    assert!(states.contains("active"), "{states}");
}

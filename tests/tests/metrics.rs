//! Prometheus metrics at `/metrics` on the namenode and the datanodes: scraped with curl, parsed
//! by prometheus_client's own text parser (`tests/clients/parse_metrics.py`, from
//! `tests/setup-clients.sh`), and checked against what `hdfs report --json` (the datanode
//! report) and fsck say, before and after a datanode dies.

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{MIB, get, put, random_bytes, wait_healthy};
use hdfs_client::Client;
use hdfs_tests::clients::{python, script};
use hdfs_tests::{ClusterOptions, MiniCluster, SETTLE_TIMEOUT, wait_until};

/// Short, but not so short that a busy CI machine makes a healthy node miss it.
const DEAD_AFTER: Duration = Duration::from_secs(3);

/// One scraped page, as the parser read it.
struct Scrape {
    /// Family name → type (`counter`, `gauge`, `histogram`); a counter's family name is without
    /// `_total`, as the parser gives it.
    types: BTreeMap<String, String>,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Scrape {
    /// The sample named `name` whose labels include `labels`.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.get(*k).is_some_and(|x| x == v)))
            .map(|s| s.2)
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
    }

    /// A whole-number sample (counts and bytes are exact in an f64 well past any size here).
    fn int(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let v = self.value(name, labels);
        assert!(v >= 0.0 && v.fract() == 0.0, "{name} {labels:?} = {v}");
        v as u64
    }

    fn kind(&self, family: &str) -> &str {
        self.types.get(family).map_or("(none)", String::as_str)
    }
}

/// A page as fetched, before parsing.
struct Page {
    _dir: tempfile::TempDir,
    body: PathBuf,
}

/// `curl`s `{base}/metrics`, checking the status and the content type.
fn fetch_blocking(base: &str) -> Page {
    let dir = tempfile::tempdir().unwrap();
    let (headers, body) = (dir.path().join("headers"), dir.path().join("body"));
    let out = Command::new("curl")
        .args(["-sS", "-w", "%{http_code}", "-D", headers.to_str().unwrap(), "-o", body.to_str().unwrap()])
        .arg(format!("{base}/metrics"))
        .output()
        .expect("curl runs (tests/setup-clients.sh installs it)");
    assert!(out.status.success(), "curl {base}/metrics: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "{base}/metrics");
    let headers = std::fs::read_to_string(headers).unwrap();
    assert!(
        headers.lines().any(|l| l.to_ascii_lowercase().starts_with("content-type: text/plain; version=0.0.4")),
        "{base}/metrics is not Prometheus text: {headers}"
    );
    Page { _dir: dir, body }
}

/// Parses a page with prometheus_client's parser.
fn parse_blocking(page: &Page) -> Scrape {
    let script = script("parse_metrics.py");
    let out = Command::new(python()).arg(script).arg(&page.body).output().unwrap();
    assert!(
        out.status.success(),
        "parse_metrics.py rejected the page: {}\n--- page\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&page.body).unwrap_or_default()
    );
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let types = parsed["families"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, f)| (name.clone(), f["type"].as_str().unwrap().to_string()))
        .collect();
    let samples = parsed["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels = s["labels"].as_object().unwrap();
            let labels = labels.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect();
            (s["name"].as_str().unwrap().to_string(), labels, s["value"].as_f64().unwrap())
        })
        .collect();
    Scrape { types, samples }
}

async fn fetch(base: &str) -> Page {
    let base = base.to_string();
    tokio::task::spawn_blocking(move || fetch_blocking(&base)).await.unwrap()
}

async fn parse(page: Page) -> Scrape {
    tokio::task::spawn_blocking(move || parse_blocking(&page)).await.unwrap()
}

async fn scrape(base: &str) -> Scrape {
    parse(fetch(base).await).await
}

/// Retries `check` until it passes (numbers read from two places agree once no heartbeat lands
/// between the two reads); on timeout, fails with its last complaint.
async fn settle<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let last = std::sync::Mutex::new((None, String::new()));
    let result = wait_until(what, SETTLE_TIMEOUT, || {
        let attempt = check();
        let last = &last;
        async move {
            let outcome = attempt.await;
            let mut l = last.lock().unwrap();
            match outcome {
                Ok(v) => {
                    l.0 = Some(v);
                    true
                }
                Err(e) => {
                    l.1 = e;
                    false
                }
            }
        }
    })
    .await;
    let (value, complaint) = last.into_inner().unwrap();
    match (result, value) {
        (Ok(()), Some(v)) => v,
        (r, _) => panic!("{r:?}: {complaint}"),
    }
}

/// Collects the differences between what the metrics say and what was expected.
#[derive(Default)]
struct Diff(Vec<String>);

impl Diff {
    fn eq(&mut self, what: &str, got: u64, want: u64) {
        if got != want {
            self.0.push(format!("{what}: metrics say {got}, expected {want}"));
        }
    }

    fn result<T>(self, v: T) -> Result<T, String> {
        if self.0.is_empty() { Ok(v) } else { Err(self.0.join("; ")) }
    }
}

/// The namenode's page against fsck of `/` and the datanode report. The report and the page are
/// read back to back: free space changes with every heartbeat on a busy disk.
async fn namenode_agrees(client: &Client, nn: &str) -> Result<Scrape, String> {
    let report = client.datanode_report().await.map_err(|e| e.to_string())?;
    let page = fetch(nn).await;
    let fsck = client.fsck("/", false).await.map_err(|e| e.to_string())?;
    let m = parse(page).await;
    let mut d = Diff::default();
    d.eq("files", m.int("hdfs_namenode_files", &[]), fsck.files);
    d.eq("directories", m.int("hdfs_namenode_directories", &[]), fsck.directories);
    d.eq("blocks", m.int("hdfs_namenode_blocks", &[]), fsck.blocks);
    d.eq("missing", m.int("hdfs_namenode_missing_blocks", &[]), fsck.missing_blocks);
    d.eq("corrupt", m.int("hdfs_namenode_corrupt_blocks", &[]), fsck.corrupt_blocks);
    // HDFS counts missing and corrupt blocks among the under-replicated; fsck lists them apart.
    let under = m.int("hdfs_namenode_under_replicated_blocks", &[]);
    d.eq("under-replicated", under, fsck.under_replicated_blocks + fsck.missing_blocks + fsck.corrupt_blocks);
    d.eq("replication queue", m.int("hdfs_namenode_replication_queue_blocks", &[]), under);
    for state in ["live", "stale", "dead"] {
        let n = report.iter().filter(|r| r.state == state).count() as u64;
        d.eq(&format!("{state} datanodes"), m.int("hdfs_namenode_datanodes", &[("state", state)]), n);
    }
    for state in ["decommissioning", "decommissioned"] {
        let n = report.iter().filter(|r| r.admin_state == state).count() as u64;
        d.eq(&format!("{state} datanodes"), m.int("hdfs_namenode_datanodes", &[("state", state)]), n);
    }
    let up: Vec<_> = report.iter().filter(|r| r.state != "dead").collect();
    d.eq("capacity", m.int("hdfs_namenode_capacity_total_bytes", &[]), up.iter().map(|r| r.capacity).sum());
    d.eq("used", m.int("hdfs_namenode_capacity_used_bytes", &[]), up.iter().map(|r| r.used).sum());
    d.eq("remaining", m.int("hdfs_namenode_capacity_remaining_bytes", &[]), up.iter().map(|r| r.remaining).sum());
    d.eq("safe mode", m.int("hdfs_namenode_safe_mode", &[]), 0);
    d.result(m)
}

/// Each running datanode's page against its line of the datanode report (all but free space,
/// which the node reads anew for each heartbeat and each page).
async fn datanodes_agree(cluster: &MiniCluster, client: &Client) -> Result<Vec<Scrape>, String> {
    let report = client.datanode_report().await.map_err(|e| e.to_string())?;
    let mut d = Diff::default();
    let mut pages = Vec::new();
    for i in 0..cluster.options().datanodes {
        let (Some(http), Some(addr)) = (cluster.datanode_http(i), cluster.datanode_addr(i)) else { continue };
        let m = scrape(&http).await;
        let r = report.iter().find(|r| r.address == addr.to_string()).ok_or(format!("{addr} not in the report"))?;
        d.eq(&format!("datanode {i} capacity"), m.int("hdfs_datanode_capacity_total_bytes", &[]), r.capacity);
        d.eq(&format!("datanode {i} used"), m.int("hdfs_datanode_capacity_used_bytes", &[]), r.used);
        d.eq(&format!("datanode {i} blocks"), m.int("hdfs_datanode_blocks", &[]), r.blocks);
        pages.push(m);
    }
    d.result(pages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_agree_with_report_and_fsck_and_follow_a_dead_datanode() {
    let opts = ClusterOptions { datanodes: 3, replication: 3, dead_after: DEAD_AFTER, ..Default::default() };
    let mut cluster = MiniCluster::with_options(opts).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let nn = cluster.namenode_http(0).unwrap();
    let before =
        settle("each datanode's metrics to agree with the report", || datanodes_agree(&cluster, &client)).await;

    // 2.5 blocks, one block, a small one: five blocks, each on all three nodes.
    let sizes = [2 * MIB + MIB / 2, MIB, 100_000];
    let mut files = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let (path, data) = (format!("/m/f{i}"), random_bytes(n, i as u64));
        put(&client, &path, &data, 3).await;
        files.push((path, data));
    }
    let total: u64 = sizes.iter().map(|&n| n as u64).sum();
    wait_healthy(&client).await;

    let m = settle("the namenode's metrics to agree with fsck and the report", || namenode_agrees(&client, &nn)).await;
    assert_eq!(m.int("hdfs_namenode_files", &[]), 3);
    assert_eq!(m.int("hdfs_namenode_blocks", &[]), 5);
    assert_eq!(m.int("hdfs_namenode_datanodes", &[("state", "live")]), 3);
    assert!(m.int("hdfs_namenode_capacity_total_bytes", &[]) > 0);
    for (family, kind) in [
        ("hdfs_namenode_files", "gauge"),
        ("hdfs_namenode_datanodes", "gauge"),
        ("hdfs_namenode_rpc_calls", "counter"),
        ("hdfs_namenode_rpc_seconds", "histogram"),
        ("hdfs_namenode_editlog_syncs", "counter"),
        ("hdfs_namenode_editlog_sync_seconds", "histogram"),
    ] {
        assert_eq!(m.kind(family), kind, "{family}");
    }
    // Consensus: a single namenode leads, and has applied what it logged.
    assert_eq!(m.int("hdfs_namenode_raft_leader", &[]), 1);
    assert!(m.int("hdfs_namenode_raft_term", &[]) >= 1);
    let (last, applied) =
        (m.int("hdfs_namenode_raft_last_log_index", &[]), m.int("hdfs_namenode_raft_applied_index", &[]));
    assert!(applied >= 1 && applied <= last, "applied {applied}, last {last}");
    assert_eq!(m.int("hdfs_namenode_raft_apply_lag", &[]), last - applied);
    // Every mutation was synced to the edit log, and timed.
    let syncs = m.int("hdfs_namenode_editlog_syncs_total", &[]);
    assert!(syncs >= 1 && m.int("hdfs_namenode_editlog_sync_seconds_count", &[]) >= 1);
    assert!(m.int("hdfs_namenode_editlog_written_bytes_total", &[]) > 0);
    // The calls the writes made, by method.
    let ok = |method| [("method", method), ("code", "OK")];
    assert!(m.int("hdfs_namenode_rpc_calls_total", &ok("Create")) >= 3);
    assert!(m.int("hdfs_namenode_rpc_calls_total", &ok("AddBlock")) >= 5);
    assert!(m.int("hdfs_namenode_rpc_calls_total", &ok("Complete")) >= 3);
    assert!(m.int("hdfs_namenode_rpc_calls_total", &ok("Heartbeat")) >= 1);
    assert!(m.int("hdfs_namenode_rpc_seconds_count", &[("method", "Create")]) >= 3);
    assert!(m.int("hdfs_namenode_rpc_seconds_bucket", &[("method", "Create"), ("le", "+Inf")]) >= 3);

    // Calls are counted as they are answered, refusals under their code.
    let stats = m.get("hdfs_namenode_rpc_calls_total", &ok("GetFileInfo")).unwrap_or(0.0) as u64;
    for _ in 0..5 {
        client.stat("/m/f0").await.unwrap();
    }
    assert!(client.stat("/m/nothing").await.is_err());
    client.mkdirs("/m/more", true).await.unwrap();
    let m = scrape(&nn).await;
    assert!(m.int("hdfs_namenode_rpc_calls_total", &ok("GetFileInfo")) >= stats + 5);
    assert!(m.int("hdfs_namenode_rpc_calls_total", &[("method", "GetFileInfo"), ("code", "NOT_FOUND")]) >= 1);
    assert!(m.int("hdfs_namenode_editlog_syncs_total", &[]) > syncs, "mkdirs was synced");

    // The datanodes: every node holds every block, so each wrote at least every byte.
    let after = settle("each datanode's metrics to agree with the report", || datanodes_agree(&cluster, &client)).await;
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        let written = a.int("hdfs_datanode_written_bytes_total", &[]) - b.int("hdfs_datanode_written_bytes_total", &[]);
        assert!(written >= total, "datanode {i} wrote {written} of {total} bytes");
        let blocks =
            a.int("hdfs_datanode_blocks_written_total", &[]) - b.int("hdfs_datanode_blocks_written_total", &[]);
        assert!(blocks >= 5, "datanode {i} finalized {blocks} replicas");
        assert_eq!(a.int("hdfs_datanode_blocks", &[]), 5);
        assert_eq!(a.int("hdfs_datanode_capacity_used_bytes", &[]), total);
        assert!(
            a.int("hdfs_datanode_capacity_remaining_bytes", &[]) <= a.int("hdfs_datanode_capacity_total_bytes", &[])
        );
        assert_eq!(a.kind("hdfs_datanode_written_bytes"), "counter");
        assert_eq!(a.kind("hdfs_datanode_pipeline_failures"), "counter");
        assert_eq!(a.kind("hdfs_datanode_blocks"), "gauge");
    }
    // Reading every file back sends every byte from some datanode.
    let read = |pages: &[Scrape]| pages.iter().map(|p| p.int("hdfs_datanode_read_bytes_total", &[])).sum::<u64>();
    let read_before = read(&after);
    for (path, data) in &files {
        assert!(get(&client, path).await == *data, "{path}");
    }
    let pages = datanodes_agree(&cluster, &client).await.unwrap_or_else(|e| panic!("{e}"));
    let sent = read(&pages) - read_before;
    assert!(sent >= total, "datanodes sent {sent} bytes for {total} read");

    // A datanode dies: the gauges follow the namenode's view of it.
    cluster.kill_datanode(2).await;
    settle("the dead datanode to show in the metrics", || async {
        let m = scrape(&nn).await;
        let mut d = Diff::default();
        d.eq("dead datanodes", m.int("hdfs_namenode_datanodes", &[("state", "dead")]), 1);
        d.eq("live datanodes", m.int("hdfs_namenode_datanodes", &[("state", "live")]), 2);
        d.result(())
    })
    .await;
    // Two nodes left for replication 3: every block stays under-replicated, none missing.
    let m = settle("the metrics to agree with fsck and the report after the death", || async {
        let m = namenode_agrees(&client, &nn).await?;
        let mut d = Diff::default();
        d.eq("under-replicated", m.int("hdfs_namenode_under_replicated_blocks", &[]), 5);
        d.result(m)
    })
    .await;
    assert_eq!(m.int("hdfs_namenode_missing_blocks", &[]), 0);
    let report = client.datanode_report().await.unwrap();
    let capacity: u64 = report.iter().filter(|r| r.state != "dead").map(|r| r.capacity).sum();
    assert_eq!(m.int("hdfs_namenode_capacity_total_bytes", &[]), capacity, "a dead node's capacity is not counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scanner_counts_what_it_verifies_and_a_corrupt_replica() {
    let opts = ClusterOptions {
        datanodes: 1,
        replication: 1,
        scan_bytes_per_sec: 256 * MIB as u64,
        scan_period: Duration::from_millis(300),
        ..Default::default()
    };
    let cluster = MiniCluster::with_options(opts).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let nn = cluster.namenode_http(0).unwrap();
    let dn = cluster.datanode_http(0).unwrap();
    let data = random_bytes(300_000, 9);
    put(&client, "/s/f", &data, 1).await;
    wait_until("a scanner pass over the replica", SETTLE_TIMEOUT, || async {
        scrape(&dn).await.int("hdfs_datanode_scanned_bytes_total", &[]) >= data.len() as u64
    })
    .await
    .unwrap();
    assert_eq!(scrape(&dn).await.int("hdfs_datanode_scanner_errors_total", &[]), 0);

    // Damage the only replica: the scanner finds it, and the block is corrupt (no good replica).
    let block = cluster.block_locations("/s/f").await.unwrap()[0].block.unwrap().block_id;
    let path = cluster.replica_path(0, block);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[1000] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    wait_until("the scanner to count the corrupt replica", SETTLE_TIMEOUT, || async {
        scrape(&dn).await.int("hdfs_datanode_scanner_errors_total", &[]) >= 1
    })
    .await
    .unwrap();
    let m = settle("the corrupt block to show in the metrics as in fsck", || async {
        let m = namenode_agrees(&client, &nn).await?;
        let mut d = Diff::default();
        d.eq("corrupt blocks", m.int("hdfs_namenode_corrupt_blocks", &[]), 1);
        d.result(m)
    })
    .await;
    assert_eq!(m.int("hdfs_namenode_missing_blocks", &[]), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_member_of_a_group_says_its_role_and_the_leader_how_far_the_others_are() {
    let opts = ClusterOptions { namenodes: 3, datanodes: 1, replication: 1, ..Default::default() };
    let cluster = MiniCluster::with_options(opts).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    client.mkdirs("/g", true).await.unwrap();
    // Followers learn the term and catch up through heartbeats: wait for every page to agree.
    let leader = settle("every member's page to show the group", || async {
        let pages = [0, 1, 2].map(|i| cluster.namenode_http(i).unwrap());
        let mut m = Vec::new();
        for p in &pages {
            m.push(scrape(p).await);
        }
        let leaders: Vec<usize> = (0..3).filter(|&i| m[i].int("hdfs_namenode_raft_leader", &[]) == 1).collect();
        let [leader] = leaders[..] else { return Err(format!("members {leaders:?} lead")) };
        let mut d = Diff::default();
        let term = m[leader].int("hdfs_namenode_raft_term", &[]);
        for (i, m) in m.iter().enumerate() {
            d.eq(&format!("member {i} term"), m.int("hdfs_namenode_raft_term", &[]), term);
            d.eq(&format!("member {i} apply lag"), m.int("hdfs_namenode_raft_apply_lag", &[]), 0);
            let lags: Vec<_> = m.samples.iter().filter(|s| s.0 == "hdfs_namenode_raft_follower_lag").collect();
            d.eq(&format!("member {i} follower lags"), lags.len() as u64, if i == leader { 2 } else { 0 });
            for (_, labels, lag) in lags {
                d.eq(&format!("lag of member {labels:?}"), *lag as u64, 0);
            }
        }
        d.result(leader)
    })
    .await;
    assert_eq!(cluster.leader(), Some(leader));
    // Calls are counted where they are answered: the client's on the leader, the leader's
    // AppendEntries on each follower, which syncs what it appends to its own log.
    let m = scrape(&cluster.namenode_http(leader).unwrap()).await;
    assert!(m.int("hdfs_namenode_rpc_calls_total", &[("method", "Mkdirs"), ("code", "OK")]) >= 1);
    let follower = (leader + 1) % 3;
    let f = scrape(&cluster.namenode_http(follower).unwrap()).await;
    assert!(f.int("hdfs_namenode_rpc_calls_total", &[("method", "AppendEntries"), ("code", "OK")]) >= 1);
    assert!(f.int("hdfs_namenode_editlog_syncs_total", &[]) >= 1);
}

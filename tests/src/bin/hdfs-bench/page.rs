//! The `page` phase: the namenode's status page with a thousand datanodes.
//!
//! A namenode runs in this process, as the test harness runs one (`hdfs_namenode::serve` with
//! its HTTP port). `--page-datanodes` fake datanodes register over gRPC, each with its own
//! address and storage, and heartbeat every 3 s (the namenode's interval, spread evenly, so the
//! namenode answers a third of them every second while the pages are fetched), so every one is
//! live. Then `/`, `/api/datanodes` and `/api/overview` are each fetched `--page-requests` times
//! in a row over loopback by a raw HTTP/1.1 client (a new connection each: what a browser's
//! first visit costs), after a few unmeasured ones; the last page must list every datanode as
//! live. A fetch is timed from connecting to the last byte of the answer.
//!
//! Target (the status page issue): the page renders in < 50 ms with 1,000 datanodes, held to
//! the 99th percentile.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdfs_proto::auth::MemberChannel;
use hdfs_proto::pb::namenode::{self as pb, datanode_protocol_client::DatanodeProtocolClient};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::options::Options;
use crate::report::{Row, Target, Unit};

/// The fake datanodes' heartbeat interval: the namenode's default.
const HEARTBEAT: Duration = Duration::from_secs(3);
/// gRPC connections the fake datanodes share.
const CHANNELS: usize = 8;
/// Unmeasured fetches of each page first.
const WARM_UP: usize = 5;
/// What the target asks of the page.
const TARGET_MS: f64 = 50.0;

/// Latencies of one page's fetches.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// Bytes of the (last) answer.
    pub bytes: usize,
}

impl Latency {
    fn of(mut all: Vec<Duration>, bytes: usize) -> Latency {
        all.sort_unstable();
        let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
        Latency { p50: at(0.50), p99: at(0.99), max: all[all.len() - 1], bytes }
    }

    fn note(&self, requests: usize) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            "{requests} fetches, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} KiB",
            ms(self.p50),
            ms(self.p99),
            ms(self.max),
            self.bytes / 1024
        )
    }
}

pub struct Page {
    pub datanodes: usize,
    pub requests: usize,
    pub page: Latency,
    pub api_datanodes: Latency,
    pub api_overview: Latency,
}

/// The phase's setup, as the table's heading states it.
pub fn setup(opts: &Options) -> String {
    format!(
        "1 namenode in this process, {} fake datanodes registered over gRPC and heartbeating every {}s; \
         {} fetches of each page over loopback, one at a time",
        opts.page_datanodes,
        HEARTBEAT.as_secs(),
        opts.page_requests
    )
}

pub fn run(opts: &Options, root: &Path, step: &dyn Fn(&str)) -> anyhow::Result<Page> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("start a tokio runtime")?;
    rt.block_on(measure(opts, root, step))
}

async fn measure(opts: &Options, root: &Path, step: &dyn Fn(&str)) -> anyhow::Result<Page> {
    step("page: starting a namenode in this process");
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let http = TcpListener::bind("127.0.0.1:0").await?;
    let (addr, http_addr) = (listener.local_addr()?, http.local_addr()?);
    let mut config = hdfs_namenode::Config::new(root.join("page-namenode"));
    config.advertise_addr = Some(addr.to_string());
    config.heartbeat_interval = HEARTBEAT;
    config.cluster_secret = Some(crate::cluster::secret().clone());
    config.validate().map_err(anyhow::Error::msg)?;
    let ns = Arc::new(hdfs_namenode::Namesystem::open(config).await?);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(hdfs_namenode::serve(ns.clone(), listener, Some(http), shutdown.clone()));

    let n = opts.page_datanodes;
    step(&format!("page: registering {n} fake datanodes"));
    let mut channels = Vec::new();
    for _ in 0..CHANNELS {
        let channel = hdfs_proto::grpc::endpoint(&format!("http://{addr}"))?.connect().await?;
        channels.push(DatanodeProtocolClient::new(crate::cluster::secret().member_channel(channel)));
    }
    let nodes: Vec<pb::DatanodeInfo> = (0..n).map(fake).collect();
    let mut registering = tokio::task::JoinSet::new();
    for (c, chan) in channels.iter().enumerate() {
        let (mut chan, mine) = (chan.clone(), nodes.iter().skip(c).step_by(CHANNELS).cloned().collect::<Vec<_>>());
        registering.spawn(async move {
            for info in mine {
                let storage = Some(storage(&info.datanode_id));
                chan.register(pb::RegisterRequest { datanode: Some(info), storage }).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = registering.join_next().await {
        r.context("a registering task panicked")??;
    }
    let beating = CancellationToken::new();
    for (c, chan) in channels.into_iter().enumerate() {
        let mine: Vec<String> = nodes.iter().skip(c).step_by(CHANNELS).map(|i| i.datanode_id.clone()).collect();
        tokio::spawn(heartbeats(chan, mine, beating.clone()));
    }
    let live = || ns.summary().blocks.live_datanodes;
    let deadline = Instant::now() + Duration::from_secs(60);
    while live() < n as u64 {
        if Instant::now() > deadline {
            bail!("only {} of {n} fake datanodes live after 60 s", live());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let base = format!("http://{http_addr}");
    let requests = opts.page_requests;
    step(&format!("page: {requests} fetches each of /, /api/datanodes and /api/overview"));
    let (page, last) = fetch(&format!("{base}/"), requests).await?;
    let shown = last.matches("<tr class=\"datanode\" data-state=\"live\"").count();
    if shown != n {
        bail!("the page lists {shown} live datanodes, not {n}");
    }
    let (api_datanodes, body) = fetch(&format!("{base}/api/datanodes"), requests).await?;
    let listed = serde_json::from_str::<serde_json::Value>(&body)?["datanodes"].as_array().map_or(0, Vec::len);
    if listed != n {
        bail!("/api/datanodes lists {listed} datanodes, not {n}");
    }
    let (api_overview, _) = fetch(&format!("{base}/api/overview"), requests).await?;

    beating.cancel();
    shutdown.cancel();
    server.await.context("the namenode panicked")??;
    Ok(Page { datanodes: n, requests, page, api_datanodes, api_overview })
}

/// Fetches `url` `requests` times (after [`WARM_UP`] unmeasured ones); the latencies and the
/// last answer's text.
async fn fetch(url: &str, requests: usize) -> anyhow::Result<(Latency, String)> {
    let mut all = Vec::with_capacity(requests);
    let mut last = String::new();
    for i in 0..WARM_UP + requests {
        let t = Instant::now();
        let a = hdfs_tests::http::get(url).await?;
        let took = t.elapsed();
        if a.status != 200 {
            bail!("GET {url}: {} {}", a.status, a.text());
        }
        if i >= WARM_UP {
            all.push(took);
        }
        last = a.text();
    }
    Ok((Latency::of(all, last.len()), last))
}

/// Fake datanode `i`: an address of its own on a private network (the namenode never connects
/// to a datanode; it answers heartbeats).
fn fake(i: usize) -> pb::DatanodeInfo {
    let ip = format!("10.{}.{}.{}", 1 + i / 65_536, i / 256 % 256, i % 256);
    pb::DatanodeInfo {
        datanode_id: format!("fake-datanode-{i:05}"),
        address: format!("{ip}:9866"),
        http_address: format!("{ip}:9864"),
    }
}

/// 8 TiB disks, used in varying measure.
fn storage(id: &str) -> pb::StorageReport {
    let capacity = 8u64 << 40;
    let used = (id.bytes().map(u64::from).sum::<u64>() % 90) * (capacity / 100);
    pb::StorageReport { capacity, dfs_used: used, remaining: capacity - used, active_transfers: 0 }
}

/// Heartbeats for `ids`, spread evenly over each interval.
async fn heartbeats(mut chan: DatanodeProtocolClient<MemberChannel>, ids: Vec<String>, stop: CancellationToken) {
    let gap = HEARTBEAT / ids.len().max(1) as u32;
    loop {
        for id in &ids {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(gap) => {}
            }
            let req = pb::HeartbeatRequest { datanode_id: id.clone(), storage: Some(storage(id)) };
            if let Err(e) = chan.heartbeat(req).await {
                eprintln!("hdfs-bench: fake datanode {id}: heartbeat failed: {}", e.message());
            }
        }
    }
}

impl Page {
    pub fn rows(&self) -> Vec<Row> {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let n = self.datanodes;
        vec![
            Row::new(
                "page_status_p99_ms",
                format!("status page / with {n} live datanodes: p99 of a fetch"),
                Unit::Ms,
                Some(ms(self.page.p99)),
            )
            .target(Target::Below(TARGET_MS))
            .note(self.page.note(self.requests)),
            Row::new(
                "page_api_datanodes_p99_ms",
                format!("/api/datanodes with {n} datanodes: p99 of a fetch"),
                Unit::Ms,
                Some(ms(self.api_datanodes.p99)),
            )
            .note(self.api_datanodes.note(self.requests)),
            Row::new(
                "page_api_overview_p99_ms",
                format!("/api/overview with {n} datanodes: p99 of a fetch"),
                Unit::Ms,
                Some(ms(self.api_overview.p99)),
            )
            .note(self.api_overview.note(self.requests)),
        ]
    }
}

//! The `webhdfs` phase: WebHDFS with curl against the `hdfs` command, on one cluster of real
//! processes (1 namenode, 3 datanodes), in the same run:
//!
//! 1. `hdfs put` and a cold `hdfs get` of the test file at replication 3;
//! 2. the same file through WebHDFS with curl as Hadoop documents it: a PUT `CREATE` to the
//!    namenode, then the bytes to the datanode its 307 names; a cold `OPEN` following the
//!    redirect into a local file (checked against the source);
//! 3. the peak memory of the namenode and each datanode after those, to show that a file's
//!    bytes are streamed, never held;
//! 4. the cost of Prometheus scraping: puts of the test file alternately without and with
//!    every node's `/metrics` scraped once a second, the medians compared.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdfs_proto::units::format_size;

use crate::cluster::{Binaries, Cluster};
use crate::options::Options;
use crate::procs::{peak_rss, run_watched};
use crate::raw;
use crate::report::{MIB, Row, Target, Unit, mb_s};
use crate::steps;

const REMOTE: &str = "/bench/put";
const WEB_REMOTE: &str = "/bench/web";
/// Puts of each kind (without and with scraping), alternated.
const SCRAPE_ROUNDS: usize = 2;

pub struct Web {
    size: u64,
    put: Duration,
    get: Duration,
    create: Duration,
    open: Duration,
    namenode_peak: Option<u64>,
    datanode_peaks: Vec<Option<u64>>,
    /// Puts without scraping, then with, in the order they ran.
    plain_puts: Vec<Duration>,
    scraped_puts: Vec<Duration>,
    scrapes: u64,
}

pub fn setup(opts: &Options) -> String {
    format!("{} file, 1 namenode + 3 datanodes, replication 3, curl {}", format_size(opts.size), curl_version())
}

fn curl_version() -> String {
    Command::new("curl")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_else(|| "(not found)".into())
}

pub fn run(opts: &Options, bins: Binaries, root: &Path, step: &dyn Fn(&str)) -> anyhow::Result<Web> {
    let src = root.join("web-test-file");
    step(&format!("making the {} test file", format_size(opts.size)));
    raw::make_test_file(&src, opts.size)?;
    step("starting 1 namenode and 3 datanodes");
    let cluster = Cluster::start(bins, root, 3, &[])?;
    let log = cluster.client_log();
    run_watched("hdfs mkdir", cluster.hdfs(["mkdir", "-p", "/bench"], &log)?, &log)?;
    let nn = format!("http://{}", cluster.namenode_http);
    // As the user the `hdfs` commands run as, who owns /bench.
    let user = hdfs_proto::user::current_user();

    step(&format!("hdfs put and get of {}", format_size(opts.size)));
    let t = steps::transfer(&cluster, &src, REMOTE, 3, root, false)?;

    step(&format!("WebHDFS CREATE of {} with curl (two steps)", format_size(opts.size)));
    let started = Instant::now();
    let create = format!("{nn}/webhdfs/v1{WEB_REMOTE}?op=CREATE&overwrite=true&replication=3&user.name={user}");
    let out = curl(&["-X", "PUT", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", &create])?;
    let (code, location) = out.split_once(' ').unwrap_or((&out, ""));
    if code != "307" || location.is_empty() {
        bail!("CREATE on the namenode answered {out:?}, not a 307 with a Location");
    }
    let src_arg = src.to_str().context("test file path is not UTF-8")?;
    let code = curl(&["-X", "PUT", "-H", "Expect:", "-T", src_arg, "-o", "/dev/null", "-w", "%{http_code}", location])?;
    if code != "201" {
        bail!("CREATE on the datanode answered {code}, not 201");
    }
    let create = started.elapsed();
    steps::check_replicas(&cluster, WEB_REMOTE, 3)?;

    step(&format!("WebHDFS OPEN of {} with curl, cold", format_size(opts.size)));
    steps::evict_datanodes(&cluster)?;
    let got = root.join("web-open-output");
    let got_arg = got.to_str().context("output path is not UTF-8")?;
    let open_url = format!("{nn}/webhdfs/v1{WEB_REMOTE}?op=OPEN&user.name={user}");
    let started = Instant::now();
    let code = curl(&["-L", "-o", got_arg, "-w", "%{http_code}", &open_url])?;
    let open = started.elapsed();
    if code != "200" || !raw::same_contents(&src, &got)? {
        bail!("OPEN answered {code}, or {} differs from the source", got.display());
    }
    std::fs::remove_file(&got).with_context(|| format!("remove {}", got.display()))?;
    let namenode_peak = cluster.namenode_pid().and_then(peak_rss);
    let datanode_peaks = cluster.datanodes.iter().map(|d| d.pid().and_then(peak_rss)).collect();

    step(&format!("{SCRAPE_ROUNDS} puts without and {SCRAPE_ROUNDS} with every /metrics scraped each second"));
    let targets: Vec<String> = std::iter::once(cluster.namenode_http.clone())
        .chain(cluster.datanodes.iter().map(|d| d.http.clone()))
        .collect();
    let (mut plain_puts, mut scraped_puts, mut scrapes) = (Vec::new(), Vec::new(), 0);
    for round in 0..SCRAPE_ROUNDS * 2 {
        let scraping = round % 2 == 1;
        let scraper = scraping.then(|| Scraper::start(targets.clone()));
        let put = run_watched("hdfs put", cluster.hdfs(put_args(&src), &log)?, &log)?;
        if let Some(s) = scraper {
            scrapes += s.stop()?;
            scraped_puts.push(put.elapsed);
        } else {
            plain_puts.push(put.elapsed);
        }
    }
    std::fs::remove_file(&src).context("remove the test file")?;
    Ok(Web {
        size: opts.size,
        put: t.put.elapsed,
        get: t.get.elapsed,
        create,
        open,
        namenode_peak,
        datanode_peaks,
        plain_puts,
        scraped_puts,
        scrapes,
    })
}

fn put_args(src: &Path) -> Vec<std::ffi::OsString> {
    ["put", "-f", "--replication", "3"].iter().map(Into::into).chain([src.into(), "/bench/scraped".into()]).collect()
}

/// Runs curl quietly; returns what `-w` printed.
fn curl(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("curl").args(["-sS"]).args(args).output().context("run curl (apt install curl)")?;
    if !out.status.success() {
        bail!("curl {args:?}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A thread that GETs `/metrics` from every target once a second, as a Prometheus server
/// scraping the cluster would.
struct Scraper {
    stop: Arc<AtomicBool>,
    scrapes: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

impl Scraper {
    fn start(targets: Vec<String>) -> Scraper {
        let (stop, scrapes) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
        let (s, n) = (stop.clone(), scrapes.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let tick = Instant::now();
                for t in &targets {
                    scrape(t)?;
                    n.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed()));
            }
            Ok(())
        });
        Scraper { stop, scrapes, thread }
    }

    /// Stops the thread; returns how many scrapes it made.
    fn stop(self) -> anyhow::Result<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().map_err(|_| anyhow::anyhow!("the scraper thread panicked"))??;
        Ok(self.scrapes.load(Ordering::Relaxed))
    }
}

/// One HTTP/1.0 GET of `/metrics` on `addr`, read to the end; an error unless 200.
fn scrape(addr: &str) -> anyhow::Result<()> {
    let mut s = TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(format!("GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())?;
    let mut body = Vec::new();
    s.read_to_end(&mut body).with_context(|| format!("read /metrics of {addr}"))?;
    if !body.starts_with(b"HTTP/1.0 200") && !body.starts_with(b"HTTP/1.1 200") {
        let head = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        bail!("GET http://{addr}/metrics: {head}");
    }
    Ok(())
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

impl Web {
    /// The HTTP issue's figures.
    pub fn rows(&self) -> Vec<Row> {
        let s = format_size(self.size);
        let (put, get) = (mb_s(self.size, self.put), mb_s(self.size, self.get));
        let mib = |b: Option<u64>| b.map(|b| b as f64 / MIB);
        let mut rows = vec![
            Row::new("web_put_mb_s", format!("hdfs put {s}, replication 3"), Unit::MbPerS, Some(put)),
            Row::new("web_get_mb_s", format!("hdfs get {s}, cold"), Unit::MbPerS, Some(get)),
            Row::new(
                "webhdfs_create_mb_s",
                format!("curl WebHDFS CREATE {s} (namenode 307, then the datanode), against hdfs put"),
                Unit::MbPerS,
                Some(mb_s(self.size, self.create)),
            )
            .against(put)
            .target(Target::MinShareOfBaseline(0.70)),
            Row::new(
                "webhdfs_open_mb_s",
                format!("curl -L WebHDFS OPEN {s}, cold, to a file, against hdfs get"),
                Unit::MbPerS,
                Some(mb_s(self.size, self.open)),
            )
            .against(get)
            .target(Target::MinShareOfBaseline(0.70)),
            Row::new(
                "webhdfs_namenode_peak_rss_mib",
                "namenode peak RSS after the WebHDFS CREATE and OPEN",
                Unit::Mib,
                mib(self.namenode_peak),
            ),
        ];
        for (i, p) in self.datanode_peaks.iter().enumerate() {
            rows.push(Row::new(
                format!("webhdfs_datanode_{i}_peak_rss_mib"),
                format!("datanode-{i} peak RSS after the puts, gets and WebHDFS transfers"),
                Unit::Mib,
                mib(*p),
            ));
        }
        let (plain, scraped) = (median(&self.plain_puts), median(&self.scraped_puts));
        rows.push(
            Row::new(
                "put_scraped_mb_s",
                format!(
                    "hdfs put {s} with /metrics of every node scraped each second ({} scrapes), median of {SCRAPE_ROUNDS}, against without",
                    self.scrapes
                ),
                Unit::MbPerS,
                Some(mb_s(self.size, scraped)),
            )
            .against(mb_s(self.size, plain))
            .target(Target::MinShareOfBaseline(0.98)),
        );
        rows
    }
}

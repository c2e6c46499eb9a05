//! The `webhdfs` phase: WebHDFS with curl against the `hdfs` command, on one cluster of real
//! processes (1 namenode, 3 datanodes), in the same run:
//!
//! 1. `hdfs put` at replication 3 against the same file through WebHDFS with curl as Hadoop
//!    documents it (a PUT `CREATE` to the namenode, then the bytes to the datanode its 307
//!    names), each twice, in the order A B B A so that the machine's drift falls on both;
//! 2. a cold `hdfs get` against a cold curl `OPEN` following the redirect, both into a local
//!    file that is then fsynced, both checked against the source, the same way;
//! 3. the peak memory of the namenode and each datanode after those, to show that a file's
//!    bytes are streamed, never held;
//! 4. the cost of Prometheus scraping: puts of the test file alternately without and with
//!    every node's `/metrics` scraped once a second, the medians compared.

use std::ffi::OsStr;
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

pub struct Web {
    size: u64,
    /// Each way twice, in the order they ran (A B B A).
    puts: Vec<Duration>,
    gets: Vec<Duration>,
    creates: Vec<Duration>,
    opens: Vec<Duration>,
    namenode_peak: Option<u64>,
    datanode_peaks: Vec<Option<u64>>,
    /// Puts without scraping, then with, in the order they ran.
    plain_puts: Vec<Duration>,
    scraped_puts: Vec<Duration>,
    scrapes: Scrapes,
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
    let web = WebHdfs {
        nn: format!("http://{}", cluster.namenode_http),
        // As the user the `hdfs` commands run as, who owns /bench.
        user: hdfs_proto::user::current_user(),
    };

    // Each way twice, in the order A B B A, so that drift in the machine's speed (large on
    // these VMs) falls on both sides.
    step(&format!("hdfs put and curl CREATE of {}, twice each (A B B A)", format_size(opts.size)));
    let (mut puts, mut creates) = (Vec::new(), Vec::new());
    for curl in [false, true, true, false] {
        if curl {
            creates.push(web.create(&src, WEB_REMOTE)?);
        } else {
            puts.push(run_watched("hdfs put", cluster.hdfs(put_args(&src, REMOTE), &log)?, &log)?.elapsed);
        }
    }
    steps::check_replicas(&cluster, REMOTE, 3)?;
    steps::check_replicas(&cluster, WEB_REMOTE, 3)?;

    step(&format!("hdfs get and curl OPEN of {}, cold, output fsynced, twice each (A B B A)", format_size(opts.size)));
    let out = root.join("web-read-output");
    let (mut gets, mut opens) = (Vec::new(), Vec::new());
    for curl in [false, true, true, false] {
        steps::evict_datanodes(&cluster)?;
        if curl {
            opens.push(web.open(WEB_REMOTE, &out)?);
        } else {
            let args = [OsStr::new("get"), "-f".as_ref(), REMOTE.as_ref(), out.as_os_str()];
            gets.push(run_watched("hdfs get", cluster.hdfs(args, &log)?, &log)?.elapsed);
        }
        if !raw::same_contents(&src, &out)? {
            bail!("{} differs from the source after a {}", out.display(), if curl { "WebHDFS OPEN" } else { "get" });
        }
        std::fs::remove_file(&out).with_context(|| format!("remove {}", out.display()))?;
    }
    let namenode_peak = cluster.namenode_pid().and_then(peak_rss);
    let datanode_peaks = cluster.datanodes.iter().map(|d| d.pid().and_then(peak_rss)).collect();

    step("puts without and with every /metrics scraped each second (A B B A)");
    let targets: Vec<String> = std::iter::once(cluster.namenode_http.clone())
        .chain(cluster.datanodes.iter().map(|d| d.http.clone()))
        .collect();
    let (mut plain_puts, mut scraped_puts, mut scrapes) = (Vec::new(), Vec::new(), Scrapes::default());
    for scraping in [false, true, true, false] {
        let scraper = scraping.then(|| Scraper::start(targets.clone()));
        let put = run_watched("hdfs put", cluster.hdfs(put_args(&src, "/bench/scraped"), &log)?, &log)?;
        if let Some(s) = scraper {
            scrapes.add(s.stop()?);
            scraped_puts.push(put.elapsed);
        } else {
            plain_puts.push(put.elapsed);
        }
    }
    std::fs::remove_file(&src).context("remove the test file")?;
    Ok(Web {
        size: opts.size,
        puts,
        gets,
        creates,
        opens,
        namenode_peak,
        datanode_peaks,
        plain_puts,
        scraped_puts,
        scrapes,
    })
}

/// WebHDFS with curl, as Hadoop documents it.
struct WebHdfs {
    nn: String,
    user: String,
}

impl WebHdfs {
    /// CREATE in two steps: the namenode's 307, then the bytes to the datanode it names.
    fn create(&self, src: &Path, remote: &str) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let url =
            format!("{}/webhdfs/v1{remote}?op=CREATE&overwrite=true&replication=3&user.name={}", self.nn, self.user);
        let out = curl(&["-X", "PUT", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", &url])?;
        let (code, location) = out.split_once(' ').unwrap_or((&out, ""));
        if code != "307" || location.is_empty() {
            bail!("CREATE on the namenode answered {out:?}, not a 307 with a Location");
        }
        let src = src.to_str().context("test file path is not UTF-8")?;
        let code = curl(&["-X", "PUT", "-H", "Expect:", "-T", src, "-o", "/dev/null", "-w", "%{http_code}", location])?;
        if code != "201" {
            bail!("CREATE on the datanode answered {code}, not 201");
        }
        Ok(started.elapsed())
    }

    /// OPEN following the redirect into `out`, fsynced as `hdfs get` does its output.
    fn open(&self, remote: &str, out: &Path) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let url = format!("{}/webhdfs/v1{remote}?op=OPEN&user.name={}", self.nn, self.user);
        let code = curl(&["-L", "-o", out.to_str().context("output path is not UTF-8")?, "-w", "%{http_code}", &url])?;
        if code != "200" {
            bail!("OPEN answered {code}, not 200");
        }
        std::fs::File::open(out).and_then(|f| f.sync_all()).with_context(|| format!("fsync {}", out.display()))?;
        Ok(started.elapsed())
    }
}

fn put_args(src: &Path, remote: &str) -> Vec<std::ffi::OsString> {
    ["put", "-f", "--replication", "3"].iter().map(Into::into).chain([src.into(), remote.into()]).collect()
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
    started: Instant,
    scrapes: Arc<AtomicU64>,
    /// Nanoseconds from each scrape's connect to its last byte, summed.
    busy_ns: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

/// What the scrapers of a run did.
#[derive(Default)]
struct Scrapes {
    count: u64,
    /// Time spent answering scrapes (connect to last byte), and the time they ran over.
    busy: Duration,
    over: Duration,
}

impl Scrapes {
    fn add(&mut self, other: Scrapes) {
        self.count += other.count;
        self.busy += other.busy;
        self.over += other.over;
    }
}

impl Scraper {
    fn start(targets: Vec<String>) -> Scraper {
        let (stop, scrapes, busy_ns) =
            (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (s, n, busy) = (stop.clone(), scrapes.clone(), busy_ns.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let tick = Instant::now();
                for t in &targets {
                    let one = Instant::now();
                    scrape(t)?;
                    busy.fetch_add(one.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    n.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed()));
            }
            Ok(())
        });
        Scraper { stop, started: Instant::now(), scrapes, busy_ns, thread }
    }

    /// Stops the thread; returns what it did.
    fn stop(self) -> anyhow::Result<Scrapes> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().map_err(|_| anyhow::anyhow!("the scraper thread panicked"))??;
        Ok(Scrapes {
            count: self.scrapes.load(Ordering::Relaxed),
            busy: Duration::from_nanos(self.busy_ns.load(Ordering::Relaxed)),
            over: self.started.elapsed(),
        })
    }
}

/// One GET of `/metrics` on `addr`, read to the end; an error unless 200.
fn scrape(addr: &str) -> anyhow::Result<()> {
    get(addr, "/metrics").map(drop)
}

/// One HTTP/1.0 GET of `path` on `addr`: the whole answer, head included; an error unless 200.
pub fn get(addr: &str, path: &str) -> anyhow::Result<String> {
    let mut s = TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())?;
    let mut body = Vec::new();
    s.read_to_end(&mut body).with_context(|| format!("read {path} of {addr}"))?;
    if !body.starts_with(b"HTTP/1.0 200") && !body.starts_with(b"HTTP/1.1 200") {
        let head = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        bail!("GET http://{addr}{path}: {head}");
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

impl Web {
    /// The HTTP issue's figures.
    pub fn rows(&self) -> Vec<Row> {
        let s = format_size(self.size);
        // Both runs of a kind together: the bytes of both over the time of both.
        let rate = |d: &[Duration]| mb_s(self.size * d.len() as u64, d.iter().sum());
        let runs =
            |d: &[Duration]| d.iter().map(|d| format!("{:.0}", mb_s(self.size, *d))).collect::<Vec<_>>().join(", ");
        let (put, get) = (rate(&self.puts), rate(&self.gets));
        let mib = |b: Option<u64>| b.map(|b| b as f64 / MIB);
        let mut rows = vec![
            Row::new(
                "web_put_mb_s",
                format!("hdfs put {s}, replication 3 (runs {})", runs(&self.puts)),
                Unit::MbPerS,
                Some(put),
            ),
            Row::new(
                "web_get_mb_s",
                format!("hdfs get {s}, cold, output fsynced (runs {})", runs(&self.gets)),
                Unit::MbPerS,
                Some(get),
            ),
            Row::new(
                "webhdfs_create_mb_s",
                format!(
                    "curl WebHDFS CREATE {s}: namenode 307, then the datanode (runs {}), against hdfs put",
                    runs(&self.creates)
                ),
                Unit::MbPerS,
                Some(rate(&self.creates)),
            )
            .against(put)
            .target(Target::MinShareOfBaseline(0.70)),
            Row::new(
                "webhdfs_open_mb_s",
                format!(
                    "curl -L WebHDFS OPEN {s}, cold, output fsynced (runs {}), against hdfs get",
                    runs(&self.opens)
                ),
                Unit::MbPerS,
                Some(rate(&self.opens)),
            )
            .against(get)
            .target(Target::MinShareOfBaseline(0.70)),
            Row::new(
                "webhdfs_namenode_peak_rss_mib",
                "namenode peak RSS after the WebHDFS CREATEs and OPENs",
                Unit::Mib,
                mib(self.namenode_peak),
            ),
        ];
        for (i, p) in self.datanode_peaks.iter().enumerate() {
            rows.push(Row::new(
                format!("webhdfs_datanode_{i}_peak_rss_mib"),
                format!("datanode-{i} peak RSS after the puts, gets, CREATEs and OPENs"),
                Unit::Mib,
                mib(*p),
            ));
        }
        let sc = &self.scrapes;
        rows.push(
            Row::new(
                "put_scraped_mb_s",
                format!(
                    "hdfs put {s} with every node's /metrics scraped each second (runs {}; {} scrapes), against without (runs {})",
                    runs(&self.scraped_puts),
                    sc.count,
                    runs(&self.plain_puts)
                ),
                Unit::MbPerS,
                Some(rate(&self.scraped_puts)),
            )
            .against(rate(&self.plain_puts))
            .target(Target::MinShareOfBaseline(0.98)),
        );
        rows.push(
            Row::new(
                "scrape_busy_share",
                format!(
                    "time the nodes spent answering those scrapes (connect to last byte, {:.2} ms each) over the time scraped",
                    sc.busy.as_secs_f64() * 1e3 / sc.count.max(1) as f64
                ),
                Unit::Ratio,
                Some(sc.busy.as_secs_f64() / sc.over.as_secs_f64().max(1e-9)),
            )
            .target(Target::Below(0.02)),
        );
        rows
    }
}

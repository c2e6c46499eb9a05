//! Block store benchmark: replica bytes in files (the design) versus bytes as sled values.
//!
//! The datanode keeps replica bytes in plain files, each owned by a small sled record
//! (`hdfs_datanode::store`). That choice rests on a measurement: sled 0.34 holding the bytes
//! themselves wrote more slowly, used more disk than it stored, and its resident memory grew with
//! the data. This benchmark keeps the measurement alive, so the choice can be checked again when
//! sled, the store or the machines change. Results and their reading: docs/BENCHMARKS.md.
//!
//! Every mode stores the same pseudo-random bytes as blocks (128 MiB by default) written in 1 MiB
//! packets, each packet with one CRC32C per 64 KiB chunk:
//! - `files`: the real [`BlockStore`]: `append` verifies and writes each packet, `finalize`
//!   fsyncs the file and writes and flushes the sled record;
//! - `sled-64k`, `sled-1m`: the bytes as 64 KiB or 1 MiB values in one sled tree, plus a record
//!   per block holding its checksums, with `db.flush()` at the end of every block (the same
//!   durability point as `finalize`) and the same 16 MiB `cache_capacity` as the store's index.
//!   Packets are verified before they are stored and values after they are read, as the store
//!   does, so the modes differ only in where the bytes live.
//!
//! Reported per mode: write MB/s, disk used per byte stored (allocated blocks, `st_blocks * 512`,
//! of the regular files), peak resident memory (`VmHWM`), time to reopen the store, and read MB/s
//! after reopening, reading everything back and comparing it with what was written. Timings
//! cover the store's work only: generating the data and its checksums (the client's work) and
//! comparing what was read are left out.
//!
//! Each phase runs in a process of its own (the binary re-executes itself with `--child`), so the
//! resident memory is that mode's alone and the reopen is a real restart. Between writing and
//! reading, the parent evicts every file from the page cache (fsync, then
//! `posix_fadvise(DONTNEED)`), so reads do not come from memory the writer filled.
//!
//! Run: `cargo bench -p hdfs-datanode --bench blockstore [-- MODE...]`. Environment:
//! `BLOCKSTORE_BENCH_BYTES` (bytes per mode, default `1GiB`), `BLOCKSTORE_BENCH_BLOCK` (block
//! size, default `128MiB`). The data goes to a temporary directory under the system's, which is
//! removed afterwards.
//!
//! Files: this one (modes, data, child processes, the table), `sled_values.rs` (the two sled
//! modes, kept apart because they are the road not taken).

mod sled_values;

use std::collections::HashMap;
use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use hdfs_datanode::store::BlockStore;
use hdfs_proto::BlockRef;
use hdfs_proto::checksum::{BYTES_PER_CHECKSUM, chunk_checksums};
use hdfs_proto::units::{format_size, parse_size};

/// Bytes per write packet and per read request, as on the wire.
pub(crate) const PACKET: usize = 1 << 20;
/// Generation stamp of every replica written.
const GENERATION: u64 = 1;
/// Prefix of the one line a child prints for its parent.
const RESULT_TAG: &str = "blockstore-result";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Files,
    Sled64k,
    Sled1m,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Files, Mode::Sled64k, Mode::Sled1m];

    fn name(self) -> &'static str {
        match self {
            Mode::Files => "files",
            Mode::Sled64k => "sled-64k",
            Mode::Sled1m => "sled-1m",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Mode::Files => "files (BlockStore)",
            Mode::Sled64k => "sled, 64 KiB values",
            Mode::Sled1m => "sled, 1 MiB values",
        }
    }

    fn parse(s: &str) -> Result<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let names: Vec<_> = Mode::ALL.iter().map(|m| m.name()).collect();
            anyhow!("unknown mode {s:?} (modes: {})", names.join(", "))
        })
    }
}

/// The data set: `total` bytes as blocks of `block` bytes (the last one may be shorter).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    total: u64,
    block: u64,
}

impl Layout {
    fn from_env() -> Result<Layout> {
        let size = |var: &str, default: &str| -> Result<u64> {
            let text = std::env::var(var).unwrap_or_else(|_| default.to_string());
            parse_size(&text).with_context(|| var.to_string())
        };
        let layout =
            Layout { total: size("BLOCKSTORE_BENCH_BYTES", "1GiB")?, block: size("BLOCKSTORE_BENCH_BLOCK", "128MiB")? };
        layout.check()?;
        Ok(layout)
    }

    fn check(self) -> Result<()> {
        ensure!(self.total > 0, "nothing to store: BLOCKSTORE_BENCH_BYTES is 0");
        ensure!(
            self.block > 0 && self.block <= hdfs_proto::MAX_BLOCK_SIZE,
            "block size {} is outside 1 B..={}",
            self.block,
            format_size(hdfs_proto::MAX_BLOCK_SIZE)
        );
        Ok(())
    }

    /// `(block id, length)` of every block.
    pub(crate) fn blocks(self) -> impl Iterator<Item = (u64, u64)> {
        (0..self.total.div_ceil(self.block)).map(move |i| (i + 1, self.block.min(self.total - i * self.block)))
    }
}

/// `(offset, length)` of the packets of a block of `len` bytes: whole chunks except the last.
pub(crate) fn packets(len: u64) -> impl Iterator<Item = (u64, usize)> {
    (0..len).step_by(PACKET).map(move |off| (off, (len - off).min(PACKET as u64) as usize))
}

/// Fills `buf` with `len` pseudo-random bytes that depend only on the block and offset, so a
/// reader can regenerate what was written (splitmix64: fast, and nothing compresses it).
pub(crate) fn fill(buf: &mut Vec<u8>, len: usize, block: u64, offset: u64) {
    let mut state = block.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ offset;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    buf.resize(len, 0);
    let mut words = buf.chunks_exact_mut(8);
    for word in &mut words {
        word.copy_from_slice(&next().to_le_bytes());
    }
    let rest = words.into_remainder();
    let last = next().to_le_bytes();
    rest.copy_from_slice(&last[..rest.len()]);
}

/// Adds the time `f` takes to `busy`.
pub(crate) fn timed<T>(busy: &mut Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    *busy += start.elapsed();
    out
}

/// What reading back measured.
pub(crate) struct ReadPhase {
    /// Time to open the store again (for sled, its recovery).
    pub(crate) reopen: Duration,
    /// Peak resident memory once the store is open, before reading.
    pub(crate) reopen_rss: u64,
    /// Time spent in the store's reads.
    pub(crate) busy: Duration,
}

// ---- files: the real block store ----

fn write_files(dir: &Path, layout: Layout) -> Result<Duration> {
    let store = BlockStore::open(dir).context("open the block store")?;
    let mut busy = Duration::ZERO;
    let mut buf = Vec::with_capacity(PACKET);
    for (block, len) in layout.blocks() {
        let mut writer = timed(&mut busy, || store.create(BlockRef::new(block, GENERATION)))
            .with_context(|| format!("create block {block}"))?;
        for (offset, n) in packets(len) {
            fill(&mut buf, n, block, offset);
            let sums = chunk_checksums(&buf, BYTES_PER_CHECKSUM);
            timed(&mut busy, || writer.append(offset, &buf, &sums))
                .with_context(|| format!("block {block}: append at {offset}"))?;
        }
        timed(&mut busy, || writer.finalize()).with_context(|| format!("finalize block {block}"))?;
    }
    Ok(busy)
}

fn read_files(dir: &Path, layout: Layout) -> Result<ReadPhase> {
    let start = Instant::now();
    let store = BlockStore::open(dir).context("reopen the block store")?;
    let reopen = start.elapsed();
    let reopen_rss = peak_rss()?;
    ensure!(
        store.used_bytes() == layout.total,
        "store holds {} bytes, {} were written",
        store.used_bytes(),
        layout.total
    );
    let mut busy = Duration::ZERO;
    let mut expected = Vec::with_capacity(PACKET);
    for (block, len) in layout.blocks() {
        let mut reader = timed(&mut busy, || store.open_reader(BlockRef::new(block, GENERATION)))
            .with_context(|| format!("open block {block}"))?;
        ensure!(reader.len() == len, "block {block}: {} bytes, {len} were written", reader.len());
        for (offset, n) in packets(len) {
            let (data, _) = timed(&mut busy, || reader.read_chunks(offset, PACKET))
                .with_context(|| format!("block {block}: read at {offset}"))?;
            fill(&mut expected, n, block, offset);
            ensure!(data == expected, "block {block} at {offset}: read back something else than was written");
        }
    }
    Ok(ReadPhase { reopen, reopen_rss, busy })
}

// ---- child processes: one phase of one mode each ----

/// Peak resident memory of this process, in bytes.
pub(crate) fn peak_rss() -> Result<u64> {
    let status = fs::read_to_string("/proc/self/status").context("read /proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).context("no VmHWM in /proc/self/status")?;
    let kib: u64 =
        line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().context("parse VmHWM")?;
    Ok(kib * 1024)
}

/// Runs `--child PHASE MODE DIR TOTAL BLOCK` and prints one result line of `key=value` fields.
fn child(args: &[String]) -> Result<()> {
    let [phase, mode, dir, total, block] = args else {
        bail!("usage: --child write|read MODE DIR TOTAL_BYTES BLOCK_BYTES");
    };
    let mode = Mode::parse(mode)?;
    let dir = Path::new(dir);
    let layout = Layout { total: total.parse().context("total bytes")?, block: block.parse().context("block bytes")? };
    layout.check()?;
    let value_size = match mode {
        Mode::Files => None,
        Mode::Sled64k => Some(64 << 10),
        Mode::Sled1m => Some(1 << 20),
    };
    let fields = match phase.as_str() {
        "write" => {
            let busy = match value_size {
                None => write_files(dir, layout)?,
                Some(size) => sled_values::write(dir, layout, size)?,
            };
            format!("write_secs={}", busy.as_secs_f64())
        }
        "read" => {
            let read = match value_size {
                None => read_files(dir, layout)?,
                Some(_) => sled_values::read(dir, layout)?,
            };
            format!(
                "reopen_secs={}\treopen_rss={}\tread_secs={}",
                read.reopen.as_secs_f64(),
                read.reopen_rss,
                read.busy.as_secs_f64()
            )
        }
        other => bail!("unknown phase {other:?}"),
    };
    println!("{RESULT_TAG}\t{fields}\tpeak_rss={}", peak_rss()?);
    Ok(())
}

/// Runs one phase in a fresh process and returns its result fields.
fn run_child(phase: &str, mode: Mode, dir: &Path, layout: Layout) -> Result<HashMap<String, f64>> {
    let exe = std::env::current_exe().context("find this benchmark's executable")?;
    let output = Command::new(&exe)
        .arg("--child")
        .args([phase, mode.name()])
        .arg(dir)
        .args([layout.total.to_string(), layout.block.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("run {}", exe.display()))?;
    ensure!(output.status.success(), "{} {phase} failed ({})", mode.name(), output.status);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_TAG))
        .ok_or_else(|| anyhow!("{} {phase} printed no result line", mode.name()))?;
    line.split('\t')
        .filter(|f| !f.is_empty())
        .map(|field| {
            let (key, value) = field.split_once('=').ok_or_else(|| anyhow!("bad result field {field:?}"))?;
            Ok((key.to_string(), value.parse().with_context(|| format!("bad result field {field:?}"))?))
        })
        .collect()
}

fn field(fields: &HashMap<String, f64>, key: &str) -> Result<f64> {
    fields.get(key).copied().ok_or_else(|| anyhow!("result has no {key}"))
}

// ---- the parent: disk usage, page cache, table ----

/// Calls `f` on every regular file under `dir`.
fn walk_files(dir: &Path, f: &mut impl FnMut(&Path, &fs::Metadata) -> Result<()>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("list {}", dir.display()))?;
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).with_context(|| format!("stat {}", path.display()))?;
        if meta.is_dir() {
            walk_files(&path, f)?;
        } else if meta.is_file() {
            f(&path, &meta)?;
        }
    }
    Ok(())
}

/// Bytes allocated on disk to the regular files under `dir`.
fn disk_used(dir: &Path) -> Result<u64> {
    let mut used = 0;
    walk_files(dir, &mut |_, meta| {
        used += meta.blocks() * 512;
        Ok(())
    })?;
    Ok(used)
}

/// Drops the files under `dir` from the page cache, so the next reads go to the disk.
fn evict_from_page_cache(dir: &Path) -> Result<()> {
    walk_files(dir, &mut |path, _| {
        let file = File::open(path).with_context(|| format!("open {}", path.display()))?;
        // Only clean pages can be dropped: write back anything still dirty first.
        file.sync_all().with_context(|| format!("fsync {}", path.display()))?;
        rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed)
            .with_context(|| format!("fadvise {}", path.display()))?;
        Ok(())
    })
}

struct Row {
    mode: Mode,
    write_mb_s: f64,
    disk_ratio: f64,
    disk_ratio_after_reopen: f64,
    write_rss: u64,
    reopen: Duration,
    reopen_rss: u64,
    read_mb_s: f64,
    read_rss: u64,
}

fn measure(mode: Mode, dir: &Path, layout: Layout) -> Result<Row> {
    let mb_s = |secs: f64| layout.total as f64 / secs / 1e6;
    eprintln!("blockstore: {}: writing {}", mode.name(), format_size(layout.total));
    let write = run_child("write", mode, dir, layout)?;
    let disk = disk_used(dir)?;
    evict_from_page_cache(dir)?;
    eprintln!("blockstore: {}: reopening and reading back", mode.name());
    let read = run_child("read", mode, dir, layout)?;
    let disk_after_reopen = disk_used(dir)?;
    Ok(Row {
        mode,
        write_mb_s: mb_s(field(&write, "write_secs")?),
        disk_ratio: disk as f64 / layout.total as f64,
        disk_ratio_after_reopen: disk_after_reopen as f64 / layout.total as f64,
        write_rss: field(&write, "peak_rss")? as u64,
        reopen: Duration::from_secs_f64(field(&read, "reopen_secs")?),
        reopen_rss: field(&read, "reopen_rss")? as u64,
        read_mb_s: mb_s(field(&read, "read_secs")?),
        read_rss: field(&read, "peak_rss")? as u64,
    })
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--child") {
        return child(&args[1..]);
    }
    let layout = Layout::from_env()?;
    // `cargo bench` passes `--bench`; other arguments name the modes to run (default: all).
    let chosen: Vec<Mode> =
        args.iter().filter(|a| !a.starts_with('-')).map(|a| Mode::parse(a)).collect::<Result<_>>()?;
    let modes = if chosen.is_empty() { Mode::ALL.to_vec() } else { chosen };

    let tmp = tempfile::Builder::new()
        .prefix("blockstore-bench-")
        .tempdir()
        .with_context(|| format!("create a temporary directory in {}", std::env::temp_dir().display()))?;
    eprintln!(
        "blockstore: {} per mode in blocks of {}, {} packets, in {}",
        format_size(layout.total),
        format_size(layout.block),
        format_size(PACKET as u64),
        tmp.path().display()
    );
    let mut rows = Vec::new();
    for mode in modes {
        let dir = tmp.path().join(mode.name());
        rows.push(measure(mode, &dir, layout)?);
        // Free the space before the next mode writes.
        fs::remove_dir_all(&dir).with_context(|| format!("remove {}", dir.display()))?;
    }
    tmp.close().context("remove the temporary directory")?;

    println!();
    println!(
        "{} per mode, {} blocks, {} packets; MB = 10^6 bytes",
        format_size(layout.total),
        format_size(layout.block),
        format_size(PACKET as u64)
    );
    println!();
    println!(
        "| mode | write MB/s | disk used / stored | peak RSS, write | reopen | peak RSS, reopen | read MB/s after reopen | peak RSS, read |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let after = if (r.disk_ratio_after_reopen - r.disk_ratio).abs() > 0.01 {
            format!(" ({:.2}x after reopen)", r.disk_ratio_after_reopen)
        } else {
            String::new()
        };
        println!(
            "| {} | {:.0} | {:.2}x{after} | {} | {:.2} s | {} | {:.0} | {} |",
            r.mode.describe(),
            r.write_mb_s,
            r.disk_ratio,
            format_size(r.write_rss),
            r.reopen.as_secs_f64(),
            format_size(r.reopen_rss),
            r.read_mb_s,
            format_size(r.read_rss)
        );
    }
    Ok(())
}

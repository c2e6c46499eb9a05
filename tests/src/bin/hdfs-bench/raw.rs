//! The machine's raw limits, and the file-level tools the measurements share: making test files,
//! dropping files from the page cache, counting allocated disk space, comparing contents.
//!
//! Every copy goes through a 1 MiB buffer, the size of the cluster's packets. "Cold" means
//! fsynced, then dropped from the page cache with `posix_fadvise(DONTNEED)` (it only drops clean
//! pages, hence the fsync first). On a VM the host may still cache the disk, so "cold" is cold
//! for this kernel only; the cluster's reads are made cold the same way, which is what keeps the
//! ratios fair.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustix::fs::{Advice, fadvise};

/// Buffer of every copy: the cluster's packet size.
pub const BUF: usize = 1 << 20;

/// Writes `size` pseudo-random (incompressible) bytes to `path` and fsyncs it. The file stays in
/// the page cache, as a file just written by a user would be.
pub fn make_test_file(path: &Path, size: u64) -> anyhow::Result<()> {
    let mut f = File::create(path).with_context(|| format!("create {}", path.display()))?;
    let mut buf = vec![0u8; BUF];
    let mut rng = SplitMix64(0x5eed_0fbe_a7c0_de00 ^ size);
    let mut left = size;
    while left > 0 {
        let n = left.min(BUF as u64) as usize;
        rng.fill(&mut buf[..n]);
        f.write_all(&buf[..n]).with_context(|| format!("write {}", path.display()))?;
        left -= n as u64;
    }
    f.sync_all().with_context(|| format!("fsync {}", path.display()))
}

/// Baseline (a): `copies` copies of `src` written one after the other into `dir`, each fsynced.
/// Returns the total time and the copies' paths. `src` is read from the page cache, as `put`
/// reads it.
pub fn write_copies(src: &Path, dir: &Path, copies: usize) -> anyhow::Result<(Duration, Vec<PathBuf>)> {
    let paths: Vec<PathBuf> = (0..copies).map(|i| dir.join(format!("raw-copy-{i}"))).collect();
    let start = Instant::now();
    for p in &paths {
        copy_synced(src, p)?;
    }
    Ok((start.elapsed(), paths))
}

/// What `get` does to the local disk: `src` read cold and written to `dst`, fsynced. Returns
/// the time.
pub fn copy_cold(src: &Path, dst: &Path) -> anyhow::Result<Duration> {
    evict(src)?;
    let start = Instant::now();
    copy_synced(src, dst)?;
    Ok(start.elapsed())
}

/// Copies `src` to a new file `dst` through a 1 MiB buffer, then fsyncs `dst`.
fn copy_synced(src: &Path, dst: &Path) -> anyhow::Result<()> {
    let mut from = File::open(src).with_context(|| format!("open {}", src.display()))?;
    let mut to = File::create(dst).with_context(|| format!("create {}", dst.display()))?;
    let mut buf = vec![0u8; BUF];
    loop {
        let n = from.read(&mut buf).with_context(|| format!("read {}", src.display()))?;
        if n == 0 {
            break;
        }
        to.write_all(&buf[..n]).with_context(|| format!("write {}", dst.display()))?;
    }
    to.sync_all().with_context(|| format!("fsync {}", dst.display()))
}

/// Baseline (b): reads `path` from disk (after dropping it from the page cache). Returns the
/// time and the bytes read.
pub fn read_cold(path: &Path) -> anyhow::Result<(Duration, u64)> {
    evict(path)?;
    let mut f = File::open(path).with_context(|| format!("open {}", path.display()))?;
    let mut buf = vec![0u8; BUF];
    let mut total = 0;
    let start = Instant::now();
    loop {
        let n = f.read(&mut buf).with_context(|| format!("read {}", path.display()))?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    Ok((start.elapsed(), total))
}

/// Baseline (c): `size` bytes through one loopback TCP connection, a writer thread and a reader
/// thread with 1 MiB buffers. The limit of any one stream between processes on this machine.
pub fn loopback_tcp(size: u64) -> anyhow::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0").context("bind a loopback socket")?;
    let addr = listener.local_addr()?;
    let start = Instant::now();
    let writer = std::thread::spawn(move || -> anyhow::Result<()> {
        let mut s = TcpStream::connect(addr).context("connect over loopback")?;
        let mut buf = vec![0u8; BUF];
        SplitMix64(7).fill(&mut buf);
        let mut left = size;
        while left > 0 {
            let n = left.min(BUF as u64) as usize;
            s.write_all(&buf[..n]).context("send over loopback")?;
            left -= n as u64;
        }
        Ok(())
    });
    let (mut s, _) = listener.accept().context("accept over loopback")?;
    let mut buf = vec![0u8; BUF];
    let mut got = 0u64;
    loop {
        let n = s.read(&mut buf).context("receive over loopback")?;
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    let elapsed = start.elapsed();
    writer.join().map_err(|_| anyhow::anyhow!("loopback writer panicked"))??;
    if got != size {
        bail!("loopback: received {got} of {size} bytes");
    }
    Ok(elapsed)
}

/// Fsyncs `path` and drops its pages from the page cache.
pub fn evict(path: &Path) -> anyhow::Result<()> {
    let f = File::open(path).with_context(|| format!("open {}", path.display()))?;
    f.sync_all().with_context(|| format!("fsync {}", path.display()))?;
    fadvise(&f, 0, None, Advice::DontNeed).with_context(|| format!("posix_fadvise(DONTNEED) {}", path.display()))
}

/// [`evict`] for every regular file below `dir`. Returns how many files.
pub fn evict_tree(dir: &Path) -> anyhow::Result<usize> {
    let mut n = 0;
    for f in files_below(dir)? {
        evict(&f)?;
        n += 1;
    }
    Ok(n)
}

/// Disk space allocated to every file below `dir` (`st_blocks` * 512), directories included.
pub fn allocated_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("list {}", d.display()))? {
            let entry = entry.with_context(|| format!("list {}", d.display()))?;
            let meta = entry.metadata().with_context(|| format!("stat {}", entry.path().display()))?;
            total += meta.blocks() * 512;
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    Ok(total)
}

fn files_below(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("list {}", d.display()))? {
            let entry = entry.with_context(|| format!("list {}", d.display()))?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    Ok(files)
}

/// Whether two files hold the same bytes.
pub fn same_contents(a: &Path, b: &Path) -> anyhow::Result<bool> {
    let mut fa = File::open(a).with_context(|| format!("open {}", a.display()))?;
    let mut fb = File::open(b).with_context(|| format!("open {}", b.display()))?;
    if fa.metadata()?.len() != fb.metadata()?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; BUF], vec![0u8; BUF]);
    loop {
        let n = read_full(&mut fa, &mut ba).with_context(|| format!("read {}", a.display()))?;
        let m = read_full(&mut fb, &mut bb).with_context(|| format!("read {}", b.display()))?;
        if n != m || ba[..n] != bb[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// SplitMix64: fast, good enough for incompressible test bytes, and no dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

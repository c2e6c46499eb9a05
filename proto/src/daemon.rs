//! What the binaries share around `run`: logging set-up, shutdown on a signal, and the
//! allocator's settings for 1 MiB buffers.

use tokio_util::sync::CancellationToken;

/// Logs to stderr, filtered by `RUST_LOG` (default: info, with chatty dependencies quieter).
pub fn init_tracing() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sled=warn,h2=warn".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// A token cancelled on Ctrl-C or SIGTERM (what `docker stop` and the local-cluster script send).
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        tracing::info!("shutdown requested");
        cancel.cancel();
    });
    token
}

/// Keeps freed 1 MiB buffers for reuse instead of returning them to the kernel.
///
/// Packets are 1 MiB, and glibc serves allocations that large with a fresh `mmap` and frees
/// them with `munmap` until its adaptive threshold catches up, and trims the heap's top often:
/// every packet buffer then costs 256 page faults and the zeroing of 1 MiB. Measured on `hdfs
/// cat` of 1 GiB: 68k page faults (docs/BENCHMARKS.md). A fixed threshold above the packet size
/// and a lazy trim keep the buffers in the heap; memory stays bounded by the windows in flight.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's parameters, under the allocator's own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

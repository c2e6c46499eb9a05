//! `hdfs put` and `hdfs get`: files in and out, with progress on a terminal; a failed get
//! leaves no partial file. The pieces (open a local source, stream into a new file, download one
//! file) serve `hdfs dfs` too.

use std::path::Path;

use hdfs_client::{Client, CreateOptions, Error, FileWriter, Result};
use tokio::io::AsyncRead;

use super::progress::Progress;
use super::{basename, join};

/// A local source opened for reading, and its size when known (`None` for stdin).
pub(super) type LocalSource = (Box<dyn AsyncRead + Unpin + Send>, Option<u64>);

pub(super) async fn put(
    client: &Client,
    local: &Path,
    remote: &str,
    opts: CreateOptions,
    show_progress: bool,
    quiet: bool,
) -> Result<()> {
    let from_stdin = local.as_os_str() == "-";
    // `put a.txt /dir` puts /dir/a.txt, as `hdfs dfs -put` does.
    let remote = match client.stat(remote).await {
        Ok(st) if st.is_dir() => {
            if from_stdin {
                return Err(Error::InvalidArgument(format!("{remote}: is a directory; name the file to create")));
            }
            let name = local.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            join(remote, &name)?
        }
        Ok(_) if !opts.overwrite => {
            return Err(Error::AlreadyExists(format!("{remote}: already exists (use -f to overwrite)")));
        }
        // A trailing slash names a directory: never create a file called like it.
        Err(Error::NotFound(_)) if remote.len() > 1 && remote.ends_with('/') => {
            return Err(Error::NotFound(format!("{remote}: no such directory (create it first: hdfs mkdir -p)")));
        }
        // No namenode to ask (no quorum): the create would fail the same way, a timeout later.
        Err(e @ Error::Unavailable(_)) => return Err(e),
        _ => remote.to_string(),
    };
    let (reader, size) = open_local(local).await?;
    let mut writer = client.create(&remote, opts).await.map_err(|e| match e {
        Error::AlreadyExists(m) => Error::AlreadyExists(format!("{m} (use -f to overwrite)")),
        Error::NotFound(m) => Error::NotFound(format!("{m} (create it first: hdfs mkdir -p)")),
        e => e,
    })?;
    if !quiet {
        warn_under_replicated(&writer, "hdfs: put");
    }
    write_all(&mut writer, reader, size, &local.display().to_string(), show_progress).await
}

/// Opens a local file to upload; `-` is stdin. A directory is refused.
pub(super) async fn open_local(local: &Path) -> Result<LocalSource> {
    if local.as_os_str() == "-" {
        return Ok((Box::new(tokio::io::stdin()), None));
    }
    let f = tokio::fs::File::open(local).await.map_err(|e| io_error(&local.display(), "open", e))?;
    let meta = f.metadata().await.map_err(|e| io_error(&local.display(), "stat", e))?;
    if meta.is_dir() {
        return Err(Error::InvalidArgument(format!("{}: is a directory (put takes files)", local.display())));
    }
    Ok((Box::new(f), Some(meta.len())))
}

/// Says, on stderr after `who`, that a new file asks for more replicas than there are live
/// datanodes: it is written, and stays under-replicated until more join.
pub(super) fn warn_under_replicated(writer: &FileWriter, who: &str) {
    if writer.live_datanodes() < writer.replication() {
        eprintln!(
            "{who}: warning: replication {} but only {} live datanode(s): {} stays under-replicated until more join",
            writer.replication(),
            writer.live_datanodes(),
            writer.path()
        );
    }
}

/// Streams `reader` (`size` bytes, when known) into a new file and closes it, with a progress
/// bar; a failed read names `source`.
pub(super) async fn write_all(
    writer: &mut FileWriter,
    reader: impl AsyncRead + Unpin,
    size: Option<u64>,
    source: &str,
    show_progress: bool,
) -> Result<()> {
    let progress = Progress::new(show_progress, size, writer.path());
    writer.write_from(reader, |n| progress.add(n)).await.map_err(|e| match e {
        Error::Io { source: e, .. } => io_error(&source, "read", e),
        e => e,
    })?;
    writer.close().await?;
    progress.finish();
    Ok(())
}

fn io_error(path: &dyn std::fmt::Display, what: &str, e: std::io::Error) -> Error {
    Error::InvalidArgument(format!("{path}: cannot {what}: {e}"))
}

pub(super) async fn get(client: &Client, remote: &str, local: &Path, force: bool, show_progress: bool) -> Result<()> {
    let st = client.stat(remote).await?;
    if st.is_dir() {
        return Err(Error::InvalidArgument(format!("{remote}: is a directory (get takes files)")));
    }
    if local.as_os_str() == "-" {
        let progress = Progress::new(show_progress, Some(st.length), remote);
        client.download_to(remote, tokio::io::stdout(), |n| progress.add(n)).await?;
        progress.finish();
        return Ok(());
    }
    let local = if local.is_dir() { local.join(basename(remote)) } else { local.to_path_buf() };
    if local.exists() && !force {
        return Err(Error::AlreadyExists(format!("{}: already exists (use -f to overwrite)", local.display())));
    }
    fetch(client, remote, &local, st.length, show_progress).await
}

/// Downloads `remote` (`len` bytes) to `local` with a progress bar, through a temporary sibling
/// renamed at the end: a failed download leaves no partial file.
pub(super) async fn fetch(client: &Client, remote: &str, local: &Path, len: u64, show_progress: bool) -> Result<()> {
    let progress = Progress::new(show_progress, Some(len), remote);
    client.download(remote, local, |n| progress.add(n)).await?;
    progress.finish();
    Ok(())
}

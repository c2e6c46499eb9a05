//! `hdfs put` and `hdfs get`: files in and out, with progress on a terminal; a failed get
//! leaves no partial file.

use std::path::Path;

use hdfs_client::{Client, CreateOptions, Error, Result};

use super::progress::Progress;
use super::{basename, join};

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
    let (reader, size): (Box<dyn tokio::io::AsyncRead + Unpin + Send>, Option<u64>) = if from_stdin {
        (Box::new(tokio::io::stdin()), None)
    } else {
        let f = tokio::fs::File::open(local).await.map_err(|e| io_error(local, "open", e))?;
        let meta = f.metadata().await.map_err(|e| io_error(local, "stat", e))?;
        if meta.is_dir() {
            return Err(Error::InvalidArgument(format!("{}: is a directory (put takes files)", local.display())));
        }
        (Box::new(f), Some(meta.len()))
    };
    let progress = Progress::new(show_progress, size, &remote);
    let mut writer = client.create(&remote, opts).await.map_err(|e| match e {
        Error::AlreadyExists(m) => Error::AlreadyExists(format!("{m} (use -f to overwrite)")),
        Error::NotFound(m) => Error::NotFound(format!("{m} (create it first: hdfs mkdir -p)")),
        e => e,
    })?;
    if !quiet && writer.live_datanodes() < writer.replication() {
        eprintln!(
            "hdfs: put: warning: replication {} but only {} live datanode(s): {remote} stays under-replicated until more join",
            writer.replication(),
            writer.live_datanodes()
        );
    }
    writer.write_from(reader, |n| progress.add(n)).await.map_err(|e| match e {
        Error::Io { source, .. } => io_error(local, "read", source),
        e => e,
    })?;
    writer.close().await?;
    progress.finish();
    Ok(())
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::InvalidArgument(format!("{}: cannot {what}: {e}", path.display()))
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
    // Into a temporary sibling renamed at the end: a failed get leaves no partial file.
    let progress = Progress::new(show_progress, Some(st.length), remote);
    client.download(remote, &local, |n| progress.add(n)).await?;
    progress.finish();
    Ok(())
}

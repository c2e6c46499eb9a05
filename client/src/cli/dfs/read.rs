//! `-cat`, `-head`, `-tail [-f]` and `-getmerge`: file bytes to stdout or one local file.
//! Checksums are verified on every read (`-ignoreCrc` is accepted; the reader has no way to skip
//! them).

use std::time::Duration;

use hdfs_client::{Error, Result};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::args::parse;
use super::paths::Item;
use super::shell::{BadInput, Run, Shell, hadoop_words, is_broken_pipe, stdout_failed};

/// What `-head` and `-tail` show.
const KIB: u64 = 1024;
/// How often `-tail -f` looks at the file's length.
const FOLLOW_POLL: Duration = Duration::from_secs(1);

/// The existing files `args` name; directories are refused (`Is a directory`).
async fn files(sh: &mut Shell, args: &[String]) -> Vec<Item> {
    let mut out = Vec::new();
    for item in sh.existing(args).await {
        if item.is_dir() {
            sh.refuse(&item.shown, "Is a directory");
        } else {
            out.push(item);
        }
    }
    out
}

/// Says why reading `item` failed; if stdout's reader went away (`| head`), ends quietly.
fn failed(sh: &mut Shell, item: &Item, e: Error) {
    if is_broken_pipe(&e) {
        stdout_failed(std::io::ErrorKind::BrokenPipe.into());
    }
    sh.fail(&item.shown, &e);
}

pub async fn cat(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["ignoreCrc"], &[], 1, usize::MAX).map_err(BadInput)?;
    for item in files(sh, &o.args).await {
        if let Err(e) = item.client.download_to(&item.path, tokio::io::stdout(), |_| {}).await {
            failed(sh, &item, e);
        }
    }
    Ok(())
}

pub async fn head(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &[], &[], 1, 1).map_err(BadInput)?;
    for item in files(sh, &o.args).await {
        let copied = async {
            let reader = item.client.open(&item.path).await?;
            let mut out = tokio::io::stdout();
            tokio::io::copy(&mut reader.take(KIB), &mut out).await?;
            out.flush().await?;
            Ok::<(), Error>(())
        };
        if let Err(e) = copied.await {
            failed(sh, &item, e);
        }
    }
    Ok(())
}

pub async fn tail(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["f"], &[], 1, 1).map_err(BadInput)?;
    for item in files(sh, &o.args).await {
        let follow = async {
            // The length readers see: a file being written, up to its writer's last hflush.
            let len = item.client.open(&item.path).await?.len();
            let mut offset = dump_from(&item, len.saturating_sub(KIB)).await?;
            while o.has("f") {
                tokio::time::sleep(FOLLOW_POLL).await;
                offset = dump_from(&item, offset).await?;
            }
            Ok::<(), Error>(())
        };
        if let Err(e) = follow.await {
            failed(sh, &item, e);
        }
    }
    Ok(())
}

/// Writes the file from `offset` to its current end (for a file being written, as far as its
/// writer has hflushed) on stdout; returns where it stopped. A file that shrank (was replaced)
/// is followed from its new end.
async fn dump_from(item: &Item, offset: u64) -> Result<u64> {
    let mut reader = match item.client.open_at(&item.path, offset).await {
        Ok(r) => r,
        Err(Error::InvalidArgument(_)) => return Ok(item.client.open(&item.path).await?.len()),
        Err(e) => return Err(e),
    };
    let mut out = tokio::io::stdout();
    let n = tokio::io::copy(&mut reader, &mut out).await?;
    out.flush().await?;
    Ok(offset + n)
}

/// `-getmerge [-nl] [-skip-empty-file] SRC LOCALDST`: the files SRC names (a directory's files in
/// name order, not recursively) one after the other in one local file.
pub async fn getmerge(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["nl", "skip-empty-file"], &[], 2, 2).map_err(BadInput)?;
    let (src, dst) = (&o.args[0], &o.args[1]);
    let dst_path = super::ends::local_path(dst);
    if std::path::Path::new(dst_path).is_dir() {
        sh.refuse(dst, "Is a directory");
        return Ok(());
    }
    let mut sources = Vec::new();
    for item in sh.existing(std::slice::from_ref(src)).await {
        if !item.is_dir() {
            sources.push(item);
            continue;
        }
        match item.children().await {
            Ok(children) => sources.extend(children.into_iter().filter(|c| !c.is_dir())),
            Err(e) => sh.fail(&item.shown, &e),
        }
    }
    if sources.is_empty() {
        return Ok(());
    }
    let mut out = match tokio::fs::File::create(dst_path).await {
        Ok(f) => f,
        Err(e) => {
            sh.error(format!("`{dst}': {e}"));
            return Ok(());
        }
    };
    for item in sources {
        if o.has("skip-empty-file") && item.len() == 0 {
            continue;
        }
        if let Err(e) = append(&item, &mut out, o.has("nl")).await {
            sh.error(hadoop_words(&item.shown, &e));
        }
    }
    if let Err(e) = out.sync_all().await {
        sh.error(format!("`{dst}': {e}"));
    }
    Ok(())
}

async fn append(item: &Item, out: &mut (impl AsyncWrite + Unpin), newline: bool) -> Result<()> {
    item.client.download_to(&item.path, &mut *out, |_| {}).await?;
    if newline {
        out.write_all(b"\n").await?;
    }
    Ok(())
}

//! `-put`/`-copyFromLocal`/`-moveFromLocal`, `-get`/`-copyToLocal`, `-cp` and `-mv`: Hadoop's
//! `CommandWithDestination`. Several sources go into an existing directory; one source goes to
//! the destination itself, or into it when it is a directory; directories are copied
//! recursively, merging into existing ones; an existing file is replaced only with `-f`.
//!
//! The bytes go through `cli::transfer` (the long-form `put` and `get`'s code): uploads and
//! `-cp` stream into a new file (removed again if the copy fails), downloads go through a
//! temporary file renamed at the end.
//!
//! `-p` keeps each source's modification time and mode (Hadoop's `-p` also keeps the owner and
//! group, which only a superuser may set; and access times, which are not kept here): set on a
//! file once its bytes are written, on a directory once its entries are.

use hdfs_client::Error;

use super::args::parse;
use super::ends::{End, Kind, Said, local, local_words};
use super::paths::Item;
use super::shell::{BadInput, Run, Shell, hadoop_words};
use crate::cli::transfer;

/// What a copy does besides copying.
#[derive(Debug, Clone, Copy)]
struct How {
    overwrite: bool,
    /// `-moveFromLocal`: delete each local source once it is copied.
    move_source: bool,
    /// `-p`: the source's modification time and mode too.
    preserve: bool,
}

/// `-put`, `-copyFromLocal` (`move_source`: `-moveFromLocal`): LOCAL... DST (DST defaults to
/// the home directory).
pub async fn put(sh: &mut Shell, args: &[String], move_source: bool) -> Run {
    let o = parse(args, &["f", "d", "p", "l"], &[], 1, usize::MAX).map_err(BadInput)?;
    if o.has("l") {
        sh.error("-l: not supported yet");
        return Ok(());
    }
    let (srcs, dst_arg) = split_destination(&o.args, ".");
    let dst = match sh.fs.expand_one(&dst_arg).await {
        Ok(item) => End::Remote(item),
        Err(e) => {
            sh.fail(&dst_arg, &e);
            return Ok(());
        }
    };
    let srcs = srcs.iter().map(|s| local(s)).collect();
    let how = How { overwrite: o.has("f"), move_source, preserve: o.has("p") };
    copy_all(sh, srcs, dst, dst_arg.ends_with('/'), how).await;
    Ok(())
}

/// `-get`, `-copyToLocal`: SRC... LOCALDST (LOCALDST defaults to `.`).
pub async fn get(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["f", "p", "ignoreCrc", "crc"], &[], 1, usize::MAX).map_err(BadInput)?;
    if o.has("crc") {
        sh.error("-crc: not supported yet");
        return Ok(());
    }
    let (srcs, dst_arg) = split_destination(&o.args, ".");
    let srcs = sh.existing(&srcs).await.into_iter().map(End::Remote).collect();
    let how = How { overwrite: o.has("f"), move_source: false, preserve: o.has("p") };
    copy_all(sh, srcs, local(&dst_arg), dst_arg.ends_with('/'), how).await;
    Ok(())
}

/// `-cp [-f] [-p] SRC... DST`: bytes read through this client and written anew.
pub async fn cp(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["f", "d", "p"], &[], 2, usize::MAX).map_err(BadInput)?;
    let (srcs, dst_arg) = split_destination(&o.args, ".");
    let srcs: Vec<End> = sh.existing(&srcs).await.into_iter().map(End::Remote).collect();
    let dst = match sh.fs.expand_one(&dst_arg).await {
        Ok(item) => End::Remote(item),
        Err(e) => {
            sh.fail(&dst_arg, &e);
            return Ok(());
        }
    };
    let how = How { overwrite: o.has("f"), move_source: false, preserve: o.has("p") };
    copy_all(sh, srcs, dst, dst_arg.ends_with('/'), how).await;
    Ok(())
}

/// `-mv SRC... DST`: renames within one file system.
pub async fn mv(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &[], &[], 2, usize::MAX).map_err(BadInput)?;
    let (srcs, dst_arg) = split_destination(&o.args, ".");
    let srcs = sh.existing(&srcs).await;
    if srcs.is_empty() {
        return Ok(());
    }
    let mut dst = match sh.fs.expand_one(&dst_arg).await {
        Ok(item) => End::Remote(item),
        Err(e) => {
            sh.fail(&dst_arg, &e);
            return Ok(());
        }
    };
    let Some(into_dir) = check_destination(sh, srcs.len(), &mut dst, dst_arg.ends_with('/'), false).await else {
        return Ok(());
    };
    let End::Remote(dst) = dst else { unreachable!("a remote destination") };
    for src in srcs {
        let mut target = if into_dir { dst.join(src.name()) } else { dst.clone() };
        if src.url != target.url {
            sh.refuse(&src.shown, "Does not match target filesystem");
            continue;
        }
        if target.path.starts_with(&format!("{}/", src.path)) {
            sh.error(format!("`{}' to `{}': is a subdirectory of itself", src.shown, target.shown));
            continue;
        }
        if target.path != src.path {
            match target.refresh().await {
                Ok(()) if target.exists() => {
                    sh.refuse(&target.shown, "File exists");
                    continue;
                }
                Ok(()) => {}
                Err(e) => {
                    sh.fail(&target.shown, &e);
                    continue;
                }
            }
        }
        if let Err(e) = src.client.rename(&src.path, &target.path).await {
            sh.fail(&src.shown, &e);
        }
    }
    Ok(())
}

/// The sources and the destination (the last argument, or `default` when there is one only).
fn split_destination(args: &[String], default: &str) -> (Vec<String>, String) {
    match args {
        [only] => (vec![only.clone()], default.to_string()),
        [srcs @ .., dst] => (srcs.to_vec(), dst.clone()),
        [] => (Vec::new(), default.to_string()),
    }
}

/// Hadoop's checks of a destination before anything is copied: several sources need an
/// existing directory; one source needs a destination that is a directory, absent (with its
/// parent there), or (`-f`) a file. Returns whether the sources go into it, `None` if refused.
async fn check_destination(
    sh: &mut Shell,
    sources: usize,
    dst: &mut End,
    trailing_slash: bool,
    overwrite: bool,
) -> Option<bool> {
    let kind = match dst.kind().await {
        Ok(k) => k,
        Err(said) => {
            sh.error(said);
            return None;
        }
    };
    let shown = dst.shown().to_string();
    match kind {
        Some(Kind::Dir) => return Some(true),
        None if sources > 1 || trailing_slash => sh.refuse(&shown, "No such file or directory"),
        Some(Kind::File(_)) if sources > 1 => sh.refuse(&shown, "Is not a directory"),
        Some(Kind::File(_)) if !overwrite => sh.refuse(&shown, "File exists"),
        Some(Kind::File(_)) => return Some(false),
        None => match dst.parent_kind().await {
            Ok(Some(Kind::Dir)) => return Some(false),
            Ok(Some(Kind::File(_))) => sh.refuse(&shown, "Is not a directory"),
            Ok(None) => sh.refuse(&shown, "No such file or directory"),
            Err(said) => sh.error(said),
        },
    }
    None
}

async fn copy_all(sh: &mut Shell, srcs: Vec<End>, mut dst: End, trailing_slash: bool, how: How) {
    if srcs.is_empty() {
        return;
    }
    let Some(into_dir) = check_destination(sh, srcs.len(), &mut dst, trailing_slash, how.overwrite).await else {
        return;
    };
    for mut src in srcs {
        let kind = match src.kind().await {
            Ok(Some(k)) => k,
            Ok(None) => {
                sh.refuse(src.shown(), "No such file or directory");
                continue;
            }
            Err(said) => {
                sh.error(said);
                continue;
            }
        };
        if into_dir && matches!(&src, End::Local { path, .. } if path.as_os_str() == "-") {
            sh.refuse(dst.shown(), "Is a directory");
            continue;
        }
        let target = if into_dir { dst.join(&src.name()) } else { dst.clone() };
        if let (End::Remote(s), End::Remote(t)) = (&src, &target)
            && kind == Kind::Dir
            && s.url == t.url
            && (t.path == s.path || t.path.starts_with(&format!("{}/", s.path)))
        {
            let why = if t.path == s.path { "are identical" } else { "is a subdirectory of itself" };
            sh.error(format!("`{}' to `{}': {why}", s.shown, t.shown));
            continue;
        }
        let ok = copy_tree(sh, src.clone(), kind, target, how).await;
        if how.move_source
            && ok
            && let End::Local { path, shown } = &src
            && path.as_os_str() != "-"
        {
            let removed = if kind == Kind::Dir { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
            if let Err(e) = removed {
                sh.error(local_words(shown, &e));
            }
        }
    }
}

/// Copies `src` (a `kind`) to `target`, a directory's entries one by one; says each failure and
/// goes on. Returns whether everything was copied.
async fn copy_tree(sh: &mut Shell, mut src: End, kind: Kind, mut target: End, how: How) -> bool {
    let target_kind = match target.kind().await {
        Ok(k) => k,
        Err(said) => {
            sh.error(said);
            return false;
        }
    };
    let Kind::File(size) = kind else {
        match target_kind {
            Some(Kind::Dir) => {}
            Some(Kind::File(_)) => {
                sh.refuse(target.shown(), "Is not a directory");
                return false;
            }
            None => {
                if let Err(said) = target.mkdir().await {
                    sh.error(said);
                    return false;
                }
            }
        }
        let children = match src.children().await {
            Ok(c) => c,
            Err(said) => {
                sh.error(said);
                return false;
            }
        };
        let mut ok = true;
        for mut child in children {
            let child_kind = match child.kind().await {
                Ok(Some(k)) => k,
                Ok(None) => continue, // gone meanwhile
                Err(said) => {
                    sh.error(said);
                    ok = false;
                    continue;
                }
            };
            let child_target = target.join(&child.name());
            ok &= Box::pin(copy_tree(sh, child, child_kind, child_target, how)).await;
        }
        // As Hadoop's: once the entries are written, whether or not each was.
        return ok & (!how.preserve || preserve(sh, &mut src, &target).await);
    };
    match target_kind {
        Some(Kind::Dir) => {
            sh.refuse(target.shown(), "Is a directory");
            return false;
        }
        Some(Kind::File(_)) if !how.overwrite => {
            sh.refuse(target.shown(), "File exists");
            return false;
        }
        _ => {}
    }
    match copy_file(sh, &src, size, &target, how.overwrite).await {
        Ok(()) => !how.preserve || preserve(sh, &mut src, &target).await,
        Err(said) => {
            sh.error(said);
            false
        }
    }
}

/// `-p`: gives `target` the modification time and mode of `src`; says a failure.
async fn preserve(sh: &mut Shell, src: &mut End, target: &End) -> bool {
    let done = match src.attrs().await {
        Ok(Some(attrs)) => target.set_attrs(attrs).await,
        Ok(None) => Ok(()),
        Err(said) => Err(said),
    };
    done.map_err(|said| sh.error(said)).is_ok()
}

async fn copy_file(sh: &Shell, src: &End, size: Option<u64>, target: &End, overwrite: bool) -> Result<(), Said> {
    match (src, target) {
        (End::Local { path, shown }, End::Remote(t)) => {
            let (reader, size) = transfer::open_local(path).await.map_err(|e| match e {
                Error::InvalidArgument(m) if m.contains("cannot open") => format!("`{shown}': {}", open_why(&m)),
                e => e.to_string(),
            })?;
            upload(sh, reader, size, shown, t, overwrite).await
        }
        (End::Remote(s), End::Local { path, .. }) => {
            transfer::fetch(&s.client, &s.path, path, size.unwrap_or(0), sh.show_progress)
                .await
                .map_err(|e| hadoop_words(&s.shown, &e))
        }
        (End::Remote(s), End::Remote(t)) => {
            if s.url == t.url && s.path == t.path {
                return Err(format!("`{}' to `{}': are identical", s.shown, t.shown));
            }
            let reader = s.client.open(&s.path).await.map_err(|e| hadoop_words(&s.shown, &e))?;
            upload(sh, reader, size, &s.shown, t, overwrite).await
        }
        (End::Local { .. }, End::Local { .. }) => unreachable!("no verb copies local to local"),
    }
}

/// The OS's reason from `transfer::open_local`'s `PATH: cannot open: REASON`.
fn open_why(message: &str) -> &str {
    let why = message.rsplit(": ").next().unwrap_or(message);
    if why.starts_with("No such file or directory") { "No such file or directory" } else { why }
}

/// Streams `reader` into a new file at `t`; if that fails after the file was created, the
/// partial file is removed.
async fn upload(
    sh: &Shell,
    reader: impl tokio::io::AsyncRead + Unpin,
    size: Option<u64>,
    source: &str,
    t: &Item,
    overwrite: bool,
) -> Result<(), Said> {
    let mut writer =
        t.client.create(&t.path, sh.create_options(overwrite)).await.map_err(|e| hadoop_words(&t.shown, &e))?;
    if !sh.quiet {
        transfer::warn_under_replicated(&writer, &sh.verb);
    }
    if let Err(e) = transfer::write_all(&mut writer, reader, size, source, sh.show_progress).await {
        drop(writer);
        let _ = t.client.delete(&t.path, false).await;
        return Err(hadoop_words(&t.shown, &e));
    }
    Ok(())
}

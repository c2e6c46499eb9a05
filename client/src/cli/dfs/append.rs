//! The verbs that change a file's length: `-appendToFile LOCALSRC... DST` (Hadoop's
//! `AppendToFile`: local files, or `-` for standard input, added in order to the end of DST,
//! which is made if it does not exist; every source is checked before anything is written, so a
//! missing one changes nothing), `-truncate [-w] LENGTH PATH...` (Hadoop's `Truncate`) and
//! `-concat TARGET SRC...` (Hadoop's `Concat`: the sources' blocks moved to the target's end).

use std::time::Duration;

use tokio::io::AsyncRead;

use super::args::parse;
use super::shell::{BadInput, Run, Shell, say};

pub async fn append_to_file(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &[], &[], 2, usize::MAX).map_err(BadInput)?;
    let (srcs, dst) = o.args.split_at(o.args.len() - 1);
    for src in srcs.iter().filter(|s| *s != "-") {
        let why = match std::fs::metadata(super::ends::local_path(src)) {
            Ok(m) if m.is_dir() => "Is a directory",
            Ok(_) => continue,
            Err(_) => "No such file or directory",
        };
        sh.refuse(src, why);
        return Ok(());
    }
    let Some(item) = sh.expand(&dst[0]).await.into_iter().next() else { return Ok(()) };
    if item.is_dir() {
        sh.refuse(&item.shown, "Is a directory");
        return Ok(());
    }
    let opened = match &item.stat {
        Some(_) => item.client.append(&item.path).await,
        None => item.client.create(&item.path, sh.create_options(false)).await,
    };
    let mut w = match opened {
        Ok(w) => w,
        Err(e) => {
            sh.fail(&item.shown, &e);
            return Ok(());
        }
    };
    for src in srcs {
        let input: Box<dyn AsyncRead + Unpin> = if src == "-" {
            Box::new(tokio::io::stdin())
        } else {
            match tokio::fs::File::open(super::ends::local_path(src)).await {
                Ok(f) => Box::new(f),
                Err(e) => {
                    sh.error(format!("`{src}': {e}"));
                    break;
                }
            }
        };
        if let Err(e) = w.write_from(input, |_| {}).await {
            sh.fail(&item.shown, &e);
            return Ok(()); // the writer is gone: its lease lapses and recovery closes the file
        }
    }
    if let Err(e) = w.close().await {
        sh.fail(&item.shown, &e);
    }
    Ok(())
}

/// How often `-truncate -w` looks whether block recovery has closed the file.
const RECOVERY_POLL: Duration = Duration::from_millis(200);

pub async fn truncate(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["w"], &[], 2, usize::MAX).map_err(BadInput)?;
    let length: u64 = o.args[0].parse().map_err(|_| BadInput(format!("Illegal length '{}'", o.args[0])))?;
    let mut waiting = Vec::new();
    for item in sh.existing(&o.args[1..]).await {
        if item.is_dir() {
            sh.refuse(&item.shown, "Is a directory");
            continue;
        }
        match item.client.truncate(&item.path, length).await {
            Ok(true) => say(format_args!("Truncated {} to length: {length}\n", item.shown)),
            Ok(false) if o.has("w") => waiting.push(item),
            Ok(false) => say(format_args!(
                "Truncating {} to length: {length}. Wait for block recovery to complete before further updating this file.\n",
                item.shown
            )),
            Err(e) => sh.fail(&item.shown, &e),
        }
    }
    for item in waiting {
        say(format_args!("Waiting for {} ...\n", item.shown));
        loop {
            match item.client.stat(&item.path).await {
                Ok(st) if !st.under_construction => break,
                Ok(_) => tokio::time::sleep(RECOVERY_POLL).await,
                Err(e) => {
                    sh.fail(&item.shown, &e);
                    break;
                }
            }
        }
        say(format_args!("Truncated {} to length: {length}\n", item.shown));
    }
    Ok(())
}

pub async fn concat(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &[], &[], 2, usize::MAX).map_err(BadInput)?;
    let mut items = sh.existing(&o.args).await;
    if items.len() < 2 {
        return Ok(());
    }
    let target = items.remove(0);
    let sources: Vec<&str> = items.iter().map(|i| i.path.as_str()).collect();
    if let Err(e) = target.client.concat(&target.path, &sources).await {
        sh.fail(&target.shown, &e);
    }
    Ok(())
}

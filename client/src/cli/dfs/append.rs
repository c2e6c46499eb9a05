//! `-appendToFile LOCALSRC... DST` (Hadoop's `AppendToFile`): local files, or `-` for standard
//! input, added in order to the end of DST, which is made if it does not exist. Every source is
//! checked before anything is written: a missing one changes nothing.

use tokio::io::AsyncRead;

use super::args::parse;
use super::shell::{BadInput, Run, Shell};

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

//! `-mkdir`, `-touchz`, `-touch`, `-rm`, `-rmdir` and `-setrep`: changes to the namespace, each
//! path checked first as Hadoop's shell checks it, so its errors are Hadoop's.
//!
//! There is no trash: `-rm` deletes at once whether or not `-skipTrash` is given, and says
//! `Deleted PATH` as Hadoop does when it skips the trash.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdfs_client::{Error, Result};

use super::args::parse;
use super::paths::Item;
use super::shell::{BadInput, Run, Shell, say};
use crate::cli::format::days_from_civil;

/// Why a path cannot be created: its parent is missing or a file. `None` when it can.
async fn parent_problem(item: &Item) -> Result<Option<&'static str>> {
    Ok(match item.parent().await? {
        Some(p) if !p.exists() => Some("No such file or directory"),
        Some(p) if !p.is_dir() => Some("Is not a directory"),
        _ => None,
    })
}

/// Says why `item` cannot be created, if it cannot; returns whether it can.
async fn creatable(sh: &mut Shell, item: &Item) -> bool {
    match parent_problem(item).await {
        Ok(None) => true,
        Ok(Some(why)) => {
            sh.refuse(&item.shown, why);
            false
        }
        Err(e) => {
            sh.fail(&item.shown, &e);
            false
        }
    }
}

/// The paths of every argument, looked up (missing ones included, with no status).
async fn all(sh: &mut Shell, args: &[String]) -> Vec<Item> {
    let mut out = Vec::new();
    for a in args {
        out.extend(sh.expand(a).await);
    }
    out
}

pub async fn mkdir(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["p"], &[], 1, usize::MAX).map_err(BadInput)?;
    let parents = o.has("p");
    for item in all(sh, &o.args).await {
        match &item.stat {
            Some(st) if st.is_dir() => {
                if !parents {
                    sh.refuse(&item.shown, "File exists");
                }
            }
            Some(_) => sh.refuse(&item.shown, "Is not a directory"),
            None => {
                if !parents && !creatable(sh, &item).await {
                    continue;
                }
                if let Err(e) = item.client.mkdirs(&item.path, parents).await {
                    sh.fail(&item.shown, &e);
                }
            }
        }
    }
    Ok(())
}

/// Creates (or replaces) `item` as an empty file; returns whether it did (a failure is said).
async fn create_empty(sh: &mut Shell, item: &Item) -> bool {
    let opts = sh.create_options(true);
    let created = async {
        let mut w = item.client.create(&item.path, opts).await?;
        w.close().await
    };
    created.await.map_err(|e| sh.fail(&item.shown, &e)).is_ok()
}

/// `-touchz PATH...`: an empty file; an existing one must be empty (it is created anew).
pub async fn touchz(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &[], &[], 1, usize::MAX).map_err(BadInput)?;
    for item in all(sh, &o.args).await {
        match &item.stat {
            Some(st) if st.is_dir() => sh.refuse(&item.shown, "Is a directory"),
            Some(st) if st.length != 0 => sh.refuse(&item.shown, "Not a zero-length file"),
            Some(_) => {
                create_empty(sh, &item).await;
            }
            None if creatable(sh, &item).await => {
                create_empty(sh, &item).await;
            }
            None => {}
        }
    }
    Ok(())
}

/// `-touch [-a] [-m] [-t TIMESTAMP] [-c] PATH...`: sets each file's modification time to now
/// (or TIMESTAMP, `yyyyMMdd:HHmmss` in UTC), creating an empty file where there is none (`-c`:
/// none created). There are no access times: `-a` alone creates what is missing and changes
/// nothing else.
pub async fn touch(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["a", "m", "c"], &["t"], 1, usize::MAX).map_err(BadInput)?;
    let at = match o.value("t") {
        Some(t) => Some(touch_time(t).ok_or_else(|| BadInput(format!("Unable to parse the specified timestamp {t}")))?),
        None => None,
    };
    let set_mtime = o.has("m") || !o.has("a");
    for item in all(sh, &o.args).await {
        let time = match &item.stat {
            Some(st) if st.is_dir() => {
                sh.refuse(&item.shown, "Is a directory");
                continue;
            }
            Some(_) => at.unwrap_or_else(SystemTime::now),
            None => {
                if !creatable(sh, &item).await || o.has("c") || !create_empty(sh, &item).await {
                    continue;
                }
                // A new file has the time it was created, unless -t names another.
                match at {
                    Some(t) => t,
                    None => continue,
                }
            }
        };
        if set_mtime && let Err(e) = item.client.set_times(&item.path, time).await {
            sh.fail(&item.shown, &e);
        }
    }
    Ok(())
}

/// `-touch -t`'s `yyyyMMdd:HHmmss` (Hadoop's format), read as UTC as every time here is shown.
fn touch_time(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 15 || b[8] != b':' || !b.iter().enumerate().all(|(i, c)| i == 8 || c.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text[r].parse::<u32>().ok();
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
    let days = days_from_civil(i64::from(y), mo, d)?;
    if y < 1970 || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let secs = days as u64 * 86_400 + u64::from(h * 3600 + mi * 60 + s);
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// `-rm [-f] [-r|-R] [-skipTrash] PATH...`.
pub async fn rm(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["f", "r", "R", "skipTrash", "safely"], &[], 1, usize::MAX).map_err(BadInput)?;
    let (force, recursive) = (o.has("f"), o.has("r") || o.has("R"));
    for arg in &o.args {
        let items = match sh.fs.expand(arg).await {
            Ok(items) => items,
            Err(Error::NotFound(_)) if force => continue,
            Err(e) => {
                sh.fail(arg, &e);
                continue;
            }
        };
        for item in items {
            match &item.stat {
                None if force => {}
                None => sh.refuse(&item.shown, "No such file or directory"),
                Some(st) if st.is_dir() && !recursive => sh.refuse(&item.shown, "Is a directory"),
                Some(_) => match item.client.delete(&item.path, recursive).await {
                    Ok(()) => say(format_args!("Deleted {}\n", item.shown)),
                    Err(Error::NotFound(_)) if force => {}
                    Err(e) => sh.fail(&item.shown, &e),
                },
            }
        }
    }
    Ok(())
}

/// `-rmdir [--ignore-fail-on-non-empty] DIR...`: empty directories only.
pub async fn rmdir(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["-ignore-fail-on-non-empty"], &[], 1, usize::MAX).map_err(BadInput)?;
    for item in sh.existing(&o.args).await {
        let Some(st) = &item.stat else { continue };
        if !st.is_dir() {
            sh.refuse(&item.shown, "Is not a directory");
        } else if st.children > 0 {
            if !o.has("-ignore-fail-on-non-empty") {
                sh.refuse(&item.shown, "Directory is not empty");
            }
        } else if let Err(e) = item.client.delete(&item.path, false).await {
            sh.fail(&item.shown, &e);
        }
    }
    Ok(())
}

/// `-setrep [-R] [-w] N PATH...`: the long-form `setrep` for each path (every file below a
/// directory; `-R` is accepted, as Hadoop keeps it for compatibility).
pub async fn setrep(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["R", "w"], &[], 2, usize::MAX).map_err(BadInput)?;
    let n: i64 = o.args[0].parse().map_err(|_| BadInput("Illegal replication, a positive integer expected".into()))?;
    if n < 1 {
        return Err(BadInput("replication must be >= 1".into()));
    }
    let n = u32::try_from(n)
        .ok()
        .and_then(|n| crate::cli::check_replication(n).ok())
        .ok_or_else(|| BadInput(format!("replication {n} is out of range (1..={})", hdfs_proto::MAX_REPLICATION)))?;
    for item in sh.existing(&o.args[1..]).await {
        if let Err(e) = crate::cli::setrep(&item.client, &item.path, n, o.has("w"), sh.show_progress, sh.quiet).await {
            sh.fail(&item.shown, &e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_timestamps_are_hadoops_format_in_utc() {
        let at = |t: &str| touch_time(t).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs());
        assert_eq!(at("20180809:230000"), Some(1_533_855_600));
        assert_eq!(at("19700101:000000"), Some(0));
        assert_eq!(at("20000229:010101"), Some(951_786_061));
        assert_eq!(at("20261128:000059"), Some(1_795_824_059));
        for bad in [
            "2018080923000",
            "20180809230000",
            "20180809:2300",
            "20181309:230000",
            "20180230:230000",
            "20190229:000000",
            "20180800:000000",
            "20180809:240000",
            "20180809:236000",
            "20180809:230060",
            "19691231:235959",
            "2018O809:230000",
            "+0180809:230000",
            "",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }
}

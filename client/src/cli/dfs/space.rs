//! `-count`, `-du` and `-df`: space in Hadoop's columns.
//!
//! There are no quotas yet: `-count -q` prints Hadoop's columns for a directory without any
//! (`none inf none inf`).

use hdfs_client::ContentSummary;

use super::args::parse;
use super::paths::Item;
use super::shell::{BadInput, Run, Shell, say};
use crate::cli::format::hadoop_size;

/// `ContentSummary`'s `%12s %12s %18s ` and `QuotaUsage`'s `%12s %15s %15s %15s `.
fn summary_columns(dirs: &str, files: &str, size: &str) -> String {
    format!("{dirs:>12} {files:>12} {size:>18} ")
}

fn quota_columns(quota: &str, rem: &str, space_quota: &str, space_rem: &str) -> String {
    format!("{quota:>12} {rem:>15} {space_quota:>15} {space_rem:>15} ")
}

pub async fn count(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["q", "h", "v"], &[], 1, usize::MAX).map_err(BadInput)?;
    let (quotas, human) = (o.has("q"), o.has("h"));
    if o.has("v") {
        let q =
            if quotas { quota_columns("QUOTA", "REM_QUOTA", "SPACE_QUOTA", "REM_SPACE_QUOTA") } else { String::new() };
        say(format_args!("{q}{}PATHNAME\n", summary_columns("DIR_COUNT", "FILE_COUNT", "CONTENT_SIZE")));
    }
    for item in sh.existing(&o.args).await {
        let s = match item.client.content_summary(&item.path).await {
            Ok(s) => s,
            Err(e) => {
                sh.fail(&item.shown, &e);
                continue;
            }
        };
        let q = if quotas { quota_columns("none", "inf", "none", "inf") } else { String::new() };
        let size = |n| hadoop_size(n, human);
        say(format_args!(
            "{q}{}{}\n",
            summary_columns(&size(s.directory_count), &size(s.file_count), &size(s.length)),
            item.shown
        ));
    }
    Ok(())
}

/// Hadoop's `TableBuilder`: columns as wide as their widest cell, two spaces apart; `right`
/// says which are right-aligned; the last left-aligned column is not padded.
fn table(rows: &[Vec<String>], right: &[bool]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> =
        (0..columns).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if right[c] {
                    format!("{cell:>w$}", w = widths[c])
                } else if c + 1 == columns {
                    cell.clone()
                } else {
                    format!("{cell:<w$}", w = widths[c])
                }
            })
            .collect();
        out += &cells.join("  ");
        out.push('\n');
    }
    out
}

/// `-du [-s] [-h] [-v] PATH...`: `size  disk_space_consumed_with_all_replicas  path`, per entry
/// of a directory (one level) or, with `-s`, per path.
pub async fn du(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["s", "h", "v", "x"], &[], 0, usize::MAX).map_err(BadInput)?;
    let paths = if o.args.is_empty() { vec![".".to_string()] } else { o.args.clone() };
    let mut rows: Vec<Vec<String>> = Vec::new();
    if o.has("v") {
        rows.push(vec!["SIZE".into(), "DISK_SPACE_CONSUMED_WITH_ALL_REPLICAS".into(), "FULL_PATH_NAME".into()]);
    }
    let header = rows.len();
    for item in sh.existing(&paths).await {
        let entries: Vec<Item> = if !o.has("s") && item.is_dir() {
            match item.children().await {
                Ok(c) => c,
                Err(e) => {
                    sh.fail(&item.shown, &e);
                    continue;
                }
            }
        } else {
            vec![item]
        };
        for e in entries {
            match e.client.content_summary(&e.path).await {
                Ok(ContentSummary { length, space_consumed, .. }) => rows.push(vec![
                    hadoop_size(length, o.has("h")),
                    hadoop_size(space_consumed, o.has("h")),
                    e.shown.clone(),
                ]),
                Err(err) => sh.fail(&e.shown, &err),
            }
        }
    }
    if rows.len() > header {
        say(table(&rows, &[false; 3]));
    }
    Ok(())
}

/// `-df [-h] [PATH...]`: the capacity of the file system each PATH is on: the totals of its
/// live datanodes.
pub async fn df(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["h"], &[], 0, usize::MAX).map_err(BadInput)?;
    let paths = if o.args.is_empty() { vec!["/".to_string()] } else { o.args.clone() };
    let mut rows: Vec<Vec<String>> =
        vec![vec!["Filesystem", "Size", "Used", "Available", "Use%"].into_iter().map(String::from).collect()];
    for item in sh.existing(&paths).await {
        let nodes = match item.client.datanode_report().await {
            Ok(n) => n,
            Err(e) => {
                sh.fail(&item.shown, &e);
                continue;
            }
        };
        let live = nodes.iter().filter(|n| n.state != "dead");
        let (size, used, free) = live.fold((0, 0, 0), |(s, u, f), n| (s + n.capacity, u + n.used, f + n.remaining));
        let percent = if size == 0 { 0.0 } else { used as f64 * 100.0 / size as f64 };
        let authority = item.url.split(',').next().unwrap_or_default();
        rows.push(vec![
            format!("hdfs://{}", authority.trim_start_matches("http://").trim_start_matches("https://")),
            hadoop_size(size, o.has("h")),
            hadoop_size(used, o.has("h")),
            hadoop_size(free, o.has("h")),
            format!("{percent:.0}%"),
        ]);
    }
    if rows.len() > 1 {
        say(table(&rows, &[false, true, true, true, true]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_as_hadoop_prints_them() {
        assert_eq!(format!("{}/d", summary_columns("1", "2", "30")), "           1            2                 30 /d");
        assert_eq!(
            quota_columns("none", "inf", "none", "inf"),
            "        none             inf            none             inf "
        );
        let rows = vec![
            vec!["10".to_string(), "30".to_string(), "/a".to_string()],
            vec!["1000".to_string(), "3".to_string(), "/bb".to_string()],
        ];
        assert_eq!(table(&rows, &[false; 3]), "10    30  /a\n1000  3   /bb\n");
        assert_eq!(table(&rows, &[false, true, false]), "10    30  /a\n1000   3  /bb\n");
    }
}

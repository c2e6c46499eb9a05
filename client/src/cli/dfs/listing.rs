//! `-ls`, `-stat`, `-find` and `-test`: looking at paths, in Hadoop's output formats.
//!
//! The file system has no permissions, owners, groups or access times yet. `-ls` prints its
//! lines with Hadoop's own format and those fields empty (Hadoop's format then drops the owner
//! and group columns): `d   -          0 2026-12-01 21:39 /user/alice`; `-stat`'s `%u %g %a %A
//! %x %X` print nothing. When the fields exist, [`mode_owner_group`] is the one place to fill.

use std::cmp::Ordering;

use hdfs_client::FileStatus;

use super::args::parse;
use super::glob::Glob;
use super::paths::Item;
use super::shell::{BadInput, Run, Shell, say};
use crate::cli::format::{hadoop_size, utc_minutes, utc_seconds};

/// Permission string, owner and group of an entry: none exist yet, so all empty.
fn mode_owner_group(_st: &FileStatus) -> (&'static str, &'static str, &'static str) {
    ("", "", "")
}

/// `-ls`'s settings and the column widths, which only grow over one command (as Hadoop's).
struct Ls {
    path_only: bool,
    dir_recurse: bool,
    recursive: bool,
    human: bool,
    by_time: bool,
    by_size: bool,
    reverse: bool,
    repl_width: usize,
    len_width: usize,
}

pub async fn ls(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["C", "d", "h", "R", "t", "S", "r", "u"], &[], 0, usize::MAX).map_err(BadInput)?;
    let paths = if o.args.is_empty() { vec![".".to_string()] } else { o.args.clone() };
    let mut ls = Ls {
        path_only: o.has("C"),
        dir_recurse: !o.has("d"),
        recursive: o.has("R") && !o.has("d"),
        human: o.has("h"),
        // -u: access times are not kept, so the modification time serves for both.
        by_time: o.has("t"),
        by_size: !o.has("t") && o.has("S"),
        reverse: o.has("r"),
        repl_width: 3,
        len_width: 10,
    };
    for item in sh.existing(&paths).await {
        if ls.dir_recurse && item.is_dir() {
            ls.list(sh, &item).await;
        } else {
            ls.print(std::slice::from_ref(&item));
        }
    }
    Ok(())
}

impl Ls {
    /// A directory's entries: `Found N items` and sorted unless recursive (as Hadoop's).
    async fn list(&mut self, sh: &mut Shell, dir: &Item) {
        let mut children = match dir.children().await {
            Ok(c) => c,
            Err(e) => return sh.fail(&dir.shown, &e),
        };
        if !self.recursive && !children.is_empty() {
            if !self.path_only {
                say(format_args!("Found {} items\n", children.len()));
            }
            children.sort_by(|a, b| self.order(a, b));
        }
        for child in children {
            self.print(std::slice::from_ref(&child));
            if self.recursive && child.is_dir() {
                Box::pin(self.list(sh, &child)).await;
            }
        }
    }

    fn order(&self, a: &Item, b: &Item) -> Ordering {
        let (sa, sb) = (a.stat.as_ref(), b.stat.as_ref());
        let o = if self.by_time {
            sb.map(|s| s.modification_time_ms).cmp(&sa.map(|s| s.modification_time_ms))
        } else if self.by_size {
            b.len().cmp(&a.len())
        } else {
            a.shown.cmp(&b.shown)
        };
        if self.reverse { o.reverse() } else { o }
    }

    fn print(&mut self, items: &[Item]) {
        if self.path_only {
            for i in items {
                say(format_args!("{}\n", i.shown));
            }
            return;
        }
        for i in items.iter().filter_map(|i| i.stat.as_ref()) {
            self.repl_width = self.repl_width.max(i.replication.to_string().len());
            self.len_width = self.len_width.max(i.length.to_string().len());
        }
        for i in items {
            let Some(st) = &i.stat else { continue };
            let (mode, owner, group) = mode_owner_group(st);
            let kind = if st.is_dir() { 'd' } else { '-' };
            let repl = if st.is_dir() { "-".to_string() } else { st.replication.to_string() };
            // Hadoop's `%-Ns ` owner and group columns vanish when both are empty.
            let owner = if owner.is_empty() { String::new() } else { format!("{owner} ") };
            let group = if group.is_empty() { String::new() } else { format!("{group} ") };
            say(format_args!(
                "{kind}{mode} {repl:>rw$} {owner}{group}{size:>lw$} {} {}\n",
                utc_minutes(st.modification_time()),
                i.shown,
                size = hadoop_size(st.length, self.human),
                rw = self.repl_width,
                lw = self.len_width,
            ));
        }
    }
}

/// `-stat [-R] [FORMAT] PATH...` (FORMAT holds a `%`; default `%y`).
pub async fn stat(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["R"], &[], 1, usize::MAX).map_err(BadInput)?;
    let mut paths = o.args.clone();
    let format = if paths[0].contains('%') { paths.remove(0) } else { "%y".to_string() };
    if paths.is_empty() {
        return Err(BadInput("Not enough arguments: expected 1 but got 0".into()));
    }
    for item in sh.existing(&paths).await {
        stat_tree(sh, &item, &format, o.has("R")).await;
    }
    Ok(())
}

async fn stat_tree(sh: &mut Shell, item: &Item, format: &str, recursive: bool) {
    if let Some(st) = &item.stat {
        say(format_args!("{}\n", stat_line(format, item.name(), st)));
    }
    if recursive && item.is_dir() {
        match item.children().await {
            Ok(children) => {
                for c in children {
                    Box::pin(stat_tree(sh, &c, format, true)).await;
                }
            }
            Err(e) => sh.fail(&item.shown, &e),
        }
    }
}

/// One line of `-stat`: Hadoop's conversions; an unknown `%c` is `c`, as Hadoop leaves it.
fn stat_line(format: &str, name: &str, st: &FileStatus) -> String {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(conv) = chars.next() else { break };
        match conv {
            'b' => out += &st.length.to_string(),
            'F' => out += if st.is_dir() { "directory" } else { "regular file" },
            'n' => out += name,
            'o' => out += &st.block_size.to_string(),
            'r' => out += &st.replication.to_string(),
            'y' => out += &utc_seconds(st.modification_time()),
            'Y' => out += &st.modification_time_ms.to_string(),
            'u' | 'g' | 'a' | 'A' => {
                let (mode, owner, group) = mode_owner_group(st);
                out += match conv {
                    'u' => owner,
                    'g' => group,
                    _ => mode,
                };
            }
            'x' | 'X' => {} // no access times yet
            c => out.push(c),
        }
    }
    out
}

/// `-find PATH... [-name P | -iname P | -print | -print0]...`: every path below (and
/// including) each PATH that matches all the expressions.
pub async fn find(sh: &mut Shell, args: &[String]) -> Run {
    let split = args.iter().position(|a| a.starts_with('-') && a.len() > 1).unwrap_or(args.len());
    let paths = if split == 0 { vec![".".to_string()] } else { args[..split].to_vec() };
    let (mut names, mut terminator) = (Vec::new(), '\n');
    let mut expr = args[split..].iter();
    while let Some(e) = expr.next() {
        match e.as_str() {
            "-name" | "-iname" => {
                let pattern = expr.next().ok_or_else(|| BadInput(format!("{e}: a pattern is needed")))?;
                names.push(Glob::new(pattern, e == "-iname").map_err(BadInput)?);
            }
            "-print" => terminator = '\n',
            "-print0" => terminator = '\0',
            e => return Err(BadInput(format!("Unexpected argument: {e}"))),
        }
    }
    for item in sh.existing(&paths).await {
        find_tree(sh, &item, &names, terminator).await;
    }
    Ok(())
}

async fn find_tree(sh: &mut Shell, item: &Item, names: &[Glob], terminator: char) {
    if names.iter().all(|g| g.matches(item.name())) {
        say(format_args!("{}{terminator}", item.shown));
    }
    if item.is_dir() {
        match item.children().await {
            Ok(children) => {
                for c in children {
                    Box::pin(find_tree(sh, &c, names, terminator)).await;
                }
            }
            Err(e) => sh.fail(&item.shown, &e),
        }
    }
}

/// `-test -e|-d|-f|-s|-z|-w|-r PATH`: exit status 0 if true, 1 if false; nothing printed.
/// `-r` and `-w` are "exists" until there are permissions to check.
pub async fn test(sh: &mut Shell, args: &[String]) -> Run {
    const FLAGS: [&str; 7] = ["e", "d", "f", "s", "z", "w", "r"];
    let o = parse(args, &FLAGS, &[], 1, 1).map_err(BadInput)?;
    let given: Vec<&str> = FLAGS.into_iter().filter(|f| o.has(f)).collect();
    let flag = match given.as_slice() {
        [] => return Err(BadInput("No test flag given".into())),
        [f] => *f,
        _ => return Err(BadInput("Only one test flag is allowed".into())),
    };
    let items = match sh.fs.expand(&o.args[0]).await {
        Ok(items) => items,
        Err(e) => {
            sh.fail(&o.args[0], &e);
            return Ok(());
        }
    };
    for item in items {
        let yes = item.stat.as_ref().is_some_and(|st| match flag {
            "d" => st.is_dir(),
            "f" => !st.is_dir(),
            "s" => st.length > 0,
            "z" => st.length == 0,
            _ => true, // e, r, w
        });
        if !yes {
            sh.status = 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdfs_client::FileKind;

    #[test]
    fn stat_formats_like_hadoop() {
        let st = FileStatus {
            path: "/d/f.txt".into(),
            kind: FileKind::File,
            length: 12,
            replication: 3,
            block_size: 1 << 20,
            modification_time_ms: 1_795_824_000_123,
            under_construction: false,
            children: 0,
        };
        assert_eq!(stat_line("%n %b %r %o %F %Y", "f.txt", &st), "f.txt 12 3 1048576 regular file 1795824000123");
        assert_eq!(stat_line("%y", "f.txt", &st), "2026-11-28 00:00:00");
        assert_eq!(stat_line("[%u:%g] %% %q", "f.txt", &st), "[:] % q");
    }
}

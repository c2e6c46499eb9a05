//! `-ls`, `-stat`, `-find` and `-test`: looking at paths, in Hadoop's output formats.
//!
//! `-ls` prints Hadoop's line, `drwxr-xr-x   - alice supergroup          0 2026-12-01 21:39
//! /user/alice` (type and mode, replication or `-`, owner, group, size, modification time in
//! UTC, path), the replication, owner, group and size columns as wide as the widest so far in
//! the command, as Hadoop's `Ls` does. There are no access times: `-u` and `-stat`'s `%x %X`
//! have the modification time and nothing.

use std::cmp::Ordering;

use hdfs_client::{Access, Error, FileStatus};
use hdfs_proto::perm::symbolic;

use super::args::parse;
use super::glob::Glob;
use super::paths::Item;
use super::shell::{BadInput, Run, Shell, say};
use crate::cli::format::{hadoop_size, utc_minutes, utc_seconds};

/// `-ls`'s settings and the column widths, which only grow over one command (as Hadoop's).
struct Ls {
    path_only: bool,
    dir_recurse: bool,
    recursive: bool,
    human: bool,
    by_time: bool,
    by_size: bool,
    reverse: bool,
    widths: Widths,
}

/// `-ls`'s column widths, which only grow over one command (as Hadoop's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Widths {
    repl: usize,
    len: usize,
    owner: usize,
    group: usize,
}

impl Default for Widths {
    fn default() -> Self {
        Widths { repl: 3, len: 10, owner: 0, group: 0 }
    }
}

impl Widths {
    /// Wide enough for `entries` too.
    fn widen<'a>(&mut self, entries: impl IntoIterator<Item = &'a FileStatus>) {
        for st in entries {
            self.repl = self.repl.max(st.replication.to_string().len());
            self.len = self.len.max(st.length.to_string().len());
            self.owner = self.owner.max(st.owner.chars().count());
            self.group = self.group.max(st.group.chars().count());
        }
    }

    /// One line of `-ls` (without its newline): Hadoop's `%s%s %Ns %-Ns %-Ns %Ns %s %s`, the
    /// owner and group columns left out while every one seen is empty.
    fn line(&self, st: &FileStatus, shown: &str, human: bool) -> String {
        let repl = if st.is_dir() { "-".to_string() } else { st.replication.to_string() };
        let column = |name: &str, width: usize| if width == 0 { String::new() } else { format!("{name:<width$} ") };
        format!(
            "{} {repl:>rw$} {}{}{size:>lw$} {} {shown}",
            st.mode_string(),
            column(&st.owner, self.owner),
            column(&st.group, self.group),
            utc_minutes(st.modification_time()),
            size = hadoop_size(st.length, human),
            rw = self.repl,
            lw = self.len,
        )
    }
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
        widths: Widths::default(),
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
    /// A directory's entries: `Found N items` and sorted unless recursive (as Hadoop's); the
    /// columns widened for all of them before the first is printed.
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
        self.widths.widen(children.iter().filter_map(|c| c.stat.as_ref()));
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
        self.widths.widen(items.iter().filter_map(|i| i.stat.as_ref()));
        for i in items {
            if let Some(st) = &i.stat {
                say(format_args!("{}\n", self.widths.line(st, &i.shown, self.human)));
            }
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
            'u' => out += &st.owner,
            'g' => out += &st.group,
            'a' => out += &format!("{:o}", st.permission),
            'A' => out += &symbolic(st.permission),
            'x' | 'X' => {} // no access times
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
/// `-r` and `-w`: the path exists and the namenode grants this user that access
/// (`FileSystem.access`, as Hadoop's `Test`).
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
        let Some(st) = &item.stat else {
            sh.status = 1;
            continue;
        };
        let yes = match flag {
            "d" => st.is_dir(),
            "f" => !st.is_dir(),
            "s" => st.length > 0,
            "z" => st.length == 0,
            "r" | "w" => {
                let access = if flag == "r" { Access::READ } else { Access::WRITE };
                match item.client.check_access(&item.path, access).await {
                    Ok(()) => true,
                    Err(Error::PermissionDenied(_) | Error::NotFound(_)) => false,
                    Err(e) => {
                        sh.fail(&item.shown, &e);
                        continue;
                    }
                }
            }
            _ => true, // e
        };
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

    fn status(path: &str, kind: FileKind, length: u64, permission: u16, owner: &str, group: &str) -> FileStatus {
        FileStatus {
            path: path.into(),
            kind,
            length,
            replication: if kind == FileKind::File { 3 } else { 0 },
            block_size: 1 << 20,
            modification_time_ms: 1_795_824_000_123,
            under_construction: false,
            children: 0,
            permission,
            owner: owner.into(),
            group: group.into(),
        }
    }

    #[test]
    fn stat_formats_like_hadoop() {
        let st = status("/d/f.txt", FileKind::File, 12, 0o640, "alice", "staff");
        assert_eq!(stat_line("%n %b %r %o %F %Y", "f.txt", &st), "f.txt 12 3 1048576 regular file 1795824000123");
        assert_eq!(stat_line("%y", "f.txt", &st), "2026-11-28 00:00:00");
        assert_eq!(stat_line("[%u:%g] %a %A %% %q", "f.txt", &st), "[alice:staff] 640 rw-r----- % q");
        let dir = status("/tmp", FileKind::Directory, 0, 0o1777, "hdfs", "supergroup");
        assert_eq!(stat_line("%F %a %A %u %g", "tmp", &dir), "directory 1777 rwxrwxrwt hdfs supergroup");
        let none = status("/x", FileKind::File, 0, 0o7, "u", "g");
        assert_eq!(stat_line("%a %A", "x", &none), "7 ------rwx");
    }

    #[test]
    fn ls_lines_pad_owner_group_and_size_as_hadoop() {
        let dir = status("/user/alice", FileKind::Directory, 0, 0o755, "alice", "supergroup");
        let file = status("/user/alice/f", FileKind::File, 1234, 0o644, "alice", "supergroup");
        let mut w = Widths::default();
        w.widen([&dir, &file]);
        let date = "2026-11-28 00:00";
        assert_eq!(
            w.line(&dir, "/user/alice", false),
            format!("drwxr-xr-x   - alice supergroup          0 {date} /user/alice")
        );
        assert_eq!(
            w.line(&file, "/user/alice/f", false),
            format!("-rw-r--r--   3 alice supergroup       1234 {date} /user/alice/f")
        );
        assert_eq!(w.line(&file, "f", true), format!("-rw-r--r--   3 alice supergroup      1.2 K {date} f"));
        // A longer owner widens the column for what follows; a sticky directory shows its t.
        let tmp = status("/tmp", FileKind::Directory, 0, 0o1777, "hdfs-admin", "g");
        w.widen([&tmp]);
        assert_eq!(w.line(&tmp, "/tmp", false), format!("drwxrwxrwt   - hdfs-admin g                   0 {date} /tmp"));
        assert_eq!(w.line(&file, "f", false), format!("-rw-r--r--   3 alice      supergroup       1234 {date} f"));
        // Widths never shrink; a size wider than 10 digits widens its column.
        let big = status("/big", FileKind::File, 12_345_678_901, 0o600, "bo", "g");
        w.widen([&big]);
        assert_eq!(
            w.line(&big, "/big", false),
            format!("-rw-------   3 bo         g          12345678901 {date} /big")
        );
        // No owners or groups at all: Hadoop's format leaves their columns out.
        let bare = status("/x", FileKind::File, 5, 0o644, "", "");
        let mut w = Widths::default();
        w.widen([&bare]);
        assert_eq!(w.line(&bare, "/x", false), format!("-rw-r--r--   3          5 {date} /x"));
    }
}

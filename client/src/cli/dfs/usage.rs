//! The verbs of `hdfs dfs`, their usage lines and help, as `-help` and `-usage` print them.

pub struct Verb {
    pub name: &'static str,
    pub usage: &'static str,
    pub help: &'static str,
}

const fn verb(name: &'static str, usage: &'static str, help: &'static str) -> Verb {
    Verb { name, usage, help }
}

/// Hadoop's verbs that need owners, permissions, appends or checksums, which this file system
/// does not have yet: each says `VERB: not supported yet` and exits 1.
pub const NOT_YET: &[&str] = &["appendToFile", "checksum", "chgrp", "chmod", "chown", "truncate"];

/// Every verb in Hadoop's (alphabetical) order.
pub const VERBS: &[Verb] = &[
    verb(
        "cat",
        "[-ignoreCrc] <src> ...",
        "Fetch all files that match the file pattern <src> and display their content on stdout. Checksums are verified even with -ignoreCrc.",
    ),
    verb("copyFromLocal", "[-f] [-d] <localsrc> ... <dst>", "Identical to the -put command."),
    verb("copyToLocal", "[-f] [-ignoreCrc] <src> ... <localdst>", "Identical to the -get command."),
    verb(
        "count",
        "[-q] [-h] [-v] <path> ...",
        "Count the number of directories, files and bytes under the paths\nthat match the specified file pattern.  The output columns are:\nDIR_COUNT FILE_COUNT CONTENT_SIZE PATHNAME\nor, with the -q option:\nQUOTA REM_QUOTA SPACE_QUOTA REM_SPACE_QUOTA\n      DIR_COUNT FILE_COUNT CONTENT_SIZE PATHNAME\n(no quotas here yet: none, inf).\n-h: sizes in human-readable form.\n-v: a header line.",
    ),
    verb(
        "cp",
        "[-f] [-d] <src> ... <dst>",
        "Copy files that match the file pattern <src> to a destination, through this client (read, then written anew with the default replication).\n-f: overwrite the destination if it exists.\n-d: accepted (files are written in place, not through a ._COPYING_ file).",
    ),
    verb(
        "df",
        "[-h] [<path> ...]",
        "Shows the capacity, free and used space of the filesystem (the live datanodes' totals).\n-h: sizes in human-readable form.",
    ),
    verb(
        "du",
        "[-s] [-h] [-v] <path> ...",
        "Show the amount of space, in bytes, used by the files that match the specified file pattern.\n-s: the total (summary) size rather than each entry's.\n-h: sizes in human-readable form.\n-v: a header line.\nThe output is in the form\n\tsize\tdisk space consumed\tname(full path)",
    ),
    verb(
        "find",
        "<path> ... <expression> ...",
        "Finds all files that match the specified expression and prints their paths.\nExpressions: -name PATTERN, -iname PATTERN (case-insensitive), -print, -print0; several are all required.",
    ),
    verb(
        "get",
        "[-f] [-ignoreCrc] <src> ... <localdst>",
        "Copy files that match the file pattern <src> to the local name; directories recursively. When copying several files, the destination must be a directory.\n-f: overwrite the destination if it exists.\n-ignoreCrc: accepted; checksums are still verified.",
    ),
    verb(
        "getmerge",
        "[-nl] [-skip-empty-file] <src> <localdst>",
        "Get all the files in the directories that match the source file pattern and merge and sort them (by name) to only one file on local fs.\n-nl: a newline after each file.\n-skip-empty-file: no newline for empty files.",
    ),
    verb("head", "<file>", "Show the first 1KB of the file."),
    verb("help", "[cmd ...]", "Displays help for given command or all commands if none is specified."),
    verb(
        "ls",
        "[-C] [-d] [-h] [-R] [-t] [-S] [-r] [-u] [<path> ...]",
        "List the contents that match the specified file pattern. If path is not specified, the contents of /user/<currentUser> will be listed.\nEntries are: type, replication (- for a directory), size, modification date (yyyy-MM-dd HH:mm, UTC), path; permissions, owner and group are left out until the file system has them.\n-C: paths only.\n-d: directories are listed as plain files.\n-h: sizes in human-readable form.\n-R: recursively.\n-t: by modification time, most recent first.\n-S: by size, largest first.\n-r: reverse the order.\n-u: access time (not kept here: the modification time).",
    ),
    verb(
        "mkdir",
        "[-p] <path> ...",
        "Create a directory in specified location.\n-p: do not fail if the directory already exists; create parents.",
    ),
    verb(
        "moveFromLocal",
        "[-f] [-d] <localsrc> ... <dst>",
        "Same as -put, except that the source is deleted after it's copied.",
    ),
    verb(
        "mv",
        "<src> ... <dst>",
        "Move files that match the specified file pattern <src> to a destination <dst>. When moving multiple files, the destination must be a directory.",
    ),
    verb(
        "put",
        "[-f] [-d] <localsrc> ... <dst>",
        "Copy files from the local file system into fs; directories recursively. '-' reads stdin. When copying several files, the destination must be a directory.\n-f: overwrite the destination if it exists.\n-d: accepted (files are written in place anyway).\n-D dfs.replication=N and -D dfs.blocksize=SIZE (generic options) apply.",
    ),
    verb(
        "rm",
        "[-f] [-r|-R] [-skipTrash] <src> ...",
        "Delete all files that match the specified file pattern. There is no trash here: everything is deleted at once, as with -skipTrash.\n-f: no error, and exit status 0, if the file does not exist.\n-[rR]: delete directories recursively.",
    ),
    verb(
        "rmdir",
        "[--ignore-fail-on-non-empty] <dir> ...",
        "Removes the directory entry specified by each directory argument, provided it is empty.",
    ),
    verb(
        "setrep",
        "[-R] [-w] <rep> <path> ...",
        "Set the replication level of a file. If <path> is a directory then the command recursively changes the replication factor of all files under it.\n-w: wait for the replication to complete.\n-R: accepted for backwards compatibility.",
    ),
    verb(
        "stat",
        "[-R] [format] <path> ...",
        "Print statistics about the file/directory at <path> in the specified format (default %y):\n%b length, %F type, %n name, %o block size, %r replication, %y modification date (yyyy-MM-dd HH:mm:ss, UTC), %Y modification time in ms since the epoch; %u %g %a %A %x %X print nothing until owners, permissions and access times exist.",
    ),
    verb(
        "tail",
        "[-f] <file>",
        "Show the last 1KB of the file.\n-f: show appended data as the file grows (polled every second), until interrupted.",
    ),
    verb(
        "test",
        "-[defswrz] <path>",
        "Answer various questions about <path>, with result via exit status (0 true, 1 false).\n-d directory, -e exists, -f file, -s not empty, -z zero length; -r, -w: exists (no permissions here yet).",
    ),
    verb(
        "touch",
        "[-a] [-m] [-c] <path> ...",
        "Create a zero-length file at <path> if there is none (-c: do not create). An existing file is left as it is (times cannot be set here yet).",
    ),
    verb(
        "touchz",
        "<path> ...",
        "Creates a file of zero length at <path>. An error is returned if the file exists with non-zero length.",
    ),
    verb("usage", "[cmd ...]", "Displays the usage for given command or all commands if none is specified."),
];

pub fn find(name: &str) -> Option<&'static Verb> {
    VERBS.iter().find(|v| v.name == name)
}

/// `Usage: hdfs dfs [generic options] -ls [-C] …`.
pub fn usage_line(v: &Verb) -> String {
    format!("Usage: hdfs dfs [generic options] -{} {}", v.name, v.usage)
}

/// Every verb's usage, as `hdfs dfs` alone prints it.
pub fn all_usages() -> String {
    let mut out = String::from("Usage: hdfs dfs [generic options]\n");
    for v in VERBS {
        out += &format!("\t[-{} {}]\n", v.name, v.usage);
    }
    out += "\nGeneric options: -fs hdfs://HOST:PORT (or --namenode URL), -D dfs.replication=N, -D dfs.blocksize=SIZE\n";
    out += &format!("Not supported yet: {}\n", NOT_YET.iter().map(|v| format!("-{v}")).collect::<Vec<_>>().join(" "));
    out
}

/// One verb's help: `-NAME USAGE:` then its description, indented.
pub fn help(v: &Verb) -> String {
    let mut out = format!("-{} {} :\n", v.name, v.usage);
    for line in v.help.lines() {
        out += &format!("  {line}\n");
    }
    out
}

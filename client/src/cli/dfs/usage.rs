//! The verbs of `hdfs dfs`, their usage lines and help, as `-help` and `-usage` print them.

pub struct Verb {
    pub name: &'static str,
    pub usage: &'static str,
    pub help: &'static str,
}

const fn verb(name: &'static str, usage: &'static str, help: &'static str) -> Verb {
    Verb { name, usage, help }
}

/// Every verb in Hadoop's (alphabetical) order.
pub const VERBS: &[Verb] = &[
    verb(
        "appendToFile",
        "<localsrc> ... <dst>",
        "Appends the contents of all the given local files to the given dst file. The dst file will be created if it does not exist. If <localSrc> is -, then the input is read from stdin.",
    ),
    verb(
        "cat",
        "[-ignoreCrc] <src> ...",
        "Fetch all files that match the file pattern <src> and display their content on stdout. Checksums are verified even with -ignoreCrc.",
    ),
    verb(
        "checksum",
        "[-v] <src> ...",
        "Dump checksum information for files that match the file pattern <src> to stdout: PATH, the algorithm (COMPOSITE-CRC32C) and the checksum in hex, tab-separated. The checksum is the CRC32C of the file's bytes, composed from each block's (a round trip to a datanode of each block, which reads no data), so it is the same whatever the block size the file was written with.\n-v: a last column BlockSize=N, the file's block size.",
    ),
    verb("chgrp", "[-R] GROUP PATH...", "This is equivalent to -chown ... :GROUP ..."),
    verb(
        "chmod",
        "[-R] <MODE[,MODE]... | OCTALMODE> PATH...",
        "Changes permissions of a file. This works similar to the shell's chmod command with a few exceptions.\n-R: modifies the files recursively (the directory itself, then everything below it).\n<MODE>: Mode is the same as mode used for the shell's command. The only letters recognized are 'rwxXt', e.g. +t,a+r,g-w,+rwx,o=r; several clauses, comma-separated, apply in order.\n<OCTALMODE>: Mode specified in 3 or 4 digits. If 4 digits, the first may be 1 or 0 to turn the sticky bit on or off, respectively. Unlike the shell command, it is not possible to specify only part of the mode, e.g. 754 is same as u=rwx,g=rx,o=r.\nIf none of 'augo' is specified, 'a' is assumed and unlike the shell command, no umask is applied.\nThe user must be the owner of the file, or else a super-user.",
    ),
    verb(
        "chown",
        "[-R] [OWNER][:[GROUP]] PATH...",
        "Changes owner and group of a file. This is similar to the shell's chown command with a few exceptions.\n-R: modifies the files recursively (the directory itself, then everything below it).\nIf only the owner or group is specified, then only the owner or group is modified. The owner and group names may only consist of digits, alphabet, and any of [-_./@a-zA-Z0-9]. The names are case sensitive.\nOnly a super-user may change the owner; the owner may change the group to one of their own groups.",
    ),
    verb("copyFromLocal", "[-f] [-p] [-d] <localsrc> ... <dst>", "Identical to the -put command."),
    verb("copyToLocal", "[-f] [-p] [-ignoreCrc] <src> ... <localdst>", "Identical to the -get command."),
    verb(
        "count",
        "[-q] [-h] [-v] <path> ...",
        "Count the number of directories, files and bytes under the paths\nthat match the specified file pattern.  The output columns are:\nDIR_COUNT FILE_COUNT CONTENT_SIZE PATHNAME\nor, with the -q option:\nQUOTA REM_QUOTA SPACE_QUOTA REM_SPACE_QUOTA\n      DIR_COUNT FILE_COUNT CONTENT_SIZE PATHNAME\n(no quotas here yet: none, inf).\n-h: sizes in human-readable form.\n-v: a header line.",
    ),
    verb(
        "cp",
        "[-f] [-p] [-d] <src> ... <dst>",
        "Copy files that match the file pattern <src> to a destination, through this client (read, then written anew with the default replication).\n-f: overwrite the destination if it exists.\n-p: preserve the modification time and the permission (not the owner and group, not access times).\n-d: accepted (files are written in place, not through a ._COPYING_ file).",
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
        "[-f] [-p] [-ignoreCrc] <src> ... <localdst>",
        "Copy files that match the file pattern <src> to the local name; directories recursively. When copying several files, the destination must be a directory.\n-f: overwrite the destination if it exists.\n-p: preserve the modification time and the permission (mode bits) of each file and directory.\n-ignoreCrc: accepted; checksums are still verified.",
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
        "List the contents that match the specified file pattern. If path is not specified, the contents of /user/<currentUser> will be listed. For a directory a list of its direct children is returned (unless -d option is specified).\nDirectory entries are of the form:\n\tpermissions - userId groupId sizeOfDirectory(in bytes) modificationDate(yyyy-MM-dd HH:mm, UTC) directoryName\nand file entries are of the form:\n\tpermissions numberOfReplicas userId groupId sizeOfFile(in bytes) modificationDate(yyyy-MM-dd HH:mm, UTC) fileName\n-C: paths only.\n-d: directories are listed as plain files.\n-h: sizes in human-readable form.\n-R: recursively.\n-t: by modification time, most recent first.\n-S: by size, largest first.\n-r: reverse the order.\n-u: access time (not kept here: the modification time).",
    ),
    verb(
        "mkdir",
        "[-p] <path> ...",
        "Create a directory in specified location.\n-p: do not fail if the directory already exists; create parents.",
    ),
    verb(
        "moveFromLocal",
        "[-f] [-p] [-d] <localsrc> ... <dst>",
        "Same as -put, except that the source is deleted after it's copied.",
    ),
    verb(
        "mv",
        "<src> ... <dst>",
        "Move files that match the specified file pattern <src> to a destination <dst>. When moving multiple files, the destination must be a directory.",
    ),
    verb(
        "put",
        "[-f] [-p] [-d] <localsrc> ... <dst>",
        "Copy files from the local file system into fs; directories recursively. '-' reads stdin. When copying several files, the destination must be a directory.\n-f: overwrite the destination if it exists.\n-p: preserve the modification time and the permission (mode bits) of each file and directory (not the owner and group, not access times).\n-d: accepted (files are written in place anyway).\n-D dfs.replication=N and -D dfs.blocksize=SIZE (generic options) apply.",
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
        "Print statistics about the file/directory at <path> in the specified format (default %y):\n%a permissions in octal, %A permissions in symbolic form, %b length, %F type, %g group name of owner, %n name, %o block size, %r replication, %u user name of owner, %y modification date (yyyy-MM-dd HH:mm:ss, UTC), %Y modification time in ms since the epoch; %x %X (access times) print nothing, as there are none.",
    ),
    verb(
        "tail",
        "[-f] <file>",
        "Show the last 1KB of the file.\n-f: show appended data as the file grows (polled every second), until interrupted.",
    ),
    verb(
        "test",
        "-[defswrz] <path>",
        "Answer various questions about <path>, with result via exit status (0 true, 1 false).\n-d directory, -e exists, -f file, -s not empty, -z zero length;\n-r: exists and read permission is granted; -w: exists and write permission is granted.",
    ),
    verb(
        "touch",
        "[-a] [-m] [-t TIMESTAMP (yyyyMMdd:HHmmss) ] [-c] <path> ...",
        "Updates the modification time of the file specified by the <path> to the current time. If the file does not exist, then a zero length file is created at <path> with current time as the timestamp of that <path>.\n-a: change only the access time: there are no access times here, so nothing changes but a missing file is created.\n-m: change only the modification time.\n-t TIMESTAMP: use the specified timestamp (in format yyyyMMdd:HHmmss, UTC) instead of the current time.\n-c: do not create any files.",
    ),
    verb(
        "concat",
        "<target path> <src path> <src path> ...",
        "Concatenate existing source files into the target file: their blocks move to its end, no bytes are copied, and the sources are gone.",
    ),
    verb(
        "truncate",
        "[-w] <length> <path> ...",
        "Truncate all files that match the specified file pattern to the specified length.\n-w: Requests that the command wait for block recovery to complete, if necessary.",
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

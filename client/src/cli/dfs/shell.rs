//! What every `hdfs dfs` verb works with ([`Shell`]): the file system, settings, and Hadoop's
//! way with errors: each is one line `VERB: MESSAGE` on stderr, the verb goes on with its other
//! paths, and the exit status is 1 at the end; bad input ([`BadInput`]) stops it before it
//! changes anything, with exit status 255 (Hadoop's -1).

use std::fmt::Display;
use std::io::{IsTerminal, Write};

use hdfs_client::{CreateOptions, Error};

use super::args::Conf;
use super::paths::{Fs, Item};

/// Bad input to a verb: printed as `-VERB: MESSAGE` with the verb's usage.
#[derive(Debug)]
pub struct BadInput(pub String);

pub type Run = Result<(), BadInput>;

/// Exit status for bad input (Hadoop's -1).
pub const BAD_INPUT: u8 = 255;

pub struct Shell {
    /// The verb as invoked, without its dash (`copyFromLocal`): the prefix of error lines.
    pub verb: String,
    pub fs: Fs,
    pub conf: Conf,
    pub quiet: bool,
    pub show_progress: bool,
    errors: usize,
    /// The exit status when nothing failed (`-test` sets 1 for false).
    pub status: u8,
}

impl Shell {
    pub fn new(verb: &str, namenode: &str, conf: Conf, quiet: bool) -> Shell {
        Shell {
            verb: verb.to_string(),
            fs: Fs::new(namenode),
            conf,
            quiet,
            show_progress: !quiet && std::io::stderr().is_terminal(),
            errors: 0,
            status: 0,
        }
    }

    /// Says what failed; the verb goes on and exits 1 at the end.
    pub fn error(&mut self, message: impl Display) {
        eprintln!("{}: {message}", self.verb);
        self.errors += 1;
    }

    /// `` VERB: `PATH': WHY ``, in Hadoop's words for the error.
    pub fn fail(&mut self, shown: &str, e: &Error) {
        self.error(hadoop_words(shown, e));
    }

    /// `` VERB: `PATH': WHY `` for a reason of the shell's own (`Is a directory`…).
    pub fn refuse(&mut self, shown: &str, why: &str) {
        self.error(format!("`{shown}': {why}"));
    }

    pub fn exit_code(&self) -> u8 {
        if self.errors > 0 { 1 } else { self.status }
    }

    /// The paths `arg` names (see `Fs::expand`); an error is said and yields none.
    pub async fn expand(&mut self, arg: &str) -> Vec<Item> {
        match self.fs.expand(arg).await {
            Ok(items) => items,
            Err(e) => {
                self.fail(arg, &e);
                Vec::new()
            }
        }
    }

    /// The existing paths `args` name, in order; each missing one is said (Hadoop's
    /// `processNonexistentPath`).
    pub async fn existing(&mut self, args: &[String]) -> Vec<Item> {
        let mut out = Vec::new();
        for a in args {
            for item in self.expand(a).await {
                if item.exists() {
                    out.push(item);
                } else {
                    self.refuse(&item.shown, "No such file or directory");
                }
            }
        }
        out
    }

    /// Options for files this verb creates: `-D dfs.replication`, `-D dfs.blocksize`.
    pub fn create_options(&self, overwrite: bool) -> CreateOptions {
        CreateOptions::default()
            .overwrite(overwrite)
            .replication(self.conf.replication)
            .block_size(self.conf.block_size)
    }
}

/// Writes `text` on stdout. A reader that went away (`hdfs dfs -ls / | head`) ends the command
/// quietly with status 0, as Hadoop's output stream ignores it.
pub fn say(text: impl Display) {
    if let Err(e) = write!(std::io::stdout().lock(), "{text}") {
        stdout_failed(e);
    }
}

/// Ends the command after stdout failed: quietly when its reader went away (see [`say`]).
pub fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("hdfs: cannot write to stdout: {e}");
    std::process::exit(1);
}

/// Whether `e` is stdout's reader having gone away (a pipe closed early).
pub fn is_broken_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The error as Hadoop's shell says it: `` `PATH': No such file or directory `` and so on; errors
/// with no path in Hadoop's words (no quorum, safe mode…) are said as they are.
pub fn hadoop_words(shown: &str, e: &Error) -> String {
    let why = match e {
        Error::NotFound(_) => "No such file or directory",
        Error::AlreadyExists(_) => "File exists",
        Error::FailedPrecondition(m) if m.ends_with(": is a directory") => "Is a directory",
        Error::FailedPrecondition(m) if m.ends_with(": not a directory") => "Is not a directory",
        Error::FailedPrecondition(m) if m.contains(": directory is not empty") => "Directory is not empty",
        e => return e.to_string(),
    };
    format!("`{shown}': {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_in_hadoop_words() {
        assert_eq!(hadoop_words("/x", &Error::NotFound("/x: nope".into())), "`/x': No such file or directory");
        assert_eq!(hadoop_words("x", &Error::AlreadyExists("/u/x: already exists".into())), "`x': File exists");
        let not_empty = Error::FailedPrecondition("/d: directory is not empty (delete it recursively)".into());
        assert_eq!(hadoop_words("/d", &not_empty), "`/d': Directory is not empty");
        assert_eq!(hadoop_words("/d", &Error::Unavailable("no quorum".into())), "no quorum");
    }
}

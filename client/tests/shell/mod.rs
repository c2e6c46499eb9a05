//! The `hdfs` binary run as a script runs it, for the shell tests: `HDFS_NAMENODE` set, as a
//! user given by `HADOOP_USER_NAME`, in a working directory of its own, off the async runtime.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use hdfs_tests::MiniCluster;

pub struct Hdfs {
    namenode: String,
    /// The working directory of every run: relative local paths are in it.
    pub dir: PathBuf,
    user: String,
}

pub struct Out {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Out {
    pub fn text(&self) -> String {
        String::from_utf8(self.stdout.clone()).unwrap()
    }
}

impl Hdfs {
    /// Runs as `user` against `cluster`, in `dir`.
    pub fn new(cluster: &MiniCluster, dir: &Path, user: &str) -> Hdfs {
        Self::at(&cluster.namenode_url(), dir, user)
    }

    /// Runs as `user` against the namenode at `url`, in `dir`.
    pub fn at(url: &str, dir: &Path, user: &str) -> Hdfs {
        Hdfs { namenode: url.to_string(), dir: dir.to_path_buf(), user: user.to_string() }
    }

    /// The same, as another user.
    pub fn as_user(&self, user: &str) -> Hdfs {
        Hdfs { namenode: self.namenode.clone(), dir: self.dir.clone(), user: user.to_string() }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hdfs"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env("HDFS_NAMENODE", &self.namenode)
            .env("HADOOP_USER_NAME", &self.user)
            .env_remove("RUST_LOG")
            .env_remove("HADOOP_CONF_DIR")
            .env_remove("HADOOP_HOME");
        cmd
    }

    /// Runs `hdfs ARGS` with `stdin` as its input, off the async runtime.
    pub async fn run(&self, args: &[&str], stdin: &[u8]) -> Out {
        let mut cmd = self.command(args);
        let input = stdin.to_vec();
        let out = tokio::task::spawn_blocking(move || {
            let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
            child.stdin.take().unwrap().write_all(&input).unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// `hdfs dfs ARGS`.
    pub async fn dfs(&self, args: &[&str]) -> Out {
        self.run(&[&["dfs"], args].concat(), b"").await
    }

    /// `hdfs dfs ARGS`, which must succeed quietly on stderr; returns its stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.dfs(args).await;
        assert!(
            out.code == 0 && out.stderr.is_empty(),
            "{}: hdfs dfs {args:?}: {} {}",
            self.user,
            out.code,
            out.stderr
        );
        out.text()
    }

    /// `hdfs dfs ARGS` with `stdin`, which must succeed.
    pub async fn put(&self, args: &[&str], stdin: &[u8]) {
        let out = self.run(&[&["dfs"], args].concat(), stdin).await;
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}: hdfs dfs {args:?}", self.user);
    }

    /// `hdfs dfs ARGS`, which must exit `code`; returns its stderr.
    pub async fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.dfs(args).await;
        assert_eq!(out.code, code, "{}: hdfs dfs {args:?}: {}", self.user, out.stderr);
        out.stderr
    }

    /// `-stat FORMAT PATH`, without its newline.
    pub async fn stat(&self, format: &str, path: &str) -> String {
        self.ok(&["-stat", format, path]).await.trim_end().to_string()
    }

    /// The exit status of `hdfs dfs -test FLAG PATH`, which prints nothing.
    pub async fn test(&self, flag: &str, path: &str) -> i32 {
        let out = self.dfs(&["-test", flag, path]).await;
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{}: -test {flag} {path}: {}", self.user, out.stderr);
        out.code
    }
}

/// A command left running (`-tail -f`), its stdout gathered as it comes; killed when dropped.
pub struct Follow {
    child: std::process::Child,
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl Follow {
    pub fn start(mut cmd: Command) -> Follow {
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 256];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Follow { child, rx, seen: Vec::new() }
    }

    /// Waits (30 s at most) until the output so far ends with `want`; returns all of it.
    pub fn wait_for(&mut self, want: &[u8]) -> Vec<u8> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !self.seen.ends_with(want) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let more = self.rx.recv_timeout(left);
            self.seen.extend(more.unwrap_or_else(|_| panic!("printed {:?}", String::from_utf8_lossy(&self.seen))));
        }
        self.seen.clone()
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

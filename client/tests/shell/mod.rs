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
            .env_remove("RUST_LOG");
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

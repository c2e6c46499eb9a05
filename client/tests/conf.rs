//! Hadoop's client configuration: `fs.defaultFS`, `dfs.replication` and `dfs.blocksize` read from
//! `$HADOOP_CONF_DIR/core-site.xml` and `hdfs-site.xml` (else `$HADOOP_HOME/etc/hadoop`), with
//! the most specific source winning: a flag (`--namenode`, `-fs`, `-D`, `--replication`), then
//! `HDFS_NAMENODE`, then the files, then the built-in default. The real `hdfs` binary against
//! in-process clusters, run as the current user (the superuser), with no `HDFS_NAMENODE`.

use std::path::Path;
use std::process::Command;

use hdfs_tests::{ClusterOptions, MiniCluster};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A configuration document with `props` as its properties.
fn site(props: &[(&str, &str)]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?xml-stylesheet type=\"text/xsl\" \
         href=\"configuration.xsl\"?>\n<!-- Written by the tests. -->\n<configuration>\n",
    );
    for (name, value) in props {
        xml += &format!(
            "  <property>\n    <name>{name}</name>\n    <value>{value}</value>\n    \
             <description>set by a test &amp; read back</description>\n  </property>\n"
        );
    }
    xml + "</configuration>\n"
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

/// `hdfs ARGS` in `cwd` with `env` and nothing inherited that would choose a namenode, a user or
/// a configuration; off the async runtime.
async fn hdfs(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hdfs"));
    cmd.args(args).current_dir(cwd);
    for var in ["HDFS_NAMENODE", "HADOOP_USER_NAME", "HADOOP_CONF_DIR", "HADOOP_HOME", "RUST_LOG"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Runs `hdfs ARGS` with HADOOP_CONF_DIR=`conf` (and `env`); it must succeed quietly.
async fn ok(conf: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let dir = conf.to_str().unwrap();
    let out = hdfs(conf, &[&[("HADOOP_CONF_DIR", dir)], env].concat(), args).await;
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "hdfs {args:?}");
    out.stdout
}

/// Runs `hdfs ARGS` with HADOOP_CONF_DIR=`conf`; it must fail with `code` and one line on
/// stderr, which is returned.
async fn fails(conf: &Path, args: &[&str], code: i32) -> String {
    let out = hdfs(conf, &[("HADOOP_CONF_DIR", conf.to_str().unwrap())], args).await;
    assert_eq!(out.code, code, "hdfs {args:?}: {}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "hdfs {args:?}: {}", out.stderr);
    out.stderr
}

/// `HOST:PORT` of the cluster's (first) namenode.
fn address(cluster: &MiniCluster) -> String {
    cluster.namenode_url().split(',').next().unwrap().trim_start_matches("http://").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_files_point_the_shell_at_the_cluster() {
    // The cluster's own defaults (3 replicas, 4 MiB blocks) differ from the files'.
    let opts = ClusterOptions { datanodes: 3, replication: 3, block_size: 4 << 20, ..Default::default() };
    let cluster = MiniCluster::with_options(opts).await.unwrap();
    let addr = address(&cluster);
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path();
    write(conf, "core-site.xml", &site(&[("fs.defaultFS", &format!("hdfs://{addr}"))]));
    write(conf, "hdfs-site.xml", &site(&[("dfs.replication", "2"), ("dfs.blocksize", "1m")]));
    write(conf, "a.txt", "alpha\n");

    // hdfs dfs: the namenode, replication and block size all from the files.
    ok(conf, &[], &["dfs", "-put", "a.txt", "/a.txt"]).await;
    assert_eq!(ok(conf, &[], &["dfs", "-stat", "%r %o", "/a.txt"]).await, "2 1048576\n");
    assert_eq!(ok(conf, &[], &["dfs", "-cat", &format!("hdfs://{addr}/a.txt")]).await, "alpha\n");
    assert_eq!(ok(conf, &[], &["dfs", "-cat", "hdfs:///a.txt"]).await, "alpha\n");
    // -D is more specific than the files.
    ok(conf, &[], &["dfs", "-D", "dfs.replication=1", "-Ddfs.blocksize=2m", "-put", "a.txt", "/b.txt"]).await;
    assert_eq!(ok(conf, &[], &["dfs", "-stat", "%r %o", "/b.txt"]).await, "1 2097152\n");

    // The other spellings: hdfs put takes the files' defaults; its flags win over them.
    ok(conf, &[], &["put", "a.txt", "/c.txt"]).await;
    ok(conf, &[], &["put", "--replication", "3", "a.txt", "/d.txt"]).await;
    assert_eq!(ok(conf, &[], &["dfs", "-stat", "%r %o", "/c.txt", "/d.txt"]).await, "2 1048576\n3 1048576\n");

    // getconf: the files' values as written, -D over them, Hadoop's words for a missing key.
    assert_eq!(ok(conf, &[], &["getconf", "-confKey", "dfs.blocksize"]).await, "1m\n");
    assert_eq!(ok(conf, &[], &["getconf", "-confKey", "fs.defaultFS"]).await, format!("hdfs://{addr}\n"));
    assert_eq!(ok(conf, &[], &["getconf", "-D", "dfs.replication=1", "-confKey", "dfs.replication"]).await, "1\n");
    assert_eq!(
        fails(conf, &["getconf", "-confKey", "no.such.key"], 255).await,
        "Configuration no.such.key is missing.\n"
    );
    assert_eq!(fails(conf, &["getconf", "-confKey"], 255).await, "usage: -confKey [key]\n");
    assert_eq!(ok(conf, &[], &["getconf", "-namenodes"]).await, "127.0.0.1\n");
    assert_eq!(ok(conf, &[], &["getconf", "-nnRpcAddresses"]).await, format!("{addr}\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_and_hdfs_namenode_win_over_the_files() {
    let cluster = MiniCluster::start(1).await.unwrap();
    let (url, addr) = (cluster.namenode_url(), address(&cluster));
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path();
    // The files name a namenode that is not there: each of these works only if it is not used.
    write(conf, "core-site.xml", &site(&[("fs.defaultFS", "hdfs://127.0.0.1:1")]));
    write(conf, "a.txt", "alpha\n");

    let env = [("HDFS_NAMENODE", url.as_str())];
    ok(conf, &env, &["dfs", "-put", "a.txt", "/a.txt"]).await;
    assert_eq!(ok(conf, &env, &["cat", "/a.txt"]).await, "alpha\n");
    assert_eq!(ok(conf, &env, &["getconf", "-nnRpcAddresses"]).await, format!("{addr}\n"));
    assert_eq!(ok(conf, &[], &["--namenode", &url, "cat", "/a.txt"]).await, "alpha\n");
    assert_eq!(ok(conf, &[], &["--namenode", &url, "dfs", "-cat", "/a.txt"]).await, "alpha\n");
    assert_eq!(ok(conf, &[], &["dfs", "-fs", &format!("hdfs://{addr}"), "-cat", "/a.txt"]).await, "alpha\n");
    let define = format!("fs.defaultFS=hdfs://{addr}");
    assert_eq!(ok(conf, &[], &["dfs", "-D", &define, "-cat", "/a.txt"]).await, "alpha\n");
    // -fs is a flag: more specific than HDFS_NAMENODE.
    let dead = [("HDFS_NAMENODE", "http://127.0.0.1:1")];
    assert_eq!(ok(conf, &dead, &["dfs", "-fs", &format!("hdfs://{addr}"), "-cat", "/a.txt"]).await, "alpha\n");
    // The old key name is read as fs.defaultFS.
    write(conf, "core-site.xml", &site(&[("fs.default.name", &format!("hdfs://{addr}"))]));
    assert_eq!(ok(conf, &[], &["dfs", "-cat", "/a.txt"]).await, "alpha\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nameservice_names_every_member_of_the_group() {
    let opts = ClusterOptions { namenodes: 3, datanodes: 1, replication: 1, ..Default::default() };
    let cluster = MiniCluster::with_options(opts).await.unwrap();
    let ports: Vec<String> =
        cluster.namenode_url().split(',').map(|u| u.rsplit(':').next().unwrap().to_string()).collect();
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path();
    // As an HA client configuration has it; the address's host comes from core-site.xml.
    write(conf, "core-site.xml", &site(&[("fs.defaultFS", "hdfs://mycluster"), ("nn.host", "127.0.0.1")]));
    let rpc: Vec<(String, String)> = (0..3)
        .map(|i| (format!("dfs.namenode.rpc-address.mycluster.nn{}", i + 1), format!("${{nn.host}}:{}", ports[i])))
        .collect();
    let mut props = vec![("dfs.nameservices", "mycluster"), ("dfs.ha.namenodes.mycluster", "nn1, nn2, nn3")];
    props.extend(rpc.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    write(conf, "hdfs-site.xml", &site(&props));
    write(conf, "a.txt", "alpha\n");

    ok(conf, &[], &["dfs", "-put", "a.txt", "/a.txt"]).await;
    assert_eq!(ok(conf, &[], &["dfs", "-cat", "hdfs://mycluster/a.txt"]).await, "alpha\n");
    let listed = ok(conf, &[], &["dfs", "-ls", "hdfs://mycluster/"]).await;
    assert!(listed.contains(" hdfs://mycluster/a.txt\n"), "{listed}");
    assert_eq!(ok(conf, &[], &["cat", "/a.txt"]).await, "alpha\n");
    assert_eq!(ok(conf, &[], &["getconf", "-namenodes"]).await, "127.0.0.1 127.0.0.1 127.0.0.1\n");
    let addresses: String = ports.iter().map(|p| format!("127.0.0.1:{p}\n")).collect();
    assert_eq!(ok(conf, &[], &["getconf", "-nnRpcAddresses"]).await, addresses);
    assert_eq!(ok(conf, &[], &["dfs", "-fs", "hdfs://mycluster", "-cat", "/a.txt"]).await, "alpha\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_files_are_one_line_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path();
    let core = conf.join("core-site.xml").display().to_string();
    write(conf, "core-site.xml", "<?xml version=\"1.0\"?>\n<configuration>\n  <property><name>a</value>\n");
    let expected = format!("hdfs: {core}:3:20: </value> closes <name>\n");
    assert_eq!(fails(conf, &["dfs", "-ls", "/"], 1).await, expected);
    assert_eq!(fails(conf, &["dfsadmin", "-report"], 1).await, expected);
    assert_eq!(fails(conf, &["getconf", "-namenodes"], 1).await, expected);
    assert_eq!(fails(conf, &["ls", "/"], 1).await, format!("hdfs: ls: {core}:3:20: </value> closes <name>\n"));
    // hdfs version reads no configuration.
    assert_eq!(hdfs(conf, &[("HADOOP_CONF_DIR", conf.to_str().unwrap())], &["version"]).await.code, 0);

    write(conf, "core-site.xml", "<configuration>\n  <property><name>a</name><value>fish & chips</value>");
    assert!(fails(conf, &["dfs", "-ls", "/"], 1).await.contains(":2:39: '&' that starts no entity"));
    write(conf, "core-site.xml", "");
    assert!(fails(conf, &["dfs", "-ls", "/"], 1).await.ends_with(":1:1: no root element (the file is empty)\n"));

    // Values that cannot be used: said with the file and the key.
    write(conf, "core-site.xml", &site(&[("fs.defaultFS", "${loop}"), ("loop", "${fs.defaultFS}")]));
    let err = fails(conf, &["dfs", "-ls", "/"], 1).await;
    assert_eq!(
        err,
        format!("hdfs: {core}: fs.defaultFS=${{loop}}: variable substitution depth too large: 20 (a cycle?)\n")
    );
    write(conf, "core-site.xml", &site(&[("fs.defaultFS", "hdfs://ns1"), ("dfs.ha.namenodes.ns1", "a,b")]));
    let err = fails(conf, &["dfs", "-ls", "/"], 1).await;
    assert!(err.ends_with("dfs.ha.namenodes.ns1=a,b: dfs.namenode.rpc-address.ns1.a is not set\n"), "{err}");
    write(conf, "core-site.xml", &site(&[("fs.defaultFS", "s3a://bucket")]));
    assert!(fails(conf, &["ls", "/"], 1).await.contains("only hdfs:// file systems are served here"));
    write(conf, "core-site.xml", &site(&[("fs.defaultFS", "hdfs://127.0.0.1:1")]));
    write(conf, "hdfs-site.xml", &site(&[("dfs.blocksize", "12q")]));
    let err = fails(conf, &["dfs", "-put", "-", "/x"], 1).await;
    assert!(err.contains("hdfs-site.xml: dfs.blocksize=12q: Invalid size prefix 'q' in '12q'"), "{err}");
    write(conf, "hdfs-site.xml", &site(&[("dfs.replication", "two")]));
    assert!(fails(conf, &["dfs", "-ls", "/"], 1).await.contains("dfs.replication=two: not a replication factor"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hadoop_home_and_expansion_as_hadoop_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("hadoop");
    let props = [
        ("base", "/data"),
        ("dir", "${base}/nn &amp; more"),
        ("from.env", "${env.CONF_TEST_VAR}|${env.CONF_TEST_UNSET:-fallback}"),
        ("fs.defaultFS", "hdfs://127.0.0.1:1"),
    ];
    write(&home.join("etc/hadoop"), "core-site.xml", &site(&props));
    let env = [("HADOOP_HOME", home.to_str().unwrap()), ("CONF_TEST_VAR", "hello")];
    let get = async |env: &[(&str, &str)], key: &str| hdfs(tmp.path(), env, &["getconf", "-confKey", key]).await.stdout;
    assert_eq!(get(&env, "dir").await, "/data/nn & more\n");
    assert_eq!(get(&env, "from.env").await, "hello|fallback\n");
    // HADOOP_CONF_DIR, when set, is the one read.
    let conf = tmp.path().join("conf");
    write(&conf, "core-site.xml", &site(&[("base", "/elsewhere")]));
    assert_eq!(get(&[env[0], ("HADOOP_CONF_DIR", conf.to_str().unwrap())], "base").await, "/elsewhere\n");
}

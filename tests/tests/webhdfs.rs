//! WebHDFS against an in-process cluster, driven by real outside clients: curl through
//! Hadoop's documented two-step exchanges, and Python's `hdfs` package (HdfsCLI) and fsspec
//! through their own code (`tests/clients/*.py`). The clients come from
//! `tests/setup-clients.sh`; a test fails naming it when they are missing.

use std::process::{Command, Output};

use hdfs_tests::clients::{python, script};
use hdfs_tests::{ClusterOptions, MiniCluster};
use serde_json::Value;

/// Runs `curl -sS` with `args`; returns (status code, headers, body).
fn curl(args: &[&str]) -> (u16, String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let headers = dir.path().join("headers");
    let out = Command::new("curl")
        .args(["-sS", "--path-as-is", "-D", headers.to_str().unwrap(), "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl runs (tests/setup-clients.sh installs it)");
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let mut body = out.stdout;
    let nl = body.iter().rposition(|&b| b == b'\n').unwrap();
    let code = String::from_utf8_lossy(&body[nl + 1..]).trim().parse().unwrap();
    body.truncate(nl);
    (code, std::fs::read_to_string(headers).unwrap(), body)
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().rev().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn run_python(py_script: &str, args: &[&str]) -> Output {
    let out = Command::new(python()).arg(script(py_script)).args(args).output().unwrap();
    if !out.status.success() {
        panic!(
            "{py_script} failed:\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Three datanodes; the root is writable by all, sticky as /tmp is, so each test's users make
/// their own directories.
async fn cluster() -> MiniCluster {
    let cluster =
        MiniCluster::with_options(ClusterOptions { datanodes: 3, replication: 3, ..Default::default() }).await.unwrap();
    let su = hdfs_client::Client::connect(&cluster.namenode_url()).await.unwrap();
    su.set_permission("/", 0o1777).await.unwrap();
    cluster
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_two_step_create_open_and_metadata() {
    let cluster = cluster().await;
    let nn = cluster.namenode_http(0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("data");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&local, &data).unwrap();

    // CREATE, step 1: the namenode names a datanode.
    let url = format!("{nn}/webhdfs/v1/curl/data.bin?op=CREATE&user.name=alice&overwrite=false&permission=640");
    let (code, headers, body) = tokio::task::spawn_blocking({
        let url = url.clone();
        move || curl(&["-X", "PUT", &url])
    })
    .await
    .unwrap();
    assert_eq!(code, 307, "{}", String::from_utf8_lossy(&body));
    let location = header(&headers, "location").expect("a Location").to_string();
    assert!(location.contains("op=CREATE") && location.contains("user.name=alice"), "{location}");
    assert!(!location.starts_with(&nn), "data goes to a datanode, not the namenode: {location}");
    // Step 2: the data to the datanode, chunked (no Content-Length), as HdfsCLI streams it.
    let l = local.to_str().unwrap().to_string();
    let (code, headers, _) = tokio::task::spawn_blocking(move || {
        curl(&["-X", "PUT", "-H", "Transfer-Encoding: chunked", "-T", &l, &location])
    })
    .await
    .unwrap();
    assert_eq!(code, 201);
    assert!(header(&headers, "location").unwrap().starts_with("webhdfs://"), "{headers}");

    let status_url = format!("{nn}/webhdfs/v1/curl/data.bin?op=GETFILESTATUS&user.name=alice");
    let (code, _, body) = tokio::task::spawn_blocking(move || curl(&[&status_url])).await.unwrap();
    assert_eq!(code, 200);
    let st = &json(&body)["FileStatus"];
    assert_eq!(st["length"], 3_000_000);
    assert_eq!(st["type"], "FILE");
    assert_eq!(st["owner"], "alice");
    assert_eq!(st["permission"], "640");
    assert_eq!(st["replication"], 3);
    assert_eq!(st["pathSuffix"], "");
    for key in ["accessTime", "blockSize", "childrenNum", "fileId", "group", "modificationTime", "storagePolicy"] {
        assert!(st.get(key).is_some(), "FileStatus lacks {key}: {st}");
    }

    // OPEN with offset and length, following the redirect.
    let open = format!("{nn}/webhdfs/v1/curl/data.bin?op=OPEN&user.name=alice&offset=1000&length=500000");
    let (code, _, body) = tokio::task::spawn_blocking(move || curl(&["-L", &open])).await.unwrap();
    assert_eq!(code, 200);
    assert!(body == data[1000..501_000], "OPEN returned {} bytes, not the range", body.len());
    // To the end.
    let open = format!("{nn}/webhdfs/v1/curl/data.bin?op=OPEN&user.name=alice&offset=2999990");
    let (_, _, body) = tokio::task::spawn_blocking(move || curl(&["-L", &open])).await.unwrap();
    assert_eq!(body, data[2_999_990..]);
    // noredirect: the datanode URL in JSON.
    let open = format!("{nn}/webhdfs/v1/curl/data.bin?op=OPEN&user.name=alice&noredirect=true");
    let (code, _, body) = tokio::task::spawn_blocking(move || curl(&[&open])).await.unwrap();
    assert_eq!(code, 200);
    assert!(json(&body)["Location"].as_str().unwrap().contains("op=OPEN"));

    // Another user cannot read a 640 file of alice's.
    let open = format!("{nn}/webhdfs/v1/curl/data.bin?op=OPEN&user.name=mallory");
    let (code, _, body) = tokio::task::spawn_blocking(move || curl(&["-L", &open])).await.unwrap();
    assert_eq!(code, 403);
    assert_eq!(json(&body)["RemoteException"]["exception"], "AccessControlException");

    // Directory operations.
    let mk = format!("{nn}/webhdfs/v1/curl/sub/deep?op=MKDIRS&user.name=alice&permission=700");
    let (code, _, body) = tokio::task::spawn_blocking(move || curl(&["-X", "PUT", &mk])).await.unwrap();
    assert_eq!((code, json(&body)), (200, serde_json::json!({"boolean": true})));
    let ls = format!("{nn}/webhdfs/v1/curl?op=LISTSTATUS&user.name=alice");
    let (_, _, body) = tokio::task::spawn_blocking(move || curl(&[&ls])).await.unwrap();
    let names: Vec<String> = json(&body)["FileStatuses"]["FileStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pathSuffix"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["data.bin", "sub"]);
    let batch = format!("{nn}/webhdfs/v1/curl?op=LISTSTATUS_BATCH&user.name=alice&startAfter=data.bin");
    let (_, _, body) = tokio::task::spawn_blocking(move || curl(&[&batch])).await.unwrap();
    let listing = &json(&body)["DirectoryListing"];
    assert_eq!(listing["remainingEntries"], 0);
    assert_eq!(listing["partialListing"]["FileStatuses"]["FileStatus"][0]["pathSuffix"], "sub");
    let sum = format!("{nn}/webhdfs/v1/curl?op=GETCONTENTSUMMARY&user.name=alice");
    let (_, _, body) = tokio::task::spawn_blocking(move || curl(&[&sum])).await.unwrap();
    let cs = &json(&body)["ContentSummary"];
    assert_eq!(
        (cs["fileCount"].as_u64(), cs["directoryCount"].as_u64(), cs["length"].as_u64()),
        (Some(1), Some(3), Some(3_000_000))
    );
    assert_eq!(cs["spaceConsumed"], 9_000_000);
    let home = format!("{nn}/webhdfs/v1/?op=GETHOMEDIRECTORY&user.name=alice");
    let (_, _, body) = tokio::task::spawn_blocking(move || curl(&[&home])).await.unwrap();
    assert_eq!(json(&body), serde_json::json!({"Path": "/user/alice"}));

    // APPEND in two steps, an empty body too.
    for piece in [&b"more"[..], b""] {
        let ap = format!("{nn}/webhdfs/v1/curl/data.bin?op=APPEND&user.name=alice");
        let (code, headers, _) = tokio::task::spawn_blocking(move || curl(&["-X", "POST", &ap])).await.unwrap();
        assert_eq!(code, 307);
        let dn = header(&headers, "location").unwrap().to_string();
        let piece = String::from_utf8(piece.to_vec()).unwrap();
        let (code, _, _) =
            tokio::task::spawn_blocking(move || curl(&["-X", "POST", "--data-binary", &piece, &dn])).await.unwrap();
        assert_eq!(code, 200);
    }
    let client = hdfs_client::Client::connect(&cluster.namenode_url()).await.unwrap();
    assert_eq!(client.stat("/curl/data.bin").await.unwrap().length, 3_000_004);

    // Checksum: the same as `hdfs dfs -checksum`.
    let ck = format!("{nn}/webhdfs/v1/curl/data.bin?op=GETFILECHECKSUM&user.name=alice");
    let (code, _, body) = tokio::task::spawn_blocking(move || curl(&["-L", &ck])).await.unwrap();
    assert_eq!(code, 200);
    let fc = &json(&body)["FileChecksum"];
    let ours = client.checksum("/curl/data.bin").await.unwrap();
    assert_eq!(
        (fc["algorithm"].as_str().unwrap(), fc["bytes"].as_str().unwrap()),
        (ours.algorithm, ours.hex().as_str())
    );

    // RENAME, SETREPLICATION, SETPERMISSION, SETOWNER (superuser only), SETTIMES, TRUNCATE, DELETE.
    let me = hdfs_client::current_user();
    let calls: Vec<(&str, String, u16, Option<Value>)> = vec![
        (
            "PUT",
            "/curl/data.bin?op=RENAME&destination=/curl/renamed.bin&user.name=alice".to_string(),
            200,
            Some(serde_json::json!({"boolean": true})),
        ),
        (
            "PUT",
            "/curl/missing?op=RENAME&destination=/curl/x&user.name=alice".to_string(),
            200,
            Some(serde_json::json!({"boolean": false})),
        ),
        (
            "PUT",
            "/curl/renamed.bin?op=SETREPLICATION&replication=2&user.name=alice".to_string(),
            200,
            Some(serde_json::json!({"boolean": true})),
        ),
        ("PUT", "/curl/renamed.bin?op=SETPERMISSION&permission=600&user.name=alice".to_string(), 200, None),
        ("PUT", "/curl/renamed.bin?op=SETOWNER&owner=bob&user.name=alice".to_string(), 403, None),
        ("PUT", format!("/curl/renamed.bin?op=SETOWNER&owner=bob&group=staff&user.name={me}"), 200, None),
        (
            "PUT",
            format!("/curl/renamed.bin?op=SETTIMES&modificationtime=1000000&accesstime=-1&user.name={me}"),
            200,
            None,
        ),
        (
            "POST",
            format!("/curl/renamed.bin?op=TRUNCATE&newlength=0&user.name={me}"),
            200,
            Some(serde_json::json!({"boolean": true})),
        ),
        ("DELETE", "/curl/sub?op=DELETE&recursive=false&user.name=alice".to_string(), 403, None),
        (
            "DELETE",
            "/curl/sub?op=DELETE&recursive=True&user.name=alice".to_string(),
            200,
            Some(serde_json::json!({"boolean": true})),
        ),
        ("DELETE", "/curl/sub?op=DELETE&user.name=alice".to_string(), 200, Some(serde_json::json!({"boolean": false}))),
    ];
    for (method, q, want, body_want) in calls {
        let url = format!("{nn}/webhdfs/v1{q}");
        let (code, _, body) = tokio::task::spawn_blocking(move || curl(&["-X", method, &url])).await.unwrap();
        assert_eq!(code, want, "{method} {q}: {}", String::from_utf8_lossy(&body));
        if let Some(b) = body_want {
            assert_eq!(json(&body), b, "{method} {q}");
        }
    }
    let st = client.stat("/curl/renamed.bin").await.unwrap();
    assert_eq!(
        (st.owner.as_str(), st.group.as_str(), st.permission, st.replication, st.length),
        ("bob", "staff", 0o600, 2, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_remote_exceptions_and_change_nothing() {
    let cluster = cluster().await;
    let nn = cluster.namenode_http(0).unwrap();
    let cases: Vec<(&str, &str, u16, &str, Option<&str>)> = vec![
        ("GET", "/x?op=NOSUCHOP", 400, "IllegalArgumentException", None),
        ("GET", "/x?op=GETXATTRS", 400, "UnsupportedOperationException", None),
        ("GET", "/x", 400, "IllegalArgumentException", None),
        ("PUT", "/x?op=GETFILESTATUS", 400, "IllegalArgumentException", None),
        ("GET", "/missing?op=GETFILESTATUS", 404, "FileNotFoundException", Some("does not exist")),
        ("GET", "/missing?op=LISTSTATUS", 404, "FileNotFoundException", Some("does not exist")),
        ("GET", "/missing?op=OPEN", 404, "FileNotFoundException", None),
        ("PUT", "/d?op=MKDIRS&permission=999", 400, "IllegalArgumentException", Some("permission")),
        ("PUT", "/d?op=MKDIRS&permission=rwxr-xr-x", 400, "IllegalArgumentException", None),
        ("PUT", "/a/../b?op=MKDIRS", 400, "IllegalArgumentException", None),
        ("PUT", "/a//b?op=MKDIRS", 400, "IllegalArgumentException", None),
        ("PUT", "/f?op=CREATE&overwrite=maybe", 400, "IllegalArgumentException", Some("overwrite")),
        ("PUT", "/f?op=CREATE&replication=0", 400, "IllegalArgumentException", None),
        ("PUT", "/f?op=CREATE&blocksize=12", 400, "IllegalArgumentException", None),
        ("PUT", "/f?op=CREATE&replication=-3", 400, "IllegalArgumentException", None),
        ("POST", "/f?op=TRUNCATE", 400, "IllegalArgumentException", None),
        ("PUT", "/f?op=RENAME", 400, "IllegalArgumentException", Some("destination")),
        ("PUT", "/f?op=SETOWNER", 400, "IllegalArgumentException", None),
    ];
    for (method, q, want, exception, words) in cases {
        let url = format!("{nn}/webhdfs/v1{q}");
        let (code, headers, body) = tokio::task::spawn_blocking(move || curl(&["-X", method, &url])).await.unwrap();
        assert_eq!(code, want, "{method} {q}: {}", String::from_utf8_lossy(&body));
        assert_eq!(header(&headers, "content-type"), Some("application/json"), "{method} {q}");
        let e = &json(&body)["RemoteException"];
        assert_eq!(e["exception"], exception, "{method} {q}: {e}");
        assert!(e["javaClassName"].as_str().unwrap().ends_with(exception));
        if let Some(w) = words {
            assert!(e["message"].as_str().unwrap().contains(w), "{method} {q}: {e}");
        }
    }
    // A body where none belongs.
    let url = format!("{nn}/webhdfs/v1/nobody?op=MKDIRS");
    let (code, _, _) =
        tokio::task::spawn_blocking(move || curl(&["-X", "PUT", "--data-binary", "xyz", &url])).await.unwrap();
    assert_eq!(code, 400);
    // An offset past the end.
    let client = hdfs_client::Client::connect(&cluster.namenode_url()).await.unwrap();
    let mut w = client.create("/small", Default::default()).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut w, b"12345").await.unwrap();
    w.close().await.unwrap();
    let url = format!("{nn}/webhdfs/v1/small?op=OPEN&offset=6");
    let (code, _, body) = tokio::task::spawn_blocking(move || curl(&["-L", &url])).await.unwrap();
    assert_eq!(code, 400, "{}", String::from_utf8_lossy(&body));
    // A head too large: 431 from the server, which stays up.
    let url = format!("{nn}/webhdfs/v1/{}?op=GETFILESTATUS", "a".repeat(100_000));
    let (code, _, _) = tokio::task::spawn_blocking(move || curl(&[&url])).await.unwrap();
    assert_eq!(code, 431);
    let (url, big) = (format!("{nn}/webhdfs/v1/?op=GETFILESTATUS"), format!("X-Big: {}", "b".repeat(70_000)));
    let (code, _, _) = tokio::task::spawn_blocking(move || curl(&["-H", &big, &url])).await.unwrap();
    assert_eq!(code, 431);
    // Nothing was made by any of it.
    let names: Vec<String> = client.list("/").await.unwrap().into_iter().map(|s| s.path).collect();
    assert_eq!(names, ["/small"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hdfscli_uploads_downloads_and_walks_a_tree() {
    let cluster = cluster().await;
    let nn = cluster.namenode_http(0).unwrap();
    let work = tempfile::tempdir().unwrap();
    let w = work.path().to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking(move || run_python("hdfscli_roundtrip.py", &[&nn, &w])).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("hdfscli: ok"), "{stdout}");
    // What HdfsCLI wrote is what the Rust client reads.
    let client = hdfs_client::Client::connect(&cluster.namenode_url()).await.unwrap();
    assert_eq!(client.stat("/py/tree/big.bin").await.unwrap().length, 40 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fsspec_writes_in_chunks_and_reads_ranges() {
    let cluster = cluster().await;
    let nn = cluster.namenode_http(0).unwrap();
    let out = tokio::task::spawn_blocking(move || run_python("fsspec_roundtrip.py", &[&nn])).await.unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("fsspec: ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concat_moves_blocks_through_webhdfs_and_the_library() {
    let cluster = cluster().await;
    let nn = cluster.namenode_http(0).unwrap();
    let client = hdfs_client::Client::connect(&cluster.namenode_url()).await.unwrap();
    let mut want = Vec::new();
    for (i, name) in ["t", "a", "b", "c"].iter().enumerate() {
        // 1 MiB blocks: "a" spans two, with a partial last block in the middle of the result.
        let data: Vec<u8> = (0..(i + 1) * 700_000).map(|j| (j * (i + 3)) as u8).collect();
        let opts = hdfs_client::CreateOptions::default().block_size(1 << 20).create_parent(true);
        let mut w = client.create(&format!("/cc/{name}"), opts).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut w, &data).await.unwrap();
        w.close().await.unwrap();
        want.push(data);
    }
    let me = hdfs_client::current_user();
    let url = format!("{nn}/webhdfs/v1/cc/t?op=CONCAT&sources=/cc/a,/cc/b&user.name={me}");
    let (code, _, body) = tokio::task::spawn_blocking(move || curl(&["-X", "POST", &url])).await.unwrap();
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    // The library, then a refusal (a missing source) that changes nothing.
    client.concat("/cc/t", &["/cc/c"]).await.unwrap();
    let url = format!("{nn}/webhdfs/v1/cc/t?op=CONCAT&sources=/cc/nothing&user.name={me}");
    let (code, _, _) = tokio::task::spawn_blocking(move || curl(&["-X", "POST", &url])).await.unwrap();
    assert_eq!(code, 404);
    let mut r = client.open("/cc/t").await.unwrap();
    let mut got = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut r, &mut got).await.unwrap();
    assert!(got == want.concat(), "concatenated bytes differ ({} vs {})", got.len(), want.concat().len());
    let names: Vec<String> = client.list("/cc").await.unwrap().into_iter().map(|s| s.path).collect();
    assert_eq!(names, ["/cc/t"]);
    // Over WebHDFS, ranged, across the moved blocks' boundaries.
    let open = format!("{nn}/webhdfs/v1/cc/t?op=OPEN&offset=690000&length=1500000&user.name={me}");
    let (_, _, body) = tokio::task::spawn_blocking(move || curl(&["-L", &open])).await.unwrap();
    assert!(body == want.concat()[690_000..2_190_000]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_mid_create_leaves_no_complete_file() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cluster = MiniCluster::with_options(ClusterOptions {
        datanodes: 3,
        replication: 3,
        lease_hard_limit: std::time::Duration::from_secs(2),
        ..Default::default()
    })
    .await
    .unwrap();
    let su = hdfs_client::Client::connect(&cluster.namenode_url()).await.unwrap();
    su.set_permission("/", 0o1777).await.unwrap();
    let nn = cluster.namenode_http(0).unwrap();
    let url = format!("{nn}/webhdfs/v1/gone.bin?op=CREATE&user.name=alice&noredirect=true");
    let (code, _, body) = tokio::task::spawn_blocking(move || curl(&["-X", "PUT", &url])).await.unwrap();
    assert_eq!(code, 200);
    let dn = json(&body)["Location"].as_str().unwrap().to_string();
    // A raw HTTP/1.1 upload, chunked, that stops half way and disconnects.
    let rest = dn.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!("PUT {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![7u8; 1 << 20];
    for _ in 0..3 {
        s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.unwrap();
        s.write_all(&chunk).await.unwrap();
        s.write_all(b"\r\n").await.unwrap();
    }
    drop(s);
    // The file exists, open for writing, until its lease is recovered; it is never complete
    // with a length claiming the whole upload, and never shows bytes that were not sent.
    hdfs_tests::wait_until("the abandoned file to be closed by lease recovery", hdfs_tests::SETTLE_TIMEOUT, || async {
        su.stat("/gone.bin").await.is_ok_and(|st| !st.under_construction)
    })
    .await
    .unwrap();
    let st = su.stat("/gone.bin").await.unwrap();
    assert!(st.length <= 3 << 20, "{} bytes", st.length);
    let mut data = Vec::new();
    su.open("/gone.bin").await.unwrap().read_to_end(&mut data).await.unwrap();
    assert!(data.iter().all(|&b| b == 7), "bytes that were never sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cluster = MiniCluster::start(1).await.unwrap();
    let nn = cluster.namenode_http(0).unwrap();
    let host = nn.strip_prefix("http://").unwrap().to_string();
    // Slowloris: a head that never ends. The server hangs up within its head timeout.
    let started = std::time::Instant::now();
    let mut s = tokio::net::TcpStream::connect(&host).await.unwrap();
    s.write_all(b"GET /webhdfs/v1/?op=GETFILESTATUS HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "a never-ending head kept its connection for 30 s");
    assert!(started.elapsed() >= std::time::Duration::from_secs(5), "closed before the head timeout");
    // Meanwhile, and after, the port serves others.
    let url = format!("{nn}/webhdfs/v1/?op=GETFILESTATUS");
    let (code, _, _) = tokio::task::spawn_blocking(move || curl(&[&url])).await.unwrap();
    assert_eq!(code, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_answers_standby_and_hdfscli_moves_on_to_the_leader() {
    let cluster =
        MiniCluster::with_options(ClusterOptions { namenodes: 3, datanodes: 3, replication: 3, ..Default::default() })
            .await
            .unwrap();
    let leader = cluster.wait_leader(None).await.unwrap();
    let su = hdfs_client::Client::connect(&cluster.namenode_url()).await.unwrap();
    su.set_permission("/", 0o1777).await.unwrap();
    let follower = (0..3).find(|&i| i != leader).unwrap();
    let url = format!("{}/webhdfs/v1/?op=LISTSTATUS", cluster.namenode_http(follower).unwrap());
    let (code, _, body) = tokio::task::spawn_blocking(move || curl(&[&url])).await.unwrap();
    assert_eq!(code, 403);
    assert_eq!(json(&body)["RemoteException"]["exception"], "StandbyException");
    // HdfsCLI given every member, the follower first, finds the leader.
    let urls = format!("{};{}", cluster.namenode_http(follower).unwrap(), cluster.namenode_http(leader).unwrap());
    let out = tokio::task::spawn_blocking(move || run_python("hdfscli_ha.py", &[&urls])).await.unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("hdfscli ha: ok"));
}

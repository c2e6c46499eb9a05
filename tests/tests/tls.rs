//! TLS on every port: a cluster given certificates (deploy/make-certs.sh) serves gRPC and HTTP
//! over TLS only; the library (trusting the CA), the `hdfs` command (`--tls-ca`) and curl
//! (`--cacert`) read and write through it, datanodes pipeline and copy to each other over it,
//! and a plaintext caller gets nothing. One test binary: a process trusts one CA.

mod common;

use std::process::Command;

use common::{MIB, get, put, random_bytes, wait_healthy};
use hdfs_client::Client;
use hdfs_tests::{ClusterOptions, MiniCluster, TlsFiles};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_port_speaks_tls_and_only_tls() {
    let certs = tempfile::tempdir().unwrap();
    let tls = TlsFiles::make(certs.path()).unwrap();
    let mut cluster =
        MiniCluster::with_options(ClusterOptions { datanodes: 3, tls: Some(tls.clone()), ..Default::default() })
            .await
            .unwrap();
    let url = cluster.namenode_url();
    assert!(url.starts_with("https://"), "{url}");

    // The library: a pipeline of three datanodes, a read, a checksum, over TLS.
    let client = Client::connect(&url).await.unwrap();
    let data = random_bytes(3 * MIB + 77, 1);
    put(&client, "/secure", &data, 3).await;
    assert_eq!(get(&client, "/secure").await, data);
    assert_eq!(client.checksum("/secure").await.unwrap().crc, crc32c::crc32c(&data));

    // A datanode dies: the others copy its replicas to each other over TLS.
    let held = cluster.block_locations("/secure").await.unwrap()[0].locations[0].address.clone();
    cluster.add_datanode().await.unwrap();
    cluster.kill_datanode(cluster.datanode_index(&held).unwrap()).await;
    cluster.wait_datanode_dead(&held, std::time::Duration::from_secs(30)).await.unwrap();
    wait_healthy(&client).await;
    assert_eq!(get(&client, "/secure").await, data);

    // The hdfs command with --tls-ca.
    let hdfs = hdfs_binary();
    let ca = tls.ca.to_str().unwrap();
    let out = Command::new(&hdfs).args(["--tls-ca", ca, "--namenode", &url, "cat", "/secure"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout == data, "hdfs cat over TLS returned other bytes");
    // Without the CA it cannot check the servers, and says so.
    let out = Command::new(&hdfs).args(["--namenode", &url, "ls", "/"]).env_remove("HDFS_TLS_CA").output().unwrap();
    assert!(!out.status.success(), "an https namenode reached without a CA");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("--tls-ca or HDFS_TLS_CA"), "{said}");

    // curl: WebHDFS over https, following the redirect to a datanode's https port.
    let http = cluster.namenode_http(0).unwrap();
    assert!(http.starts_with("https://"), "{http}");
    let open = format!("{http}/webhdfs/v1/secure?op=OPEN&user.name=alice");
    let out = Command::new("curl").args(["-sS", "-f", "-L", "--cacert", ca, &open]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout == data, "WebHDFS OPEN over TLS returned other bytes");
    // Plaintext to the TLS ports: refused.
    let plain = open.replacen("https://", "http://", 1);
    let out = Command::new("curl").args(["-sS", "-f", "-m", "10", &plain]).output().unwrap();
    assert!(!out.status.success(), "a plaintext request was answered: {}", String::from_utf8_lossy(&out.stdout));
    let plain_rpc = url.replacen("https://", "http://", 1);
    let channel = hdfs_proto::grpc::endpoint(&plain_rpc).unwrap().connect().await;
    let answered = match channel {
        Err(_) => false,
        Ok(ch) => hdfs_proto::pb::namenode::client_protocol_client::ClientProtocolClient::new(ch)
            .get_file_info(hdfs_proto::pb::namenode::GetFileInfoRequest { path: "/".into() })
            .await
            .is_ok(),
    };
    assert!(!answered, "a plaintext gRPC call was answered");
}

/// The `hdfs` binary `cargo test --workspace` built beside this test's own.
fn hdfs_binary() -> std::path::PathBuf {
    let me = std::env::current_exe().unwrap();
    let hdfs = me.parent().and_then(|deps| deps.parent()).unwrap().join("hdfs");
    assert!(hdfs.is_file(), "{} not built: run the tests with `cargo test --workspace`", hdfs.display());
    hdfs
}

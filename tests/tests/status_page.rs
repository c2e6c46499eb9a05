//! The status pages in a real headless Chromium (Debian's `chromium`, from
//! `tests/setup-clients.sh`): the namenode's `/` lists the live datanodes and the right counts,
//! then shows a killed datanode dead and the repair that followed; the namespace browser lists a
//! directory whose names would be markup if not escaped, and a file's blocks with a download
//! link that works; each datanode's page shows its replicas and scanner. The JSON behind each
//! view is checked against the same cluster. A screenshot of `/` is kept in the log directory
//! (`$HDFS_TEST_LOGS`, else `target/test-logs/`).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{MIB, put, random_bytes, wait_healthy};
use hdfs_client::Client;
use hdfs_tests::clients::{chromium, log_dir};
use hdfs_tests::http::get;
use hdfs_tests::{ClusterOptions, MiniCluster, SETTLE_TIMEOUT, wait_until};
use serde_json::Value;

const DEAD_AFTER: Duration = Duration::from_secs(3);
/// Ordinary files, of 1.5 blocks each, at replication 2 (so that two of the three datanodes can
/// hold every block again once one is killed).
const FILES: usize = 5;
const SCRIPT_NAME: &str = "<script>alert(1)";
const QUOTED_NAME: &str = "a&b \"q\" <img src=x onerror=alert(2)>";
/// Longest a browser run may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs headless chromium on `url` with `args`; returns its stdout.
async fn browser(args: Vec<String>, url: &str) -> String {
    let exe = chromium();
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(&exe)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(&args)
            .arg(&url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e} (tests/setup-clients.sh installs chromium)", exe.display()));
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > BROWSER_TIMEOUT {
                let _ = child.kill();
                panic!("chromium {args:?} {url}: no answer within {BROWSER_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "chromium {args:?} {url}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .await
    .unwrap()
}

/// The DOM chromium builds from `url`, serialized.
async fn dom(url: &str) -> String {
    let dom = browser(vec!["--dump-dom".into()], url).await;
    assert!(dom.contains("</html>"), "no document from {url}: {dom}");
    dom
}

/// `<tag ... id="id" ...>text<`: the text of the element with `id`.
fn text_of<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in the page:\n{dom}"));
    let start = at + dom[at..].find('>').unwrap() + 1;
    &dom[start..start + dom[start..].find('<').unwrap()]
}

async fn api(url: &str) -> Value {
    let a = get(url).await.unwrap();
    assert_eq!(a.status, 200, "GET {url}: {}", a.text());
    assert_eq!(a.header("content-type"), Some("application/json"), "GET {url}");
    a.json().unwrap()
}

/// Events of `kind` in `/api/events`.
async fn events_of(nn: &str, kind: &str) -> Vec<Value> {
    let Ok(a) = get(&format!("{nn}/api/events")).await else { return Vec::new() };
    let v = a.json().unwrap_or_default();
    v["events"].as_array().into_iter().flatten().filter(|e| e["kind"] == kind).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_the_cluster_a_dead_datanode_and_its_repair() {
    chromium();
    let opts = ClusterOptions {
        datanodes: 3,
        replication: 2,
        dead_after: DEAD_AFTER,
        scan_bytes_per_sec: 64 << 20,
        scan_period: Duration::from_millis(500),
        ..Default::default()
    };
    let mut cluster = MiniCluster::with_options(opts).await.unwrap();
    let client = Client::connect(&cluster.namenode_url()).await.unwrap();
    let mut files = Vec::new();
    for i in 0..FILES {
        let path = format!("/data/f{i}");
        let data = random_bytes(MIB + MIB / 2, i as u64);
        put(&client, &path, &data, 2).await;
        files.push((path, data));
    }
    let weird = [SCRIPT_NAME, QUOTED_NAME].map(|n| format!("/weird/{n}"));
    for (i, path) in weird.iter().enumerate() {
        put(&client, path, format!("contents of {i}").as_bytes(), 2).await;
    }
    client.mkdirs("/weird/sub dir", true).await.unwrap();
    wait_healthy(&client).await;
    let nn = cluster.namenode_http(0).unwrap();

    // The overview and the datanode table, in the browser and in the JSON.
    let page = dom(&format!("{nn}/")).await;
    assert_eq!(page.matches("<tr class=\"datanode\" data-state=\"live\"").count(), 3, "{page}");
    assert_eq!(page.matches("<tr class=\"datanode\"").count(), 3);
    assert_eq!(text_of(&page, "files"), (FILES + 2).to_string());
    assert_eq!(text_of(&page, "directories"), "4", "/, /data, /weird, /weird/sub dir");
    assert_eq!(text_of(&page, "version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(text_of(&page, "live-datanodes"), "3");
    assert_eq!(text_of(&page, "dead-datanodes"), "0");
    assert!(text_of(&page, "cluster-id").starts_with("none"), "no invented cluster id");
    assert!(page.contains("id=\"role\" data-leading=\"true\""));
    assert!(page.contains("data-kind=\"datanode_registered\""), "registrations are events");
    let overview = api(&format!("{nn}/api/overview")).await;
    assert_eq!(overview["files"], FILES as u64 + 2);
    assert_eq!(overview["live_datanodes"], 3);
    assert_eq!(overview["namenode"]["role"], "leader");
    assert_eq!(overview["cluster_id"], Value::Null);
    assert!(overview["capacity"].as_u64().unwrap() > 0, "{overview}");
    assert_eq!(overview["repair"]["in_progress"], false);
    let dns = api(&format!("{nn}/api/datanodes")).await;
    let rows = dns["datanodes"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["state"] == "live" && r["blocks"].as_u64().unwrap() > 0), "{dns}");
    let total: u64 = rows.iter().map(|r| r["blocks"].as_u64().unwrap()).sum();
    assert_eq!(total, (FILES * 2 + 2) as u64 * 2, "every block twice");

    browse_in_the_browser(&nn, &files[0]).await;
    screenshot(&format!("{nn}/browse?path=%2Fweird"), "status-browse.png").await;
    datanode_pages(&cluster).await;

    // A datanode holding the first block of the first file dies.
    let blocks = cluster.block_locations("/data/f0").await.unwrap();
    let victim = blocks[0].locations[0].address.clone();
    let before = events_of(&nn, "repair_finished").await.len();
    cluster.kill_datanode(cluster.datanode_index(&victim).unwrap()).await;
    let dead_url = format!("{nn}/api/datanodes");
    wait_until(&format!("/api/datanodes to say {victim} is dead"), DEAD_AFTER * 4, || async {
        let Ok(a) = get(&dead_url).await else { return false };
        let v = a.json().unwrap_or_default();
        v["datanodes"].as_array().into_iter().flatten().any(|r| r["address"] == victim.as_str() && r["state"] == "dead")
    })
    .await
    .unwrap();
    wait_until("/api/events to list the repair's end", SETTLE_TIMEOUT, || async {
        events_of(&nn, "repair_finished").await.len() > before
    })
    .await
    .unwrap();
    let dead = events_of(&nn, "datanode_dead").await;
    let died = dead.iter().find(|e| e["datanode"] == victim.as_str()).unwrap_or_else(|| panic!("{dead:?}"));
    assert!(died["blocks"].as_u64().unwrap() > 0, "it held replicas: {died}");
    let repaired = events_of(&nn, "repair_finished").await;
    let repaired = &repaired[0];
    assert!(repaired["seq"].as_u64() > died["seq"].as_u64(), "the repair followed the death");
    assert!(repaired["blocks"].as_u64().unwrap() > 0, "{repaired}");
    assert!(repaired["duration_ms"].is_u64(), "{repaired}");
    wait_healthy(&client).await;

    let page = dom(&format!("{nn}/")).await;
    assert!(page.contains(&format!("<tr class=\"datanode\" data-state=\"dead\" data-address=\"{victim}\"")), "{page}");
    assert_eq!(page.matches("<tr class=\"datanode\" data-state=\"live\"").count(), 2);
    assert_eq!(text_of(&page, "dead-datanodes"), "1");
    assert_eq!(text_of(&page, "files"), (FILES + 2).to_string());
    assert!(page.contains("<tr class=\"event\" data-kind=\"datanode_dead\""), "{page}");
    assert!(page.contains("<tr class=\"event\" data-kind=\"repair_finished\""), "{page}");
    assert!(page.contains("blocks copied in"), "the repair's event says what it did");
    assert!(page.contains("id=\"repair\" data-in-progress=\"false\""), "{page}");

    screenshot(&format!("{nn}/"), "status-page.png").await;
}

/// Keeps a screenshot of `url` as `name` in the log directory.
async fn screenshot(url: &str, name: &str) {
    let shot = log_dir().join(name);
    let _ = std::fs::remove_file(&shot);
    browser(vec![format!("--screenshot={}", shot.display()), "--window-size=1280,1600".into()], url).await;
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", shot.display()));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{} is not a screenshot", shot.display());
    eprintln!("screenshot of {url}: {}", shot.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_shows_what_it_hears_and_says_it_does_not_lead() {
    chromium();
    let cluster =
        MiniCluster::with_options(ClusterOptions { namenodes: 3, datanodes: 3, ..Default::default() }).await.unwrap();
    let leader = cluster.wait_leader(None).await.unwrap();
    let follower = (leader + 1) % 3;
    let nn = cluster.namenode_http(follower).unwrap();
    // Datanodes report to every member: the follower hears all three.
    wait_until("the follower to hear from 3 live datanodes", SETTLE_TIMEOUT, || async {
        let Ok(a) = get(&format!("{nn}/api/datanodes")).await else { return false };
        let v = a.json().unwrap_or_default();
        v["leading"] == false
            && v["datanodes"].as_array().is_some_and(|d| d.iter().filter(|r| r["state"] == "live").count() == 3)
    })
    .await
    .unwrap();
    let page = dom(&format!("{nn}/")).await;
    assert!(page.contains("id=\"follower-note\""), "{page}");
    assert!(page.contains("id=\"role\" data-leading=\"false\""), "{page}");
    assert!(text_of(&page, "role").starts_with("follower"), "{page}");
    assert!(page.contains(&cluster.namenode_addr(leader)), "the leader is named: {page}");
    assert_eq!(page.matches("<tr class=\"datanode\" data-state=\"live\"").count(), 3);
    let overview = api(&format!("{nn}/api/overview")).await;
    assert_eq!(overview["namenode"]["leading"], false);
    assert_eq!(overview["namenode"]["leader"], cluster.namenode_addr(leader).as_str());
    // The namespace is the leader's to read: the browser says so.
    let browse = get(&format!("{nn}/browse?path=%2F")).await.unwrap();
    assert_eq!(browse.status, 403, "{}", browse.text());
    assert!(browse.text().contains("standby"), "{}", browse.text());
}

/// The browser: a directory of names that would be markup, and a file's blocks and download.
async fn browse_in_the_browser(nn: &str, (f0, data): &(String, Vec<u8>)) {
    let page = dom(&format!("{nn}/browse?path=%2Fweird")).await;
    assert!(!page.to_ascii_lowercase().contains("<script"), "a name became a script:\n{page}");
    assert!(!page.contains("<img"), "a name became an element:\n{page}");
    assert!(page.contains("&lt;script&gt;alert(1)"), "{page}");
    assert!(page.contains("a&amp;b \"q\" &lt;img src=x onerror=alert(2)&gt;"), "{page}");
    assert_eq!(page.matches("<tr class=\"entry\" data-type=\"file\"").count(), 2, "{page}");
    assert_eq!(page.matches("<tr class=\"entry\" data-type=\"directory\" data-name=\"sub dir\"").count(), 1);
    assert!(
        page.contains(
            "href=\"/browse?path=%2Fweird%2Fa%26b%20%22q%22%20%3Cimg%20src%3Dx%20onerror%3Dalert%282%29%3E\""
        )
    );
    let listing = api(&format!("{nn}/api/browse?path=%2Fweird")).await;
    assert_eq!(listing["type"], "directory");
    let names: Vec<&str> = listing["entries"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, [SCRIPT_NAME, QUOTED_NAME, "sub dir"]);

    // A weird name's own page, and its download through WebHDFS.
    let quoted = format!("/weird/{QUOTED_NAME}");
    let file = api(&format!("{nn}/api/browse?path={}", hdfs_proto::html::url_query(&quoted))).await;
    assert_eq!(file["type"], "file");
    assert_eq!(download(nn, file["download"].as_str().unwrap()).await, b"contents of 1");

    let page = dom(&format!("{nn}/browse?path=%2Fdata%2Ff0")).await;
    assert_eq!(page.matches("<tr class=\"block\"").count(), 2, "1.5 blocks: {page}");
    assert_eq!(page.matches("data-replicas=\"2\"").count(), 2, "{page}");
    assert_eq!(page.matches("class=\"replica mono\"").count(), 4);
    assert!(page.contains("<a id=\"download\" href=\"/webhdfs/v1/data/f0?op=OPEN\""), "{page}");
    let file = api(&format!("{nn}/api/browse?path={f0}")).await;
    assert_eq!(file["status"]["length"], data.len() as u64);
    assert_eq!(file["blocks"].as_array().unwrap().len(), 2);
    assert_eq!(file["blocks"][1]["offset"], MIB as u64);
    assert!(download(nn, file["download"].as_str().unwrap()).await == *data, "the download is the file");

    let missing = get(&format!("{nn}/browse?path=%2Fnope")).await.unwrap();
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("id=\"error\""));
    assert_eq!(get(&format!("{nn}/api/browse?path=%2Fnope")).await.unwrap().status, 404);
}

/// A download link: the namenode redirects it to a datanode, which sends the bytes.
async fn download(nn: &str, link: &str) -> Vec<u8> {
    let first = get(&format!("{nn}{link}")).await.unwrap();
    assert_eq!(first.status, 307, "{link}: {}", first.text());
    let second = get(first.header("location").unwrap()).await.unwrap();
    assert_eq!(second.status, 200, "{}", second.text());
    second.body
}

/// Each datanode's own page: its replicas, its volume, its scanner.
async fn datanode_pages(cluster: &MiniCluster) {
    for i in 0..3 {
        let dn = cluster.datanode_http(i).unwrap();
        let url = format!("{dn}/api/datanode");
        wait_until(&format!("datanode {i}'s scanner to finish a pass over its replicas"), SETTLE_TIMEOUT, || async {
            let Ok(a) = get(&url).await else { return false };
            let v = a.json().unwrap_or_default();
            v["scanner"]["passes"].as_u64() > Some(0) && v["scanner"]["scanned_bytes"].as_u64() > Some(0)
        })
        .await
        .unwrap();
        let v = api(&url).await;
        let finalized = v["replicas"]["finalized"].as_u64().unwrap();
        assert!(finalized > 0, "{v}");
        assert_eq!(v["replicas"]["unfinished"], 0);
        assert!(v["volumes"][0]["capacity"].as_u64().unwrap() > 0, "{v}");
        assert_eq!(v["scanner"]["enabled"], true);
        assert_eq!(v["scanner"]["errors"], 0);
        let page = dom(&format!("{dn}/")).await;
        assert_eq!(text_of(&page, "replicas-finalized"), finalized.to_string());
        assert_eq!(text_of(&page, "datanode-id"), v["datanode_id"].as_str().unwrap());
        assert_eq!(page.matches("<tr class=\"volume\"").count(), 1);
        assert!(page.contains("id=\"scanner\""));
    }
}

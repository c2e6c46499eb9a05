//! Owners, groups and modes, checked as HDFS checks them, with two users (`alice`, `bob`)
//! calling a real cluster through the client library; the namenode's own user is the superuser.

use hdfs_client::{Access, Client, CreateOptions, Error};
use hdfs_tests::{ClusterOptions, MiniCluster};
use tokio::io::AsyncWriteExt;

fn options() -> ClusterOptions {
    ClusterOptions {
        datanodes: 1,
        replication: 1,
        group_mapping: "alice=staff,alice;bob=bob;carol=supergroup".into(),
        ..Default::default()
    }
}

async fn write(c: &Client, path: &str, bytes: &[u8]) -> Result<(), Error> {
    let mut w = c.create(path, CreateOptions::default()).await?;
    w.write_all(bytes).await.map_err(Error::from)?;
    w.close().await.map(drop)
}

#[track_caller]
fn denied<T: std::fmt::Debug>(r: Result<T, Error>, expected: &str) {
    match r {
        Err(Error::PermissionDenied(m)) => assert!(m.contains(expected), "{m:?} should contain {expected:?}"),
        other => panic!("expected a permission error containing {expected:?}, got {other:?}"),
    }
}

/// The superuser, alice and bob, connected; `/user/alice` is alice's, `/tmp` is 1777.
async fn three(cluster: &MiniCluster) -> (Client, Client, Client) {
    let url = cluster.namenode_url();
    let root = Client::connect(&url).await.unwrap();
    let alice = Client::connect_as(&url, "alice").await.unwrap();
    let bob = Client::connect_as(&url, "bob").await.unwrap();
    root.mkdirs("/user/alice", true).await.unwrap();
    root.set_owner("/user/alice", Some("alice"), None).await.unwrap();
    root.mkdirs("/tmp", true).await.unwrap();
    root.set_permission("/tmp", 0o1777).await.unwrap();
    (root, alice, bob)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_groups_and_modes_are_kept_and_shown() {
    let cluster = MiniCluster::with_options(options()).await.unwrap();
    let (root, alice, _bob) = three(&cluster).await;
    let me = hdfs_client::current_user();

    let top = root.stat("/").await.unwrap();
    assert_eq!((top.owner.as_str(), top.group.as_str(), top.permission), (me.as_str(), "supergroup", 0o755));
    // New entries: the caller's, in the parent's group, 0777/0666 less the umask (022).
    alice.mkdirs("/user/alice/docs/deep", true).await.unwrap();
    write(&alice, "/user/alice/docs/f.txt", b"hello").await.unwrap();
    let d = alice.stat("/user/alice/docs").await.unwrap();
    assert_eq!((d.owner.as_str(), d.group.as_str(), d.mode_string().as_str()), ("alice", "supergroup", "drwxr-xr-x"));
    let f = alice.stat("/user/alice/docs/f.txt").await.unwrap();
    assert_eq!((f.owner.as_str(), f.mode_string().as_str()), ("alice", "-rw-r--r--"));
    // A listing carries them too.
    let listed = alice.list("/user/alice/docs").await.unwrap();
    assert!(listed.iter().all(|e| e.owner == "alice" && e.group == "supergroup"), "{listed:?}");

    // The owner changes the group to one of theirs; a new entry then takes that group.
    alice.set_owner("/user/alice/docs", None, Some("staff")).await.unwrap();
    alice.mkdirs("/user/alice/docs/s", false).await.unwrap();
    assert_eq!(alice.stat("/user/alice/docs/s").await.unwrap().group, "staff");
    alice.set_permission("/user/alice/docs/f.txt", 0o640).await.unwrap();
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_000);
    alice.set_times("/user/alice/docs/f.txt", when).await.unwrap();

    // Kept through a restart (the log), and through an fsimage (a graceful stop writes one).
    let mut cluster = cluster;
    for graceful in [false, true] {
        cluster.restart_namenode(graceful).await.unwrap();
        let c = Client::connect_as(&cluster.namenode_url(), "alice").await.unwrap();
        let f = c.stat("/user/alice/docs/f.txt").await.unwrap();
        // Made before its directory changed group: it kept the group it was made in.
        assert_eq!((f.owner.as_str(), f.group.as_str(), f.permission), ("alice", "supergroup", 0o640));
        assert_eq!(f.modification_time_ms, 1_700_000_000_000);
        assert_eq!(c.stat("/user/alice/docs/s").await.unwrap().group, "staff");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rule_refuses_in_hdfs_words_and_changes_nothing() {
    let cluster = MiniCluster::with_options(options()).await.unwrap();
    let (root, alice, bob) = three(&cluster).await;
    let me = hdfs_client::current_user();

    // Write on the parent to create: / is the superuser's 0755.
    denied(
        alice.mkdirs("/x", false).await,
        &format!("Permission denied: user=alice, access=WRITE, inode=\"/\":{me}:supergroup:drwxr-xr-x"),
    );
    denied(
        write(&bob, "/user/alice/b.txt", b"x").await,
        "user=bob, access=WRITE, inode=\"/user/alice\":alice:supergroup:drwxr-xr-x",
    );
    assert!(matches!(root.stat("/x").await, Err(Error::NotFound(_))));

    // Execute to traverse, read and execute to list, read to open.
    write(&alice, "/user/alice/f", b"secret").await.unwrap();
    alice.set_permission("/user/alice", 0o700).await.unwrap();
    denied(
        bob.stat("/user/alice/f").await,
        "user=bob, access=EXECUTE, inode=\"/user/alice\":alice:supergroup:drwx------",
    );
    denied(bob.list("/user/alice").await, "access=READ_EXECUTE");
    alice.set_permission("/user/alice", 0o711).await.unwrap();
    bob.stat("/user/alice/f").await.unwrap();
    denied(bob.list("/user/alice").await, "access=READ_EXECUTE");
    alice.set_permission("/user/alice/f", 0o600).await.unwrap();
    denied(
        bob.open("/user/alice/f").await.map(|_| ()),
        "user=bob, access=READ, inode=\"/user/alice/f\":alice:supergroup:-rw-------",
    );
    denied(bob.check_access("/user/alice/f", Access::READ).await, "access=READ");
    alice.check_access("/user/alice/f", Access::WRITE).await.unwrap();
    root.open("/user/alice/f").await.unwrap();

    // Write on the parent to delete or rename; write on the file to set replication or times.
    alice.set_permission("/user/alice", 0o755).await.unwrap();
    denied(bob.delete("/user/alice/f", false).await, "access=WRITE, inode=\"/user/alice\"");
    denied(bob.rename("/user/alice/f", "/tmp/stolen").await, "access=WRITE, inode=\"/user/alice\"");
    denied(bob.set_replication("/user/alice/f", 2).await, "access=WRITE, inode=\"/user/alice/f\"");
    denied(bob.set_times("/user/alice/f", std::time::SystemTime::now()).await, "access=WRITE");
    let f = root.stat("/user/alice/f").await.unwrap();
    assert_eq!((f.length, f.replication, f.permission), (6, 1, 0o600));

    // A recursive delete needs every non-empty directory below to be writable.
    root.mkdirs("/open", false).await.unwrap();
    root.set_permission("/open", 0o777).await.unwrap();
    alice.mkdirs("/open/tree/locked", true).await.unwrap();
    write(&alice, "/open/tree/locked/g", b"g").await.unwrap();
    alice.set_permission("/open/tree", 0o777).await.unwrap();
    alice.set_permission("/open/tree/locked", 0o755).await.unwrap();
    denied(bob.delete("/open/tree", true).await, "user=bob, access=ALL, inode=\"/open/tree/locked\"");
    root.stat("/open/tree/locked/g").await.unwrap();
    alice.set_permission("/open/tree/locked", 0o777).await.unwrap();
    bob.delete("/open/tree", true).await.unwrap();

    // The sticky bit: in /tmp (1777) bob may not remove or rename alice's entries, only his own.
    write(&alice, "/tmp/a", b"a").await.unwrap();
    denied(
        bob.delete("/tmp/a", false).await,
        "Permission denied by sticky bit: user=bob, path=\"/tmp/a\":alice:supergroup:-rw-r--r--",
    );
    denied(bob.rename("/tmp/a", "/tmp/b").await, "sticky bit");
    write(&bob, "/tmp/mine", b"b").await.unwrap();
    bob.rename("/tmp/mine", "/tmp/mine2").await.unwrap();
    bob.delete("/tmp/mine2", false).await.unwrap();
    root.stat("/tmp/a").await.unwrap();

    // Only the owner (or a superuser) changes a mode; only a superuser changes an owner; an
    // owner changes the group only to one of their own.
    denied(bob.set_permission("/tmp/a", 0o777).await, "user=bob is not the owner of inode=/tmp/a");
    denied(alice.set_owner("/tmp/a", Some("bob"), None).await, "non-super user cannot change owner");
    denied(alice.set_owner("/tmp/a", None, Some("bob")).await, "User alice does not belong to bob");
    denied(bob.set_owner("/tmp/a", None, Some("bob")).await, "is not the owner");
    let a = root.stat("/tmp/a").await.unwrap();
    assert_eq!((a.owner.as_str(), a.group.as_str(), a.permission), ("alice", "supergroup", 0o644));
    root.set_owner("/tmp/a", Some("bob"), Some("bob")).await.unwrap();
    bob.delete("/tmp/a", false).await.unwrap();

    // A member of the superuser group is a superuser.
    let carol = Client::connect_as(&cluster.namenode_url(), "carol").await.unwrap();
    carol.delete("/user/alice/f", false).await.unwrap();
    carol.mkdirs("/carol", false).await.unwrap();
    // Superuser-only administration.
    denied(bob.safe_mode(hdfs_client::SafeModeAction::Enter).await, "Superuser privilege is required");
    bob.safe_mode(hdfs_client::SafeModeAction::Get).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_permissions_off_everyone_may_do_everything_and_owners_are_still_kept() {
    let cluster = MiniCluster::with_options(ClusterOptions { permissions: false, ..options() }).await.unwrap();
    let url = cluster.namenode_url();
    let alice = Client::connect_as(&url, "alice").await.unwrap();
    let bob = Client::connect_as(&url, "bob").await.unwrap();
    alice.mkdirs("/a", false).await.unwrap();
    alice.set_permission("/a", 0o700).await.unwrap();
    write(&alice, "/a/f", b"x").await.unwrap();
    bob.list("/a").await.unwrap();
    bob.set_owner("/a/f", Some("bob"), None).await.unwrap();
    assert_eq!(alice.stat("/a/f").await.unwrap().owner, "bob");
    bob.delete("/a", true).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_modes_and_names_are_refused_with_a_clear_error() {
    let cluster = MiniCluster::with_options(options()).await.unwrap();
    let root = Client::connect(&cluster.namenode_url()).await.unwrap();
    root.mkdirs("/d", false).await.unwrap();
    match root.set_permission("/d", 0o4755).await {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("invalid permission 4755"), "{m}"),
        other => panic!("{other:?}"),
    }
    match root.set_owner("/d", Some("a:b"), None).await {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("not a valid user or group name"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(root.set_permission("/nope", 0o700).await, Err(Error::NotFound(_))));
    assert_eq!(root.stat("/d").await.unwrap().permission, 0o755);
}

/// A namenode directory written before owners and modes (an fsimage and log records after it,
/// made by the previous release): it loads, and what it held becomes the superuser's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_from_before_owners_loads_as_the_superusers() {
    let mut cluster = MiniCluster::with_options(ClusterOptions { datanodes: 0, ..options() }).await.unwrap();
    cluster.stop_namenode(0, true).await;
    let dir = cluster.namenode_dir();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/namenode-v1");
    for f in std::fs::read_dir(&fixture).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.join(f.file_name())).unwrap();
    }
    cluster.start_namenode(0).await.unwrap();
    let me = hdfs_client::current_user();
    let root = Client::connect(&cluster.namenode_url()).await.unwrap();
    // From the image, and from the log records after it.
    for (path, mode) in [("/user/alice/docs", 0o755), ("/tmp/shared/renamed.log", 0o644), ("/after/image/f", 0o644)] {
        let s = root.stat(path).await.unwrap();
        assert_eq!((s.owner.as_str(), s.group.as_str(), s.permission), (me.as_str(), "supergroup", mode), "{path}");
    }
    assert!(matches!(root.stat("/user/alice/docs/empty.txt").await, Err(Error::NotFound(_))));
    let alice = Client::connect_as(&cluster.namenode_url(), "alice").await.unwrap();
    denied(alice.mkdirs("/user/alice/new", false).await, "user=alice, access=WRITE");
    // The upgraded namespace is written in the new format and read back.
    root.set_owner("/user/alice", Some("alice"), None).await.unwrap();
    cluster.restart_namenode(true).await.unwrap();
    let alice = Client::connect_as(&cluster.namenode_url(), "alice").await.unwrap();
    alice.mkdirs("/user/alice/new", false).await.unwrap();
    assert_eq!(alice.stat("/user/alice").await.unwrap().owner, "alice");
}

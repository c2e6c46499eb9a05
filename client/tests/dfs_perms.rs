//! Owners, groups and modes through `hdfs dfs` as Hadoop's shell: `-chmod`, `-chown`, `-chgrp`,
//! `-ls`'s and `-stat`'s columns, `-test -r/-w`, `-touch -t`, `-put -p` and `-get -p`; the real
//! binary against an in-process cluster, run as alice (in group staff), bob (in no group) and
//! the superuser (whoever runs the namenode: this process's user).
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use std::time::{Duration, UNIX_EPOCH};

use hdfs_tests::{ClusterOptions, MiniCluster};

mod shell;
use shell::Hdfs;

const JAN_2019: u64 = 1_546_300_800;

fn set_local(path: &Path, mode: u32, mtime_secs: u64) {
    std::fs::File::open(path).unwrap().set_modified(UNIX_EPOCH + Duration::from_secs(mtime_secs)).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chmod_chown_chgrp_ls_stat_test_touch_and_preserve() {
    let opts = ClusterOptions { group_mapping: "alice=staff;bob=".into(), ..Default::default() };
    let cluster = MiniCluster::with_options(opts).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let hdfs = Hdfs::new(&cluster, tmp.path(), &hdfs_client::current_user());
    let su = hdfs_client::current_user();
    let (su, alice, bob) = (su.as_str(), "alice", "bob");

    // The superuser makes alice a home; new entries take their directory's group.
    hdfs.as_user(su).ok(&["-mkdir", "-p", "/home/alice"]).await;
    hdfs.as_user(su).ok(&["-chown", "alice:staff", "/home/alice"]).await;
    hdfs.as_user(su).ok(&["-chmod", "755", "/home/alice"]).await;
    assert_eq!(hdfs.as_user(su).stat("%u:%g %a %A %F", "/home/alice").await, "alice:staff 755 rwxr-xr-x directory");
    let put = hdfs.as_user(alice).run(&["dfs", "-put", "-", "/home/alice/f"], b"hello").await;
    assert_eq!((put.code, put.stderr.as_str()), (0, ""));
    assert_eq!(hdfs.as_user(alice).stat("%u:%g %a %A", "/home/alice/f").await, "alice:staff 644 rw-r--r--");

    // chmod: octal, symbolic, recursive with X; the owner may, others may not.
    hdfs.as_user(alice).ok(&["-chmod", "640", "/home/alice/f"]).await;
    assert_eq!(hdfs.as_user(alice).stat("%a %A", "/home/alice/f").await, "640 rw-r-----");
    hdfs.as_user(alice).ok(&["-chmod", "u+x,go-w", "/home/alice/f"]).await;
    assert_eq!(hdfs.as_user(alice).stat("%a", "/home/alice/f").await, "740");
    hdfs.as_user(alice).ok(&["-mkdir", "/home/alice/d"]).await;
    hdfs.as_user(alice).ok(&["-touchz", "/home/alice/d/g"]).await;
    hdfs.as_user(alice).ok(&["-chmod", "-R", "a=rX", "/home/alice/d"]).await;
    assert_eq!(hdfs.as_user(alice).ok(&["-stat", "-R", "%n %a", "/home/alice/d"]).await, "d 555\ng 444\n");
    hdfs.as_user(alice).ok(&["-chmod", "-R", "u+w", "/home/alice/d"]).await;
    assert_eq!(hdfs.as_user(alice).ok(&["-stat", "-R", "%n %a", "/home/alice/d"]).await, "d 755\ng 644\n");
    hdfs.as_user(su).ok(&["-chmod", "1777", "/home/alice/d"]).await;
    assert_eq!(hdfs.as_user(alice).stat("%a %A", "/home/alice/d").await, "1777 rwxrwxrwt");
    hdfs.as_user(alice).ok(&["-chmod", "755", "/home/alice/d"]).await;

    let err = hdfs.as_user(alice).fails(&["-chmod", "799", "/home/alice/f"], 255).await;
    assert_eq!(
        err,
        "-chmod: chmod : mode '799' does not match the expected pattern.\n\
         Usage: hdfs dfs [generic options] -chmod [-R] <MODE[,MODE]... | OCTALMODE> PATH...\n"
    );
    assert_eq!(hdfs.as_user(alice).stat("%a", "/home/alice/f").await, "740", "bad input changes nothing");
    let err = hdfs.as_user(bob).fails(&["-chmod", "777", "/home/alice/f", "/nope", "/home/alice/d"], 1).await;
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].starts_with("chmod: changing permissions of '/home/alice/f': Permission denied"), "{err}");
    assert_eq!(lines[1], "chmod: `/nope': No such file or directory");
    assert!(lines[2].starts_with("chmod: changing permissions of '/home/alice/d': "), "{err}");
    assert_eq!(hdfs.as_user(alice).stat("%a", "/home/alice/f").await, "740");

    // chown: only the superuser changes an owner; chgrp: the owner, to one of their groups.
    let err = hdfs.as_user(alice).fails(&["-chown", "bob", "/home/alice/f"], 1).await;
    assert!(err.starts_with("chown: changing ownership of '/home/alice/f': "), "{err}");
    hdfs.as_user(su).ok(&["-chown", "bob:supergroup", "/home/alice/f"]).await;
    assert_eq!(hdfs.as_user(alice).stat("%u:%g", "/home/alice/f").await, "bob:supergroup");
    hdfs.as_user(su).ok(&["-chown", "alice", "/home/alice/f"]).await;
    assert_eq!(hdfs.as_user(alice).stat("%u:%g", "/home/alice/f").await, "alice:supergroup");
    hdfs.as_user(alice).ok(&["-chgrp", "staff", "/home/alice/f"]).await;
    let err = hdfs.as_user(alice).fails(&["-chgrp", "supergroup", "/home/alice/f"], 1).await;
    assert!(err.starts_with("chgrp: changing ownership of '/home/alice/f': "), "{err}");
    // What is already so is not asked for, so needs no right.
    hdfs.as_user(bob).ok(&["-chgrp", "staff", "/home/alice/f"]).await;
    hdfs.as_user(su).ok(&["-chgrp", "-R", "supergroup", "/home/alice/d"]).await;
    assert_eq!(hdfs.as_user(alice).ok(&["-stat", "-R", "%g", "/home/alice/d"]).await, "supergroup\nsupergroup\n");
    let err = hdfs.as_user(alice).fails(&["-chown", "a:b:c", "/home/alice/f"], 255).await;
    assert!(err.starts_with("-chown: 'a:b:c' does not match expected pattern for [owner][:group].\nUsage: "), "{err}");
    let err = hdfs.as_user(alice).fails(&["-chown", ":", "/home/alice/f"], 255).await;
    assert!(err.starts_with("-chown: ':' does not specify owner or group.\n"), "{err}");
    let err = hdfs.as_user(alice).fails(&["-chgrp", "st aff", "/home/alice/f"], 255).await;
    assert!(err.starts_with("-chgrp: 'st aff' does not match expected pattern for group\n"), "{err}");

    // ls: Hadoop's columns, owner and group padded to the widest of the listing.
    let h = &hdfs;
    let date = |p: &'static str| async move { h.as_user(alice).stat("%y", p).await[..16].to_string() };
    let (d_date, f_date) = (date("/home/alice/d").await, date("/home/alice/f").await);
    assert_eq!(
        hdfs.as_user(alice).ok(&["-ls", "/home/alice"]).await,
        format!(
            "Found 2 items\n\
             drwxr-xr-x   - alice supergroup          0 {d_date} /home/alice/d\n\
             -rwxr-----   3 alice staff               5 {f_date} /home/alice/f\n"
        )
    );
    assert_eq!(
        hdfs.as_user(alice).ok(&["-ls", "-d", "/home/alice/f"]).await,
        format!("-rwxr-----   3 alice staff          5 {f_date} /home/alice/f\n")
    );
    assert_eq!(hdfs.as_user(alice).ok(&["-ls", "-C", "/home/alice"]).await, "/home/alice/d\n/home/alice/f\n");

    // test -r / -w: what the namenode grants this user.
    for (user, flag, path, code) in [
        (alice, "-w", "/home/alice/f", 0),
        (alice, "-r", "/home/alice/f", 0),
        (bob, "-w", "/home/alice/f", 1),
        (bob, "-r", "/home/alice/f", 1),
        (bob, "-r", "/home/alice/d", 0),
        (bob, "-w", "/home/alice/d", 1),
        (alice, "-w", "/nope", 1),
    ] {
        assert_eq!(hdfs.as_user(user).test(flag, path).await, code, "{user}: -test {flag} {path}");
    }
    hdfs.as_user(alice).ok(&["-chmod", "o+r", "/home/alice/f"]).await;
    assert_eq!(hdfs.as_user(bob).test("-r", "/home/alice/f").await, 0);

    // touch: -t sets the modification time (UTC); -a alone has no time to change.
    hdfs.as_user(alice).ok(&["-touch", "-t", "20180809:230000", "/home/alice/t"]).await;
    assert_eq!(hdfs.as_user(alice).stat("%y %Y %b", "/home/alice/t").await, "2018-08-09 23:00:00 1533855600000 0");
    hdfs.as_user(alice).ok(&["-touch", "-m", "-t", "20200101:000000", "/home/alice/f"]).await;
    hdfs.as_user(alice).ok(&["-touch", "-a", "-t", "20210101:000000", "/home/alice/f"]).await;
    assert_eq!(hdfs.as_user(alice).stat("%y %b", "/home/alice/f").await, "2020-01-01 00:00:00 5");
    let err = hdfs.as_user(alice).fails(&["-touch", "-t", "2018", "/home/alice/f"], 255).await;
    assert!(err.starts_with("-touch: Unable to parse the specified timestamp 2018\nUsage: "), "{err}");
    let err = hdfs.as_user(alice).fails(&["-touch", "/home/alice/d"], 1).await;
    assert_eq!(err, "touch: `/home/alice/d': Is a directory\n");

    // put -p and get -p keep the modification time and mode, of files and directories.
    std::fs::create_dir_all(tmp.path().join("tree")).unwrap();
    std::fs::write(tmp.path().join("p.txt"), b"kept\n").unwrap();
    std::fs::write(tmp.path().join("tree/x"), b"x\n").unwrap();
    set_local(&tmp.path().join("p.txt"), 0o640, JAN_2019);
    set_local(&tmp.path().join("tree/x"), 0o600, JAN_2019 + 60);
    set_local(&tmp.path().join("tree"), 0o750, JAN_2019 + 120);
    hdfs.as_user(alice).ok(&["-put", "-p", "p.txt", "tree", "/home/alice"]).await;
    assert_eq!(hdfs.as_user(alice).stat("%a %Y", "/home/alice/p.txt").await, format!("640 {}000", JAN_2019));
    assert_eq!(hdfs.as_user(alice).stat("%a %Y", "/home/alice/tree/x").await, format!("600 {}000", JAN_2019 + 60));
    assert_eq!(hdfs.as_user(alice).stat("%a %Y", "/home/alice/tree").await, format!("750 {}000", JAN_2019 + 120));
    hdfs.as_user(alice).ok(&["-put", "p.txt", "/home/alice/plain.txt"]).await;
    assert_eq!(hdfs.as_user(alice).stat("%a", "/home/alice/plain.txt").await, "644", "without -p: the umask's mode");
    std::fs::create_dir(tmp.path().join("back")).unwrap();
    hdfs.as_user(alice).ok(&["-get", "-p", "/home/alice/p.txt", "/home/alice/tree", "back"]).await;
    for (name, mode, secs) in
        [("p.txt", 0o640, JAN_2019), ("tree/x", 0o600, JAN_2019 + 60), ("tree", 0o750, JAN_2019 + 120)]
    {
        let meta = std::fs::metadata(tmp.path().join("back").join(name)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, mode, "{name}");
        assert_eq!(meta.modified().unwrap(), UNIX_EPOCH + Duration::from_secs(secs), "{name}");
    }

    // The long-form commands show them too: text and JSON (the mode as an octal string).
    let ls = hdfs.as_user(alice).run(&["ls", "/home/alice"], b"").await.text();
    assert!(ls.lines().any(|l| l.starts_with("-rwxr--r--   3 alice staff ") && l.ends_with(" /home/alice/f")), "{ls}");
    let st = hdfs.as_user(alice).run(&["stat", "--json", "/home/alice/f"], b"").await.text();
    let st: serde_json::Value = serde_json::from_str(&st).unwrap();
    assert_eq!(
        (st["permission"].as_str(), st["owner"].as_str(), st["group"].as_str()),
        (Some("744"), Some("alice"), Some("staff"))
    );
    let ls = hdfs.as_user(alice).run(&["ls", "--json", "/home/alice"], b"").await.text();
    let ls: serde_json::Value = serde_json::from_str(&ls).unwrap();
    assert_eq!((ls[0]["path"].as_str(), ls[0]["permission"].as_str()), (Some("/home/alice/d"), Some("755")));
}

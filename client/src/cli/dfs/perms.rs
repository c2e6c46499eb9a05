//! `-chmod`, `-chown` and `-chgrp` (Hadoop's `FsShellPermissions`): the mode or the owner and
//! group of each path, and with `-R` of everything below it (the directory first, then its
//! entries, each symbolic mode worked out from the entry's own mode).
//!
//! As Hadoop's, the MODE or OWNER:GROUP is checked before anything is done (bad input, exit
//! 255); a path is changed only where something differs, so asking for what is already there
//! needs no right to change it; a failure is said as `chmod: changing permissions of 'PATH':
//! WHY` (`chown`, `chgrp`: `changing ownership of`), nothing below that path is visited, and
//! the other paths are still done.

use hdfs_client::FileStatus;

use super::args::parse;
use super::mode::ModeChange;
use super::paths::Item;
use super::shell::{BadInput, Run, Shell};

/// What one of the three verbs does to a path.
enum Change {
    Mode(ModeChange),
    Owner { owner: Option<String>, group: Option<String> },
}

/// `-chmod [-R] MODE[,MODE]... | OCTALMODE PATH...`.
pub async fn chmod(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["R"], &[], 2, usize::MAX).map_err(BadInput)?;
    let change = Change::Mode(ModeChange::parse(&o.args[0]).map_err(BadInput)?);
    change_all(sh, &change, &o.args[1..], o.has("R")).await;
    Ok(())
}

/// `-chown [-R] [OWNER][:[GROUP]] PATH...`.
pub async fn chown(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["R"], &[], 2, usize::MAX).map_err(BadInput)?;
    let (owner, group) = owner_group(&o.args[0]).map_err(BadInput)?;
    change_all(sh, &Change::Owner { owner, group }, &o.args[1..], o.has("R")).await;
    Ok(())
}

/// `-chgrp [-R] GROUP PATH...`: `-chown :GROUP`.
pub async fn chgrp(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["R"], &[], 2, usize::MAX).map_err(BadInput)?;
    let group = group_only(&o.args[0]).map_err(BadInput)?;
    change_all(sh, &Change::Owner { owner: None, group: Some(group) }, &o.args[1..], o.has("R")).await;
    Ok(())
}

/// Each argument in turn, as Hadoop's shell: its paths found, then changed.
async fn change_all(sh: &mut Shell, change: &Change, args: &[String], recursive: bool) {
    for arg in args {
        for item in sh.existing(std::slice::from_ref(arg)).await {
            change_tree(sh, change, &item, recursive).await;
        }
    }
}

/// Changes `item`, then (`recursive`) everything below it; a path that fails is not descended.
async fn change_tree(sh: &mut Shell, change: &Change, item: &Item, recursive: bool) {
    let Some(st) = &item.stat else { return };
    if let Err(why) = change_one(change, item, st).await {
        return sh.error(why);
    }
    if !recursive || !st.is_dir() {
        return;
    }
    match item.children().await {
        Ok(children) => {
            for child in &children {
                Box::pin(change_tree(sh, change, child, true)).await;
            }
        }
        Err(e) => sh.fail(&item.shown, &e),
    }
}

/// The call that makes `item` (now `st`) as asked, if anything differs; the error in Hadoop's
/// words.
async fn change_one(change: &Change, item: &Item, st: &FileStatus) -> Result<(), String> {
    match change {
        Change::Mode(m) => {
            let mode = m.apply(st.permission, st.is_dir());
            if mode == st.permission {
                return Ok(());
            }
            item.client
                .set_permission(&item.path, mode)
                .await
                .map_err(|e| format!("changing permissions of '{}': {e}", item.shown))
        }
        Change::Owner { owner, group } => {
            let owner = owner.as_deref().filter(|o| *o != st.owner);
            let group = group.as_deref().filter(|g| *g != st.group);
            if owner.is_none() && group.is_none() {
                return Ok(());
            }
            item.client
                .set_owner(&item.path, owner, group)
                .await
                .map_err(|e| format!("changing ownership of '{}': {e}", item.shown))
        }
    }
}

/// The characters of an owner or group name (Hadoop's `[-_./@a-zA-Z0-9]`).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '@')
}

/// Java's `\s`.
fn trim_space(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r'))
}

/// `[OWNER][:[GROUP]]` as Hadoop's `chown` reads it: `alice`, `alice:staff`, `:staff`,
/// `alice:` (the owner only). Errors are Hadoop's words.
fn owner_group(spec: &str) -> Result<(Option<String>, Option<String>), String> {
    let text = trim_space(spec);
    let (owner, group) = match text.split_once(':') {
        Some((o, g)) => (o, g),
        None => (text, ""),
    };
    if !owner.chars().all(is_name_char) || !group.chars().all(is_name_char) {
        return Err(format!("'{spec}' does not match expected pattern for [owner][:group]."));
    }
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match (some(owner), some(group)) {
        (None, None) => Err(format!("'{spec}' does not specify owner or group.")),
        pair => Ok(pair),
    }
}

/// `GROUP` as Hadoop's `chgrp` reads it.
fn group_only(spec: &str) -> Result<String, String> {
    let group = trim_space(spec);
    if group.is_empty() || !group.chars().all(is_name_char) {
        return Err(format!("'{spec}' does not match expected pattern for group"));
    }
    Ok(group.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(o: Option<&str>, g: Option<&str>) -> Result<(Option<String>, Option<String>), String> {
        Ok((o.map(String::from), g.map(String::from)))
    }

    #[test]
    fn chown_specs_as_hadoop_reads_them() {
        assert_eq!(owner_group("alice"), pair(Some("alice"), None));
        assert_eq!(owner_group("alice:staff"), pair(Some("alice"), Some("staff")));
        assert_eq!(owner_group(":staff"), pair(None, Some("staff")));
        assert_eq!(owner_group("alice:"), pair(Some("alice"), None));
        assert_eq!(owner_group(" svc-etl@EXAMPLE.COM:data_eng "), pair(Some("svc-etl@EXAMPLE.COM"), Some("data_eng")));
        for bad in ["a:b:c", "al ice", "alice:st aff", "bob!", "a\tb"] {
            assert_eq!(
                owner_group(bad),
                Err(format!("'{bad}' does not match expected pattern for [owner][:group].")),
                "{bad:?}"
            );
        }
        for none in ["", ":", " "] {
            assert_eq!(owner_group(none), Err(format!("'{none}' does not specify owner or group.")));
        }
    }

    #[test]
    fn chgrp_takes_one_group_name() {
        assert_eq!(group_only("staff"), Ok("staff".to_string()));
        assert_eq!(group_only(" staff "), Ok("staff".to_string()));
        for bad in ["", "a:b", "st aff", ":staff"] {
            assert_eq!(group_only(bad), Err(format!("'{bad}' does not match expected pattern for group")));
        }
    }
}

//! Who is calling, as Hadoop's "simple" authentication names it: `HADOOP_USER_NAME`, else the
//! operating system's user (the login name, else the password database's name for this
//! process's uid, as Hadoop's `UnixLoginModule` asks the OS).

/// The calling user's name.
pub fn current_user() -> String {
    ["HADOOP_USER_NAME", "USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|u| !u.is_empty())
        .or_else(os_user)
        .unwrap_or_else(|| "dr.who".to_string())
}

/// The name of this process's real uid in `/etc/passwd`, or the uid itself if it has none.
fn os_user() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_string())
    });
    Some(name.unwrap_or(uid))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_os_user_is_found_without_the_environment() {
        let name = super::os_user().expect("a uid in /proc/self/status");
        assert!(!name.is_empty() && !name.contains(':'), "{name}");
    }
}

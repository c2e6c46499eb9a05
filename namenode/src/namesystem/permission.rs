//! Who may do what (HDFS's `FSPermissionChecker`), in HDFS's "simple" mode: a caller is the user
//! name its call carries, with the groups this namenode finds for it; whoever runs the namenode,
//! and every member of `--superuser-group`, is a superuser and passes every check.
//!
//! A check is made on the leader under the namesystem's lock, against the inodes along the path,
//! before an op is built, exactly as HDFS makes it: execute on every directory down to the
//! deepest existing ancestor (traverse); then, as the operation asks, an access on that
//! ancestor, on the parent, on the inode itself, or on every directory below it; ownership; and
//! the sticky bit, which keeps others' entries in a shared directory (`/tmp`) from being deleted
//! or renamed. The owner's bits decide for the owner, the group's for its members, the others'
//! for everyone else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdfs_proto::path::HdfsPath;
use hdfs_proto::perm::{Access, STICKY, listing};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::namespace::{InodeId, Namespace, Perm, SUPER};

/// How long a user's groups are kept before the user database is read again (Hadoop's
/// `hadoop.security.groups.cache.secs`).
const GROUPS_TTL: Duration = Duration::from_secs(300);

/// The inodes along a path: the root, then one per component while they exist.
pub(crate) type Walk = smallvec::SmallVec<[InodeId; 8]>;

/// A caller: a user and its groups.
#[derive(Debug)]
pub struct Caller {
    pub user: Box<str>,
    pub groups: Box<[Box<str>]>,
    pub superuser: bool,
}

/// What an operation needs, beyond traversing to it (`checkPermission`'s arguments).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Need {
    /// On the deepest existing ancestor (creating).
    pub ancestor: Option<Access>,
    /// On the parent (deleting, renaming away); WRITE here also applies the sticky bit.
    pub parent: Option<Access>,
    /// On the inode itself, if it exists.
    pub inode: Option<Access>,
    /// On the inode itself, if it is a directory (listing one).
    pub dir: Option<Access>,
    /// On every directory below and including the inode (recursive delete, du); empty ones
    /// skipped when `skip_empty`.
    pub subtree: Option<Access>,
    pub skip_empty: bool,
    /// The caller must own the inode (chmod).
    pub owner: bool,
}

impl Need {
    pub fn traverse() -> Need {
        Need::default()
    }
    pub fn inode(a: Access) -> Need {
        Need { inode: Some(a), ..Need::default() }
    }
    pub fn ancestor(a: Access) -> Need {
        Need { ancestor: Some(a), ..Need::default() }
    }
    pub fn parent(a: Access) -> Need {
        Need { parent: Some(a), ..Need::default() }
    }
}

/// The namenode's permission settings, its superusers, and the users' groups.
pub(crate) struct Permissions {
    pub enabled: bool,
    /// The user running the namenode.
    pub superuser: String,
    pub supergroup: String,
    pub umask: u16,
    mapping: HashMap<String, Vec<String>>,
    /// Callers seen lately, with when their groups were looked up.
    callers: Mutex<HashMap<Box<str>, Cached>>,
}

type Cached = (Instant, Arc<Caller>);

impl Permissions {
    pub fn new(config: &Config) -> Permissions {
        Permissions {
            enabled: config.permissions,
            superuser: hdfs_proto::user::current_user(),
            supergroup: config.superuser_group.clone(),
            umask: config.umask,
            mapping: config.group_mapping.0.clone(),
            callers: Mutex::new(HashMap::new()),
        }
    }

    /// The caller named `user` (a call without a name is Hadoop's anonymous `dr.who`).
    pub fn caller(&self, user: Option<&str>) -> Arc<Caller> {
        let user = user.filter(|u| !u.is_empty()).unwrap_or(hdfs_proto::user::ANONYMOUS);
        let now = Instant::now();
        let mut callers = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, c)) = callers.get(user)
            && now.duration_since(*at) < GROUPS_TTL
        {
            return c.clone();
        }
        let groups: Vec<String> = match self.mapping.get(user) {
            Some(g) => g.clone(),
            None => os_groups(user),
        };
        let superuser = user == self.superuser || groups.contains(&self.supergroup);
        let caller =
            Arc::new(Caller { user: user.into(), groups: groups.into_iter().map(Into::into).collect(), superuser });
        if callers.len() > 10_000 {
            callers.clear();
        }
        callers.insert(user.into(), (now, caller.clone()));
        caller
    }

    /// The owner's name (id 0: the superuser).
    pub fn owner_name<'a>(&'a self, ns: &'a Namespace, perm: Perm) -> &'a str {
        match perm.owner() {
            SUPER => &self.superuser,
            id => ns.names().name(id),
        }
    }

    /// The group's name (id 0: the superuser group).
    pub fn group_name<'a>(&'a self, ns: &'a Namespace, perm: Perm) -> &'a str {
        match perm.group() {
            SUPER => &self.supergroup,
            id => ns.names().name(id),
        }
    }

    /// A new file's and a new directory's mode (the defaults less the umask).
    pub fn new_modes(&self) -> (u16, u16) {
        (hdfs_proto::perm::FILE_DEFAULT & !self.umask, hdfs_proto::perm::DIR_DEFAULT & !self.umask)
    }

    /// Whether `caller` may do what `need` says to `path`: `PermissionDenied` in HDFS's words if
    /// not. Missing components are not an error here (the operation reports them). Returns the
    /// inodes along the path ([`Namespace::inodes_on`]), for the caller to resolve it from.
    pub fn check(&self, caller: &Caller, ns: &Namespace, path: &HdfsPath, need: Need) -> Result<Walk> {
        let on = ns.inodes_on(path);
        if !self.enabled || caller.superuser {
            return Ok(on);
        }
        let who = Who::of(caller, ns);
        let depth = path.components().count();
        // `on[i]` is the inode of the first i components; the last one exists if on has depth+1.
        let exists = on.len() == depth + 1;
        let ancestor = if exists { on.len().saturating_sub(2) } else { on.len() - 1 };
        let at = |i: usize| path.prefix(i);
        for (i, &id) in on.iter().enumerate().take(ancestor + 1) {
            if !ns.inode(id).is_some_and(|n| n.is_dir()) {
                return Err(Error::NotADirectory(at(i)));
            }
            self.check_inode(&who, ns, id, Access::EXECUTE, || at(i))?;
        }
        if let Some(a) = need.ancestor
            && depth > 0
        {
            self.check_inode(&who, ns, on[ancestor], a, || at(ancestor))?;
        }
        if exists && depth > 0 {
            let (parent, inode) = (on[depth - 1], on[depth]);
            if let Some(a) = need.parent {
                self.check_inode(&who, ns, parent, a, || at(depth - 1))?;
                if a.0 & Access::WRITE.0 != 0 {
                    self.check_sticky(&who, ns, parent, inode, path)?;
                }
            }
        }
        if exists {
            let id = on[depth];
            let is_dir = ns.inode(id).is_some_and(|i| i.is_dir());
            if let Some(a) = need.inode.or(need.dir.filter(|_| is_dir)) {
                self.check_inode(&who, ns, id, a, || path.clone())?;
            }
            if let Some(a) = need.subtree {
                self.check_subtree(&who, ns, id, a, need.skip_empty)?;
            }
            if need.owner && !who.owns(ns, id) {
                return Err(Error::PermissionDenied(format!(
                    "Permission denied. user={} is not the owner of inode={path}",
                    caller.user
                )));
            }
        }
        Ok(on)
    }

    /// Whether `caller` may change the owner and group of `path` (as `check` passed `owner`):
    /// only a superuser changes an owner; an owner may change the group to one of their own.
    pub fn check_set_owner(&self, caller: &Caller, owner: Option<&str>, group: Option<&str>) -> Result<()> {
        if !self.enabled || caller.superuser {
            return Ok(());
        }
        if owner.is_some() {
            return Err(Error::PermissionDenied(format!(
                "User {} is not a super user (non-super user cannot change owner).",
                caller.user
            )));
        }
        if let Some(g) = group
            && !caller.groups.iter().any(|m| **m == *g)
        {
            return Err(Error::PermissionDenied(format!("User {} does not belong to {g}", caller.user)));
        }
        Ok(())
    }

    /// Superuser-only operations (safe mode, decommissioning).
    pub fn check_superuser(&self, caller: &Caller) -> Result<()> {
        if !self.enabled || caller.superuser {
            return Ok(());
        }
        Err(Error::PermissionDenied(format!("Access denied for user {}. Superuser privilege is required", caller.user)))
    }

    fn check_inode(
        &self,
        who: &Who,
        ns: &Namespace,
        id: InodeId,
        a: Access,
        path: impl FnOnce() -> HdfsPath,
    ) -> Result<()> {
        let Some(inode) = ns.inode(id) else { return Ok(()) };
        let mode = inode.perm.mode();
        let bits = if who.owns(ns, id) {
            mode >> 6
        } else if who.in_group(inode.perm.group()) {
            mode >> 3
        } else {
            mode
        };
        if a.allowed_by(bits & 7) {
            return Ok(());
        }
        Err(Error::PermissionDenied(format!(
            "Permission denied: user={}, access={}, inode=\"{}\":{}",
            who.caller.user,
            a.name(),
            path(),
            self.describe(ns, id)
        )))
    }

    fn check_sticky(&self, who: &Who, ns: &Namespace, parent: InodeId, inode: InodeId, path: &HdfsPath) -> Result<()> {
        let sticky = ns.inode(parent).is_some_and(|p| p.perm.mode() & STICKY != 0);
        if !sticky || who.owns(ns, parent) || who.owns(ns, inode) {
            return Ok(());
        }
        let parent_path = path.parent().unwrap_or_else(HdfsPath::root);
        Err(Error::PermissionDenied(format!(
            "Permission denied by sticky bit: user={}, path=\"{path}\":{}, parent=\"{parent_path}\":{}",
            who.caller.user,
            self.describe(ns, inode),
            self.describe(ns, parent)
        )))
    }

    fn check_subtree(&self, who: &Who, ns: &Namespace, top: InodeId, a: Access, skip_empty: bool) -> Result<()> {
        let mut stack = vec![top];
        while let Some(id) = stack.pop() {
            let children = ns.children_of(id);
            if ns.inode(id).is_some_and(|i| i.is_dir()) && !(skip_empty && children.is_empty()) {
                self.check_inode(who, ns, id, a, || ns.path_of(id))?;
            }
            stack.extend(children.iter().copied().filter(|&c| ns.inode(c).is_some_and(|i| i.is_dir())));
        }
        Ok(())
    }

    /// `alice:supergroup:drwx------`, as HDFS's errors describe an inode.
    fn describe(&self, ns: &Namespace, id: InodeId) -> String {
        let Some(inode) = ns.inode(id) else { return String::new() };
        format!(
            "{}:{}:{}",
            self.owner_name(ns, inode.perm),
            self.group_name(ns, inode.perm),
            listing(inode.perm.mode(), inode.is_dir())
        )
    }
}

/// A caller's user and groups as the namespace's ids (names no inode has are no id).
struct Who<'a> {
    caller: &'a Caller,
    user: Option<u32>,
    groups: smallvec::SmallVec<[u32; 4]>,
}

impl<'a> Who<'a> {
    fn of(caller: &'a Caller, ns: &Namespace) -> Who<'a> {
        let names = ns.names();
        Who { caller, user: names.id(&caller.user), groups: caller.groups.iter().filter_map(|g| names.id(g)).collect() }
    }

    /// Id 0 is the superuser's, who never gets this far.
    fn owns(&self, ns: &Namespace, id: InodeId) -> bool {
        let owner = ns.inode(id).map_or(SUPER, |i| i.perm.owner());
        owner != SUPER && Some(owner) == self.user
    }

    fn in_group(&self, group: u32) -> bool {
        group != SUPER && self.groups.contains(&group)
    }
}

/// `user`'s groups in this host's user database: the primary group (`/etc/passwd`), then every
/// group listing it as a member (`/etc/group`), as Hadoop's shell-based mapping finds them. A
/// user the host does not know has none.
fn os_groups(user: &str) -> Vec<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let gid = passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 3 && f[0] == user).then(|| f[3].to_string())
    });
    let mut out = Vec::new();
    for l in group.lines() {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 4 {
            continue;
        }
        let primary = gid.as_deref() == Some(f[2]);
        if (primary || f[3].split(',').any(|m| m.trim() == user)) && !out.iter().any(|g| g == f[0]) {
            if primary {
                out.insert(0, f[0].to_string());
            } else {
                out.push(f[0].to_string());
            }
        }
    }
    out
}

/// A mode a caller gave: HDFS's bits only (no setuid or setgid).
pub fn valid_mode(mode: u32) -> Result<u16> {
    u16::try_from(mode).ok().filter(|m| m & !hdfs_proto::perm::MODE_MASK == 0).ok_or(Error::InvalidMode(mode))
}

#[cfg(test)]
mod tests {
    #[test]
    fn root_has_its_primary_group_first() {
        let groups = super::os_groups("root");
        assert_eq!(groups.first().map(String::as_str), Some("root"), "{groups:?}");
        assert!(super::os_groups("no-such-user-here").is_empty());
    }
}

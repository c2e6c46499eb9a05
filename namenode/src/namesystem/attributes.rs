//! Changing an entry's attributes (HDFS's `FSDirAttrOp`): its mode (chmod), its owner and
//! group (chown, chgrp) and its modification time; and `FileSystem.access`, asking whether the
//! caller may read, write or execute it. Each change is one [`Op`] through
//! [`Namesystem::mutate`], checked first as HDFS checks it (`namesystem/permission.rs`).

use hdfs_proto::path::HdfsPath;
use hdfs_proto::perm::Access;

use super::Namesystem;
use super::permission::{Caller, Need, Permissions, valid_mode};
use crate::error::{Error, Result};
use crate::namespace::Op;
use crate::raft::CallId;

impl Namesystem {
    /// chmod: the owner or a superuser sets the mode bits.
    pub async fn set_permission(
        &self,
        path: &HdfsPath,
        mode: u32,
        caller: &Caller,
        call: Option<CallId>,
    ) -> Result<()> {
        let mode = valid_mode(mode)?;
        let op = Op::SetPermission { path: path.to_string(), mode };
        self.mutate(
            call,
            |st| {
                st.ns.resolve(path)?;
                self.perms.check(caller, &st.ns, path, Need { owner: true, ..Need::default() })?;
                Ok((op, ()))
            },
            |_, _, ()| (),
        )
        .await
    }

    /// chown / chgrp (`None` leaves it): only a superuser changes the owner; the owner may
    /// change the group to one of their own groups.
    pub async fn set_owner(
        &self,
        path: &HdfsPath,
        owner: Option<&str>,
        group: Option<&str>,
        caller: &Caller,
        call: Option<CallId>,
    ) -> Result<()> {
        for name in [owner, group].into_iter().flatten() {
            if name.is_empty() || name.chars().any(|c| c.is_control() || c == ':' || c.is_whitespace()) {
                return Err(Error::InvalidName(format!("{name:?} is not a valid user or group name")));
            }
        }
        let op =
            Op::SetOwner { path: path.to_string(), owner: owner.map(String::from), group: group.map(String::from) };
        self.mutate(
            call,
            |st| {
                st.ns.resolve(path)?;
                self.perms.check(caller, &st.ns, path, Need { owner: true, ..Need::default() })?;
                self.perms.check_set_owner(caller, owner, group)?;
                Ok((op, ()))
            },
            |_, _, ()| (),
        )
        .await
    }

    /// Sets the modification time: who may write the inode may.
    pub async fn set_times(&self, path: &HdfsPath, mtime_ms: u64, caller: &Caller, call: Option<CallId>) -> Result<()> {
        let op = Op::SetTimes { path: path.to_string(), mtime_ms };
        self.mutate(
            call,
            |st| {
                st.ns.resolve(path)?;
                self.perms.check(caller, &st.ns, path, Need::inode(Access::WRITE))?;
                Ok((op, ()))
            },
            |_, _, ()| (),
        )
        .await
    }

    /// Whether `caller` may access `path` as asked (`FileSystem.access`).
    pub async fn check_access(&self, path: &HdfsPath, access: Access, caller: &Caller) -> Result<()> {
        self.read_barrier().await?;
        let st = self.lock();
        let on = self.perms.check(caller, &st.ns, path, Need::traverse())?;
        st.ns.resolved(path, &on)?;
        self.perms.check(caller, &st.ns, path, Need::inode(access)).map(drop)
    }

    /// The permission settings and the callers they know.
    pub(crate) fn permissions(&self) -> &Permissions {
        &self.perms
    }
}

//! Concat (HDFS's `FSDirConcatOp`): closed files' blocks moved, in order, to the end of a
//! closed target file, and the sources removed. Nothing is copied: the block map's entries are
//! re-pointed at the target when the op is applied, and the target keeps the highest
//! replication of them all (the monitor adds copies where a block now has too few).

use hdfs_proto::path::HdfsPath;
use hdfs_proto::perm::Access;

use super::Namesystem;
use super::permission::{Caller, Need};
use super::propose::now_ms;
use crate::error::Result;
use crate::namespace::Op;
use crate::raft::CallId;

impl Namesystem {
    /// Appends the blocks of `sources` to `target` and removes the sources. The caller needs
    /// WRITE on the target, and READ on each source and WRITE on its directory (it is deleted).
    pub async fn concat(
        &self,
        target: &HdfsPath,
        sources: &[HdfsPath],
        caller: &Caller,
        call: Option<CallId>,
    ) -> Result<()> {
        let op = Op::Concat {
            target: target.to_string(),
            sources: sources.iter().map(ToString::to_string).collect(),
            mtime_ms: now_ms(),
        };
        self.mutate(
            call,
            |st| {
                self.perms.check(caller, &st.ns, target, Need::inode(Access::WRITE))?;
                for s in sources {
                    let need = Need { inode: Some(Access::READ), parent: Some(Access::WRITE), ..Need::default() };
                    self.perms.check(caller, &st.ns, s, need)?;
                }
                Ok((op, ()))
            },
            |_, _, ()| (),
        )
        .await
    }
}

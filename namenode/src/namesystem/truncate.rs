//! Truncate (HDFS's `FSDirTruncateOp`): a closed file cut to a new length. Blocks past it are
//! dropped (their replicas deleted) and, on a block boundary, that is all. A new end inside a
//! block leaves that block cut in the namespace, the file open under the caller's lease, and
//! starts block recovery with the length to cut its replicas to (in place, under a new
//! generation stamp); the recovery's commit closes the file. Readers see the new length at once.

use std::time::Instant;

use hdfs_proto::path::HdfsPath;
use hdfs_proto::perm::Access;

use super::Namesystem;
use super::permission::{Caller, Need};
use super::propose::now_ms;
use crate::error::Result;
use crate::namespace::Op;
use crate::raft::CallId;

impl Namesystem {
    /// Cuts `path` to `new_length`; true if done at once, false while block recovery cuts the
    /// last block (the file is closed when it is).
    pub async fn truncate(
        &self,
        path: &HdfsPath,
        new_length: u64,
        client: &str,
        caller: &Caller,
        call: Option<CallId>,
    ) -> Result<bool> {
        let op = Op::Truncate { path: path.to_string(), client: client.to_string(), new_length, mtime_ms: now_ms() };
        self.mutate(
            call,
            |st| {
                self.perms.check(caller, &st.ns, path, Need::inode(Access::WRITE))?;
                Ok((op, ()))
            },
            |st, fx, ()| {
                let Some(id) = fx.created else { return true };
                let file = st.ns.inode(id).and_then(|i| i.as_file()).expect("a truncated file");
                let last = *file.blocks.last().expect("the block being cut");
                let holders: Vec<_> = st.bm.blocks.get(last.id).map(|e| e.replicas.to_vec()).unwrap_or_default();
                let target = st.ns.truncating(id);
                // Its holders are its pipeline, for a later recovery if this one fails.
                st.bm.set_pipeline(last.id, &holders);
                if st.bm.start_recovery(last, &holders, target) {
                    st.recovering.insert(id, Instant::now());
                }
                tracing::info!(%path, new_length, block = %last.id, "truncating inside a block: recovery started");
                false
            },
        )
        .await
    }
}

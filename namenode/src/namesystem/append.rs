//! Append (HDFS's `FSDirAppendOp`): a closed file is reopened for writing under the caller's
//! lease. Its partial last block, if any, goes back to the writer with the nodes that hold it;
//! the writer gets a new generation stamp for it (`update_pipeline`), so a replica left out of
//! the new pipeline is recognisably stale, and continues it from its length. A full last block
//! (or none) means the next write starts a new block.

use std::time::Instant;

use hdfs_proto::path::HdfsPath;
use hdfs_proto::perm::Access;

use super::Namesystem;
use super::client::LocatedBlock;
use super::permission::{Caller, Need};
use super::status::{FileInfo, file_info};
use crate::error::{Error, Result};
use crate::namespace::Op;
use crate::raft::CallId;

impl Namesystem {
    /// Reopens `path` for writing by `client`; returns it and its last block (with where it is),
    /// which the writer continues if it is partial, or commits with its first new block.
    pub async fn append(
        &self,
        path: &HdfsPath,
        client: &str,
        caller: &Caller,
        call: Option<CallId>,
    ) -> Result<(FileInfo, Option<LocatedBlock>)> {
        let hard_limit = self.config.lease_hard_limit;
        self.mutate(
            call,
            |st| {
                self.perms.check(caller, &st.ns, path, Need::inode(Access::WRITE))?;
                let id = st.ns.resolve(path)?;
                if st.ns.inode(id).is_some_and(|i| i.is_dir()) {
                    return Err(Error::IsADirectory(path.clone()));
                }
                if let Some(writer) = st.ns.writer(id) {
                    // Its writer's lease must lapse first; the lease monitor then closes the file.
                    let expired = st.leases.expired(writer, Instant::now(), hard_limit);
                    tracing::info!(%path, holder = writer, expired, "append refused: the file is open for writing");
                    return Err(Error::LeaseHeldByOther(path.clone()));
                }
                Ok((Op::Append { path: path.to_string(), client: client.to_string() }, ()))
            },
            |st, fx, ()| {
                let id = fx.created.expect("append opens the file");
                let file = st.ns.inode(id).and_then(|i| i.as_file()).expect("an appended file");
                let last = file.blocks.last().copied().map(|b| {
                    if b.num_bytes < file.block_size() {
                        // A partial block's holders are its pipeline: block recovery finds them
                        // there if the writer dies, after the new generation stamp has set
                        // their old replicas aside.
                        let holders: Vec<_> = st.bm.blocks.get(b.id).map(|e| e.replicas.to_vec()).unwrap_or_default();
                        st.bm.set_pipeline(b.id, &holders);
                    }
                    let offset = file.length() - b.num_bytes;
                    LocatedBlock { block: b, offset, locations: st.bm.read_locations(b.id) }
                });
                tracing::info!(%path, client, last_block = ?last.as_ref().map(|l| l.block.id), "file reopened for append");
                (file_info(&self.perms, &st.ns, path.clone(), id), last)
            },
        )
        .await
    }
}

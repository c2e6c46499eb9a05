//! The log store and the state machine against openraft's own storage test suite (the
//! contract openraft relies on: log states, purge and truncate, votes, applied state,
//! snapshots built, transferred and installed), on real files in temp dirs.

use std::sync::{Arc, Mutex};

use openraft::StorageError;
use openraft::testing::{StoreBuilder, Suite};

use super::State;
use super::machine::Machine;
use crate::config::Config;
use crate::editlog::{EditLog, Syncer};
use crate::raft::TypeConfig;

struct Builder;

impl StoreBuilder<TypeConfig, EditLog, Machine, (tempfile::TempDir, Syncer)> for Builder {
    async fn build(&self) -> Result<((tempfile::TempDir, Syncer), EditLog, Machine), StorageError<u64>> {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config::new(dir.path());
        let (log, syncer) = EditLog::open(dir.path()).expect("open the log");
        let state = State::load(&config).expect("empty state");
        let machine = Machine {
            state: Arc::new(Mutex::new(state)),
            config: config.clone(),
            dir: config.data_dir,
            lock_metrics: Default::default(),
        };
        Ok(((dir, syncer), log, machine))
    }
}

#[test]
fn log_store_and_state_machine_pass_openraft_storage_suite() {
    Suite::test_all(Builder).unwrap();
}

/// Found by the damaged-image property: an image whose namespace decodes but is inconsistent
/// (here an entry renamed "/" by one changed byte) is refused, not loaded to panic on a lookup.
#[test]
fn an_image_with_an_inconsistent_namespace_is_refused() {
    use crate::namespace::{Namespace, Op};
    let mut ns = Namespace::default();
    ns.apply(&Op::Mkdirs { path: "/a".into(), mtime_ms: 1, owner: "alice".into(), mode: 0o755 }).unwrap();
    let mut bytes = bincode::serialize(&(u64::MAX - 2, &ns, super::retry::RetryCache::default())).unwrap();
    assert!(super::state::decode_image(&bytes).is_ok());
    let name = bytes.windows(9).position(|w| w == b"\x01\0\0\0\0\0\0\0a").expect("the entry's name") + 8;
    bytes[name] = b'/';
    let e = super::state::decode_image(&bytes).err().expect("refused");
    assert!(e.to_string().contains("inconsistent namespace"), "{e}");
}

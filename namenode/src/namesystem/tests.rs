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

//! `hdfs safemode` and `hdfs fsck --list-corruptfileblocks`: the commands an operator reaches for
//! when a restarted namenode will not leave safe mode, with HDFS's words for what is missing.

use std::time::{Duration, Instant};

use clap::ValueEnum;
use hdfs_client::{Client, Error, FsckReport, Result, SafeModeAction};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SafemodeCommand {
    Get,
    Enter,
    Leave,
    /// Wait until safe mode is off (see --timeout).
    Wait,
}

/// How often `safemode wait` asks.
const WAIT_POLL: Duration = Duration::from_millis(200);

/// Runs a safe-mode action and prints the namenode's status line. `wait` prints the status on
/// stderr whenever it changes (unless `quiet`), so a wait that does not end says why, and gives
/// up after `timeout` with that status as its error.
pub async fn safemode(client: &Client, action: SafemodeCommand, timeout: Option<Duration>, quiet: bool) -> Result<()> {
    if timeout.is_some() && action != SafemodeCommand::Wait {
        return Err(Error::InvalidArgument("--timeout goes with `safemode wait` only".into()));
    }
    let act = match action {
        SafemodeCommand::Get | SafemodeCommand::Wait => SafeModeAction::Get,
        SafemodeCommand::Enter => SafeModeAction::Enter,
        SafemodeCommand::Leave => SafeModeAction::Leave,
    };
    let (mut on, mut status) = client.safe_mode(act).await?;
    if action == SafemodeCommand::Wait {
        let start = Instant::now();
        let mut said = String::new();
        while on {
            if !quiet && status != said {
                eprintln!("hdfs: safemode: waiting: {status}");
                said = status.clone();
            }
            if let Some(limit) = timeout
                && start.elapsed() >= limit
            {
                return Err(Error::Unavailable(format!("still in safe mode after {limit:?}: {status}")));
            }
            tokio::time::sleep(WAIT_POLL).await;
            (on, status) = client.safe_mode(SafeModeAction::Get).await?;
        }
    }
    println!("{status}");
    Ok(())
}

/// HDFS's `fsck -list-corruptfileblocks`: each block with no good replica left, with its file.
pub fn corrupt_file_blocks(r: &FsckReport) -> String {
    let mut out = format!("The list of corrupt files under path '{}' are:\n", r.path);
    let mut files = 0;
    for f in r.files_detail.iter().filter(|f| !f.under_construction) {
        let bad: Vec<_> = f.blocks.iter().filter(|b| b.live_replicas == 0 && b.decommissioning_replicas == 0).collect();
        files += usize::from(!bad.is_empty());
        for b in bad {
            out += &format!("blk_{}\t{}\n", b.block_id, f.path);
        }
    }
    out += &format!("The filesystem under path '{}' has {files} CORRUPT files\n", r.path);
    out
}

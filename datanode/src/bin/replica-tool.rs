//! `replica-tool`: looks at and damages the replicas in a stopped datanode's store, for failure
//! drills (deploy/drill.sh) and for operators who want to see what a datanode holds.
//!
//! It works on the files alone (`blocks/XX/blk_ID`, see [`replica_path`]) and never opens the
//! sled index: the datanode may hold its lock, and a tool that damages bytes must not also
//! "repair" the records that would let the datanode notice. `corrupt` flips one byte in place,
//! so the stored checksums no longer match and the scanner or the next read finds it.

use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hdfs_datanode::store::replica_path;

/// What went wrong, said as the tool prints it; file errors keep their `io::Error` as source.
#[derive(Debug, thiserror::Error)]
enum ToolError {
    #[error("block {block}: no replica at {} (is --data-dir the datanode's?)", path.display())]
    NoReplica { block: u64, path: PathBuf },
    #[error("block {block}: replica {} is empty, nothing to flip", path.display())]
    Empty { block: u64, path: PathBuf },
    #[error("block {block}: offset {offset} is past the replica's end ({len} bytes)")]
    PastEnd { block: u64, offset: u64, len: u64 },
    #[error("{action} {}: {source}", path.display())]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ToolError {
    let path = path.to_path_buf();
    move |source| ToolError::Io { action, path, source }
}

#[derive(Parser, Debug)]
#[command(name = "replica-tool", version, about = "Inspect or damage replicas in a datanode's store (for drills)")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Flip one byte of a stored replica so its checksums no longer match.
    Corrupt {
        /// The datanode's data directory (its `--data-dir`).
        #[arg(long, env = "DATANODE_DATA_DIR")]
        data_dir: PathBuf,
        /// Id of the block whose replica to damage.
        #[arg(long)]
        block: u64,
        /// Offset of the byte to flip (default: the middle of the replica).
        #[arg(long)]
        offset: Option<u64>,
    },
    /// List the replica files: block id, length in bytes, path.
    List {
        /// The datanode's data directory (its `--data-dir`).
        #[arg(long, env = "DATANODE_DATA_DIR")]
        data_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let result = match Args::parse().command {
        Command::Corrupt { data_dir, block, offset } => corrupt(&data_dir, block, offset),
        Command::List { data_dir } => list(&data_dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replica-tool: {e}");
            ExitCode::FAILURE
        }
    }
}

fn corrupt(data_dir: &Path, block: u64, offset: Option<u64>) -> Result<(), ToolError> {
    let path = replica_path(data_dir, block);
    let mut file = match OpenOptions::new().read(true).write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ToolError::NoReplica { block, path }),
        Err(e) => return Err(io("open", &path)(e)),
    };
    let len = file.metadata().map_err(io("stat", &path))?.len();
    if len == 0 {
        return Err(ToolError::Empty { block, path });
    }
    let offset = offset.unwrap_or(len / 2);
    if offset >= len {
        return Err(ToolError::PastEnd { block, offset, len });
    }
    let mut byte = [0u8; 1];
    file.seek(SeekFrom::Start(offset)).and_then(|_| file.read_exact(&mut byte)).map_err(io("read", &path))?;
    let flipped = byte[0] ^ 0xff;
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.write_all(&[flipped]))
        .and_then(|_| file.sync_all())
        .map_err(io("write", &path))?;
    println!(
        "block {block}: flipped byte {offset} of {len} ({:#04x} -> {flipped:#04x}) in {}",
        byte[0],
        path.display()
    );
    Ok(())
}

fn list(data_dir: &Path) -> Result<(), ToolError> {
    let blocks = data_dir.join("blocks");
    let dirs = fs::read_dir(&blocks).map_err(io("read", &blocks))?;
    let mut found = Vec::new();
    for dir in dirs {
        let dir = dir.map_err(io("read", &blocks))?.path();
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_prefix("blk_")).and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
            found.push((id, len, entry.path()));
        }
    }
    found.sort();
    for (id, len, path) in found {
        println!("{id}\t{len}\t{}", path.display());
    }
    Ok(())
}

//! `-checksum [-v] <src> ...`: each file's checksum, as Hadoop's `Display.Checksum` prints it:
//! `PATH<TAB>COMPOSITE-CRC32C<TAB>HEX` (the CRC32C of the file's bytes, the same whatever its
//! block size; see `hdfs_client::FileChecksum`), and with `-v` a last column `BlockSize=N`.
//! A directory is refused (`Is a directory`), and the verb goes on with the other paths.

use super::args::parse;
use super::shell::{BadInput, Run, Shell, say};

pub async fn checksum(sh: &mut Shell, args: &[String]) -> Run {
    let o = parse(args, &["v"], &[], 1, usize::MAX).map_err(BadInput)?;
    // Argument by argument, so errors come in their order (`/dir` before a missing path after
    // it), as Hadoop processes each path it expanded in turn.
    for arg in &o.args {
        for item in sh.existing(std::slice::from_ref(arg)).await {
            if item.is_dir() {
                sh.refuse(&item.shown, "Is a directory");
                continue;
            }
            match item.client.checksum(&item.path).await {
                Ok(c) => {
                    let block_size = match (&item.stat, o.has("v")) {
                        (Some(st), true) => format!("\tBlockSize={}", st.block_size),
                        _ => String::new(),
                    };
                    say(format_args!("{}\t{}\t{}{block_size}\n", item.shown, c.algorithm, c.hex()));
                }
                Err(e) => sh.fail(&item.shown, &e),
            }
        }
    }
    Ok(())
}

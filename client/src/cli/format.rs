//! How the commands print things for people.

use std::time::{SystemTime, UNIX_EPOCH};

use hdfs_client::{DatanodeReport, FileStatus, FsckReport};
use hdfs_proto::units::format_size;

/// Byte counts as plain numbers, or for people (`-h`).
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    human: bool,
}

impl Sizes {
    pub fn new(human: bool) -> Self {
        Self { human }
    }

    pub fn show(&self, bytes: u64) -> String {
        if self.human { format_size(bytes) } else { bytes.to_string() }
    }
}

/// The widths of the owner and group columns of `hdfs ls` over `entries`.
pub fn name_widths(entries: &[FileStatus]) -> (usize, usize) {
    entries.iter().fold((0, 0), |(o, g), e| (o.max(e.owner.chars().count()), g.max(e.group.chars().count())))
}

/// `drwxr-xr-x   - alice staff            0 2026-11-28 07:04 /path` (type and mode, replication,
/// owner, group, size, modification time, path), owner and group padded to `widths`.
pub fn ls_line(e: &FileStatus, sizes: Sizes, (owner_width, group_width): (usize, usize)) -> String {
    let rep = if e.is_dir() { "-".to_string() } else { e.replication.to_string() };
    let size = if e.is_dir() { "0".to_string() } else { sizes.show(e.length) };
    format!(
        "{} {rep:>3} {:<owner_width$} {:<group_width$} {size:>12} {} {}",
        e.mode_string(),
        e.owner,
        e.group,
        utc_minutes(e.modification_time()),
        e.path
    )
}

pub fn stat_text(s: &FileStatus) -> String {
    let mut out = format!("path: {}\ntype: {}\n", s.path, if s.is_dir() { "directory" } else { "file" });
    out += &format!(
        "permission: {:o} ({})\nowner: {}\ngroup: {}\n",
        s.permission,
        hdfs_proto::perm::symbolic(s.permission),
        s.owner,
        s.group
    );
    if s.is_dir() {
        out += &format!("children: {}\n", s.children);
    } else {
        out += &format!(
            "length: {} ({})\nreplication: {}\nblock_size: {} ({})\nunder_construction: {}\n",
            s.length,
            format_size(s.length),
            s.replication,
            s.block_size,
            format_size(s.block_size),
            s.under_construction
        );
    }
    out += &format!("modified: {} UTC\n", utc_minutes(s.modification_time()));
    out
}

/// `hdfs fsck` for people, in HDFS's words.
pub fn fsck_text(r: &FsckReport, files: bool, blocks: bool, locations: bool) -> String {
    let mut out = String::new();
    if files {
        for f in &r.files_detail {
            let open = if f.under_construction { " (open for writing)" } else { "" };
            out += &format!(
                "{} {} bytes, replication {}, {} block(s){open}\n",
                f.path,
                f.length,
                f.replication,
                f.blocks.len()
            );
            if blocks {
                for (i, b) in f.blocks.iter().enumerate() {
                    out += &format!(
                        "  {i}. blk_{}_{} len={} live_repl={}",
                        b.block_id, b.generation_stamp, b.length, b.live_replicas
                    );
                    if locations {
                        out += &format!(" [{}]", b.locations.join(", "));
                        if !b.corrupt_locations.is_empty() {
                            out += &format!(" corrupt: [{}]", b.corrupt_locations.join(", "));
                        }
                    }
                    out += "\n";
                }
            }
        }
    }
    out += &format!(
        "Status: {}\n Total size:\t{} B\n Total dirs:\t{}\n Total files:\t{}\n Open files:\t{}\n Total blocks:\t{}\n \
         Under-replicated blocks:\t{}\n Over-replicated blocks:\t{}\n Missing blocks:\t{}\n Corrupt blocks:\t{}\n\
         The filesystem under path '{}' is {}\n",
        r.status,
        r.total_bytes,
        r.directories,
        r.files,
        r.open_files,
        r.blocks,
        r.under_replicated_blocks,
        r.over_replicated_blocks,
        r.missing_blocks,
        r.corrupt_blocks,
        r.path,
        r.status
    );
    out
}

/// `hdfs report` for people: a summary, then one paragraph per datanode.
pub fn report_text(nodes: &[DatanodeReport]) -> String {
    let live = nodes.iter().filter(|n| n.state != "dead").count();
    let mut out = format!("Datanodes: {live} live or stale, {} dead\n", nodes.len() - live);
    for n in nodes {
        out += &format!(
            "\n{} ({})\n  state: {} ({})\n  capacity: {}  used: {}  remaining: {}\n  blocks: {}  transfers: {}  copies in flight: {}\n  last contact: {:.1} s ago\n",
            n.address,
            n.datanode_id,
            n.state,
            n.admin_state,
            format_size(n.capacity),
            format_size(n.used),
            format_size(n.remaining),
            n.blocks,
            n.active_transfers,
            n.copies_in_flight,
            n.last_contact_ms as f64 / 1000.0
        );
    }
    out
}

/// `YYYY-MM-DD HH:MM` in UTC, without a time-zone database.
pub fn utc_minutes(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", rem / 3600, rem % 3600 / 60)
}

/// `YYYY-MM-DD HH:MM:SS` in UTC (`hdfs dfs -stat`'s `%y`).
pub fn utc_seconds(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{}:{:02}", utc_minutes(t), secs % 60)
}

/// Java's `Date.toString()` in UTC, `Tue Dec 01 21:39:00 UTC 2026` (Hadoop's `dfsadmin -report`).
pub fn java_date(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{} {} {d:02} {:02}:{:02}:{:02} UTC {y}",
        DAYS[(days % 7) as usize],
        MONTHS[m as usize - 1],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Hadoop's `TraditionalBinaryPrefix.long2String`: below 1024 the number itself, else one
/// letter of 1024s after a space (`2 K`, `1.5 M`, with `decimals` places unless exact), then
/// `unit`. `hdfs dfs -h` sizes are `(n, "", 1)`; `dfsadmin -report`'s are `(n, "B", 2)`.
pub fn binary_prefix(n: u64, unit: &str, decimals: usize) -> String {
    const LETTERS: [char; 6] = ['K', 'M', 'G', 'T', 'P', 'E'];
    if n < 1024 {
        return if unit.is_empty() { n.to_string() } else { format!("{n} {unit}") };
    }
    // LETTERS[i] is 1024^(i+1).
    let mut i = 0;
    while i + 1 < LETTERS.len() && n >= 1u64 << (10 * (i + 2)) {
        i += 1;
    }
    let shift = 10 * (i + 1);
    let number = if n & ((1u64 << shift) - 1) == 0 {
        (n >> shift).to_string()
    } else {
        let mut s = format!("{:.*}", decimals, n as f64 / (1u64 << shift) as f64);
        if s.starts_with("1024") && i + 1 < LETTERS.len() {
            i += 1;
            s = format!("{:.*}", decimals, n as f64 / (1u64 << (shift + 10)) as f64);
        }
        s
    };
    format!("{number} {}{unit}", LETTERS[i])
}

/// A size as `hdfs dfs` prints it: bytes, or with `-h` Hadoop's `1.5 K`.
pub fn hadoop_size(n: u64, human: bool) -> String {
    if human { binary_prefix(n, "", 1) } else { n.to_string() }
}

/// A calendar date to days since 1970-01-01 (the inverse of `civil_from_days`); `None` for a
/// month or day that does not exist.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let last = if m == 2 && leap { 29 } else { *DAYS.get((m as usize).checked_sub(1)?)? };
    if d == 0 || d > last {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let (era, yoe) = (y.div_euclid(400), y.rem_euclid(400));
    let doy = (153 * ((i64::from(m) + 9) % 12) + 2) / 5 + i64::from(d) - 1;
    Some(era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468)
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdfs_client::FileKind;
    use std::time::Duration;

    fn status(path: &str, kind: FileKind, permission: u16, owner: &str) -> FileStatus {
        FileStatus {
            path: path.into(),
            kind,
            length: if kind == FileKind::File { 1536 } else { 0 },
            replication: 3,
            block_size: 1 << 20,
            modification_time_ms: 1_795_824_000_000,
            under_construction: false,
            children: 0,
            permission,
            owner: owner.into(),
            group: "supergroup".into(),
        }
    }

    #[test]
    fn ls_and_stat_show_mode_owner_and_group() {
        let entries =
            [status("/d", FileKind::Directory, 0o1777, "hdfs"), status("/d/f", FileKind::File, 0o640, "alice")];
        let widths = name_widths(&entries);
        assert_eq!(widths, (5, 10));
        assert_eq!(
            ls_line(&entries[0], Sizes::new(false), widths),
            "drwxrwxrwt   - hdfs  supergroup            0 2026-11-28 00:00 /d"
        );
        assert_eq!(
            ls_line(&entries[1], Sizes::new(true), widths),
            "-rw-r-----   3 alice supergroup      1.5 KiB 2026-11-28 00:00 /d/f"
        );
        let text = stat_text(&entries[1]);
        assert!(text.contains("\npermission: 640 (rw-r-----)\nowner: alice\ngroup: supergroup\n"), "{text}");
    }

    #[test]
    fn dates() {
        assert_eq!(utc_minutes(UNIX_EPOCH), "1970-01-01 00:00");
        assert_eq!(utc_minutes(UNIX_EPOCH + Duration::from_secs(951_782_400 + 3_660)), "2000-02-29 01:01");
        assert_eq!(utc_minutes(UNIX_EPOCH + Duration::from_secs(1_795_824_000)), "2026-11-28 00:00");
        assert_eq!(utc_seconds(UNIX_EPOCH + Duration::from_secs(1_795_824_000 + 59)), "2026-11-28 00:00:59");
        assert_eq!(java_date(UNIX_EPOCH + Duration::from_secs(1_795_824_000 + 3_723)), "Sat Nov 28 01:02:03 UTC 2026");
        for days in [-800_000, -1, 0, 59, 60, 11_016, 20_785, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), Some(days), "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(2026, 2, 29), None);
        assert_eq!(days_from_civil(2026, 13, 1), None);
        assert_eq!(days_from_civil(2026, 0, 1), None);
    }

    #[test]
    fn hadoop_sizes() {
        assert_eq!(hadoop_size(1023, true), "1023");
        assert_eq!(hadoop_size(2048, true), "2 K");
        assert_eq!(hadoop_size(1536, true), "1.5 K");
        assert_eq!(hadoop_size(2 * (1 << 20) + 99, true), "2.0 M");
        assert_eq!(hadoop_size((1 << 20) - 1, true), "1.0 M");
        assert_eq!(hadoop_size(1536, false), "1536");
        assert_eq!(binary_prefix(1_081_101_176_832, "B", 2), "1006.85 GB");
        assert_eq!(binary_prefix(512, "B", 2), "512 B");
    }
}

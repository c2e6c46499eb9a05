//! Where a repair's time went, read from the nodes' logs: when the namenode declared the node
//! dead and scheduled each copy, when the sources started copying and when each replica was
//! copied. Polling the namenode cannot see these (it shows a node dead before the namenode acts
//! on it, and a copy only once it is confirmed).
//!
//! The servers log with `tracing`'s default format: an RFC 3339 UTC timestamp with
//! microseconds, then the level, the target and the message, possibly with ANSI colours.

use std::path::Path;
use std::time::SystemTime;

/// Seconds after the kill of each event (`None`: not in the logs).
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    /// The namenode's "datanode declared dead".
    pub declared_dead: Option<f64>,
    /// Every "scheduling a copy" of the namenode, in order.
    pub scheduled: Vec<f64>,
    /// Every "copying a replica as the namenode asked" of the datanodes (a source received the
    /// command in a heartbeat reply and started), in order.
    pub started: Vec<f64>,
    /// Every "replica copied" of the datanodes (the target acknowledged the whole block).
    pub copied: Vec<f64>,
}

impl Timeline {
    /// The events after `kill` in the namenode's log and the datanodes' logs.
    pub fn read(kill: SystemTime, namenode_log: &Path, datanode_logs: &[&Path]) -> Self {
        let kill = kill.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        let mut t = Timeline::default();
        for (at, msg) in events(namenode_log, kill) {
            if msg.contains("datanode declared dead") && t.declared_dead.is_none() {
                t.declared_dead = Some(at);
            } else if msg.contains("scheduling a copy") {
                t.scheduled.push(at);
            }
        }
        for log in datanode_logs {
            for (at, msg) in events(log, kill) {
                if msg.contains("copying a replica as the namenode asked") {
                    t.started.push(at);
                } else if msg.contains("replica copied") {
                    t.copied.push(at);
                }
            }
        }
        for v in [&mut t.scheduled, &mut t.started, &mut t.copied] {
            v.sort_by(f64::total_cmp);
        }
        t
    }

    /// Rounds of scheduling: runs of "scheduling a copy" less than 0.5 s apart (one monitor
    /// tick schedules all it can at once; the next tick is a replication interval later).
    pub fn rounds(&self) -> usize {
        let mut rounds = 0;
        let mut last = f64::NEG_INFINITY;
        for &at in &self.scheduled {
            if at - last > 0.5 {
                rounds += 1;
            }
            last = at;
        }
        rounds
    }

    /// One line per event kind, for stderr.
    pub fn describe(&self) -> String {
        let span = |v: &[f64]| match (v.first(), v.last()) {
            (Some(a), Some(b)) => format!("{} at {a:.2}-{b:.2} s", v.len()),
            _ => "none".into(),
        };
        format!(
            "after the kill: declared dead at {}; copies scheduled: {} in {} rounds; started: {}; copied: {}",
            self.declared_dead.map_or("?".into(), |d| format!("{d:.2} s")),
            span(&self.scheduled),
            self.rounds(),
            span(&self.started),
            span(&self.copied)
        )
    }
}

/// (seconds after `since`, message) of each line of `log` stamped at or after `since` (Unix
/// seconds).
fn events(log: &Path, since: f64) -> Vec<(f64, String)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let line = strip_ansi(line);
            let stamp = line.split_whitespace().next()?;
            let at = parse_rfc3339_utc(stamp)? - since;
            (at >= 0.0).then_some((at, line))
        })
        .collect()
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters, ended by a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `2026-11-28T08:06:11.366884Z` → Unix seconds.
fn parse_rfc3339_utc(s: &str) -> Option<f64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (h, min, sec) =
        (t.next()?.parse::<i64>().ok()?, t.next()?.parse::<i64>().ok()?, t.next()?.parse::<f64>().ok()?);
    Some((days_from_civil(y, m, day) * 86_400 + h * 3_600 + min * 60) as f64 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tracing_timestamps() {
        assert_eq!(parse_rfc3339_utc("1970-01-01T00:00:00.000000Z"), Some(0.0));
        let t = parse_rfc3339_utc("2026-11-28T08:06:11.366884Z").unwrap();
        assert!((t - 1_795_853_171.366884).abs() < 1e-6, "{t}");
        let line = "\x1b[2m2026-11-28T08:06:11.366884Z\x1b[0m \x1b[32m INFO\x1b[0m scheduling a copy";
        assert!(strip_ansi(line).starts_with("2026-11-28T08:06:11.366884Z  INFO scheduling a copy"));
    }
}

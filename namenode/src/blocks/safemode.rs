//! Safe mode: after a restart the namenode places and deletes nothing, and refuses namespace
//! changes, until enough blocks have been reported by datanodes to trust its block map.
//!
//! The automatic kind ends once the fraction of blocks with at least one reported replica has
//! stayed at or above the threshold for the extension (HDFS: 0.999 and 30 s; the extension lets
//! the last block reports arrive before over-replicated blocks are trimmed). The manual kind
//! (`hdfs safemode enter`) ends only with `leave`. Pure: the caller passes counts and time.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct SafeMode {
    auto: bool,
    manual: bool,
    threshold: f64,
    extension: Duration,
    /// When the threshold was (last) reached, while the extension runs.
    reached: Option<Instant>,
}

impl SafeMode {
    /// Starts in safe mode (a namenode that just loaded its namespace).
    pub fn new(threshold: f64, extension: Duration) -> Self {
        Self { auto: true, manual: false, threshold, extension, reached: None }
    }

    pub fn is_on(&self) -> bool {
        self.auto || self.manual
    }

    pub fn is_manual(&self) -> bool {
        self.manual
    }

    pub fn enter(&mut self) {
        self.manual = true;
    }

    pub fn leave(&mut self) {
        self.manual = false;
        self.auto = false;
        self.reached = None;
    }

    /// Blocks that must be reported before the threshold is reached.
    fn needed(&self, total: usize) -> usize {
        (self.threshold * total as f64).ceil() as usize
    }

    /// Updates the automatic safe mode from `reported` of `total` blocks; returns true when it
    /// has just ended.
    pub fn update(&mut self, reported: usize, total: usize, now: Instant) -> bool {
        if !self.auto {
            return false;
        }
        if reported < self.needed(total) {
            self.reached = None;
            return false;
        }
        // An empty namespace has nothing to wait for.
        let since = *self.reached.get_or_insert(now);
        if total == 0 || now.duration_since(since) >= self.extension {
            self.auto = false;
            self.reached = None;
            return true;
        }
        false
    }

    /// Why safe mode is on and what ends it; `None` when it is off.
    pub fn tip(&self, reported: usize, total: usize, live: usize, now: Instant) -> Option<String> {
        if !self.is_on() {
            return None;
        }
        if self.manual {
            return Some("It was turned on manually. Use \"hdfs safemode leave\" to turn safe mode off.".into());
        }
        let needed = self.needed(total);
        let blocks = if reported < needed {
            format!(
                "The reported blocks {reported} needs additional {} blocks to reach the threshold {:.4} of total blocks {total}. ",
                needed - reported,
                self.threshold
            )
        } else {
            format!(
                "The reported blocks {reported} has reached the threshold {:.4} of total blocks {total}. ",
                self.threshold
            )
        };
        let datanodes = format!("The number of live datanodes {live} has reached the minimum number 0. ");
        let end = match self.reached {
            Some(since) => {
                let left = self.extension.saturating_sub(now.saturating_duration_since(since));
                format!(
                    "In safe mode extension. Safe mode will be turned off automatically in {} seconds.",
                    left.as_secs_f64().ceil()
                )
            }
            None => "Safe mode will be turned off automatically once the thresholds have been reached.".into(),
        };
        Some(format!("{blocks}{datanodes}{end}"))
    }
}

/// The status line of `hdfs safemode get`, in HDFS's words: "Safe mode is ON. " and the
/// [`SafeMode::tip`], or "Safe mode is OFF".
pub fn status_line(tip: Option<&str>) -> String {
    match tip {
        None => "Safe mode is OFF".into(),
        Some(tip) => format!("Safe mode is ON. {tip}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_after_threshold_and_extension() {
        let t0 = Instant::now();
        let ext = Duration::from_secs(5);
        let mut s = SafeMode::new(0.999, ext);
        assert!(s.is_on());
        assert!(!s.update(998, 1000, t0));
        assert!(!s.update(999, 1000, t0 + Duration::from_secs(1)));
        assert!(!s.update(999, 1000, t0 + Duration::from_secs(5)));
        assert!(s.update(1000, 1000, t0 + Duration::from_secs(6)));
        assert!(!s.is_on());
    }

    #[test]
    fn dropping_below_restarts_the_extension() {
        let t0 = Instant::now();
        let mut s = SafeMode::new(1.0, Duration::from_secs(5));
        s.update(10, 10, t0);
        s.update(9, 10, t0 + Duration::from_secs(4));
        assert!(!s.update(10, 10, t0 + Duration::from_secs(6)));
        assert!(s.update(10, 10, t0 + Duration::from_secs(11)));
    }

    #[test]
    fn empty_namespace_leaves_at_once_and_manual_stays_until_leave() {
        let t0 = Instant::now();
        let mut s = SafeMode::new(0.999, Duration::from_secs(30));
        assert!(s.update(0, 0, t0));
        s.enter();
        assert!(!s.update(0, 0, t0));
        assert!(s.is_on() && s.is_manual());
        s.leave();
        assert!(!s.is_on());
    }

    #[test]
    fn the_status_says_what_is_missing_in_hdfs_words() {
        let t0 = Instant::now();
        let mut s = SafeMode::new(0.999, Duration::from_secs(5));
        s.update(16, 17, t0);
        assert_eq!(
            status_line(s.tip(16, 17, 3, t0).as_deref()),
            "Safe mode is ON. The reported blocks 16 needs additional 1 blocks to reach the threshold 0.9990 \
             of total blocks 17. The number of live datanodes 3 has reached the minimum number 0. Safe mode \
             will be turned off automatically once the thresholds have been reached."
        );
        s.update(17, 17, t0);
        assert_eq!(
            status_line(s.tip(17, 17, 3, t0 + Duration::from_millis(1500)).as_deref()),
            "Safe mode is ON. The reported blocks 17 has reached the threshold 0.9990 of total blocks 17. The \
             number of live datanodes 3 has reached the minimum number 0. In safe mode extension. Safe mode \
             will be turned off automatically in 4 seconds."
        );
        s.leave();
        assert_eq!(status_line(s.tip(17, 17, 3, t0).as_deref()), "Safe mode is OFF");
        s.enter();
        assert!(status_line(s.tip(17, 17, 3, t0).as_deref()).contains("It was turned on manually"));
    }
}

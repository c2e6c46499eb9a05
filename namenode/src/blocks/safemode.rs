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

    /// Updates the automatic safe mode from `reported` of `total` blocks; returns true when it
    /// has just ended.
    pub fn update(&mut self, reported: usize, total: usize, now: Instant) -> bool {
        if !self.auto {
            return false;
        }
        let enough = total == 0 || reported as f64 >= self.threshold * total as f64;
        if !enough {
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

    /// A line for `hdfs safemode get` and logs.
    pub fn describe(&self, reported: usize, total: usize) -> String {
        if !self.is_on() {
            return "Safe mode is OFF".into();
        }
        if self.manual {
            return "Safe mode is ON (entered by an operator; `hdfs safemode leave` ends it)".into();
        }
        format!(
            "Safe mode is ON: {reported} of {total} blocks reported, threshold {:.3}{}",
            self.threshold,
            if self.reached.is_some() { ", reached; extension running" } else { "" }
        )
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
}

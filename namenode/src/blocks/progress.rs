//! Repair as people follow it: when the current repair started, how many copies it has made,
//! the recent rate of confirmed copies, and from it an estimate of when it ends. Pure: the
//! caller passes the time and the backlog.
//!
//! A repair starts when the leader schedules a copy with none under way, and finishes when no
//! block waits for a copy and none is in flight. The rate counts copies confirmed over the last
//! [`WINDOW`] (or since the repair started, if later); with none confirmed yet it is unknown,
//! and so is the estimate.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Serialize;

/// How far back the rate looks.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Confirmations remembered for the rate, at most (a fast repair confirms thousands a minute;
/// the newest are enough to tell its pace).
const SAMPLES: usize = 4096;

/// The current repair.
#[derive(Debug, Clone, Copy)]
struct Run {
    started: Instant,
    started_ms: u64,
    copied: u64,
}

/// What [`Progress::update`] saw change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Started,
    /// Finished: copies confirmed, and how long it ran.
    Finished {
        copied: u64,
        took: Duration,
    },
}

#[derive(Debug, Default)]
pub struct Progress {
    /// When each recent copy was confirmed, oldest first.
    confirmed: VecDeque<Instant>,
    run: Option<Run>,
}

/// The repair at a glance, as `/api/overview` has it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RepairStatus {
    pub in_progress: bool,
    /// When the current repair started (milliseconds since the Unix epoch).
    pub started_ms: Option<u64>,
    /// Copies the current repair has had confirmed.
    pub copied: u64,
    /// Blocks still to copy: waiting for a copy, or with one in flight.
    pub remaining: u64,
    /// Copies confirmed per second, recently; `null` while unknown.
    pub copies_per_second: Option<f64>,
    /// Seconds until `remaining` is done at that rate; `null` while unknown.
    pub eta_seconds: Option<u64>,
}

impl Progress {
    /// A copy was confirmed by its target's report.
    pub fn confirmed(&mut self, now: Instant) {
        if self.confirmed.len() == SAMPLES {
            self.confirmed.pop_front();
        }
        self.confirmed.push_back(now);
        if let Some(r) = &mut self.run {
            r.copied += 1;
        }
    }

    /// A copy was scheduled: a repair starts unless one runs.
    pub fn scheduled(&mut self, now: Instant, now_ms: u64) -> Option<Change> {
        if self.run.is_some() {
            return None;
        }
        self.run = Some(Run { started: now, started_ms: now_ms, copied: 0 });
        Some(Change::Started)
    }

    /// After a round of the monitor, with `backlog` blocks waiting for a copy or with one in
    /// flight: the repair finishes when there are none.
    pub fn update(&mut self, backlog: u64, now: Instant) -> Option<Change> {
        if backlog > 0 {
            return None;
        }
        let run = self.run.take()?;
        Some(Change::Finished { copied: run.copied, took: now.saturating_duration_since(run.started) })
    }

    /// This member no longer leads: its repair, if any, is another leader's to finish.
    pub fn abandon(&mut self) {
        self.run = None;
    }

    /// Copies confirmed per second over the last [`WINDOW`] (or since the repair started, if
    /// later); `None` if none were.
    pub fn rate(&self, now: Instant) -> Option<f64> {
        let since = now.checked_sub(WINDOW).unwrap_or(now);
        let from = match self.run {
            Some(r) if r.started > since => r.started,
            _ => since,
        };
        let n = self.confirmed.iter().rev().take_while(|&&t| t >= from).count();
        if n == 0 {
            return None;
        }
        // At least a second, so that a first copy confirmed a moment after the start does not
        // promise a thousand a second.
        let span = now.saturating_duration_since(from).max(Duration::from_secs(1));
        Some(n as f64 / span.as_secs_f64())
    }

    /// The status with `remaining` blocks still to copy.
    pub fn status(&self, remaining: u64, now: Instant) -> RepairStatus {
        let rate = self.rate(now);
        let in_progress = self.run.is_some() || remaining > 0;
        RepairStatus {
            in_progress,
            started_ms: self.run.map(|r| r.started_ms),
            copied: self.run.map_or(0, |r| r.copied),
            remaining,
            copies_per_second: rate,
            eta_seconds: rate.filter(|_| in_progress).map(|r| (remaining as f64 / r).ceil() as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repair_runs_from_its_first_copy_until_nothing_waits() {
        let t0 = Instant::now();
        let mut p = Progress::default();
        assert_eq!(p.update(0, t0), None, "nothing ran");
        assert_eq!(p.status(0, t0), RepairStatus::default());
        assert_eq!(p.scheduled(t0, 1000), Some(Change::Started));
        assert_eq!(p.scheduled(t0, 1000), None, "one repair at a time");
        let s = p.status(10, t0);
        assert!(s.in_progress);
        assert_eq!((s.started_ms, s.copies_per_second, s.eta_seconds), (Some(1000), None, None), "no rate yet");
        for i in 1..=4 {
            p.confirmed(t0 + Duration::from_millis(500 * i));
        }
        let now = t0 + Duration::from_secs(2);
        assert_eq!(p.update(6, now), None);
        let s = p.status(6, now);
        assert_eq!(s.copied, 4);
        assert_eq!(s.copies_per_second, Some(2.0));
        assert_eq!(s.eta_seconds, Some(3));
        let end = t0 + Duration::from_secs(5);
        assert_eq!(p.update(0, end), Some(Change::Finished { copied: 4, took: Duration::from_secs(5) }));
        assert!(!p.status(0, end).in_progress);
        assert_eq!(p.status(0, end).eta_seconds, None);
    }

    #[test]
    fn the_rate_forgets_copies_older_than_the_window() {
        let t0 = Instant::now();
        let mut p = Progress::default();
        p.confirmed(t0);
        p.confirmed(t0 + Duration::from_secs(1));
        let later = t0 + WINDOW + Duration::from_millis(500);
        assert_eq!(p.rate(later), Some(1.0 / WINDOW.as_secs_f64()));
        assert_eq!(p.rate(later + Duration::from_secs(1)), None);
        p.scheduled(t0, 0);
        p.abandon();
        assert_eq!(p.update(0, later), None, "an abandoned repair does not finish here");
    }
}

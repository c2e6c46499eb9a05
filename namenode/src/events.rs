//! The cluster's recent events, as the status page and `/api/events` list them: a datanode
//! registered, stale, dead or back; a repair started or finished (with the blocks copied and
//! how long it took); safe mode left; leadership gained or lost. A bounded ring of the last
//! [`CAPACITY`], in memory only (the logs keep the full story).
//!
//! A leaf: the block manager and the namesystem record into it where things happen, the HTTP
//! port reads it, and it imports none of them.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Events kept.
pub const CAPACITY: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    DatanodeRegistered,
    DatanodeStale,
    /// Heard from again after being stale.
    DatanodeLive,
    DatanodeDead,
    DecommissionStarted,
    DecommissionStopped,
    Decommissioned,
    RepairStarted,
    RepairFinished,
    SafeModeEntered,
    SafeModeLeft,
    LeadershipGained,
    LeadershipLost,
}

impl EventKind {
    /// The kind as the JSON spells it (`datanode_dead`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::DatanodeRegistered => "datanode_registered",
            EventKind::DatanodeStale => "datanode_stale",
            EventKind::DatanodeLive => "datanode_live",
            EventKind::DatanodeDead => "datanode_dead",
            EventKind::DecommissionStarted => "decommission_started",
            EventKind::DecommissionStopped => "decommission_stopped",
            EventKind::Decommissioned => "decommissioned",
            EventKind::RepairStarted => "repair_started",
            EventKind::RepairFinished => "repair_finished",
            EventKind::SafeModeEntered => "safe_mode_entered",
            EventKind::SafeModeLeft => "safe_mode_left",
            EventKind::LeadershipGained => "leadership_gained",
            EventKind::LeadershipLost => "leadership_lost",
        }
    }
}

/// One event. Every key is always present (`null` when it does not apply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Numbers events in the order they happened on this namenode, from 1.
    pub seq: u64,
    /// When, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    pub kind: EventKind,
    /// What happened, in a sentence.
    pub message: String,
    /// The datanode concerned (its address).
    pub datanode: Option<String>,
    /// Blocks concerned: a dead node's replicas, a repair's copies.
    pub blocks: Option<u64>,
    /// How long it took (a repair), in milliseconds.
    pub duration_ms: Option<u64>,
}

impl Event {
    pub fn new(kind: EventKind, message: impl Into<String>) -> Self {
        Event { seq: 0, time_ms: 0, kind, message: message.into(), datanode: None, blocks: None, duration_ms: None }
    }

    pub fn datanode(mut self, address: &str) -> Self {
        self.datanode = Some(address.to_string());
        self
    }

    pub fn blocks(mut self, n: u64) -> Self {
        self.blocks = Some(n);
        self
    }

    pub fn duration(mut self, d: Duration) -> Self {
        self.duration_ms = Some(d.as_millis() as u64);
        self
    }
}

/// The ring.
#[derive(Debug, Default)]
pub struct Events {
    ring: VecDeque<Event>,
    recorded: u64,
}

impl Events {
    /// Records `event` as happening now; the oldest is dropped past [`CAPACITY`].
    pub fn record(&mut self, event: Event) {
        let time_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        self.record_at(event, time_ms);
    }

    fn record_at(&mut self, mut event: Event, time_ms: u64) {
        self.recorded += 1;
        event.seq = self.recorded;
        event.time_ms = time_ms;
        if self.ring.len() == CAPACITY {
            self.ring.pop_front();
        }
        self.ring.push_back(event);
    }

    /// Up to `limit` events, newest first.
    pub fn recent(&self, limit: usize) -> Vec<Event> {
        self.ring.iter().rev().take(limit).cloned().collect()
    }

    /// Events recorded since this namenode started, including those the ring dropped.
    pub fn recorded(&self) -> u64 {
        self.recorded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_newest_and_lists_them_first() {
        let mut e = Events::default();
        for i in 0..CAPACITY as u64 + 5 {
            e.record_at(Event::new(EventKind::DatanodeRegistered, format!("n{i}")).datanode("h:1"), 1000 + i);
        }
        assert_eq!(e.recorded(), CAPACITY as u64 + 5);
        let all = e.recent(usize::MAX);
        assert_eq!(all.len(), CAPACITY);
        assert_eq!(all[0].seq, CAPACITY as u64 + 5);
        assert_eq!(all[0].message, format!("n{}", CAPACITY + 4));
        assert_eq!(all.last().unwrap().seq, 6, "the five oldest were dropped");
        assert_eq!(e.recent(2).len(), 2);
    }

    #[test]
    fn events_serialize_with_every_key() {
        let mut e = Events::default();
        e.record_at(Event::new(EventKind::RepairFinished, "done").blocks(7).duration(Duration::from_millis(1500)), 42);
        let v = serde_json::to_value(&e.recent(1)[0]).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"seq": 1, "time_ms": 42, "kind": "repair_finished", "message": "done",
                "datanode": null, "blocks": 7, "duration_ms": 1500})
        );
        assert_eq!(EventKind::RepairFinished.as_str(), "repair_finished");
    }
}

//! The figures: one row per metric, printed as a table and, on request, as one JSON document.

use std::time::Duration;

use serde::Serialize;

/// 10^6 bytes, as disks and networks are rated.
pub const MB: f64 = 1e6;
pub const MIB: f64 = (1u64 << 20) as f64;

/// `bytes` moved in `d`, in MB/s.
pub fn mb_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / MB / d.as_secs_f64()
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    MbPerS,
    Mib,
    Ratio,
    Seconds,
    /// Milliseconds.
    Ms,
    Count,
    OpsPerS,
    Bytes,
}

/// What a row must reach; rows without one are for reading only.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// value / baseline at least this.
    MinShareOfBaseline(f64),
    /// value / baseline at most this.
    MaxShareOfBaseline(f64),
    /// value strictly below this.
    Below(f64),
    /// value at most this.
    AtMost(f64),
    /// value at least this.
    AtLeast(f64),
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub key: String,
    pub metric: String,
    pub unit: Unit,
    /// `None`: not measured (the note says why).
    pub value: Option<f64>,
    pub baseline: Option<f64>,
    pub ratio: Option<f64>,
    pub target: Option<String>,
    pub pass: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Row {
    pub fn new(key: impl Into<String>, metric: impl Into<String>, unit: Unit, value: Option<f64>) -> Self {
        Self {
            key: key.into(),
            metric: metric.into(),
            unit,
            value,
            baseline: None,
            ratio: None,
            target: None,
            pass: None,
            note: None,
        }
    }

    pub fn against(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self.ratio = self.value.map(|v| v / baseline);
        self
    }

    pub fn target(mut self, t: Target) -> Self {
        let (text, pass) = match t {
            Target::MinShareOfBaseline(share) => {
                (format!(">= {:.0}% of baseline", share * 100.0), self.ratio.map(|r| r >= share))
            }
            Target::MaxShareOfBaseline(share) => {
                (format!("<= {:.0}% of baseline", share * 100.0), self.ratio.map(|r| r <= share))
            }
            Target::Below(max) => (format!("< {}", show(self.unit, max)), self.value.map(|v| v < max)),
            Target::AtMost(max) => (format!("<= {}", show(self.unit, max)), self.value.map(|v| v <= max)),
            Target::AtLeast(min) => (format!(">= {}", show(self.unit, min)), self.value.map(|v| v >= min)),
        };
        self.target = Some(text);
        self.pass = Some(pass.unwrap_or(false));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    /// The phases that ran (`main`, `repair`, `meta`, `small`).
    pub phases: Vec<String>,
    pub size_bytes: u64,
    pub big_size_bytes: u64,
    pub work_dir: String,
    pub unix_time: u64,
    pub load_average_before: String,
    pub load_average_after: String,
    pub rows: Vec<Row>,
}

fn show(unit: Unit, v: f64) -> String {
    match unit {
        Unit::MbPerS => format!("{v:.0} MB/s"),
        Unit::Mib => format!("{v:.1} MiB"),
        Unit::Ratio => format!("{v:.3}x"),
        Unit::Seconds => format!("{v:.2} s"),
        Unit::Ms => format!("{v:.2} ms"),
        Unit::Count => format!("{v:.0}"),
        Unit::OpsPerS => format!("{v:.0} ops/s"),
        Unit::Bytes => format!("{v:.0} B"),
    }
}

impl Report {
    /// The table, as Markdown so it pastes into docs/BENCHMARKS.md as it is.
    pub fn table(&self) -> String {
        let mut out =
            String::from("| metric | value | baseline | ratio | target | result |\n|---|---:|---:|---:|---|---|\n");
        for r in &self.rows {
            let value = match r.value {
                Some(v) => show(r.unit, v),
                None => "-".into(),
            };
            let baseline = r.baseline.map(|b| show(r.unit, b)).unwrap_or_default();
            let ratio =
                r.ratio.filter(|_| r.baseline.is_some()).map(|x| format!("{:.0}%", x * 100.0)).unwrap_or_default();
            let result = match r.pass {
                Some(true) => "PASS",
                Some(false) => "FAIL",
                None => "",
            };
            let note = r.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
            out.push_str(&format!(
                "| {}{note} | {value} | {baseline} | {ratio} | {} | {result} |\n",
                r.metric,
                r.target.as_deref().unwrap_or("")
            ));
        }
        out
    }
}

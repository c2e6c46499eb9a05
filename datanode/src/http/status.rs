//! The datanode's own page at `/` and its JSON at `/api/datanode`, from one struct
//! ([`Status`]): identity, the volume (the data dir, with capacity, used and remaining from
//! `statvfs`), the replicas held (finalized and unfinished, counted by the store as records
//! change), and the block scanner's progress. Rendered on the server, no script.
//!
//! Stable hooks: `#datanode-id`, `#address`, `table#volumes` with one `tr.volume` per volume,
//! `#replicas-finalized`, `#replicas-unfinished`, `#scanner` (`data-in-pass`),
//! `#scanner-scanned`, `#scanner-errors`, `#scanner-passes`.

use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hdfs_proto::html::{esc, html, json, page, span, unix_ms, utc};
use hdfs_proto::units::format_size;
use serde::Serialize;

use super::Web;

/// One data directory.
#[derive(Debug, Clone, Serialize)]
pub struct Volume {
    pub dir: String,
    /// Bytes of its file system, as `statvfs` says (0 if it cannot be read).
    pub capacity: u64,
    /// Bytes of finalized replicas here.
    pub used: u64,
    /// Bytes free for this datanode on the file system.
    pub remaining: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Replicas {
    pub finalized: u64,
    /// Being written, or left by a writer that went away (recovery picks them up).
    pub unfinished: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scanner {
    /// Off with `--scan-bytes-per-sec 0`.
    pub enabled: bool,
    pub bytes_per_sec: u64,
    /// A pass starts at most this often.
    pub period_seconds: u64,
    pub in_pass: bool,
    /// The current pass (the last, between passes): its start, replicas to scan, replicas
    /// and bytes scanned, bad replicas found.
    pub pass_started_ms: Option<u64>,
    pub pass_replicas: u64,
    pub scanned_replicas: u64,
    pub scanned_bytes: u64,
    pub pass_errors: u64,
    pub passes: u64,
    pub last_pass_ended_ms: Option<u64>,
    pub last_pass_ms: Option<u64>,
    /// Bad replicas found since the datanode started.
    pub errors: u64,
}

/// `/api/datanode`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub version: &'static str,
    pub datanode_id: String,
    /// Its data-transfer address, as advertised to the namenodes.
    pub address: String,
    pub http_address: String,
    /// The namenodes it reports to, as configured.
    pub namenodes: Vec<String>,
    pub started_ms: u64,
    pub uptime_seconds: u64,
    pub volumes: Vec<Volume>,
    pub replicas: Replicas,
    pub scanner: Scanner,
}

impl Status {
    pub fn of(web: &Web) -> Status {
        let dir = web.store.dir();
        let (capacity, remaining) = match rustix::fs::statvfs(dir) {
            Ok(s) => (s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize),
            Err(_) => (0, 0),
        };
        let counts = web.store.counts();
        let p = &web.scan;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let nonzero = |v: u64| (v > 0).then_some(v);
        let passes = load(&p.passes);
        Status {
            version: env!("CARGO_PKG_VERSION"),
            datanode_id: web.node.datanode_id.clone(),
            address: web.node.address.clone(),
            http_address: web.node.http_address.clone(),
            namenodes: web.namenodes.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            started_ms: unix_ms(web.node.started),
            uptime_seconds: web.node.started.elapsed().map_or(0, |d| d.as_secs()),
            volumes: vec![Volume { dir: dir.display().to_string(), capacity, used: web.store.used_bytes(), remaining }],
            replicas: Replicas { finalized: counts.finalized, unfinished: counts.unfinished },
            scanner: Scanner {
                enabled: web.node.scan_bytes_per_sec > 0,
                bytes_per_sec: web.node.scan_bytes_per_sec,
                period_seconds: web.node.scan_period.as_secs(),
                in_pass: p.in_pass.load(Ordering::Relaxed),
                pass_started_ms: nonzero(load(&p.pass_started_ms)),
                pass_replicas: load(&p.pass_replicas),
                scanned_replicas: load(&p.scanned_replicas),
                scanned_bytes: load(&p.scanned_bytes),
                pass_errors: load(&p.pass_errors),
                passes,
                last_pass_ended_ms: nonzero(load(&p.last_pass_ended_ms)),
                last_pass_ms: (passes > 0).then(|| load(&p.last_pass_ms)),
                errors: p.errors.get(),
            },
        }
    }
}

pub(super) async fn api(State(web): State<Web>) -> Response {
    json(StatusCode::OK, &Status::of(&web))
}

pub(super) async fn page_handler(State(web): State<Web>) -> Response {
    let s = Status::of(&web);
    let mut body = String::with_capacity(4096);
    let _ = write!(
        body,
        "<h2>Datanode</h2>\n<dl class=\"grid\" id=\"datanode\">\
         <dt>Id</dt><dd id=\"datanode-id\" class=\"mono\">{}</dd><dt>Address</dt><dd id=\"address\" class=\"mono\">{}</dd>\
         <dt>Version</dt><dd id=\"version\">{}</dd><dt>Started</dt><dd id=\"started\">{} (up {})</dd>\
         <dt>Namenodes</dt><dd id=\"namenodes\" class=\"mono\">{}</dd>\
         <dt>Replicas</dt><dd><span id=\"replicas-finalized\">{}</span> finalized, \
         <span id=\"replicas-unfinished\">{}</span> unfinished</dd></dl>\n",
        esc(&s.datanode_id),
        esc(&s.address),
        esc(s.version),
        utc(s.started_ms),
        span(Duration::from_secs(s.uptime_seconds)),
        esc(&s.namenodes.join(", ")),
        s.replicas.finalized,
        s.replicas.unfinished,
    );
    body.push_str(
        "<h2>Volumes</h2>\n<table id=\"volumes\"><thead><tr><th>Directory</th><th class=\"n\">Capacity</th>\
         <th class=\"n\">Used by replicas</th><th class=\"n\">Remaining</th></tr></thead>\n<tbody>\n",
    );
    for v in &s.volumes {
        let _ = writeln!(
            body,
            "<tr class=\"volume\"><td class=\"mono\">{}</td><td class=\"n\" data-bytes=\"{}\">{}</td>\
             <td class=\"n\" data-bytes=\"{}\">{}</td><td class=\"n\" data-bytes=\"{}\">{}</td></tr>",
            esc(&v.dir),
            v.capacity,
            format_size(v.capacity),
            v.used,
            format_size(v.used),
            v.remaining,
            format_size(v.remaining),
        );
    }
    body.push_str("</tbody></table>\n");
    render_scanner(&mut body, &s.scanner);
    let title = format!("datanode {}", s.address);
    let nav = format!(
        "<strong>hdfs-rs datanode</strong><span class=\"mono\">{}</span><a href=\"/\">Status</a>\
         <span>JSON: <a href=\"/api/datanode\">datanode</a></span>",
        esc(&s.address)
    );
    html(StatusCode::OK, page(&title, &nav, &body))
}

fn render_scanner(out: &mut String, sc: &Scanner) {
    out.push_str("<h2>Block scanner</h2>\n");
    if !sc.enabled {
        out.push_str("<p id=\"scanner\" data-in-pass=\"false\">Off (<code>--scan-bytes-per-sec 0</code>).</p>\n");
        return;
    }
    let state = if sc.in_pass { "scanning" } else { "between passes" };
    let started = sc.pass_started_ms.map_or("not yet".to_string(), utc);
    let last = match (sc.last_pass_ended_ms, sc.last_pass_ms) {
        (Some(end), Some(took)) => format!("ended {}, took {}", utc(end), span(Duration::from_millis(took))),
        _ => "none finished yet".into(),
    };
    let _ = writeln!(
        out,
        "<dl class=\"grid\" id=\"scanner\" data-in-pass=\"{}\"><dt>State</dt><dd>{state}</dd>\
         <dt>Rate</dt><dd>{}/s, a pass at most every {}</dd><dt>This pass started</dt><dd>{started}</dd>\
         <dt>Scanned</dt><dd id=\"scanner-scanned\">{} of {} replicas, {}</dd>\
         <dt>Bad replicas</dt><dd id=\"scanner-errors\"{}>{} this pass, {} since start</dd>\
         <dt>Passes finished</dt><dd id=\"scanner-passes\">{}</dd><dt>Last pass</dt><dd>{last}</dd></dl>",
        sc.in_pass,
        format_size(sc.bytes_per_sec),
        span(Duration::from_secs(sc.period_seconds)),
        sc.scanned_replicas,
        sc.pass_replicas,
        format_size(sc.scanned_bytes),
        if sc.errors > 0 { " class=\"bad\"" } else { "" },
        sc.pass_errors,
        sc.errors,
        sc.passes,
    );
}

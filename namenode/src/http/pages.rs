//! The status page at `/`: the overview, the datanode table and the last events, rendered on
//! the server from the structs `/api/...` serializes (`views.rs`), with no script.
//!
//! Elements carry stable ids and classes for scripts and tests: `#version`, `#cluster-id`,
//! `#started`, `#role`, `#safe-mode`, `#capacity`, `#used`, `#remaining`, `#files`,
//! `#directories`, `#blocks`, `#under-replicated`, `#missing`, `#corrupt`, `#repair`,
//! `#live-datanodes`, `#stale-datanodes`, `#dead-datanodes`; `table#datanodes` with one
//! `tr.datanode[data-state=live|stale|dead|decommissioning|decommissioned]` per node;
//! `table#events` with one `tr.event[data-kind=...]` per event.

use std::fmt::Write;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hdfs_proto::html::{esc, html, page, span, utc};
use hdfs_proto::units::format_size;

use super::Web;
use super::views::{Datanodes, Events, Overview, PAGE_EVENTS};
use crate::blocks::RepairStatus;

pub(super) async fn status(State(web): State<Web>) -> Response {
    let overview = Overview::of(&web);
    let datanodes = Datanodes::of(&web);
    let events = Events::of(&web, PAGE_EVENTS);
    let mut body = String::with_capacity(4096 + datanodes.datanodes.len() * 700);
    render_overview(&mut body, &overview);
    render_datanodes(&mut body, &datanodes, &overview);
    render_events(&mut body, &events);
    let title = format!("namenode {} ({})", overview.namenode.address, overview.namenode.role);
    html(StatusCode::OK, page(&title, &nav(&overview.namenode.address), &body))
}

/// The header every namenode page shares.
pub(super) fn nav(address: &str) -> String {
    format!(
        "<strong>hdfs-rs namenode</strong><span class=\"mono\">{}</span><a href=\"/\">Overview</a>\
         <a href=\"/browse?path=%2F\">Browse</a><span>JSON: <a href=\"/api/overview\">overview</a> \
         <a href=\"/api/datanodes\">datanodes</a> <a href=\"/api/events\">events</a> \
         <a href=\"/api/browse?path=%2F\">browse</a></span>",
        esc(address)
    )
}

/// `12.0 GiB` with the exact bytes in `data-bytes`.
fn bytes_dd(out: &mut String, id: &str, label: &str, bytes: u64, extra: &str) {
    let _ = write!(out, "<dt>{label}</dt><dd id=\"{id}\" data-bytes=\"{bytes}\">{}{extra}</dd>", format_size(bytes));
}

fn count_dd(out: &mut String, id: &str, label: &str, n: u64, bad_if_any: bool) {
    let class = if bad_if_any && n > 0 { " class=\"bad\"" } else { "" };
    let _ = write!(out, "<dt>{label}</dt><dd id=\"{id}\"{class}>{n}</dd>");
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { String::new() } else { format!(" ({:.1}%)", part as f64 * 100.0 / whole as f64) }
}

/// The repair in words: what is left, the rate, the estimated end.
pub(super) fn repair_text(r: &RepairStatus) -> String {
    if !r.in_progress {
        return "none in progress: every block has its replicas".into();
    }
    if r.started_ms.is_none() {
        return format!(
            "{} blocks need more replicas, and no copy is under way (too few datanodes with room for them, \
             or this namenode does not lead)",
            r.remaining
        );
    }
    let rate = match r.copies_per_second {
        Some(rate) => format!("{rate:.2} copies/s"),
        None => "rate unknown (no copy confirmed yet)".into(),
    };
    let eta = match r.eta_seconds {
        Some(s) => format!("about {} left", span(Duration::from_secs(s))),
        None => "ETA unknown".into(),
    };
    let since = r.started_ms.map(|ms| format!(", started {}", utc(ms))).unwrap_or_default();
    format!("in progress: {} blocks to copy, {} copied{since}; {rate}; {eta}", r.remaining, r.copied)
}

fn render_overview(out: &mut String, o: &Overview) {
    let s = &o.summary;
    let b = &s.blocks;
    let m = &o.namenode;
    out.push_str("<h2>Overview</h2>\n<dl class=\"grid\" id=\"overview\">");
    let _ = write!(out, "<dt>Version</dt><dd id=\"version\">{}</dd>", esc(o.version));
    let _ = match &o.cluster_id {
        Some(id) => write!(out, "<dt>Cluster id</dt><dd id=\"cluster-id\">{}</dd>", esc(id)),
        None => write!(
            out,
            "<dt>Cluster id</dt><dd id=\"cluster-id\">none <span class=\"muted\">(no cluster id is kept; \
             this namenode is <span class=\"mono\">{}</span>)</span></dd>",
            esc(&m.address)
        ),
    };
    let uptime = span(Duration::from_secs(o.uptime_seconds));
    let _ = write!(out, "<dt>Started</dt><dd id=\"started\">{} (up {uptime})</dd>", utc(o.started_ms));
    let leader = match (&m.leader, m.leading) {
        (_, true) => String::new(),
        (Some(l), false) => format!("; the leader is <span class=\"mono\">{}</span>", esc(l)),
        (None, false) => "; no leader known".into(),
    };
    let _ = write!(
        out,
        "<dt>Role</dt><dd id=\"role\" data-leading=\"{}\">{} of a group of {}, member {}, term {}{leader}</dd>",
        m.leading,
        esc(&m.role),
        m.members,
        m.id,
        m.term
    );
    let _ = match &o.safe_mode_tip {
        Some(tip) if b.safe_mode => {
            write!(out, "<dt>Safe mode</dt><dd id=\"safe-mode\" data-on=\"true\" class=\"bad\">on: {}</dd>", esc(tip))
        }
        _ if b.safe_mode => {
            write!(out, "<dt>Safe mode</dt><dd id=\"safe-mode\" data-on=\"true\" class=\"bad\">on</dd>")
        }
        _ => write!(out, "<dt>Safe mode</dt><dd id=\"safe-mode\" data-on=\"false\">off</dd>"),
    };
    bytes_dd(out, "capacity", "Capacity", b.capacity, "");
    bytes_dd(out, "used", "Used", b.used, &percent(b.used, b.capacity));
    bytes_dd(out, "remaining", "Remaining", b.remaining, &percent(b.remaining, b.capacity));
    count_dd(out, "files", "Files", s.files, false);
    count_dd(out, "directories", "Directories", s.directories, false);
    count_dd(out, "blocks", "Blocks", b.blocks, false);
    count_dd(out, "under-replicated", "Under-replicated", b.under_replicated, false);
    count_dd(out, "missing", "Missing", b.missing, true);
    count_dd(out, "corrupt", "Corrupt", b.corrupt, true);
    count_dd(out, "copies-in-flight", "Copies in flight", b.copies_in_flight, false);
    let _ = write!(
        out,
        "<dt>Datanodes</dt><dd id=\"datanode-counts\"><span id=\"live-datanodes\">{}</span> live, \
         <span id=\"stale-datanodes\">{}</span> stale, <span id=\"dead-datanodes\">{}</span> dead, \
         <span id=\"decommissioning-datanodes\">{}</span> decommissioning, \
         <span id=\"decommissioned-datanodes\">{}</span> decommissioned</dd>",
        b.live_datanodes, b.stale_datanodes, b.dead_datanodes, b.decommissioning_datanodes, b.decommissioned_datanodes
    );
    let r = &o.repair;
    let _ = write!(
        out,
        "<dt>Repair</dt><dd id=\"repair\" data-in-progress=\"{}\" data-eta-seconds=\"{}\">{}</dd>",
        r.in_progress,
        r.eta_seconds.map(|s| s.to_string()).unwrap_or_default(),
        esc(&repair_text(r))
    );
    out.push_str("</dl>\n");
}

fn render_datanodes(out: &mut String, d: &Datanodes, o: &Overview) {
    let _ = writeln!(out, "<h2>Datanodes <span class=\"muted\">({})</span></h2>", d.datanodes.len());
    if !d.leading {
        let leader = o.namenode.leader.as_deref().map_or("no leader is known".to_string(), |l| {
            format!("the leader is <span class=\"mono\">{}</span>", esc(l))
        });
        let _ = writeln!(
            out,
            "<p class=\"note\" id=\"follower-note\">This namenode is a {} of its group: it shows the datanodes as \
             it hears from them, but only the leader decides repairs; {leader}.</p>",
            esc(&o.namenode.role)
        );
    }
    out.push_str(
        "<table id=\"datanodes\"><thead><tr><th>Address</th><th>State</th><th class=\"n\">Capacity</th>\
         <th class=\"n\">Used</th><th class=\"n\">Remaining</th><th class=\"n\">Blocks</th>\
         <th class=\"n\">Last contact</th><th class=\"n\">Copies in flight</th><th>Id</th></tr></thead>\n<tbody>\n",
    );
    for n in &d.datanodes {
        let address = if n.http_address.is_empty() {
            esc(&n.address).to_string()
        } else {
            let scheme = hdfs_proto::tls::scheme();
            format!("<a href=\"{scheme}://{}/\">{}</a>", esc(&n.http_address), esc(&n.address))
        };
        let _ = writeln!(
            out,
            "<tr class=\"datanode\" data-state=\"{state}\" data-address=\"{addr}\"><td class=\"mono\">{address}</td>\
             <td class=\"state {state}\">{state}</td><td class=\"n\">{}</td><td class=\"n\">{}{}</td>\
             <td class=\"n\">{}</td><td class=\"n blocks\">{}</td><td class=\"n\">{} ago</td>\
             <td class=\"n\">{}</td><td class=\"mono muted\">{}</td></tr>",
            format_size(n.capacity),
            format_size(n.used),
            percent(n.used, n.capacity),
            format_size(n.remaining),
            n.blocks,
            span(n.last_contact()),
            n.copies_in_flight,
            esc(&n.datanode_id),
            state = n.state,
            addr = esc(&n.address),
        );
    }
    if d.datanodes.is_empty() {
        out.push_str("<tr><td colspan=\"9\" class=\"muted\">no datanode has registered</td></tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn render_events(out: &mut String, e: &Events) {
    let _ = write!(
        out,
        "<h2>Last events <span class=\"muted\">(newest first; <a href=\"/api/events\">all kept</a>)</span></h2>\n\
         <table id=\"events\"><thead><tr><th>Time</th><th>Event</th><th>What happened</th></tr></thead>\n<tbody>\n"
    );
    for ev in &e.events {
        let kind = ev.kind.as_str();
        let _ = writeln!(
            out,
            "<tr class=\"event\" data-kind=\"{kind}\" data-seq=\"{}\"><td class=\"mono\">{}</td><td>{kind}</td>\
             <td class=\"message\">{}</td></tr>",
            ev.seq,
            utc(ev.time_ms),
            esc(&ev.message)
        );
    }
    if e.events.is_empty() {
        out.push_str("<tr><td colspan=\"3\" class=\"muted\">nothing yet</td></tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

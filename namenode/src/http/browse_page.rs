//! The namespace browser at `/browse?path=/x`, rendered from the struct `/api/browse`
//! serializes (`browse.rs`): a directory's entries, each a link; or a file's status, its blocks
//! and where their replicas are, and a download link through WebHDFS (which redirects to a
//! datanode holding the data).
//!
//! Stable hooks: `#path` (the path shown), `nav#crumbs`, `table#listing` with one
//! `tr.entry[data-type=file|directory]` per entry and its name in `a.name`, `#next-page`;
//! for a file `dl#file`, `a#download`, `table#blocks` with one `tr.block` per block and one
//! `.replica` per location.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use hdfs_proto::html::{esc, html, page, url_query, utc};
use hdfs_proto::units::format_size;

use super::Web;
use super::browse::{Browse, FileView, Listing, Query};
use super::pages::nav;

pub(super) async fn browse(State(web): State<Web>, uri: Uri) -> Response {
    let address = web.ns.config().advertise_addr.clone().unwrap_or_default();
    let q = match Query::parse(uri.query()) {
        Ok(q) => q,
        Err(e) => return error_page(&address, "/", e.status, &e.message),
    };
    match Browse::of(&web, &q).await {
        Ok(b) => {
            let mut body = String::with_capacity(8192);
            let path = match &b {
                Browse::Directory(l) => &l.path,
                Browse::File(f) => &f.path,
            };
            heading(&mut body, path, &q);
            match &b {
                Browse::Directory(l) => render_listing(&mut body, l, &q),
                Browse::File(f) => render_file(&mut body, f, &q),
            }
            html(StatusCode::OK, page(&format!("browse {path}"), &nav(&address), &body))
        }
        Err(e) => error_page(&address, q.path.as_str(), e.status, &e.message),
    }
}

/// A link to browse `path`, keeping the query's user.
fn href(path: &str, q: &Query) -> String {
    format!("/browse?path={}{}", url_query(path), q.user_suffix())
}

/// The path as links to each ancestor, and a form to go elsewhere.
fn heading(out: &mut String, path: &str, q: &Query) {
    let _ = write!(out, "<h2>Browse <span id=\"path\" class=\"mono\">{}</span></h2>\n<nav id=\"crumbs\">", esc(path));
    let _ = write!(out, "<a href=\"{}\">/</a>", esc(&href("/", q)));
    let mut so_far = String::new();
    for (i, c) in path.split('/').filter(|c| !c.is_empty()).enumerate() {
        so_far.push('/');
        so_far.push_str(c);
        let sep = if i == 0 { "" } else { " / " };
        let _ = write!(out, "{sep}<a href=\"{}\">{}</a>", esc(&href(&so_far, q)), esc(c));
    }
    let _ = write!(
        out,
        "</nav>\n<form action=\"/browse\" method=\"get\"><input type=\"text\" name=\"path\" value=\"{}\" \
         aria-label=\"path\"> <button type=\"submit\">Go</button></form>\n",
        esc(path)
    );
    if let Some(u) = &q.user {
        let _ = writeln!(out, "<p class=\"muted\">Reading as <span class=\"mono\">{}</span>.</p>", esc(u));
    }
}

fn render_listing(out: &mut String, l: &Listing, q: &Query) {
    out.push_str(
        "<table id=\"listing\"><thead><tr><th>Name</th><th>Permission</th><th>Owner</th><th>Group</th>\
         <th class=\"n\">Size</th><th class=\"n\">Replication</th><th class=\"n\">Block size</th>\
         <th>Modified</th></tr></thead>\n<tbody>\n",
    );
    if let Some(parent) = &l.parent {
        let _ = writeln!(
            out,
            "<tr class=\"parent\"><td colspan=\"8\"><a href=\"{}\">..</a></td></tr>",
            esc(&href(parent, q))
        );
    }
    for e in &l.entries {
        let dir = e.kind == "directory";
        let (size, replication, block_size) = if dir {
            (format!("{} entries", e.children), String::new(), String::new())
        } else {
            (format_size(e.length), e.replication.to_string(), format_size(e.block_size))
        };
        let marker = if dir { "d" } else { "-" };
        let writing = if e.under_construction { " <span class=\"muted\">(being written)</span>" } else { "" };
        let _ = writeln!(
            out,
            "<tr class=\"entry\" data-type=\"{}\" data-name=\"{}\"><td><a class=\"name\" href=\"{}\">{}{}</a>{writing}</td>\
             <td class=\"mono\">{marker}{}</td><td>{}</td><td>{}</td><td class=\"n\" data-bytes=\"{}\">{size}</td>\
             <td class=\"n\">{replication}</td><td class=\"n\">{block_size}</td><td class=\"mono\">{}</td></tr>",
            e.kind,
            esc(&e.name),
            esc(&href(&e.path, q)),
            esc(&e.name),
            if dir { "/" } else { "" },
            esc(&e.permission),
            esc(&e.owner),
            esc(&e.group),
            e.length,
            utc(e.modified_ms),
        );
    }
    if l.entries.is_empty() {
        out.push_str("<tr><td colspan=\"8\" class=\"muted\">empty directory</td></tr>\n");
    }
    out.push_str("</tbody></table>\n");
    if let Some(after) = &l.next_after {
        let next = format!("{}&after={}", href(&l.path, q), url_query(after));
        let _ = writeln!(out, "<p><a id=\"next-page\" href=\"{}\">next {} entries…</a></p>", esc(&next), l.remaining);
    }
}

fn render_file(out: &mut String, f: &FileView, q: &Query) {
    let s = &f.status;
    let _ = writeln!(
        out,
        "<dl class=\"grid\" id=\"file\"><dt>Size</dt><dd id=\"length\" data-bytes=\"{}\">{}</dd>\
         <dt>Replication</dt><dd id=\"replication\">{}</dd><dt>Block size</dt><dd>{}</dd>\
         <dt>Owner</dt><dd>{}</dd><dt>Group</dt><dd>{}</dd><dt>Permission</dt><dd class=\"mono\">-{}</dd>\
         <dt>Modified</dt><dd>{}</dd><dt>Being written</dt><dd>{}</dd></dl>",
        s.length,
        format_size(s.length),
        s.replication,
        format_size(s.block_size),
        esc(&s.owner),
        esc(&s.group),
        esc(&s.permission),
        utc(s.modified_ms),
        if s.under_construction { "yes" } else { "no" },
    );
    let _ = writeln!(
        out,
        "<p><a id=\"download\" href=\"{}\">Download {}</a> <span class=\"muted\">(WebHDFS OPEN: redirected to a \
         datanode holding the data)</span></p>",
        esc(&f.download),
        esc(&s.name)
    );
    if let Some(parent) = &f.parent {
        let _ = writeln!(out, "<p><a id=\"up\" href=\"{}\">back to the directory</a></p>", esc(&href(parent, q)));
    }
    let _ = write!(
        out,
        "<h2>Blocks <span class=\"muted\">({})</span></h2>\n<table id=\"blocks\"><thead><tr><th>Block</th>\
         <th class=\"n\">Generation</th><th class=\"n\">Offset</th><th class=\"n\">Length</th><th>Replicas</th>\
         </tr></thead>\n<tbody>\n",
        f.blocks.len()
    );
    for b in &f.blocks {
        let mut replicas = String::new();
        for r in &b.replicas {
            let sep = if replicas.is_empty() { "" } else { ", " };
            let _ = if r.http_address.is_empty() {
                write!(replicas, "{sep}<span class=\"replica mono\">{}</span>", esc(&r.address))
            } else {
                write!(
                    replicas,
                    "{sep}<a class=\"replica mono\" href=\"{}://{}/\">{}</a>",
                    hdfs_proto::tls::scheme(),
                    esc(&r.http_address),
                    esc(&r.address)
                )
            };
        }
        if replicas.is_empty() {
            replicas = "<span class=\"bad\">no live replica</span>".into();
        }
        let state = if b.complete { "" } else { " <span class=\"muted\">(being written)</span>" };
        let _ = writeln!(
            out,
            "<tr class=\"block\" data-block-id=\"{id}\" data-replicas=\"{}\"><td class=\"mono\">blk_{id}{state}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\" data-bytes=\"{len}\">{}</td><td>{replicas}</td></tr>",
            b.replicas.len(),
            b.generation_stamp,
            b.offset,
            format_size(b.length),
            id = b.block_id,
            len = b.length,
        );
    }
    if f.blocks.is_empty() {
        out.push_str("<tr><td colspan=\"5\" class=\"muted\">no blocks (an empty file)</td></tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// A browse that failed: the path, and why, with the status WebHDFS would answer.
fn error_page(address: &str, path: &str, status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h2>Browse <span id=\"path\" class=\"mono\">{}</span></h2>\n<p class=\"note\" id=\"error\">{}</p>\n\
         <p><a href=\"/browse?path=%2F\">back to /</a></p>\n",
        esc(path),
        esc(message)
    );
    html(status, page(&format!("browse {path}: error"), &nav(address), &body))
}

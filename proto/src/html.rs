//! The status pages' small shared parts (the namenode's `/` and `/browse`, each datanode's `/`):
//! escaping for HTML and URLs, the page skeleton with its inline style, the JSON answer of the
//! `/api/...` endpoints, and the formats people read (UTC times, ages).
//!
//! The pages are rendered on the server, with no script and nothing fetched from anywhere else
//! (a user's browser reaches only the cluster): the style is inline, the icon is empty, and the
//! `Content-Security-Policy` header forbids scripts and any other source outright.
//!
//! Every string a user controls (file names above all) goes through [`esc`] into text or an
//! attribute, and through [`url_path`] or [`url_query`] into a link.

use std::borrow::Cow;
use std::fmt::{self, Display};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// `s` with `& < > " '` replaced by entities: safe as element text and as a quoted attribute.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape`] as a `Display`, for `format!` and `write!` without an intermediate string.
pub struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.0))
    }
}

/// Shorthand for [`Esc`].
pub fn esc(s: &str) -> Esc<'_> {
    Esc(s)
}

/// Everything but letters, digits and `-._~` is percent-encoded in a query value.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// The same in a path, where `/` separates components and stays.
const PATH: &AsciiSet = &QUERY.remove(b'/');

/// `s` as one query value (`?path=...`): `&`, `=`, `+`, `#`, `%` and the rest encoded.
pub fn url_query(s: &str) -> String {
    utf8_percent_encode(s, QUERY).to_string()
}

/// An absolute file system path as a URL path (`/webhdfs/v1` + this).
pub fn url_path(s: &str) -> String {
    utf8_percent_encode(s, PATH).to_string()
}

/// The pages' style: small, readable, no web fonts.
pub const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2530;background:#f5f7fa}\
header{background:#22313f;color:#fff;padding:.6em 1.2em;display:flex;gap:1.5em;align-items:baseline;flex-wrap:wrap}\
header a{color:#cfe3ff;text-decoration:none}header strong{font-size:1.15em}\
main{padding:1em 1.2em;max-width:1400px}\
h2{font-size:1.1em;margin:1.4em 0 .5em}\
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0002;margin-bottom:.5em}\
th,td{padding:.3em .7em;border-bottom:1px solid #e3e7ec;text-align:left;vertical-align:top}\
th{background:#eef1f5;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
dl.grid{display:grid;grid-template-columns:max-content auto max-content auto;gap:.25em 1em;background:#fff;\
padding:.8em 1em;box-shadow:0 1px 2px #0002;max-width:1000px}dl.grid dt{color:#566}dl.grid dd{margin:0}\
.live{color:#17692f}.stale{color:#9a6700}.dead{color:#b42318;font-weight:600}\
.decommissioning,.decommissioned{color:#6941c6}.bad{color:#b42318;font-weight:600}.ok{color:#17692f}\
.muted{color:#667}.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em .8em;max-width:1000px}\
code,.mono{font-family:ui-monospace,'SFMono-Regular',Menlo,monospace;font-size:.95em}\
form{margin:.5em 0}input[type=text]{width:32em;font:inherit;padding:.2em .4em}\
";

/// A whole page: `title` (escaped here) and `body`, already HTML.
pub fn page(title: &str, nav: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\"><title>{}</title><style>{STYLE}</style></head>\n\
         <body><header>{nav}</header>\n<main>\n{body}</main></body></html>\n",
        esc(title)
    )
}

/// What the pages forbid the browser: any script, and any source but the page itself (the
/// style is inline, the icon a `data:` URL).
const POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'";

/// An HTML answer with the pages' headers.
pub fn html(status: StatusCode, text: String) -> Response {
    let mut r = (status, text).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A JSON answer of an `/api/...` endpoint.
pub fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(mut body) => {
            body.push(b'\n');
            let mut r = (status, body).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot encode the answer: {e}\n")).into_response(),
    }
}

/// An `/api/...` error: `{"error": message}` with `status`.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    json(status, &serde_json::json!({ "error": message }))
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    unix_ms(SystemTime::now())
}

/// `2026-12-02 16:24:37 UTC` for a time in milliseconds since the Unix epoch.
pub fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest / 60 % 60, rest % 60)
}

/// A short span for people: `850 ms`, `4.2 s`, `3 min 5 s`, `2 h 4 min`, `3 d 2 h`.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{} ms", d.as_millis()),
        1..60 => format!("{:.1} s", d.as_secs_f64()),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s / 60 % 60),
        _ => format!("{} d {} h", s / 86_400, s / 3600 % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_render_as_text() {
        assert_eq!(escape("plain name.txt"), "plain name.txt");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(escape("a&b \"q\" 'x'"), "a&amp;b &quot;q&quot; &#39;x&#39;");
        assert_eq!(format!("<td>{}</td>", esc("<b>&")), "<td>&lt;b&gt;&amp;</td>");
    }

    #[test]
    fn names_in_links_are_percent_encoded() {
        assert_eq!(url_query("/dir/a&b \"q\""), "%2Fdir%2Fa%26b%20%22q%22");
        assert_eq!(url_query("x+y=z#%?"), "x%2By%3Dz%23%25%3F");
        assert_eq!(url_path("/dir/<script>/é"), "/dir/%3Cscript%3E/%C3%A9");
        assert_eq!(url_path("/a b/c?d#e"), "/a%20b/c%3Fd%23e");
        // What the WebHDFS parameters decode back.
        let p = crate::webhdfs::Params::parse(Some(&format!("path={}", url_query("/a+b&c=d e"))));
        assert_eq!(p.get("path"), Some("/a+b&c=d e"));
    }

    #[test]
    fn times_and_spans() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_229_877_123), "2026-12-02 16:44:37 UTC");
        assert_eq!(span(Duration::from_millis(850)), "850 ms");
        assert_eq!(span(Duration::from_millis(4_200)), "4.2 s");
        assert_eq!(span(Duration::from_secs(185)), "3 min 5 s");
        assert_eq!(span(Duration::from_secs(2 * 3600 + 240)), "2 h 4 min");
        assert_eq!(span(Duration::from_secs(3 * 86_400 + 7200)), "3 d 2 h");
    }
}

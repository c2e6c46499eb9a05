//! What the configuration's values mean: `fs.defaultFS` and `hdfs://AUTHORITY` as the namenode
//! URLs the client connects to (a nameservice, Hadoop's HA form, as the list of its members:
//! `dfs.nameservices`, `dfs.ha.namenodes.NS`, `dfs.namenode.rpc-address.NS.NN`), and Hadoop's
//! sizes (`dfs.blocksize`).

use hdfs_proto::units::parse_size;

use super::{ConfError, Configuration};

/// Hadoop's namenode RPC port, for addresses that name none.
const DEFAULT_PORT: &str = "8020";

/// The namenode URL(s) that `uri` (the value of `fs.defaultFS`) names.
pub(super) fn default_fs_url(conf: &Configuration, uri: &str) -> Result<String, ConfError> {
    let bad = |what: String| conf.bad("fs.defaultFS", what);
    // A URL as `--namenode` takes it: what `-fs http://…` has always meant here.
    if uri.starts_with("http://") || uri.starts_with("https://") {
        return Ok(uri.to_string());
    }
    let authority = authority(uri).map_err(bad)?;
    let (host, port) = split_port(authority);
    if is_nameservice(conf, host)? {
        if let Some(port) = port {
            return Err(bad(format!("{host} is a nameservice (HA): its URI takes no port (:{port})")));
        }
        return members(conf, host);
    }
    address_url(authority).map_err(bad)
}

/// Every nameservice (those of `dfs.nameservices`, and `fs.defaultFS`'s) with its members'
/// URLs; those that do not resolve are left out (they are said when used as `fs.defaultFS`).
pub(super) fn nameservices(conf: &Configuration) -> Vec<(String, String)> {
    let mut names: Vec<String> = conf.get("dfs.nameservices").ok().flatten().map(|v| list(&v)).unwrap_or_default();
    if let Ok(Some(uri)) = conf.get_trimmed("fs.defaultFS")
        && let Ok(authority) = authority(&uri)
    {
        names.push(authority.to_string());
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for ns in names {
        if out.iter().any(|(n, _)| *n == ns) || !is_nameservice(conf, &ns).unwrap_or(false) {
            continue;
        }
        if let Ok(url) = members(conf, &ns) {
            out.push((ns, url));
        }
    }
    out
}

/// Whether `name` is a nameservice rather than a host: listed in `dfs.nameservices`, or with
/// members (`dfs.ha.namenodes.NAME`).
fn is_nameservice(conf: &Configuration, name: &str) -> Result<bool, ConfError> {
    if conf.get(&format!("dfs.ha.namenodes.{name}"))?.is_some() {
        return Ok(true);
    }
    Ok(conf.get("dfs.nameservices")?.is_some_and(|v| list(&v).iter().any(|n| n == name)))
}

/// `http://HOST:PORT,…` of the namenodes of nameservice `ns`: each of `dfs.ha.namenodes.NS` at
/// its `dfs.namenode.rpc-address.NS.NN`; or, with no HA, `dfs.namenode.rpc-address.NS`.
fn members(conf: &Configuration, ns: &str) -> Result<String, ConfError> {
    let ids_key = format!("dfs.ha.namenodes.{ns}");
    let Some(ids) = conf.get(&ids_key)? else {
        let key = format!("dfs.namenode.rpc-address.{ns}");
        return match conf.get_trimmed(&key)? {
            Some(addr) => address_url(&addr).map_err(|what| conf.bad(&key, what)),
            None => Err(conf.bad(
                "dfs.nameservices",
                format!(
                    "nameservice {ns} has no namenodes: set dfs.ha.namenodes.{ns} and dfs.namenode.rpc-address.{ns}.ID"
                ),
            )),
        };
    };
    let ids = list(&ids);
    if ids.is_empty() {
        return Err(conf.bad(&ids_key, "names no namenode".into()));
    }
    let mut urls = Vec::with_capacity(ids.len());
    for id in ids {
        let key = format!("dfs.namenode.rpc-address.{ns}.{id}");
        let Some(addr) = conf.get_trimmed(&key)? else {
            return Err(conf.bad(&ids_key, format!("{key} is not set")));
        };
        urls.push(address_url(&addr).map_err(|what| conf.bad(&key, what))?);
    }
    Ok(urls.join(","))
}

/// A comma-separated list, entries trimmed, empty ones dropped (Hadoop's `getTrimmedStrings`).
fn list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The authority of `hdfs://AUTHORITY[/path]`, or of Hadoop's old spelling `HOST:PORT`.
fn authority(uri: &str) -> Result<&str, String> {
    let rest = match uri.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("hdfs") => rest,
        Some((scheme, _)) => return Err(format!("only hdfs:// file systems are served here, not {scheme}://")),
        None => uri,
    };
    match rest.split('/').next() {
        Some(a) if !a.is_empty() => Ok(a),
        _ => Err("names no namenode (hdfs://HOST:PORT or hdfs://NAMESERVICE)".into()),
    }
}

/// `HOST` and its port, if any (`[::1]:8020` too).
fn split_port(authority: &str) -> (&str, Option<&str>) {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') && !host.is_empty() => (host, Some(port)),
        _ => (authority, None),
    }
}

/// `HOST[:PORT]` as `http://HOST:PORT`.
fn address_url(addr: &str) -> Result<String, String> {
    let (host, port) = split_port(addr);
    if host.is_empty() || host.contains(['/', ' ', ',']) {
        return Err(format!("{addr:?} is not HOST:PORT"));
    }
    match port {
        None => Ok(format!("http://{host}:{DEFAULT_PORT}")),
        Some(p) if p.parse::<u16>().is_ok_and(|p| p > 0) => Ok(format!("http://{host}:{p}")),
        Some(p) => Err(format!("{p:?} is not a port")),
    }
}

/// A block size as Hadoop writes it (`StringUtils.TraditionalBinaryPrefix.string2long`): bytes,
/// or a whole number with one of the suffixes k m g t p e (case-insensitive, powers of 1024);
/// `64MiB`, `1.5g` as `--block-size` takes them are accepted too.
pub fn parse_block_size(v: &str) -> Result<u64, String> {
    let s = v.trim();
    let Some(last) = s.chars().last() else { return Err("empty, not a size".into()) };
    let shift = match last.to_ascii_lowercase() {
        c if c.is_ascii_digit() => 0,
        'k' => 10,
        'm' => 20,
        'g' => 30,
        't' => 40,
        'p' => 50,
        'e' => 60,
        _ => {
            return parse_size(s).map_err(|_| {
                format!(
                    "Invalid size prefix '{last}' in '{s}'. Allowed prefixes are k, m, g, t, p, e(case insensitive)"
                )
            });
        }
    };
    let digits = if shift == 0 { s } else { &s[..s.len() - 1] };
    let bytes = match digits.parse::<u64>() {
        Ok(n) => {
            n.checked_mul(1 << shift).filter(|b| *b <= i64::MAX as u64).ok_or(format!("{s} does not fit in a Long"))?
        }
        Err(_) => parse_size(s).map_err(|_| format!("{s:?} is not a size (bytes, or e.g. 128m, 1g)"))?,
    };
    if bytes == 0 {
        return Err("a block size must be more than 0".into());
    }
    Ok(bytes)
}

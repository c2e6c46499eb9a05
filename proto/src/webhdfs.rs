//! WebHDFS's wire conventions, shared by the namenode and the datanodes: the path and query as
//! Hadoop reads them, and errors as `RemoteException` JSON with Hadoop's status codes
//! (`web/resources/ExceptionHandler.java`).
//!
//! What real clients send shapes the parsing: parameter names in any case (Hadoop's
//! `ParamFilter` lower-cases them), booleans as `True`/`False` (HdfsCLI), a parameter given
//! twice (HdfsCLI's `user.name`; the first counts), parameters we do not know (fsspec's
//! `tempdir`; ignored), and empty values meaning "not given".

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::path::HdfsPath;

/// Where WebHDFS lives on an HTTP port.
pub const PREFIX: &str = "/webhdfs/v1";

/// The query of a WebHDFS request.
#[derive(Debug, Default, Clone)]
pub struct Params {
    /// Lower-cased names and decoded values, in the order given.
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        let mut pairs = Vec::new();
        for part in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(k).to_ascii_lowercase(), decode(v)));
        }
        Params { pairs }
    }

    /// The first value given for `name` (lower case), unless empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// The operation, upper-cased.
    pub fn op(&self) -> Result<String, RemoteError> {
        self.get("op")
            .map(str::to_ascii_uppercase)
            .ok_or_else(|| RemoteError::illegal_argument("Invalid value for webhdfs parameter \"op\": null"))
    }

    /// `user.name`: who calls, in Hadoop's simple authentication.
    pub fn user(&self) -> Option<&str> {
        self.get("user.name")
    }

    pub fn bool(&self, name: &str, default: bool) -> Result<bool, RemoteError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(invalid(name, v, "a boolean (true or false)")),
        }
    }

    pub fn u64(&self, name: &str) -> Result<Option<u64>, RemoteError> {
        self.get(name).map(|v| v.parse().map_err(|_| invalid(name, v, "a non-negative integer"))).transpose()
    }

    pub fn i64(&self, name: &str) -> Result<Option<i64>, RemoteError> {
        self.get(name).map(|v| v.parse().map_err(|_| invalid(name, v, "an integer"))).transpose()
    }

    /// A required parameter.
    pub fn required(&self, name: &str) -> Result<&str, RemoteError> {
        self.get(name)
            .ok_or_else(|| RemoteError::illegal_argument(format!("Required param {name} for op is null or empty")))
    }

    /// A permission as Hadoop spells it: octal, 0 to 1777.
    pub fn permission(&self, name: &str) -> Result<Option<u16>, RemoteError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        match u16::from_str_radix(v, 8) {
            Ok(m) if v.len() <= 4 && m <= 0o1777 => Ok(Some(m)),
            _ => Err(invalid(name, v, "an octal permission from 0 to 1777")),
        }
    }

    /// The pairs as a query string, encoded again (for the URLs a redirect names).
    pub fn encode(pairs: &[(&str, String)]) -> String {
        let mut out = String::new();
        for (k, v) in pairs {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.extend(utf8_percent_encode(v, QUERY_VALUE));
        }
        out
    }
}

/// Characters escaped in a query value.
const QUERY_VALUE: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'&').add(b'+').add(b'=').add(b'<').add(b'>');
/// Characters escaped in a path.
const PATH: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'?').add(b'<').add(b'>').add(b'`').add(b'{').add(b'}');

fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

fn invalid(name: &str, value: &str, what: &str) -> RemoteError {
    RemoteError::illegal_argument(format!("Invalid value for webhdfs parameter \"{name}\": \"{value}\" is not {what}"))
}

/// The file system path of a request to `/webhdfs/v1/...`.
pub fn path(uri_path: &str) -> Result<HdfsPath, RemoteError> {
    let rest = uri_path.strip_prefix(PREFIX).unwrap_or(uri_path);
    let decoded = percent_decode_str(rest)
        .decode_utf8()
        .map_err(|_| RemoteError::illegal_argument(format!("{uri_path}: the path is not UTF-8")))?;
    let p = if decoded.is_empty() { "/" } else { &decoded };
    HdfsPath::parse(p).map_err(|e| RemoteError::illegal_argument(format!("Invalid path: {e}")))
}

/// `path` as it goes into a URL.
pub fn encode_path(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// A failed WebHDFS call: Hadoop's status code and `RemoteException` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteError {
    pub status: StatusCode,
    /// The Java exception's simple name (`FileNotFoundException`).
    pub exception: &'static str,
    pub message: String,
}

impl RemoteError {
    pub fn new(status: StatusCode, exception: &'static str, message: impl Into<String>) -> Self {
        RemoteError { status, exception, message: message.into() }
    }

    /// Bad or missing parameters: 400.
    pub fn illegal_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "IllegalArgumentException", message)
    }

    /// A Hadoop operation this server does not offer: 400.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "UnsupportedOperationException", message)
    }

    /// 404; HdfsCLI looks for "does not exist" in the message.
    pub fn file_not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "FileNotFoundException", message)
    }

    pub fn access_control(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessControlException", message)
    }

    /// Every other `IOException` Hadoop answers with 403 (`FileAlreadyExistsException`,
    /// `StandbyException`, `SafeModeException`, ...).
    pub fn io(exception: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, exception, message)
    }

    /// A failure of ours, not the request's: 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "IOException", message)
    }

    /// The fully qualified Java class Hadoop names in `javaClassName`.
    pub fn java_class(&self) -> String {
        let package = match self.exception {
            "IllegalArgumentException" | "UnsupportedOperationException" | "SecurityException" => "java.lang",
            "FileNotFoundException" | "IOException" => "java.io",
            "AccessControlException" => "org.apache.hadoop.security",
            "StandbyException" | "RetriableException" => "org.apache.hadoop.ipc",
            "SafeModeException" => "org.apache.hadoop.hdfs.server.namenode",
            "AlreadyBeingCreatedException" | "RecoveryInProgressException" => "org.apache.hadoop.hdfs.protocol",
            "LeaseExpiredException" => "org.apache.hadoop.hdfs.server.namenode",
            "HadoopIllegalArgumentException" => "org.apache.hadoop",
            _ => "org.apache.hadoop.fs",
        };
        format!("{package}.{}", self.exception)
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"RemoteException": {
            "exception": self.exception,
            "javaClassName": self.java_class(),
            "message": self.message,
        }})
    }
}

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.exception, self.message)
    }
}

impl IntoResponse for RemoteError {
    fn into_response(self) -> Response {
        let mut r = json(self.status, &self.body());
        // An error ends the exchange: a client that sent a body we did not read cannot reuse
        // the connection.
        r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        r
    }
}

/// A JSON answer.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// Hadoop's operations we do not offer, so a call naming one says "not supported" rather than
/// "no such operation".
pub const UNSUPPORTED_OPS: &[&str] = &[
    "CREATESYMLINK",
    "GETACLSTATUS",
    "SETACL",
    "MODIFYACLENTRIES",
    "REMOVEACLENTRIES",
    "REMOVEDEFAULTACL",
    "REMOVEACL",
    "GETXATTRS",
    "SETXATTR",
    "REMOVEXATTR",
    "LISTXATTRS",
    "CREATESNAPSHOT",
    "DELETESNAPSHOT",
    "RENAMESNAPSHOT",
    "GETSNAPSHOTDIFF",
    "GETSNAPSHOTTABLEDIRECTORYLIST",
    "GETDELEGATIONTOKEN",
    "RENEWDELEGATIONTOKEN",
    "CANCELDELEGATIONTOKEN",
    "GETFILEBLOCKLOCATIONS",
    "GET_BLOCK_LOCATIONS",
    "SETSTORAGEPOLICY",
    "UNSETSTORAGEPOLICY",
    "GETSTORAGEPOLICY",
    "GETALLSTORAGEPOLICY",
    "SETQUOTA",
    "SETQUOTABYSTORAGETYPE",
    "GETQUOTAUSAGE",
    "ALLOWSNAPSHOT",
    "DISALLOWSNAPSHOT",
    "ENABLEECPOLICY",
    "SETECPOLICY",
    "GETECPOLICY",
    "CHECKACCESS",
    "GETTRASHROOT",
    "GETSERVERDEFAULTS",
    "GETSTATUS",
    "GETLINKTARGET",
    "GETFILELINKSTATUS",
];

/// The answer to an operation name: unsupported (one of Hadoop's) or unknown.
pub fn unknown_op(method: &str, op: &str) -> RemoteError {
    if UNSUPPORTED_OPS.contains(&op) {
        RemoteError::unsupported(format!("Operation {op} is not supported by this file system"))
    } else {
        RemoteError::illegal_argument(format!(
            "Invalid value for webhdfs parameter \"op\": {op} is not a valid {method} operation"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_as_real_clients_send_them() {
        let p = Params::parse(Some("OP=create&overwrite=False&user.name=a&user.name=a&tempdir=%2Ftmp&length=&x"));
        assert_eq!(p.op().unwrap(), "CREATE");
        assert!(!p.bool("overwrite", true).unwrap());
        assert_eq!(p.user(), Some("a"));
        assert_eq!(p.get("tempdir"), Some("/tmp"));
        assert_eq!(p.u64("length").unwrap(), None);
        assert!(p.bool("x", false).is_ok());
        assert_eq!(Params::parse(Some("recursive=TRUE")).bool("recursive", false), Ok(true));
        assert_eq!(Params::parse(Some("recursive=yes")).bool("recursive", false).unwrap_err().status, 400);
    }

    #[test]
    fn permissions_are_octal_up_to_1777() {
        let perm = |v: &str| Params::parse(Some(&format!("permission={v}"))).permission("permission");
        assert_eq!(perm("644"), Ok(Some(0o644)));
        assert_eq!(perm("1777"), Ok(Some(0o1777)));
        assert_eq!(perm("0755"), Ok(Some(0o755)));
        for bad in ["2000", "778", "rwx", "-1", "17777"] {
            assert_eq!(perm(bad).unwrap_err().exception, "IllegalArgumentException", "{bad}");
        }
    }

    #[test]
    fn paths_are_decoded_and_validated() {
        assert_eq!(path("/webhdfs/v1").unwrap().as_str(), "/");
        assert_eq!(path("/webhdfs/v1/").unwrap().as_str(), "/");
        assert_eq!(path("/webhdfs/v1/a%20b/c").unwrap().as_str(), "/a b/c");
        assert!(path("/webhdfs/v1/a/../b").is_err());
        assert!(path("/webhdfs/v1/a//b").is_err());
        assert_eq!(encode_path("/a b/c?d"), "/a%20b/c%3Fd");
    }

    #[test]
    fn errors_name_their_java_class() {
        let e = RemoteError::file_not_found("File does not exist: /x");
        assert_eq!(e.body()["RemoteException"]["javaClassName"], "java.io.FileNotFoundException");
        assert_eq!(RemoteError::io("StandbyException", "").java_class(), "org.apache.hadoop.ipc.StandbyException");
        assert_eq!(unknown_op("GET", "GETXATTRS").exception, "UnsupportedOperationException");
        assert_eq!(unknown_op("GET", "FOO").exception, "IllegalArgumentException");
    }
}

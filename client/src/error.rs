//! The client's errors. Messages are one line and name what was wrong; the `hdfs` command prints
//! them as they are.

use hdfs_proto::path::PathError;
use tonic::{Code, Status};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    InvalidPath(#[from] PathError),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// The operation does not fit the current state (not empty, is a directory, lease held…).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The caller may not do this: `Permission denied: user=bob, access=WRITE, inode=...`.
    #[error("{0}")]
    PermissionDenied(String),
    /// A server could not be reached or is overloaded; retrying later may work.
    #[error("{0}")]
    Unavailable(String),
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    /// Bytes failed their checksum and no good replica was left.
    #[error("{0}")]
    DataLoss(String),
    /// Any other answer from a server.
    #[error("{message} ({code:?})")]
    Remote { code: Code, message: String },
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

impl From<Status> for Error {
    fn from(s: Status) -> Self {
        let message = s.message().to_string();
        match s.code() {
            Code::InvalidArgument | Code::OutOfRange => Error::InvalidArgument(message),
            Code::NotFound => Error::NotFound(message),
            Code::AlreadyExists => Error::AlreadyExists(message),
            Code::FailedPrecondition => Error::FailedPrecondition(message),
            Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => {
                Error::Unavailable(if message.is_empty() { "service unavailable".into() } else { message })
            }
            Code::DataLoss => Error::DataLoss(message),
            Code::PermissionDenied => Error::PermissionDenied(message),
            code => Error::Remote { code, message },
        }
    }
}

/// Lets typed errors travel through `AsyncRead`/`AsyncWrite` and come back out.
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io { source, .. } => source,
            e => std::io::Error::other(e),
        }
    }
}

/// Recovers a typed error from an `io::Error` made by this crate.
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            return *e.into_inner().expect("checked").downcast::<Error>().expect("checked");
        }
        Error::Io { context: "i/o".into(), source: e }
    }
}

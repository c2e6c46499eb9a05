//! WebHDFS's data operations, as the namenode's redirects name them: `CREATE` (PUT, 201),
//! `APPEND` (POST, 200), `OPEN` (GET, the bytes) and `GETFILECHECKSUM`.
//!
//! Bodies stream through in bounded memory both ways: a request body is written to the
//! pipeline as it arrives (the writer's window applies back-pressure); a file is sent as the
//! reader fetches it. A client that goes away mid-upload leaves the file under construction,
//! unclosed, and its lease is recovered as any dead writer's; one that sends nothing for
//! `BODY_IDLE_TIMEOUT` is treated the same.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hdfs_client::{Client, CreateOptions, Error as ClientError};
use hdfs_proto::http::BODY_IDLE_TIMEOUT;
use hdfs_proto::path::HdfsPath;
use hdfs_proto::webhdfs::{self, Params, RemoteError, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::Web;

pub(super) async fn handle(State(web): State<Web>, req: Request) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_string();
    let (parts, body) = req.into_parts();
    let params = Params::parse(parts.uri.query());
    let answer = async {
        let path = webhdfs::path(parts.uri.path())?;
        let op = params.op()?;
        let user = params.user().ok_or_else(|| RemoteError::illegal_argument("user.name: missing"))?;
        // A request this port does not serve is refused before any connection is made.
        if !matches!(
            (&parts.method, op.as_str()),
            (&Method::PUT, "CREATE") | (&Method::POST, "APPEND") | (&Method::GET, "OPEN" | "GETFILECHECKSUM")
        ) {
            return Err(webhdfs::unknown_op(parts.method.as_str(), &op));
        }
        let client = Client::connect_as(&web.namenodes, user).await.map_err(|e| remote(e, &path))?;
        let call = Call { client, params: &params, path: &path };
        match op.as_str() {
            "CREATE" => call.create(body, &host).await,
            "APPEND" => call.append(body).await,
            "OPEN" => call.open().await,
            _ => call.checksum().await,
        }
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

type Answer = Result<Response, RemoteError>;

struct Call<'a> {
    client: Client,
    params: &'a Params,
    path: &'a HdfsPath,
}

impl Call<'_> {
    async fn create(&self, body: Body, host: &str) -> Answer {
        let mut opts = CreateOptions::default().overwrite(self.params.bool("overwrite", false)?).create_parent(true);
        if let Some(r) = self.params.u64("replication")? {
            opts = opts.replication(u32::try_from(r).unwrap_or(u32::MAX));
        }
        if let Some(b) = self.params.u64("blocksize")? {
            opts = opts.block_size(b);
        }
        // HDFS's WebHDFS default: 644, no umask.
        opts = opts.permission(self.params.permission("permission")?.unwrap_or(0o644));
        let mut w = self.client.create(self.path.as_str(), opts).await.map_err(|e| remote(e, self.path))?;
        copy_body(body, &mut w).await?;
        w.close().await.map_err(|e| remote(e, self.path))?;
        let nn = self.params.get("namenoderpcaddress").unwrap_or(host);
        let location = format!("webhdfs://{nn}{}", webhdfs::encode_path(self.path.as_str()));
        let location = HeaderValue::from_str(&location).map_err(|e| RemoteError::internal(e.to_string()))?;
        Ok((
            StatusCode::CREATED,
            [(header::LOCATION, location), (header::CONTENT_LENGTH, HeaderValue::from_static("0"))],
        )
            .into_response())
    }

    async fn append(&self, body: Body) -> Answer {
        let mut w = self.client.append(self.path.as_str()).await.map_err(|e| remote(e, self.path))?;
        copy_body(body, &mut w).await?;
        w.close().await.map_err(|e| remote(e, self.path))?;
        Ok((StatusCode::OK, [(header::CONTENT_LENGTH, HeaderValue::from_static("0"))]).into_response())
    }

    /// OPEN: `length` bytes (to the end if not given) from `offset`, fetched while sent.
    async fn open(&self) -> Answer {
        let offset = self.params.u64("offset")?.unwrap_or(0);
        let mut reader = self.client.open_at(self.path.as_str(), offset).await.map_err(|e| remote(e, self.path))?;
        let available = reader.len().saturating_sub(offset);
        let length = self.params.u64("length")?.map_or(available, |l| l.min(available));
        let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        let path = self.path.clone();
        tokio::spawn(async move {
            let mut left = length;
            while left > 0 {
                let chunk = match reader.next_chunk().await {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(%path, error = %e, "webhdfs OPEN failed mid-stream");
                        let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                        return;
                    }
                };
                let chunk = chunk.slice(..chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX)));
                left -= chunk.len() as u64;
                if tx.send(Ok(chunk)).await.is_err() {
                    return; // the client went away
                }
            }
        });
        Ok((
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
                (header::CONTENT_LENGTH, HeaderValue::from(length)),
            ],
            Body::from_stream(ReceiverStream::new(rx)),
        )
            .into_response())
    }

    async fn checksum(&self) -> Answer {
        let c = self.client.checksum(self.path.as_str()).await.map_err(|e| remote(e, self.path))?;
        Ok(json(
            StatusCode::OK,
            &serde_json::json!({"FileChecksum": {"algorithm": c.algorithm, "bytes": c.hex(), "length": c.bytes().len()}}),
        ))
    }
}

/// Writes the request body to `w` as it arrives. An error (the client went away, or sent
/// nothing for too long) returns before `w` is closed, so the file is not completed.
async fn copy_body(body: Body, w: &mut hdfs_client::FileWriter) -> Result<(), RemoteError> {
    use tokio::io::AsyncWriteExt;
    use tokio_stream::StreamExt;
    let mut body = body.into_data_stream();
    loop {
        let next = tokio::time::timeout(BODY_IDLE_TIMEOUT, body.next()).await;
        let chunk = match next {
            Err(_) => return Err(RemoteError::io("IOException", "request body: nothing received for too long")),
            Ok(None) => return Ok(()),
            Ok(Some(Err(e))) => return Err(RemoteError::io("IOException", format!("request body: {e}"))),
            Ok(Some(Ok(c))) => c,
        };
        w.write_all(&chunk).await.map_err(|e| RemoteError::io("IOException", e.to_string()))?;
    }
}

/// Hadoop's exception for a client library error on `path`.
fn remote(e: ClientError, path: &HdfsPath) -> RemoteError {
    match e {
        ClientError::NotFound(_) => RemoteError::file_not_found(format!("File does not exist: {path}")),
        ClientError::AlreadyExists(_) => {
            RemoteError::io("FileAlreadyExistsException", format!("{path} already exists"))
        }
        ClientError::PermissionDenied(m) => RemoteError::access_control(m),
        ClientError::InvalidArgument(m) => RemoteError::illegal_argument(m),
        ClientError::InvalidPath(e) => RemoteError::illegal_argument(e.to_string()),
        ClientError::FailedPrecondition(m) => RemoteError::io("IOException", m),
        e => RemoteError::internal(e.to_string()),
    }
}

//! Every gRPC call counted and timed by method and status code
//! (`hdfs_namenode_rpc_calls_total`, `hdfs_namenode_rpc_seconds`).
//!
//! A wrapper around each service rather than a layer on the server: the router keeps its type,
//! so the shared serve loop (`hdfs_proto::grpc::serve_until`) stays as it is. The method is the
//! last segment of the request path (`/hdfs.namenode.ClientProtocol/Create` → `Create`). Every
//! call here is unary, so the time to the response head is the time to the answer, and a
//! refusal carries its status in the head (gRPC's trailers-only response); a head without one is
//! a success.

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Instant;

use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service, http};
use tonic::server::NamedService;

use crate::metrics::RpcMetrics;

/// `S`, with its calls recorded in `metrics`.
#[derive(Clone)]
pub(super) struct Metered<S> {
    inner: S,
    metrics: RpcMetrics,
}

impl<S> Metered<S> {
    pub(super) fn new(inner: S, metrics: RpcMetrics) -> Self {
        Self { inner, metrics }
    }
}

impl<S: NamedService> NamedService for Metered<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for Metered<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let started = Instant::now();
        let method = req.uri().path().rsplit('/').next().unwrap_or_default().to_string();
        let answer = self.inner.call(req);
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let response = answer.await?;
            let code = response
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok()?.parse::<i32>().ok())
                .map_or(tonic::Code::Ok, tonic::Code::from_i32);
            // A method this service does not have: one series for all of them, whatever a
            // client makes up.
            let method = if code == tonic::Code::Unimplemented { "unknown".to_string() } else { method };
            metrics.record(method, code_name(code), started.elapsed());
            Ok(response)
        })
    }
}

/// The status code's name as gRPC spells it in Go and Java (`OK`, `NOT_FOUND`, ...).
fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

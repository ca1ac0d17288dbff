//! Serving an axum app as a production server should: the client's address in every request
//! (for the guest creation limits), a deadline on reading a request's headers (a socket that
//! sends nothing, or half a request, is closed), an idle keep-alive deadline, a deadline on the
//! whole request, and a cap on open connections. `axum::serve` sets none of these.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The limits of [`serve_app`]. The defaults suit an app behind a reverse proxy or on its own.
///
/// ```
/// use std::time::Duration;
/// use auth_runtime::axum::ServeConfig;
///
/// let config = ServeConfig::default().request_timeout(Duration::from_secs(10));
/// assert_eq!(config.header_read_timeout, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeConfig {
    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may sit idle before its next request (default 10 s).
    pub header_read_timeout: Duration,
    /// How long one request may take, body and handler included (default 30 s): past it the
    /// client gets 503 JSON `{ "error": "Timeout" }`.
    pub request_timeout: Duration,
    /// At most this many connections are open at once (default 1,000); further clients wait
    /// in the kernel's accept queue.
    pub max_connections: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1000,
        }
    }
}

impl ServeConfig {
    /// Sets [`ServeConfig::header_read_timeout`].
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`ServeConfig::request_timeout`].
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`ServeConfig::max_connections`].
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }
}

/// Serves `app` on `listener` over HTTP/1.1 until the listener fails, with the limits of
/// `config` and the client's address in every request (`ConnectInfo<SocketAddr>`), which the
/// auth router reads for the guest creation limits.
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// use auth_runtime::axum::{ServeConfig, serve_app};
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// serve_app(listener, app, ServeConfig::default()).await
/// # }
/// ```
pub async fn serve_app(
    listener: TcpListener,
    app: Router,
    config: ServeConfig,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return Ok(());
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: wait, keep serving the open connections.
            Err(error) if is_transient(&error) => {
                tracing::warn!(%error, "cannot accept a connection; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: http::Request<_>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                let app = app.clone();
                async move {
                    let response =
                        match tokio::time::timeout(config.request_timeout, app.oneshot(request))
                            .await
                        {
                            Ok(Ok(response)) => response,
                            Ok(Err(infallible)) => match infallible {},
                            Err(_) => timed_out(),
                        };
                    Ok::<Response, Infallible>(response)
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(config.header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
}

fn is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
    ) || matches!(error.raw_os_error(), Some(23 | 24)) // ENFILE, EMFILE
}

fn timed_out() -> Response {
    let body = serde_json::json!({ "error": "Timeout", "message": "the request took too long" });
    let json = [(http::header::CONTENT_TYPE, "application/json")];
    (StatusCode::SERVICE_UNAVAILABLE, json, body.to_string()).into_response()
}

//! Serving an axum app as a production server should: the client's address in every request
//! (for the guest creation limits), a deadline on reading a request's headers (a socket that
//! sends nothing, or half a request, is closed), an idle keep-alive deadline, a deadline on the
//! whole request, a cap on open connections, and a graceful stop on a signal (stop accepting,
//! finish the requests in flight, then return so the app can flush its stores).
//! `axum::serve` sets none of the limits.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
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

/// The most connections [`ServeConfig::max_connections`] takes (a million; a larger value is
/// lowered to it).
const MAX_CONNECTIONS: usize = 1 << 20;

/// The limits of [`serve_app`]. The defaults suit an app behind a reverse proxy or on its own.
///
/// ```
/// use std::time::Duration;
/// use auth_runtime::axum::ServeConfig;
///
/// let config = ServeConfig::default().request_timeout(Duration::from_secs(10));
/// assert_eq!(config.header_read_timeout, Duration::from_secs(10));
/// assert_eq!(config.shutdown_grace, Duration::from_secs(8));
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
    /// After the shutdown signal of [`serve_app_with_shutdown`], how long requests in flight
    /// may take to finish before the server returns anyway (default 8 s, inside the 10 s a
    /// container runtime usually waits between SIGTERM and SIGKILL).
    pub shutdown_grace: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1000,
            shutdown_grace: Duration::from_secs(8),
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
        self.max_connections = connections.clamp(1, MAX_CONNECTIONS);
        self
    }

    /// Sets [`ServeConfig::shutdown_grace`].
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// Serves `app` on `listener` over HTTP/1.1 until the listener fails, with the limits of
/// `config` and the client's address in every request (`ConnectInfo<SocketAddr>`), which the
/// auth router reads for the guest creation limits. [`serve_app_with_shutdown`] also stops
/// cleanly on a signal.
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
    serve_app_with_shutdown(listener, app, config, std::future::pending()).await
}

/// [`serve_app`] until `shutdown` completes (e.g. [`shutdown_signal`]: SIGTERM or Ctrl-C), then
/// stops cleanly: the listener is closed at once (new clients are refused), idle kept-alive
/// connections are closed, requests in flight run to their end (for at most
/// [`ServeConfig::shutdown_grace`]), and the function returns `Ok(())`. Close the app's stores
/// after it returns (e.g. `GuestStore::close`), so that everything answered is on disk.
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// use auth_runtime::axum::{ServeConfig, serve_app_with_shutdown, shutdown_signal};
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// serve_app_with_shutdown(listener, app, ServeConfig::default(), shutdown_signal()).await
/// # }
/// ```
pub async fn serve_app_with_shutdown(
    listener: TcpListener,
    app: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let max_connections = config.max_connections.clamp(1, MAX_CONNECTIONS);
    let permits = Arc::new(Semaphore::new(max_connections));
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return Ok(()),
            },
        };
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
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
        let mut stop = stop.clone();
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
            let mut connection = pin!(connection);
            let stopped = async {
                // `Ref` is not `Send`: drop it before anything else is awaited.
                let _ = stop.wait_for(|stopping| *stopping).await.map(drop);
            };
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                () = stopped => {
                    // Finish the request in flight (if any), answer it with `Connection: close`.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = ended {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    let open = max_connections - permits.available_permits();
    tracing::info!(
        open,
        "shutting down: no new connections, finishing the requests in flight"
    );
    stopping.send_replace(true);
    // Every connection holds a permit until it ends: all permits back means all done.
    let all = u32::try_from(max_connections).expect("at most MAX_CONNECTIONS");
    match tokio::time::timeout(config.shutdown_grace, permits.acquire_many(all)).await {
        Ok(_) => tracing::info!("every connection is closed"),
        Err(_) => tracing::warn!(
            open = max_connections - permits.available_permits(),
            grace = ?config.shutdown_grace,
            "requests still running after the shutdown grace; leaving them"
        ),
    }
    Ok(())
}

/// Completes on SIGTERM (what container runtimes and systemd send) or Ctrl-C: the `shutdown`
/// of [`serve_app_with_shutdown`]. If a signal handler cannot be installed, that signal is
/// not waited for (a warning is logged).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
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

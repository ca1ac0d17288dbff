//! Serving an axum app as a production server should: the client's address in every request
//! (for the guest creation limits), and limits that `axum::serve` does not set:
//!
//! - a deadline on reading a request's headers (a socket that sends nothing, or half a request,
//!   is closed) and on an idle kept-alive connection ([`ServeConfig::header_read_timeout`]);
//! - a deadline on the whole request ([`ServeConfig::request_timeout`]);
//! - a cap on open connections ([`ServeConfig::max_connections`]);
//! - a lower cap on one client's open connections, so that one address cannot hold them all
//!   ([`ServeConfig::max_connections_per_client`]); behind a [`ServeConfig::trusted_proxy`],
//!   where every connection is the proxy's, the same cap on each forwarded client's requests in
//!   flight instead;
//! - a graceful stop on a signal: stop accepting, finish the requests in flight, then return so
//!   the app can flush its stores ([`ServeConfig::shutdown_grace`]).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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

use crate::log_budget::{LogBudget, Verdict};
use crate::rate_limit::{ClientKey, TrustedProxy};

/// The most connections [`ServeConfig::max_connections`] takes (a million; a larger value is
/// lowered to it).
const MAX_CONNECTIONS: usize = 1 << 20;

/// The limits of [`serve_app`]. The defaults suit an app on its own; behind a reverse proxy,
/// also set [`ServeConfig::trusted_proxy`] (or the proxy's connections are capped as one
/// client's).
///
/// ```
/// use std::time::Duration;
/// use auth_runtime::axum::ServeConfig;
///
/// let config = ServeConfig::default().request_timeout(Duration::from_secs(10));
/// assert_eq!(config.header_read_timeout, Duration::from_secs(10));
/// assert_eq!(config.shutdown_grace, Duration::from_secs(8));
/// assert_eq!(config.max_connections_per_client, 64);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// At most this many connections from one client are open at once (default 64; 0 turns
    /// the cap off, and so does any value from [`ServeConfig::max_connections`] up). A client is
    /// an IPv4 address or an IPv6 /64, keyed as [`ClientKey::from_ip`] keys it. A connection
    /// over the cap is accepted and reset at once (a rate-limited warning is logged): it takes
    /// none of the [`ServeConfig::max_connections`], and the clients after it are accepted
    /// without waiting.
    ///
    /// 64 because a browser opens at most 6 connections to a host: a household or an office
    /// behind one NAT address fits, while one address holds at most 6.4 % of the default
    /// 1,000 connections, instead of all of them.
    ///
    /// Behind a [`ServeConfig::trusted_proxy`] every connection comes from the proxy, so
    /// connections are not counted by address; each forwarded client may instead have this
    /// many requests in flight (until its response is ready), and one more is answered 503
    /// JSON `{ "error": "TooManyConnections" }` with `Retry-After: 1`. The proxy should cap
    /// its clients' connections itself (nginx's `limit_conn`).
    pub max_connections_per_client: usize,
    /// The proxy that names the client of each request (default [`TrustedProxy::None`]: the
    /// connection's address is the client's). Set it to the proxy given to `AuthBuilder`'s
    /// `trusted_proxy`; see [`ServeConfig::max_connections_per_client`] for what it changes.
    /// Only set it when clients cannot reach the app but through the proxy: anyone can send
    /// the header it reads.
    pub trusted_proxy: TrustedProxy,
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
            max_connections_per_client: 64,
            trusted_proxy: TrustedProxy::None,
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

    /// Sets [`ServeConfig::max_connections_per_client`]: 0 turns the cap off; a value above a
    /// million is lowered to it.
    ///
    /// ```
    /// use auth_runtime::axum::ServeConfig;
    ///
    /// let config = ServeConfig::default().max_connections(200).max_connections_per_client(20);
    /// assert_eq!(config.max_connections_per_client, 20);
    /// let off = ServeConfig::default().max_connections_per_client(0);
    /// assert_eq!(off.max_connections_per_client, 0);
    /// ```
    pub fn max_connections_per_client(mut self, connections: usize) -> Self {
        self.max_connections_per_client = connections.min(MAX_CONNECTIONS);
        self
    }

    /// Sets [`ServeConfig::trusted_proxy`]: the per-client cap then counts each forwarded
    /// client's requests in flight, not the proxy's connections.
    ///
    /// ```
    /// use auth_runtime::axum::ServeConfig;
    /// use auth_runtime::rate_limit::TrustedProxy;
    ///
    /// let behind_nginx = TrustedProxy::XForwardedFor { hops: 1 };
    /// let config = ServeConfig::default().trusted_proxy(behind_nginx.clone());
    /// assert_eq!(config.trusted_proxy, behind_nginx);
    /// ```
    pub fn trusted_proxy(mut self, proxy: TrustedProxy) -> Self {
        self.trusted_proxy = proxy;
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
/// A connection over [`ServeConfig::max_connections_per_client`] is reset as soon as it is
/// accepted. A client that reconnects as fast as it is reset floods the kernel's accept queue
/// first, where a SYN that finds it full (anyone's) is sent again a second later:
/// `TcpListener::bind` asks for 128 places; a server facing the Internet can ask for more
/// (`tokio::net::TcpSocket::listen(4096)`, up to `net.core.somaxconn`), and its firewall can
/// cap new connections per address.
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
    let (per_peer, per_forwarded) = per_client_caps(&config, max_connections);
    let (request_timeout, header_read_timeout) =
        (config.request_timeout, config.header_read_timeout);
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let mut shutdown = pin!(shutdown);
    // A permit the last accepted connection did not keep (refused, or accept failed).
    let mut unused_permit = None;
    loop {
        let permit = match unused_permit.take() {
            Some(permit) => permit,
            None => tokio::select! {
                biased;
                () = &mut shutdown => break,
                permit = Arc::clone(&permits).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return Ok(()),
                },
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
                unused_permit = Some(permit);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        // Never waits: a client at its cap loses this connection, the next client is accepted.
        let peer_slot = match per_peer
            .as_ref()
            .map(|per_peer| per_peer.admit_connection(peer.ip()))
        {
            Some(None) => {
                // Reset, not closed: no TIME_WAIT left behind for each refused connection.
                let _ = stream.set_zero_linger();
                drop(stream);
                unused_permit = Some(permit);
                continue;
            }
            slot => slot.flatten(),
        };
        let app = app.clone();
        let per_forwarded = per_forwarded.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: http::Request<_>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                let app = app.clone();
                let forwarded_slot = per_forwarded
                    .as_ref()
                    .map(|forwarded| forwarded.admit_request(peer.ip(), request.headers()));
                async move {
                    // Held until the response is ready.
                    let _forwarded_slot = match forwarded_slot {
                        Some(None) => return Ok(too_many_connections()),
                        Some(Some(slot)) => Some(slot),
                        None => None,
                    };
                    let response =
                        match tokio::time::timeout(request_timeout, app.oneshot(request)).await {
                            Ok(Ok(response)) => response,
                            Ok(Err(infallible)) => match infallible {},
                            Err(_) => timed_out(),
                        };
                    Ok::<Response, Infallible>(response)
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
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
            drop(peer_slot);
            drop(permit);
        });
    }
    drop(unused_permit);
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

/// The per-client cap of `config` (none when off or not below `max_connections`): on each
/// peer's connections, or behind a trusted proxy on each forwarded client's requests.
fn per_client_caps(
    config: &ServeConfig,
    max_connections: usize,
) -> (Option<Arc<OpenPerClient>>, Option<Arc<ForwardedClients>>) {
    let limit = config.max_connections_per_client.min(MAX_CONNECTIONS);
    if limit == 0 || limit >= max_connections {
        return (None, None);
    }
    match &config.trusted_proxy {
        TrustedProxy::None => (Some(OpenPerClient::new(limit)), None),
        proxy => {
            let forwarded = ForwardedClients {
                proxy: proxy.clone(),
                open: OpenPerClient::new(limit),
            };
            (None, Some(Arc::new(forwarded)))
        }
    }
}

/// How many connections (or, behind a trusted proxy, requests in flight) each client has open,
/// against one cap. A client's entry goes when its count drops to 0: the map never holds more
/// entries than there are connections (or requests) open.
#[derive(Debug)]
struct OpenPerClient {
    limit: usize,
    open: Mutex<HashMap<ClientKey, usize>>,
    refusal_log: LogBudget,
}

/// One of a client's places under [`OpenPerClient`]'s cap, given back when dropped.
#[derive(Debug)]
struct ClientSlot {
    counts: Arc<OpenPerClient>,
    client: ClientKey,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.counts.lock();
        if let Some(count) = open.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

impl OpenPerClient {
    /// At most `limit` (at least 1) open per client.
    fn new(limit: usize) -> Arc<Self> {
        Arc::new(OpenPerClient {
            limit: limit.max(1),
            open: Mutex::new(HashMap::new()),
            refusal_log: LogBudget::new(5, 20),
        })
    }

    /// A place for `client`, or `None` when it has `limit` open already.
    fn try_open(self: &Arc<Self>, client: &ClientKey) -> Option<ClientSlot> {
        let mut open = self.lock();
        match open.get_mut(client) {
            Some(count) if *count >= self.limit => return None,
            Some(count) => *count += 1,
            None => {
                open.insert(client.clone(), 1);
            }
        }
        Some(ClientSlot {
            counts: Arc::clone(self),
            client: client.clone(),
        })
    }

    /// A place for a connection from `peer`, or `None` (logged) when its client has `limit`
    /// open already.
    fn admit_connection(self: &Arc<Self>, peer: IpAddr) -> Option<ClientSlot> {
        let client = ClientKey::from_ip(peer);
        let slot = self.try_open(&client);
        if slot.is_none() {
            self.log_refusal(&client, Refused::Connection);
        }
        slot
    }

    /// A refusal, logged at a bounded rate (a flood of them writes a line now and then).
    fn log_refusal(&self, client: &ClientKey, refused: Refused) {
        let Verdict::Write { dropped } = self.refusal_log.take() else {
            return;
        };
        let limit = self.limit;
        match refused {
            Refused::Connection => tracing::warn!(
                %client, limit, dropped_since_last = dropped,
                "too many connections from one client: the new one is reset \
                 (behind a reverse proxy, set ServeConfig::trusted_proxy)"
            ),
            Refused::Request => tracing::warn!(
                %client, limit, dropped_since_last = dropped,
                "too many requests in flight from one forwarded client: answered 503"
            ),
        }
    }

    /// The counts stay consistent whatever panicked while holding the lock: nothing does
    /// between reading and writing a count.
    fn lock(&self) -> MutexGuard<'_, HashMap<ClientKey, usize>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a client over its cap loses.
#[derive(Debug, Clone, Copy)]
enum Refused {
    /// A new connection, reset at once.
    Connection,
    /// A request through the trusted proxy, answered 503.
    Request,
}

/// Behind a trusted proxy: each forwarded client's requests in flight, under the per-client cap.
#[derive(Debug)]
struct ForwardedClients {
    proxy: TrustedProxy,
    open: Arc<OpenPerClient>,
}

impl ForwardedClients {
    /// A place for the request's client (named by the proxy), or `None` (logged) when it has
    /// as many requests in flight as the cap.
    fn admit_request(&self, peer: IpAddr, headers: &http::HeaderMap) -> Option<ClientSlot> {
        let client = ClientKey::from_ip(self.proxy.client_ip(peer, headers));
        let slot = self.open.try_open(&client);
        if slot.is_none() {
            self.open.log_refusal(&client, Refused::Request);
        }
        slot
    }
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

/// 503 to a forwarded client over the per-client cap: retry in a second.
fn too_many_connections() -> Response {
    let body = serde_json::json!({
        "error": "TooManyConnections",
        "message": "too many requests in flight from this client"
    });
    let headers = [
        (http::header::CONTENT_TYPE, "application/json"),
        (http::header::RETRY_AFTER, "1"),
    ];
    (StatusCode::SERVICE_UNAVAILABLE, headers, body.to_string()).into_response()
}

fn timed_out() -> Response {
    let body = serde_json::json!({ "error": "Timeout", "message": "the request took too long" });
    let json = [(http::header::CONTENT_TYPE, "application/json")];
    (StatusCode::SERVICE_UNAVAILABLE, json, body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str) -> ClientKey {
        ClientKey::from_ip(ip.parse().unwrap())
    }

    fn open(counts: &OpenPerClient, client: &ClientKey) -> usize {
        counts.lock().get(client).copied().unwrap_or(0)
    }

    #[test]
    fn counts_go_up_to_the_cap_and_the_entry_goes_with_the_last_slot() {
        let counts = OpenPerClient::new(2);
        let client = key("203.0.113.7");
        let first = counts.try_open(&client).unwrap();
        let second = counts.try_open(&client).unwrap();
        assert_eq!(open(&counts, &client), 2);
        assert!(counts.try_open(&client).is_none(), "over the cap");
        assert_eq!(open(&counts, &client), 2, "a refusal counts nothing");
        drop(first);
        assert_eq!(open(&counts, &client), 1);
        let third = counts.try_open(&client).unwrap();
        drop((second, third));
        assert!(counts.lock().is_empty(), "no entry left at 0");
    }

    #[test]
    fn clients_are_counted_apart() {
        let counts = OpenPerClient::new(1);
        let (here, there) = (key("203.0.113.7"), key("198.51.100.2"));
        let _here = counts.try_open(&here).unwrap();
        assert!(counts.try_open(&here).is_none());
        let there_slot = counts.try_open(&there).unwrap();
        assert_eq!(counts.lock().len(), 2);
        drop(there_slot);
        assert_eq!(counts.lock().len(), 1);
    }

    #[test]
    fn an_ipv6_64_is_one_client_and_a_mapped_ipv4_is_its_ipv4() {
        let counts = OpenPerClient::new(2);
        let _a = counts.try_open(&key("2001:db8:1:2::1")).unwrap();
        let _b = counts.try_open(&key("2001:db8:1:2:ffff::9")).unwrap();
        assert!(counts.try_open(&key("2001:db8:1:2::abcd")).is_none());
        assert!(counts.try_open(&key("2001:db8:1:3::1")).is_some());
        let _v4 = counts.try_open(&key("203.0.113.7")).unwrap();
        let _mapped = counts.try_open(&key("::ffff:203.0.113.7")).unwrap();
        assert!(counts.try_open(&key("203.0.113.7")).is_none());
    }

    #[test]
    fn behind_a_proxy_the_forwarded_client_is_counted_not_the_proxy() {
        let forwarded = ForwardedClients {
            proxy: TrustedProxy::XForwardedFor { hops: 1 },
            open: OpenPerClient::new(1),
        };
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let from = |client: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert("x-forwarded-for", client.parse().unwrap());
            headers
        };
        let _first = forwarded
            .admit_request(proxy, &from("198.51.100.4"))
            .unwrap();
        assert!(
            forwarded
                .admit_request(proxy, &from("198.51.100.4"))
                .is_none()
        );
        assert!(
            forwarded
                .admit_request(proxy, &from("198.51.100.5"))
                .is_some()
        );
        assert_eq!(open(&forwarded.open, &key("10.0.0.2")), 0);
    }

    #[test]
    fn the_cap_is_off_at_0_or_from_the_global_cap_up_and_peer_or_forwarded_by_the_proxy() {
        let caps = |config: ServeConfig| {
            let (peer, forwarded) = per_client_caps(&config, config.max_connections);
            (peer.map(|c| c.limit), forwarded.map(|f| f.open.limit))
        };
        assert_eq!(caps(ServeConfig::default()), (Some(64), None));
        let off = ServeConfig::default().max_connections_per_client(0);
        assert_eq!(caps(off), (None, None));
        let not_below = ServeConfig::default().max_connections(50);
        assert_eq!(caps(not_below), (None, None));
        let huge = ServeConfig::default().max_connections_per_client(usize::MAX);
        assert_eq!(huge.max_connections_per_client, MAX_CONNECTIONS);
        assert_eq!(caps(huge), (None, None));
        let proxied = ServeConfig::default().trusted_proxy(TrustedProxy::XForwardedFor { hops: 1 });
        assert_eq!(caps(proxied), (None, Some(64)));
    }
}

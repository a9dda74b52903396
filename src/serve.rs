//! The HTTP server's connections: a cap on how many are open at once, a deadline for a request's
//! headers (which also closes keep-alive connections that sit idle, since hyper starts the same
//! timer whenever a connection waits for its next request), and a graceful stop. axum's own
//! `serve` sets neither, and a few hundred connections that never finish their headers would
//! otherwise hold every file descriptor the process has.
use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::ServiceExt;

/// How the server treats connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Most connections open at once; a connection past it is closed at once.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, and the longest a keep-alive connection
    /// waits idle for its next request.
    pub header_read_timeout: Duration,
    /// How long a stop waits for requests in flight before closing their connections.
    pub shutdown_grace: Duration,
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_full_warning = None::<std::time::Instant>;
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors (EMFILE) or a connection reset before accept: wait a
                // moment instead of spinning; the header deadline frees descriptors meanwhile.
                tracing::warn!(code = "ACCEPT_FAILED", error = %err, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            if last_full_warning.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
                tracing::warn!(
                    code = "CONNECTIONS_FULL",
                    max = limits.max_connections,
                    "closing a new connection: the connection limit is reached"
                );
                last_full_warning = Some(std::time::Instant::now());
            }
            drop(stream);
            continue;
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight when the shutdown grace ran out");
    }
}

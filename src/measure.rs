//! What the service counts and times for Prometheus, and the `/metrics` listener that serves it on
//! its own address (`metrics_bind`), never beside the LTI routes. Without that setting no
//! recorder is installed and every count below costs nothing. docs/OPERATIONS.md says what each
//! metric means.
use std::{
    net::SocketAddr,
    sync::OnceLock,
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::state::AppState;

/// HTTP requests by route template, method and status.
pub const HTTP_REQUESTS: &str = "coursebridge_http_requests_total";
/// Their latency, by route template and method.
pub const HTTP_DURATION: &str = "coursebridge_http_request_duration_seconds";
/// Launches that ended on a page of the tool, by message type.
pub const LAUNCHES_ADMITTED: &str = "coursebridge_launches_admitted_total";
/// Launches and logins refused, by error code.
pub const LAUNCHES_REFUSED: &str = "coursebridge_launches_refused_total";
/// Outbox rows waiting to be delivered, by kind (scores, webhooks, mail).
pub const OUTBOX_DEPTH: &str = "coursebridge_outbox_depth";
/// Age of each outbox's oldest waiting row.
pub const OUTBOX_OLDEST: &str = "coursebridge_outbox_oldest_age_seconds";
/// Delivery attempts by kind and outcome (sent, retry, failed).
pub const DELIVERIES: &str = "coursebridge_deliveries_total";
/// Fetches of platforms' key sets by outcome (ok, failed), counted where they happen.
pub use crate::lti::keys::JWKS_FETCHES;
/// How long a write waited for its connection and, on SQLite, the write lock (timed where the
/// write begins).
pub use crate::store::WRITE_WAIT as DB_WRITE_WAIT;
/// The database pool's connections by state (idle, in_use).
pub const DB_POOL: &str = "coursebridge_db_pool_connections";
/// Always 1, labelled with the running version.
pub const BUILD_INFO: &str = "coursebridge_build_info";

/// Latency buckets: a launch takes milliseconds; a slow gradebook or a lock wait, seconds.
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder once; later calls return the same handle.
fn recorder() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
        .context("the metrics' latency buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    let handle = HANDLE.get_or_init(|| handle).clone();
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    Ok(handle)
}

/// The metrics listener, bound before the service starts so that a taken port stops it at once.
pub struct MetricsListener {
    listener: TcpListener,
    handle: PrometheusHandle,
}

impl MetricsListener {
    /// Binds `address` and installs the recorder.
    pub async fn bind(address: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} (COURSEBRIDGE_METRICS_BIND)"))?;
        Ok(Self {
            listener,
            handle: recorder()?,
        })
    }

    /// The address actually bound.
    pub fn address(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves `/metrics` until `shutdown` completes.
    pub async fn serve(self, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) {
        let upkeep = self.handle.clone();
        // Histogram samples wait in the recorder until a scrape or an upkeep folds them into
        // buckets; without a scraper they would pile up.
        let upkeep = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                every.tick().await;
                upkeep.run_upkeep();
            }
        });
        let router = Router::new()
            .route("/metrics", get(render))
            .with_state((state, self.handle));
        if let Err(err) = axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(code = "METRICS_STOPPED", error = %err, "the metrics listener stopped");
        }
        upkeep.abort();
    }
}

/// `GET /metrics`: the queues and the pool read now, then everything in Prometheus text format.
async fn render(State((app, handle)): State<(AppState, PrometheusHandle)>) -> impl IntoResponse {
    let principal = crate::admin::access::Principal::service("metrics", &app.clock);
    match crate::admin::operations::outbox_health(&app.db, &principal).await {
        Ok(queues) => {
            for queue in queues {
                metrics::gauge!(OUTBOX_DEPTH, "kind" => queue.kind).set(queue.pending as f64);
                metrics::gauge!(OUTBOX_OLDEST, "kind" => queue.kind)
                    .set(queue.oldest_age.as_secs_f64());
            }
        }
        Err(err) => {
            tracing::warn!(code = "METRICS_QUEUES", error = %err, "reading the outboxes for metrics failed")
        }
    }
    let pool = crate::admin::operations::pool_connections(&app.db);
    metrics::gauge!(DB_POOL, "state" => "idle").set(pool.idle as f64);
    metrics::gauge!(DB_POOL, "state" => "in_use").set(pool.in_use as f64);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
}

/// Whether this process records metrics (`metrics_bind` is set).
pub fn enabled() -> bool {
    HANDLE.get().is_some()
}

/// Counts one answered request under its route template (`/course/m/{module}`, never the path
/// itself, which may carry a token) and times it.
pub fn http_request(route: String, method: &str, status: u16, started: Instant) {
    let method = known_method(method);
    metrics::counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method, "status" => status.to_string())
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
}

/// A client chooses the method: only the ones the service answers become label values.
fn known_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Counts an admitted launch.
pub fn launch_admitted(message_type: &'static str) {
    metrics::counter!(LAUNCHES_ADMITTED, "message_type" => message_type).increment(1);
}

/// Counts a refused launch or login by its stable error code.
pub fn launch_refused(code: &'static str) {
    metrics::counter!(LAUNCHES_REFUSED, "code" => code).increment(1);
}

/// Counts one delivery attempt of an outbox row.
pub fn delivery(kind: &'static str, outcome: &'static str) {
    metrics::counter!(DELIVERIES, "kind" => kind, "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_chosen_method_is_not_a_label_value() {
        assert_eq!(known_method("POST"), "POST");
        assert_eq!(known_method("PROPFIND"), "other");
        assert_eq!(known_method("GET\u{0}x"), "other");
    }
}

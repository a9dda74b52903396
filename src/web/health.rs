//! Liveness and readiness for load balancers and orchestrators.
use axum::{extract::State, http::StatusCode};

use crate::state::AppState;

/// The process is alive.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and every migration is applied.
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, String) {
    match app.database_readiness().await {
        Ok(0) => (StatusCode::OK, "ready".into()),
        Ok(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{pending} migrations pending"),
        ),
        Err(err @ crate::state::Unready::Unreachable(_)) => {
            tracing::warn!(error = %err, "readiness: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable".into(),
            )
        }
        Err(err) => {
            tracing::warn!(error = %err, "readiness: migration status unknown");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "migration status unknown".into(),
            )
        }
    }
}

//! Liveness and readiness for load balancers and orchestrators.
use axum::{extract::State, http::StatusCode};

use crate::{state::AppState, store};

/// The process is alive.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and every migration is applied.
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, String) {
    if let Err(err) = store::ping(&app.db).await {
        tracing::warn!(error = %err, "readiness: database unreachable");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "database unreachable".into(),
        );
    }
    match store::pending_migrations(&app.db).await {
        Ok(0) => (StatusCode::OK, "ready".into()),
        Ok(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{pending} migrations pending"),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness: migration status unknown");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "migration status unknown".into(),
            )
        }
    }
}

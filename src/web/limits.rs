//! Limits on what strangers can make the service do: forms reachable without a session (the
//! accessibility feedback form, Dynamic Registration) are rate-limited per client with governor,
//! and a body over the size limit gets a page that says so instead of axum's plain text.
use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::clock::Clock;

pub use crate::state::{PublicFormLimiter, public_form_limiter};
use crate::{state::AppState, web::error::AppError};

/// Clients whose limiter state is kept before forgetting the ones that have waited long enough.
const TRACKED_CLIENTS: usize = 10_000;

fn is_public_form(method: &Method, path: &str) -> bool {
    (method == Method::POST && path == "/accessibility")
        || path == "/lti/register"
        || path.starts_with("/lti/register/")
        // The callback is where a sign-in writes (its nonce, once); leaving for a provider writes
        // nothing.
        || path == "/signin/callback"
}

/// The client's address: the connection's peer, or behind a trusted proxy the address that proxy
/// appended last to `X-Forwarded-For` (earlier entries are the client's own word).
fn client_address(request: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for
        && let Some(forwarded) = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|entry| entry.trim().parse::<IpAddr>().ok())
    {
        return Some(forwarded);
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())
}

/// Refuses a public form past the client's limit with a 429 page in the browser's language.
pub async fn limit_public_forms(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !is_public_form(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let Some(client) = client_address(&request, app.config.trust_forwarded_for) else {
        return next.run(request).await;
    };
    if app.public_forms.len() > TRACKED_CLIENTS {
        app.public_forms.retain_recent();
    }
    match app.public_forms.check_key(&client) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            tracing::warn!(
                code = "RATE_LIMITED",
                path = request.uri().path(),
                "a public form was refused: too many requests from one client"
            );
            AppError::TooManyRequests {
                lang: super::language::browser_language(request.headers()),
                retry_after: wait.as_secs().max(1),
            }
            .into_response()
        }
    }
}

/// Replaces the plain-text 413 of a body over the limit with the service's page.
pub async fn explain_too_large(request: Request, next: Next) -> Response {
    let lang = super::language::browser_language(request.headers());
    let response = next.run(request).await;
    let plain = !response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.contains("json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && plain {
        return AppError::TooLarge { lang }.into_response();
    }
    response
}

//! Static assets embedded in the binary: no CDN, nothing fetched from elsewhere.
use axum::{http::header, response::IntoResponse};

/// The one stylesheet.
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("assets/app.css"),
    )
}

/// Saves reflection drafts while typing.
pub async fn autosave_script() -> impl IntoResponse {
    script(include_str!("assets/autosave.js"))
}

/// Moves focus and view to a form's outcome after it was sent.
pub async fn outcome_script() -> impl IntoResponse {
    script(include_str!("assets/outcome.js"))
}

/// Posts the deep linking response to the LMS without a click.
pub async fn autopost_script() -> impl IntoResponse {
    script(include_str!("assets/autopost.js"))
}

/// Tells the platform that a dynamic registration is done.
pub async fn registered_script() -> impl IntoResponse {
    script(include_str!("assets/registered.js"))
}

/// Keeps and reads the login's proof in the platform's frame (platform storage).
pub async fn platform_storage_script() -> impl IntoResponse {
    script(include_str!("assets/platform-storage.js"))
}

/// A script, cacheable for an hour.
fn script(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

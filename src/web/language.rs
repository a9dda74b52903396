//! The page language a request asks for before anyone is known: its `Accept-Language` header,
//! Swedish when it names neither language. (A launched page speaks its launch's language:
//! `Launched::lang`.)
use axum::http::{HeaderMap, header, request::Parts};

use crate::i18n::Lang;

/// The language of a page reached without a session.
pub struct BrowserLanguage(pub Lang);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for BrowserLanguage {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(browser_language(&parts.headers)))
    }
}

/// The language of the browser that sent `headers`.
pub(crate) fn browser_language(headers: &HeaderMap) -> Lang {
    Lang::from_accept_language(accept_language(headers))
}

/// The raw `Accept-Language` header, when it is text.
pub(crate) fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
}

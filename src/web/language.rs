//! The page language a request asks for before anyone is known: its `Accept-Language` header,
//! Swedish when it names neither language.
use axum::http::{HeaderMap, header};

use crate::i18n::Lang;

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

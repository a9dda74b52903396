//! What every page shows around its own content: the language it speaks, where its stylesheet and
//! scripts are, and the link to the accessibility statement (carrying the session on a launched
//! page, so the statement and its feedback form keep the person's language and deployment).
//!
//! A page template holds one `PageContext` as its `page` field and reads it as its own (`lang`,
//! `assets_base`, `accessibility_url` in `base.html` and `footer.html`) through `page_template!`.
use crate::{i18n::Lang, state::App};

/// The frame of a page.
pub struct PageContext {
    /// The page's language.
    pub lang: Lang,
    /// The tool's base URL, ending in `/`: assets are below it.
    pub assets_base: String,
    /// The accessibility statement.
    pub accessibility_url: String,
}

impl PageContext {
    /// A page reached without a session (login errors, registration, the statement itself).
    pub fn public(app: &App, lang: Lang) -> Self {
        Self {
            lang,
            assets_base: app.public_base.to_string(),
            accessibility_url: app.url("accessibility").to_string(),
        }
    }

    /// A page rendered without the application at hand (an error page): links relative to the
    /// site's root.
    pub fn relative(lang: Lang) -> Self {
        Self {
            lang,
            assets_base: "/".to_owned(),
            accessibility_url: "/accessibility".to_owned(),
        }
    }

    /// A page reached with the session token `token`.
    pub fn launched(app: &App, lang: Lang, token: &str) -> Self {
        Self {
            lang,
            assets_base: app.public_base.to_string(),
            accessibility_url: page_url(app, "accessibility", token),
        }
    }
}

/// A URL of this tool carrying the session token.
pub(crate) fn page_url(app: &App, path: &str, token: &str) -> String {
    let mut url = app.url(path);
    if url.fragment().is_some() {
        url.query_pairs_mut().append_pair("session", token);
        return url.to_string();
    }
    // Appended as text: a query rewrite parses and writes the whole URL again, and an overview
    // has a dozen links (together 3 % of a launch's instructions).
    let separator = if url.query().is_some() { '&' } else { '?' };
    let mut url = String::from(url);
    url.push(separator);
    url.push_str("session=");
    // A session token is base64url and dots, which a query carries as they are.
    if token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        url.push_str(token);
    } else {
        url.extend(url::form_urlencoded::byte_serialize(token.as_bytes()));
    }
    url
}

/// Lets a page template read its `page: PageContext` field's parts as its own.
macro_rules! page_template {
    ($($page:ident $(<$life:lifetime>)?),+ $(,)?) => {$(
        impl $(<$life>)? std::ops::Deref for $page $(<$life>)? {
            type Target = $crate::web::page::PageContext;
            fn deref(&self) -> &Self::Target {
                &self.page
            }
        }
    )+};
}
pub(crate) use page_template;

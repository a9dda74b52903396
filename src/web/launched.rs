//! What every page reached with a session needs: the query that carries the session, the session
//! itself (or the 401 page), links that carry it, the welcome line, the page for a course problem,
//! and whether the person gets the link to the admin pages.
use axum::http::HeaderMap;
use serde::Deserialize;

use crate::{i18n::Lang, learning::context, session::Session, state::App, web::error::AppError};

/// The query every page carries.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// The session token.
    pub session: Option<String>,
    /// A notice to show after a redirect (`saved`, `submitted`).
    pub notice: Option<String>,
    /// The task the notice is about.
    pub task: Option<String>,
}

/// A page request's verified session and the language its pages speak; a request without a
/// usable session gets the 401 page before its body is read.
pub struct Launched {
    /// The session.
    pub session: Session,
    /// The launch's language.
    pub lang: Lang,
}

impl Launched {
    /// The token the page's links carry.
    pub fn token(&self) -> &str {
        &self.session.link_token
    }

    /// The frame of a page of this session.
    pub fn page(&self, app: &App) -> super::page::PageContext {
        super::page::PageContext::launched(app, self.lang, self.token())
    }
}

impl Launched {
    /// The address of `path` in this session, with the notice to show after a change.
    pub(crate) fn notice_url(&self, app: &App, path: &str, notice: &str) -> url::Url {
        let mut target = app.url(path);
        target
            .query_pairs_mut()
            .append_pair("session", self.token())
            .append_pair("notice", notice);
        target
    }
}

impl axum::extract::FromRequestParts<crate::state::AppState> for Launched {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let axum::extract::Query(query) =
            axum::extract::Query::<PageQuery>::from_request_parts(parts, app)
                .await
                .map_err(IntoResponse::into_response)?;
        let session = require_session(app, query.session.as_deref(), &parts.headers)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Launched {
            lang: session.page_language(),
            session,
        })
    }
}

/// The verified session of a request, or a 401 page.
pub async fn require_session(
    app: &App,
    token: Option<&str>,
    headers: &HeaderMap,
) -> Result<Session, AppError> {
    let lang = super::language::browser_language(headers);
    // A launched page carries its token in the URL; a signed-in person's is the first-party
    // cookie, and their links carry none.
    let (token, from_cookie) = match token.filter(|t| !t.is_empty()) {
        Some(token) => (token.to_owned(), false),
        None => (
            super::cookies::read(headers, super::cookies::SESSION)
                .ok_or(AppError::Session { lang })?,
            true,
        ),
    };
    crate::admission::resume_session(app, &token)
        .await
        .map(|mut session| {
            if from_cookie {
                session.link_token = String::new();
            }
            session
        })
        .map_err(|err| match err {
            crate::admission::ResumeError::Refused(why) => {
                tracing::info!(code = "SESSION_INVALID", reason = %why, "session refused");
                AppError::Session { lang }
            }
            crate::admission::ResumeError::Storage(err) => AppError::Internal(err.into()),
        })
}

pub(crate) fn course_error(err: context::CourseError, lang: Lang) -> AppError {
    AppError::Course { error: err, lang }
}

/// "Välkommen, Åsa!" or, without a name, "Välkommen!".
pub(crate) fn welcome(lang: Lang, name: Option<&str>) -> String {
    match name {
        Some(name) => lang.tf("landing-welcome-named", &[("name", name)]),
        None => lang.t("landing-welcome").to_owned(),
    }
}

/// Whether the person may see the admin pages (for the link on their course pages).
pub(crate) async fn has_admin_role(app: &App, session: &Session) -> Result<bool, sea_orm::DbErr> {
    if let Some(found) = app.admin_roles.get(&session.uid) {
        return Ok(found);
    }
    let found = crate::admin::directory::person_principal(
        &app.db,
        session.pid,
        session.uid,
        "",
        None,
        &app.clock,
    )
    .await?
    .is_some();
    app.admin_roles.insert(session.uid, found);
    Ok(found)
}

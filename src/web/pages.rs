//! Pages: the tool's front page for administrators, the landing page after a launch, and the
//! "not available yet" and not-found pages.
use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use crate::{
    error::{AppError, MessagePage, render},
    i18n::Lang,
    lti::claims::ToolRole,
    session::Session,
    state::{App, AppState},
};

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    assets_base: &'a str,
    register_url: String,
    login_url: String,
    launch_url: String,
    jwks_url: String,
}

/// `GET /`: what this is and the URLs an LMS administrator pastes.
pub async fn show_index(State(app): State<AppState>) -> Response {
    render(
        &IndexPage {
            assets_base: app.public_base.as_str(),
            register_url: app.url("lti/register/").to_string(),
            login_url: app.url("lti/login").to_string(),
            launch_url: app.url("lti/launch").to_string(),
            jwks_url: app.url(".well-known/jwks.json").to_string(),
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage<'a> {
    lang: Lang,
    assets_base: &'a str,
    accessibility_url: String,
    welcome: String,
    context_title: Option<&'a str>,
    role_label: &'static str,
    home_url: String,
}

/// The page a launch lands on: context, name and role, in the launch's language.
pub fn landing(app: &App, session: &Session, token: &str) -> Response {
    let lang = Lang::from_locale(Some(&session.lang));
    let mut home = app.url("home");
    home.query_pairs_mut().append_pair("session", token);
    render(
        &LandingPage {
            lang,
            assets_base: app.public_base.as_str(),
            accessibility_url: super::launched::page_url(app, "accessibility", token),
            welcome: super::launched::welcome(lang, session.name.as_deref()),
            context_title: session.ctx.as_deref(),
            role_label: lang.t(match session.role {
                ToolRole::Participant => "role-participant",
                ToolRole::Instructor => "role-instructor",
            }),
            home_url: home.to_string(),
        },
        StatusCode::OK,
    )
}

/// A launch of a kind this version cannot serve yet.
pub fn not_available(app: &App, lang: Lang, message_key: &str) -> Response {
    render(
        &MessagePage {
            lang,
            assets_base: app.public_base.as_str(),
            accessibility_url: app.url("accessibility").to_string(),
            title: lang.t("not-available-title"),
            message: lang.t(message_key),
            code: None,
            detail: None,
        },
        StatusCode::OK,
    )
}

/// Anything else.
pub async fn not_found(headers: HeaderMap) -> impl IntoResponse {
    AppError::NotFound {
        lang: super::language::browser_language(&headers),
    }
}

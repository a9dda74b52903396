//! Pages: the tool's front page for administrators, the landing page after a launch, and the
//! "not available yet" and not-found pages.
use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::web::language::BrowserLanguage;
use crate::web::page::{PageContext, page_template};
use crate::{
    i18n::Lang,
    lti::claims::ToolRole,
    session::Session,
    state::{App, AppState},
    web::error::{AppError, MessagePage, render},
};

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    page: PageContext,
    register_url: String,
    login_url: String,
    launch_url: String,
    jwks_url: String,
}

/// `GET /`: what this is and the URLs an LMS administrator pastes.
pub async fn show_index(State(app): State<AppState>) -> Response {
    render(
        &IndexPage {
            page: PageContext::public(&app, Lang::En),
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
    page: PageContext,
    welcome: String,
    context_title: Option<&'a str>,
    role_label: &'static str,
    home_url: String,
}

/// The page a launch lands on: context, name and role, in the launch's language.
pub fn landing(app: &App, session: &Session, token: &str) -> Response {
    let lang = session.page_language();
    let mut home = app.url("home");
    home.query_pairs_mut().append_pair("session", token);
    render(
        &LandingPage {
            page: PageContext::launched(app, lang, token),
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
            page: PageContext::public(app, lang),
            title: lang.t("not-available-title"),
            message: lang.t(message_key),
            code: None,
            detail: None,
            request_id: crate::web::request_id::current(),
        },
        StatusCode::OK,
    )
}

/// Anything else.
pub async fn not_found(BrowserLanguage(lang): BrowserLanguage) -> impl IntoResponse {
    AppError::NotFound { lang }
}

page_template!(IndexPage, LandingPage<'a>);

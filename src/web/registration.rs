//! `GET /lti/register/{invitation}`: Dynamic Registration, started by the platform in a window or
//! frame of the administrator's browser with the one-time link an administrator of the tool sent.
//! It ends with a page that tells the platform to close it. `GET /lti/register` without a link is
//! refused before anything is fetched.
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;

use crate::web::language::BrowserLanguage;
use crate::web::page::{PageContext, page_template};
use crate::{
    admin::registrations::{self, DynamicError},
    i18n::Lang,
    lti::registration::RegistrationError,
    state::AppState,
    web::error::{MessagePage, render},
};

/// The platform's parameters.
#[derive(Debug, Default, Deserialize)]
pub struct RegisterQuery {
    openid_configuration: Option<String>,
    registration_token: Option<String>,
}

#[derive(Template)]
#[template(path = "registered.html")]
struct RegisteredPage {
    page: PageContext,
    text: String,
}

/// `GET /lti/register`: no invitation, so no registration.
pub async fn register_uninvited(
    State(app): State<AppState>,
    BrowserLanguage(lang): BrowserLanguage,
) -> Response {
    run(app, lang, None, None).await
}

/// `GET /lti/register/{invitation}?openid_configuration=…&registration_token=…`.
pub async fn register(
    State(app): State<AppState>,
    BrowserLanguage(lang): BrowserLanguage,
    Path(invitation): Path<String>,
    query: Result<Query<RegisterQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    run(app, lang, Some(invitation), query.ok().map(|Query(q)| q)).await
}

async fn run(
    app: AppState,
    lang: Lang,
    invitation: Option<String>,
    query: Option<RegisterQuery>,
) -> Response {
    let query = query.unwrap_or_default();
    let token = query.registration_token.filter(|t| !t.is_empty());
    let registered = match invitation {
        None => Err(DynamicError::NoInvitation),
        Some(invitation) => {
            let configuration = query.openid_configuration.as_deref();
            registrations::register_dynamically(
                &app,
                Some(&invitation),
                configuration,
                token.as_deref(),
            )
            .await
        }
    };
    match registered {
        Ok(registered) => {
            let platform = registered.platform_name.as_str();
            let page = RegisteredPage {
                page: PageContext::public(&app, lang),
                text: lang.tf("registration-done", &[("platform", platform)]),
            };
            render(&page, StatusCode::OK)
        }
        Err(err) => failed(&app, lang, err),
    }
}

/// The page of a failed registration, and its log line.
fn failed(app: &crate::state::App, lang: Lang, err: DynamicError) -> Response {
    let (status, key, code, detail) = failure(err);
    tracing::warn!(code, %detail, "dynamic registration failed");
    let page = MessagePage {
        page: PageContext::public(app, lang),
        title: lang.t("registration-failed-title"),
        message: lang.t(key),
        code: Some(code),
        detail: Some(detail),
        request_id: crate::web::request_id::current(),
    };
    render(&page, status)
}

/// What a failed registration answers: status, message key, stable code and the detail shown.
/// The page says what failed and what to do; what the platform answered is only logged.
fn failure(err: DynamicError) -> (StatusCode, &'static str, &'static str, String) {
    match err {
        DynamicError::NoInvitation => (
            StatusCode::FORBIDDEN,
            "registration-no-invitation",
            "REG_NO_INVITATION",
            "the registration link is missing, used or expired".into(),
        ),
        DynamicError::NoConfiguration => (
            StatusCode::BAD_REQUEST,
            "registration-no-configuration",
            "REG_NO_CONFIGURATION",
            "openid_configuration is missing".into(),
        ),
        DynamicError::AlreadyRegistered(what) => (
            StatusCode::CONFLICT,
            "registration-exists",
            "REG_EXISTS",
            what,
        ),
        DynamicError::Registration(
            err @ (RegistrationError::BadUrl(_) | RegistrationError::BadConfiguration(_)),
        ) => (
            StatusCode::BAD_REQUEST,
            "registration-bad-configuration",
            "REG_BAD_CONFIGURATION",
            err.to_string(),
        ),
        DynamicError::Registration(err) => (
            StatusCode::BAD_GATEWAY,
            "registration-platform-failed",
            "REG_PLATFORM_FAILED",
            err.to_string(),
        ),
        DynamicError::Db(err) => {
            tracing::error!(error = %err, "dynamic registration: database failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "registration-platform-failed",
                "REG_STORAGE",
                "the registration could not be stored".into(),
            )
        }
    }
}

page_template!(RegisteredPage);

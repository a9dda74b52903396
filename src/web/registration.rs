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
    error::{MessagePage, render},
    i18n::Lang,
    lti::registration::RegistrationError,
    state::AppState,
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
    let failed = |status: StatusCode, key: &str, code: &'static str, detail: String| {
        tracing::warn!(code, %detail, "dynamic registration failed");
        render(
            &MessagePage {
                page: PageContext::public(&app, lang),
                title: lang.t("registration-failed-title"),
                message: lang.t(key),
                code: Some(code),
                detail: Some(detail),
            },
            status,
        )
    };
    let no_invitation = || {
        failed(
            StatusCode::FORBIDDEN,
            "registration-no-invitation",
            "REG_NO_INVITATION",
            "the registration link is missing, used or expired".into(),
        )
    };
    let Some(invitation) = invitation else {
        return no_invitation();
    };
    let query = query.unwrap_or_default();
    let token = query.registration_token.filter(|t| !t.is_empty());
    match registrations::register_dynamically(
        &app,
        Some(&invitation),
        query.openid_configuration.as_deref(),
        token.as_deref(),
    )
    .await
    {
        Ok(registered) => render(
            &RegisteredPage {
                page: PageContext::public(&app, lang),
                text: lang.tf(
                    "registration-done",
                    &[("platform", registered.platform_name.as_str())],
                ),
            },
            StatusCode::OK,
        ),
        Err(DynamicError::NoInvitation) => no_invitation(),
        Err(DynamicError::NoConfiguration) => failed(
            StatusCode::BAD_REQUEST,
            "registration-no-configuration",
            "REG_NO_CONFIGURATION",
            "openid_configuration is missing".into(),
        ),
        Err(DynamicError::AlreadyRegistered(what)) => failed(
            StatusCode::CONFLICT,
            "registration-exists",
            "REG_EXISTS",
            what,
        ),
        Err(DynamicError::Registration(
            err @ (RegistrationError::BadUrl(_) | RegistrationError::BadConfiguration(_)),
        )) => failed(
            StatusCode::BAD_REQUEST,
            "registration-bad-configuration",
            "REG_BAD_CONFIGURATION",
            err.to_string(),
        ),
        // The page says what failed and what to do; what the platform answered is only logged.
        Err(DynamicError::Registration(err)) => failed(
            StatusCode::BAD_GATEWAY,
            "registration-platform-failed",
            "REG_PLATFORM_FAILED",
            err.to_string(),
        ),
        Err(DynamicError::Db(err)) => {
            tracing::error!(error = %err, "dynamic registration: database failed");
            failed(
                StatusCode::INTERNAL_SERVER_ERROR,
                "registration-platform-failed",
                "REG_STORAGE",
                "the registration could not be stored".into(),
            )
        }
    }
}

page_template!(RegisteredPage);

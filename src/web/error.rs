//! One error type for the web layer: every module error maps to one HTTP status and one page in
//! the user's language. 5xx causes are logged in full and never shown.
use askama::Template;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};

use crate::web::page::{PageContext, page_template};
use crate::{admission::AdmissionError, i18n::Lang};

/// An error answered with an HTML page.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A login or launch did not go through.
    #[error("{error}")]
    Admission {
        /// What went wrong.
        error: AdmissionError,
        /// The page language.
        lang: Lang,
    },
    /// A sign-in through an OpenID Connect provider did not go through.
    #[error("{error}")]
    Signin {
        /// What went wrong.
        error: crate::signin::SigninError,
        /// The page language.
        lang: Lang,
    },
    /// The course of the context could not be shown.
    #[error("{error}")]
    Course {
        /// What went wrong.
        error: crate::learning::context::CourseError,
        /// The page language.
        lang: Lang,
    },
    /// The session token is missing, tampered with or expired.
    #[error("invalid session")]
    Session {
        /// The page language.
        lang: Lang,
    },
    /// The person may not do this (e.g. a participant on an instructor page).
    #[error("forbidden")]
    Forbidden {
        /// The page language.
        lang: Lang,
    },
    /// The request itself is malformed.
    #[error("bad request: {detail}")]
    BadRequest {
        /// What is wrong, in technical words.
        detail: String,
        /// The page language.
        lang: Lang,
    },
    /// A value a person gave that cannot be used, said in their words (the page's language).
    #[error("invalid input: {message}")]
    Invalid {
        /// What is wrong, for the person who sent it.
        message: String,
        /// The page language.
        lang: Lang,
    },
    /// The request body is larger than the service takes.
    #[error("request body too large")]
    TooLarge {
        /// The page language.
        lang: Lang,
    },
    /// This client sent more of these requests than the limit allows; try again later.
    #[error("too many requests")]
    TooManyRequests {
        /// The page language.
        lang: Lang,
        /// Seconds until the next request is taken.
        retry_after: u64,
    },
    /// No such page.
    #[error("not found")]
    NotFound {
        /// The page language.
        lang: Lang,
    },
    /// Anything unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage<'a> {
    pub page: PageContext,
    pub title: &'a str,
    pub message: &'a str,
    pub code: Option<&'a str>,
    pub detail: Option<String>,
    /// The request's id, for the person to quote when they report the error.
    pub request_id: Option<String>,
}

/// The parsed form of a request, or a 400 page that says what is wrong with it.
pub fn form_or_400<T>(
    form: Result<axum::Form<T>, axum::extract::rejection::FormRejection>,
    lang: Lang,
) -> Result<T, AppError> {
    form.map(|axum::Form(value)| value)
        .map_err(|rejection| refused_body(rejection.status(), rejection.body_text(), lang))
}

/// What a body the extractor refused gets: 413 over the limit, else a 400 saying what is wrong.
pub fn refused_body(status: StatusCode, detail: String, lang: Lang) -> AppError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge { lang }
    } else {
        AppError::BadRequest { detail, lang }
    }
}

/// Renders a page, falling back to plain text if the template itself fails.
pub(crate) fn render(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The message key of a launch error code: `LTI_NO_KID` → `error-lti-no-kid`.
fn launch_message_key(code: &str) -> String {
    format!("error-{}", code.to_ascii_lowercase().replace('_', "-"))
}

impl AppError {
    fn parts(
        &self,
    ) -> (
        StatusCode,
        Lang,
        String,
        Option<&'static str>,
        Option<String>,
    ) {
        match self {
            AppError::Admission { error, lang } => {
                let lang = *lang;
                match error {
                    AdmissionError::Launch(launch) => (
                        StatusCode::from_u16(launch.status()).unwrap_or(StatusCode::BAD_REQUEST),
                        lang,
                        lang.t(&launch_message_key(launch.code())).to_owned(),
                        Some(launch.code()),
                        Some(launch.to_string()),
                    ),
                    AdmissionError::Login(login @ crate::lti::login::LoginError::TooLong(..)) => (
                        StatusCode::BAD_REQUEST,
                        lang,
                        lang.t("error-login-too-long").to_owned(),
                        Some("LTI_LOGIN_TOO_LONG"),
                        Some(login.to_string()),
                    ),
                    AdmissionError::Login(login) => (
                        StatusCode::BAD_REQUEST,
                        lang,
                        lang.t("error-login-missing").to_owned(),
                        Some("LTI_LOGIN_INVALID"),
                        Some(login.to_string()),
                    ),
                    AdmissionError::ForeignTarget(_) => (
                        StatusCode::BAD_REQUEST,
                        lang,
                        lang.t("error-login-target").to_owned(),
                        Some("LTI_LOGIN_FOREIGN_TARGET"),
                        Some(error.to_string()),
                    ),
                    AdmissionError::UnknownPlatform { .. } => (
                        StatusCode::BAD_REQUEST,
                        lang,
                        lang.t("error-unknown-platform").to_owned(),
                        Some("LTI_UNKNOWN_PLATFORM"),
                        Some(error.to_string()),
                    ),
                    AdmissionError::AmbiguousIssuer(_) => (
                        StatusCode::BAD_REQUEST,
                        lang,
                        lang.t("error-ambiguous-issuer").to_owned(),
                        Some("LTI_AMBIGUOUS_ISSUER"),
                        Some(error.to_string()),
                    ),
                    AdmissionError::Storage(_) | AdmissionError::Signing(_) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        lang,
                        lang.t("error-internal").to_owned(),
                        None,
                        None,
                    ),
                }
            }
            AppError::Signin { error, lang } => {
                let lang = *lang;
                let detail = match error {
                    crate::signin::SigninError::NoAccess { sub, provider } => {
                        Some(format!("{provider}: {sub}"))
                    }
                    crate::signin::SigninError::Db(_) | crate::signin::SigninError::Signing(_) => {
                        None
                    }
                    other => Some(other.to_string()),
                };
                (
                    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
                    lang,
                    lang.t(&launch_message_key(error.code())).to_owned(),
                    Some(error.code()),
                    detail,
                )
            }
            AppError::Course { error, lang } => {
                use crate::learning::context::CourseError;
                let lang = *lang;
                match error {
                    CourseError::NoContext => (
                        StatusCode::BAD_REQUEST,
                        lang,
                        lang.t("error-no-context").to_owned(),
                        Some("COURSE_NO_CONTEXT"),
                        None,
                    ),
                    CourseError::NoCourse => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        lang,
                        lang.t("error-no-course").to_owned(),
                        Some("COURSE_NONE_IMPORTED"),
                        None,
                    ),
                    CourseError::NoModule(_) | CourseError::NoTask(_) => (
                        StatusCode::NOT_FOUND,
                        lang,
                        lang.t("error-no-module").to_owned(),
                        Some("COURSE_NOT_FOUND"),
                        Some(error.to_string()),
                    ),
                    CourseError::Corrupt(..) | CourseError::Db(_) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        lang,
                        lang.t("error-internal").to_owned(),
                        None,
                        None,
                    ),
                }
            }
            AppError::Session { lang } => (
                StatusCode::UNAUTHORIZED,
                *lang,
                lang.t("error-session").to_owned(),
                Some("SESSION_INVALID"),
                None,
            ),
            AppError::BadRequest { detail, lang } => (
                StatusCode::BAD_REQUEST,
                *lang,
                lang.t("error-bad-request").to_owned(),
                Some("BAD_REQUEST"),
                Some(detail.clone()),
            ),
            AppError::Invalid { message, lang } => (
                StatusCode::BAD_REQUEST,
                *lang,
                message.clone(),
                Some("INVALID_INPUT"),
                None,
            ),
            AppError::Forbidden { lang } => (
                StatusCode::FORBIDDEN,
                *lang,
                lang.t("error-forbidden").to_owned(),
                Some("FORBIDDEN"),
                None,
            ),
            AppError::TooLarge { lang } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                *lang,
                lang.t("error-too-large").to_owned(),
                Some("BODY_TOO_LARGE"),
                None,
            ),
            AppError::TooManyRequests { lang, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                *lang,
                lang.t("error-too-many-requests").to_owned(),
                Some("RATE_LIMITED"),
                None,
            ),
            AppError::NotFound { lang } => (
                StatusCode::NOT_FOUND,
                *lang,
                lang.t("error-not-found").to_owned(),
                None,
                None,
            ),
            AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Lang::Sv,
                Lang::Sv.t("error-internal").to_owned(),
                None,
                None,
            ),
        }
    }
}

/// A domain result as a page would answer it, in the page's language: `.in_lang(lang)?` in place of
/// mapping each error by hand.
pub trait InLang<T> {
    /// The error as the page's error (a storage failure is a 500 page, a missing module a 404).
    fn in_lang(self, lang: Lang) -> Result<T, AppError>;
}

impl<T> InLang<T> for Result<T, crate::learning::context::CourseError> {
    fn in_lang(self, lang: Lang) -> Result<T, AppError> {
        self.map_err(|error| AppError::Course { error, lang })
    }
}

impl<T> InLang<T> for Result<T, sea_orm::DbErr> {
    fn in_lang(self, lang: Lang) -> Result<T, AppError> {
        self.map_err(|err| AppError::Course {
            error: err.into(),
            lang,
        })
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, lang, message, code, detail) = self.parts();
        let retry_after = match &self {
            AppError::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        if let AppError::Admission { .. } = &self {
            crate::measure::launch_refused(code.unwrap_or("LTI_REFUSED"));
        }
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        } else {
            tracing::warn!(code = code.unwrap_or("-"), error = %self, status = status.as_u16(), "request refused");
        }
        let page = MessagePage {
            page: PageContext::relative(lang),
            title: lang.t("error-title"),
            message: &message,
            code,
            detail,
            request_id: crate::web::request_id::current(),
        };
        let mut response = render(&page, status);
        if let Some(seconds) = retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}

page_template!(MessagePage<'a>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lti::launch::LaunchError;

    #[test]
    fn every_launch_error_code_has_both_translations() {
        use crate::lti::claims;
        let all = [
            LaunchError::StateMissing,
            LaunchError::StateUnknown,
            LaunchError::StateReused,
            LaunchError::StateMismatch,
            LaunchError::TokenMissing,
            LaunchError::PlatformError(String::new()),
            LaunchError::NotAJwt,
            LaunchError::AlgorithmNotAllowed(String::new()),
            LaunchError::NoKid,
            LaunchError::UnknownKid(String::new()),
            LaunchError::KeySetUnavailable,
            LaunchError::BadSignature,
            LaunchError::Expired,
            LaunchError::NotYetValid,
            LaunchError::IssuedInFuture,
            LaunchError::WrongIssuer,
            LaunchError::WrongAudience,
            LaunchError::WrongAuthorizedParty,
            LaunchError::NonceMissing,
            LaunchError::NonceMismatch,
            LaunchError::NonceReused,
            LaunchError::NoVersion,
            LaunchError::WrongVersion(String::new()),
            LaunchError::MissingClaim(claims::MESSAGE_TYPE),
            LaunchError::MissingClaim(claims::ROLES),
            LaunchError::MissingClaim(claims::DEPLOYMENT_ID),
            LaunchError::MissingClaim(claims::RESOURCE_LINK),
            LaunchError::MissingClaim(claims::TARGET_LINK_URI),
            LaunchError::MissingClaim("sub"),
            LaunchError::MissingClaim("exp"),
            LaunchError::MissingClaim("iat"),
            LaunchError::MissingClaim(claims::CONTEXT),
            LaunchError::MalformedClaim("x"),
            LaunchError::UnknownMessageType(String::new()),
            LaunchError::TargetLinkMismatch,
            LaunchError::DeploymentPending(String::new()),
            LaunchError::DeploymentDisabled(String::new()),
        ];
        for error in all {
            let key = launch_message_key(error.code());
            for lang in [Lang::Sv, Lang::En] {
                // Not `t`, which falls back to Swedish and so could never miss an English text.
                assert!(lang.own_text(&key).is_some(), "{key} missing in {lang:?}");
            }
        }
    }
}

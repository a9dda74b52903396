//! The LTI protocol endpoints: the tool's key set, login initiation and launch.
use axum::{
    Form, Json,
    extract::{Query, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    admission::{self, AdmissionError, LaunchForm},
    error::AppError,
    i18n::Lang,
    lti::{self, claims::MessageType, keys::SigningKey, launch, login::LoginInitiation},
    state::AppState,
    store,
};

use super::{cookies, pages};

/// `GET /.well-known/jwks.json`: every published public key of the tool.
pub async fn jwks(State(app): State<AppState>) -> Result<Response, AppError> {
    let now = lti::now_unix();
    let keys = store::tool_key::published(&app.db, now)
        .await
        .map_err(anyhow::Error::from)?;
    let mut jwks = Vec::with_capacity(keys.len());
    for key in keys {
        let jwk = SigningKey::from_pem(&key.kid, &key.private_key_pem)
            .and_then(|signing| signing.public_jwk())
            .map_err(anyhow::Error::from)?;
        jwks.push(jwk);
    }
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(serde_json::json!({ "keys": jwks })),
    )
        .into_response())
}

/// `GET /lti/login`.
pub async fn login_initiation_query(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(initiation): Query<LoginInitiation>,
) -> Response {
    login_initiation(&app, &headers, initiation).await
}

/// `POST /lti/login`.
pub async fn login_initiation_form(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginInitiation>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(initiation)) => login_initiation(&app, &headers, initiation).await,
        Err(rejection) => AppError::BadRequest {
            detail: rejection.body_text(),
            lang: Lang::from_accept_language(accept_language(&headers)),
        }
        .into_response(),
    }
}

async fn login_initiation(
    app: &AppState,
    headers: &HeaderMap,
    initiation: LoginInitiation,
) -> Response {
    match admission::begin_login(app, &initiation).await {
        Ok(redirect) => {
            let (name, value) = &redirect.binding_cookie;
            let mut response = Redirect::to(redirect.location.as_str()).into_response();
            *response.status_mut() = StatusCode::FOUND;
            if let Some(cookie) =
                cookies::login_binding(name, value, redirect.max_age, app.config.insecure_cookies)
            {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => AppError::Admission {
            error,
            lang: Lang::from_accept_language(accept_language(headers)),
        }
        .into_response(),
    }
}

/// `POST /lti/launch`: the platform's form post with the id_token.
pub async fn launch(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LaunchForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            return AppError::BadRequest {
                detail: rejection.body_text(),
                lang: Lang::from_accept_language(accept_language(&headers)),
            }
            .into_response();
        }
    };
    let cookie_name = form.state.as_deref().map(admission::binding_cookie_name);
    let binding = cookie_name
        .as_deref()
        .and_then(|name| cookies::read(&headers, name));
    let outcome = admission::complete_launch(&app, &form, binding.as_deref()).await;
    let mut response = match outcome {
        Ok(admitted) => {
            tracing::info!(
                message_type = admitted.message_type.as_str(),
                role = admitted.session.role.as_str(),
                platform = admitted.session.pid,
                deployment = admitted.session.did,
                "launch admitted"
            );
            let lang = Lang::from_locale(Some(&admitted.session.lang));
            match admitted.message_type {
                MessageType::ResourceLink => match app.sessions.issue(&admitted.session) {
                    Ok(token) => entry_page(&app, &admitted, &token).await,
                    Err(err) => AppError::Internal(anyhow::anyhow!(err)).into_response(),
                },
                MessageType::DeepLinking => super::deep_linking::begin(&app, &admitted),
                MessageType::SubmissionReview => {
                    pages::not_available(&app, lang, "not-available-submission-review")
                }
            }
        }
        Err(error) => {
            let lang = launch_error_language(&form, &headers, &error);
            AppError::Admission { error, lang }.into_response()
        }
    };
    if let Some(cookie) = cookie_name
        .as_deref()
        .and_then(|name| cookies::clear_login_binding(name, app.config.insecure_cookies))
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Where a resource-link launch lands: the module its `module` custom parameter names, else the
/// course overview; a launch without an LMS course gets the plain landing page.
async fn entry_page(app: &AppState, admitted: &admission::Admitted, token: &str) -> Response {
    let session = &admitted.session;
    // Post/Redirect/Get: the page after a launch is an ordinary GET, so reloading it never posts the
    // used id_token again (which would be refused as a replay).
    let mut target = app.url("course");
    if session.cid.is_none() {
        target = app.url("home");
    } else if let Some(slug) = &admitted.target_module {
        if let Ok(mut segments) = target.path_segments_mut() {
            segments.push("m").push(slug);
        }
    } else if let Some(round) = admitted
        .target_assessment
        .as_deref()
        .and_then(crate::learning::assessment::parse_round)
    {
        if let Ok(mut segments) = target.path_segments_mut() {
            segments
                .push("assessment")
                .push(crate::learning::assessment::round_name(round));
        }
    } else if session.role == crate::lti::claims::ToolRole::Instructor {
        super::instructor::sync_roster_if_stale(app, session).await;
        target = app.url("instructor");
    }
    target.query_pairs_mut().append_pair("session", token);
    Redirect::to(target.as_str()).into_response()
}

/// The language of a refused launch: the token's locale when it has one (read unverified, for the
/// language alone), else the browser's.
fn launch_error_language(form: &LaunchForm, headers: &HeaderMap, _error: &AdmissionError) -> Lang {
    form.id_token
        .as_deref()
        .and_then(launch::unverified_locale)
        .map(|locale| Lang::from_locale(Some(&locale)))
        .unwrap_or_else(|| Lang::from_accept_language(accept_language(headers)))
}

/// The browser's language, for pages before a session says which.
pub(crate) fn browser_language(headers: &HeaderMap) -> Lang {
    Lang::from_accept_language(accept_language(headers))
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
}

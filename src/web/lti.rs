//! The LTI protocol endpoints: the tool's key set, login initiation and launch.
use askama::Template;
use axum::{
    Form, Json,
    extract::{
        Query, RawForm, State,
        rejection::{FormRejection, RawFormRejection},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    admission::{self, LaunchForm},
    i18n::Lang,
    lti::{claims::MessageType, launch, login::LoginInitiation},
    state::AppState,
    web::error::{AppError, render},
};

use super::{cookies, pages};
use crate::web::language::BrowserLanguage;
use crate::web::page::{PageContext, page_template};

/// `GET /.well-known/jwks.json`: every published public key of the tool.
pub async fn jwks(State(app): State<AppState>) -> Result<Response, AppError> {
    let now = app.clock.now_unix();
    let jwks = crate::tool_key::published_jwks(&app.db, now).await?;
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
    BrowserLanguage(lang): BrowserLanguage,
    Query(initiation): Query<LoginInitiation>,
) -> Response {
    login_initiation(&app, &headers, lang, initiation).await
}

/// `POST /lti/login`.
pub async fn login_initiation_form(
    State(app): State<AppState>,
    headers: HeaderMap,
    BrowserLanguage(lang): BrowserLanguage,
    form: Result<Form<LoginInitiation>, FormRejection>,
) -> Response {
    match crate::web::error::form_or_400(form, lang) {
        Ok(initiation) => login_initiation(&app, &headers, lang, initiation).await,
        Err(refused) => refused.into_response(),
    }
}

async fn login_initiation(
    app: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    initiation: LoginInitiation,
) -> Response {
    // Browsers say where a navigation lands: a login inside the LMS's frame may need storage.
    let framed = headers.get("sec-fetch-dest").and_then(|v| v.to_str().ok()) == Some("iframe");
    match admission::begin_login(app, &initiation, framed).await {
        Ok(redirect) => to_platform(app, lang, &redirect),
        Err(error) => AppError::Admission { error, lang }.into_response(),
    }
}

/// On to the platform's authentication, with the cookie that binds the login to this browser.
fn to_platform(app: &AppState, lang: Lang, redirect: &admission::LoginRedirect) -> Response {
    let (name, value) = &redirect.binding_cookie;
    let mut response = match &redirect.storage {
        // The platform keeps the secret too: a page puts it there, then goes on to the
        // platform. The cookie is still set; whichever arrives at the launch counts.
        Some(storage) => render(
            &LoginStoragePage {
                page: PageContext::public(app, lang),
                frame: &storage.frame,
                origin: &storage.origin,
                key: &storage.key,
                value,
                next: redirect.location.as_str(),
            },
            StatusCode::OK,
        ),
        None => {
            let mut response = Redirect::to(redirect.location.as_str()).into_response();
            *response.status_mut() = StatusCode::FOUND;
            response
        }
    };
    if let Some(cookie) =
        cookies::login_binding(name, value, redirect.max_age, app.config.insecure_cookies)
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `POST /lti/launch`: the platform's form post with the id_token.
pub async fn launch(
    State(app): State<AppState>,
    headers: HeaderMap,
    BrowserLanguage(browser): BrowserLanguage,
    form: Result<RawForm, RawFormRejection>,
) -> Response {
    let form = match launch_form_or_400(form, browser) {
        Ok(form) => form,
        Err(refused) => return refused.into_response(),
    };
    let cookie_name = form.state.as_deref().map(admission::binding_cookie_name);
    let binding = cookie_name
        .as_deref()
        .and_then(|name| cookies::read(&headers, name))
        .or_else(|| form.binding.clone().filter(|b| !b.is_empty()));
    if binding.is_none()
        && let Some(page) = proof_needed(&app, browser, &form).await
    {
        return page;
    }
    let mut response = match admission::complete_launch(&app, &form, binding.as_deref()).await {
        Ok(admitted) => admitted_page(&app, &admitted).await,
        Err(error) => {
            let lang = launch_language(&form, browser);
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

/// The launch's form post, or the page that says what is wrong with it: a body over the limit is
/// 413, another content type or a field given twice 400.
fn launch_form_or_400(
    form: Result<RawForm, RawFormRejection>,
    lang: Lang,
) -> Result<LaunchForm, AppError> {
    let RawForm(body) = form.map_err(|rejection| {
        crate::web::error::refused_body(rejection.status(), rejection.body_text(), lang)
    })?;
    LaunchForm::from_urlencoded(&body).map_err(|detail| AppError::BadRequest { detail, lang })
}

/// Without a cookie (third-party cookies blocked) and without the proof: the page that reads it
/// from platform storage, or offers the new window. `None` when the launch can go on as it is.
async fn proof_needed(app: &AppState, browser: Lang, form: &LaunchForm) -> Option<Response> {
    let state = form.state.as_deref()?;
    match admission::proof_missing(app, state).await {
        Ok(Some(missing)) => Some(proof_page(app, browser, form, missing)),
        Ok(None) => None,
        Err(err) => Some(AppError::Internal(err.into()).into_response()),
    }
}

/// Where an admitted launch goes, by its message type.
async fn admitted_page(app: &AppState, admitted: &admission::Admitted) -> Response {
    crate::measure::launch_admitted(admitted.message_type.as_str());
    tracing::info!(
        message_type = admitted.message_type.as_str(),
        role = admitted.session.role.as_str(),
        platform = admitted.session.pid,
        deployment = admitted.session.did,
        "launch admitted"
    );
    let lang = admitted.session.page_language();
    match admitted.message_type {
        MessageType::ResourceLink => match app.sessions.issue(&admitted.session) {
            Ok(token) => entry_page(app, admitted, &token).await,
            Err(err) => AppError::Internal(anyhow::anyhow!(err)).into_response(),
        },
        MessageType::DeepLinking => super::deep_linking::begin(app, admitted),
        MessageType::SubmissionReview => match app.sessions.issue(&admitted.session) {
            Ok(token) => submission_review(app, admitted, &token, lang)
                .await
                .unwrap_or_else(IntoResponse::into_response),
            Err(err) => AppError::Internal(anyhow::anyhow!(err)).into_response(),
        },
    }
}

/// "View submission" from the LMS gradebook: the instructor lands on that participant's answer
/// (the one waiting for review first); a participant on their own course.
async fn submission_review(
    app: &AppState,
    admitted: &admission::Admitted,
    token: &str,
    lang: crate::i18n::Lang,
) -> Result<Response, AppError> {
    use crate::learning::review::{ReviewTarget, submission_review_target};
    use crate::web::error::InLang;
    let session = &admitted.session;
    let for_user = admitted.for_user.as_deref().unwrap_or_default();
    let course = app
        .courses
        .for_session(&app.db, session)
        .await
        .in_lang(lang)?;
    let module = admitted.target_module.as_deref();
    let target = submission_review_target(&app.db, &course, session, (for_user, module))
        .await
        .in_lang(lang)?;
    Ok(match target {
        ReviewTarget::Submission(id) => {
            let path = format!("instructor/submissions/{id}");
            Redirect::to(&crate::web::page::page_url(app, &path, token)).into_response()
        }
        ReviewTarget::NothingYet => {
            pages::not_available(app, lang, "submission-review-nothing-yet")
        }
        ReviewTarget::OwnCourse => entry_page(app, admitted, token).await,
    })
}

#[derive(Template)]
#[template(path = "login_storage.html")]
struct LoginStoragePage<'a> {
    page: PageContext,
    frame: &'a str,
    origin: &'a str,
    key: &'a str,
    value: &'a str,
    next: &'a str,
}

#[derive(Template)]
#[template(path = "launch_proof.html")]
struct LaunchProofPage<'a> {
    page: PageContext,
    action: String,
    id_token: &'a str,
    state: &'a str,
    storage: Option<admission::StorageTarget>,
    new_window: Option<String>,
}

/// The page for a launch that came without the browser's proof: it reads the proof from platform
/// storage and posts the launch again, or offers to open the course in a window of its own.
fn proof_page(
    app: &AppState,
    browser: Lang,
    form: &LaunchForm,
    missing: admission::ProofMissing,
) -> Response {
    let lang = launch_language(form, browser);
    tracing::info!(
        storage = missing.storage.is_some(),
        "launch without a cookie: asking platform storage or offering a new window"
    );
    render(
        &LaunchProofPage {
            page: PageContext::public(app, lang),
            action: app.url("lti/launch").to_string(),
            id_token: form.id_token.as_deref().unwrap_or_default(),
            state: form.state.as_deref().unwrap_or_default(),
            storage: missing.storage,
            new_window: missing.new_window.map(|url| url.to_string()),
        },
        StatusCode::OK,
    )
}

/// Where a resource-link launch lands: the module its `module` custom parameter names, else the
/// course overview; a launch without an LMS course gets the plain landing page.
async fn entry_page(app: &AppState, admitted: &admission::Admitted, token: &str) -> Response {
    let session = &admitted.session;
    // Post/Redirect/Get: the page after a launch is an ordinary GET, so reloading it never posts the
    // used id_token again (which would be refused as a replay).
    let mut target = app.url("course");
    if !admitted.choose_organisation.is_empty() {
        target = app.url("course/organisation");
    } else if session.cid.is_none() {
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
        sync_roster_if_stale(app, session).await;
        target = app.url("instructor");
    }
    target.query_pairs_mut().append_pair("session", token);
    Redirect::to(target.as_str()).into_response()
}

/// The language of a launch's own pages (a refusal, the proof page): the token's locale when it
/// has one (read unverified, for the language alone), else the browser's.
fn launch_language(form: &LaunchForm, browser: Lang) -> Lang {
    form.id_token
        .as_deref()
        .and_then(launch::unverified_locale)
        .map(|locale| Lang::from_locale(Some(&locale)))
        .unwrap_or(browser)
}

/// Starts a roster sync in the background when the roster is stale, so an instructor's launch
/// never waits for the platform.
async fn sync_roster_if_stale(app: &AppState, session: &crate::session::Session) {
    let Some(context_id) = session.cid else {
        return;
    };
    let now = app.clock.now_unix();
    let max_age = app.config.roster_sync_age_seconds;
    if crate::learning::roster::is_stale(&app.db, context_id, now, max_age).await {
        let app = app.clone();
        // In the launch's span, so the sync's log lines carry the launch's request id.
        let span = tracing::Span::current();
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                if let Err(err) =
                    crate::learning::roster::sync(app.roster_reach(), context_id).await
                {
                    tracing::warn!(context = context_id, error = %err, "background roster sync failed");
                }
            },
            span,
        ));
    }
}

page_template!(LoginStoragePage<'a>, LaunchProofPage<'a>);

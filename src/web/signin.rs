//! Sign-in without an LMS: `/signin` lists the providers, `/signin/<name>` leaves for one,
//! `/signin/callback` comes back, `/me` is a signed-in person's home, `/signout` ends the session
//! here and at the provider, and `/join/<token>` is an invitation to a cohort. The session is a
//! first-party cookie (`cookies::SESSION`); `cookie_sessions` keeps it fresh and refuses a form
//! posted with it from another site.
use askama::Template;
use axum::{
    extract::{Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{cookies, language::BrowserLanguage, launched::Launched};
use crate::{
    i18n::Lang,
    signin::{self, Callback, SigninError},
    state::{App, AppState},
    web::{
        error::{AppError, InLang, render},
        page::{PageContext, page_template, page_url},
    },
};

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    page: PageContext,
    /// (button label, URL).
    providers: Vec<(String, String)>,
    /// What the invitation the person came with is for.
    invitation: Option<String>,
}
page_template!(SigninPage);

/// The invitation a sign-in link carries along.
#[derive(Debug, Default, Deserialize)]
pub struct InvitationQuery {
    invitation: Option<String>,
}

/// `GET /signin`.
pub async fn show_signin(
    State(app): State<AppState>,
    BrowserLanguage(lang): BrowserLanguage,
) -> Result<Response, AppError> {
    signin_page(&app, lang, None).await
}

/// `GET /join/<token>`: an invitation to a cohort, and the ways to sign in with it.
pub async fn show_invitation(
    State(app): State<AppState>,
    BrowserLanguage(lang): BrowserLanguage,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    signin_page(&app, lang, Some(&token)).await
}

async fn signin_page(
    app: &App,
    lang: Lang,
    invitation: Option<&str>,
) -> Result<Response, AppError> {
    let invited = match invitation {
        Some(token) => Some(signin::invitation_for(app, token).await.in_lang(lang)?),
        None => None,
    };
    let providers = signin::providers(app).await.in_lang(lang)?;
    let page = SigninPage {
        page: PageContext::public(app, lang),
        providers: providers
            .into_iter()
            .map(|name| {
                let mut url = app.url(&format!("signin/{name}"));
                if let Some(token) = invitation {
                    url.query_pairs_mut().append_pair("invitation", token);
                }
                (
                    lang.tf("signin-with", &[("provider", &name)]),
                    url.to_string(),
                )
            })
            .collect(),
        invitation: invited.map(|(cohort, organisation)| {
            lang.tf(
                "signin-invited",
                &[("cohort", &cohort), ("organisation", &organisation)],
            )
        }),
    };
    Ok(render(&page, StatusCode::OK))
}

/// `GET /signin/<name>`: leaves for the provider, the login under way in a first-party cookie.
pub async fn begin(
    State(app): State<AppState>,
    BrowserLanguage(lang): BrowserLanguage,
    Path(name): Path<String>,
    Query(query): Query<InvitationQuery>,
) -> Response {
    match signin::begin(&app, &name, query.invitation.as_deref()).await {
        Ok(begun) => {
            let mut response = Redirect::to(begun.redirect.as_str()).into_response();
            let cookie = cookies::first_party(
                cookies::SIGNIN_STATE,
                &begun.state_cookie,
                "/signin/",
                signin::STATE_SECONDS as u64,
                app.config.insecure_cookies,
            );
            if let Some(cookie) = cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => AppError::Signin { error, lang }.into_response(),
    }
}

/// `GET /signin/callback`: the provider's answer; on success the session cookie, then `/me`.
pub async fn callback(
    State(app): State<AppState>,
    BrowserLanguage(lang): BrowserLanguage,
    headers: HeaderMap,
    Query(answer): Query<Callback>,
) -> Response {
    let state = cookies::read(&headers, cookies::SIGNIN_STATE);
    let outcome = signin::complete(&app, &answer, state.as_deref(), lang.code()).await;
    let insecure = app.config.insecure_cookies;
    let mut response = match outcome {
        Ok(signed_in) => {
            let mut response = Redirect::to(app.url("me").as_str()).into_response();
            let max_age = app.config.session_ttl_seconds;
            if let Some(cookie) =
                cookies::first_party(cookies::SESSION, &signed_in.token, "/", max_age, insecure)
            {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => {
            tracing::warn!(code = error.code(), reason = %error, "sign-in refused");
            AppError::Signin { error, lang }.into_response()
        }
    };
    // The login under way has served, whatever came of it.
    if let Some(clear) = cookies::first_party(cookies::SIGNIN_STATE, "", "/signin/", 0, insecure) {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
    response
}

#[derive(Template)]
#[template(path = "signed_in.html")]
struct HomePage {
    page: PageContext,
    signed_in_as: String,
    course_url: Option<String>,
    runs: Vec<(String, String)>,
    admin_url: Option<String>,
    contact_url: Option<String>,
    signout_action: String,
}
page_template!(HomePage);

/// `GET /me`: what a signed-in person can open.
pub async fn show_home(
    State(app): State<AppState>,
    launched: Launched,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let places = crate::learning::leader::places_of(&app.db, &launched.session)
        .await
        .in_lang(lang)?;
    let admin = crate::web::launched::has_admin_role(&app, &launched.session)
        .await
        .in_lang(lang)?;
    let page = home_page(&app, &launched, places, admin);
    let providers = signin::provider_origins(&app).await.in_lang(lang)?;
    Ok(with_sign_out_target(&app, render(&page, StatusCode::OK), &providers).await)
}

fn home_page(
    app: &App,
    launched: &Launched,
    places: crate::learning::leader::Places,
    admin: bool,
) -> HomePage {
    let lang = launched.lang;
    let token = launched.token();
    HomePage {
        page: launched.page(app),
        signed_in_as: lang.tf(
            "me-signed-in-as",
            &[("name", launched.session.name.as_deref().unwrap_or_default())],
        ),
        course_url: launched.session.cid.map(|_| page_url(app, "course", token)),
        runs: places
            .runs
            .into_iter()
            .map(|run| {
                let label = lang.tf("me-run", &[("run", &run.name)]);
                (
                    label,
                    format!("{}&run={}", page_url(app, "leader", token), run.id),
                )
            })
            .collect(),
        admin_url: admin.then(|| page_url(app, "admin", token)),
        contact_url: places.contact.then(|| page_url(app, "organisation", token)),
        signout_action: app.url("signout").to_string(),
    }
}

/// The page's policy lets its sign-out form's answer send the browser on to a provider.
async fn with_sign_out_target(app: &App, mut response: Response, providers: &[String]) -> Response {
    let framing = super::framing_origins(app).await;
    if let Ok(csp) = HeaderValue::from_str(&super::content_security_policy(&framing, providers)) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// `POST /signout`: ends the person's sessions, clears the cookie, and signs out at the provider.
pub async fn sign_out(
    State(app): State<AppState>,
    launched: Launched,
) -> Result<Response, AppError> {
    let end = signin::sign_out(&app, &launched.session)
        .await
        .in_lang(launched.lang)?;
    let target = end.unwrap_or_else(|| app.url("signin"));
    let mut response = Redirect::to(target.as_str()).into_response();
    let insecure = app.config.insecure_cookies;
    if let Some(clear) = cookies::first_party(cookies::SESSION, "", "/", 0, insecure) {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
    Ok(response)
}

/// For requests a signed-in person's cookie authenticates (no session in the URL): refuses an
/// unsafe request that does not come from the tool's own pages (`SameSite=Lax` already keeps the
/// cookie off cross-site posts), and replaces a token older than a minute by a fresh one, so a
/// session in use does not run into its idle limit.
pub async fn cookie_sessions(
    State(app): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = cookie_session(&request) else {
        return next.run(request).await;
    };
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if unsafe_method && !same_origin(&app, request.headers()) {
        tracing::warn!(
            code = "CSRF_ORIGIN",
            path = request.uri().path(),
            "a cookie-authenticated form from another origin was refused"
        );
        let lang = super::language::browser_language(request.headers());
        return AppError::Forbidden { lang }.into_response();
    }
    let fresh = refreshed(&app, &token);
    if let Some(fresh) = &fresh {
        replace_session_cookie(request.headers_mut(), fresh);
    }
    let response = next.run(request).await;
    match fresh {
        Some(fresh) => renew(&app, response, &fresh),
        None => response,
    }
}

/// The session cookie of a request that carries no session in its URL.
fn cookie_session(request: &Request) -> Option<String> {
    let in_url = request.uri().query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "session" && !v.is_empty())
    });
    if in_url {
        return None;
    }
    cookies::read(request.headers(), cookies::SESSION).filter(|t| !t.is_empty())
}

/// Sets the renewed session cookie, unless the answer ends the session itself (sign-out).
fn renew(app: &App, mut response: Response, fresh: &str) -> Response {
    let ends = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with("cb_session=;")));
    let max_age = app.config.session_ttl_seconds;
    let insecure = app.config.insecure_cookies;
    if !ends
        && let Some(cookie) = cookies::first_party(cookies::SESSION, fresh, "/", max_age, insecure)
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Whether an unsafe request comes from the tool's own pages: the browser says so in
/// `Sec-Fetch-Site`, or, where it does not send that, its `Origin` is the tool's. (The tool's
/// pages send no referrer, so Chromium's `Origin` on their form posts is `null`.)
fn same_origin(app: &App, headers: &HeaderMap) -> bool {
    let header_value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header_value("sec-fetch-site") {
        return site == "same-origin";
    }
    let own = app.url("").origin().ascii_serialization();
    header_value("origin").is_some_and(|origin| origin == own)
}

/// A fresh token for a valid session last seen over a minute ago.
fn refreshed(app: &App, token: &str) -> Option<String> {
    let now = app.clock.now_unix();
    let mut session = app.sessions.verify(token, now).ok()?;
    if now - session.seen < 60 || now - session.seen > app.config.session_idle_seconds as i64 {
        return None;
    }
    session.seen = now;
    app.sessions.issue(&session).ok()
}

fn replace_session_cookie(headers: &mut HeaderMap, fresh: &str) {
    let others: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.starts_with("cb_session="))
        .map(str::to_owned)
        .collect();
    let mut value = format!("{}={fresh}", cookies::SESSION);
    for pair in others {
        value.push_str("; ");
        value.push_str(&pair);
    }
    headers.remove(header::COOKIE);
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(header::COOKIE, value);
    }
}

impl<T> InLang<T> for Result<T, SigninError> {
    fn in_lang(self, lang: Lang) -> Result<T, AppError> {
        self.map_err(|error| AppError::Signin { error, lang })
    }
}

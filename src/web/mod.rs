//! The HTTP surface: every route of the service in one place, plus the layers around them.
//! Handlers extract, call a use case, render; nothing here builds a query.
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, header},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};
use tower_http::trace::TraceLayer;

use crate::state::AppState;

mod accessibility;
mod admin;
mod aggregates;
pub mod api;
mod assessment;
mod assets;
mod calendar;
mod comparison;
mod cookies;
mod course;
mod deep_linking;
pub mod error;
mod health;
pub(crate) mod instructor;
mod language;
mod launched;
pub mod limits;
mod lti;
mod mail;
mod organisation;
pub(crate) mod page;
mod pages;
mod registration;
pub mod request_id;
mod signin;
mod spaces;

/// The largest request body accepted. An id_token is a few kilobytes.
const BODY_LIMIT: usize = 256 * 1024;

/// The whole URL map.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::show_index))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/.well-known/jwks.json", get(lti::jwks))
        .route(
            "/lti/login",
            get(lti::login_initiation_query).post(lti::login_initiation_form),
        )
        .route("/lti/launch", post(lti::launch))
        .route("/signin", get(signin::show_signin))
        .route("/signin/callback", get(signin::callback))
        .route("/signin/{name}", get(signin::begin))
        .route("/join/{token}", get(signin::show_invitation))
        .route("/me", get(signin::show_home))
        .route("/signout", post(signin::sign_out))
        .route("/lti/register", get(registration::register_uninvited))
        .route("/lti/register/{invitation}", get(registration::register))
        .route(
            "/lti/deep-linking",
            get(deep_linking::show_picker).post(deep_linking::choose),
        )
        .route("/home", get(course::show_overview))
        .route("/course", get(course::show_overview))
        .route("/course/calendar.ics", get(calendar::download))
        .route("/course/my-answers", get(course::show_my_answers))
        .route("/course/comparison", get(comparison::show_comparison))
        .route(
            "/course/my-answers.pdf",
            get(course::download_my_answers_pdf),
        )
        .route("/calendar/{feed}/workshops.ics", get(calendar::feed))
        .route(
            "/mail/opt-out/{token}",
            get(mail::show_opt_out).post(mail::opt_out),
        )
        .route(
            "/course/organisation",
            get(course::show_choice).post(course::choose),
        )
        .route("/course/m/{module}", get(course::show_module))
        .route("/course/m/{module}/t/{task}", post(course::save_task))
        .route(
            "/course/m/{module}/t/{task}/draft",
            post(course::autosave_task),
        )
        .route("/course/files/{*path}", get(course::download))
        .route(
            "/course/m/{module}/t/{task}/share",
            post(course::share_answer),
        )
        .route(
            "/course/m/{module}/t/{task}/others",
            get(course::show_others),
        )
        .route("/course/shared/{id}/comments", post(course::comment))
        .route("/course/shared/{id}/pin", post(course::pin))
        .route("/course/reports", post(course::report))
        .route("/course/hidden", post(course::hide))
        .route(
            "/course/assessment/{round}",
            get(assessment::show_assessment).post(assessment::save_assessment),
        )
        .route("/spaces", get(spaces::show_spaces))
        .route("/spaces/{id}", get(spaces::show_space))
        .route("/spaces/{id}/membership", post(spaces::answer_membership))
        .route(
            "/spaces/{id}/threads",
            post(spaces::create_thread).layer(DefaultBodyLimit::max(spaces::POST_BODY_LIMIT)),
        )
        .route(
            "/spaces/{id}/threads/{thread}",
            get(spaces::show_thread)
                .post(spaces::reply)
                .layer(DefaultBodyLimit::max(spaces::POST_BODY_LIMIT)),
        )
        .route("/spaces/files/{id}", get(spaces::download))
        .route("/spaces/reports", post(spaces::report))
        .route("/spaces/hidden", post(spaces::hide))
        .route("/organisation/spaces", post(spaces::grant))
        .route("/instructor", get(instructor::show_dashboard))
        .route("/organisation", get(organisation::show_organisation))
        .route("/organisation/place", post(organisation::place_person))
        .route(
            "/instructor/submissions/{id}",
            get(instructor::show_submission).post(instructor::review_submission),
        )
        .route("/instructor/occasions", post(instructor::set_occasion))
        .route("/instructor/roster", post(instructor::sync_roster))
        .route("/instructor/cohort", post(instructor::join_cohort))
        .route("/leader", get(instructor::show_run))
        .route("/leader/occasions", post(instructor::set_run_occasion))
        .route("/leader/participants.csv", get(instructor::download_run))
        .route("/leader/assessments", get(aggregates::show_run_aggregates))
        .route(
            "/leader/assessments.csv",
            get(aggregates::download_run_aggregates),
        )
        .route("/instructor/groups", post(instructor::create_group))
        .route("/instructor/version", post(instructor::move_version))
        .route("/instructor/groups/move", post(instructor::move_member))
        .route("/instructor/assessments", get(aggregates::show_aggregates))
        .route(
            "/instructor/assessments.csv",
            get(aggregates::download_aggregates),
        )
        .route(
            "/accessibility",
            get(accessibility::show_statement).post(accessibility::send_feedback),
        )
        .route("/assets/app.css", get(assets::stylesheet))
        .route("/assets/autosave.js", get(assets::autosave_script))
        .route("/assets/outcome.js", get(assets::outcome_script))
        .route("/assets/autopost.js", get(assets::autopost_script))
        .route("/assets/registered.js", get(assets::registered_script))
        .route(
            "/assets/platform-storage.js",
            get(assets::platform_storage_script),
        )
        .route("/admin", get(admin::show_home))
        .route("/admin/completions", get(admin::show_report))
        .route("/admin/completions.csv", get(admin::download_csv))
        .route("/admin/completions.json", get(admin::download_json))
        .route("/admin/deliveries", get(admin::show_deliveries))
        .route("/admin/deliveries/{id}/retry", post(admin::retry_delivery))
        .route("/admin/audit", get(admin::show_audit))
        .route("/admin/runs", get(admin::show_runs).post(admin::create_run))
        .route("/admin/runs/{id}/link", post(admin::link_run))
        .route(
            "/admin/deployments/{id}/approve",
            post(admin::approve_deployment),
        )
        .route(
            "/admin/deployments/{id}/disable",
            post(admin::disable_deployment),
        )
        .route("/admin/cohorts/{id}/close", post(admin::close_cohort))
        .route("/admin/cohorts/{id}/archive", get(admin::download_archive))
        .route("/admin/grants", post(admin::grant_role))
        .route("/admin/organisations", post(admin::change_organisation))
        .route("/admin/invitations", post(admin::create_invitation))
        .route(
            "/admin/spaces",
            get(admin::show_spaces).post(admin::create_space),
        )
        .route("/admin/spaces/{id}/members", post(admin::invite_to_space))
        .merge(api::routes())
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            signin::cookie_sessions,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::limit_public_forms,
        ))
        .layer(middleware::from_fn(limits::explain_too_large))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(measure_request))
        .layer(TraceLayer::new_for_http().make_span_with(
            |request: &axum::http::Request<axum::body::Body>| {
                // Every line of the request carries these: its id, and the route template (set
                // once routed), never the path, which may carry a token.
                let id = request
                    .extensions()
                    .get::<request_id::RequestId>()
                    .map_or("-", |id| id.0.as_str());
                tracing::info_span!(
                    "request",
                    request_id = id,
                    method = %request.method(),
                    route = tracing::field::Empty,
                )
            },
        ))
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// Names the request's route in its span and counts and times it for the metrics.
async fn measure_request(request: axum::extract::Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|matched| matched.as_str().to_owned());
    if let Some(route) = &route {
        tracing::Span::current().record("route", route.as_str());
    }
    tracing::debug!(uri = %loggable_uri(request.uri()), "request received");
    if !crate::measure::enabled() {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    crate::measure::http_request(
        route.unwrap_or_else(|| "unmatched".to_owned()),
        method.as_str(),
        response.status().as_u16(),
        started,
    );
    response
}

/// Query parameters that carry a credential: a session, a deep-linking picker's state, a platform's
/// registration token. Their values never reach a log line.
const SECRET_PARAMETERS: [&str; 4] = ["session", "dl", "registration_token", "binding"];

/// The URI as it may be logged: credentials in the query and the invitation token in a
/// registration link replaced by `…`.
pub(crate) fn loggable_uri(uri: &axum::http::Uri) -> String {
    let path = match uri.path().strip_prefix("/lti/register/") {
        Some(_) => "/lti/register/…",
        None => uri.path(),
    };
    let Some(query) = uri.query() else {
        return path.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if SECRET_PARAMETERS.contains(&name) => format!("{name}=…"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// The Content-Security-Policy of the tool's pages: nothing from elsewhere but the two video hosts,
/// framed only by the registered platforms (and the operator's `frame_ancestors`), and forms that
/// post only to the tool itself, those platforms and `form_targets` (a deep-linking return URL).
pub(crate) fn content_security_policy(platforms: &[String], form_targets: &[String]) -> String {
    let framing = platforms.join(" ");
    let forms = platforms
        .iter()
        .chain(form_targets)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; frame-src https://www.youtube-nocookie.com https://player.vimeo.com; form-action 'self' {forms}; frame-ancestors 'self' {framing}; base-uri 'none'"
    )
}

/// The origins that may frame the tool: the registered platforms' and the operator's list. Without
/// the database the operator's list alone, so a failing read never opens framing to everyone.
pub(crate) async fn framing_origins(app: &crate::state::App) -> std::sync::Arc<Vec<String>> {
    match crate::registry::framing_origins(&app.db, &app.platform_origins, &app.frame_ancestors)
        .await
    {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(error = %err, "reading the platforms' origins for frame-ancestors failed");
            std::sync::Arc::new(app.frame_ancestors.clone())
        }
    }
}

/// Headers for every answer: the CSP above, HSTS when the public URL is https, no sniffing, no
/// referrer (session references travel in page URLs), and no caching unless a handler says so.
async fn security_headers(
    axum::extract::State(app): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let csp = if response
        .headers()
        .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        None
    } else {
        let origins = framing_origins(&app).await;
        HeaderValue::from_str(&content_security_policy(&origins, &[])).ok()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Some(csp) = csp {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    if app.public_base.scheme() == "https" {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_uris_carry_no_credentials() {
        let uri: axum::http::Uri = "/course/m/a?session=eyJ.abc.def&notice=saved&dl=x.y.z"
            .parse()
            .unwrap();
        assert_eq!(
            loggable_uri(&uri),
            "/course/m/a?session=…&notice=saved&dl=…"
        );
        let uri: axum::http::Uri =
            "/lti/register/SeCrEt?openid_configuration=https%3A%2F%2Fm&registration_token=t"
                .parse()
                .unwrap();
        let logged = loggable_uri(&uri);
        assert!(
            !logged.contains("SeCrEt") && !logged.contains("=t"),
            "{logged}"
        );
        assert_eq!(loggable_uri(&"/healthz".parse().unwrap()), "/healthz");
    }
}

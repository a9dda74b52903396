//! The accessibility statement (tillgänglighetsredogörelse, DOS-lagen), per deployment: the
//! operator's values from the configuration and the deployment's organisation, with a form to
//! report problems.
use askama::Template;
use axum::{
    Form,
    extract::{Query, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::launched::PageQuery;
use crate::web::page::page_url;
use crate::web::page::{PageContext, page_template};
use crate::{
    i18n::Lang,
    learning::feedback,
    session::Session,
    state::{App, AppState},
    web::error::{AppError, form_or_400, render},
};

#[derive(Template)]
#[template(path = "accessibility.html")]
struct StatementPage<'a> {
    page: PageContext,
    overview_url: Option<String>,
    feedback_url: String,
    intro: String,
    known_issues: &'a str,
    contact: &'a str,
    tested: String,
    thanked: bool,
    error: bool,
    message: String,
    /// The page the feedback is about, as typed.
    page_reported: String,
}

/// The session when the request carries a valid one; the statement is public either way.
async fn optional_session(app: &AppState, token: Option<&str>) -> Option<Session> {
    match token {
        Some(token) => crate::admission::resume_session(app, token).await.ok(),
        None => None,
    }
}

fn language(session: Option<&Session>, headers: &HeaderMap) -> Lang {
    match session {
        Some(session) => session.page_language(),
        None => super::language::browser_language(headers),
    }
}

async fn statement(
    app: &AppState,
    session: Option<&Session>,
    token: Option<&str>,
    lang: Lang,
    form: (bool, bool, String, String),
    status: StatusCode,
) -> Result<Response, AppError> {
    let organisation = feedback::organisation_of(&app.db, session)
        .await
        .map_err(|err| AppError::Internal(err.into()))?;
    let token = token.filter(|_| session.is_some());
    let page = statement_page(app, token, lang, organisation.as_deref(), form);
    Ok(render(&page, status))
}

/// The statement of `organisation`, with the feedback form as it was left.
fn statement_page<'a>(
    app: &'a App,
    token: Option<&str>,
    lang: Lang,
    organisation: Option<&str>,
    (thanked, error, message, page): (bool, bool, String, String),
) -> StatementPage<'a> {
    let config = &app.config;
    let with_session = |path: &str| match token {
        Some(token) => page_url(app, path, token),
        None => app.url(path).to_string(),
    };
    StatementPage {
        page: PageContext::public(app, lang),
        overview_url: token.map(|token| page_url(app, "course", token)),
        feedback_url: with_session("accessibility"),
        intro: intro(lang, organisation, config.accessibility_operator.trim()),
        known_issues: match lang {
            Lang::Sv => &config.accessibility_known_issues_sv,
            Lang::En => &config.accessibility_known_issues_en,
        },
        contact: &config.accessibility_contact,
        tested: lang.tf(
            "a11y-tested",
            &[("date", &config.accessibility_assessed_on)],
        ),
        thanked,
        error,
        message,
        page_reported: page,
    }
}

/// Who uses and who runs the service, in a sentence that reads right with either unknown.
fn intro(lang: Lang, organisation: Option<&str>, operator: &str) -> String {
    let who = match (organisation, operator) {
        (Some(organisation), "") => {
            lang.tf("a11y-intro-organisation", &[("organisation", organisation)])
        }
        (Some(organisation), operator) if organisation != operator => lang.tf(
            "a11y-intro-both",
            &[("organisation", organisation), ("operator", operator)],
        ),
        (_, "") => lang.t("a11y-intro-none").to_owned(),
        (_, operator) => lang.tf("a11y-intro-operator", &[("operator", operator)]),
    };
    format!("{who} {}", lang.t("a11y-intro-rest"))
}

/// `GET /accessibility`.
pub async fn show_statement(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Result<Response, AppError> {
    let session = optional_session(&app, query.session.as_deref()).await;
    let lang = language(session.as_ref(), &headers);
    let thanked = query.notice.as_deref() == Some("thanks");
    statement(
        &app,
        session.as_ref(),
        query.session.as_deref(),
        lang,
        (thanked, false, String::new(), String::new()),
        StatusCode::OK,
    )
    .await
}

/// The feedback form.
#[derive(Debug, Deserialize)]
pub struct FeedbackForm {
    message: Option<String>,
    page: Option<String>,
    contact: Option<String>,
}

/// `POST /accessibility`: stores a report.
pub async fn send_feedback(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
    form: Result<Form<FeedbackForm>, FormRejection>,
) -> Result<Response, AppError> {
    let session = optional_session(&app, query.session.as_deref()).await;
    let lang = language(session.as_ref(), &headers);
    let form = form_or_400(form, lang)?;
    let feedback = feedback::Feedback {
        lang: lang.code().to_owned(),
        page: form.page,
        message: form.message,
        contact: form.contact,
        now: app.clock.now_unix(),
    };
    let recorded = feedback::record(&app.db, session.as_ref(), feedback)
        .await
        .map_err(|err| AppError::Internal(err.into()))?;
    let token = query.session.as_deref().filter(|_| session.is_some());
    match recorded {
        feedback::Recorded::Stored => {
            tracing::info!(deployment = ?session.as_ref().map(|s| s.did), "accessibility feedback received");
            Ok(thanks(&app, token))
        }
        feedback::Recorded::NoMessage { page } => {
            let form = (false, true, String::new(), page);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            statement(&app, session.as_ref(), token, lang, form, status).await
        }
    }
}

/// Back to the statement, thanked.
fn thanks(app: &App, token: Option<&str>) -> Response {
    let mut target = app.url("accessibility");
    {
        let mut pairs = target.query_pairs_mut();
        if let Some(token) = token {
            pairs.append_pair("session", token);
        }
        pairs.append_pair("notice", "thanks");
    }
    Redirect::to(target.as_str()).into_response()
}

page_template!(StatementPage<'a>);

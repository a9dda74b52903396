//! The instructor's pages: the dashboard of an LMS course (participants × modules, what waits for
//! review, workshop occasions) and one submission with its history, feedback, return and approve.
//! Every handler checks the role from the signed session, and every query is bounded by the
//! session's context: an id from another LMS course is simply not found.
mod cohort;
mod dashboard;
mod leader;
mod submission;

pub use cohort::{create_group, join_cohort, move_member, move_version, set_occasion, sync_roster};
pub use dashboard::show_dashboard;
pub use leader::{download_run, set_run_occasion, show_run};
pub use submission::{review_submission, show_submission};

use axum::{
    extract::Query,
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::launched::require_session;
use crate::{
    i18n::Lang,
    learning::context::ContextCourse,
    lti::claims::ToolRole,
    session::Session,
    state::{App, AppState},
    web::error::{AppError, InLang},
};

/// The query of the instructor's pages.
#[derive(Debug, Default, Deserialize)]
pub struct InstructorQuery {
    pub(crate) session: Option<String>,
    module: Option<String>,
    status: Option<String>,
    notice: Option<String>,
    count: Option<usize>,
    group: Option<String>,
    /// Another LMS course of the course run, for a course leader's review (its row id).
    course: Option<i64>,
}

/// The session of an instructor of the context, or 403.
async fn require_instructor(
    app: &App,
    token: Option<&str>,
    headers: &HeaderMap,
    other_course: bool,
) -> Result<Session, AppError> {
    let session = require_session(app, token, headers).await?;
    let lang = session.page_language();
    // A course leader who signed in has no LMS course of their own; they open another one of
    // their run (`course`), which `course_in_view` checks.
    if session.role != ToolRole::Instructor || (session.cid.is_none() && !other_course) {
        tracing::warn!(
            user = session.uid,
            "instructor page refused to a non-instructor"
        );
        return Err(AppError::Forbidden { lang });
    }
    Ok(session)
}

/// An instructor of the LMS course on one of its pages: the session, its token (for the page's
/// links) and the page language. Refused with 401/403 before the body is read.
pub struct Instructor {
    /// The session.
    pub session: Session,
    /// The token the page's links carry.
    pub token: String,
    /// The page language.
    pub lang: Lang,
    /// Another LMS course of the run the page is about (a course leader's review).
    pub course: Option<i64>,
}

impl axum::extract::FromRequestParts<AppState> for Instructor {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &AppState,
    ) -> Result<Self, Response> {
        let Query(query) = Query::<InstructorQuery>::from_request_parts(parts, app)
            .await
            .map_err(axum::response::IntoResponse::into_response)?;
        let (session, token, lang) = instructor_request(app, &query, &parts.headers)
            .await
            .map_err(axum::response::IntoResponse::into_response)?;
        Ok(Self {
            session,
            token,
            lang,
            course: query.course,
        })
    }
}

/// The instructor's session, its token (for the page's links) and the page language, or 403.
async fn instructor_request(
    app: &App,
    query: &InstructorQuery,
    headers: &HeaderMap,
) -> Result<(Session, String, Lang), AppError> {
    let session = require_instructor(
        app,
        query.session.as_deref(),
        headers,
        query.course.is_some(),
    )
    .await?;
    let lang = session.page_language();
    let token = session.link_token.clone();
    Ok((session, token, lang))
}

pub(crate) async fn course_of(app: &App, session: &Session) -> Result<ContextCourse, AppError> {
    let lang = session.page_language();
    app.courses
        .for_session(&app.db, session)
        .await
        .in_lang(lang)
}

/// The course a submission page is about: the session's own, or another LMS course of the run
/// for one of its course leaders; anything else is not found.
pub(crate) async fn course_in_view(
    app: &App,
    instructor: &Instructor,
) -> Result<ContextCourse, AppError> {
    let lang = instructor.lang;
    crate::learning::leader::course_in_view(
        &app.db,
        &app.courses,
        &instructor.session,
        instructor.course,
    )
    .await
    .map_err(|err| match err {
        crate::learning::leader::LeaderError::Course(error) => AppError::Course { error, lang },
        _ => AppError::NotFound { lang },
    })
}

fn person_name(lang: Lang, person: Option<&entity::lti_user::Model>) -> String {
    person
        .and_then(|p| p.name.clone().or_else(|| p.given_name.clone()))
        .unwrap_or_else(|| lang.t("instructor-unnamed").to_owned())
}

fn back_to_dashboard(app: &App, token: &str, notice: &str) -> Response {
    let mut target = app.url("instructor");
    target
        .query_pairs_mut()
        .append_pair("session", token)
        .append_pair("notice", notice);
    Redirect::to(target.as_str()).into_response()
}

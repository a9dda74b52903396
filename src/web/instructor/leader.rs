//! The course leader's page of a course run: every participant of every linked LMS course, with
//! their municipality, filtered by municipality, LMS course and group, and everything waiting for
//! review across the run, each opened in the review page of its own LMS course.
use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};

use super::{Instructor, InstructorQuery, person_name};
use crate::{
    i18n::Lang,
    learning::leader::{self, LeaderError, RunDashboard, RunFilter},
    state::{App, AppState},
    web::{
        error::{AppError, render},
        page::{PageContext, page_template, page_url},
    },
};

#[derive(Template)]
#[template(path = "leader_dashboard.html")]
struct RunPage {
    page: PageContext,
    run_name: String,
    filter_action: String,
    session: String,
    notice: Option<String>,
    organisations: Vec<String>,
    lms_courses: Vec<(String, String)>,
    groups: Vec<(String, String)>,
    filter: RunFilter,
    modules: Vec<String>,
    rows: Vec<RunRowView>,
    /// (review URL, label).
    waiting: Vec<(String, String)>,
}
page_template!(RunPage);

/// A participant's row: name, organisation, LMS course, and (status label, status class) per
/// module.
type RunRowView = (String, String, String, Vec<(&'static str, &'static str)>);

/// The filter query of the run's page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct RunQuery {
    organisation: Option<String>,
    lms_course: Option<String>,
    group: Option<String>,
}

/// `GET /leader`.
pub async fn show_run(
    State(app): State<AppState>,
    Query(query): Query<RunQuery>,
    Query(page_query): Query<InstructorQuery>,
    instructor: Instructor,
) -> Result<Response, AppError> {
    let lang = instructor.lang;
    let filter = RunFilter {
        organisation: query.organisation.unwrap_or_default(),
        lms_course: query.lms_course.unwrap_or_default(),
        group: query.group.unwrap_or_default(),
    };
    let board = leader::run_dashboard(&app.db, &app.courses, &instructor.session, &filter)
        .await
        .map_err(|err| match err {
            LeaderError::Course(error) => AppError::Course { error, lang },
            _ => AppError::Forbidden { lang },
        })?;
    let notice = (page_query.notice.as_deref() == Some("decided"))
        .then(|| lang.t("instructor-decided").to_owned());
    let page = run_page(&app, &instructor, board, filter, notice);
    Ok(render(&page, StatusCode::OK))
}

fn run_page(
    app: &App,
    instructor: &Instructor,
    board: RunDashboard,
    filter: RunFilter,
    notice: Option<String>,
) -> RunPage {
    let lang = instructor.lang;
    let token = instructor.token.as_str();
    let package = &board.course.package;
    RunPage {
        page: PageContext::launched(app, lang, token),
        run_name: board.run.name.clone(),
        filter_action: app.url("leader").to_string(),
        session: token.to_owned(),
        notice,
        organisations: board.organisations.clone(),
        lms_courses: board
            .lms_courses
            .iter()
            .map(|(id, title)| (id.to_string(), title.clone()))
            .collect(),
        groups: board
            .groups
            .iter()
            .map(|(course, g)| (g.id.to_string(), format!("{} ({course})", g.name)))
            .collect(),
        filter,
        modules: package
            .modules
            .iter()
            .map(|m| m.title.get(lang).to_owned())
            .collect(),
        rows: board
            .rows
            .iter()
            .map(|row| {
                (
                    person_name(lang, Some(&row.person)),
                    row.organisation.clone().unwrap_or_default(),
                    row.lms_course.clone(),
                    row.statuses
                        .iter()
                        .map(|s| (lang.t(s.label_key()), s.slug()))
                        .collect(),
                )
            })
            .collect(),
        waiting: waiting(app, lang, token, &board),
    }
}

fn waiting(app: &App, lang: Lang, token: &str, board: &RunDashboard) -> Vec<(String, String)> {
    board
        .waiting
        .iter()
        .map(|w| {
            let url = format!(
                "{}&course={}",
                page_url(
                    app,
                    &format!("instructor/submissions/{}", w.submission.id),
                    token
                ),
                w.context_id
            );
            let owner = match &w.person {
                Some(person) => person_name(lang, Some(person)),
                None => lang.t("instructor-group-answer").to_owned(),
            };
            let module = board
                .course
                .module(&w.submission.module_slug)
                .map(|m| m.title.get(lang).to_owned())
                .unwrap_or_default();
            (url, format!("{owner} – {module}"))
        })
        .collect()
}

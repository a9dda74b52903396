//! The course leader's page of a course run: every participant of every linked LMS course, with
//! their municipality, filtered by municipality, LMS course and group, and everything waiting for
//! review across the run, each opened in the review page of its own LMS course.
use askama::Template;
use axum::{
    Form,
    extract::{Query, State, rejection::FormRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::person_name;
use crate::{
    i18n::Lang,
    learning::leader::{self, LeaderError, RunDashboard, RunFilter},
    state::{App, AppState},
    web::{
        error::{AppError, form_or_400, render},
        launched::Launched,
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
    run_id: i64,
    aggregates_url: String,
    csv_url: String,
    occasion_action: String,
    /// (slug, title) of the run's modules, for the occasion form.
    module_choices: Vec<(String, String)>,
    /// The run's workshop occasions, as the participants see them.
    occasions: Vec<String>,
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
    run: Option<i64>,
    notice: Option<String>,
}

/// `GET /leader`.
pub async fn show_run(
    State(app): State<AppState>,
    Query(query): Query<RunQuery>,
    launched: Launched,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let (board, filter) = run_board(&app, &launched, &query).await?;
    let notice = match query.notice.as_deref() {
        Some("decided") => Some(lang.t("instructor-decided").to_owned()),
        Some("occasion") => Some(lang.t("instructor-occasion-saved").to_owned()),
        _ => None,
    };
    let page = run_page(&app, &launched, board, filter, notice);
    Ok(render(&page, StatusCode::OK))
}

/// The run the query names, with its filters, as the person who asks may see it (403 for anyone
/// who does not lead it): what the page and its CSV both show.
async fn run_board(
    app: &App,
    launched: &Launched,
    query: &RunQuery,
) -> Result<(RunDashboard, RunFilter), AppError> {
    let lang = launched.lang;
    let filter = RunFilter {
        organisation: query.organisation.clone().unwrap_or_default(),
        lms_course: query.lms_course.clone().unwrap_or_default(),
        group: query.group.clone().unwrap_or_default(),
    };
    let board = leader::run_dashboard(&app.db, &app.courses, &launched.session, query.run, &filter)
        .await
        .map_err(|err| match err {
            LeaderError::Course(error) => AppError::Course { error, lang },
            _ => AppError::Forbidden { lang },
        })?;
    Ok((board, filter))
}

fn run_page(
    app: &App,
    launched: &Launched,
    board: RunDashboard,
    filter: RunFilter,
    notice: Option<String>,
) -> RunPage {
    let lang = launched.lang;
    let token = launched.token();
    let package = &board.course.package;
    RunPage {
        page: PageContext::launched(app, lang, token),
        run_name: board.run.name.clone(),
        run_id: board.run.id,
        aggregates_url: format!(
            "{}&run={}",
            page_url(app, "leader/assessments", token),
            board.run.id
        ),
        csv_url: format!(
            "{}&run={}",
            page_url(app, "leader/participants.csv", token),
            board.run.id
        ),
        occasion_action: format!(
            "{}&run={}",
            page_url(app, "leader/occasions", token),
            board.run.id
        ),
        module_choices: package
            .modules
            .iter()
            .map(|m| (m.slug.clone(), m.title.get(lang).to_owned()))
            .collect(),
        occasions: board
            .occasions
            .iter()
            .filter_map(|o| {
                let module = package.modules.iter().find(|m| m.slug == o.module_slug)?;
                Some(format!(
                    "{}: {} {}, {}",
                    module.workshop.get(lang),
                    crate::i18n::format_date(o.starts_at),
                    crate::i18n::format_time(o.starts_at),
                    o.place
                ))
            })
            .collect(),
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

/// `GET /leader/participants.csv`: the rows the page shows (with its filters), as CSV.
pub async fn download_run(
    State(app): State<AppState>,
    Query(query): Query<RunQuery>,
    launched: Launched,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let (board, _) = run_board(&app, &launched, &query).await?;
    let csv = run_csv(lang, &board);
    let headers = [
        (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (
            axum::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"kursomgang-deltagare.csv\"",
        ),
    ];
    Ok((headers, csv).into_response())
}

/// The run's rows as CSV: name, organisation, LMS course, and the status of each module.
fn run_csv(lang: crate::i18n::Lang, board: &RunDashboard) -> String {
    use crate::admin::reports::csv_cell;
    let line = |cells: &[String]| {
        cells
            .iter()
            .map(|c| csv_cell(c))
            .collect::<Vec<_>>()
            .join(",")
            + "\r\n"
    };
    let mut header = vec![
        lang.t("instructor-participant").to_owned(),
        lang.t("leader-organisation").to_owned(),
        lang.t("leader-lms-course").to_owned(),
    ];
    header.extend(
        board
            .course
            .package
            .modules
            .iter()
            .map(|m| m.title.get(lang).to_owned()),
    );
    let mut csv = line(&header);
    for row in &board.rows {
        let mut cells = vec![
            person_name(lang, Some(&row.person)),
            row.organisation.clone().unwrap_or_default(),
            row.lms_course.clone(),
        ];
        cells.extend(
            row.statuses
                .iter()
                .map(|s| lang.t(s.label_key()).to_owned()),
        );
        csv += &line(&cells);
    }
    csv
}

/// The run's workshop occasion form.
#[derive(Debug, Deserialize)]
pub struct RunOccasionForm {
    module: Option<String>,
    date: Option<String>,
    time: Option<String>,
    place: Option<String>,
}

/// `POST /leader/occasions`: a workshop occasion for every LMS course of the run.
pub async fn set_run_occasion(
    State(app): State<AppState>,
    Query(query): Query<RunQuery>,
    launched: Launched,
    form: Result<Form<RunOccasionForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let form = form_or_400(form, lang)?;
    let (date, time) = (form.date.unwrap_or_default(), form.time.unwrap_or_default());
    let (module, place) = (
        form.module.unwrap_or_default(),
        form.place.unwrap_or_default(),
    );
    let occasion = (
        module.as_str(),
        crate::i18n::parse_local(&date, &time),
        place.as_str(),
    );
    let (session, now_ms) = (&launched.session, app.clock.now_ms());
    let set = leader::set_run_occasion(&app.db, &app.courses, session, query.run, occasion, now_ms);
    let contexts = set.await.map_err(|err| occasion_refused(err, lang))?;
    for context in contexts {
        app.occasions.remove(&context);
    }
    let back = format!(
        "{}&run={}&notice=occasion",
        page_url(&app, "leader", launched.token()),
        query.run.unwrap_or_default()
    );
    Ok(Redirect::to(&back).into_response())
}

fn occasion_refused(
    err: crate::learning::review::OccasionError,
    lang: crate::i18n::Lang,
) -> AppError {
    use crate::learning::review::OccasionError;
    match err {
        OccasionError::NotLeader => AppError::Forbidden { lang },
        OccasionError::Course(error) => AppError::Course { error, lang },
        other => AppError::BadRequest {
            detail: other.to_string(),
            lang,
        },
    }
}

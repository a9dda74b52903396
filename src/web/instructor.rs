//! The instructor's pages: the dashboard of an LMS course (participants × modules, what waits for
//! review, workshop occasions) and one submission with its history, feedback, return and approve.
//! Every handler checks the role from the signed session, and every query is bounded by the
//! session's context: an id from another LMS course is simply not found.
use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::course::{course_error, page_url, require_session};
use crate::{
    error::{AppError, form_or_400, render},
    i18n::{Lang, format_date, format_time},
    learning::{
        completion::{ModuleStatus, SubmissionStatus},
        participant::{self, ContextCourse},
        review::{self, Decision},
    },
    lti::claims::ToolRole,
    session::Session,
    state::{App, AppState},
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
}

/// The session of an instructor of the context, or 403.
pub(crate) async fn require_instructor(
    app: &App,
    token: Option<&str>,
    headers: &HeaderMap,
) -> Result<Session, AppError> {
    let session = require_session(app, token, headers).await?;
    let lang = Lang::from_locale(Some(&session.lang));
    if session.role != ToolRole::Instructor || session.cid.is_none() {
        tracing::warn!(
            user = session.uid,
            "instructor page refused to a non-instructor"
        );
        return Err(AppError::Forbidden { lang });
    }
    Ok(session)
}

/// The instructor's session, its token (for the page's links) and the page language, or 403.
pub(crate) async fn instructor_request(
    app: &App,
    query: &InstructorQuery,
    headers: &HeaderMap,
) -> Result<(Session, String, Lang), AppError> {
    let session = require_instructor(app, query.session.as_deref(), headers).await?;
    let lang = Lang::from_locale(Some(&session.lang));
    let token = session.link_token.clone();
    Ok((session, token, lang))
}

pub(crate) async fn course_of(app: &App, session: &Session) -> Result<ContextCourse, AppError> {
    let lang = Lang::from_locale(Some(&session.lang));
    app.courses
        .for_session(&app.db, session)
        .await
        .map_err(|err| course_error(err, lang))
}

fn db_error(lang: Lang) -> impl Fn(sea_orm::DbErr) -> AppError {
    move |err| course_error(err.into(), lang)
}

const STATUSES: [ModuleStatus; 6] = [
    ModuleStatus::NotStarted,
    ModuleStatus::InProgress,
    ModuleStatus::Submitted,
    ModuleStatus::Returned,
    ModuleStatus::Approved,
    ModuleStatus::Complete,
];

fn status_slug(status: ModuleStatus) -> &'static str {
    match status {
        ModuleStatus::NotStarted => "not-started",
        ModuleStatus::InProgress => "in-progress",
        ModuleStatus::Submitted => "submitted",
        ModuleStatus::Returned => "returned",
        ModuleStatus::Approved => "approved",
        ModuleStatus::Complete => "complete",
    }
}

struct Row {
    name: String,
    cells: Vec<(&'static str, &'static str)>,
    /// Whether the LMS gradebook has the latest score: (text, slug), when the course sends scores.
    gradebook: Option<(String, &'static str)>,
}

struct Link {
    url: String,
    label: String,
}

#[derive(Template)]
#[template(path = "instructor_dashboard.html")]
struct DashboardPage<'a> {
    lang: Lang,
    assets_base: &'a str,
    accessibility_url: String,
    overview_url: String,
    filter_action: String,
    occasion_action: String,
    session: &'a str,
    course_title: &'a str,
    /// The LMS course receives scores: show whether each gradebook is up to date.
    grades_sent: bool,
    context_title: Option<&'a str>,
    welcome: String,
    notice: Option<(&'static str, String)>,
    roster_action: String,
    aggregates_url: String,
    admin_url: Option<String>,
    group_action: String,
    move_action: String,
    version_action: String,
    current_version: String,
    other_versions: Vec<(i64, String)>,
    groups: Vec<(String, String, Vec<String>)>,
    people: Vec<(i64, String)>,
    waiting_text: String,
    waiting: Vec<Link>,
    modules: Vec<(String, String)>,
    shown_modules: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    filter_module: String,
    filter_status: String,
    filter_group: String,
    rows: Vec<Row>,
    occasions: Vec<String>,
}

fn person_name(lang: Lang, person: Option<&entity::lti_user::Model>) -> String {
    person
        .and_then(|p| p.name.clone().or_else(|| p.given_name.clone()))
        .unwrap_or_else(|| lang.t("instructor-unnamed").to_owned())
}

/// Renders the dashboard of the session's context.
pub async fn dashboard(
    app: &App,
    session: &Session,
    token: &str,
    query: &InstructorQuery,
) -> Result<Response, AppError> {
    let lang = Lang::from_locale(Some(&session.lang));
    let course = course_of(app, session).await?;
    let review::InstructorDashboard {
        board,
        gradebook,
        placements,
        groups: group_rows,
        waiting_people: people,
        occasions,
        organisation,
        other_versions,
    } = review::instructor_dashboard(&app.db, &course, session.did)
        .await
        .map_err(db_error(lang))?;
    let modules: Vec<(String, String)> = course
        .package
        .modules
        .iter()
        .map(|m| (m.slug.clone(), m.title.get(lang).to_owned()))
        .collect();
    let grades_sent = gradebook.is_some();
    let deliveries = gradebook.unwrap_or_default();
    let gradebook_of = |person: i64| {
        grades_sent.then(|| {
            let delivery = crate::grades::Delivery::of(
                deliveries
                    .get(&person)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            );
            let (key, slug) = delivery.label();
            let text = match &delivery {
                crate::grades::Delivery::NotGradable(why) => {
                    lang.tf(key, &[("reason", why.as_str())])
                }
                _ => lang.t(key).to_owned(),
            };
            (text, slug)
        })
    };
    let filter_module = query.module.clone().unwrap_or_default();
    let filter_status = query.status.clone().unwrap_or_default();
    let module_index = modules.iter().position(|(slug, _)| *slug == filter_module);
    let shown: Vec<usize> = match module_index {
        Some(index) => vec![index],
        None => (0..modules.len()).collect(),
    };
    let filter_group = query.group.clone().unwrap_or_default();
    let in_group = |person: i64| match filter_group.as_str() {
        "" => true,
        "municipality" => !placements.contains_key(&person),
        id => id
            .parse::<i64>()
            .is_ok_and(|id| placements.get(&person) == Some(&id)),
    };
    let rows = board
        .rows
        .iter()
        .filter(|row| in_group(row.person.id))
        .filter(|row| {
            filter_status.is_empty()
                || shown.iter().any(|&i| {
                    row.statuses
                        .get(i)
                        .is_some_and(|s| status_slug(*s) == filter_status)
                })
        })
        .map(|row| Row {
            name: person_name(lang, Some(&row.person)),
            cells: shown
                .iter()
                .filter_map(|&i| row.statuses.get(i))
                .map(|status| (lang.t(status.label_key()), status_slug(*status)))
                .collect(),
            gradebook: gradebook_of(row.person.id),
        })
        .collect();
    let waiting = board
        .waiting
        .iter()
        .map(|row| {
            let module = course.module(&row.module_slug).ok();
            let task_number = module
                .and_then(|m| m.tasks().position(|t| t.slug == row.task_slug))
                .map(|i| i + 1)
                .unwrap_or(0);
            Link {
                url: page_url(app, &format!("instructor/submissions/{}", row.id), token),
                label: format!(
                    "{} – {}, {}",
                    owner_label(lang, row, &people),
                    module.map(|m| m.title.get(lang)).unwrap_or_default(),
                    lang.tf("task-heading", &[("n", &task_number.to_string())])
                ),
            }
        })
        .collect::<Vec<_>>();
    let default_group = organisation.unwrap_or_else(|| lang.t("groups-municipality").to_owned());
    let members_of = |group: Option<i64>| -> Vec<String> {
        board
            .rows
            .iter()
            .filter(|row| placements.get(&row.person.id).copied() == group)
            .map(|row| person_name(lang, Some(&row.person)))
            .collect()
    };
    let mut groups = vec![(String::new(), default_group, members_of(None))];
    groups.extend(
        group_rows
            .iter()
            .map(|g| (g.id.to_string(), g.name.clone(), members_of(Some(g.id)))),
    );
    let occasions = course
        .package
        .modules
        .iter()
        .filter_map(|m| {
            occasions.get(&m.slug).map(|o| {
                format!(
                    "{}: {} {}, {}",
                    m.workshop.get(lang),
                    format_date(o.starts_at),
                    format_time(o.starts_at),
                    o.place
                )
            })
        })
        .collect();
    let page = DashboardPage {
        lang,
        assets_base: app.public_base.as_str(),
        accessibility_url: page_url(app, "accessibility", token),
        overview_url: page_url(app, "course", token),
        filter_action: app.url("instructor").to_string(),
        occasion_action: page_url(app, "instructor/occasions", token),
        session: token,
        course_title: course.package.title.get(lang),
        grades_sent,
        context_title: session.ctx.as_deref(),
        welcome: super::course::welcome(lang, session.name.as_deref()),
        notice: match query.notice.as_deref() {
            Some("occasion") => Some(("info", lang.t("instructor-occasion-saved").to_owned())),
            Some("decided") => Some(("info", lang.t("instructor-decided").to_owned())),
            Some("synced") => Some((
                "info",
                lang.tf(
                    "instructor-roster-synced",
                    &[("count", &query.count.unwrap_or(0).to_string())],
                ),
            )),
            Some("not-offered") => Some((
                "warning",
                lang.t("instructor-roster-not-offered").to_owned(),
            )),
            Some("sync-failed") => Some(("warning", lang.t("instructor-roster-failed").to_owned())),
            _ => None,
        },
        roster_action: page_url(app, "instructor/roster", token),
        aggregates_url: page_url(app, "instructor/assessments", token),
        admin_url: super::admin::has_admin_role(app, session)
            .await
            .map_err(db_error(lang))?
            .then(|| page_url(app, "admin", token)),
        group_action: page_url(app, "instructor/groups", token),
        version_action: page_url(app, "instructor/version", token),
        current_version: course.package.version.clone(),
        other_versions: other_versions
            .into_iter()
            .map(|v| (v.id, v.version))
            .collect(),
        move_action: page_url(app, "instructor/groups/move", token),
        groups,
        people: board
            .rows
            .iter()
            .map(|row| (row.person.id, person_name(lang, Some(&row.person))))
            .collect(),
        waiting_text: lang.tf(
            "instructor-waiting-count",
            &[("count", &waiting.len().to_string())],
        ),
        waiting,
        shown_modules: shown
            .iter()
            .filter_map(|&i| modules.get(i).cloned())
            .collect(),
        modules,
        statuses: STATUSES
            .iter()
            .map(|s| (status_slug(*s), lang.t(s.label_key())))
            .collect(),
        filter_module,
        filter_status,
        filter_group,
        rows,
        occasions,
    };
    Ok(render(&page, StatusCode::OK))
}

fn owner_label(
    lang: Lang,
    row: &entity::submission::Model,
    people: &std::collections::HashMap<i64, entity::lti_user::Model>,
) -> String {
    if row.owner_key.starts_with("g:") {
        lang.t("instructor-group-answer").to_owned()
    } else {
        let id = row
            .owner_key
            .trim_start_matches("u:")
            .parse::<i64>()
            .unwrap_or(row.updated_by);
        person_name(lang, people.get(&id))
    }
}

/// `GET /instructor`.
pub async fn show_dashboard(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<InstructorQuery>,
) -> Result<Response, AppError> {
    let session = require_instructor(&app, query.session.as_deref(), &headers).await?;
    let token = session.link_token.clone();
    dashboard(&app, &session, &token, &query).await
}

#[derive(Template)]
#[template(path = "instructor_submission.html")]
struct SubmissionPage<'a> {
    lang: Lang,
    assets_base: &'a str,
    accessibility_url: String,
    dashboard_url: String,
    action_url: String,
    module_title: String,
    task_heading: String,
    owner: String,
    notice: Option<(&'static str, &'static str)>,
    status_label: &'static str,
    status_class: &'static str,
    answers: Vec<(String, String)>,
    reviewable: bool,
    version: i64,
    feedback: String,
    history: Vec<String>,
    versions: Vec<(String, Vec<String>)>,
}

async fn submission_page(
    app: &App,
    session: &Session,
    token: &str,
    id: i64,
    notice: Option<(&'static str, &'static str)>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = Lang::from_locale(Some(&session.lang));
    let course = course_of(app, session).await?;
    let review::SubmissionTrail {
        submission: row,
        events,
        revisions,
        people,
    } = review::submission_trail(&app.db, &course, id)
        .await
        .map_err(db_error(lang))?
        .ok_or(AppError::NotFound { lang })?;
    let module = course
        .module(&row.module_slug)
        .map_err(|err| course_error(err, lang))?;
    let task = module
        .task(&row.task_slug)
        .ok_or(AppError::NotFound { lang })?;
    let number = module
        .tasks()
        .position(|t| t.slug == task.slug)
        .unwrap_or(0)
        + 1;
    let status_value = SubmissionStatus::parse(&row.status);
    let (status_key, status_class) = match status_value {
        Some(SubmissionStatus::Submitted) => ("status-submitted", "submitted"),
        Some(SubmissionStatus::Returned) => ("status-returned", "returned"),
        Some(SubmissionStatus::Approved) => ("status-approved", "approved"),
        _ => ("status-draft", "in-progress"),
    };
    let status_name = |value: &str| -> &'static str {
        lang.t(match value {
            "submitted" => "status-submitted",
            "returned" => "status-returned",
            "approved" => "status-approved",
            _ => "status-draft",
        })
    };
    let answers = participant::answers_of(&row);
    let page = SubmissionPage {
        lang,
        assets_base: app.public_base.as_str(),
        accessibility_url: page_url(app, "accessibility", token),
        dashboard_url: page_url(app, "instructor", token),
        action_url: page_url(app, &format!("instructor/submissions/{id}"), token),
        module_title: module.title.get(lang).to_owned(),
        task_heading: lang.tf("task-heading", &[("n", &number.to_string())]),
        owner: owner_label(lang, &row, &people),
        notice,
        status_label: lang.t(status_key),
        status_class,
        answers: task
            .prompts
            .iter()
            .enumerate()
            .map(|(i, prompt)| {
                (
                    prompt.get(lang).to_owned(),
                    answers.get(i).cloned().unwrap_or_default(),
                )
            })
            .collect(),
        reviewable: status_value == Some(SubmissionStatus::Submitted),
        version: row.version,
        feedback: row.feedback.clone().unwrap_or_default(),
        history: events
            .iter()
            .map(|e| {
                format!(
                    "{} {}: {} – {} → {}",
                    format_date(e.at),
                    format_time(e.at),
                    person_name(lang, people.get(&e.actor_id)),
                    status_name(&e.from_status),
                    status_name(&e.to_status)
                )
            })
            .collect(),
        versions: revisions
            .iter()
            .map(|r| {
                let mut label = format!(
                    "{} {} · {}",
                    format_date(r.created_at),
                    format_time(r.created_at),
                    person_name(lang, people.get(&r.author_id))
                );
                if r.conflict {
                    label.push_str(&format!(" · {}", lang.t("instructor-conflict-copy")));
                }
                (
                    label,
                    serde_json::from_str::<Vec<String>>(&r.answers).unwrap_or_default(),
                )
            })
            .collect(),
    };
    Ok(render(&page, status))
}

/// `GET /instructor/submissions/{id}`.
pub async fn show_submission(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<InstructorQuery>,
) -> Result<Response, AppError> {
    let session = require_instructor(&app, query.session.as_deref(), &headers).await?;
    let token = session.link_token.clone();
    submission_page(&app, &session, &token, id, None, StatusCode::OK).await
}

/// The review form.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    version: Option<i64>,
    feedback: Option<String>,
    decision: Option<String>,
}

/// `POST /instructor/submissions/{id}`: return or approve.
pub async fn review_submission(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<InstructorQuery>,
    form: Result<Form<ReviewForm>, FormRejection>,
) -> Result<Response, AppError> {
    let (session, token, lang) = instructor_request(&app, &query, &headers).await?;
    let form = form_or_400(form, lang)?;
    let decision = match form.decision.as_deref() {
        Some("return") => Decision::Return,
        Some("approve") => Decision::Approve,
        _ => {
            return Err(AppError::BadRequest {
                detail: "decision must be return or approve".into(),
                lang,
            });
        }
    };
    let feedback: String = form
        .feedback
        .unwrap_or_default()
        .trim()
        .chars()
        .take(app.config.max_answer_chars)
        .collect();
    if decision == Decision::Return && feedback.is_empty() {
        return submission_page(
            &app,
            &session,
            &token,
            id,
            Some(("warning", lang.t("instructor-feedback-needed"))),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let course = course_of(&app, &session).await?;
    let decided = crate::learning::review::decide(
        &app.db,
        &course,
        review::DecisionRecord {
            context_id: course.context_id,
            submission_id: id,
            version: form.version.unwrap_or(-1),
            to_status: decision.status().as_str(),
            feedback: Some(feedback).filter(|f| !f.is_empty()),
            actor_id: session.uid,
            now: crate::lti::now_unix(),
        },
    )
    .await
    .map_err(db_error(lang))?;
    if decided.is_none() {
        // Not in this context, or changed since the page was read: say so with the current state.
        return submission_page(
            &app,
            &session,
            &token,
            id,
            Some(("warning", lang.t("instructor-stale"))),
            StatusCode::CONFLICT,
        )
        .await;
    }
    tracing::info!(submission = id, decision = ?decision, instructor = session.uid, "review decision");
    Ok(back_to_dashboard(&app, &token, "decided"))
}

/// The workshop occasion form.
#[derive(Debug, Deserialize)]
pub struct OccasionForm {
    module: Option<String>,
    date: Option<String>,
    time: Option<String>,
    place: Option<String>,
}

/// `POST /instructor/occasions`.
pub async fn set_occasion(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<InstructorQuery>,
    form: Result<Form<OccasionForm>, FormRejection>,
) -> Result<Response, AppError> {
    let (session, token, lang) = instructor_request(&app, &query, &headers).await?;
    let bad = |detail: &str| AppError::BadRequest {
        detail: detail.to_owned(),
        lang,
    };
    let form = crate::error::form_or_400(form, lang)?;
    let course = course_of(&app, &session).await?;
    let module = form.module.unwrap_or_default();
    course
        .module(&module)
        .map_err(|err| course_error(err, lang))?;
    let starts_at = crate::i18n::parse_local(
        &form.date.unwrap_or_default(),
        &form.time.unwrap_or_default(),
    )
    .ok_or_else(|| bad("date must be YYYY-MM-DD and time HH:MM"))?;
    let place: String = form
        .place
        .unwrap_or_default()
        .trim()
        .chars()
        .take(500)
        .collect();
    if place.is_empty() {
        return Err(bad("place or meeting link is required"));
    }
    review::set_occasion(&app.db, &course, &module, starts_at, &place)
        .await
        .map_err(db_error(lang))?;
    app.occasions.remove(&course.context_id);
    Ok(back_to_dashboard(&app, &token, "occasion"))
}

/// `POST /instructor/roster`: reads the roster from the platform now.
pub async fn sync_roster(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<InstructorQuery>,
) -> Result<Response, AppError> {
    let session = require_instructor(&app, query.session.as_deref(), &headers).await?;
    let token = session.link_token.clone();
    let context_id = session.cid.unwrap_or_default();
    let outcome: Vec<(&str, String)> = match crate::learning::roster::sync(&app, context_id).await {
        Ok(count) => vec![("notice", "synced".into()), ("count", count.to_string())],
        Err(crate::learning::roster::SyncError::NotOffered) => {
            vec![("notice", "not-offered".into())]
        }
        Err(err) => {
            tracing::warn!(context = context_id, error = %err, "roster sync failed");
            vec![("notice", "sync-failed".into())]
        }
    };
    let mut target = app.url("instructor");
    target
        .query_pairs_mut()
        .append_pair("session", &token)
        .extend_pairs(outcome);
    Ok(Redirect::to(target.as_str()).into_response())
}

/// The new-group form.
#[derive(Debug, Deserialize)]
pub struct GroupForm {
    name: Option<String>,
}

/// `POST /instructor/groups`: makes a group in this LMS course.
pub async fn create_group(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<InstructorQuery>,
    form: Result<Form<GroupForm>, FormRejection>,
) -> Result<Response, AppError> {
    let (session, token, lang) = instructor_request(&app, &query, &headers).await?;
    let form = form_or_400(form, lang)?;
    let name: String = form
        .name
        .unwrap_or_default()
        .trim()
        .chars()
        .take(100)
        .collect();
    if name.is_empty() {
        return Err(AppError::BadRequest {
            detail: "a group needs a name".into(),
            lang,
        });
    }
    let course = course_of(&app, &session).await?;
    review::create_group(&app.db, &course, &name)
        .await
        .map_err(db_error(lang))?;
    Ok(back_to_dashboard(&app, &token, "group-created"))
}

/// The move form.
#[derive(Debug, Deserialize)]
pub struct MoveForm {
    person: Option<i64>,
    group: Option<String>,
}

/// `POST /instructor/groups/move`: places a participant in a group (or back in the municipality's).
pub async fn move_member(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<InstructorQuery>,
    form: Result<Form<MoveForm>, FormRejection>,
) -> Result<Response, AppError> {
    let (session, token, lang) = instructor_request(&app, &query, &headers).await?;
    let form = form_or_400(form, lang)?;
    let course = course_of(&app, &session).await?;
    let person = form.person.unwrap_or(-1);
    let group = match form.group.as_deref().unwrap_or_default() {
        "" => None,
        id => Some(id.parse::<i64>().map_err(|_| AppError::NotFound { lang })?),
    };
    crate::learning::review::place_member(&app.db, &course, person, group)
        .await
        .map_err(|err| match err {
            crate::learning::review::PlaceError::NotInCourse => AppError::NotFound { lang },
            crate::learning::review::PlaceError::Db(err) => db_error(lang)(err),
        })?;
    Ok(back_to_dashboard(&app, &token, "moved"))
}

fn back_to_dashboard(app: &App, token: &str, notice: &str) -> Response {
    let mut target = app.url("instructor");
    target
        .query_pairs_mut()
        .append_pair("session", token)
        .append_pair("notice", notice);
    Redirect::to(target.as_str()).into_response()
}

/// The version form.
#[derive(Debug, Deserialize)]
pub struct VersionForm {
    version: Option<i64>,
}

/// `POST /instructor/version`: moves this LMS course to another version of the same course.
/// Answers stay: modules and tasks keep their slugs across versions.
pub async fn move_version(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<InstructorQuery>,
    form: Result<Form<VersionForm>, FormRejection>,
) -> Result<Response, AppError> {
    let (session, token, lang) = instructor_request(&app, &query, &headers).await?;
    let form = form_or_400(form, lang)?;
    let course = course_of(&app, &session).await?;
    let target = form.version.unwrap_or(-1);
    let moved = app
        .courses
        .move_to_version(&app.db, &course, target)
        .await
        .map_err(|err| course_error(err, lang))?;
    if !moved {
        return Err(AppError::NotFound { lang });
    }
    tracing::info!(
        context = course.context_id,
        version = target,
        instructor = session.uid,
        "course version moved"
    );
    Ok(back_to_dashboard(&app, &token, "version-moved"))
}

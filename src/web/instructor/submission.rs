//! One submission with its trail, and the instructor's decision on it.
use askama::Template;
use axum::{
    Form,
    extract::{Path, State, rejection::FormRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::dashboard::owner_label;
use super::{Instructor, back_to_dashboard, course_in_view, person_name};
use crate::web::page::page_url;
use crate::web::page::{PageContext, page_template};
use crate::{
    course::completion::SubmissionStatus,
    i18n::{Lang, format_date, format_time},
    learning::{
        context::ContextCourse,
        participant,
        review::{self},
    },
    state::{App, AppState},
    web::error::{AppError, InLang, form_or_400, render},
};

#[derive(Template)]
#[template(path = "instructor_submission.html")]
struct SubmissionPage {
    page: PageContext,
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
    /// The previous and next waiting answers of the review queue.
    previous_url: Option<String>,
    next_url: Option<String>,
}

async fn submission_page(
    app: &App,
    instructor: &Instructor,
    id: i64,
    notice: Option<(&'static str, &'static str)>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = instructor.lang;
    let course = course_in_view(app, instructor).await?;
    let trail = review::submission_trail(&app.db, &course, id)
        .await
        .in_lang(lang)?
        .ok_or(AppError::NotFound { lang })?;
    let page = submission_view(app, instructor, &course, trail, notice)?;
    Ok(render(&page, status))
}

fn submission_view(
    app: &App,
    instructor: &Instructor,
    course: &ContextCourse,
    trail: review::SubmissionTrail,
    notice: Option<(&'static str, &'static str)>,
) -> Result<SubmissionPage, AppError> {
    let (lang, token) = (instructor.lang, instructor.token.as_str());
    let review::SubmissionTrail {
        submission: row,
        events,
        revisions,
        people,
        neighbours,
    } = trail;
    let submission_url = |id: i64| match instructor.course {
        Some(course) => format!(
            "{}&course={course}",
            page_url(app, &format!("instructor/submissions/{id}"), token)
        ),
        None => page_url(app, &format!("instructor/submissions/{id}"), token),
    };
    let module = course.module(&row.module_slug).in_lang(lang)?;
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
    let answers = participant::answers_of(&row);
    Ok(SubmissionPage {
        page: PageContext::launched(app, lang, token),
        dashboard_url: match instructor.course {
            Some(_) => page_url(app, "leader", token),
            None => page_url(app, "instructor", token),
        },
        action_url: submission_url(row.id),
        previous_url: neighbours.0.map(submission_url),
        next_url: neighbours.1.map(submission_url),
        module_title: module.title.get(lang).to_owned(),
        task_heading: lang.task_heading(number),
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
            .map(|e| history_line(lang, e, &people))
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
    })
}

/// "1 dec 2026 14:05: Åsa – Inlämnad → Godkänd".
fn history_line(
    lang: Lang,
    event: &entity::submission_event::Model,
    people: &std::collections::HashMap<i64, entity::lti_user::Model>,
) -> String {
    let status_name = |value: &str| -> &'static str {
        lang.t(match value {
            "submitted" => "status-submitted",
            "returned" => "status-returned",
            "approved" => "status-approved",
            _ => "status-draft",
        })
    };
    format!(
        "{} {}: {} – {} → {}",
        format_date(event.at),
        format_time(event.at),
        person_name(lang, people.get(&event.actor_id)),
        status_name(&event.from_status),
        status_name(&event.to_status)
    )
}

/// `GET /instructor/submissions/{id}`.
pub async fn show_submission(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    instructor: Instructor,
) -> Result<Response, AppError> {
    submission_page(&app, &instructor, id, None, StatusCode::OK).await
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
    Path(id): Path<i64>,
    instructor: Instructor,
    form: Result<Form<ReviewForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = instructor.lang;
    let form = form_or_400(form, lang)?;
    let course = course_in_view(&app, &instructor).await?;
    let request = review::ReviewRequest {
        decision: form.decision.as_deref(),
        feedback: form.feedback.as_deref(),
        version: form.version,
        max_chars: app.config.max_answer_chars,
        actor_id: instructor.session.uid,
        mail: app.mail.is_some(),
    };
    let reviewed = review::review(&app.db, &course, id, request, app.clock.now_ms())
        .await
        .map_err(|err| review_error(err, lang))?;
    if let review::Reviewed::Decided(decision) = reviewed {
        let by = instructor.session.uid;
        tracing::info!(
            submission = id,
            ?decision,
            instructor = by,
            "review decision"
        );
        return Ok(after_decision(&app, &instructor));
    }
    let (key, status) = refusal(&reviewed);
    let notice = Some(("warning", lang.t(key)));
    submission_page(&app, &instructor, id, notice, status).await
}

/// Back to where the review began: the course run's dashboard for a course leader reviewing
/// another LMS course of it, else the instructor's.
fn after_decision(app: &App, instructor: &Instructor) -> Response {
    if instructor.course.is_some() {
        let run = page_url(app, "leader", &instructor.token);
        return axum::response::Redirect::to(&format!("{run}&notice=decided")).into_response();
    }
    back_to_dashboard(app, &instructor.token, "decided")
}

/// What the page says when a review was not recorded.
fn refusal(reviewed: &review::Reviewed) -> (&'static str, StatusCode) {
    match reviewed {
        review::Reviewed::FeedbackNeeded => (
            "instructor-feedback-needed",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // Not in this context, or changed since the page was read: say so with the current state.
        review::Reviewed::Stale | review::Reviewed::Decided(_) => {
            ("instructor-stale", StatusCode::CONFLICT)
        }
    }
}

fn review_error(err: review::ReviewError, lang: Lang) -> AppError {
    match err {
        review::ReviewError::UnknownDecision => AppError::BadRequest {
            detail: err.to_string(),
            lang,
        },
        review::ReviewError::Db(err) => AppError::Course {
            error: err.into(),
            lang,
        },
    }
}

page_template!(SubmissionPage);

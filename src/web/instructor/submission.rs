//! One submission with its trail, and the instructor's decision on it.
use super::{dashboard::owner_label, *};
use crate::web::page::{PageContext, page_template};

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
}

async fn submission_page(
    app: &App,
    session: &Session,
    token: &str,
    id: i64,
    notice: Option<(&'static str, &'static str)>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = session.page_language();
    let course = course_of(app, session).await?;
    let review::SubmissionTrail {
        submission: row,
        events,
        revisions,
        people,
    } = review::submission_trail(&app.db, &course, id)
        .await
        .in_lang(lang)?
        .ok_or(AppError::NotFound { lang })?;
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
        page: PageContext::launched(app, lang, token),
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
    Path(id): Path<i64>,
    Instructor { session, token, .. }: Instructor,
) -> Result<Response, AppError> {
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
    Path(id): Path<i64>,
    Instructor {
        session,
        token,
        lang,
    }: Instructor,
    form: Result<Form<ReviewForm>, FormRejection>,
) -> Result<Response, AppError> {
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
            now: app.clock.now_unix(),
        },
        app.clock.now_ms(),
    )
    .await
    .in_lang(lang)?;
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

page_template!(SubmissionPage);

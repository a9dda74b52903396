//! Saving a task's answers: as a draft or submitted from the form, and automatically while typing.
use axum::{
    Form, Json,
    extract::{Path, State, rejection::FormRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use super::{
    Notice,
    module::{PageCtx, TaskState, module_page},
};
use crate::{
    i18n::Lang,
    learning::{
        context::ContextCourse,
        participant::{self, AnswerLimits, SaveAction, SaveOutcome},
    },
    state::{App, AppState},
    web::{
        error::{AppError, InLang, form_or_400},
        launched::Launched,
    },
};

/// The answers and intent of a task form.
struct TaskForm {
    answers: Vec<String>,
    version: i64,
    action: Option<String>,
}

fn read_form(fields: Vec<(String, String)>) -> TaskForm {
    let mut answers: Vec<(usize, String)> = Vec::new();
    let mut version = 0;
    let mut action = None;
    for (name, value) in fields {
        if let Some(index) = name
            .strip_prefix("answer_")
            .and_then(|i| i.parse::<usize>().ok())
        {
            if index < 100 {
                answers.push((index, value));
            }
        } else if name == "version" {
            version = value.trim().parse().unwrap_or(0);
        } else if name == "action" {
            action = Some(value);
        }
    }
    let size = answers.iter().map(|(i, _)| i + 1).max().unwrap_or(0);
    let mut ordered = vec![String::new(); size];
    for (index, value) in answers {
        if let Some(slot) = ordered.get_mut(index) {
            *slot = value;
        }
    }
    TaskForm {
        answers: ordered,
        version,
        action,
    }
}

async fn save(
    app: &App,
    launched: &Launched,
    (module, task): (&str, &str),
    form: &TaskForm,
    action: SaveAction,
) -> Result<(ContextCourse, SaveOutcome), AppError> {
    let sent = participant::TaskAnswers {
        module,
        task,
        answers: form.answers.clone(),
        base_version: form.version,
        action,
    };
    let limits = AnswerLimits {
        max_chars: app.config.max_answer_chars,
    };
    let (db, now_ms) = (&app.db, app.clock.now_ms());
    participant::save_to_task(db, &app.courses, &launched.session, sent, limits, now_ms)
        .await
        .in_lang(launched.lang)
}

/// `POST /course/m/{module}/t/{task}`: save as draft or submit.
pub async fn save_task(
    State(app): State<AppState>,
    Path((module_slug, task_slug)): Path<(String, String)>,
    launched: Launched,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let form = read_form(form_or_400(form, lang)?);
    let action = match form.action.as_deref() {
        Some("submit") => SaveAction::Submit,
        _ => SaveAction::Draft,
    };
    let slugs = (module_slug.as_str(), task_slug.as_str());
    let (course, outcome) = save(&app, &launched, slugs, &form, action).await?;
    let (status, state) = match refused(lang, outcome, &form) {
        Ok(refused) => refused,
        Err(submitted) => return Ok(back_to_task(&app, &launched, slugs, submitted)),
    };
    tracing::info!(module = %module_slug, task = %task_slug, status = status.as_u16(), "answer not stored as asked");
    let module = course.module(&module_slug).in_lang(lang)?;
    let ctx = PageCtx::new(&app, &launched.session, launched.token());
    let states = vec![(task_slug, state)];
    module_page(&ctx, &course, module, states, status).await
}

/// After a stored answer: back to the task on its module page, with what happened.
fn back_to_task(
    app: &App,
    launched: &Launched,
    (module, task): (&str, &str),
    submitted: bool,
) -> Response {
    let mut target = app.url(&format!("course/m/{module}"));
    target
        .query_pairs_mut()
        .append_pair("session", launched.token())
        .append_pair("notice", if submitted { "submitted" } else { "saved" })
        .append_pair("task", task);
    target.set_fragment(Some(&format!("task-{task}-outcome")));
    Redirect::to(target.as_str()).into_response()
}

/// What the task shows when the answer was not stored as asked; `Err(submitted)` when it was.
fn refused(
    lang: Lang,
    outcome: SaveOutcome,
    form: &TaskForm,
) -> Result<(StatusCode, TaskState), bool> {
    let warning = |key: &str| {
        Some(Notice {
            kind: "warning",
            text: lang.t(key).to_owned(),
        })
    };
    let kept = |key: &str| TaskState {
        message: warning(key),
        typed: None,
        problems: Vec::new(),
        kept: Some(form.answers.clone()),
    };
    match outcome {
        SaveOutcome::Saved { submitted, .. } => Err(submitted),
        SaveOutcome::Invalid { problems, .. } => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            TaskState {
                message: warning("task-not-submitted"),
                typed: Some(form.answers.clone()),
                problems,
                kept: None,
            },
        )),
        SaveOutcome::Conflict { .. } => Ok((StatusCode::CONFLICT, kept("task-conflict"))),
        SaveOutcome::Locked { .. } => Ok((StatusCode::CONFLICT, kept("task-locked"))),
    }
}

/// `POST /course/m/{module}/t/{task}/draft`: the automatic save while typing (JSON).
pub async fn autosave_task(
    State(app): State<AppState>,
    Path((module_slug, task_slug)): Path<(String, String)>,
    launched: Launched,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, AppError> {
    let form = read_form(form_or_400(form, launched.lang)?);
    let slugs = (module_slug.as_str(), task_slug.as_str());
    let (_, outcome) = save(&app, &launched, slugs, &form, SaveAction::Draft).await?;
    let clock = |at: i64| crate::i18n::format_time(at);
    Ok(match outcome {
        SaveOutcome::Saved { row, .. } | SaveOutcome::Invalid { row: Some(row), .. } => {
            Json(serde_json::json!({
                "version": row.version,
                "saved_at": clock(row.updated_at),
            }))
            .into_response()
        }
        SaveOutcome::Invalid { row: None, .. }
        | SaveOutcome::Conflict { .. }
        | SaveOutcome::Locked { .. } => (
            StatusCode::CONFLICT,
            Json(serde_json::json!({ "error": "conflict" })),
        )
            .into_response(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_ordered_and_bounded() {
        let form = read_form(vec![
            ("answer_1".into(), "b".into()),
            ("answer_0".into(), "a".into()),
            ("answer_999".into(), "ignored".into()),
            ("version".into(), "7".into()),
            ("action".into(), "submit".into()),
        ]);
        assert_eq!(form.answers, vec!["a", "b"]);
        assert_eq!(form.version, 7);
        assert_eq!(form.action.as_deref(), Some("submit"));
    }
}

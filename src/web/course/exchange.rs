//! The exchange between municipalities on a group task: sharing the group's answer
//! (`POST …/share`), "Så svarade andra kommuner" (`GET …/others`), comments on a shared answer and
//! the course leaders' pins. The rules (who may read, share, comment, pin) are the use case's,
//! `learning::exchange`.
use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State, rejection::FormRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::Notice;
use crate::{
    i18n::Lang,
    learning::{
        context::ContextCourse,
        exchange::{self, ExchangeError, Others, SharedView},
    },
    state::{App, AppState},
    web::{
        error::{AppError, InLang, form_or_400, render},
        launched::{Launched, PageQuery},
        page::{PageContext, page_template, page_url},
    },
};

/// One shared answer on the page, with its forms.
struct OthersItem {
    answer: SharedView,
    pin_url: String,
    comment_url: String,
    /// What was wrong with the comment just sent here.
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "course_others.html")]
struct OthersPage {
    page: PageContext,
    module_url: String,
    module_title: String,
    task_heading: String,
    notice: Option<Notice>,
    open: bool,
    leader: bool,
    pin_label: String,
    max_comment: usize,
    report_action: String,
    hide_action: String,
    answers: Vec<OthersItem>,
}

page_template!(OthersPage);

/// The page's state: its notice, or the comment refused on one answer.
#[derive(Default)]
struct Told {
    notice: Option<Notice>,
    refused: Option<(i64, String)>,
}

/// What is wrong with a comment, said at its field; `None` for a refusal that is not about the
/// comment's text.
fn comment_problem(error: &ExchangeError) -> Option<&'static str> {
    match error {
        ExchangeError::EmptyComment => Some("exchange-comment-empty"),
        ExchangeError::CommentTooLong => Some("exchange-comment-too-long"),
        ExchangeError::TooManyComments => Some("exchange-comment-too-many"),
        _ => None,
    }
}

fn exchange_error(error: ExchangeError, lang: Lang) -> AppError {
    let message = |key: &str| AppError::Invalid {
        message: lang.t(key).to_owned(),
        lang,
    };
    match error {
        ExchangeError::NoSuchTask | ExchangeError::NoSuchAnswer => AppError::NotFound { lang },
        ExchangeError::NotALeader => AppError::Forbidden { lang },
        ExchangeError::NotSubmitted => message("exchange-not-submitted"),
        ExchangeError::NotOpen => message("exchange-others-closed"),
        ExchangeError::EmptyComment
        | ExchangeError::CommentTooLong
        | ExchangeError::TooManyComments => message(comment_problem(&error).unwrap_or_default()),
        ExchangeError::BadReason => message("exchange-reason-needed"),
        ExchangeError::Db(error) => AppError::Course {
            error: error.into(),
            lang,
        },
    }
}

async fn others_page(
    app: &App,
    launched: &Launched,
    (course, module, task): (&ContextCourse, &str, &str),
    told: Told,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (lang, token) = (launched.lang, launched.token());
    let found = course.module(module).in_lang(lang)?;
    let number = found
        .tasks()
        .position(|t| t.slug == task)
        .map_or(1, |i| i + 1);
    let shown = exchange::others(&app.db, course, &launched.session, (module, task))
        .await
        .map_err(|e| exchange_error(e, lang))?;
    let (open, answers) = match shown {
        Others::NotOpen => (false, Vec::new()),
        Others::Open(answers) => (true, answers),
    };
    let items = answers
        .into_iter()
        .map(|answer| OthersItem {
            pin_url: page_url(app, &format!("course/shared/{}/pin", answer.id), token),
            comment_url: page_url(app, &format!("course/shared/{}/comments", answer.id), token),
            error: told
                .refused
                .as_ref()
                .filter(|(id, _)| *id == answer.id)
                .map(|(_, error)| error.clone()),
            answer,
        })
        .collect();
    let page = OthersPage {
        page: launched.page(app),
        module_url: page_url(app, &format!("course/m/{module}"), token),
        module_title: found.title.get(lang).to_owned(),
        task_heading: lang.task_heading(number),
        notice: told.notice,
        open,
        leader: launched.session.role == crate::lti::claims::ToolRole::Instructor,
        pin_label: lang.tf("exchange-pin", &[("workshop", found.workshop.get(lang))]),
        max_comment: exchange::MAX_COMMENT_CHARS,
        report_action: page_url(app, "course/reports", token),
        hide_action: page_url(app, "course/hidden", token),
        answers: items,
    };
    Ok(render(&page, status))
}

/// `GET /course/m/{module}/t/{task}/others`: "Så svarade andra kommuner".
pub async fn show_others(
    State(app): State<AppState>,
    Path((module, task)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
    launched: Launched,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let course = app
        .courses
        .for_session(&app.db, &launched.session)
        .await
        .in_lang(lang)?;
    let notice = query.notice.as_deref().and_then(|key| match key {
        "commented" => Some("exchange-commented"),
        "pinned" => Some("exchange-pin-saved"),
        "reported" => Some("exchange-reported"),
        "hidden" => Some("exchange-hidden-notice"),
        _ => None,
    });
    let told = Told {
        notice: notice.map(|key| Notice {
            kind: "success",
            text: lang.t(key).to_owned(),
        }),
        refused: None,
    };
    others_page(
        &app,
        &launched,
        (&course, &module, &task),
        told,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct ShareForm {
    action: Option<String>,
    sign: Option<String>,
}

/// `POST /course/m/{module}/t/{task}/share`: share the group's answer, or withdraw it.
pub async fn share_answer(
    State(app): State<AppState>,
    Path((module, task)): Path<(String, String)>,
    launched: Launched,
    form: Result<Form<ShareForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let form = form_or_400(form, lang)?;
    let course = app
        .courses
        .for_session(&app.db, &launched.session)
        .await
        .in_lang(lang)?;
    let (session, now) = (&launched.session, app.clock.now_unix());
    let slugs = (module.as_str(), task.as_str());
    let notice = if form.action.as_deref() == Some("unshare") {
        exchange::unshare(&app.db, &course, session, slugs, now)
            .await
            .map(|_| "unshared")
    } else {
        let sign = form.sign.as_deref() == Some("on");
        exchange::share(&app.db, &course, session, slugs, sign, now)
            .await
            .map(|()| "shared")
    }
    .map_err(|e| exchange_error(e, lang))?;
    tracing::info!(module = %module, task = %task, notice, "group answer sharing changed");
    Ok(back_to(
        &app,
        &launched,
        &format!("course/m/{module}"),
        (notice, Some(&task)),
    ))
}

/// A redirect to `path` with a notice (about `task`, on a module page).
fn back_to(
    app: &App,
    launched: &Launched,
    path: &str,
    (notice, task): (&str, Option<&str>),
) -> Response {
    let mut target = launched.notice_url(app, path, notice);
    if let Some(task) = task {
        target.query_pairs_mut().append_pair("task", task);
        target.set_fragment(Some(&format!("task-{task}-outcome")));
    }
    Redirect::to(target.as_str()).into_response()
}

#[derive(Deserialize)]
pub struct CommentForm {
    body: Option<String>,
    sign: Option<String>,
}

/// `POST /course/shared/{id}/comments`: a short comment on another group's answer.
pub async fn comment(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    launched: Launched,
    form: Result<Form<CommentForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let form = form_or_400(form, lang)?;
    let course = app
        .courses
        .for_session(&app.db, &launched.session)
        .await
        .in_lang(lang)?;
    let sent = (
        id,
        form.body.as_deref().unwrap_or_default(),
        form.sign.as_deref() == Some("on"),
    );
    let now = app.clock.now_unix();
    match exchange::comment(&app.db, &course, &launched.session, sent, now).await {
        Ok((module, task)) => Ok(back_to(
            &app,
            &launched,
            &format!("course/m/{module}/t/{task}/others"),
            ("commented", None),
        )),
        Err(error) => refused_comment(&app, &launched, &course, id, error).await,
    }
}

/// The page again with what is wrong at the comment's field (a comment that cannot be taken at
/// all is answered with its error page).
async fn refused_comment(
    app: &App,
    launched: &Launched,
    course: &ContextCourse,
    id: i64,
    error: ExchangeError,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let Some(key) = comment_problem(&error) else {
        return Err(exchange_error(error, lang));
    };
    let shared = exchange::task_of(&app.db, course, id)
        .await
        .map_err(|e| exchange_error(e, lang))?;
    let told = Told {
        notice: None,
        refused: Some((id, lang.t(key).to_owned())),
    };
    let at = (course, shared.0.as_str(), shared.1.as_str());
    others_page(app, launched, at, told, StatusCode::UNPROCESSABLE_ENTITY).await
}

#[derive(Deserialize)]
pub struct PinForm {
    pinned: Option<String>,
}

/// `POST /course/shared/{id}/pin`: a course leader pins an answer for the workshop, or unpins it.
pub async fn pin(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    launched: Launched,
    form: Result<Form<PinForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let form = form_or_400(form, lang)?;
    let course = app
        .courses
        .for_session(&app.db, &launched.session)
        .await
        .in_lang(lang)?;
    let pinned = form.pinned.as_deref() != Some("0");
    let (module, task) = exchange::pin(
        &app.db,
        &course,
        &launched.session,
        (id, pinned),
        app.clock.now_unix(),
    )
    .await
    .map_err(|e| exchange_error(e, lang))?;
    Ok(back_to(
        &app,
        &launched,
        &format!("course/m/{module}/t/{task}/others"),
        ("pinned", None),
    ))
}

#[derive(Deserialize)]
pub struct ModerationForm {
    /// `answer` or `comment`.
    kind: Option<String>,
    id: Option<i64>,
    reason: Option<String>,
}

impl ModerationForm {
    fn item(&self, lang: Lang) -> Result<exchange::Reported, AppError> {
        match (self.kind.as_deref(), self.id) {
            (Some("answer"), Some(id)) => Ok(exchange::Reported::Answer(id)),
            (Some("comment"), Some(id)) => Ok(exchange::Reported::Comment(id)),
            _ => Err(AppError::BadRequest {
                detail: "kind must be answer or comment, with an id".into(),
                lang,
            }),
        }
    }
}

/// A report or a hiding, as the use case takes it.
#[derive(Clone, Copy)]
enum Moderation {
    Report,
    Hide,
}

/// Both moderation forms: the use case, then back to the item's page with what happened.
async fn moderate(
    app: &App,
    launched: &Launched,
    form: Result<Form<ModerationForm>, FormRejection>,
    moderation: Moderation,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let form = form_or_400(form, lang)?;
    let course = app
        .courses
        .for_session(&app.db, &launched.session)
        .await
        .in_lang(lang)?;
    let sent = (form.item(lang)?, form.reason.as_deref().unwrap_or_default());
    let (db, session, now) = (&app.db, &launched.session, app.clock.now_unix());
    let (done, notice) = match moderation {
        Moderation::Report => (
            exchange::report(db, &course, session, sent, now).await,
            "reported",
        ),
        Moderation::Hide => (
            exchange::hide(db, &course, session, sent, now).await,
            "hidden",
        ),
    };
    let (module, task) = done.map_err(|e| exchange_error(e, lang))?;
    if let Moderation::Hide = moderation {
        tracing::info!(
            code = "CONTENT_HIDDEN",
            "a course leader hid shared content"
        );
    }
    let page = format!("course/m/{module}/t/{task}/others");
    Ok(back_to(app, launched, &page, (notice, None)))
}

/// `POST /course/reports`: a participant reports a shared answer or a comment.
pub async fn report(
    State(app): State<AppState>,
    launched: Launched,
    form: Result<Form<ModerationForm>, FormRejection>,
) -> Result<Response, AppError> {
    moderate(&app, &launched, form, Moderation::Report).await
}

/// `POST /course/hidden`: a course leader hides a shared answer or a comment, with a reason.
pub async fn hide(
    State(app): State<AppState>,
    launched: Launched,
    form: Result<Form<ModerationForm>, FormRejection>,
) -> Result<Response, AppError> {
    moderate(&app, &launched, form, Moderation::Hide).await
}

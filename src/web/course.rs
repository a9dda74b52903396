//! The participant's pages inside the LMS iframe: course overview, module pages with reflection
//! tasks, automatic draft saving, and package downloads. Every page carries the session token in
//! its links and forms; no cookie is needed.
use std::collections::HashMap;

use askama::Template;
use axum::{
    Form, Json,
    extract::{Path, Query, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use super::launched::{Launched, PageQuery, page_url, welcome};
use crate::web::page::{PageContext, page_template};
use crate::{
    course::{
        Block, CoursePackage, Module, ReflectionTask,
        completion::{self, SubmissionStatus},
    },
    i18n::Lang,
    learning::{
        context::ContextCourse,
        participant::{self, AnswerLimits, FieldProblem, SaveAction, SaveOutcome},
        standing::Standing,
    },
    lti::claims::ToolRole,
    session::Session,
    state::{App, AppState},
    web::error::{AppError, InLang, form_or_400, render},
};

struct Notice {
    kind: &'static str,
    text: String,
}

struct ModuleCard {
    slug: String,
    title: String,
    workshop: String,
    required: bool,
    url: String,
    status_label: &'static str,
    status_class: &'static str,
}

#[derive(Template)]
#[template(path = "course_overview.html")]
struct OverviewPage<'a> {
    page: PageContext,
    course_title: &'a str,
    welcome: String,
    context_title: Option<&'a str>,
    role_label: &'static str,
    progress_text: String,
    required_done: usize,
    required_total: usize,
    course_complete: bool,
    next_workshop: Option<String>,
    organisation_url: Option<String>,
    admin_url: Option<String>,
    modules: Vec<ModuleCard>,
}

/// The organisations a person is contact person for (cached for the registry TTL).
pub(crate) async fn contact_organisations(
    app: &App,
    user_id: i64,
) -> Result<Vec<String>, sea_orm::DbErr> {
    if let Some(found) = app.contacts.get(&user_id) {
        return Ok(found);
    }
    let found = crate::learning::review::contact_organisation_names(&app.db, user_id).await?;
    app.contacts.insert(user_id, found.clone());
    Ok(found)
}

fn role_label(lang: Lang, role: ToolRole) -> &'static str {
    lang.t(match role {
        ToolRole::Participant => "role-participant",
        ToolRole::Instructor => "role-instructor",
    })
}

/// Renders the course overview.
pub async fn overview(app: &App, launched: &Launched) -> Result<Response, AppError> {
    let (session, lang) = (&launched.session, launched.lang);
    let course = app
        .courses
        .for_session(&app.db, session)
        .await
        .in_lang(lang)?;
    let standing = Standing::load(&app.db, &course, session)
        .await
        .in_lang(lang)?;
    let occasions = occasions_of(app, course.context_id).await.in_lang(lang)?;
    let contact = !contact_organisations(app, session.uid)
        .await
        .in_lang(lang)?
        .is_empty();
    let admin = super::launched::has_admin_role(app, session)
        .await
        .in_lang(lang)?;
    let view = OverviewView {
        app,
        launched,
        course: &course,
        standing: &standing,
    };
    Ok(render(
        &view.page(&occasions, contact, admin),
        StatusCode::OK,
    ))
}

/// Workshop occasions of a context, briefly cached: every overview shows the next one.
async fn occasions_of(
    app: &App,
    context_id: i64,
) -> Result<HashMap<String, entity::workshop_occasion::Model>, sea_orm::DbErr> {
    if let Some(cached) = app.occasions.get(&context_id) {
        return Ok(cached);
    }
    let read = crate::learning::review::occasions(&app.db, context_id).await?;
    app.occasions.insert(context_id, read.clone());
    Ok(read)
}

/// What the overview is built from.
struct OverviewView<'a> {
    app: &'a App,
    launched: &'a Launched,
    course: &'a ContextCourse,
    standing: &'a Standing,
}

impl<'a> OverviewView<'a> {
    fn url(&self, path: &str) -> String {
        page_url(self.app, path, self.launched.token())
    }

    fn page(
        &self,
        occasions: &HashMap<String, entity::workshop_occasion::Model>,
        contact: bool,
        admin: bool,
    ) -> OverviewPage<'a> {
        let (launched, package): (&'a Launched, &'a CoursePackage) =
            (self.launched, &self.course.package);
        let lang = launched.lang;
        let progress = self.standing.progress(package);
        let (done, total) = completion::required_modules_complete(package, &progress);
        OverviewPage {
            page: launched.page(self.app),
            course_title: package.title.get(lang),
            welcome: welcome(lang, launched.session.name.as_deref()),
            context_title: launched.session.ctx.as_deref(),
            role_label: role_label(lang, launched.session.role),
            progress_text: lang.tf(
                "overview-progress-text",
                &[("done", &done.to_string()), ("total", &total.to_string())],
            ),
            required_done: done,
            required_total: total.max(1),
            course_complete: completion::course_complete(package, &progress),
            next_workshop: self
                .standing
                .next_module(package)
                .map(|module| next_workshop(lang, module, occasions.get(&module.slug))),
            organisation_url: contact.then(|| self.url("organisation")),
            admin_url: admin.then(|| self.url("admin")),
            modules: package
                .modules
                .iter()
                .map(|module| {
                    let status = self.standing.module_status(module);
                    ModuleCard {
                        slug: module.slug.clone(),
                        title: module.title.get(lang).to_owned(),
                        workshop: module.workshop.get(lang).to_owned(),
                        required: module.required,
                        url: self.url(&format!("course/m/{}", module.slug)),
                        status_label: lang.t(status.label_key()),
                        status_class: status.slug(),
                    }
                })
                .collect(),
        }
    }
}

/// "Next: workshop 2 (Koordination), 3 March at 13:00, Umeå" or "…, date to be set".
fn next_workshop(
    lang: Lang,
    module: &Module,
    occasion: Option<&entity::workshop_occasion::Model>,
) -> String {
    let what = lang.tf(
        "overview-next-workshop",
        &[
            ("workshop", module.workshop.get(lang)),
            ("module", module.title.get(lang)),
        ],
    );
    let when = match occasion {
        Some(occasion) => lang.tf(
            "overview-next-workshop-when",
            &[
                ("date", &crate::i18n::format_date(occasion.starts_at)),
                ("time", &crate::i18n::format_time(occasion.starts_at)),
                ("place", &occasion.place),
            ],
        ),
        None => lang.t("overview-next-workshop-date-pending").to_owned(),
    };
    format!("{what} {when}")
}

struct FieldView {
    id: String,
    label: String,
    value: String,
    error: Option<String>,
    kept: Option<String>,
}

struct TaskView {
    slug: String,
    heading: String,
    group: bool,
    status_label: &'static str,
    status_class: &'static str,
    locked: bool,
    feedback: Option<String>,
    message: Option<Notice>,
    version: i64,
    fields: Vec<FieldView>,
    action_url: String,
    autosave_url: String,
}

enum BlockView {
    Text(String),
    Download {
        title: String,
        url: String,
        format: String,
        size: String,
    },
    Video {
        title: String,
        src: String,
        captions: String,
        transcript: String,
        embedded: bool,
    },
    Assessment {
        label: String,
        url: String,
        done: bool,
    },
    Task(Box<TaskView>),
}

#[derive(Template)]
#[template(path = "course_module.html")]
struct ModulePage<'a> {
    page: PageContext,
    overview_url: String,
    course_title: &'a str,
    module_title: &'a str,
    workshop: &'a str,
    notice: Option<Notice>,
    blocks: Vec<BlockView>,
}

/// Human file size: "12 kB", "3.4 MB" (Swedish uses a decimal comma).
fn file_size(bytes: u64, lang: Lang) -> String {
    let text = if bytes < 1000 {
        format!("{bytes} B")
    } else if bytes < 1_000_000 {
        format!("{} kB", bytes.div_ceil(1000))
    } else {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    };
    match lang {
        Lang::Sv => text.replace('.', ","),
        Lang::En => text,
    }
}

/// What one task shows after a save attempt.
#[derive(Default)]
struct TaskState {
    message: Option<Notice>,
    typed: Option<Vec<String>>,
    problems: Vec<FieldProblem>,
    kept: Option<Vec<String>>,
}

/// What every part of a page needs.
pub(crate) struct PageCtx<'a> {
    app: &'a App,
    session: &'a Session,
    token: &'a str,
    lang: Lang,
}

impl<'a> PageCtx<'a> {
    fn new(app: &'a App, session: &'a Session, token: &'a str) -> Self {
        Self {
            app,
            session,
            token,
            lang: session.page_language(),
        }
    }
}

fn task_view(
    ctx: &PageCtx<'_>,
    module: &Module,
    task: &ReflectionTask,
    number: usize,
    standing: &Standing,
    state: TaskState,
) -> TaskView {
    let (app, lang, token) = (ctx.app, ctx.lang, ctx.token);
    let row = standing.submission(&module.slug, &task.slug);
    let status = row.and_then(|r| SubmissionStatus::parse(&r.status));
    let stored = row.map(participant::answers_of).unwrap_or_default();
    let values = state.typed.clone().unwrap_or(stored);
    let (status_key, status_class) = match status {
        None => ("status-not-started", "not-started"),
        Some(SubmissionStatus::Draft) => ("status-draft", "in-progress"),
        Some(SubmissionStatus::Submitted) => ("status-submitted", "submitted"),
        Some(SubmissionStatus::Returned) => ("status-returned", "returned"),
        Some(SubmissionStatus::Approved) => ("status-approved", "approved"),
    };
    let fields = task
        .prompts
        .iter()
        .enumerate()
        .map(|(index, prompt)| FieldView {
            id: format!("answer-{}-{}", task.slug, index),
            label: prompt.get(lang).to_owned(),
            value: values.get(index).cloned().unwrap_or_default(),
            error: state
                .problems
                .iter()
                .find(|p| p.field == index)
                .map(|p| lang.tf(p.key, &[("n", &p.number.to_string())])),
            kept: state
                .kept
                .as_ref()
                .and_then(|kept| kept.get(index).cloned())
                .filter(|text| !text.is_empty()),
        })
        .collect();
    let base = format!("course/m/{}/t/{}", module.slug, task.slug);
    TaskView {
        slug: task.slug.clone(),
        heading: lang.tf("task-heading", &[("n", &number.to_string())]),
        group: task.kind == crate::course::TaskKind::Group,
        status_label: lang.t(status_key),
        status_class,
        locked: matches!(
            status,
            Some(SubmissionStatus::Submitted | SubmissionStatus::Approved)
        ),
        feedback: row.and_then(|r| r.feedback.clone()),
        message: state.message,
        version: row.map(|r| r.version).unwrap_or(0),
        fields,
        action_url: page_url(app, &base, token),
        autosave_url: page_url(app, &format!("{base}/draft"), token),
    }
}

/// One block of a module page; a reflection task shows what its last save attempt left in
/// `states`.
fn block_view(
    ctx: &PageCtx<'_>,
    module: &Module,
    standing: &Standing,
    block: &Block,
    number: &mut usize,
    states: &mut Vec<(String, TaskState)>,
) -> BlockView {
    let (app, token, lang) = (ctx.app, ctx.token, ctx.lang);
    let file_url = |path: &str| page_url(app, &format!("course/{path}"), token);
    match block {
        Block::Text { sv_html, en_html } => BlockView::Text(match lang {
            Lang::Sv => sv_html.clone(),
            Lang::En => en_html.clone(),
        }),
        Block::Download(download) => BlockView::Download {
            title: download.title.get(lang).to_owned(),
            url: file_url(&download.file),
            format: download.format.clone(),
            size: file_size(download.size, lang),
        },
        Block::Video(video) => {
            let embedded = !video.source.starts_with("files/");
            BlockView::Video {
                title: video.title.get(lang).to_owned(),
                src: if embedded {
                    video.source.clone()
                } else {
                    file_url(&video.source)
                },
                captions: file_url(&video.captions),
                transcript: video.transcript.get(lang).to_owned(),
                embedded,
            }
        }
        Block::SelfAssessment { round } => BlockView::Assessment {
            label: lang
                .t(match round {
                    crate::course::AssessmentRound::Baseline => "assessment-baseline",
                    crate::course::AssessmentRound::Final => "assessment-final",
                })
                .to_owned(),
            url: file_url(&format!("assessment/{}", round.name())),
            done: standing.assessment_submitted(*round),
        },
        Block::Reflection(task) => {
            *number += 1;
            let state = states
                .iter()
                .position(|(slug, _)| *slug == task.slug)
                .map(|i| states.swap_remove(i).1)
                .unwrap_or_default();
            BlockView::Task(Box::new(task_view(
                ctx, module, task, *number, standing, state,
            )))
        }
    }
}

async fn module_page(
    ctx: &PageCtx<'_>,
    course: &ContextCourse,
    module: &Module,
    notice: Option<Notice>,
    mut states: Vec<(String, TaskState)>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (app, session, token, lang) = (ctx.app, ctx.session, ctx.token, ctx.lang);
    let standing = Standing::load(&app.db, course, session)
        .await
        .in_lang(lang)?;
    let mut number = 0;
    let blocks = module
        .blocks
        .iter()
        .map(|block| block_view(ctx, module, &standing, block, &mut number, &mut states))
        .collect();
    let page = ModulePage {
        page: PageContext::launched(app, lang, token),
        overview_url: page_url(app, "course", token),
        course_title: course.package.title.get(lang),
        module_title: module.title.get(lang),
        workshop: module.workshop.get(lang),
        notice,
        blocks,
    };
    Ok(render(&page, status))
}

/// `GET /course` (and `/home`).
pub async fn show_overview(
    State(app): State<AppState>,
    launched: Launched,
) -> Result<Response, AppError> {
    if launched.session.cid.is_none() {
        return Ok(super::pages::landing(
            &app,
            &launched.session,
            launched.token(),
        ));
    }
    overview(&app, &launched).await
}

/// `GET /course/m/{module}`.
pub async fn show_module(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
    Launched { session, lang }: Launched,
) -> Result<Response, AppError> {
    let token = session.link_token.clone();
    let notice = match (query.notice.as_deref(), query.task.as_deref()) {
        (Some("saved"), Some(_)) => Some(Notice {
            kind: "info",
            text: lang.t("task-saved").to_owned(),
        }),
        (Some("submitted"), Some(_)) => Some(Notice {
            kind: "info",
            text: lang.t("task-submitted").to_owned(),
        }),
        _ => None,
    };
    let course = app
        .courses
        .for_session(&app.db, &session)
        .await
        .in_lang(lang)?;
    let module = course.module(&slug).in_lang(lang)?;
    let ctx = PageCtx::new(&app, &session, &token);
    module_page(&ctx, &course, module, notice, Vec::new(), StatusCode::OK).await
}

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
    module_page(&ctx, &course, module, None, states, status).await
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
    target.set_fragment(Some(&format!("task-{task}")));
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

/// `GET /course/files/{*path}`: a file of the context's course package.
pub async fn download(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<String>,
    Launched { session, lang }: Launched,
) -> Result<Response, AppError> {
    let course = app
        .courses
        .for_session(&app.db, &session)
        .await
        .in_lang(lang)?;
    let path = format!("files/{path}");
    let file = crate::learning::files::find(&app.db, &course, &path)
        .await
        .in_lang(lang)?
        .ok_or(AppError::NotFound { lang })?;
    let range = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    Ok(file_response(&app, &path, file, range))
}

/// A course file as an attachment: whole, or the one range asked for (a video player seeking).
fn file_response(
    app: &App,
    path: &str,
    file: crate::learning::files::CourseFile,
    range: Option<&str>,
) -> Response {
    let name = path.rsplit('/').next().unwrap_or("file").replace('"', "");
    let total = file.size;
    let (status, content_range, span) = match byte_range(range, total) {
        ByteRange::Whole => (StatusCode::OK, None, (total > 0).then(|| (0, total - 1))),
        ByteRange::Part { first, last } => (
            StatusCode::PARTIAL_CONTENT,
            Some(format!("bytes {first}-{last}/{total}")),
            Some((first, last)),
        ),
        ByteRange::Unsatisfiable => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            Some(format!("bytes */{total}")),
            None,
        ),
    };
    let content_type = file.content_type.clone();
    let body = match span {
        None => axum::body::Body::empty(),
        Some(span) => axum::body::Body::from_stream(file.bytes(app.db.clone(), span)),
    };
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
            (header::ACCEPT_RANGES, "bytes".to_owned()),
        ],
        body,
    )
        .into_response();
    if let Some(content_range) = content_range
        && let Ok(value) = header::HeaderValue::from_str(&content_range)
    {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

/// Which bytes of a file a request asks for (RFC 9110 §14): one range is served as 206 (a video
/// player seeking), several or a malformed header as the whole file.
#[derive(Debug, PartialEq, Eq)]
enum ByteRange {
    Whole,
    Part { first: u64, last: u64 },
    Unsatisfiable,
}

fn byte_range(header: Option<&str>, total: u64) -> ByteRange {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return ByteRange::Whole;
    };
    if spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return ByteRange::Whole;
    };
    let (first, last) = match (first.trim(), last.trim()) {
        ("", "") => return ByteRange::Whole,
        // The last N bytes.
        ("", suffix) => match suffix.parse::<u64>() {
            Ok(0) => return ByteRange::Unsatisfiable,
            Ok(n) => (total.saturating_sub(n), total.saturating_sub(1)),
            Err(_) => return ByteRange::Whole,
        },
        (first, "") => match first.parse::<u64>() {
            Ok(first) => (first, total.saturating_sub(1)),
            Err(_) => return ByteRange::Whole,
        },
        (first, last) => match (first.parse::<u64>(), last.parse::<u64>()) {
            (Ok(first), Ok(last)) if first <= last => (first, last.min(total.saturating_sub(1))),
            _ => return ByteRange::Whole,
        },
    };
    if total == 0 || first >= total {
        return ByteRange::Unsatisfiable;
    }
    ByteRange::Part { first, last }
}

page_template!(OverviewPage<'a>, ModulePage<'a>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_follow_rfc_9110() {
        assert_eq!(byte_range(None, 100), ByteRange::Whole);
        assert_eq!(
            byte_range(Some("bytes=0-9"), 100),
            ByteRange::Part { first: 0, last: 9 }
        );
        assert_eq!(
            byte_range(Some("bytes=90-"), 100),
            ByteRange::Part {
                first: 90,
                last: 99
            }
        );
        assert_eq!(
            byte_range(Some("bytes=-10"), 100),
            ByteRange::Part {
                first: 90,
                last: 99
            }
        );
        assert_eq!(
            byte_range(Some("bytes=95-200"), 100),
            ByteRange::Part {
                first: 95,
                last: 99
            }
        );
        assert_eq!(
            byte_range(Some("bytes=100-"), 100),
            ByteRange::Unsatisfiable
        );
        assert_eq!(byte_range(Some("bytes=-0"), 100), ByteRange::Unsatisfiable);
        assert_eq!(byte_range(Some("bytes=0-1,5-6"), 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("bytes=9-3"), 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("items=0-9"), 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("bytes=0-0"), 0), ByteRange::Unsatisfiable);
    }

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

    #[test]
    fn file_sizes_use_the_local_decimal_mark() {
        assert_eq!(file_size(512, Lang::Sv), "512 B");
        assert_eq!(file_size(1_500, Lang::En), "2 kB");
        assert_eq!(file_size(3_400_000, Lang::Sv), "3,4 MB");
    }
}

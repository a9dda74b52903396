//! `GET /course/m/{module}`: a module's blocks, each reflection task with where its answer stands.
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};

use super::Notice;
use crate::{
    course::{Block, Module, ReflectionTask, completion::SubmissionStatus},
    i18n::Lang,
    learning::{
        context::ContextCourse,
        participant::{self, FieldProblem},
        standing::Standing,
    },
    session::Session,
    state::{App, AppState},
    web::{
        error::{AppError, InLang, render},
        launched::{Launched, PageQuery},
        page::{PageContext, page_template, page_url},
    },
};

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
    /// Why the fields cannot be changed, when they cannot.
    locked_note: Option<&'static str>,
    /// The length rule, shown before anyone writes.
    length_hint: String,
    feedback: Option<String>,
    message: Option<Notice>,
    /// Whether focus lands on this task's message when the page loads (the outcome of its form,
    /// where no error summary above takes it).
    message_focused: bool,
    version: i64,
    fields: Vec<FieldView>,
    action_url: String,
    autosave_url: String,
    /// For a group task: sharing with the other municipalities and reading theirs.
    exchange: Option<ExchangeView>,
}

/// A group task's part in the exchange between municipalities.
struct ExchangeView {
    /// Whether the group handed the answer in (only then can it be shared).
    handed_in: bool,
    /// "Delat av …" when the answer is shared.
    shared_text: Option<String>,
    /// The other municipalities' comments on the shared answer: (who, comment).
    comments: Vec<(String, String)>,
    share_url: String,
    others_url: String,
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
    /// The fields a refused submit left problems at: (field id, what is wrong), linked from the
    /// error summary at the top of the page, which takes focus.
    problems: Vec<(String, String)>,
    blocks: Vec<BlockView>,
    /// Shared answers the course leaders pinned for this module's workshop.
    pinned: Vec<crate::learning::exchange::SharedView>,
    pinned_heading: String,
    /// The modules before and after this one: (title, address).
    previous: Option<(String, String)>,
    next: Option<(String, String)>,
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
pub(super) struct TaskState {
    pub(super) message: Option<Notice>,
    pub(super) typed: Option<Vec<String>>,
    pub(super) problems: Vec<FieldProblem>,
    pub(super) kept: Option<Vec<String>>,
}

impl TaskState {
    /// Only a message: what happened to the answer stored a moment ago.
    fn told(message: Notice) -> Self {
        Self {
            message: Some(message),
            ..Self::default()
        }
    }
}

/// What every part of a page needs.
pub(super) struct PageCtx<'a> {
    app: &'a App,
    session: &'a Session,
    token: &'a str,
    lang: Lang,
}

impl<'a> PageCtx<'a> {
    pub(super) fn new(app: &'a App, session: &'a Session, token: &'a str) -> Self {
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
    let locked_note = match status {
        Some(SubmissionStatus::Submitted) => Some(lang.t("task-locked-submitted")),
        Some(SubmissionStatus::Approved) => Some(lang.t("task-locked-approved")),
        _ => None,
    };
    TaskView {
        slug: task.slug.clone(),
        heading: lang.task_heading(number),
        group: task.kind == crate::course::TaskKind::Group,
        status_label: lang.t(status_key),
        status_class,
        locked: locked_note.is_some(),
        locked_note,
        length_hint: lang.tf("task-length-hint", &[("n", &task.min_length.to_string())]),
        feedback: row.and_then(|r| r.feedback.clone()),
        message_focused: state.message.is_some() && state.problems.is_empty(),
        message: state.message,
        version: row.map(|r| r.version).unwrap_or(0),
        fields,
        action_url: page_url(app, &base, token),
        autosave_url: page_url(app, &format!("{base}/draft"), token),
        exchange: None,
    }
}

/// The exchange part of each group task, and the answers pinned for the module's workshop (of
/// the tasks whose others' answers are open to this person).
fn exchange_views(
    ctx: &PageCtx<'_>,
    module: &Module,
    reads: crate::learning::landing::ModuleReads,
    blocks: &mut [BlockView],
) -> Vec<crate::learning::exchange::SharedView> {
    let (app, lang, token) = (ctx.app, ctx.lang, ctx.token);
    let crate::learning::landing::ModuleReads {
        standing,
        mut shares,
        mut pinned,
    } = reads;
    let mut open_tasks = Vec::new();
    for block in blocks.iter_mut() {
        let BlockView::Task(task) = block else {
            continue;
        };
        if !task.group {
            continue;
        }
        let handed_in = standing
            .status(&module.slug, &task.slug)
            .is_some_and(|s| s != SubmissionStatus::Draft);
        if handed_in {
            open_tasks.push(task.slug.clone());
        }
        let base = format!("course/m/{}/t/{}", module.slug, task.slug);
        task.exchange = Some(ExchangeView {
            handed_in,
            shared_text: shares.get(&task.slug).map(|share| match &share.shared_by {
                Some(name) => lang.tf("exchange-shared-by", &[("name", name)]),
                None => lang.t("exchange-shared").to_owned(),
            }),
            comments: shares
                .get_mut(&task.slug)
                .map(|share| std::mem::take(&mut share.comments))
                .unwrap_or_default(),
            share_url: page_url(app, &format!("{base}/share"), token),
            others_url: page_url(app, &format!("{base}/others"), token),
        });
    }
    let leader = ctx.session.role == crate::lti::claims::ToolRole::Instructor;
    if !leader {
        pinned.retain(|answer| open_tasks.contains(&answer.task_slug));
    }
    pinned
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

pub(super) async fn module_page(
    ctx: &PageCtx<'_>,
    course: &ContextCourse,
    module: &Module,
    mut states: Vec<(String, TaskState)>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (app, session, token, lang) = (ctx.app, ctx.session, ctx.token, ctx.lang);
    let reads = crate::learning::landing::module(&app.db, course, session, module)
        .await
        .in_lang(lang)?;
    let mut number = 0;
    let mut blocks: Vec<BlockView> = module
        .blocks
        .iter()
        .map(|block| {
            block_view(
                ctx,
                module,
                &reads.standing,
                block,
                &mut number,
                &mut states,
            )
        })
        .collect();
    let pinned = exchange_views(ctx, module, reads, &mut blocks);
    let problems = blocks
        .iter()
        .filter_map(|block| match block {
            BlockView::Task(task) => Some(task),
            _ => None,
        })
        .flat_map(|task| {
            task.fields.iter().filter_map(|field| {
                let error = field.error.as_ref()?;
                Some((field.id.clone(), format!("{} – {error}", task.heading)))
            })
        })
        .collect();
    let modules = &course.package.modules;
    let here = modules.iter().position(|m| m.slug == module.slug);
    let neighbour = |index: Option<usize>| {
        let other = modules.get(index?)?;
        let url = page_url(app, &format!("course/m/{}", other.slug), token);
        Some((other.title.get(lang).to_owned(), url))
    };
    let page = ModulePage {
        previous: neighbour(here.and_then(|i| i.checked_sub(1))),
        next: neighbour(here.map(|i| i + 1)),
        page: PageContext::launched(app, lang, token),
        overview_url: page_url(app, "course", token),
        course_title: course.package.title.get(lang),
        module_title: module.title.get(lang),
        workshop: module.workshop.get(lang),
        problems,
        blocks,
        pinned,
        pinned_heading: lang.tf(
            "exchange-pinned-heading",
            &[("workshop", module.workshop.get(lang))],
        ),
    };
    Ok(render(&page, status))
}

/// `GET /course/m/{module}`.
pub async fn show_module(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
    Launched { session, lang }: Launched,
) -> Result<Response, AppError> {
    let token = session.link_token.clone();
    // The outcome of a stored answer is shown at its task, where the form was.
    let outcome = |key: &str, task: &str| {
        let notice = Notice {
            kind: "success",
            text: lang.t(key).to_owned(),
        };
        vec![(task.to_owned(), TaskState::told(notice))]
    };
    let states = match (query.notice.as_deref(), query.task.as_deref()) {
        (Some("saved"), Some(task)) => outcome("task-saved", task),
        (Some("submitted"), Some(task)) => outcome("task-submitted", task),
        (Some("shared"), Some(task)) => outcome("exchange-shared-notice", task),
        (Some("unshared"), Some(task)) => outcome("exchange-unshared-notice", task),
        _ => Vec::new(),
    };
    let course = app
        .courses
        .for_session(&app.db, &session)
        .await
        .in_lang(lang)?;
    let module = course.module(&slug).in_lang(lang)?;
    let ctx = PageCtx::new(&app, &session, &token);
    module_page(&ctx, &course, module, states, StatusCode::OK).await
}

page_template!(ModulePage<'a>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_sizes_use_the_local_decimal_mark() {
        assert_eq!(file_size(512, Lang::Sv), "512 B");
        assert_eq!(file_size(1_500, Lang::En), "2 kB");
        assert_eq!(file_size(3_400_000, Lang::Sv), "3,4 MB");
    }
}

//! Network spaces' pages: the person's spaces and invitations (`/spaces`), a space's threads with
//! the form for a new one (`/spaces/{id}`), a thread with its replies and the reply form
//! (`/spaces/{id}/threads/{thread}`), attachments, reports and the moderators' hiding. Posts are
//! `multipart/form-data`, for their files. The rules are the use case's, `learning::spaces`.
use askama::Template;
use axum::{
    Form,
    extract::{
        Multipart, Path, Query, State, multipart::MultipartRejection, rejection::FormRejection,
    },
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    i18n::{Lang, time},
    learning::spaces::{
        self, MySpace, PostProblem, PostRequest, PostView, SpaceError, SpaceView, ThreadView,
        Upload,
    },
    state::{App, AppState},
    web::{
        error::{AppError, form_or_400, render},
        launched::{Launched, PageQuery},
        page::{PageContext, page_template, page_url},
    },
};

/// The largest post body taken: three files at their limit and the text, with room for the
/// multipart framing.
pub const POST_BODY_LIMIT: usize =
    spaces::MAX_FILES_PER_POST * spaces::MAX_FILE_BYTES + 1024 * 1024;

fn space_error(error: SpaceError, lang: Lang) -> AppError {
    match error {
        SpaceError::NotFound | SpaceError::NotTheirs => AppError::NotFound { lang },
        SpaceError::NotAModerator => AppError::Forbidden { lang },
        SpaceError::BadReason => AppError::Invalid {
            message: lang.t("exchange-reason-needed").to_owned(),
            lang,
        },
        SpaceError::Post(problem) => AppError::Invalid {
            message: lang.t(problem_key(problem)).to_owned(),
            lang,
        },
        SpaceError::Db(error) => AppError::Internal(error.into()),
    }
}

fn problem_key(problem: PostProblem) -> &'static str {
    match problem {
        PostProblem::TitleEmpty => "space-title-empty",
        PostProblem::TitleTooLong => "space-title-too-long",
        PostProblem::BodyEmpty => "space-body-empty",
        PostProblem::BodyTooLong => "space-body-too-long",
        PostProblem::TooManyPosts => "space-too-many-posts",
        PostProblem::TooManyFiles => "space-too-many-files",
        PostProblem::FileTooLarge => "space-file-too-large",
        PostProblem::FileFormat => "space-file-format",
        PostProblem::StorageFull => "space-storage-full",
    }
}

fn success(lang: Lang, key: Option<&str>) -> Option<String> {
    let key = match key? {
        "accepted" => "spaces-accepted",
        "left" => "spaces-left",
        "posted" => "space-posted",
        "replied" => "space-replied",
        "reported" => "space-reported",
        "hidden" => "space-hidden-notice",
        _ => return None,
    };
    Some(lang.t(key).to_owned())
}

/// A redirect to `path` of this session with a notice.
fn back_to(app: &App, launched: &Launched, path: &str, notice: &str) -> Response {
    Redirect::to(launched.notice_url(app, path, notice).as_str()).into_response()
}

struct SpaceRow {
    name: String,
    description: String,
    url: String,
    membership_action: String,
    invited: bool,
    moderator: bool,
}

#[derive(Template)]
#[template(path = "spaces.html")]
struct SpacesPage {
    page: PageContext,
    overview_url: String,
    notice: Option<String>,
    spaces: Vec<SpaceRow>,
}
page_template!(SpacesPage);

/// `GET /spaces`: the person's spaces and invitations.
pub async fn show_spaces(
    State(app): State<AppState>,
    Query(query): Query<PageQuery>,
    launched: Launched,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let mine = spaces::of_person(&app.db, &launched.session)
        .await
        .map_err(|e| space_error(e.into(), lang))?;
    let row = |mine: MySpace| SpaceRow {
        url: page_url(&app, &format!("spaces/{}", mine.space.id), launched.token()),
        membership_action: page_url(
            &app,
            &format!("spaces/{}/membership", mine.space.id),
            launched.token(),
        ),
        name: mine.space.name,
        description: mine.space.description,
        invited: mine.invited,
        moderator: mine.moderator,
    };
    let page = SpacesPage {
        page: launched.page(&app),
        overview_url: page_url(&app, "course", launched.token()),
        notice: success(lang, query.notice.as_deref()),
        spaces: mine.into_iter().map(row).collect(),
    };
    Ok(render(&page, StatusCode::OK))
}

#[derive(Deserialize)]
pub struct MembershipForm {
    /// `accept`, or `leave` (also declines an invitation).
    action: Option<String>,
}

/// `POST /spaces/{id}/membership`: accept an invitation, decline it, or leave.
pub async fn answer_membership(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    launched: Launched,
    form: Result<Form<MembershipForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let form = form_or_400(form, lang)?;
    let join = match form.action.as_deref() {
        Some("accept") => true,
        Some("leave") => false,
        _ => {
            let detail = "action must be accept or leave".into();
            return Err(AppError::BadRequest { detail, lang });
        }
    };
    let now = app.clock.now_unix();
    spaces::answer_membership(&app.db, &launched.session, id, join, now)
        .await
        .map_err(|e| space_error(e, lang))?;
    let notice = if join { "accepted" } else { "left" };
    Ok(back_to(&app, &launched, "spaces", notice))
}

/// What was sent in a post form that was refused, kept for the form, and what is wrong.
#[derive(Default)]
struct Refused {
    title: String,
    body: String,
    /// (field id, message).
    problem: Option<(&'static str, String)>,
}

impl Refused {
    fn at(&self, field: &str) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|(id, _)| id.ends_with(field))
            .map(|(_, message)| message.as_str())
    }
}

struct ThreadRow {
    title: String,
    url: String,
    by: String,
    replies: u64,
    last_activity: String,
    hidden: Option<String>,
}

#[derive(Template)]
#[template(path = "space.html")]
struct SpacePage {
    page: PageContext,
    spaces_url: String,
    notice: Option<String>,
    name: String,
    description: String,
    moderator: bool,
    members_line: String,
    threads: Vec<ThreadRow>,
    post_action: String,
    form: Refused,
    accept: String,
    limits_line: String,
}
page_template!(SpacePage);

/// Who wrote something: their name and municipality, or the municipality alone.
fn byline(lang: Lang, author: Option<&str>, organisation: &str, erased: bool) -> String {
    if erased {
        return lang.t("space-erased-author").to_owned();
    }
    match (author, organisation.is_empty()) {
        (Some(name), false) => format!("{name}, {organisation}"),
        (Some(name), true) => name.to_owned(),
        (None, _) => organisation.to_owned(),
    }
}

fn accept_attribute() -> String {
    spaces::ALLOWED_EXTENSIONS
        .iter()
        .map(|e| format!(".{e}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn limits_line(lang: Lang) -> String {
    lang.tf(
        "space-files-hint",
        &[
            ("formats", &spaces::ALLOWED_EXTENSIONS.join(", ")),
            ("count", &spaces::MAX_FILES_PER_POST.to_string()),
            ("mb", &(spaces::MAX_FILE_BYTES / (1024 * 1024)).to_string()),
        ],
    )
}

async fn space_page(
    app: &App,
    launched: &Launched,
    id: i64,
    (notice, form): (Option<String>, Refused),
    status: StatusCode,
) -> Result<Response, AppError> {
    let (lang, token) = (launched.lang, launched.token());
    let view: SpaceView = spaces::space(&app.db, &launched.session, id)
        .await
        .map_err(|e| space_error(e, lang))?;
    let threads = view
        .threads
        .into_iter()
        .map(|t| ThreadRow {
            title: t
                .title
                .unwrap_or_else(|| lang.t("space-erased-title").to_owned()),
            url: page_url(app, &format!("spaces/{id}/threads/{}", t.id), token),
            by: byline(lang, t.author.as_deref(), &t.organisation, false),
            replies: t.replies,
            last_activity: format!(
                "{} {}",
                time::format_date(t.last_activity_at),
                time::format_time(t.last_activity_at)
            ),
            hidden: t.hidden,
        })
        .collect();
    let members_line = lang.tf(
        "space-members-line",
        &[
            ("count", &view.members.to_string()),
            ("organisations", &view.organisations.join(", ")),
        ],
    );
    let page = SpacePage {
        page: launched.page(app),
        spaces_url: page_url(app, "spaces", token),
        notice,
        name: view.space.name,
        description: view.space.description,
        moderator: view.moderator,
        members_line,
        threads,
        post_action: page_url(app, &format!("spaces/{id}/threads"), token),
        form,
        accept: accept_attribute(),
        limits_line: limits_line(lang),
    };
    Ok(render(&page, status))
}

/// `GET /spaces/{id}`: a space's threads, and the form for a new one.
pub async fn show_space(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
    launched: Launched,
) -> Result<Response, AppError> {
    let notice = success(launched.lang, query.notice.as_deref());
    let told = (notice, Refused::default());
    space_page(&app, &launched, id, told, StatusCode::OK).await
}

/// The fields of a post form; files with no name and no bytes (none chosen) are left out.
async fn read_post_form(
    multipart: Result<Multipart, MultipartRejection>,
    lang: Lang,
) -> Result<(String, String, Vec<Upload>), AppError> {
    let unreadable = |status: StatusCode, detail: String| {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge { lang }
        } else {
            AppError::BadRequest { detail, lang }
        }
    };
    let mut multipart = multipart.map_err(|e| unreadable(e.status(), e.body_text()))?;
    let (mut title, mut body, mut files) = (String::new(), String::new(), Vec::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| unreadable(e.status(), e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| unreadable(e.status(), e.body_text()))?;
        match (name.as_str(), file_name) {
            ("files", Some(file_name)) if !(file_name.is_empty() && bytes.is_empty()) => {
                files.push(Upload {
                    file_name,
                    bytes: bytes.to_vec(),
                });
            }
            ("title", _) => title = String::from_utf8_lossy(&bytes).into_owned(),
            ("body", _) => body = String::from_utf8_lossy(&bytes).into_owned(),
            _ => {}
        }
    }
    Ok((title, body, files))
}

/// A post as sent, and the page it is written on.
struct Sent {
    space: i64,
    thread: Option<i64>,
    title: String,
    body: String,
    files: Vec<Upload>,
}

/// Both post forms: the use case, then the thread with a notice, or the form again with what is
/// wrong at its field (and what was typed kept).
async fn write(app: &App, launched: &Launched, sent: Sent) -> Result<Response, AppError> {
    let lang = launched.lang;
    let request = PostRequest {
        space_id: sent.space,
        thread: sent.thread,
        title: &sent.title,
        body: &sent.body,
        files: sent.files,
        mail: app.mail.is_some(),
    };
    let now = app.clock.now_unix();
    match spaces::post(&app.db, &launched.session, request, now).await {
        Ok(thread) => {
            let notice = if sent.thread.is_some() {
                "replied"
            } else {
                "posted"
            };
            let path = format!("spaces/{}/threads/{thread}", sent.space);
            Ok(back_to(app, launched, &path, notice))
        }
        Err(SpaceError::Post(problem)) => {
            tracing::info!(code = "SPACE_POST_REFUSED", ?problem, "a post was refused");
            let form = Refused {
                title: sent.title,
                body: sent.body,
                problem: Some((field_id(problem), lang.t(problem_key(problem)).to_owned())),
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            match sent.thread {
                None => space_page(app, launched, sent.space, (None, form), status).await,
                Some(thread) => {
                    let at = (sent.space, thread);
                    thread_page(app, launched, at, (None, form), status).await
                }
            }
        }
        Err(error) => Err(space_error(error, lang)),
    }
}

fn field_id(problem: PostProblem) -> &'static str {
    match problem.field() {
        "title" => "post-title",
        "body" => "post-body",
        _ => "post-files",
    }
}

/// `POST /spaces/{id}/threads`: a new thread.
pub async fn create_thread(
    State(app): State<AppState>,
    Path(space): Path<i64>,
    launched: Launched,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let (title, body, files) = read_post_form(multipart, launched.lang).await?;
    let sent = Sent {
        space,
        thread: None,
        title,
        body,
        files,
    };
    write(&app, &launched, sent).await
}

/// `POST /spaces/{id}/threads/{thread}`: a reply.
pub async fn reply(
    State(app): State<AppState>,
    Path((space, thread)): Path<(i64, i64)>,
    launched: Launched,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let (_, body, files) = read_post_form(multipart, launched.lang).await?;
    let sent = Sent {
        space,
        thread: Some(thread),
        title: String::new(),
        body,
        files,
    };
    write(&app, &launched, sent).await
}

struct PostItem {
    post: PostView,
    by: String,
    at: String,
    /// (name, address, size label).
    files: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "space_thread.html")]
struct ThreadPage {
    page: PageContext,
    space_url: String,
    space_name: String,
    notice: Option<String>,
    title: String,
    moderator: bool,
    opening: PostItem,
    replies: Vec<PostItem>,
    reply_action: String,
    report_action: String,
    hide_action: String,
    form: Refused,
    accept: String,
    limits_line: String,
}
page_template!(ThreadPage);

fn size_label(lang: Lang, size: i64) -> String {
    if size >= 1024 * 1024 {
        let tenths = size * 10 / (1024 * 1024);
        lang.tf(
            "space-size-mb",
            &[("size", &format!("{},{}", tenths / 10, tenths % 10))],
        )
    } else {
        lang.tf(
            "space-size-kb",
            &[("size", &(size / 1024).max(1).to_string())],
        )
    }
}

fn post_item(app: &App, launched: &Launched, post: PostView) -> PostItem {
    let lang = launched.lang;
    PostItem {
        by: byline(
            lang,
            post.author.as_deref(),
            &post.organisation,
            post.erased,
        ),
        at: format!(
            "{} {}",
            time::format_date(post.created_at),
            time::format_time(post.created_at)
        ),
        files: post
            .attachments
            .iter()
            .map(|f| {
                let url = page_url(app, &format!("spaces/files/{}", f.id), launched.token());
                (f.file_name.clone(), url, size_label(lang, f.size))
            })
            .collect(),
        post,
    }
}

async fn thread_page(
    app: &App,
    launched: &Launched,
    (space, thread): (i64, i64),
    (notice, form): (Option<String>, Refused),
    status: StatusCode,
) -> Result<Response, AppError> {
    let (lang, token) = (launched.lang, launched.token());
    let view: ThreadView = spaces::thread(&app.db, &launched.session, (space, thread))
        .await
        .map_err(|e| space_error(e, lang))?;
    let page = ThreadPage {
        page: launched.page(app),
        space_url: page_url(app, &format!("spaces/{space}"), token),
        space_name: view.space.name,
        notice,
        title: view
            .title
            .unwrap_or_else(|| lang.t("space-erased-title").to_owned()),
        moderator: view.moderator,
        opening: post_item(app, launched, view.opening),
        replies: view
            .replies
            .into_iter()
            .map(|p| post_item(app, launched, p))
            .collect(),
        reply_action: page_url(app, &format!("spaces/{space}/threads/{thread}"), token),
        report_action: page_url(app, "spaces/reports", token),
        hide_action: page_url(app, "spaces/hidden", token),
        form,
        accept: accept_attribute(),
        limits_line: limits_line(lang),
    };
    Ok(render(&page, status))
}

/// `GET /spaces/{id}/threads/{thread}`: a thread with its replies.
pub async fn show_thread(
    State(app): State<AppState>,
    Path(at): Path<(i64, i64)>,
    Query(query): Query<PageQuery>,
    launched: Launched,
) -> Result<Response, AppError> {
    let notice = success(launched.lang, query.notice.as_deref());
    let told = (notice, Refused::default());
    thread_page(&app, &launched, at, told, StatusCode::OK).await
}

/// `GET /spaces/files/{id}`: a post's file, as a download (never shown inline, so a file cannot
/// run as a page of the tool).
pub async fn download(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    launched: Launched,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let file = spaces::attachment(&app.db, &launched.session, id)
        .await
        .map_err(|e| space_error(e, lang))?;
    let disposition = content_disposition(&file.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        file.bytes,
    )
        .into_response())
}

/// `attachment` with the name in ASCII for old clients and in UTF-8 (RFC 6266, RFC 8187).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[derive(Deserialize)]
pub struct ModerationForm {
    id: Option<i64>,
    reason: Option<String>,
}

/// A report or a hiding, then back to the thread.
async fn moderate(
    app: &App,
    launched: &Launched,
    form: Result<Form<ModerationForm>, FormRejection>,
    hide: bool,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let form = form_or_400(form, lang)?;
    let Some(id) = form.id else {
        let detail = "the post's id is needed".into();
        return Err(AppError::BadRequest { detail, lang });
    };
    let sent = (id, form.reason.as_deref().unwrap_or_default());
    let (db, session, now) = (&app.db, &launched.session, app.clock.now_unix());
    let done = if hide {
        spaces::hide(db, session, sent, now).await
    } else {
        spaces::report(db, session, sent, now).await
    };
    let (space, thread) = done.map_err(|e| space_error(e, lang))?;
    let notice = if hide { "hidden" } else { "reported" };
    let path = format!("spaces/{space}/threads/{thread}");
    Ok(back_to(app, launched, &path, notice))
}

/// `POST /spaces/reports`: a member reports a post.
pub async fn report(
    State(app): State<AppState>,
    launched: Launched,
    form: Result<Form<ModerationForm>, FormRejection>,
) -> Result<Response, AppError> {
    moderate(&app, &launched, form, false).await
}

/// `POST /spaces/hidden`: a moderator hides a post, with a reason.
pub async fn hide(
    State(app): State<AppState>,
    launched: Launched,
    form: Result<Form<ModerationForm>, FormRejection>,
) -> Result<Response, AppError> {
    moderate(&app, &launched, form, true).await
}

#[derive(Deserialize)]
pub struct GrantForm {
    person: Option<i64>,
    space: Option<i64>,
}

/// `POST /organisation/spaces`: a contact person gives one of their people a place in a space.
pub async fn grant(
    State(app): State<AppState>,
    launched: Launched,
    form: Result<Form<GrantForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let form = form_or_400(form, lang)?;
    let (Some(person), Some(space)) = (form.person, form.space) else {
        let detail = "person and space are needed".into();
        return Err(AppError::BadRequest { detail, lang });
    };
    let now = app.clock.now_unix();
    spaces::grant(&app.db, &launched.session, (space, person), now)
        .await
        .map_err(|e| space_error(e, lang))?;
    Ok(back_to(&app, &launched, "organisation", "granted"))
}

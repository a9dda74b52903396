//! Network spaces as their members use them: the spaces a person is in or invited to, accepting
//! and leaving, a space's threads, a thread's posts with their attachments, writing a thread or a
//! reply (the others who wrote in the thread get a mail), reports, and the moderators' hiding.
//! A contact person grants their own municipality's people a place here too.
//!
//! Spaces span course runs and municipalities, so nothing here goes through a launched course: a
//! space is open to its members, whichever LMS or sign-in their session came from. Members see
//! each other's names and municipalities; that is what a network is for, and membership is known
//! to each member (an invitation they accept, or a grant they see on their overview).
use std::collections::HashMap;

use entity::{network_space, space_post};
use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    session::Session,
    store::{
        self,
        spaces::{AttachmentInfo, NewAttachment, NewMember, NewPost, role, status},
    },
};

/// The longest thread title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest post, in characters.
pub const MAX_POST_CHARS: usize = 5000;
/// The most posts one person writes in a day, in all spaces.
pub const MAX_POSTS_PER_DAY: u64 = 50;
/// The most files on one post.
pub const MAX_FILES_PER_POST: usize = 3;
/// The largest file, in bytes.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// The most bytes of files one person keeps in all spaces.
pub const MAX_BYTES_PER_PERSON: i64 = 50 * 1024 * 1024;

/// The formats a post may carry: the course's own document and image formats, by extension, each
/// checked against what the file begins with.
pub const ALLOWED_EXTENSIONS: [&str; 7] = ["pdf", "odt", "docx", "txt", "png", "jpg", "jpeg"];

/// Why a space action was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SpaceError {
    /// No such space, thread, post or file, or none this person may see.
    #[error("not found")]
    NotFound,
    /// Only the space's moderators hide posts.
    #[error("only the space's moderators hide posts")]
    NotAModerator,
    /// The person is not a contact person of the member's organisation.
    #[error("not a person of an organisation you are contact person of")]
    NotTheirs,
    /// What is wrong with a post, at its field.
    #[error("{0:?}")]
    Post(PostProblem),
    /// A reason is at most 500 characters, and a hiding needs one.
    #[error("a reason is needed, of at most 500 characters")]
    BadReason,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What is wrong with a post, said at its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostProblem {
    TitleEmpty,
    TitleTooLong,
    BodyEmpty,
    BodyTooLong,
    TooManyPosts,
    TooManyFiles,
    FileTooLarge,
    FileFormat,
    StorageFull,
}

impl PostProblem {
    /// The field it is about: `title`, `body` or `files`.
    pub fn field(self) -> &'static str {
        match self {
            PostProblem::TitleEmpty | PostProblem::TitleTooLong => "title",
            PostProblem::BodyEmpty | PostProblem::BodyTooLong | PostProblem::TooManyPosts => "body",
            _ => "files",
        }
    }
}

/// A space as one of its people sees it in their list.
pub struct MySpace {
    pub space: network_space::Model,
    /// Invited and not yet accepted.
    pub invited: bool,
    pub moderator: bool,
}

/// The spaces a person is in or invited to.
pub async fn of_person(
    db: &impl sea_orm::ConnectionTrait,
    session: &Session,
) -> Result<Vec<MySpace>, DbErr> {
    Ok(store::spaces::of_person(db, session.uid)
        .await?
        .into_iter()
        .map(|(place, space)| MySpace {
            invited: place.status == status::INVITED,
            moderator: place.role == role::MODERATOR,
            space,
        })
        .collect())
}

/// Every space, for a contact person's grant form.
pub async fn all(db: &DatabaseConnection) -> Result<Vec<network_space::Model>, DbErr> {
    store::spaces::list(db).await
}

fn audit_entry<'a>(
    (actor, action, target): (&'a str, &'a str, &'a str),
    detail: &'a str,
    now: i64,
) -> store::admin::AuditEntry<'a> {
    store::admin::AuditEntry {
        actor,
        action,
        target,
        organisation: None,
        origin: "web",
        detail,
        at_ms: now * 1000,
    }
}

/// An invited person accepts (`true`) or declines, or a member leaves (`false`); audited.
pub async fn answer_membership(
    db: &DatabaseConnection,
    session: &Session,
    space_id: i64,
    join: bool,
    now: i64,
) -> Result<(), SpaceError> {
    store::spaces::member(db, space_id, session.uid)
        .await?
        .ok_or(SpaceError::NotFound)?;
    let txn = store::begin_write(db).await?;
    let (changed, action) = if join {
        (
            store::spaces::accept(&txn, space_id, session.uid).await?,
            "space.accept",
        )
    } else {
        (
            store::spaces::leave(&txn, space_id, session.uid).await?,
            "space.leave",
        )
    };
    if changed {
        let (actor, target) = (format!("user:{}", session.uid), format!("space:{space_id}"));
        store::admin::audit(&txn, audit_entry((&actor, action, &target), "{}", now)).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A member's place in a space: the space, and whether they moderate it.
struct Place {
    space: network_space::Model,
    moderator: bool,
}

/// The space, when the person is a member of it (an invitation is not enough).
async fn place(
    db: &DatabaseConnection,
    session: &Session,
    space_id: i64,
) -> Result<Place, SpaceError> {
    let member = store::spaces::member(db, space_id, session.uid)
        .await?
        .filter(|m| m.status == status::MEMBER)
        .ok_or(SpaceError::NotFound)?;
    let space = store::spaces::find(db, space_id)
        .await?
        .ok_or(SpaceError::NotFound)?;
    Ok(Place {
        space,
        moderator: member.role == role::MODERATOR,
    })
}

/// A thread in a space's list.
pub struct ThreadSummary {
    pub id: i64,
    /// None once its writer was erased.
    pub title: Option<String>,
    pub author: Option<String>,
    pub organisation: String,
    pub replies: u64,
    pub last_activity_at: i64,
    /// Why a moderator hid it (moderators alone see hidden threads).
    pub hidden: Option<String>,
}

/// A space as a member sees it.
pub struct SpaceView {
    pub space: network_space::Model,
    pub moderator: bool,
    pub members: usize,
    /// The municipalities its members come from.
    pub organisations: Vec<String>,
    pub threads: Vec<ThreadSummary>,
}

/// A space's threads, the most recently active first.
pub async fn space(
    db: &DatabaseConnection,
    session: &Session,
    space_id: i64,
) -> Result<SpaceView, SpaceError> {
    let Place { space, moderator } = place(db, session, space_id).await?;
    let members = store::spaces::members(db, space_id).await?;
    let mut organisations: Vec<String> = members
        .iter()
        .filter(|m| m.status == status::MEMBER && !m.organisation.is_empty())
        .map(|m| m.organisation.clone())
        .collect();
    organisations.sort();
    organisations.dedup();
    let threads = store::spaces::threads(db, space_id)
        .await?
        .into_iter()
        .filter(|(opening, _)| moderator || opening.hidden_at.is_none())
        .map(|(opening, replies)| ThreadSummary {
            id: opening.id,
            hidden: hidden_reason(&opening),
            title: opening.title,
            author: opening.author_name,
            organisation: opening.organisation,
            replies,
            last_activity_at: opening.last_activity_at,
        })
        .collect();
    Ok(SpaceView {
        space,
        moderator,
        members: members
            .iter()
            .filter(|m| m.status == status::MEMBER)
            .count(),
        organisations,
        threads,
    })
}

fn hidden_reason(post: &space_post::Model) -> Option<String> {
    post.hidden_reason
        .clone()
        .filter(|_| post.hidden_at.is_some())
}

/// A post as a member reads it.
pub struct PostView {
    pub id: i64,
    pub author: Option<String>,
    pub organisation: String,
    pub body: String,
    pub created_at: i64,
    /// Its writer was erased: nothing of it is left to show.
    pub erased: bool,
    /// Why a moderator hid it (moderators alone see hidden posts).
    pub hidden: Option<String>,
    /// How many reported it (moderators see this).
    pub reports: usize,
    pub attachments: Vec<AttachmentInfo>,
    /// Whether the reader wrote it (nobody reports their own post).
    pub own: bool,
}

/// A thread as a member reads it.
pub struct ThreadView {
    pub space: network_space::Model,
    pub moderator: bool,
    pub title: Option<String>,
    pub opening: PostView,
    pub replies: Vec<PostView>,
}

/// A thread's opening post of this space, as the reader may see it.
async fn opening_post(
    db: &DatabaseConnection,
    place: &Place,
    thread_id: i64,
) -> Result<space_post::Model, SpaceError> {
    store::spaces::post(db, thread_id)
        .await?
        .filter(|p| p.space_id == place.space.id && p.thread_id.is_none())
        .filter(|p| place.moderator || p.hidden_at.is_none())
        .ok_or(SpaceError::NotFound)
}

/// A thread with its replies; a moderator sees what was hidden and the report counts.
pub async fn thread(
    db: &DatabaseConnection,
    session: &Session,
    (space_id, thread_id): (i64, i64),
) -> Result<ThreadView, SpaceError> {
    let place = place(db, session, space_id).await?;
    let opening = opening_post(db, &place, thread_id).await?;
    let replies: Vec<space_post::Model> = store::spaces::replies(db, thread_id)
        .await?
        .into_iter()
        .filter(|p| place.moderator || p.hidden_at.is_none())
        .collect();
    let ids: Vec<i64> = std::iter::once(opening.id)
        .chain(replies.iter().map(|p| p.id))
        .collect();
    let mut files: HashMap<i64, Vec<AttachmentInfo>> = HashMap::new();
    for file in store::spaces::attachments_of(db, &ids).await? {
        files.entry(file.post_id).or_default().push(file);
    }
    let reports = if place.moderator {
        store::spaces::report_counts(db, space_id).await?
    } else {
        HashMap::new()
    };
    let view = |post: space_post::Model, files: &mut HashMap<i64, Vec<AttachmentInfo>>| PostView {
        id: post.id,
        erased: post.user_id == 0,
        own: post.user_id == session.uid,
        hidden: hidden_reason(&post),
        reports: reports.get(&post.id).copied().unwrap_or(0),
        attachments: files.remove(&post.id).unwrap_or_default(),
        author: post.author_name,
        organisation: post.organisation,
        body: post.body,
        created_at: post.created_at,
    };
    let title = opening.title.clone();
    Ok(ThreadView {
        title,
        opening: view(opening, &mut files),
        replies: replies.into_iter().map(|p| view(p, &mut files)).collect(),
        space: place.space,
        moderator: place.moderator,
    })
}

/// A file as it was uploaded.
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A post as a member writes it: a new thread (with a title) or a reply in `thread`.
pub struct PostRequest<'a> {
    pub space_id: i64,
    pub thread: Option<i64>,
    pub title: &'a str,
    pub body: &'a str,
    pub files: Vec<Upload>,
    /// Whether mail is configured (else no reply mail is queued).
    pub mail: bool,
}

/// The MIME type of an allowed file, when its name and first bytes agree on an allowed format.
pub fn allowed_format(file_name: &str, bytes: &[u8]) -> Option<&'static str> {
    let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    if !ALLOWED_EXTENSIONS.contains(&extension.as_str()) {
        return None;
    }
    let looks_right = match extension.as_str() {
        "pdf" => bytes.starts_with(b"%PDF-"),
        "png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        // Both are zip packages.
        "odt" | "docx" => bytes.starts_with(b"PK\x03\x04"),
        _ => std::str::from_utf8(bytes).is_ok_and(|text| !text.contains('\0')),
    };
    looks_right.then(|| crate::course::content_type(file_name))
}

/// A file name safe to store and to send back in a header: the last path part, letters, digits
/// and `.-_ ` only, at most 100 characters.
pub fn safe_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| c.is_alphanumeric() || ".-_ ".contains(*c))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    let mut chars: Vec<char> = cleaned.chars().collect();
    if chars.len() > 100 {
        // Keep the extension, which says the format.
        let extension: Vec<char> = cleaned
            .rsplit_once('.')
            .map(|(_, e)| e.chars().take(10).collect())
            .unwrap_or_default();
        chars.truncate(100 - extension.len() - 1);
        chars.push('.');
        chars.extend(extension);
    }
    chars.into_iter().collect()
}

/// The checks a post passes before anything is written.
async fn check_post(
    db: &DatabaseConnection,
    session: &Session,
    request: &PostRequest<'_>,
    now: i64,
) -> Result<Vec<(String, &'static str)>, SpaceError> {
    let problem = |p| Err(SpaceError::Post(p));
    if request.thread.is_none() {
        let title = request.title.trim();
        if title.is_empty() {
            return problem(PostProblem::TitleEmpty);
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return problem(PostProblem::TitleTooLong);
        }
    }
    let body = request.body.trim();
    if body.is_empty() {
        return problem(PostProblem::BodyEmpty);
    }
    if body.chars().count() > MAX_POST_CHARS {
        return problem(PostProblem::BodyTooLong);
    }
    if request.files.len() > MAX_FILES_PER_POST {
        return problem(PostProblem::TooManyFiles);
    }
    let mut formats = Vec::new();
    for file in &request.files {
        if file.bytes.len() > MAX_FILE_BYTES {
            return problem(PostProblem::FileTooLarge);
        }
        let name = safe_file_name(&file.file_name);
        let Some(format) = allowed_format(&name, &file.bytes) else {
            return problem(PostProblem::FileFormat);
        };
        formats.push((name, format));
    }
    if store::spaces::posts_since(db, session.uid, now - 86_400).await? >= MAX_POSTS_PER_DAY {
        return problem(PostProblem::TooManyPosts);
    }
    let adding: usize = request.files.iter().map(|f| f.bytes.len()).sum();
    let stored = store::spaces::attachment_bytes_of(db, session.uid).await?;
    if stored.saturating_add(i64::try_from(adding).unwrap_or(i64::MAX)) > MAX_BYTES_PER_PERSON {
        return problem(PostProblem::StorageFull);
    }
    Ok(formats)
}

/// Writes a new thread or a reply, with its files; a reply queues a mail to the others who wrote
/// in the thread (through the outbox, in the same transaction, with the opt-out). Returns the
/// thread's id.
pub async fn post(
    db: &DatabaseConnection,
    session: &Session,
    request: PostRequest<'_>,
    now: i64,
) -> Result<i64, SpaceError> {
    let place = place(db, session, request.space_id).await?;
    let opening = match request.thread {
        Some(thread) => Some(opening_post(db, &place, thread).await?),
        None => None,
    };
    let formats = check_post(db, session, &request, now).await?;
    let organisation = super::exchange::organisation_of(db, session).await?;
    let txn = store::begin_write(db).await?;
    let row = store::spaces::add_post(
        &txn,
        NewPost {
            space_id: place.space.id,
            thread_id: request.thread,
            title: request.thread.is_none().then(|| request.title.trim()),
            user_id: session.uid,
            author_name: session.name.as_deref(),
            organisation: &organisation,
            body: request.body.trim(),
            now,
        },
    )
    .await?;
    for (file, (file_name, content_type)) in request.files.into_iter().zip(&formats) {
        let attachment = NewAttachment {
            post_id: row.id,
            space_id: place.space.id,
            user_id: session.uid,
            file_name,
            content_type,
            bytes: file.bytes,
            now,
        };
        store::spaces::add_attachment(&txn, attachment).await?;
    }
    if let (Some(opening), true) = (&opening, request.mail) {
        let reply = super::mail::Reply {
            space: &place.space,
            thread: opening,
            post: &row,
        };
        super::mail::queue_reply(&txn, reply, now * 1000).await?;
    }
    txn.commit().await?;
    Ok(opening.map_or(row.id, |o| o.id))
}

/// A file of a post the member may read: its name, type and bytes.
pub async fn attachment(
    db: &DatabaseConnection,
    session: &Session,
    id: i64,
) -> Result<entity::space_attachment::Model, SpaceError> {
    let file = store::spaces::attachment(db, id)
        .await?
        .ok_or(SpaceError::NotFound)?;
    let place = place(db, session, file.space_id).await?;
    let post = store::spaces::post(db, file.post_id)
        .await?
        .filter(|p| place.moderator || p.hidden_at.is_none())
        .ok_or(SpaceError::NotFound)?;
    opening_post(db, &place, post.thread_id.unwrap_or(post.id)).await?;
    Ok(file)
}

fn reason(text: &str, required: bool) -> Result<&str, SpaceError> {
    super::exchange::moderation_reason(text, required).ok_or(SpaceError::BadReason)
}

/// A post the member can read, with its space.
async fn readable_post(
    db: &DatabaseConnection,
    session: &Session,
    post_id: i64,
) -> Result<(Place, space_post::Model), SpaceError> {
    let post = store::spaces::post(db, post_id)
        .await?
        .ok_or(SpaceError::NotFound)?;
    let place = place(db, session, post.space_id).await?;
    if !place.moderator && post.hidden_at.is_some() {
        return Err(SpaceError::NotFound);
    }
    opening_post(db, &place, post.thread_id.unwrap_or(post.id)).await?;
    Ok((place, post))
}

/// A member reports a post, for the space's moderators to look at, once. Returns the (space,
/// thread) of its page.
pub async fn report(
    db: &DatabaseConnection,
    session: &Session,
    (post_id, text): (i64, &str),
    now: i64,
) -> Result<(i64, i64), SpaceError> {
    let text = reason(text, false)?;
    let (place, post) = readable_post(db, session, post_id).await?;
    if store::spaces::report(db, &post, session.uid, text, now).await? {
        tracing::info!(
            code = "CONTENT_REPORTED",
            space = place.space.id,
            post = post.id,
            "a member reported a post"
        );
    }
    Ok((place.space.id, post.thread_id.unwrap_or(post.id)))
}

/// A moderator hides a post of their space from its members, with a reason; audited.
pub async fn hide(
    db: &DatabaseConnection,
    session: &Session,
    (post_id, text): (i64, &str),
    now: i64,
) -> Result<(i64, i64), SpaceError> {
    let (place, post) = readable_post(db, session, post_id).await?;
    if !place.moderator {
        return Err(SpaceError::NotAModerator);
    }
    let text = reason(text, true)?;
    let txn = store::begin_write(db).await?;
    store::spaces::hide(&txn, post.id, session.uid, text, now).await?;
    let (actor, target) = (format!("user:{}", session.uid), format!("post:{}", post.id));
    let detail = serde_json::json!({ "reason": text, "space": place.space.id }).to_string();
    let entry = audit_entry((&actor, "post.hide", &target), &detail, now);
    store::admin::audit(&txn, entry).await?;
    txn.commit().await?;
    tracing::info!(
        code = "CONTENT_HIDDEN",
        post = post.id,
        "a moderator hid a post"
    );
    Ok((place.space.id, post.thread_id.unwrap_or(post.id)))
}

/// A contact person gives one of their organisation's people a place in a space (a member at
/// once: the contact person decides for their municipality); audited.
pub async fn grant(
    db: &DatabaseConnection,
    session: &Session,
    (space_id, person_id): (i64, i64),
    now: i64,
) -> Result<(), SpaceError> {
    let theirs = store::contact::organisations_of(db, session.uid).await?;
    let organisation = super::contact::current_organisation(db, person_id)
        .await?
        .filter(|o| theirs.contains(o))
        .ok_or(SpaceError::NotTheirs)?;
    let space = store::spaces::find(db, space_id)
        .await?
        .ok_or(SpaceError::NotFound)?;
    let actor = format!("person:{}:{}", session.pid, session.uid);
    let txn = store::begin_write(db).await?;
    let new = NewMember {
        space_id: space.id,
        user_id: person_id,
        organisation: &organisation,
        role: role::MEMBER,
        status: status::MEMBER,
        added_by: &actor,
        now,
    };
    if store::spaces::add(&txn, new).await? {
        let target = format!("person:{person_id}");
        let detail = serde_json::json!({ "space": space.id }).to_string();
        let mut entry = audit_entry((&actor, "space.grant", &target), &detail, now);
        entry.organisation = Some(&organisation);
        entry.origin = "contact";
        store::admin::audit(&txn, entry).await?;
    }
    txn.commit().await?;
    Ok(())
}

//! Exchange between municipalities inside a course run: a group shares its submitted answer with
//! the run; the others read it on the task's "Så svarade andra kommuner" page once their own group
//! has submitted (their own thinking comes first), and answer with short comments; course leaders
//! pin answers to discuss at the module's workshop.
//!
//! Who may read is the run (every LMS course linked to it, and sign-in without an LMS), or for an
//! LMS course in no run that LMS course alone. A shared answer carries its group's municipality and
//! never a person's name unless the sharer signed it; a comment likewise.
use std::collections::HashMap;

use entity::{shared_answer, submission};
use sea_orm::{DatabaseConnection, DbErr};

use super::{context::ContextCourse, standing::Standing};
use crate::{
    course::{TaskKind, completion::SubmissionStatus},
    lti::claims::ToolRole,
    session::Session,
    store::{self, exchange::NewComment, exchange::NewShare},
};

/// The longest comment kept, in characters: a response, not a second answer.
pub const MAX_COMMENT_CHARS: usize = 1000;
/// The most comments one person writes on one shared answer.
pub const MAX_COMMENTS_PER_ANSWER: u64 = 20;

/// Why an exchange action was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// No such module or task, or not a group task.
    #[error("no such group task")]
    NoSuchTask,
    /// No such shared answer in this person's course run.
    #[error("no such shared answer")]
    NoSuchAnswer,
    /// The group has not submitted this answer: there is nothing to share yet.
    #[error("the group has not submitted this answer")]
    NotSubmitted,
    /// The person's own group has not submitted: the others' answers are not open yet.
    #[error("the others' answers open when your group has submitted")]
    NotOpen,
    /// The comment is empty.
    #[error("the comment is empty")]
    EmptyComment,
    /// The comment is longer than [`MAX_COMMENT_CHARS`].
    #[error("the comment is too long")]
    CommentTooLong,
    /// The person wrote [`MAX_COMMENTS_PER_ANSWER`] comments on this answer already.
    #[error("too many comments on one answer")]
    TooManyComments,
    /// Only course leaders pin and hide.
    #[error("only course leaders pin or hide answers")]
    NotALeader,
    /// Hiding needs a reason, and a reason (of a report too) is at most 500 characters.
    #[error("a reason is needed, of at most 500 characters")]
    BadReason,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Who may read what a group in `context_id` shares: its run, or the LMS course alone.
pub async fn scope_of(
    db: &impl sea_orm::ConnectionTrait,
    context_id: i64,
) -> Result<String, DbErr> {
    Ok(match store::cohorts::of_context(db, context_id).await? {
        Some(run) => format!("cohort:{run}"),
        None => format!("context:{context_id}"),
    })
}

/// Whether a status means "handed in" (submitted, and since reviewed).
fn handed_in(row: &submission::Model) -> bool {
    matches!(
        SubmissionStatus::parse(&row.status),
        Some(SubmissionStatus::Submitted | SubmissionStatus::Returned | SubmissionStatus::Approved)
    )
}

/// The group's answer to a group task of the course, as the participant's standing has it.
async fn group_answer(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &Session,
    (module, task): (&str, &str),
) -> Result<Option<submission::Model>, ExchangeError> {
    let found = course
        .module(module)
        .ok()
        .and_then(|m| m.task(task))
        .filter(|t| t.kind == TaskKind::Group);
    if found.is_none() {
        return Err(ExchangeError::NoSuchTask);
    }
    let standing = Standing::load(db, course, session).await?;
    Ok(standing.submission(module, task).cloned())
}

/// The municipality a person's words are shown under.
pub(super) async fn organisation_of(
    db: &DatabaseConnection,
    session: &Session,
) -> Result<String, DbErr> {
    let deployment = store::accessibility::organisation(db, session.did).await?;
    Ok(
        super::organisation::of_people(db, [session.uid], deployment.as_deref())
            .await?
            .remove(&session.uid)
            .flatten()
            .unwrap_or_default(),
    )
}

fn audit_entry<'a>(
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    now: i64,
) -> store::admin::AuditEntry<'a> {
    store::admin::AuditEntry {
        actor,
        action,
        target,
        organisation: None,
        origin: "web",
        detail: "{}",
        at_ms: now * 1000,
    }
}

/// Shares the participant's group answer to `(module, task)` with the run, signed with their name
/// when `sign`. Any member of the group may; sharing again changes who shared and the signature.
pub async fn share(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &Session,
    task: (&str, &str),
    sign: bool,
    now: i64,
) -> Result<(), ExchangeError> {
    let row = group_answer(db, course, session, task)
        .await?
        .filter(handed_in)
        .ok_or(ExchangeError::NotSubmitted)?;
    let scope = scope_of(db, course.context_id).await?;
    let organisation = organisation_of(db, session).await?;
    let signed_name = if sign { session.name.clone() } else { None };
    let txn = store::begin_write(db).await?;
    store::exchange::share(
        &txn,
        NewShare {
            submission: &row,
            scope: &scope,
            organisation: &organisation,
            shared_by: session.uid,
            signed_name: signed_name.as_deref(),
            now,
        },
    )
    .await?;
    let (actor, target) = (
        format!("user:{}", session.uid),
        format!("submission:{}", row.id),
    );
    store::admin::audit(&txn, audit_entry(&actor, "answer.share", &target, now)).await?;
    txn.commit().await?;
    Ok(())
}

/// Withdraws the group's shared answer to `(module, task)`, with the comments on it. `false` when
/// it was not shared.
pub async fn unshare(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &Session,
    task: (&str, &str),
    now: i64,
) -> Result<bool, ExchangeError> {
    let Some(row) = group_answer(db, course, session, task).await? else {
        return Ok(false);
    };
    let txn = store::begin_write(db).await?;
    let withdrawn = store::exchange::unshare(&txn, row.id).await?;
    if withdrawn {
        let (actor, target) = (
            format!("user:{}", session.uid),
            format!("submission:{}", row.id),
        );
        store::admin::audit(&txn, audit_entry(&actor, "answer.unshare", &target, now)).await?;
    }
    txn.commit().await?;
    Ok(withdrawn)
}

/// Whether the group's answer is shared, by whom (their name, for the group's own page), and
/// what the other municipalities answered it (hidden comments left out).
pub struct OwnShare {
    pub shared_by: Option<String>,
    pub signed: bool,
    /// (who: municipality, and name when signed; the comment).
    pub comments: Vec<(String, String)>,
}

/// The share of the participant's group answers in one module, by task slug.
pub async fn own_shares(
    db: &impl sea_orm::ConnectionTrait,
    standing: &Standing,
    module: &crate::course::Module,
) -> Result<HashMap<String, OwnShare>, DbErr> {
    let mut shares = HashMap::new();
    for task in module.tasks().filter(|t| t.kind == TaskKind::Group) {
        let Some(row) = standing.submission(&module.slug, &task.slug) else {
            continue;
        };
        if let Some(shared) = store::exchange::of_submission(db, row.id).await? {
            let people = store::review::people(db, vec![shared.shared_by]).await?;
            let comments = store::exchange::comments_on(db, &[shared.id])
                .await?
                .into_iter()
                .filter(|c| c.hidden_at.is_none())
                .map(|c| {
                    let who = match c.signed_name {
                        Some(name) => format!("{}, {name}", c.organisation),
                        None => c.organisation,
                    };
                    (who, c.body)
                })
                .collect();
            shares.insert(
                task.slug.clone(),
                OwnShare {
                    shared_by: people.get(&shared.shared_by).and_then(|p| p.name.clone()),
                    signed: shared.signed_name.is_some(),
                    comments,
                },
            );
        }
    }
    Ok(shares)
}

/// One shared answer as a reader sees it.
pub struct SharedView {
    pub id: i64,
    pub task_slug: String,
    /// Why a course leader hid it (course leaders alone see hidden answers).
    pub hidden: Option<String>,
    /// How many reported it (course leaders see this).
    pub reports: usize,
    pub organisation: String,
    pub signed_name: Option<String>,
    pub answers: Vec<String>,
    pub pinned: bool,
    pub comments: Vec<CommentView>,
}

/// One comment as a reader sees it.
pub struct CommentView {
    pub id: i64,
    pub hidden: Option<String>,
    pub reports: usize,
    pub organisation: String,
    pub signed_name: Option<String>,
    pub body: String,
    pub created_at: i64,
}

/// The shared answers as `leader` or a participant sees them: a participant sees nothing hidden
/// and no report counts.
async fn views(
    db: &impl sea_orm::ConnectionTrait,
    shared: Vec<(shared_answer::Model, submission::Model)>,
    (scope, leader): (&str, bool),
) -> Result<Vec<SharedView>, DbErr> {
    use store::exchange::Reported;
    let shared: Vec<_> = shared
        .into_iter()
        .filter(|(s, _)| leader || s.hidden_at.is_none())
        .collect();
    let ids: Vec<i64> = shared.iter().map(|(s, _)| s.id).collect();
    let reports = if leader {
        store::exchange::report_counts(db, scope).await?
    } else {
        HashMap::new()
    };
    let mut comments: HashMap<i64, Vec<CommentView>> = HashMap::new();
    for comment in store::exchange::comments_on(db, &ids).await? {
        if !leader && comment.hidden_at.is_some() {
            continue;
        }
        comments
            .entry(comment.shared_answer_id)
            .or_default()
            .push(CommentView {
                id: comment.id,
                hidden: comment
                    .hidden_reason
                    .clone()
                    .filter(|_| comment.hidden_at.is_some()),
                reports: reports
                    .get(&Reported::Comment(comment.id))
                    .copied()
                    .unwrap_or(0),
                organisation: comment.organisation,
                signed_name: comment.signed_name,
                body: comment.body,
                created_at: comment.created_at,
            });
    }
    Ok(shared
        .into_iter()
        .map(|(s, row)| SharedView {
            id: s.id,
            hidden: s.hidden_reason.clone().filter(|_| s.hidden_at.is_some()),
            reports: reports.get(&Reported::Answer(s.id)).copied().unwrap_or(0),
            task_slug: s.task_slug,
            organisation: s.organisation,
            signed_name: s.signed_name,
            answers: super::participant::answers_of(&row),
            pinned: s.pinned_at.is_some(),
            comments: comments.remove(&s.id).unwrap_or_default(),
        })
        .collect())
}

/// What "Så svarade andra kommuner" shows a person.
pub enum Others {
    /// Their group has not submitted yet.
    NotOpen,
    /// The other groups' shared answers, pinned first.
    Open(Vec<SharedView>),
}

/// The answers other groups of the run shared for `(module, task)`. A participant reads them once
/// their own group has submitted; a course leader always, every group's.
pub async fn others(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &Session,
    (module, task): (&str, &str),
) -> Result<Others, ExchangeError> {
    let own = group_answer(db, course, session, (module, task)).await?;
    let leader = session.role == ToolRole::Instructor;
    if !leader && !own.as_ref().is_some_and(handed_in) {
        return Ok(Others::NotOpen);
    }
    let scope = scope_of(db, course.context_id).await?;
    let mut shared = store::exchange::for_task(db, &scope, module, task).await?;
    if !leader {
        let own_id = own.map(|row| row.id);
        shared.retain(|(s, _)| Some(s.submission_id) != own_id);
    }
    shared.sort_by_key(|(s, _)| s.pinned_at.is_none());
    Ok(Others::Open(views(db, shared, (&scope, leader)).await?))
}

/// The shared answers course leaders pinned for the workshop of `module`, for everyone in the run.
pub async fn pinned(
    db: &impl sea_orm::ConnectionTrait,
    course: &ContextCourse,
    module: &str,
) -> Result<Vec<SharedView>, DbErr> {
    let scope = scope_of(db, course.context_id).await?;
    let shared = store::exchange::pinned_for_module(db, &scope, module).await?;
    views(db, shared, (&scope, false)).await
}

/// A shared answer of this person's run, with the task it answers.
async fn in_scope(
    db: &DatabaseConnection,
    course: &ContextCourse,
    shared_id: i64,
) -> Result<shared_answer::Model, ExchangeError> {
    let scope = scope_of(db, course.context_id).await?;
    store::exchange::find(db, shared_id)
        .await?
        .filter(|s| s.scope == scope)
        .ok_or(ExchangeError::NoSuchAnswer)
}

/// The (module, task) a shared answer of this person's run answers.
pub async fn task_of(
    db: &DatabaseConnection,
    course: &ContextCourse,
    shared_id: i64,
) -> Result<(String, String), ExchangeError> {
    let shared = in_scope(db, course, shared_id).await?;
    Ok((shared.module_slug, shared.task_slug))
}

/// A participant's comment on a shared answer, signed with their name when `sign`. Taken when the
/// answer is of their run and its page is open to them. Returns the answer's (module, task).
pub async fn comment(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &Session,
    (shared_id, body, sign): (i64, &str, bool),
    now: i64,
) -> Result<(String, String), ExchangeError> {
    let shared = in_scope(db, course, shared_id).await?;
    let task = (shared.module_slug.as_str(), shared.task_slug.as_str());
    if let Others::NotOpen = others(db, course, session, task).await? {
        return Err(ExchangeError::NotOpen);
    }
    let body = body.trim();
    if body.is_empty() {
        return Err(ExchangeError::EmptyComment);
    }
    if body.chars().count() > MAX_COMMENT_CHARS {
        return Err(ExchangeError::CommentTooLong);
    }
    if store::exchange::comments_by(db, shared.id, session.uid).await? >= MAX_COMMENTS_PER_ANSWER {
        return Err(ExchangeError::TooManyComments);
    }
    let organisation = organisation_of(db, session).await?;
    let signed_name = if sign { session.name.clone() } else { None };
    store::exchange::add_comment(
        db,
        NewComment {
            shared_answer_id: shared.id,
            user_id: session.uid,
            organisation: &organisation,
            signed_name: signed_name.as_deref(),
            body,
            now,
        },
    )
    .await?;
    Ok((shared.module_slug, shared.task_slug))
}

/// A course leader pins a shared answer of their run for the workshop (or unpins it). Returns the
/// answer's (module, task).
pub async fn pin(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &Session,
    (shared_id, pinned): (i64, bool),
    now: i64,
) -> Result<(String, String), ExchangeError> {
    if session.role != ToolRole::Instructor {
        return Err(ExchangeError::NotALeader);
    }
    let shared = in_scope(db, course, shared_id).await?;
    let txn = store::begin_write(db).await?;
    store::exchange::set_pin(&txn, shared.id, pinned.then_some(session.uid), now).await?;
    let (actor, target) = (
        format!("user:{}", session.uid),
        format!("shared:{}", shared.id),
    );
    let action = if pinned { "answer.pin" } else { "answer.unpin" };
    store::admin::audit(&txn, audit_entry(&actor, action, &target, now)).await?;
    txn.commit().await?;
    Ok((shared.module_slug, shared.task_slug))
}

/// What a report or a hiding is about: a shared answer, or a comment on one.
pub use store::exchange::Reported;

/// The longest reason for a report or a hiding, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// The reason of a report or a hiding as given, trimmed; `None` when it is longer than
/// [`MAX_REASON_CHARS`] or, `required` (a hiding), empty. Spaces' moderation takes the same.
pub(super) fn moderation_reason(text: &str, required: bool) -> Option<&str> {
    let text = text.trim();
    let fits = !(required && text.is_empty()) && text.chars().count() <= MAX_REASON_CHARS;
    fits.then_some(text)
}

fn reason(text: &str, required: bool) -> Result<&str, ExchangeError> {
    moderation_reason(text, required).ok_or(ExchangeError::BadReason)
}

/// The shared answer an item is or belongs to, in this person's run.
async fn answer_of(
    db: &DatabaseConnection,
    course: &ContextCourse,
    item: Reported,
) -> Result<shared_answer::Model, ExchangeError> {
    let answer_id = match item {
        Reported::Answer(id) => id,
        Reported::Comment(id) => {
            store::exchange::find_comment(db, id)
                .await?
                .ok_or(ExchangeError::NoSuchAnswer)?
                .shared_answer_id
        }
    };
    in_scope(db, course, answer_id).await
}

/// A participant reports an item they can read, for the course leaders to look at, once.
/// Returns the (module, task) of its page.
pub async fn report(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &Session,
    (item, text): (Reported, &str),
    now: i64,
) -> Result<(String, String), ExchangeError> {
    let text = reason(text, false)?;
    let shared = answer_of(db, course, item).await?;
    let task = (shared.module_slug.as_str(), shared.task_slug.as_str());
    if let Others::NotOpen = others(db, course, session, task).await? {
        return Err(ExchangeError::NotOpen);
    }
    if store::exchange::report(db, (item, &shared.scope), session.uid, text, now).await? {
        tracing::info!(
            code = "CONTENT_REPORTED",
            ?item,
            "a participant reported shared content"
        );
    }
    Ok((shared.module_slug, shared.task_slug))
}

/// A course leader hides an item of their run from its readers, with a reason; audited.
pub async fn hide(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &Session,
    (item, text): (Reported, &str),
    now: i64,
) -> Result<(String, String), ExchangeError> {
    if session.role != ToolRole::Instructor {
        return Err(ExchangeError::NotALeader);
    }
    let text = reason(text, true)?;
    let shared = answer_of(db, course, item).await?;
    let txn = store::begin_write(db).await?;
    store::exchange::hide(&txn, item, session.uid, text, now).await?;
    let (action, target) = match item {
        Reported::Answer(id) => ("answer.hide", format!("shared:{id}")),
        Reported::Comment(id) => ("comment.hide", format!("comment:{id}")),
    };
    let actor = format!("user:{}", session.uid);
    let detail = serde_json::json!({ "reason": text }).to_string();
    let mut entry = audit_entry(&actor, action, &target, now);
    entry.detail = &detail;
    store::admin::audit(&txn, entry).await?;
    txn.commit().await?;
    Ok((shared.module_slug, shared.task_slug))
}

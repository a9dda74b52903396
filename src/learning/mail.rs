//! The mail the course sends a participant, and their way out of it:
//! - feedback on a reflection, queued in the transaction of the review decision;
//! - a reminder two days before each workshop, naming the module to prepare, queued by the
//!   worker's schedule;
//! - opting out from the link in any mail, with no login.
//!
//! A mail goes only where mail is configured, to a person whose launch or sign-in carried an
//! address and who has not opted out. Each is Swedish first with the English below it: the
//! service does not know which language a person reads mail in, and a launch's locale says only
//! what their LMS speaks.
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use super::context::{ContextCourse, CourseCache, CourseError};
use crate::{
    i18n::{Lang, time},
    session::SessionKeys,
    store::{self, mail::NewMail},
};

/// How long before a workshop its reminder goes out.
pub const REMINDER_AHEAD_SECONDS: i64 = 2 * 86_400;

/// A review decision as the mail tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approved,
    Returned,
}

/// Queues the feedback mail for the people who own the answer `submission` (one person, or the
/// members of a group) after a review decision. Run it in the decision's transaction, so the
/// mail goes if and only if the decision stands. Returns how many were queued.
pub async fn queue_feedback(
    db: &impl ConnectionTrait,
    course: &ContextCourse,
    submission: &entity::submission::Model,
    verdict: Verdict,
    feedback: Option<&str>,
    now_ms: i64,
) -> Result<usize, DbErr> {
    let owners =
        store::grades::participants_owning(db, course.context_id, &submission.owner_key).await?;
    let ids: Vec<i64> = owners.iter().map(|(id, _)| *id).collect();
    let recipients = store::mail::recipients(db, &ids).await?;
    if recipients.is_empty() {
        return Ok(0);
    }
    let (subject, body) = feedback_text(course, submission, verdict, feedback);
    let mut queued = 0;
    for (user_id, address) in recipients {
        let mail = NewMail {
            // One mail per decision: the submission's status change happens once per version.
            dedupe_key: format!(
                "feedback:{}:{}:{}:{user_id}",
                submission.id, submission.version, submission.status
            ),
            user_id,
            recipient: &address,
            subject: &subject,
            body: &body,
        };
        queued += usize::from(store::mail::enqueue(db, mail, now_ms).await?);
    }
    Ok(queued)
}

fn feedback_text(
    course: &ContextCourse,
    submission: &entity::submission::Model,
    verdict: Verdict,
    feedback: Option<&str>,
) -> (String, String) {
    let package = &course.package;
    let module = course.module(&submission.module_slug).ok();
    let task_number = module
        .and_then(|m| m.tasks().position(|t| t.slug == submission.task_slug))
        .map_or(1, |i| i + 1);
    let part = |lang: Lang| {
        let module_title = module.map_or("", |m| m.title.get(lang));
        let task = lang.task_heading(task_number);
        let key = match verdict {
            Verdict::Approved => "mail-feedback-approved",
            Verdict::Returned => "mail-feedback-returned",
        };
        let mut text = lang.tf(key, &[("task", &task), ("module", module_title)]);
        if let Some(feedback) = feedback.filter(|f| !f.trim().is_empty()) {
            text.push_str(&format!(
                "\n\n{}\n{}",
                lang.t("mail-feedback-heading"),
                feedback.trim()
            ));
        }
        text.push_str(&format!("\n\n{}", lang.t("mail-where-to-find")));
        text
    };
    let subject = Lang::Sv.tf(
        "mail-feedback-subject",
        &[("course", package.title.get(Lang::Sv))],
    );
    (
        subject,
        format!("{}\n\n----\n\n{}", part(Lang::Sv), part(Lang::En)),
    )
}

/// Queues the reminders for every workshop that starts within the next two days, to every
/// participant of its LMS course who may get mail. A reminder already queued is not queued again
/// (`dedupe_key`), so the schedule may run as often as it likes and on several instances; a
/// workshop moved to another time gets a reminder for its new time. Returns how many were queued.
pub async fn queue_reminders(
    db: &DatabaseConnection,
    courses: &CourseCache,
    now_ms: i64,
) -> Result<usize, CourseError> {
    let now = now_ms.div_euclid(1000);
    let until = now + REMINDER_AHEAD_SECONDS;
    let mut queued = 0;
    for context_id in store::review::contexts_with_workshops_between(db, now, until).await? {
        let course = courses.for_context(db, context_id).await?;
        let occasions = store::review::occasions(db, context_id).await?;
        let due: Vec<_> = course
            .package
            .modules
            .iter()
            .filter_map(|module| Some((module, occasions.get(&module.slug)?)))
            .filter(|(_, o)| o.starts_at > now && o.starts_at <= until)
            .collect();
        if due.is_empty() {
            continue;
        }
        let ids: Vec<i64> = store::review::participants(db, context_id)
            .await?
            .into_iter()
            .map(|(_, person)| person.id)
            .collect();
        let recipients = store::mail::recipients(db, &ids).await?;
        for (module, occasion) in due {
            let (subject, body) = reminder_text(&course, module, occasion);
            for (user_id, address) in &recipients {
                let mail = NewMail {
                    dedupe_key: format!(
                        "reminder:{context_id}:{}:{}:{user_id}",
                        module.slug, occasion.starts_at
                    ),
                    user_id: *user_id,
                    recipient: address,
                    subject: &subject,
                    body: &body,
                };
                queued += usize::from(store::mail::enqueue(db, mail, now_ms).await?);
            }
        }
    }
    Ok(queued)
}

fn reminder_text(
    course: &ContextCourse,
    module: &crate::course::Module,
    occasion: &entity::workshop_occasion::Model,
) -> (String, String) {
    let when = format!(
        "{} {}",
        time::format_date(occasion.starts_at),
        time::format_time(occasion.starts_at)
    );
    let part = |lang: Lang| {
        let mut text = lang.tf(
            "mail-reminder-body",
            &[
                ("workshop", module.workshop.get(lang)),
                ("course", course.package.title.get(lang)),
                ("when", &when),
                ("module", module.title.get(lang)),
            ],
        );
        if !occasion.place.trim().is_empty() {
            text.push_str(&format!(
                "\n\n{}",
                lang.tf("mail-reminder-place", &[("place", occasion.place.trim())])
            ));
        }
        text.push_str(&format!("\n\n{}", lang.t("mail-where-to-find")));
        text
    };
    let subject = Lang::Sv.tf(
        "mail-reminder-subject",
        &[
            ("workshop", module.workshop.get(Lang::Sv)),
            ("module", module.title.get(Lang::Sv)),
        ],
    );
    (
        subject,
        format!("{}\n\n----\n\n{}", part(Lang::Sv), part(Lang::En)),
    )
}

/// Whom an opt-out link names, and whether they opted out already; `None` for a link that is
/// not one (forged, or too old).
pub async fn opt_out_standing(
    db: &DatabaseConnection,
    keys: &SessionKeys,
    token: &str,
    now: i64,
) -> Result<Option<bool>, DbErr> {
    let Some(user_id) = crate::mail::opt_out_user(keys, token, now) else {
        return Ok(None);
    };
    Ok(Some(store::mail::opted_out(db, user_id).await?))
}

/// Stops all mail to the person an opt-out link names, and drops what still waits for them.
/// The link is the person's authority, as a signed token: no login. `false` when the link is not
/// one. Asking twice changes nothing more.
pub async fn opt_out(
    db: &DatabaseConnection,
    keys: &SessionKeys,
    (token, origin): (&str, &str),
    now: i64,
) -> Result<bool, DbErr> {
    let Some(user_id) = crate::mail::opt_out_user(keys, token, now) else {
        return Ok(false);
    };
    let txn = store::begin_write(db).await?;
    if !store::mail::opted_out(&txn, user_id).await? {
        store::mail::opt_out(&txn, user_id, now).await?;
        store::admin::audit(
            &txn,
            store::admin::AuditEntry {
                actor: &format!("user:{user_id}"),
                action: "mail.opt_out",
                target: &format!("user:{user_id}"),
                organisation: None,
                origin,
                detail: "{}",
                at_ms: now * 1000,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// A reply in a network space, as its mail tells it.
pub struct Reply<'a> {
    pub space: &'a entity::network_space::Model,
    /// The thread's opening post.
    pub thread: &'a entity::space_post::Model,
    /// The reply.
    pub post: &'a entity::space_post::Model,
}

/// Queues a mail about `reply` to the others who wrote in its thread and are still members of
/// the space (not to the one who replied). Run it in the reply's transaction. Returns how many
/// were queued.
pub async fn queue_reply(
    db: &impl ConnectionTrait,
    reply: Reply<'_>,
    now_ms: i64,
) -> Result<usize, DbErr> {
    let members: std::collections::HashSet<i64> = store::spaces::members(db, reply.space.id)
        .await?
        .into_iter()
        .filter(|m| m.status == store::spaces::status::MEMBER)
        .map(|m| m.user_id)
        .collect();
    let ids: Vec<i64> = store::spaces::thread_authors(db, reply.thread.id)
        .await?
        .into_iter()
        .filter(|author| *author != reply.post.user_id && members.contains(author))
        .collect();
    let recipients = store::mail::recipients(db, &ids).await?;
    if recipients.is_empty() {
        return Ok(0);
    }
    let title = reply.thread.title.as_deref().unwrap_or_default();
    let who = match &reply.post.author_name {
        Some(name) => format!("{name} ({})", reply.post.organisation),
        None => reply.post.organisation.clone(),
    };
    let args = [
        ("who", who.as_str()),
        ("thread", title),
        ("space", reply.space.name.as_str()),
    ];
    let part = |lang: Lang| {
        format!(
            "{}\n\n{}",
            lang.tf("mail-reply-body", &args),
            lang.t("mail-reply-where")
        )
    };
    let subject = Lang::Sv.tf("mail-reply-subject", &args);
    let body = format!("{}\n\n----\n\n{}", part(Lang::Sv), part(Lang::En));
    let mut queued = 0;
    for (user_id, address) in recipients {
        let mail = NewMail {
            dedupe_key: format!("reply:{}:{user_id}", reply.post.id),
            user_id,
            recipient: &address,
            subject: &subject,
            body: &body,
        };
        queued += usize::from(store::mail::enqueue(db, mail, now_ms).await?);
    }
    Ok(queued)
}

//! Personal data, for the municipality as controller: everything stored about one person as JSON
//! (subject access), and erasure (anonymise: identity and personal content removed, statuses and
//! counts kept; delete: everything of the person removed). Both are audit-logged; the log names the
//! person only by the tool's id.
use sea_orm::{DatabaseConnection, DbErr};
use serde::{Deserialize, Serialize};

use super::access::{Denied, Principal, Scope};
pub use crate::store::people::Erasure;
use crate::{
    i18n::time::iso8601_utc_ms,
    store::{self},
};

/// What went wrong with a request about a person.
#[derive(Debug, thiserror::Error)]
pub enum PersonError {
    /// Not allowed.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// No such person (or none the principal may see).
    #[error("no such person")]
    NotFound,
    /// Storage.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Everything stored about a person.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PersonExport {
    /// When this export was made (RFC 3339).
    pub exported_at: String,
    /// The person as the LMS identified them.
    pub person: ExportedPerson,
    /// LMS courses (cohorts) they took part in, with their role.
    pub memberships: Vec<ExportedMembership>,
    /// Their own answers, with earlier versions and review decisions.
    pub answers: Vec<ExportedAnswer>,
    /// Their self-assessments (ratings per sub-area).
    pub self_assessments: Vec<ExportedAssessment>,
    /// Their completion records (as stored).
    pub completion_records: Vec<serde_json::Value>,
    /// Scores sent or waiting for the LMS gradebook.
    pub gradebook_scores: Vec<serde_json::Value>,
    /// Groups they were placed in (by group id).
    pub groups: Vec<i64>,
    /// Organisations they may follow as a contact person.
    pub contact_person_for: Vec<String>,
    /// Their comments on other municipalities' shared answers.
    pub comments: Vec<ExportedComment>,
    /// Their posts in network spaces, with the files they attached.
    pub posts: Vec<ExportedPost>,
}

/// A post in a network space.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportedPost {
    /// The space it is in.
    pub space_id: i64,
    /// The thread it opens (none) or replies in.
    pub thread_id: Option<i64>,
    /// The thread's title, for a post that opens one.
    pub title: Option<String>,
    /// The text.
    pub body: String,
    /// The municipality it was shown under.
    pub organisation: String,
    /// The files attached: their names, types and sizes in bytes.
    pub attachments: Vec<ExportedAttachment>,
    /// Whether a moderator hid it, and why.
    pub hidden_reason: Option<String>,
    /// When written (RFC 3339).
    pub at: String,
}

/// A file attached to a post (the file itself is in the space, for the person to download).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportedAttachment {
    /// The file's name.
    pub file_name: String,
    /// Its MIME type.
    pub content_type: String,
    /// Its size in bytes.
    pub size: i64,
}

/// A comment on a shared answer.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportedComment {
    /// The shared answer it is on.
    pub shared_answer_id: i64,
    /// The text.
    pub body: String,
    /// The municipality it was shown under.
    pub organisation: String,
    /// Whether it was signed with their name.
    pub signed: bool,
    /// When written (RFC 3339).
    pub at: String,
}

/// The person.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportedPerson {
    /// The tool's id.
    pub id: i64,
    /// LTI `sub`.
    pub sub: String,
    /// Name parts, as the platform sent them.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Email (stored only when configured).
    pub email: Option<String>,
    /// First seen.
    pub first_seen: String,
}

/// A membership.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportedMembership {
    /// Cohort id.
    pub cohort_id: i64,
    /// Course title in the LMS.
    pub cohort_title: Option<String>,
    /// `participant` or `instructor`.
    pub role: String,
    /// The LTI roles the platform sent.
    pub lti_roles: String,
}

/// One answer.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportedAnswer {
    /// Cohort id.
    pub cohort_id: i64,
    /// Module slug.
    pub module: String,
    /// Task slug.
    pub task: String,
    /// `draft`, `submitted`, `returned`, `approved`.
    pub status: String,
    /// The answer's fields.
    pub answers: Vec<String>,
    /// The last feedback.
    pub feedback: Option<String>,
    /// Earlier versions (answers per version).
    pub revisions: Vec<Vec<String>>,
    /// Review decisions: status change and feedback.
    pub reviews: Vec<ExportedReview>,
    /// Last change.
    pub updated_at: String,
}

/// A review decision.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportedReview {
    /// From status.
    pub from: String,
    /// To status.
    pub to: String,
    /// Feedback given.
    pub feedback: Option<String>,
    /// When.
    pub at: String,
}

/// A self-assessment.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExportedAssessment {
    /// Cohort id.
    pub cohort_id: i64,
    /// `baseline` or `final`.
    pub round: String,
    /// Ratings per sub-area.
    pub ratings: serde_json::Value,
    /// When submitted, if it was.
    pub submitted_at: Option<String>,
}

fn at(unix: i64) -> String {
    iso8601_utc_ms(unix * 1000)
}

fn parse_list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// A person the principal may see: for an organisation principal, someone with a membership in
/// one of the organisation's cohorts.
async fn visible_person(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
) -> Result<(entity::lti_user::Model, Option<Vec<i64>>), PersonError> {
    principal.require(Scope::Admin)?;
    let user = store::people::get(db, id)
        .await?
        .ok_or(PersonError::NotFound)?;
    let contexts = principal.contexts(db).await?;
    if let Some(contexts) = &contexts
        && store::people::memberships(db, id, Some(contexts))
            .await?
            .is_empty()
    {
        return Err(PersonError::NotFound);
    }
    Ok((user, contexts))
}

/// Everything stored about a person (within the principal's organisation).
pub async fn export(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
) -> Result<PersonExport, PersonError> {
    let (user, contexts) = visible_person(db, principal, id).await?;
    let data = store::people::load(db, user, contexts.as_deref()).await?;
    let titles: std::collections::HashMap<i64, Option<String>> = data
        .contexts
        .iter()
        .map(|c| (c.id, c.title.clone()))
        .collect();
    let export = PersonExport {
        exported_at: iso8601_utc_ms(principal.now_ms()),
        person: ExportedPerson {
            id: data.user.id,
            sub: data.user.sub.clone(),
            name: data.user.name.clone(),
            given_name: data.user.given_name.clone(),
            family_name: data.user.family_name.clone(),
            email: data.user.email.clone(),
            first_seen: at(data.user.created_at),
        },
        memberships: data
            .memberships
            .iter()
            .map(|m| ExportedMembership {
                cohort_id: m.context_id,
                cohort_title: titles.get(&m.context_id).cloned().flatten(),
                role: m.role.clone(),
                lti_roles: m.lti_roles.clone(),
            })
            .collect(),
        answers: data
            .submissions
            .iter()
            .map(|s| ExportedAnswer {
                cohort_id: s.context_id,
                module: s.module_slug.clone(),
                task: s.task_slug.clone(),
                status: s.status.clone(),
                answers: parse_list(&s.answers),
                feedback: s.feedback.clone(),
                revisions: data
                    .revisions
                    .iter()
                    .filter(|r| r.submission_id == s.id)
                    .map(|r| parse_list(&r.answers))
                    .collect(),
                reviews: data
                    .events
                    .iter()
                    .filter(|e| e.submission_id == s.id)
                    .map(|e| ExportedReview {
                        from: e.from_status.clone(),
                        to: e.to_status.clone(),
                        feedback: e.feedback.clone(),
                        at: at(e.at),
                    })
                    .collect(),
                updated_at: at(s.updated_at),
            })
            .collect(),
        self_assessments: data
            .assessments
            .iter()
            .map(|a| ExportedAssessment {
                cohort_id: a.context_id,
                round: a.round.clone(),
                ratings: serde_json::from_str(&a.ratings).unwrap_or(serde_json::Value::Null),
                submitted_at: a.submitted_at.map(at),
            })
            .collect(),
        completion_records: data
            .records
            .iter()
            .map(|r| serde_json::from_str(&r.record).unwrap_or(serde_json::Value::Null))
            .collect(),
        gradebook_scores: data
            .scores
            .iter()
            .map(|s| {
                serde_json::json!({
                    "line_item": s.resource_id,
                    "score": serde_json::from_str::<serde_json::Value>(&s.score)
                        .unwrap_or(serde_json::Value::Null),
                    "state": s.state,
                    "scored_at": iso8601_utc_ms(s.scored_at_ms),
                })
            })
            .collect(),
        groups: data.groups.iter().map(|g| g.group_id).collect(),
        contact_person_for: data
            .contact_grants
            .iter()
            .map(|g| g.organisation.clone())
            .collect(),
        comments: data
            .comments
            .iter()
            .map(|c| ExportedComment {
                shared_answer_id: c.shared_answer_id,
                body: c.body.clone(),
                organisation: c.organisation.clone(),
                signed: c.signed_name.is_some(),
                at: at(c.created_at),
            })
            .collect(),
        posts: data
            .posts
            .iter()
            .map(|p| ExportedPost {
                space_id: p.space_id,
                thread_id: p.thread_id,
                title: p.title.clone(),
                body: p.body.clone(),
                organisation: p.organisation.clone(),
                attachments: data
                    .attachments
                    .iter()
                    .filter(|a| a.post_id == p.id)
                    .map(|a| ExportedAttachment {
                        file_name: a.file_name.clone(),
                        content_type: a.content_type.clone(),
                        size: a.size,
                    })
                    .collect(),
                hidden_reason: p.hidden_reason.clone().filter(|_| p.hidden_at.is_some()),
                at: at(p.created_at),
            })
            .collect(),
    };
    principal
        .audit(
            db,
            "person.export",
            &format!("person:{id}"),
            principal.organisation.as_deref(),
            serde_json::json!({}),
        )
        .await?;
    Ok(export)
}

/// What an erasure did.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErasureReport {
    /// The person's id (kept: it carries no personal data).
    pub person_id: i64,
    /// `anonymise` or `delete`.
    pub mode: String,
    /// Own answers emptied or deleted.
    pub answers: u64,
    /// Self-assessments deleted.
    pub self_assessments: u64,
    /// Gradebook scores and webhook events removed.
    pub deliveries: u64,
    /// Comments on shared answers deleted.
    pub comments: u64,
    /// Posts in network spaces deleted, or emptied where others replied to them.
    pub posts: u64,
    /// Whether the identity (sub, names, email) was replaced. Not when the person also takes
    /// part through another organisation, whose data this erasure does not touch.
    pub identity_removed: bool,
}

/// Ends every open session of a person (within the principal's organisation) on every instance
/// within a few seconds, with its audit entry. Their next launch from the LMS starts a new one.
pub async fn revoke_sessions(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
) -> Result<(), PersonError> {
    visible_person(db, principal, id).await?;
    let txn = crate::store::begin_write(db).await?;
    store::people::revoke_sessions(&txn, id, principal.now_unix()).await?;
    principal
        .audit(
            &txn,
            "person.revoke_sessions",
            &format!("person:{id}"),
            principal.organisation.as_deref(),
            serde_json::json!({}),
        )
        .await?;
    txn.commit().await?;
    tracing::info!(person = id, actor = %principal.actor, "sessions revoked");
    Ok(())
}

/// Erases a person (within the principal's organisation), in one transaction with its audit entry.
pub async fn erase(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
    how: Erasure,
) -> Result<ErasureReport, PersonError> {
    let (user, contexts) = visible_person(db, principal, id).await?;
    let txn = crate::store::begin_write(db).await?;
    let pseudonym = format!(
        "{}{}",
        store::people::ERASED_PREFIX,
        crate::lti::random_token(12)
    );
    let erased = store::people::erase(&txn, &user, contexts.as_deref(), how, &pseudonym).await?;
    // An erased person's open sessions end too, also where their identity stays for another
    // organisation.
    store::people::revoke_sessions(&txn, id, principal.now_unix()).await?;
    let mode = match how {
        Erasure::Anonymise => "anonymise",
        Erasure::Delete => "delete",
    };
    let report = ErasureReport {
        person_id: id,
        mode: mode.to_owned(),
        answers: erased.submissions,
        self_assessments: erased.assessments,
        deliveries: erased.deliveries,
        comments: erased.comments,
        posts: erased.posts,
        identity_removed: erased.identity,
    };
    principal
        .audit(
            &txn,
            &format!("person.{mode}"),
            &format!("person:{id}"),
            principal.organisation.as_deref(),
            serde_json::json!({
                "answers": report.answers,
                "self_assessments": report.self_assessments,
                "deliveries": report.deliveries,
                "comments": report.comments,
                "posts": report.posts,
                "identity_removed": report.identity_removed,
            }),
        )
        .await?;
    txn.commit().await?;
    tracing::info!(person = id, mode, actor = %principal.actor, "person erased");
    Ok(report)
}

/// Makes a person who signs in through a provider (named by the provider's issuer, client id and
/// `sub`) one person with an LMS person (system administrators): from their next sign-in they act
/// as the LMS person, with that person's courses, answers and roles. Never done on an email.
pub async fn link(
    db: &DatabaseConnection,
    principal: &Principal,
    lms_person: i64,
    signin: (&str, &str, &str),
) -> Result<i64, crate::admin::directory::AdminError> {
    use crate::admin::directory::AdminError;
    principal.require_system()?;
    let (issuer, client_id, sub) = signin;
    let sub = sub.trim();
    if sub.is_empty() || sub.len() > 255 {
        return Err(AdminError::Invalid(
            "the sub must be 1 to 255 characters".into(),
        ));
    }
    let target = store::people::get(db, lms_person)
        .await?
        .ok_or(AdminError::NotFound("person"))?;
    let target_platform = store::platform::get(db, target.platform_id)
        .await?
        .ok_or(AdminError::NotFound("person"))?;
    if target_platform.kind != store::platform::KIND_LTI {
        return Err(AdminError::Invalid(
            "link a signed-in person to a person who came from an LMS".into(),
        ));
    }
    let provider = store::platform::find(db, issuer.trim().trim_end_matches('/'), client_id.trim())
        .await?
        .filter(|p| p.kind == store::platform::KIND_SIGNIN)
        .ok_or(AdminError::NotFound("sign-in provider"))?;
    let now = principal.now_unix();
    let txn = store::begin_write(db).await?;
    let row = store::people::upsert_person(
        &txn,
        provider.id,
        store::people::PersonFields {
            sub,
            name: target.name.as_deref(),
            given_name: target.given_name.as_deref(),
            family_name: target.family_name.as_deref(),
            email: None,
        },
        now,
    )
    .await?;
    store::people::set_link(&txn, row.id, Some(target.id)).await?;
    // Sessions the signed-in person had as themselves end.
    store::people::revoke_sessions(&txn, row.id, now).await?;
    principal
        .audit(
            &txn,
            "person.link",
            &format!("person:{}", target.id),
            None,
            serde_json::json!({ "signed_in_person": row.id, "provider": provider.id }),
        )
        .await?;
    txn.commit().await?;
    Ok(row.id)
}

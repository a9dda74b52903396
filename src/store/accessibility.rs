//! Accessibility feedback.
use entity::accessibility_feedback;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

/// A report to store.
#[derive(Debug, Clone)]
pub struct NewFeedback {
    /// Deployment row id, when the sender came through a launch.
    pub deployment_id: Option<i64>,
    /// Page language.
    pub lang: String,
    /// Which page.
    pub page: String,
    /// The report.
    pub message: String,
    /// Optional contact.
    pub contact: Option<String>,
    /// Now.
    pub now: i64,
}

/// Stores a report.
pub async fn insert(db: &impl ConnectionTrait, feedback: NewFeedback) -> Result<(), DbErr> {
    accessibility_feedback::Entity::insert(accessibility_feedback::ActiveModel {
        deployment_id: Set(feedback.deployment_id),
        lang: Set(feedback.lang),
        page: Set(feedback.page),
        message: Set(feedback.message),
        contact: Set(feedback.contact),
        created_at: Set(feedback.now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// The organisation behind a deployment, for the statement.
pub async fn organisation(
    db: &impl ConnectionTrait,
    deployment_id: i64,
) -> Result<Option<String>, DbErr> {
    Ok(entity::deployment::Entity::find_by_id(deployment_id)
        .one(db)
        .await?
        .and_then(|d| d.organisation))
}

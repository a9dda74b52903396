//! Accessibility feedback: whose accessibility statement a page shows (the municipality behind the
//! launch, or the operator), and feedback sent about it, by a launched person or by anyone.
use sea_orm::{DatabaseConnection, DbErr};

use crate::{session::Session, store};

/// The organisation behind the person's launch, whose accessibility statement applies; `None`
/// without a session or when the deployment names none.
pub async fn organisation_of(
    db: &DatabaseConnection,
    session: Option<&Session>,
) -> Result<Option<String>, DbErr> {
    match session {
        Some(session) => store::accessibility::organisation(db, session.did).await,
        None => Ok(None),
    }
}

/// Feedback as its form gave it, already limited in size.
pub struct Feedback {
    /// The page's language.
    pub lang: String,
    /// The page it is about.
    pub page: String,
    /// What the person wrote.
    pub message: String,
    /// How to answer them, if they want an answer.
    pub contact: Option<String>,
    /// When it was sent (Unix seconds, by the application's clock).
    pub now: i64,
}

/// Stores feedback, with the deployment of the person's launch when there is one.
pub async fn record(
    db: &DatabaseConnection,
    session: Option<&Session>,
    feedback: Feedback,
) -> Result<(), DbErr> {
    store::accessibility::insert(
        db,
        store::accessibility::NewFeedback {
            deployment_id: session.map(|s| s.did),
            lang: feedback.lang,
            page: feedback.page,
            message: feedback.message,
            contact: feedback.contact,
            now: feedback.now,
        },
    )
    .await
}

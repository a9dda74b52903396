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

/// The longest message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 4_000;
/// The longest page reference kept.
const MAX_PAGE_CHARS: usize = 500;
/// The longest contact kept.
const MAX_CONTACT_CHARS: usize = 300;

/// Feedback as its form gave it.
pub struct Feedback {
    /// The page's language.
    pub lang: String,
    /// The page it is about.
    pub page: Option<String>,
    /// What the person wrote.
    pub message: Option<String>,
    /// How to answer them, if they want an answer.
    pub contact: Option<String>,
    /// When it was sent (Unix seconds, by the application's clock).
    pub now: i64,
}

/// What became of feedback.
pub enum Recorded {
    /// Stored.
    Stored,
    /// Nothing stored: the message is empty. The page reference as kept, to show again.
    NoMessage {
        /// The page it was about.
        page: String,
    },
}

fn clip(text: Option<String>, limit: usize) -> String {
    text.unwrap_or_default()
        .trim()
        .chars()
        .take(limit)
        .collect()
}

/// Stores feedback, with the deployment of the person's launch when there is one. Every field is
/// kept within its limit, so nobody writes unbounded text; an empty message stores nothing.
pub async fn record(
    db: &DatabaseConnection,
    session: Option<&Session>,
    feedback: Feedback,
) -> Result<Recorded, DbErr> {
    let message = clip(feedback.message, MAX_MESSAGE_CHARS);
    let page = clip(feedback.page, MAX_PAGE_CHARS);
    if message.is_empty() {
        return Ok(Recorded::NoMessage { page });
    }
    store::accessibility::insert(
        db,
        store::accessibility::NewFeedback {
            deployment_id: session.map(|s| s.did),
            lang: feedback.lang,
            page,
            message,
            contact: Some(clip(feedback.contact, MAX_CONTACT_CHARS)).filter(|c| !c.is_empty()),
            now: feedback.now,
        },
    )
    .await?;
    Ok(Recorded::Stored)
}

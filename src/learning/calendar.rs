//! The workshop calendar of an LMS course: the occasions its course leaders set, each with the
//! module to prepare, for a participant's calendar app. Read through a session (the download) or
//! through a feed address that names the LMS course and nothing about any person.
use serde::{Deserialize, Serialize};

use sea_orm::DatabaseConnection;

use super::context::{ContextCourse, CourseCache, CourseError};
use crate::{
    i18n::Lang,
    session::{Session, SessionKeys},
};

/// One workshop of the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workshop {
    /// The module it belongs to (stable across edits of the occasion: the event's identity).
    pub module_slug: String,
    /// "Workshop 2", in the calendar's language.
    pub name: String,
    /// The module to prepare before it.
    pub module_title: String,
    /// Unix seconds.
    pub starts_at: i64,
    /// Where it is held, as the course leader wrote it.
    pub place: String,
}

/// The course's title and its workshops with a time set, earliest first.
pub async fn workshops(
    db: &DatabaseConnection,
    course: &ContextCourse,
    lang: Lang,
) -> Result<(String, Vec<Workshop>), CourseError> {
    let occasions = super::review::occasions(db, course.context_id).await?;
    let mut workshops: Vec<Workshop> = course
        .package
        .modules
        .iter()
        .filter_map(|module| {
            let occasion = occasions.get(&module.slug)?;
            Some(Workshop {
                module_slug: module.slug.clone(),
                name: module.workshop.get(lang).to_owned(),
                module_title: module.title.get(lang).to_owned(),
                starts_at: occasion.starts_at,
                place: occasion.place.clone(),
            })
        })
        .collect();
    workshops.sort_by_key(|w| w.starts_at);
    Ok((course.package.title.get(lang).to_owned(), workshops))
}

/// What a feed address carries, signed: the LMS course and the calendar's language. It outlives
/// sessions (a calendar app reads it for the whole run) and says nothing about who subscribed.
#[derive(Debug, Serialize, Deserialize)]
pub struct FeedClaims {
    /// Always "workshops": a session or other signed token is not a feed.
    purpose: String,
    /// The LMS course (context id).
    ctx: i64,
    /// "sv" or "en".
    lang: String,
    /// Unix seconds.
    exp: i64,
}

impl crate::session::Expiring for FeedClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// How long a feed address is read: past any course run.
const FEED_SECONDS: i64 = 400 * 86_400;

/// The signed part of the feed address for the LMS course of `session`, at `now` (Unix seconds).
pub fn feed_token(keys: &SessionKeys, session: &Session, now: i64) -> Option<String> {
    let claims = FeedClaims {
        purpose: "workshops".into(),
        ctx: session.cid?,
        lang: session.page_language().code().to_owned(),
        exp: now + FEED_SECONDS,
    };
    keys.issue_claims(&claims).ok()
}

/// The LMS course and language a feed token names, or `None` when it is not a valid feed token.
pub async fn feed_course(
    db: &DatabaseConnection,
    courses: &CourseCache,
    keys: &SessionKeys,
    (token, now): (&str, i64),
) -> Result<Option<(ContextCourse, Lang)>, CourseError> {
    let Ok(claims) = keys.verify_claims::<FeedClaims>(token, now) else {
        return Ok(None);
    };
    if claims.purpose != "workshops" {
        return Ok(None);
    }
    let lang = Lang::from_locale(Some(&claims.lang));
    Ok(Some((courses.for_context(db, claims.ctx).await?, lang)))
}

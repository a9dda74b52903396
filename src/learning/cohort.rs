//! Joining an LMS course to a cohort (course run), whoever asks: an administrator, an instructor
//! who types the cohort's code, or a launch whose link carries `cohort=<code>`. The rules are one:
//! a course linked to a run stays in it, and it runs the run's course version, which it takes
//! only while nobody has answered in another version.
use entity::cohort;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use super::context::CourseCache;
use crate::store;

/// The letters a cohort code is made of: no 0/O, 1/I/L, so it can be read aloud and typed.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A new cohort code, `XXXX-XXXX`: 31^8 ≈ 8.5·10^11 codes, guessed only by someone who is also
/// an instructor of a launched LMS course, and then only to join it, never to read it.
pub fn new_code() -> String {
    use base64::Engine;
    let mut code = String::with_capacity(9);
    // Rejection sampling keeps every letter equally likely: bytes ≥ 248 (8 × 31) are dropped.
    while code.len() < 9 {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(crate::lti::random_token(16))
            .unwrap_or_default();
        for byte in bytes {
            if code.len() == 9 {
                break;
            }
            if usize::from(byte) >= 8 * CODE_ALPHABET.len() {
                continue;
            }
            if code.len() == 4 {
                code.push('-');
            }
            code.push(CODE_ALPHABET[usize::from(byte) % CODE_ALPHABET.len()] as char);
        }
    }
    code
}

/// A code as a person typed it, in the stored form: case, spaces and dashes do not matter.
pub fn normalise_code(typed: &str) -> Option<String> {
    let letters: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if letters.len() != 8 || !letters.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        return None;
    }
    Some(format!("{}-{}", &letters[..4], &letters[4..]))
}

/// Why an LMS course did not join a cohort.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// No cohort has this code.
    #[error("no cohort has this code")]
    UnknownCode,
    /// The course is part of another cohort.
    #[error("the LMS course is part of another cohort")]
    OtherCohort,
    /// The course runs another course version, and people have answered in it.
    #[error("the LMS course runs another course version and has answers in it")]
    OtherVersion,
    /// Only an instructor of the LMS course may join it.
    #[error("only an instructor of the LMS course may join it to a cohort")]
    NotInstructor,
    /// Storage.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The cohort a typed code names.
pub async fn by_code(db: &impl ConnectionTrait, typed: &str) -> Result<cohort::Model, JoinError> {
    let code = normalise_code(typed).ok_or(JoinError::UnknownCode)?;
    store::cohorts::by_code(db, &code)
        .await?
        .ok_or(JoinError::UnknownCode)
}

/// Links LMS course `context_id` to `cohort` and makes it run the cohort's course version.
pub async fn join(
    db: &DatabaseConnection,
    courses: &CourseCache,
    context_id: i64,
    cohort: &cohort::Model,
    now: i64,
) -> Result<(), JoinError> {
    let txn = store::begin_write(db).await?;
    match store::course::pinned(&txn, context_id).await? {
        None => {
            store::course::pin_context(&txn, context_id, cohort.course_version_id, now).await?;
        }
        Some(version) if version == cohort.course_version_id => {}
        Some(_) => {
            if !store::review::submissions(&txn, context_id)
                .await?
                .is_empty()
            {
                return Err(JoinError::OtherVersion);
            }
            store::course::repin_context(&txn, context_id, cohort.course_version_id, now).await?;
        }
    }
    if !store::cohorts::link_context(&txn, context_id, cohort.id).await? {
        return Err(JoinError::OtherCohort);
    }
    txn.commit().await?;
    courses.forget_pin(context_id);
    Ok(())
}

/// An instructor of an LMS course that is in no cohort yet joins it to the cohort whose code they
/// typed.
pub async fn join_with_code(
    db: &DatabaseConnection,
    courses: &CourseCache,
    session: &crate::session::Session,
    typed: &str,
    now: i64,
) -> Result<cohort::Model, JoinError> {
    let context_id = match (session.role, session.cid) {
        (crate::lti::claims::ToolRole::Instructor, Some(context_id)) => context_id,
        _ => return Err(JoinError::NotInstructor),
    };
    let found = by_code(db, typed).await?;
    join(db, courses, context_id, &found, now).await?;
    tracing::info!(
        code = "cohort.linked",
        context = context_id,
        cohort = found.id,
        by = session.uid,
        "an instructor joined the LMS course to a cohort by its code"
    );
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_read_as_typed_and_refused_when_it_cannot_be_one() {
        let code = new_code();
        assert_eq!(code.len(), 9);
        assert_eq!(normalise_code(&code).as_deref(), Some(code.as_str()));
        assert_eq!(
            normalise_code(&code.to_lowercase().replace('-', " ")).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(normalise_code("abcd-efgh").as_deref(), Some("ABCD-EFGH"));
        assert_eq!(
            normalise_code("ABCD-EFG0"),
            None,
            "0 is not in the alphabet"
        );
        assert_eq!(normalise_code("ABCD-EFG"), None);
        assert_eq!(normalise_code("ÅÄÖÅ-ÄÖÅÄ"), None);
    }
}

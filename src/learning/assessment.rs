//! Self-assessment of one's own organisation (course-domain §2.5): for every sub-area of the
//! framework a current and a target phase, or "not started" / "not relevant".
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    context::{ContextCourse, CourseCache, CourseError},
    standing::Standing,
};
use crate::{
    course::{AssessmentRound, Block, Framework},
    session::Session,
};

/// "Not started" in the answer scale.
pub const NOT_STARTED: &str = "not-started";
/// "Not relevant" in the answer scale.
pub const NOT_RELEVANT: &str = "not-relevant";

/// One sub-area's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// Where the organisation stands: a phase slug, `not-started` or `not-relevant`; empty when unanswered.
    pub current: String,
    /// Where it should be.
    pub target: String,
}

/// Answers by sub-area slug.
pub type Ratings = BTreeMap<String, Rating>;

/// The stored name of a round.
pub fn round_name(round: AssessmentRound) -> &'static str {
    round.name()
}

/// Parses a round name from a URL.
pub fn parse_round(name: &str) -> Option<AssessmentRound> {
    match name {
        "baseline" => Some(AssessmentRound::Baseline),
        "final" => Some(AssessmentRound::Final),
        _ => None,
    }
}

/// Whether `value` is on the framework's scale.
pub fn valid_value(framework: &Framework, value: &str) -> bool {
    value.is_empty()
        || value == NOT_STARTED
        || value == NOT_RELEVANT
        || framework.phases.iter().any(|phase| phase.slug == value)
}

/// Which fields are missing for a submit: (sub-area slug, "current" | "target").
pub fn missing(framework: &Framework, ratings: &Ratings) -> Vec<(String, &'static str)> {
    let mut missing = Vec::new();
    for subarea in &framework.subareas {
        let rating = ratings.get(&subarea.slug).cloned().unwrap_or_default();
        if rating.current.is_empty() {
            missing.push((subarea.slug.clone(), "current"));
        }
        if rating.target.is_empty() {
            missing.push((subarea.slug.clone(), "target"));
        }
    }
    missing
}

/// A value's position for the chart: 0 not started, 1.. the phases; `None` when not relevant or empty.
pub fn level(framework: &Framework, value: &str) -> Option<usize> {
    if value == NOT_STARTED {
        return Some(0);
    }
    framework
        .phases
        .iter()
        .position(|phase| phase.slug == value)
        .map(|index| index + 1)
}

/// A round as one participant stands in it.
pub struct RoundStanding {
    /// The course of the participant's context.
    pub course: ContextCourse,
    /// The round.
    pub round: AssessmentRound,
    /// Whether it is submitted (then it no longer changes).
    pub submitted: bool,
    /// The stored answers, draft or submitted.
    pub ratings: Ratings,
    /// The submitted baseline beside a final round.
    pub baseline: Option<Ratings>,
}

/// Why a round cannot be shown or saved.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// No such round in the context's course (answered as not found).
    #[error(transparent)]
    Course(#[from] CourseError),
    /// A field's value is not on the framework's scale.
    #[error("{0}: not a value of the scale")]
    NotOnScale(String),
}

impl From<sea_orm::DbErr> for RoundError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Course(err.into())
    }
}

/// The submitted ratings of a round, for the participant's own record of their answers.
pub fn submitted_ratings(standing: &Standing, round: AssessmentRound) -> Option<Ratings> {
    standing
        .assessment(round)
        .filter(|row| row.submitted_at.is_some())
        .map(|row| ratings_of(Some(row)))
}

fn ratings_of(row: Option<&entity::self_assessment::Model>) -> Ratings {
    row.and_then(|r| serde_json::from_str(&r.ratings).ok())
        .unwrap_or_default()
}

/// The round `name` of the session's course as its participant stands in it; not found when the
/// course offers no such round.
pub async fn round_standing(
    db: &sea_orm::DatabaseConnection,
    courses: &CourseCache,
    session: &Session,
    name: &str,
) -> Result<RoundStanding, CourseError> {
    let not_found = || CourseError::NoModule(name.chars().take(32).collect());
    let round = parse_round(name).ok_or_else(not_found)?;
    let course = courses.for_session(db, session).await?;
    let offered = course
        .package
        .modules
        .iter()
        .flat_map(|m| &m.blocks)
        .any(|block| matches!(block, Block::SelfAssessment { round: r } if *r == round));
    if !offered {
        return Err(not_found());
    }
    let standing = Standing::load(db, &course, session).await?;
    let baseline = (round == AssessmentRound::Final)
        .then(|| standing.assessment(AssessmentRound::Baseline))
        .flatten()
        .filter(|row| row.submitted_at.is_some())
        .map(|row| ratings_of(Some(row)));
    Ok(RoundStanding {
        submitted: standing.assessment_submitted(round),
        ratings: ratings_of(standing.assessment(round)),
        baseline,
        round,
        course,
    })
}

/// A round's form as sent: the ratings, and whether the participant asked to submit.
pub fn read_form(
    framework: &Framework,
    fields: Vec<(String, String)>,
) -> Result<(Ratings, bool), RoundError> {
    let mut ratings = Ratings::new();
    let mut submit = false;
    for (name, value) in fields {
        if name == "action" {
            submit = value == "submit";
            continue;
        }
        let Some((part, slug)) = name.split_once('_') else {
            continue;
        };
        if !framework.subareas.iter().any(|s| s.slug == slug) {
            continue;
        }
        if !valid_value(framework, &value) {
            return Err(RoundError::NotOnScale(name.chars().take(64).collect()));
        }
        let rating = ratings.entry(slug.to_owned()).or_default();
        match part {
            "current" => rating.current = value,
            "target" => rating.target = value,
            _ => {}
        }
    }
    Ok((ratings, submit))
}

/// What became of a round's save.
pub enum RoundSaved {
    /// Kept as a draft.
    Saved,
    /// Submitted.
    Submitted,
    /// Already submitted earlier; nothing changed.
    Locked,
    /// A submit with fields left empty: kept as a draft, these are missing.
    Incomplete(Vec<(String, &'static str)>),
}

/// Saves the participant's answers to the round `name` of their course, and submits them when
/// asked and complete (queueing the scores a submit moves).
pub async fn save_answers(
    db: &sea_orm::DatabaseConnection,
    courses: &CourseCache,
    session: &Session,
    name: &str,
    fields: Vec<(String, String)>,
    now_ms: i64,
) -> Result<(RoundSaved, Ratings), RoundError> {
    let standing = round_standing(db, courses, session, name).await?;
    let (ratings, submit) = read_form(&standing.course.package.framework, fields)?;
    let missing = if submit {
        missing(&standing.course.package.framework, &ratings)
    } else {
        Vec::new()
    };
    let json = serde_json::to_string(&ratings).unwrap_or_else(|_| "{}".into());
    let complete = submit && missing.is_empty();
    let stored = save_round(
        db,
        &standing.course,
        session.uid,
        standing.round,
        json,
        complete,
        now_ms,
    )
    .await?;
    let saved = match (stored, missing.is_empty(), submit) {
        (false, _, _) => RoundSaved::Locked,
        (true, false, _) => RoundSaved::Incomplete(missing),
        (true, true, true) => RoundSaved::Submitted,
        (true, true, false) => RoundSaved::Saved,
    };
    Ok((saved, ratings))
}

/// Stores a round's ratings (unless the round is already submitted: then `false`), and when it is
/// submitted queues the scores it moves, in one transaction.
pub async fn save_round(
    db: &sea_orm::DatabaseConnection,
    course: &ContextCourse,
    user_id: i64,
    round: AssessmentRound,
    ratings: String,
    submit: bool,
    now_ms: i64,
) -> Result<bool, sea_orm::DbErr> {
    let txn = crate::store::begin_write(db).await?;
    let stored = crate::store::self_assessment::save(
        &txn,
        course.context_id,
        user_id,
        round_name(round),
        ratings,
        submit,
        now_ms.div_euclid(1000),
    )
    .await?;
    if stored && submit {
        crate::learning::records::progress_changed(&txn, course, &format!("u:{user_id}"), now_ms)
            .await?;
    }
    txn.commit().await?;
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::{demo_files, load};

    #[test]
    fn every_sub_area_needs_both_answers_and_values_stay_on_the_scale() {
        let framework = load(&demo_files()).unwrap().framework;
        let mut ratings = Ratings::new();
        assert_eq!(missing(&framework, &ratings).len(), 16);
        for subarea in &framework.subareas {
            ratings.insert(
                subarea.slug.clone(),
                Rating {
                    current: NOT_STARTED.into(),
                    target: "koordination".into(),
                },
            );
        }
        assert!(missing(&framework, &ratings).is_empty());
        assert!(valid_value(&framework, "acceleration"));
        assert!(valid_value(&framework, NOT_RELEVANT));
        assert!(!valid_value(&framework, "<script>"));
        assert_eq!(level(&framework, NOT_STARTED), Some(0));
        assert_eq!(level(&framework, "acceleration"), Some(3));
        assert_eq!(level(&framework, NOT_RELEVANT), None);
    }
}

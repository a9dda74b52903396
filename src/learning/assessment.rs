//! Self-assessment of one's own organisation (course-domain §2.5): for every sub-area of the
//! framework a current and a target phase, or "not started" / "not relevant".
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::course::{AssessmentRound, Framework};

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

/// Stores a round's ratings (unless the round is already submitted: then `false`), and when it is
/// submitted queues the scores it moves, in one transaction.
pub async fn save_round(
    db: &sea_orm::DatabaseConnection,
    course: &super::context::ContextCourse,
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

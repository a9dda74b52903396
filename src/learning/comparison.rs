//! An organisation's self-assessments beside its course run's: per sub-area the median of where
//! it stands and where it wants to be, baseline and final. A participant sees their organisation
//! beside the run; course leaders and contact persons see every organisation side by side. Each
//! side is shown only from k respondents, so no one's answer can be read off a comparison.
use std::collections::BTreeMap;

use sea_orm::DatabaseConnection;

use super::{
    aggregates::{self, RoundFigures},
    assessment::Ratings,
    context::{ContextCourse, CourseCache, CourseError},
};
use crate::{course::AssessmentRound, session::Session, store};

/// One round: the whole run's figures and each organisation's.
pub struct ComparedRound {
    pub round: AssessmentRound,
    pub run: RoundFigures,
    /// By organisation name, in name order; people with no organisation are in the run only.
    pub organisations: BTreeMap<String, RoundFigures>,
}

/// The submitted self-assessments of the run `course` belongs to (or of the LMS course alone),
/// each with its person's organisation. LMS courses of the run on another course version are left
/// out: their sub-areas may differ.
async fn answers(
    db: &DatabaseConnection,
    courses: &CourseCache,
    course: &ContextCourse,
) -> Result<Vec<(Option<String>, entity::self_assessment::Model)>, CourseError> {
    let contexts = match store::cohorts::of_context(db, course.context_id).await? {
        Some(run) => store::cohorts::contexts(db, run).await?,
        None => store::cohorts::context(db, course.context_id)
            .await?
            .into_iter()
            .collect(),
    };
    let mut found = Vec::new();
    for context in contexts {
        if courses.for_context(db, context.id).await?.version_id != course.version_id {
            continue;
        }
        let rows = store::self_assessment::submitted_in_context(db, context.id).await?;
        let own = store::accessibility::organisation(db, context.deployment_id).await?;
        let of = super::organisation::of_people(db, rows.iter().map(|r| r.user_id), own.as_deref())
            .await?;
        found.extend(
            rows.into_iter()
                .map(|row| (of.get(&row.user_id).cloned().flatten(), row)),
        );
    }
    Ok(found)
}

/// Both rounds, the run's figures and every organisation's, each under the k rule.
pub async fn all_organisations(
    db: &DatabaseConnection,
    courses: &CourseCache,
    course: &ContextCourse,
    k: usize,
) -> Result<Vec<ComparedRound>, CourseError> {
    let rows = answers(db, courses, course).await?;
    let framework = &course.package.framework;
    Ok([AssessmentRound::Baseline, AssessmentRound::Final]
        .into_iter()
        .map(|round| {
            let mut everyone: Vec<Ratings> = Vec::new();
            let mut by_organisation: BTreeMap<String, Vec<Ratings>> = BTreeMap::new();
            for (organisation, row) in &rows {
                if row.round != super::assessment::round_name(round) {
                    continue;
                }
                let Ok(ratings) = serde_json::from_str::<Ratings>(&row.ratings) else {
                    continue;
                };
                if let Some(organisation) = organisation {
                    by_organisation
                        .entry(organisation.clone())
                        .or_default()
                        .push(ratings.clone());
                }
                everyone.push(ratings);
            }
            ComparedRound {
                round,
                run: aggregates::round(framework, &everyone, k),
                organisations: by_organisation
                    .into_iter()
                    .map(|(name, answers)| (name, aggregates::round(framework, &answers, k)))
                    .collect(),
            }
        })
        .collect())
}

/// The participant's organisation and, per round, its figures beside the run's. `None` when the
/// person has no organisation to compare.
pub async fn for_participant(
    db: &DatabaseConnection,
    courses: &CourseCache,
    (course, session): (&ContextCourse, &Session),
    k: usize,
) -> Result<Option<(String, Vec<ComparedRound>)>, CourseError> {
    let deployment = store::accessibility::organisation(db, session.did).await?;
    let own = super::organisation::of_people(db, [session.uid], deployment.as_deref())
        .await?
        .remove(&session.uid)
        .flatten();
    let Some(own) = own else {
        return Ok(None);
    };
    let mut rounds = all_organisations(db, courses, course, k).await?;
    for round in &mut rounds {
        round.organisations.retain(|name, _| *name == own);
    }
    Ok(Some((own, rounds)))
}

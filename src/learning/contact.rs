//! What a contact person follows: for each organisation they are contact person of, the LMS
//! courses its people take part in (its own, and regional ones), where each of its people stands per
//! module, and the self-assessment figures of its people (withheld below k respondents).
use entity::context;
use sea_orm::DatabaseConnection;

use super::{
    aggregates::{self, RoundFigures},
    context::{ContextCourse, CourseCache, CourseError},
    review::{self, Dashboard},
};
use crate::{course::AssessmentRound, session::Session};

/// One cohort as its contact person sees it.
pub struct CohortFollowUp {
    /// The LMS course.
    pub context: context::Model,
    /// The course it runs.
    pub course: ContextCourse,
    /// Participants and their module statuses.
    pub board: Dashboard,
    /// The self-assessment figures per round.
    pub rounds: Vec<(AssessmentRound, RoundFigures)>,
}

/// One organisation and its cohorts.
pub struct OrganisationFollowUp {
    /// The organisation's name.
    pub name: String,
    /// Its cohorts.
    pub cohorts: Vec<CohortFollowUp>,
}

/// What the session's person follows as contact person; `None` when they are contact person of no
/// organisation (the page is refused to them).
pub async fn follow_up(
    db: &DatabaseConnection,
    courses: &CourseCache,
    session: &Session,
    min_respondents: usize,
) -> Result<Option<Vec<OrganisationFollowUp>>, CourseError> {
    let names = review::contact_organisations(db, session).await?;
    if names.is_empty() {
        return Ok(None);
    }
    let mut organisations = Vec::new();
    for (name, contexts) in names {
        let mut cohorts = Vec::new();
        for context in contexts {
            let course = courses.for_context(db, context.id).await?;
            let mut board = review::dashboard(db, &course, context.deployment_id).await?;
            // A course can serve several municipalities: the contact person follows their own
            // organisation's people only, and figures only of their answers.
            board
                .rows
                .retain(|row| row.organisation.as_deref() == Some(name.as_str()));
            let own: std::collections::HashSet<i64> =
                board.rows.iter().map(|row| row.person.id).collect();
            board.waiting.clear();
            board.submissions.retain(|row| {
                row.owner_key
                    .strip_prefix("u:")
                    .and_then(|id| id.parse::<i64>().ok())
                    .is_some_and(|id| own.contains(&id))
            });
            let rounds = aggregates::of_people(db, &course, min_respondents, Some(&own)).await?;
            cohorts.push(CohortFollowUp {
                context,
                course,
                board,
                rounds,
            });
        }
        organisations.push(OrganisationFollowUp { name, cohorts });
    }
    Ok(Some(organisations))
}

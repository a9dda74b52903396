//! What a contact person follows: for each organisation they are contact person of, its LMS
//! courses (cohorts), where each participant stands per module, and the self-assessment figures
//! (withheld below k respondents).
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
            let board = review::dashboard(db, &course, context.deployment_id).await?;
            let rounds = aggregates::of_course(db, &course, min_respondents).await?;
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

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

/// Every organisation's name, for a placement.
pub async fn organisation_names(db: &DatabaseConnection) -> Result<Vec<String>, sea_orm::DbErr> {
    Ok(crate::store::organisations::list(db)
        .await?
        .into_iter()
        .map(|o| o.name)
        .collect())
}

/// Why a contact person's placement was not made.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    /// The person is not one of the contact person's organisation's people.
    #[error("not a person of an organisation you are contact person of")]
    NotTheirs,
    /// No organisation by that name.
    #[error("no such organisation")]
    UnknownOrganisation,
    /// Storage.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// A contact person corrects where one of their organisation's people belongs: the person is
/// placed in `organisation` for good (it wins over what an LMS sends), their completion records
/// move with them, and the audit log names the contact person.
pub async fn place(
    db: &DatabaseConnection,
    session: &Session,
    person_id: i64,
    organisation: &str,
    now_ms: i64,
) -> Result<(), PlaceError> {
    let theirs = crate::store::contact::organisations_of(db, session.uid).await?;
    let current = current_organisation(db, person_id).await?;
    if !current.as_ref().is_some_and(|c| theirs.contains(c)) {
        return Err(PlaceError::NotTheirs);
    }
    let target = crate::store::organisations::find(db, organisation.trim())
        .await?
        .ok_or(PlaceError::UnknownOrganisation)?;
    let actor = format!("person:{}:{}", session.pid, session.uid);
    let txn = crate::store::begin_write(db).await?;
    crate::store::organisations::set_for_person(
        &txn,
        person_id,
        &target.name,
        crate::store::organisations::SOURCE_PLACEMENT,
        Some(&actor),
        now_ms / 1000,
    )
    .await?;
    let moved =
        crate::store::completions::move_person(&txn, person_id, &target.name, now_ms).await?;
    let detail = serde_json::json!({ "from": current, "records_moved": moved }).to_string();
    crate::store::admin::audit(
        &txn,
        crate::store::admin::AuditEntry {
            actor: &actor,
            action: "person.place",
            target: &format!("person:{person_id}"),
            organisation: Some(&target.name),
            origin: "contact",
            detail: &detail,
            at_ms: now_ms,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A person's organisation: recorded for them, else their LMS course's deployment's.
pub(crate) async fn current_organisation(
    db: &DatabaseConnection,
    person_id: i64,
) -> Result<Option<String>, sea_orm::DbErr> {
    if let Some(recorded) = crate::store::organisations::of_person(db, person_id).await? {
        return Ok(Some(recorded.organisation));
    }
    for membership in crate::store::people::memberships(db, person_id, None).await? {
        if let Some(context) = crate::store::cohorts::context(db, membership.context_id).await?
            && let Some(own) =
                crate::store::accessibility::organisation(db, context.deployment_id).await?
        {
            return Ok(Some(own));
        }
    }
    Ok(None)
}

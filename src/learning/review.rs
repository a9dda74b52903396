//! The instructor's side: where every participant of an LMS course stands, what waits for review,
//! and returning or approving answers.
use std::collections::HashMap;

use entity::{lti_user, submission};
use sea_orm::{DatabaseConnection, DbErr};

use super::{
    completion::{self, ModuleStatus, SubmissionStatus, TaskStatuses},
    participant::ContextCourse,
};
use crate::{course::TaskKind, store};

/// One participant's row of the dashboard.
pub struct ParticipantRow {
    /// The person.
    pub person: lti_user::Model,
    /// Status per module, in course order.
    pub statuses: Vec<ModuleStatus>,
}

/// The dashboard of one LMS course.
pub struct Dashboard {
    /// Participants in name order.
    pub rows: Vec<ParticipantRow>,
    /// Submissions waiting for review, oldest first.
    pub waiting: Vec<submission::Model>,
    /// Every submission, by id, for the lists.
    pub submissions: Vec<submission::Model>,
}

/// Whose submissions count for a person: their own and their group's (an instructor's group, else
/// the municipality's).
fn owners(person_id: i64, deployment_id: i64, group: Option<i64>) -> [String; 2] {
    let group = match group {
        Some(group) => format!("g:{group}"),
        None => format!("g:d{deployment_id}"),
    };
    [format!("u:{person_id}"), group]
}

/// Builds the dashboard of a context.
pub async fn dashboard(
    db: &DatabaseConnection,
    course: &ContextCourse,
    deployment_id: i64,
) -> Result<Dashboard, DbErr> {
    let participants = store::review::participants(db, course.context_id).await?;
    let placements = store::group::placements(db, course.context_id).await?;
    let submissions = store::review::submissions(db, course.context_id).await?;
    let mut by_owner: HashMap<&str, Vec<&submission::Model>> = HashMap::new();
    for row in &submissions {
        by_owner
            .entry(row.owner_key.as_str())
            .or_default()
            .push(row);
    }
    let rows = participants
        .into_iter()
        .map(|(_, person)| {
            let [own, group] = owners(
                person.id,
                deployment_id,
                placements.get(&person.id).copied(),
            );
            let statuses = course
                .package
                .modules
                .iter()
                .map(|module| {
                    let mut tasks = TaskStatuses::new();
                    for task in module.tasks() {
                        let owner = match task.kind {
                            TaskKind::Individual => own.as_str(),
                            TaskKind::Group => group.as_str(),
                        };
                        let found = by_owner.get(owner).and_then(|rows| {
                            rows.iter()
                                .find(|r| r.module_slug == module.slug && r.task_slug == task.slug)
                        });
                        if let Some(status) = found.and_then(|r| SubmissionStatus::parse(&r.status))
                        {
                            tasks.insert(task.slug.as_str(), status);
                        }
                    }
                    completion::module_status(module, &tasks)
                })
                .collect();
            ParticipantRow { person, statuses }
        })
        .collect();
    let mut waiting: Vec<_> = submissions
        .iter()
        .filter(|row| row.status == SubmissionStatus::Submitted.as_str())
        .filter(|row| {
            course
                .module(&row.module_slug)
                .ok()
                .and_then(|m| m.task(&row.task_slug))
                .is_some_and(|task| task.review)
        })
        .cloned()
        .collect();
    waiting.sort_by_key(|row| (row.submitted_at, row.id));
    Ok(Dashboard {
        rows,
        waiting,
        submissions,
    })
}

/// What an instructor decides about a submitted answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Back to the participant for revision.
    Return,
    /// Accepted.
    Approve,
}

impl Decision {
    /// The status it leads to.
    pub fn status(self) -> SubmissionStatus {
        match self {
            Decision::Return => SubmissionStatus::Returned,
            Decision::Approve => SubmissionStatus::Approved,
        }
    }
}

/// Records a review decision and queues the scores it moves, in one transaction. `None` when the
/// answer is not (or no longer) submitted at the version the instructor read.
pub async fn decide(
    db: &DatabaseConnection,
    course: &ContextCourse,
    decision: store::review::Decision<'_>,
) -> Result<Option<submission::Model>, DbErr> {
    let txn = crate::store::begin_write(db).await?;
    let Some(row) = store::review::decide(&txn, decision).await? else {
        txn.rollback().await?;
        return Ok(None);
    };
    crate::learning::records::progress_changed(
        &txn,
        course,
        &row.owner_key,
        crate::grades::now_ms(),
    )
    .await?;
    txn.commit().await?;
    Ok(Some(row))
}

/// Why a participant was not placed in a group.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    /// The person or the group is not of this LMS course (answered as if it did not exist).
    #[error("no such participant or group in this course")]
    NotInCourse,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Places participant `user_id` of `course` in one of its groups, or back in their
/// municipality's (`None`), and queues the scores the move changes (group answers now come from
/// the new group), in one transaction. Both must belong to this LMS course: an id from another
/// course is refused here, whichever adapter asks.
pub async fn place_member(
    db: &DatabaseConnection,
    course: &ContextCourse,
    user_id: i64,
    group_id: Option<i64>,
) -> Result<(), PlaceError> {
    let participants = store::review::participants(db, course.context_id).await?;
    if !participants.iter().any(|(_, p)| p.id == user_id) {
        return Err(PlaceError::NotInCourse);
    }
    if let Some(group_id) = group_id {
        let groups = store::group::groups(db, course.context_id).await?;
        if !groups.iter().any(|g| g.id == group_id) {
            return Err(PlaceError::NotInCourse);
        }
    }
    let txn = crate::store::begin_write(db).await?;
    store::group::place(
        &txn,
        course.context_id,
        user_id,
        group_id,
        crate::lti::now_unix(),
    )
    .await?;
    crate::learning::records::progress_changed(
        &txn,
        course,
        &format!("u:{user_id}"),
        crate::grades::now_ms(),
    )
    .await?;
    Ok(txn.commit().await?)
}

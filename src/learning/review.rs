//! The instructor's side: where every participant of an LMS course stands, what waits for review,
//! and returning or approving answers.
use std::collections::HashMap;

use entity::{lti_user, submission};
use sea_orm::{DatabaseConnection, DbErr};

use super::context::{ContextCourse, CourseCache, CourseError};
use crate::{
    course::{
        TaskKind,
        completion::{self, ModuleStatus, SubmissionStatus, TaskStatuses},
    },
    store,
};

/// One participant's row of the dashboard.
pub struct ParticipantRow {
    /// The person.
    pub person: lti_user::Model,
    /// Their organisation (recorded for them, else the deployment's).
    pub organisation: Option<String>,
    /// Status per module, in course order.
    pub statuses: Vec<ModuleStatus>,
    /// Per module, the answer a click on its cell opens: one waiting for review first, else the
    /// one changed last; `None` where they have none.
    pub openable: Vec<Option<i64>>,
}

/// The dashboard of one LMS course.
pub struct Dashboard {
    /// Participants in name order.
    pub rows: Vec<ParticipantRow>,
    /// Submissions waiting for review, oldest first.
    pub waiting: Vec<submission::Model>,
    /// Every submission, by id, for the lists.
    pub submissions: Vec<submission::Model>,
    /// The organisation of the LMS course's deployment.
    pub organisation: Option<String>,
}

/// A submission with its review trail: events, earlier versions, and the people they name.
pub struct SubmissionTrail {
    /// The submission.
    pub submission: submission::Model,
    /// Submits, returns and approvals, oldest first.
    pub events: Vec<entity::submission_event::Model>,
    /// Earlier versions of the answer.
    pub revisions: Vec<entity::submission_revision::Model>,
    /// Everyone named above, by id.
    pub people: HashMap<i64, entity::lti_user::Model>,
    /// The waiting answers just before and just after this one in the review queue, whether or
    /// not this one still waits.
    pub neighbours: (Option<i64>, Option<i64>),
}

/// Submission `id` of `course` with its trail; `None` when it is not of this LMS course.
pub async fn submission_trail(
    db: &DatabaseConnection,
    course: &ContextCourse,
    id: i64,
) -> Result<Option<SubmissionTrail>, DbErr> {
    let Some(row) = store::review::submission_in_context(db, course.context_id, id).await? else {
        return Ok(None);
    };
    let events = store::review::events(db, row.id).await?;
    let revisions = store::submission::revisions(db, row.id).await?;
    let mut ids: Vec<i64> = events.iter().map(|e| e.actor_id).collect();
    ids.extend(revisions.iter().map(|r| r.author_id));
    ids.push(row.updated_by);
    if let Some(owner) = row
        .owner_key
        .strip_prefix("u:")
        .and_then(|id| id.parse().ok())
    {
        ids.push(owner);
    }
    let people = store::review::people(db, ids).await?;
    let queue = waiting_for_review(
        course,
        &store::review::submissions(db, course.context_id).await?,
    );
    let here = (row.submitted_at, row.id);
    let neighbours = (
        queue
            .iter()
            .rev()
            .find(|other| (other.submitted_at, other.id) < here)
            .map(|other| other.id),
        queue
            .iter()
            .find(|other| (other.submitted_at, other.id) > here)
            .map(|other| other.id),
    );
    Ok(Some(SubmissionTrail {
        submission: row,
        events,
        revisions,
        people,
        neighbours,
    }))
}

/// Why a workshop occasion was not set.
#[derive(Debug, thiserror::Error)]
pub enum OccasionError {
    /// No such module in the course.
    #[error(transparent)]
    Course(#[from] CourseError),
    /// No valid date and time.
    #[error("date must be YYYY-MM-DD and time HH:MM")]
    BadTime,
    /// Neither a place nor a meeting link.
    #[error("place or meeting link is required")]
    NoPlace,
    /// Not a course leader of the run.
    #[error("not a course leader of this course run")]
    NotLeader,
}

impl From<DbErr> for OccasionError {
    fn from(err: DbErr) -> Self {
        Self::Course(err.into())
    }
}

/// Sets when (`starts_at`, `None` when the form's date or time was not one) and where the
/// workshop of module `module` of `course` meets; the place (or meeting link) is kept to 500
/// characters.
pub async fn set_occasion(
    db: &DatabaseConnection,
    course: &ContextCourse,
    module: &str,
    starts_at: Option<i64>,
    place: &str,
    now_ms: i64,
) -> Result<(), OccasionError> {
    course.module(module)?;
    let starts_at = starts_at.ok_or(OccasionError::BadTime)?;
    let place: String = place.trim().chars().take(500).collect();
    if place.is_empty() {
        return Err(OccasionError::NoPlace);
    }
    store::review::set_occasion(
        db,
        course.context_id,
        module,
        starts_at,
        &place,
        now_ms.div_euclid(1000),
    )
    .await?;
    Ok(())
}

/// Makes a group in `course`, which the instructor then fills.
pub async fn create_group(
    db: &DatabaseConnection,
    course: &ContextCourse,
    name: &str,
    now_ms: i64,
) -> Result<(), DbErr> {
    store::group::create(db, course.context_id, name, now_ms.div_euclid(1000)).await?;
    Ok(())
}

/// Whose submissions count for a person: their own and their group's (an instructor's group, else
/// their municipality's).
fn owners(person_id: i64, municipality: &str, group: Option<i64>) -> [String; 2] {
    let group = match group {
        Some(group) => format!("g:{group}"),
        None => municipality.to_owned(),
    };
    [format!("u:{person_id}"), group]
}

/// Where a gradebook's "view submission" (an `LtiSubmissionReviewRequest`) takes the person who
/// sent it.
#[derive(Debug, PartialEq, Eq)]
pub enum ReviewTarget {
    /// This submission of the person it is for: the one waiting for review, else the one they
    /// changed last.
    Submission(i64),
    /// The person has no answer in this LMS course yet.
    NothingYet,
    /// Not an instructor here: their own course, as any launch would open it.
    OwnCourse,
}

/// What a Submission Review launch by `session` for the LMS's `lms_user_id` opens in `course`;
/// within `module` when the launch's link names one (a gradebook column of its own). Only an
/// instructor of this LMS course is taken to someone's submission; the person is looked up on the
/// launch's own platform, so another platform's user of the same id is never found.
pub async fn submission_review_target(
    db: &DatabaseConnection,
    course: &ContextCourse,
    session: &crate::session::Session,
    (lms_user_id, module): (&str, Option<&str>),
) -> Result<ReviewTarget, DbErr> {
    if session.role != crate::lti::claims::ToolRole::Instructor {
        return Ok(ReviewTarget::OwnCourse);
    }
    let Some(person) = store::people::by_sub(db, session.pid, lms_user_id).await? else {
        return Ok(ReviewTarget::NothingYet);
    };
    let own = format!("u:{}", person.id);
    let submissions = store::review::submissions(db, course.context_id).await?;
    let theirs = submissions
        .iter()
        .filter(|row| row.owner_key == own || row.updated_by == person.id)
        .filter(|row| module.is_none_or(|slug| row.module_slug == slug));
    let waiting = theirs
        .clone()
        .filter(|row| row.status == SubmissionStatus::Submitted.as_str())
        .min_by_key(|row| row.updated_at);
    let latest = theirs.max_by_key(|row| (row.owner_key == own, row.updated_at));
    Ok(match waiting.or(latest) {
        Some(row) => ReviewTarget::Submission(row.id),
        None => ReviewTarget::NothingYet,
    })
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
    let own_organisation = store::accessibility::organisation(db, deployment_id).await?;
    let municipalities = super::organisation::municipality_groups(
        db,
        participants.iter().map(|(_, person)| person.id),
        deployment_id,
        own_organisation.as_deref(),
    )
    .await?;
    let fallback = format!("g:d{deployment_id}");
    let mut by_owner: HashMap<&str, Vec<&submission::Model>> = HashMap::new();
    for row in &submissions {
        by_owner
            .entry(row.owner_key.as_str())
            .or_default()
            .push(row);
    }
    let rows = participants
        .into_iter()
        .map(|(membership, person)| {
            // Someone the roster lists who never opened the course has not started it, whatever
            // their group wrote.
            let opened = membership.opened_at.is_some();
            let municipality = municipalities
                .get(&person.id)
                .map_or(fallback.as_str(), |(key, _)| key.as_str());
            let organisation = municipalities
                .get(&person.id)
                .and_then(|(_, named)| named.clone())
                .or_else(|| own_organisation.clone());
            let [own, group] = owners(person.id, municipality, placements.get(&person.id).copied());
            let mut openable = Vec::new();
            let statuses = course
                .package
                .modules
                .iter()
                .map(|module| {
                    let mut found_rows: Vec<&submission::Model> = Vec::new();
                    let mut tasks = TaskStatuses::new();
                    for task in module.tasks() {
                        let owner = match task.kind {
                            TaskKind::Individual => own.as_str(),
                            TaskKind::Group if opened => group.as_str(),
                            TaskKind::Group => continue,
                        };
                        let found = by_owner.get(owner).and_then(|rows| {
                            rows.iter()
                                .find(|r| r.module_slug == module.slug && r.task_slug == task.slug)
                        });
                        if let Some(status) = found.and_then(|r| SubmissionStatus::parse(&r.status))
                        {
                            tasks.insert(task.slug.as_str(), status);
                        }
                        found_rows.extend(found.copied());
                    }
                    let waiting = found_rows
                        .iter()
                        .find(|r| r.status == SubmissionStatus::Submitted.as_str());
                    let latest = found_rows.iter().max_by_key(|r| r.updated_at);
                    openable.push(waiting.or(latest).map(|r| r.id));
                    completion::module_status(module, &tasks)
                })
                .collect();
            ParticipantRow {
                person,
                organisation,
                statuses,
                openable,
            }
        })
        .collect();
    let waiting = waiting_for_review(course, &submissions);
    Ok(Dashboard {
        rows,
        waiting,
        submissions,
        organisation: own_organisation,
    })
}

/// The submitted answers of tasks an instructor reviews, oldest submit first: the queue the
/// dashboard lists and a submission page steps through.
fn waiting_for_review(
    course: &ContextCourse,
    submissions: &[submission::Model],
) -> Vec<submission::Model> {
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
    waiting
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

/// Records a review decision and queues the scores it moves, and with `mail` the feedback mail to
/// the answer's owners, in one transaction. `None` when the answer is not (or no longer) submitted
/// at the version the instructor read.
pub async fn decide(
    db: &DatabaseConnection,
    course: &ContextCourse,
    decision: store::review::Decision<'_>,
    mail: bool,
    now_ms: i64,
) -> Result<Option<submission::Model>, DbErr> {
    let txn = crate::store::begin_write(db).await?;
    let Some(row) = store::review::decide(&txn, decision).await? else {
        txn.rollback().await?;
        return Ok(None);
    };
    crate::learning::records::progress_changed(&txn, course, &row.owner_key, now_ms).await?;
    if mail {
        let verdict = if row.status == "approved" {
            super::mail::Verdict::Approved
        } else {
            super::mail::Verdict::Returned
        };
        let feedback = row.feedback.as_deref();
        super::mail::queue_feedback(&txn, course, &row, verdict, feedback, now_ms).await?;
    }
    txn.commit().await?;
    Ok(Some(row))
}

/// An instructor's review as sent: the decision's name, the feedback, the version read.
pub struct ReviewRequest<'a> {
    /// `return` or `approve`.
    pub decision: Option<&'a str>,
    /// Feedback for the participant (needed to return an answer).
    pub feedback: Option<&'a str>,
    /// The version of the answer the instructor read.
    pub version: Option<i64>,
    /// The longest feedback kept, in characters.
    pub max_chars: usize,
    /// The instructor.
    pub actor_id: i64,
    /// Whether the deployment sends mail: the decision then goes to the participant by mail too.
    pub mail: bool,
}

/// What became of a review.
pub enum Reviewed {
    /// Recorded (and the scores it moves queued).
    Decided(Decision),
    /// A return without feedback: nothing recorded.
    FeedbackNeeded,
    /// Not in this LMS course, or changed since the instructor read it: nothing recorded.
    Stale,
}

/// Why a review is not understood.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// Neither `return` nor `approve`.
    #[error("decision must be return or approve")]
    UnknownDecision,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Returns or approves submission `submission_id` of `course`, as the instructor asked.
pub async fn review(
    db: &DatabaseConnection,
    course: &ContextCourse,
    submission_id: i64,
    request: ReviewRequest<'_>,
    now_ms: i64,
) -> Result<Reviewed, ReviewError> {
    let decision = match request.decision {
        Some("return") => Decision::Return,
        Some("approve") => Decision::Approve,
        _ => return Err(ReviewError::UnknownDecision),
    };
    let feedback: String = request
        .feedback
        .unwrap_or_default()
        .trim()
        .chars()
        .take(request.max_chars)
        .collect();
    if decision == Decision::Return && feedback.is_empty() {
        return Ok(Reviewed::FeedbackNeeded);
    }
    let record = store::review::Decision {
        context_id: course.context_id,
        submission_id,
        version: request.version.unwrap_or(-1),
        to_status: decision.status().as_str(),
        feedback: Some(feedback).filter(|f| !f.is_empty()),
        actor_id: request.actor_id,
        now: now_ms.div_euclid(1000),
    };
    Ok(
        match decide(db, course, record, request.mail, now_ms).await? {
            Some(_) => Reviewed::Decided(decision),
            None => Reviewed::Stale,
        },
    )
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
    now_ms: i64,
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
        now_ms.div_euclid(1000),
    )
    .await?;
    crate::learning::records::progress_changed(&txn, course, &format!("u:{user_id}"), now_ms)
        .await?;
    Ok(txn.commit().await?)
}

/// The organisations a person is contact person of, each with its LMS courses (cohorts). Empty for
/// anyone else: the organisation page is refused to them.
pub async fn contact_organisations(
    db: &DatabaseConnection,
    session: &crate::session::Session,
) -> Result<Vec<(String, Vec<entity::context::Model>)>, DbErr> {
    let mut organisations = Vec::new();
    for name in store::contact::organisations_of(db, session.uid).await? {
        let contexts = store::contact::contexts_with_people_of(db, &name).await?;
        organisations.push((name, contexts));
    }
    Ok(organisations)
}

/// The names of the organisations a person is contact person of.
pub async fn contact_organisation_names(
    db: &DatabaseConnection,
    user_id: i64,
) -> Result<Vec<String>, DbErr> {
    store::contact::organisations_of(db, user_id).await
}

/// The workshop occasions an instructor set for an LMS course, by module slug.
pub async fn occasions(
    db: &DatabaseConnection,
    context_id: i64,
) -> Result<std::collections::HashMap<String, entity::workshop_occasion::Model>, DbErr> {
    store::review::occasions(db, context_id).await
}

/// Moves an LMS course to `version_id` when that is a version of the course it runs, and queues
/// the scores the move changes (another version may have other required modules), in one
/// transaction; `false` (and nothing changed) when it is not a version of that course.
pub async fn move_to_version(
    db: &DatabaseConnection,
    courses: &CourseCache,
    course: &ContextCourse,
    version_id: i64,
    now_ms: i64,
) -> Result<bool, CourseError> {
    let versions = store::course::versions_of(db, &course.package.slug).await?;
    if !versions.iter().any(|v| v.id == version_id) {
        return Ok(false);
    }
    let moved = ContextCourse {
        context_id: course.context_id,
        version_id,
        package: courses.package(db, version_id).await?,
    };
    let txn = crate::store::begin_write(db).await?;
    store::course::repin_context(&txn, moved.context_id, version_id, now_ms.div_euclid(1000))
        .await?;
    for (membership, _) in store::review::participants(&txn, moved.context_id).await? {
        super::records::progress_changed(
            &txn,
            &moved,
            &format!("u:{}", membership.user_id),
            now_ms,
        )
        .await?;
    }
    txn.commit().await?;
    courses.forget_pin(moved.context_id);
    Ok(true)
}

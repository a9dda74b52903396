//! What a course leader of a cohort (course run) sees: every participant of every LMS course linked
//! to the run, whatever platform they came from, with their municipality and where they stand, and
//! everything waiting for review across the run. A course leader is named by an administrator
//! (`cohort add-leader`); an LMS role alone never makes one.
use std::collections::HashMap;

use entity::{cohort, learner_group, lti_user, submission};
use sea_orm::{DatabaseConnection, DbErr};

use super::{
    context::{ContextCourse, CourseCache, CourseError},
    review,
};
use crate::{course::completion::ModuleStatus, session::Session, store};

/// Why the run's pages are refused.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// The session's person is not a course leader of the run its LMS course is part of (or the
    /// course is in no run).
    #[error("not a course leader of this course run")]
    NotLeader,
    /// An LMS course outside the run.
    #[error("no such LMS course in this course run")]
    NotInRun,
    /// The course could not be read.
    #[error(transparent)]
    Course(#[from] CourseError),
}

impl From<DbErr> for LeaderError {
    fn from(err: DbErr) -> Self {
        LeaderError::Course(CourseError::Db(err))
    }
}

/// The run a course leader's page is about: the one asked for (`run`), else the one the
/// session's LMS course is part of, else the newest they lead; `None` when they lead none of
/// these.
pub async fn led_run(
    db: &DatabaseConnection,
    session: &Session,
    run: Option<i64>,
) -> Result<Option<cohort::Model>, DbErr> {
    let wanted = match (run, session.cid) {
        (Some(run), _) => Some(run),
        (None, Some(context_id)) => store::cohorts::of_context(db, context_id).await?,
        (None, None) => None,
    };
    match wanted {
        Some(run) if store::cohorts::is_leader(db, run, session.uid).await? => {
            store::cohorts::get(db, run).await
        }
        Some(_) => Ok(None),
        None => Ok(store::cohorts::led_by(db, session.uid)
            .await?
            .into_iter()
            .next()),
    }
}

/// Whether the session's person leads the run the session's LMS course is part of.
pub async fn leads_course_run(db: &DatabaseConnection, session: &Session) -> Result<bool, DbErr> {
    let Some(context_id) = session.cid else {
        return Ok(false);
    };
    match store::cohorts::of_context(db, context_id).await? {
        Some(run) => store::cohorts::is_leader(db, run, session.uid).await,
        None => Ok(false),
    }
}

/// What a signed-in person can open besides their course: the runs they lead, and whether they
/// follow an organisation as its contact person.
pub struct Places {
    pub runs: Vec<cohort::Model>,
    pub contact: bool,
}

/// The places of the session's person.
pub async fn places_of(db: &DatabaseConnection, session: &Session) -> Result<Places, DbErr> {
    Ok(Places {
        runs: store::cohorts::led_by(db, session.uid).await?,
        contact: !store::contact::organisations_of(db, session.uid)
            .await?
            .is_empty(),
    })
}

/// The course of the session's own LMS course, or, for a course leader, of `context_id` when it is
/// another LMS course of the same run (what a leader's review of one participant reads).
pub async fn course_in_view(
    db: &DatabaseConnection,
    courses: &CourseCache,
    session: &Session,
    context_id: Option<i64>,
) -> Result<ContextCourse, LeaderError> {
    match context_id {
        None => Ok(courses.for_session(db, session).await?),
        Some(id) if Some(id) == session.cid => Ok(courses.for_session(db, session).await?),
        Some(id) => {
            // Whatever LMS course the leader came from: the course must be in a run they lead.
            let run = store::cohorts::of_context(db, id)
                .await?
                .ok_or(LeaderError::NotInRun)?;
            if !store::cohorts::is_leader(db, run, session.uid).await? {
                return Err(LeaderError::NotLeader);
            }
            Ok(courses.for_context(db, id).await?)
        }
    }
}

/// Which rows the leader asked for.
#[derive(Debug, Default, Clone)]
pub struct RunFilter {
    /// One organisation's people; all when empty.
    pub organisation: String,
    /// One LMS course's people (its row id); all when empty.
    pub lms_course: String,
    /// One instructor-made group (its id); all when empty.
    pub group: String,
}

/// One participant of the run.
pub struct RunRow {
    pub person: lti_user::Model,
    /// Their organisation.
    pub organisation: Option<String>,
    /// The LMS course they launch from (row id) and its title.
    pub context_id: i64,
    pub lms_course: String,
    /// Status per module of the run's course version, in course order.
    pub statuses: Vec<ModuleStatus>,
}

/// A submission waiting for review somewhere in the run.
pub struct RunWaiting {
    pub context_id: i64,
    pub submission: submission::Model,
    /// The person it is from (absent for a group's answer).
    pub person: Option<lti_user::Model>,
}

/// The run's dashboard.
pub struct RunDashboard {
    pub run: cohort::Model,
    /// The course the run runs (its modules are the columns).
    pub course: ContextCourse,
    /// The organisations taking part.
    pub organisations: Vec<String>,
    /// The linked LMS courses: (row id, title).
    pub lms_courses: Vec<(i64, String)>,
    /// The instructor-made groups across them: (LMS course title, group).
    pub groups: Vec<(String, learner_group::Model)>,
    /// The rows the filter lets through.
    pub rows: Vec<RunRow>,
    /// Everything waiting for review, oldest first.
    pub waiting: Vec<RunWaiting>,
    /// The workshop occasions set for the whole run.
    pub occasions: Vec<entity::cohort_occasion::Model>,
}

/// The dashboard of the run the session's person leads.
pub async fn run_dashboard(
    db: &DatabaseConnection,
    courses: &CourseCache,
    session: &Session,
    run: Option<i64>,
    filter: &RunFilter,
) -> Result<RunDashboard, LeaderError> {
    let run = led_run(db, session, run)
        .await?
        .ok_or(LeaderError::NotLeader)?;
    let contexts = store::cohorts::contexts(db, run.id).await?;
    let mut rows = Vec::new();
    let mut waiting = Vec::new();
    let mut groups = Vec::new();
    let mut lms_courses = Vec::new();
    let mut columns = None;
    for context in &contexts {
        let course = courses.for_context(db, context.id).await?;
        let title = context
            .title
            .clone()
            .or_else(|| context.label.clone())
            .unwrap_or_else(|| context.lti_context_id.clone());
        lms_courses.push((context.id, title.clone()));
        let board = review::dashboard(db, &course, context.deployment_id).await?;
        let placements = store::group::placements(db, context.id).await?;
        for group in store::group::groups(db, context.id).await? {
            groups.push((title.clone(), group));
        }
        let people: HashMap<i64, lti_user::Model> = board
            .rows
            .iter()
            .map(|row| (row.person.id, row.person.clone()))
            .collect();
        for submission in board.waiting {
            let person = submission
                .owner_key
                .strip_prefix("u:")
                .and_then(|id| id.parse::<i64>().ok())
                .and_then(|id| people.get(&id).cloned());
            waiting.push(RunWaiting {
                context_id: context.id,
                submission,
                person,
            });
        }
        for row in board.rows {
            let passes = (filter.organisation.is_empty()
                || row.organisation.as_deref() == Some(filter.organisation.as_str()))
                && (filter.lms_course.is_empty() || filter.lms_course == context.id.to_string())
                && (filter.group.is_empty()
                    || placements
                        .get(&row.person.id)
                        .map(i64::to_string)
                        .as_deref()
                        == Some(filter.group.as_str()));
            if passes {
                rows.push(RunRow {
                    person: row.person,
                    organisation: row.organisation,
                    context_id: context.id,
                    lms_course: title.clone(),
                    statuses: row.statuses,
                });
            }
        }
        if course.version_id == run.course_version_id || columns.is_none() {
            columns = Some(course);
        }
    }
    let course = match columns {
        Some(course) => course,
        None => ContextCourse {
            context_id: 0,
            version_id: run.course_version_id,
            package: courses.package(db, run.course_version_id).await?,
        },
    };
    rows.sort_by(|a, b| (&a.organisation, &a.person.name).cmp(&(&b.organisation, &b.person.name)));
    waiting.sort_by_key(|w| (w.submission.submitted_at, w.submission.id));
    Ok(RunDashboard {
        organisations: store::cohorts::organisations(db, run.id).await?,
        occasions: store::review::run_occasions(db, run.id).await?,
        run,
        course,
        lms_courses,
        groups,
        rows,
        waiting,
    })
}

/// The self-assessment figures of the whole run (or of one organisation's people in it, when
/// `organisation` is given), each round shown only when at least `k` people answered it.
pub async fn run_aggregates(
    db: &DatabaseConnection,
    courses: &CourseCache,
    session: &Session,
    run: Option<i64>,
    organisation: Option<&str>,
    k: usize,
) -> Result<
    (
        cohort::Model,
        ContextCourse,
        Vec<(
            crate::course::AssessmentRound,
            super::aggregates::RoundFigures,
        )>,
    ),
    LeaderError,
> {
    use super::assessment::Ratings;
    use crate::course::AssessmentRound;
    let run = led_run(db, session, run)
        .await?
        .ok_or(LeaderError::NotLeader)?;
    let mut rows = Vec::new();
    let mut course = None;
    for context in store::cohorts::contexts(db, run.id).await? {
        let this = courses.for_context(db, context.id).await?;
        if this.version_id != run.course_version_id {
            continue;
        }
        let mut answers = store::self_assessment::submitted_in_context(db, context.id).await?;
        if let Some(wanted) = organisation {
            let own = store::accessibility::organisation(db, context.deployment_id).await?;
            let of = super::organisation::of_people(
                db,
                answers.iter().map(|row| row.user_id),
                own.as_deref(),
            )
            .await?;
            answers
                .retain(|row| of.get(&row.user_id).cloned().flatten().as_deref() == Some(wanted));
        }
        rows.extend(answers);
        course.get_or_insert(this);
    }
    let course = match course {
        Some(course) => course,
        None => ContextCourse {
            context_id: 0,
            version_id: run.course_version_id,
            package: courses.package(db, run.course_version_id).await?,
        },
    };
    let framework = &course.package.framework;
    let rounds = [AssessmentRound::Baseline, AssessmentRound::Final]
        .into_iter()
        .map(|round| {
            let answers: Vec<Ratings> = rows
                .iter()
                .filter(|row| row.round == super::assessment::round_name(round))
                .filter_map(|row| serde_json::from_str(&row.ratings).ok())
                .collect();
            (round, super::aggregates::round(framework, &answers, k))
        })
        .collect();
    Ok((run, course, rounds))
}

/// Sets when and where the workshop of `module` meets for the whole run the session's person
/// leads; every linked LMS course shows it. Returns the run's LMS courses (whose cached occasions
/// the caller forgets).
pub async fn set_run_occasion(
    db: &DatabaseConnection,
    courses: &CourseCache,
    session: &Session,
    run: Option<i64>,
    occasion: (&str, Option<i64>, &str),
    now_ms: i64,
) -> Result<Vec<i64>, super::review::OccasionError> {
    use super::review::OccasionError;
    let (module, starts_at, place) = occasion;
    let run = led_run(db, session, run)
        .await?
        .ok_or(OccasionError::NotLeader)?;
    let package = courses
        .package(db, run.course_version_id)
        .await
        .map_err(OccasionError::Course)?;
    if !package.modules.iter().any(|m| m.slug == module) {
        return Err(OccasionError::Course(CourseError::NoModule(
            module.chars().take(64).collect(),
        )));
    }
    let starts_at = starts_at.ok_or(OccasionError::BadTime)?;
    let place: String = place.trim().chars().take(500).collect();
    if place.is_empty() {
        return Err(OccasionError::NoPlace);
    }
    store::review::set_run_occasion(
        db,
        run.id,
        module,
        starts_at,
        &place,
        now_ms.div_euclid(1000),
    )
    .await?;
    Ok(store::cohorts::contexts(db, run.id)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

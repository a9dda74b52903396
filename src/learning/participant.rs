//! The participant's side of a course: which course version the context runs, where the participant
//! stands, and saving and submitting reflection answers without ever losing a text.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use entity::submission;
use sea_orm::{DatabaseConnection, DbErr};

use super::completion::{self, ModuleStatus, Progress, SubmissionStatus};
use crate::{
    course::{CoursePackage, Module, ReflectionTask, TaskKind},
    session::Session,
    store::{self, submission::Saved},
};

/// Parsed course versions by row id. Stored versions never change, so entries never go stale.
pub struct CourseCache {
    packages: Mutex<HashMap<i64, Arc<CoursePackage>>>,
    /// Which version each context runs, briefly: a move by an instructor on this instance is seen
    /// at once (`forget_pin`), on other instances within the registry TTL.
    pins: crate::registry::TtlCache<i64, i64>,
}

impl Default for CourseCache {
    fn default() -> Self {
        Self {
            packages: Mutex::default(),
            pins: crate::registry::TtlCache::new(crate::registry::TTL, 100_000),
        }
    }
}

/// A failure to find or read the course of a context.
#[derive(Debug, thiserror::Error)]
pub enum CourseError {
    /// The launch had no context (LMS course), so there is no course to show.
    #[error("the launch has no LMS course context")]
    NoContext,
    /// No course package is imported at all.
    #[error("no course is imported")]
    NoCourse,
    /// No module with this slug in the context's course version.
    #[error("no module {0:?}")]
    NoModule(String),
    /// No task with this slug in the module.
    #[error("no task {0:?}")]
    NoTask(String),
    /// The stored package could not be read.
    #[error("stored course version {0} is unreadable: {1}")]
    Corrupt(i64, String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The course a context runs.
#[derive(Clone)]
pub struct ContextCourse {
    /// Context row id.
    pub context_id: i64,
    /// Course version row id.
    pub version_id: i64,
    /// The package.
    pub package: Arc<CoursePackage>,
}

impl ContextCourse {
    /// The module with this slug.
    pub fn module(&self, slug: &str) -> Result<&Module, CourseError> {
        self.package
            .modules
            .iter()
            .find(|m| m.slug == slug)
            .ok_or_else(|| CourseError::NoModule(slug.chars().take(64).collect()))
    }
}

impl CourseCache {
    /// The course version of the session's context, pinning the newest imported version at the
    /// context's first use; the pin stays until an instructor moves it.
    pub async fn for_session(
        &self,
        db: &DatabaseConnection,
        session: &Session,
    ) -> Result<ContextCourse, CourseError> {
        let context_id = session.cid.ok_or(CourseError::NoContext)?;
        self.for_context(db, context_id).await
    }

    /// The course version of a context (pinning the newest at first use, as above).
    pub async fn for_context(
        &self,
        db: &DatabaseConnection,
        context_id: i64,
    ) -> Result<ContextCourse, CourseError> {
        let version_id = match self.pins.get(&context_id) {
            Some(pinned) => pinned,
            None => {
                let pinned = match store::course::pinned(db, context_id).await? {
                    Some(pinned) => pinned,
                    None => {
                        let latest = store::course::latest(db)
                            .await?
                            .ok_or(CourseError::NoCourse)?;
                        store::course::pin_context(
                            db,
                            context_id,
                            latest.id,
                            crate::lti::now_unix(),
                        )
                        .await?
                    }
                };
                self.pins.insert(context_id, pinned);
                pinned
            }
        };
        Ok(ContextCourse {
            context_id,
            version_id,
            package: self.package(db, version_id).await?,
        })
    }

    /// A stored course version, parsed once.
    pub async fn package(
        &self,
        db: &DatabaseConnection,
        version_id: i64,
    ) -> Result<Arc<CoursePackage>, CourseError> {
        if let Some(package) = self.lock().get(&version_id).cloned() {
            return Ok(package);
        }
        let stored = store::course::get(db, version_id)
            .await?
            .ok_or_else(|| CourseError::Corrupt(version_id, "missing".into()))?;
        let package: CoursePackage = serde_json::from_str(&stored.package)
            .map_err(|err| CourseError::Corrupt(version_id, err.to_string()))?;
        let package = Arc::new(package);
        self.lock().insert(version_id, package.clone());
        Ok(package)
    }

    /// The most recently imported course version, parsed once (what a deep link from an LMS that
    /// sent no course offers).
    pub async fn latest_package(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Arc<CoursePackage>, CourseError> {
        let latest = store::course::latest(db)
            .await?
            .ok_or(CourseError::NoCourse)?;
        self.package(db, latest.id).await
    }

    /// Moves an LMS course to `version_id` when that is a version of the course it runs; `false`
    /// (and nothing changed) when it is not.
    pub async fn move_to_version(
        &self,
        db: &DatabaseConnection,
        course: &ContextCourse,
        version_id: i64,
    ) -> Result<bool, CourseError> {
        let versions = store::course::versions_of(db, &course.package.slug).await?;
        if !versions.iter().any(|v| v.id == version_id) {
            return Ok(false);
        }
        self.move_context(db, course.context_id, version_id).await?;
        Ok(true)
    }

    /// Moves a context to another course version and queues the scores the move changes (another
    /// version may have other required modules), in one transaction.
    pub async fn move_context(
        &self,
        db: &DatabaseConnection,
        context_id: i64,
        version_id: i64,
    ) -> Result<(), CourseError> {
        let moved = ContextCourse {
            context_id,
            version_id,
            package: self.package(db, version_id).await?,
        };
        let txn = crate::store::begin_write(db).await?;
        store::course::repin_context(&txn, context_id, version_id, crate::lti::now_unix()).await?;
        let now_ms = crate::grades::now_ms();
        for (membership, _) in store::review::participants(&txn, context_id).await? {
            crate::learning::records::progress_changed(
                &txn,
                &moved,
                &format!("u:{}", membership.user_id),
                now_ms,
            )
            .await?;
        }
        txn.commit().await?;
        self.forget_pin(context_id);
        Ok(())
    }

    /// Forgets the cached version of a context after an instructor moved it.
    pub fn forget_pin(&self, context_id: i64) {
        self.pins.remove(&context_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<CoursePackage>>> {
        match self.packages.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Whose answer a task holds: the participant's own, or the group's: the group an instructor placed
/// them in, else the municipality's (everyone launching through the same deployment).
pub fn owner_key(kind: TaskKind, session: &Session, group: Option<i64>) -> String {
    match (kind, group) {
        (TaskKind::Individual, _) => format!("u:{}", session.uid),
        (TaskKind::Group, Some(group)) => format!("g:{group}"),
        (TaskKind::Group, None) => format!("g:d{}", session.did),
    }
}

/// A participant's submissions and self-assessments in the context.
pub struct Standing {
    submissions: HashMap<(String, String), submission::Model>,
    assessments: HashMap<String, entity::self_assessment::Model>,
}

impl Standing {
    /// Loads what the participant (and their group) has saved.
    pub async fn load(
        db: &DatabaseConnection,
        course: &ContextCourse,
        session: &Session,
    ) -> Result<Self, DbErr> {
        Self::load_for(db, course, session.uid, session.did).await
    }

    /// Loads what a person (and their group) has saved, on a pool or inside a transaction.
    pub async fn load_for(
        db: &impl sea_orm::ConnectionTrait,
        course: &ContextCourse,
        user_id: i64,
        deployment_id: i64,
    ) -> Result<Self, DbErr> {
        // The query already picks the person's own answers and their current group's.
        let rows =
            store::submission::for_person(db, course.context_id, user_id, deployment_id).await?;
        let mut submissions = HashMap::new();
        for row in rows {
            // A task's kind decides whose answer counts; an answer under the other kind of owner
            // (left from an earlier course version where the task had another kind) is ignored.
            let is_group_answer = row.owner_key.starts_with("g:");
            let matches_kind = course
                .module(&row.module_slug)
                .ok()
                .and_then(|m| m.task(&row.task_slug))
                .is_some_and(|task| (task.kind == TaskKind::Group) == is_group_answer);
            if matches_kind {
                submissions.insert((row.module_slug.clone(), row.task_slug.clone()), row);
            }
        }
        let assessments = store::self_assessment::for_person(db, course.context_id, user_id)
            .await?
            .into_iter()
            .map(|row| (row.round.clone(), row))
            .collect();
        Ok(Self {
            submissions,
            assessments,
        })
    }

    /// The self-assessment of a round, draft or submitted.
    pub fn assessment(
        &self,
        round: crate::course::AssessmentRound,
    ) -> Option<&entity::self_assessment::Model> {
        self.assessments.get(round.name())
    }

    /// Whether the round is submitted.
    pub fn assessment_submitted(&self, round: crate::course::AssessmentRound) -> bool {
        self.assessment(round)
            .is_some_and(|row| row.submitted_at.is_some())
    }

    /// The submission of a task.
    pub fn submission(&self, module: &str, task: &str) -> Option<&submission::Model> {
        self.submissions.get(&(module.to_owned(), task.to_owned()))
    }

    /// The status of a task.
    pub fn status(&self, module: &str, task: &str) -> Option<SubmissionStatus> {
        self.submission(module, task)
            .and_then(|row| SubmissionStatus::parse(&row.status))
    }

    /// The status of a module.
    pub fn module_status(&self, module: &Module) -> ModuleStatus {
        let tasks = module
            .tasks()
            .filter_map(|task| {
                self.status(&module.slug, &task.slug)
                    .map(|s| (task.slug.as_str(), s))
            })
            .collect();
        completion::module_status(module, &tasks)
    }

    /// Progress in the completion rules' terms.
    pub fn progress<'a>(&self, course: &'a CoursePackage) -> Progress<'a> {
        let mut progress = Progress::default();
        for module in &course.modules {
            let tasks = module
                .tasks()
                .filter_map(|task| {
                    self.status(&module.slug, &task.slug)
                        .map(|s| (task.slug.as_str(), s))
                })
                .collect();
            progress.modules.insert(module.slug.as_str(), tasks);
        }
        progress.baseline_submitted =
            self.assessment_submitted(crate::course::AssessmentRound::Baseline);
        progress.final_submitted = self.assessment_submitted(crate::course::AssessmentRound::Final);
        progress
    }
}

/// What the participant asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveAction {
    /// Keep as a draft (button or automatic save while typing).
    Draft,
    /// Hand in.
    Submit,
}

/// A problem with one answer field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    /// Prompt index.
    pub field: usize,
    /// Message key.
    pub key: &'static str,
    /// The number the message names (a length).
    pub number: usize,
}

/// What a save did.
#[derive(Debug)]
pub enum SaveOutcome {
    /// Stored (as draft or submitted).
    Saved {
        /// The submission as stored.
        row: submission::Model,
        /// It was handed in.
        submitted: bool,
    },
    /// Stored as a draft, but not handed in: some answers are not acceptable yet.
    Invalid {
        /// The draft as stored (absent when the draft itself conflicted).
        row: Option<submission::Model>,
        /// What is wrong, per field.
        problems: Vec<FieldProblem>,
    },
    /// Someone else saved in between; the participant's text was kept as a conflict revision.
    Conflict {
        /// What is stored now.
        current: submission::Model,
    },
    /// Already handed in (and not returned): answers cannot change now.
    Locked {
        /// The submission.
        current: submission::Model,
    },
}

/// Limits on answers.
#[derive(Clone, Copy, Debug)]
pub struct AnswerLimits {
    /// Most characters in one answer.
    pub max_chars: usize,
}

/// Checks the answers of a task.
pub fn check_answers(
    task: &ReflectionTask,
    answers: &[String],
    action: SaveAction,
    limits: AnswerLimits,
) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    for (field, answer) in answers.iter().enumerate() {
        let length = answer.trim().chars().count();
        if answer.chars().count() > limits.max_chars {
            problems.push(FieldProblem {
                field,
                key: "answer-too-long",
                number: limits.max_chars,
            });
        } else if action == SaveAction::Submit && length < task.min_length.max(1) {
            problems.push(FieldProblem {
                field,
                key: if length == 0 {
                    "answer-empty"
                } else {
                    "answer-too-short"
                },
                number: task.min_length.max(1),
            });
        }
    }
    problems
}

/// One save of a task's answers.
pub struct SaveRequest<'a> {
    /// The context's course.
    pub course: &'a ContextCourse,
    /// Who saves.
    pub session: &'a Session,
    /// The module.
    pub module: &'a Module,
    /// The task.
    pub task: &'a ReflectionTask,
    /// One answer per prompt.
    pub answers: Vec<String>,
    /// The version the text was based on (0 when new).
    pub base_version: i64,
    /// Draft or submit.
    pub action: SaveAction,
    /// Length limits.
    pub limits: AnswerLimits,
}

/// Saves (and, when asked and acceptable, submits) the answers to a task. Whatever happens, the
/// typed text is stored: as the current draft, or as a kept conflict revision.
pub async fn save_answers(
    db: &DatabaseConnection,
    request: SaveRequest<'_>,
) -> Result<SaveOutcome, DbErr> {
    let SaveRequest {
        course,
        session,
        module,
        task,
        mut answers,
        base_version,
        action,
        limits,
    } = request;
    answers.resize(task.prompts.len(), String::new());
    answers.truncate(task.prompts.len());
    // The answer and the scores it moves are stored together or not at all.
    let txn = crate::store::begin_write(db).await?;
    let db = &txn;
    let group = store::group::group_of(db, course.context_id, session.uid).await?;
    let owner = owner_key(task.kind, session, group);
    let key = store::submission::Key {
        context_id: course.context_id,
        owner_key: &owner,
        module_slug: &module.slug,
        task_slug: &task.slug,
    };
    let current = store::submission::find(db, &key).await?;
    let current_status = current
        .as_ref()
        .and_then(|row| SubmissionStatus::parse(&row.status));
    if let (Some(row), Some(SubmissionStatus::Submitted | SubmissionStatus::Approved)) =
        (&current, current_status)
    {
        txn.rollback().await?;
        return Ok(SaveOutcome::Locked {
            current: row.clone(),
        });
    }
    let mut problems = check_answers(task, &answers, action, limits);
    // Over-long text is cut to the limit for storage, and the participant is told; everything up to
    // the limit is kept.
    for problem in &problems {
        if problem.key == "answer-too-long"
            && let Some(answer) = answers.get_mut(problem.field)
        {
            *answer = answer.chars().take(limits.max_chars).collect();
        }
    }
    let submitting = action == SaveAction::Submit && problems.is_empty();
    let status = if submitting {
        SubmissionStatus::Submitted
    } else {
        match current_status {
            Some(SubmissionStatus::Returned) => SubmissionStatus::Returned,
            _ => SubmissionStatus::Draft,
        }
    };
    let stored = store::submission::save(
        db,
        store::submission::Save {
            key,
            answers: serde_json::to_string(&answers).unwrap_or_else(|_| "[]".into()),
            status: status.as_str(),
            base_version,
            author_id: session.uid,
            now: crate::lti::now_unix(),
            submitting,
        },
    )
    .await?;
    // Only a new answer or a changed status can move a score; retyping a draft cannot.
    if let Saved::Stored(row) = &stored
        && (current.is_none() || current_status != Some(status))
    {
        crate::learning::records::progress_changed(
            db,
            course,
            &row.owner_key,
            crate::grades::now_ms(),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(match stored {
        Saved::Conflict { current } => SaveOutcome::Conflict { current },
        Saved::Stored(row) if !problems.is_empty() => {
            problems.sort_by_key(|p| p.field);
            SaveOutcome::Invalid {
                row: Some(row),
                problems,
            }
        }
        Saved::Stored(row) => SaveOutcome::Saved {
            row,
            submitted: submitting,
        },
    })
}

/// The answers stored in a submission row.
pub fn answers_of(row: &submission::Model) -> Vec<String> {
    serde_json::from_str(&row.answers).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::Localized;

    fn task(min_length: usize) -> ReflectionTask {
        ReflectionTask {
            slug: "t".into(),
            kind: TaskKind::Individual,
            review: true,
            min_length,
            prompts: vec![
                Localized {
                    sv: "a".into(),
                    en: "a".into(),
                },
                Localized {
                    sv: "b".into(),
                    en: "b".into(),
                },
            ],
        }
    }

    #[test]
    fn submitting_needs_every_answer_at_least_min_length_but_drafts_need_nothing() {
        let limits = AnswerLimits { max_chars: 100 };
        let answers = vec!["kort".to_string(), "   ".to_string()];
        assert!(check_answers(&task(10), &answers, SaveAction::Draft, limits).is_empty());
        let problems = check_answers(&task(10), &answers, SaveAction::Submit, limits);
        assert_eq!(
            problems,
            vec![
                FieldProblem {
                    field: 0,
                    key: "answer-too-short",
                    number: 10
                },
                FieldProblem {
                    field: 1,
                    key: "answer-empty",
                    number: 10
                },
            ]
        );
    }

    #[test]
    fn over_long_answers_are_reported_even_for_drafts() {
        let limits = AnswerLimits { max_chars: 5 };
        let answers = vec!["sex ord".to_string(), "ok".to_string()];
        let problems = check_answers(&task(0), &answers, SaveAction::Draft, limits);
        assert_eq!(
            problems,
            vec![FieldProblem {
                field: 0,
                key: "answer-too-long",
                number: 5
            }]
        );
    }
}

//! The participant's answers: whose answer a task holds, and saving and submitting reflection
//! answers without ever losing a text.
use entity::submission;
use sea_orm::{DatabaseConnection, DbErr};

use super::context::ContextCourse;
use crate::{
    course::{Module, ReflectionTask, TaskKind, completion::SubmissionStatus},
    session::Session,
    store::{self, submission::Saved},
};

/// Whose answer a task holds: the participant's own, or the group's: the group an instructor placed
/// them in, else their municipality's (`organisation::municipality_group`).
pub fn owner_key(
    kind: TaskKind,
    session: &Session,
    group: Option<i64>,
    municipality: &str,
) -> String {
    match (kind, group) {
        (TaskKind::Individual, _) => format!("u:{}", session.uid),
        (TaskKind::Group, Some(group)) => format!("g:{group}"),
        (TaskKind::Group, None) => municipality.to_owned(),
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
    /// When (Unix ms, from the application's clock).
    pub now_ms: i64,
}

/// Answers to one task as a participant sent them, naming the task by its slugs.
pub struct TaskAnswers<'a> {
    /// The module's slug.
    pub module: &'a str,
    /// The task's slug.
    pub task: &'a str,
    /// One answer per prompt.
    pub answers: Vec<String>,
    /// The version the text was based on (0 when new).
    pub base_version: i64,
    /// Draft or submit.
    pub action: SaveAction,
}

/// Saves the session's answers to a task of its course (see `save_answers`); not found when the
/// course has no such module or task.
pub async fn save_to_task(
    db: &DatabaseConnection,
    courses: &super::context::CourseCache,
    session: &Session,
    sent: TaskAnswers<'_>,
    limits: AnswerLimits,
    now_ms: i64,
) -> Result<(ContextCourse, SaveOutcome), super::context::CourseError> {
    let course = courses.for_session(db, session).await?;
    let module = course.module(sent.module)?;
    let task = module
        .task(sent.task)
        .ok_or_else(|| super::context::CourseError::NoTask(sent.task.chars().take(64).collect()))?;
    let outcome = save_answers(
        db,
        SaveRequest {
            course: &course,
            session,
            module,
            task,
            answers: sent.answers,
            base_version: sent.base_version,
            action: sent.action,
            limits,
            now_ms,
        },
    )
    .await?;
    Ok((course, outcome))
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
        now_ms,
    } = request;
    answers.resize(task.prompts.len(), String::new());
    answers.truncate(task.prompts.len());
    // The answer and the scores it moves are stored together or not at all.
    let txn = crate::store::begin_write(db).await?;
    let db = &txn;
    let group = store::group::group_of(db, course.context_id, session.uid).await?;
    let municipality =
        super::organisation::municipality_group(db, session.uid, session.did).await?;
    let owner = owner_key(task.kind, session, group, &municipality);
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
            now: now_ms.div_euclid(1000),
            submitting,
        },
    )
    .await?;
    // Only a new answer or a changed status can move a score; retyping a draft cannot.
    if let Saved::Stored(row) = &stored
        && (current.is_none() || current_status != Some(status))
    {
        crate::learning::records::progress_changed(db, course, &row.owner_key, now_ms).await?;
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

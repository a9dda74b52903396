//! The completion rules, in one place (course-domain §2.6): a module is complete when every required
//! task is approved, or submitted when the task needs no review; the course is complete when every
//! required module is complete and the required self-assessments are submitted. They belong to the
//! course, below both `learning` and `grades`, which read them; nothing else decides completion.
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{CoursePackage, Module};

/// Where one submission stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    /// Being written; not handed in.
    Draft,
    /// Handed in.
    Submitted,
    /// Sent back by an instructor for revision.
    Returned,
    /// Accepted by an instructor.
    Approved,
}

impl SubmissionStatus {
    /// Stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::Approved => "approved",
        }
    }

    /// Parses the stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "draft" => Some(Self::Draft),
            "submitted" => Some(Self::Submitted),
            "returned" => Some(Self::Returned),
            "approved" => Some(Self::Approved),
            _ => None,
        }
    }
}

/// A module's status as the participant sees it, from the furthest along to the least.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleStatus {
    /// Nothing saved yet.
    NotStarted,
    /// Something saved, not everything handed in.
    InProgress,
    /// Everything handed in; reviews pending.
    Submitted,
    /// At least one answer was sent back for revision.
    Returned,
    /// Every reviewed task is approved, but the module is not yet complete (never reached when
    /// approvals complete it; kept for modules whose other rules are pending).
    Approved,
    /// The completion rule holds.
    Complete,
}

impl ModuleStatus {
    /// The message key of the status label.
    pub fn label_key(self) -> &'static str {
        match self {
            Self::NotStarted => "status-not-started",
            Self::InProgress => "status-in-progress",
            Self::Submitted => "status-submitted",
            Self::Returned => "status-returned",
            Self::Approved => "status-approved",
            Self::Complete => "status-complete",
        }
    }

    /// The status as pages name it in classes, filters and test ids.
    pub fn slug(self) -> &'static str {
        match self {
            Self::NotStarted => "not-started",
            Self::InProgress => "in-progress",
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::Approved => "approved",
            Self::Complete => "complete",
        }
    }
}

/// The status of each of a participant's tasks in one module, by task slug.
pub type TaskStatuses<'a> = HashMap<&'a str, SubmissionStatus>;

/// Whether a task counts as done for completion.
pub fn task_done(review_required: bool, status: Option<SubmissionStatus>) -> bool {
    match status {
        Some(SubmissionStatus::Approved) => true,
        Some(SubmissionStatus::Submitted) => !review_required,
        _ => false,
    }
}

/// The status of a module for one participant.
pub fn module_status(module: &Module, tasks: &TaskStatuses<'_>) -> ModuleStatus {
    let all: Vec<_> = module.tasks().collect();
    if all
        .iter()
        .all(|task| task_done(task.review, tasks.get(task.slug.as_str()).copied()))
    {
        return if tasks.is_empty() && !all.is_empty() {
            ModuleStatus::NotStarted
        } else {
            ModuleStatus::Complete
        };
    }
    let statuses: Vec<_> = all
        .iter()
        .map(|task| tasks.get(task.slug.as_str()).copied())
        .collect();
    if statuses.contains(&Some(SubmissionStatus::Returned)) {
        ModuleStatus::Returned
    } else if statuses.iter().all(|s| {
        matches!(
            s,
            Some(SubmissionStatus::Submitted | SubmissionStatus::Approved)
        )
    }) {
        ModuleStatus::Submitted
    } else if statuses.iter().all(Option::is_none) {
        ModuleStatus::NotStarted
    } else {
        ModuleStatus::InProgress
    }
}

/// What a participant has done in the course.
#[derive(Debug, Default)]
pub struct Progress<'a> {
    /// Task statuses per module slug.
    pub modules: HashMap<&'a str, TaskStatuses<'a>>,
    /// The baseline self-assessment is submitted.
    pub baseline_submitted: bool,
    /// The final self-assessment is submitted.
    pub final_submitted: bool,
}

/// Required modules complete, out of required modules.
pub fn required_modules_complete(
    course: &CoursePackage,
    progress: &Progress<'_>,
) -> (usize, usize) {
    let empty = TaskStatuses::new();
    let required: Vec<_> = course.modules.iter().filter(|m| m.required).collect();
    let complete = required
        .iter()
        .filter(|module| {
            let tasks = progress.modules.get(module.slug.as_str()).unwrap_or(&empty);
            module_status(module, tasks) == ModuleStatus::Complete
        })
        .count();
    (complete, required.len())
}

/// Whether the whole course is complete.
pub fn course_complete(course: &CoursePackage, progress: &Progress<'_>) -> bool {
    let (complete, required) = required_modules_complete(course, progress);
    complete == required
        && (!course.completion.require_baseline || progress.baseline_submitted)
        && (!course.completion.require_final || progress.final_submitted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::{demo_files, load};
    use SubmissionStatus::*;

    fn statuses<'a>(pairs: &[(&'a str, SubmissionStatus)]) -> TaskStatuses<'a> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn module_status_follows_the_tasks() {
        let course = load(&demo_files()).unwrap();
        let module = &course.modules[0];
        let s = |pairs: &[(&str, SubmissionStatus)]| module_status(module, &statuses(pairs));
        assert_eq!(s(&[]), ModuleStatus::NotStarted);
        assert_eq!(s(&[("vad-betyder", Draft)]), ModuleStatus::InProgress);
        assert_eq!(
            s(&[
                ("vad-betyder", Submitted),
                ("vems-beslut", Submitted),
                ("gemensam-mening", Submitted)
            ]),
            ModuleStatus::Submitted
        );
        assert_eq!(
            s(&[
                ("vad-betyder", Returned),
                ("vems-beslut", Approved),
                ("gemensam-mening", Approved)
            ]),
            ModuleStatus::Returned
        );
        assert_eq!(
            s(&[
                ("vad-betyder", Approved),
                ("vems-beslut", Approved),
                ("gemensam-mening", Approved)
            ]),
            ModuleStatus::Complete
        );
    }

    #[test]
    fn a_task_without_review_is_done_when_submitted() {
        assert!(task_done(false, Some(Submitted)));
        assert!(!task_done(true, Some(Submitted)));
        assert!(task_done(true, Some(Approved)));
        assert!(!task_done(false, Some(Draft)));
        assert!(!task_done(false, Some(Returned)));
        assert!(!task_done(false, None));
    }

    #[test]
    fn the_course_needs_every_required_module_and_both_self_assessments() {
        let course = load(&demo_files()).unwrap();
        let mut progress = Progress::default();
        for module in &course.modules {
            progress.modules.insert(
                module.slug.as_str(),
                module
                    .tasks()
                    .map(|t| (t.slug.as_str(), Approved))
                    .collect(),
            );
        }
        assert_eq!(required_modules_complete(&course, &progress), (6, 6));
        assert!(
            !course_complete(&course, &progress),
            "self-assessments missing"
        );
        progress.baseline_submitted = true;
        assert!(!course_complete(&course, &progress));
        progress.final_submitted = true;
        assert!(course_complete(&course, &progress));
        progress.modules.remove("acceleration");
        assert_eq!(required_modules_complete(&course, &progress), (5, 6));
        assert!(!course_complete(&course, &progress));
    }
}

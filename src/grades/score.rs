//! What a participant's progress means in a gradebook, per grade mode (course-domain §2.6). Pure:
//! the outbox stores what this computes, the worker posts it.
use serde_json::{Value, json};

use super::GradeMode;
use crate::course::{
    CoursePackage,
    completion::{self, ModuleStatus, Progress, SubmissionStatus},
};

/// Line item of the `course_fraction` mode.
pub const COURSE_FRACTION: &str = "course";
/// Line item of the `course_pass` mode.
pub const COURSE_PASS: &str = "course-pass";
/// Tag of the course line items.
pub const COURSE_TAG: &str = "completion";
/// Tag of the per-module line items.
pub const MODULE_TAG: &str = "module";

/// AGS `activityProgress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    /// Nothing done yet.
    Initialized,
    /// Working on it.
    InProgress,
    /// Everything handed in; waiting for review.
    Submitted,
    /// Done.
    Completed,
}

/// AGS `gradingProgress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grading {
    /// The score given is final for now.
    FullyGraded,
    /// An instructor has to review a submission.
    PendingManual,
    /// Nothing to grade yet.
    NotReady,
}

/// One score for one line item.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// The line item: `course`, `course-pass` or a module slug.
    pub resource_id: String,
    /// `completion` or `module`.
    pub tag: &'static str,
    /// The line item's label.
    pub label: String,
    /// The line item's maximum.
    pub maximum: f64,
    /// The score, when there is one to give.
    pub given: Option<f64>,
    /// Where the participant is.
    pub activity: Activity,
    /// Where grading is.
    pub grading: Grading,
    /// Said to the gradebook only when it helps (an answer sent back for revision).
    pub comment: Option<&'static str>,
}

impl Score {
    /// The AGS score JSON for `user_id`, without the timestamp (added when it is posted).
    pub fn to_json(&self, user_id: &str) -> Value {
        let mut score = json!({
            "userId": user_id,
            "activityProgress": format!("{:?}", self.activity),
            "gradingProgress": format!("{:?}", self.grading),
        });
        if let Some(given) = self.given {
            score["scoreGiven"] = json!(given);
            score["scoreMaximum"] = json!(self.maximum);
        }
        if let Some(comment) = self.comment {
            score["comment"] = json!(comment);
        }
        score
    }
}

const RETURNED_COMMENT: &str = "Återsänd för komplettering / Returned for revision";

fn waits_for_review(course: &CoursePackage, progress: &Progress<'_>, only: Option<&str>) -> bool {
    course
        .modules
        .iter()
        .filter(|m| only.is_none_or(|slug| m.slug == slug))
        .filter(|m| only.is_some() || m.required)
        .any(|module| {
            module.tasks().any(|task| {
                task.review
                    && progress
                        .modules
                        .get(module.slug.as_str())
                        .and_then(|tasks| tasks.get(task.slug.as_str()))
                        == Some(&SubmissionStatus::Submitted)
            })
        })
}

fn anything_returned(progress: &Progress<'_>, only: Option<&str>) -> bool {
    progress
        .modules
        .iter()
        .filter(|(slug, _)| only.is_none_or(|o| o == **slug))
        .any(|(_, tasks)| tasks.values().any(|s| *s == SubmissionStatus::Returned))
}

/// The scores of one participant in `mode`.
pub fn scores(mode: GradeMode, course: &CoursePackage, progress: &Progress<'_>) -> Vec<Score> {
    match mode {
        GradeMode::CourseFraction | GradeMode::CoursePass => {
            vec![course_score(mode, course, progress)]
        }
        GradeMode::PerModule => course
            .modules
            .iter()
            .map(|module| module_score(course, module, progress))
            .collect(),
    }
}

fn course_score(mode: GradeMode, course: &CoursePackage, progress: &Progress<'_>) -> Score {
    let (complete, required) = completion::required_modules_complete(course, progress);
    let done = completion::course_complete(course, progress);
    let waiting = waits_for_review(course, progress, None);
    let started = progress.baseline_submitted
        || progress.final_submitted
        || progress.modules.values().any(|tasks| !tasks.is_empty());
    let all_handed_in = course.modules.iter().filter(|m| m.required).all(|module| {
        module.tasks().all(|task| {
            matches!(
                progress
                    .modules
                    .get(module.slug.as_str())
                    .and_then(|tasks| tasks.get(task.slug.as_str())),
                Some(SubmissionStatus::Submitted | SubmissionStatus::Approved)
            )
        })
    }) && (!course.completion.require_baseline || progress.baseline_submitted)
        && (!course.completion.require_final || progress.final_submitted);
    let activity = if done {
        Activity::Completed
    } else if all_handed_in {
        Activity::Submitted
    } else if started {
        Activity::InProgress
    } else {
        Activity::Initialized
    };
    let comment = (!done && anything_returned(progress, None)).then_some(RETURNED_COMMENT);
    let label = course.title.sv.clone();
    match mode {
        GradeMode::CoursePass => Score {
            resource_id: COURSE_PASS.into(),
            tag: COURSE_TAG,
            label,
            maximum: 1.0,
            given: done.then_some(1.0),
            activity,
            grading: if done {
                Grading::FullyGraded
            } else if waiting {
                Grading::PendingManual
            } else {
                Grading::NotReady
            },
            comment,
        },
        _ => Score {
            resource_id: COURSE_FRACTION.into(),
            tag: COURSE_TAG,
            label,
            maximum: required.max(1) as f64,
            given: Some(complete as f64),
            activity,
            grading: if waiting && !done {
                Grading::PendingManual
            } else {
                Grading::FullyGraded
            },
            comment,
        },
    }
}

fn module_score(
    course: &CoursePackage,
    module: &crate::course::Module,
    progress: &Progress<'_>,
) -> Score {
    let empty = completion::TaskStatuses::new();
    let tasks = progress.modules.get(module.slug.as_str()).unwrap_or(&empty);
    let status = completion::module_status(module, tasks);
    let done = status == ModuleStatus::Complete;
    let activity = match status {
        ModuleStatus::Complete => Activity::Completed,
        ModuleStatus::Submitted | ModuleStatus::Approved => Activity::Submitted,
        ModuleStatus::InProgress | ModuleStatus::Returned => Activity::InProgress,
        ModuleStatus::NotStarted => Activity::Initialized,
    };
    Score {
        resource_id: module.slug.clone(),
        tag: MODULE_TAG,
        label: module.title.sv.clone(),
        maximum: 1.0,
        given: done.then_some(1.0),
        activity,
        grading: if done {
            Grading::FullyGraded
        } else if waits_for_review(course, progress, Some(&module.slug)) {
            Grading::PendingManual
        } else {
            Grading::NotReady
        },
        comment: (status == ModuleStatus::Returned).then_some(RETURNED_COMMENT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::{demo_files, load};
    use SubmissionStatus::*;

    fn all<'a>(course: &'a CoursePackage, status: SubmissionStatus) -> Progress<'a> {
        let mut progress = Progress::default();
        for module in &course.modules {
            progress.modules.insert(
                module.slug.as_str(),
                module.tasks().map(|t| (t.slug.as_str(), status)).collect(),
            );
        }
        progress
    }

    #[test]
    fn the_course_fraction_counts_complete_required_modules() {
        let course = load(&demo_files()).unwrap();
        let nothing = &scores(GradeMode::CourseFraction, &course, &Progress::default())[0];
        assert_eq!(nothing.activity, Activity::Initialized);
        assert_eq!((nothing.given, nothing.maximum), (Some(0.0), 6.0));

        let submitted = all(&course, Submitted);
        let score = &scores(GradeMode::CourseFraction, &course, &submitted)[0];
        assert_eq!(score.grading, Grading::PendingManual);
        assert_eq!(
            score.activity,
            Activity::InProgress,
            "self-assessments missing"
        );

        let mut approved = all(&course, Approved);
        let score = &scores(GradeMode::CourseFraction, &course, &approved)[0];
        assert_eq!(
            (score.given, score.grading),
            (Some(6.0), Grading::FullyGraded)
        );
        assert_eq!(score.activity, Activity::InProgress);
        approved.baseline_submitted = true;
        approved.final_submitted = true;
        let score = &scores(GradeMode::CourseFraction, &course, &approved)[0];
        assert_eq!(score.activity, Activity::Completed);
    }

    #[test]
    fn the_course_pass_gives_one_of_one_only_on_completion() {
        let course = load(&demo_files()).unwrap();
        let mut progress = all(&course, Submitted);
        progress.baseline_submitted = true;
        progress.final_submitted = true;
        let score = &scores(GradeMode::CoursePass, &course, &progress)[0];
        assert_eq!(score.given, None);
        assert_eq!(score.activity, Activity::Submitted);
        assert_eq!(score.grading, Grading::PendingManual);
        let json = score.to_json("sub-1");
        assert!(json.get("scoreGiven").is_none() && json.get("scoreMaximum").is_none());

        let mut done = all(&course, Approved);
        done.baseline_submitted = true;
        done.final_submitted = true;
        let score = &scores(GradeMode::CoursePass, &course, &done)[0];
        assert_eq!(
            score.to_json("sub-1"),
            json!({"userId": "sub-1", "scoreGiven": 1.0, "scoreMaximum": 1.0,
                   "activityProgress": "Completed", "gradingProgress": "FullyGraded"})
        );
    }

    #[test]
    fn per_module_scores_follow_each_module() {
        let course = load(&demo_files()).unwrap();
        let first = &course.modules[0];
        let mut progress = Progress::default();
        progress.modules.insert(
            first.slug.as_str(),
            first.tasks().map(|t| (t.slug.as_str(), Returned)).collect(),
        );
        let scores = scores(GradeMode::PerModule, &course, &progress);
        assert_eq!(scores.len(), course.modules.len());
        assert_eq!(scores[0].resource_id, first.slug);
        assert_eq!(scores[0].tag, MODULE_TAG);
        assert_eq!(scores[0].activity, Activity::InProgress);
        assert_eq!(scores[0].comment, Some(RETURNED_COMMENT));
        assert_eq!(scores[1].activity, Activity::Initialized);
        assert_eq!(scores[1].grading, Grading::NotReady);
    }
}

//! Where a participant stands in the course their context runs: their own and their group's
//! submissions and self-assessments, in the completion rules' terms.
use std::collections::HashMap;

use entity::submission;
use sea_orm::{DatabaseConnection, DbErr};

use super::context::ContextCourse;
use crate::{
    course::{
        CoursePackage, Module, TaskKind,
        completion::{self, ModuleStatus, Progress, SubmissionStatus, TaskStatuses},
    },
    session::Session,
    store,
};

/// A participant's submissions and self-assessments in the context.
pub struct Standing {
    /// By module, then task: looked up by `&str` without building a key (the overview asks for
    /// every task several times).
    submissions: HashMap<String, HashMap<String, submission::Model>>,
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
        let municipality =
            super::organisation::municipality_group(db, user_id, deployment_id).await?;
        let rows =
            store::submission::for_person(db, course.context_id, user_id, &municipality).await?;
        let mut submissions: HashMap<String, HashMap<String, submission::Model>> = HashMap::new();
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
                submissions
                    .entry(row.module_slug.clone())
                    .or_default()
                    .insert(row.task_slug.clone(), row);
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
        self.submissions.get(module)?.get(task)
    }

    /// The status of a task.
    pub fn status(&self, module: &str, task: &str) -> Option<SubmissionStatus> {
        self.submission(module, task)
            .and_then(|row| SubmissionStatus::parse(&row.status))
    }

    /// The status of each task of a module that has one.
    fn task_statuses<'a>(&self, module: &'a Module) -> TaskStatuses<'a> {
        module
            .tasks()
            .filter_map(|task| {
                self.status(&module.slug, &task.slug)
                    .map(|s| (task.slug.as_str(), s))
            })
            .collect()
    }

    /// The status of a module.
    pub fn module_status(&self, module: &Module) -> ModuleStatus {
        completion::module_status(module, &self.task_statuses(module))
    }

    /// The module whose workshop comes next: the first one not complete. (Occasions with dates
    /// come with the instructor's cohort settings.)
    pub fn next_module<'a>(&self, course: &'a CoursePackage) -> Option<&'a Module> {
        course
            .modules
            .iter()
            .find(|module| self.module_status(module) != ModuleStatus::Complete)
    }

    /// Progress in the completion rules' terms.
    pub fn progress<'a>(&self, course: &'a CoursePackage) -> Progress<'a> {
        let mut progress = Progress::default();
        for module in &course.modules {
            progress
                .modules
                .insert(module.slug.as_str(), self.task_statuses(module));
        }
        progress.baseline_submitted =
            self.assessment_submitted(crate::course::AssessmentRound::Baseline);
        progress.final_submitted = self.assessment_submitted(crate::course::AssessmentRound::Final);
        progress
    }
}

//! Completion records: what a participant has completed in one cohort (LMS course) and when, kept
//! in the transaction of every change that can move it, together with the scores for the
//! gradebook and the organisation's webhook event. This is what administrators sync into
//! competence registers, HR systems and the e-archive.
use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};

use super::{context::ContextCourse, standing::Standing};
use crate::{
    course::{
        AssessmentRound,
        completion::{self, ModuleStatus},
    },
    i18n::time::iso8601_utc_ms,
    store::{
        self,
        completions::{Cohort, RecordChange},
    },
};

/// What the record row keeps (times in Unix seconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionState {
    /// The course package's slug and version, `slug@version`.
    pub course_version: String,
    /// When each module was completed, by slug; absent while it is not.
    pub modules: BTreeMap<String, i64>,
    /// When the baseline self-assessment was submitted.
    pub baseline_assessed_at: Option<i64>,
    /// When the final self-assessment was submitted.
    pub final_assessed_at: Option<i64>,
    /// When the course was completed.
    pub course_completed_at: Option<i64>,
}

impl CompletionState {
    /// Reads a stored record; an unreadable one counts as empty (it is rewritten on the next change).
    pub fn parse(stored: &str) -> Self {
        serde_json::from_str(stored).unwrap_or_default()
    }

    /// The state now, keeping the dates of what was already complete before.
    fn now(course: &ContextCourse, standing: &Standing, before: &Self, now: i64) -> Self {
        let package = &course.package;
        let progress = standing.progress(package);
        let modules = package
            .modules
            .iter()
            .filter(|module| standing.module_status(module) == ModuleStatus::Complete)
            .map(|module| {
                let since = before.modules.get(&module.slug).copied().unwrap_or(now);
                (module.slug.clone(), since)
            })
            .collect();
        let assessed = |round| standing.assessment(round).and_then(|row| row.submitted_at);
        let course_completed_at = completion::course_complete(package, &progress)
            .then(|| before.course_completed_at.unwrap_or(now));
        Self {
            course_version: format!("{}@{}", package.slug, package.version),
            modules,
            baseline_assessed_at: assessed(AssessmentRound::Baseline),
            final_assessed_at: assessed(AssessmentRound::Final),
            course_completed_at,
        }
    }
}

/// Called inside the transaction of every change that can move a participant's completion (an
/// answer saved or submitted, a review decision, a self-assessment, a version or group move), for
/// everyone the changed answer belongs to: updates their completion records, queues the
/// organisation's webhook events and the gradebook's scores.
pub async fn progress_changed(
    db: &impl ConnectionTrait,
    course: &ContextCourse,
    owner_key: &str,
    now_ms: i64,
) -> Result<(), DbErr> {
    let Some(cohort) = store::completions::cohort(db, course.context_id).await? else {
        return Ok(());
    };
    let people = store::grades::participants_owning(db, course.context_id, owner_key).await?;
    if people.is_empty() {
        return Ok(());
    }
    let organisations = super::organisation::of_people(
        db,
        people.iter().map(|(id, _)| *id),
        cohort.deployment.organisation.as_deref(),
    )
    .await?;
    let mut webhooks: std::collections::HashMap<String, Option<entity::organisation::Model>> =
        std::collections::HashMap::new();
    let mut scores = Vec::new();
    for (user_id, sub) in people {
        let organisation = organisations.get(&user_id).cloned().flatten();
        let webhook = match &organisation {
            Some(name) => match webhooks.get(name) {
                Some(known) => known.clone(),
                None => {
                    let found = store::organisations::find(db, name)
                        .await?
                        .filter(|org| org.webhook_url.is_some());
                    webhooks.insert(name.clone(), found.clone());
                    found
                }
            },
            None => None,
        };
        let standing = Standing::load_for(db, course, user_id, cohort.deployment.id).await?;
        if cohort.context.ags_scopes.is_some() {
            let progress = standing.progress(&course.package);
            scores.extend(
                crate::grades::outbox::scores_for(
                    db,
                    course.context_id,
                    &course.package,
                    &cohort.deployment,
                    user_id,
                    &sub,
                    &progress,
                    now_ms,
                )
                .await?,
            );
        }
        let before = store::completions::get(db, course.context_id, user_id).await?;
        let previous = before
            .as_ref()
            .map(|row| CompletionState::parse(&row.record))
            .unwrap_or_default();
        let state = CompletionState::now(course, &standing, &previous, now_ms / 1000);
        if before.is_some() && state == previous {
            continue;
        }
        let record = serde_json::to_string(&state)
            .map_err(|err| DbErr::Custom(format!("completion record: {err}")))?;
        let sequence = store::completions::store(
            db,
            RecordChange {
                context_id: course.context_id,
                user_id,
                organisation: organisation.as_deref(),
                record: &record,
                now_ms,
            },
        )
        .await?;
        if let Some(org) = &webhook {
            let event = store::completions::get(db, course.context_id, user_id).await?;
            if let Some(row) = event {
                let rows = store::completions::with_context(db, vec![row]).await?;
                if let Some(row) = rows.first() {
                    let view = CompletionView::from_row(row, None);
                    let event = WebhookEvent::completion_changed(sequence, now_ms, view);
                    let body = serde_json::to_string(&event)
                        .map_err(|err| DbErr::Custom(format!("webhook event: {err}")))?;
                    store::webhooks::enqueue(db, &org.name, user_id, &body, now_ms).await?;
                }
            }
        }
    }
    store::grades::enqueue(db, scores).await
}

/// A completion record as administrators' systems see it (API, CSV, webhooks, archive).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompletionView {
    /// The record's id; stable for a person in a cohort.
    pub id: i64,
    /// The change number: grows with every change of any record.
    pub sequence: i64,
    /// When the record last changed (RFC 3339, UTC).
    pub updated_at: String,
    /// Who.
    pub person: PersonRef,
    /// The person's organisation (municipality or region): where an administrator placed them,
    /// what their LMS said, what they chose, else their deployment's.
    pub organisation: Option<String>,
    /// Which cohort (LMS course).
    pub cohort: CohortRef,
    /// The course package and version, `slug@version`.
    pub course_version: String,
    /// Completed modules with the date they were completed.
    pub modules: Vec<ModuleCompletion>,
    /// When the baseline self-assessment was submitted.
    pub baseline_assessed_at: Option<String>,
    /// When the final self-assessment was submitted.
    pub final_assessed_at: Option<String>,
    /// When the whole course was completed.
    pub course_completed_at: Option<String>,
    /// Whether the LMS gradebook has the latest score: `up_to_date`, `on_its_way`, `refused`, or
    /// `not_used` (the LMS course has no grade services). Read when asked; not part of webhooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gradebook: Option<String>,
}

/// A person as the LMS knows them.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PersonRef {
    /// The tool's id of the person (for export and erasure).
    pub id: i64,
    /// The platform's issuer.
    pub platform: String,
    /// The registration's client_id.
    pub client_id: String,
    /// The LTI deployment_id.
    pub deployment_id: String,
    /// The LTI `sub`.
    pub sub: String,
    /// The name, when the platform sends it.
    pub name: Option<String>,
}

/// A cohort: one LMS course, and the course run it is part of.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CohortRef {
    /// The tool's id of the LMS course (as `/api/v1/cohorts` lists it).
    pub id: i64,
    /// The LMS course's context id.
    pub context_id: String,
    /// The LMS course's title.
    pub title: Option<String>,
    /// The course run (`/api/v1/course-runs`) the LMS course is linked to; absent when the LMS
    /// course is a cohort of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_run: Option<CourseRunRef>,
}

/// A course run: one run of the course for a region, across LMS courses.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CourseRunRef {
    /// The tool's id of the course run.
    pub id: i64,
    /// Its name.
    pub name: String,
}

/// One completed module.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ModuleCompletion {
    /// The module's slug.
    pub slug: String,
    /// When it was completed (RFC 3339, UTC).
    pub completed_at: String,
}

fn timestamp(unix: i64) -> String {
    iso8601_utc_ms(unix * 1000)
}

impl CompletionView {
    /// The view of a stored record; `gradebook` when known.
    pub fn from_row(row: &store::completions::RecordRow, gradebook: Option<&str>) -> Self {
        let state = CompletionState::parse(&row.record.record);
        let Cohort {
            context,
            deployment,
        } = &row.cohort;
        Self {
            id: row.record.id,
            sequence: row.record.sequence,
            updated_at: iso8601_utc_ms(row.record.updated_at_ms),
            person: PersonRef {
                id: row.user.id,
                platform: row.platform.issuer.clone(),
                client_id: row.platform.client_id.clone(),
                deployment_id: deployment.lti_deployment_id.clone(),
                sub: row.user.sub.clone(),
                name: row.user.name.clone(),
            },
            organisation: row.record.organisation.clone(),
            cohort: CohortRef {
                id: context.id,
                context_id: context.lti_context_id.clone(),
                title: context.title.clone(),
                course_run: row.course_run.as_ref().map(|run| CourseRunRef {
                    id: run.id,
                    name: run.name.clone(),
                }),
            },
            course_version: state.course_version,
            modules: state
                .modules
                .into_iter()
                .map(|(slug, at)| ModuleCompletion {
                    slug,
                    completed_at: timestamp(at),
                })
                .collect(),
            baseline_assessed_at: state.baseline_assessed_at.map(timestamp),
            final_assessed_at: state.final_assessed_at.map(timestamp),
            course_completed_at: state.course_completed_at.map(timestamp),
            gradebook: gradebook.map(str::to_owned),
        }
    }
}

/// The body of a webhook delivery.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookEvent {
    /// Unique per event; receivers use it to drop a redelivered event.
    pub id: String,
    /// `completion.changed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the change happened (RFC 3339, UTC).
    pub occurred_at: String,
    /// The record after the change.
    pub record: CompletionView,
}

impl WebhookEvent {
    fn completion_changed(sequence: i64, now_ms: i64, record: CompletionView) -> Self {
        Self {
            id: format!("completion-{sequence}"),
            kind: "completion.changed".to_owned(),
            occurred_at: iso8601_utc_ms(now_ms),
            record,
        }
    }
}

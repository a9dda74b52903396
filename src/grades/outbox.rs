//! The scores a participant's progress means for the gradebook, ready for the outbox. Called by
//! `learning::records::progress_changed` inside the transaction of every change that can move a
//! score (a saved or submitted answer, a review decision, a submitted self-assessment, a move), so
//! a score exists exactly when the change does.
use entity::deployment;
use sea_orm::{ConnectionTrait, DbErr};

use super::{GradeMode, score};
use crate::{
    course::{CoursePackage, completion::Progress},
    store::{self, grades::NewScore},
};

/// The scores of one participant of context `context_id`, which runs `package`, whose value
/// differs from the last one queued. None for a line item nobody has started.
#[allow(clippy::too_many_arguments)]
pub async fn scores_for(
    db: &impl ConnectionTrait,
    context_id: i64,
    package: &CoursePackage,
    deployment: &deployment::Model,
    user_id: i64,
    sub: &str,
    progress: &Progress<'_>,
    now_ms: i64,
) -> Result<Vec<NewScore>, DbErr> {
    let mode = GradeMode::parse(&deployment.grade_mode).unwrap_or_default();
    let latest = store::grades::latest_scores(db, context_id, user_id).await?;
    let mut queued = Vec::new();
    for score in score::scores(mode, package, progress) {
        let json = score.to_json(sub).to_string();
        let unchanged = match latest.get(&score.resource_id) {
            Some(row) => row.score == json,
            None => score.activity == score::Activity::Initialized,
        };
        if unchanged {
            continue;
        }
        queued.push(NewScore {
            context_id,
            user_id,
            resource_id: score.resource_id,
            label: score.label,
            score_maximum: score.maximum,
            score: json,
            scored_at_ms: now_ms,
        });
    }
    Ok(queued)
}

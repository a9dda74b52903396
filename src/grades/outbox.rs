//! Writing scores into the outbox. Called inside the transaction of every change that can move a
//! score (a saved or submitted answer, a review decision, a submitted self-assessment), so a score
//! exists exactly when the change does.
use sea_orm::{ConnectionTrait, DbErr};

use super::{GradeMode, score};
use crate::{
    learning::participant::{ContextCourse, Standing},
    store::{self, grades::NewScore},
};

/// Queues the scores of everyone an answer belongs to (`u:<id>`, `g:<group>`, `g:d<deployment>`)
/// whose score changed. Nothing happens for contexts without AGS, for instructors, or when the
/// score is the same as the last one queued.
pub async fn record_progress(
    db: &impl ConnectionTrait,
    course: &ContextCourse,
    owner_key: &str,
    now_ms: i64,
) -> Result<usize, DbErr> {
    let Some(target) = store::grades::target(db, course.context_id).await? else {
        return Ok(0);
    };
    let mode = GradeMode::parse(&target.deployment.grade_mode).unwrap_or_default();
    let people = store::grades::participants_owning(db, course.context_id, owner_key).await?;
    let mut queued = Vec::new();
    for (user_id, sub) in people {
        let standing = Standing::load_for(db, course, user_id, target.deployment.id).await?;
        let progress = standing.progress(&course.package);
        let latest = store::grades::latest_scores(db, course.context_id, user_id).await?;
        for score in score::scores(mode, &course.package, &progress) {
            let json = score.to_json(&sub).to_string();
            let unchanged = match latest.get(&score.resource_id) {
                Some(row) => row.score == json,
                // A line item nobody has started needs no score yet.
                None => score.activity == score::Activity::Initialized,
            };
            if unchanged {
                continue;
            }
            queued.push(NewScore {
                context_id: course.context_id,
                user_id,
                resource_id: score.resource_id,
                label: score.label,
                score_maximum: score.maximum,
                score: json,
                scored_at_ms: now_ms,
            });
        }
    }
    let count = queued.len();
    store::grades::enqueue(db, queued).await?;
    Ok(count)
}

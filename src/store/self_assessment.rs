//! Self-assessments: one row per (context, person, round).
use entity::self_assessment;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryTrait,
    sea_query::OnConflict,
};

use super::prepared::KeptSql;

/// A person's self-assessments in a context (both rounds).
pub async fn for_person(
    db: &impl ConnectionTrait,
    context_id: i64,
    user_id: i64,
) -> Result<Vec<self_assessment::Model>, DbErr> {
    static FOR_PERSON: KeptSql = KeptSql::new();
    FOR_PERSON
        .all(
            db,
            |backend| {
                self_assessment::Entity::find()
                    .filter(self_assessment::Column::ContextId.eq(context_id))
                    .filter(self_assessment::Column::UserId.eq(user_id))
                    .build(backend)
            },
            vec![context_id.into(), user_id.into()],
        )
        .await
}

/// Stores the ratings of a round, unless that round is already submitted (then nothing changes and
/// `false` is returned).
pub async fn save(
    db: &impl ConnectionTrait,
    context_id: i64,
    user_id: i64,
    round: &str,
    ratings: String,
    submit: bool,
    now: i64,
) -> Result<bool, DbErr> {
    let existing = self_assessment::Entity::find()
        .filter(self_assessment::Column::ContextId.eq(context_id))
        .filter(self_assessment::Column::UserId.eq(user_id))
        .filter(self_assessment::Column::Round.eq(round))
        .one(db)
        .await?;
    if existing
        .as_ref()
        .is_some_and(|row| row.submitted_at.is_some())
    {
        return Ok(false);
    }
    self_assessment::Entity::insert(self_assessment::ActiveModel {
        context_id: Set(context_id),
        user_id: Set(user_id),
        round: Set(round.to_owned()),
        ratings: Set(ratings),
        updated_at: Set(now),
        submitted_at: Set(submit.then_some(now)),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            self_assessment::Column::ContextId,
            self_assessment::Column::UserId,
            self_assessment::Column::Round,
        ])
        .update_columns([
            self_assessment::Column::Ratings,
            self_assessment::Column::UpdatedAt,
            self_assessment::Column::SubmittedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(true)
}

/// Every submitted self-assessment of a context.
pub async fn submitted_in_context(
    db: &impl ConnectionTrait,
    context_id: i64,
) -> Result<Vec<self_assessment::Model>, DbErr> {
    self_assessment::Entity::find()
        .filter(self_assessment::Column::ContextId.eq(context_id))
        .filter(self_assessment::Column::SubmittedAt.is_not_null())
        .all(db)
        .await
}

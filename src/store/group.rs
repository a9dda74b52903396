//! Instructors' groups in an LMS course.
use std::collections::HashMap;

use entity::{group_member, learner_group};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};

/// The groups of a context, oldest first.
pub async fn groups(
    db: &impl ConnectionTrait,
    context_id: i64,
) -> Result<Vec<learner_group::Model>, DbErr> {
    learner_group::Entity::find()
        .filter(learner_group::Column::ContextId.eq(context_id))
        .order_by_asc(learner_group::Column::Id)
        .all(db)
        .await
}

/// Makes a group.
pub async fn create(
    db: &impl ConnectionTrait,
    context_id: i64,
    name: &str,
    now: i64,
) -> Result<learner_group::Model, DbErr> {
    learner_group::Entity::insert(learner_group::ActiveModel {
        context_id: Set(context_id),
        name: Set(name.to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

/// The group a person is placed in within a context, if any.
pub async fn group_of(
    db: &impl ConnectionTrait,
    context_id: i64,
    user_id: i64,
) -> Result<Option<i64>, DbErr> {
    Ok(group_member::Entity::find()
        .filter(group_member::Column::ContextId.eq(context_id))
        .filter(group_member::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .map(|m| m.group_id))
}

/// Every placement in a context: person → group.
pub async fn placements(
    db: &impl ConnectionTrait,
    context_id: i64,
) -> Result<HashMap<i64, i64>, DbErr> {
    Ok(group_member::Entity::find()
        .filter(group_member::Column::ContextId.eq(context_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.user_id, m.group_id))
        .collect())
}

/// Places a person in a group of the same context (`None`: back to the municipality's group).
pub async fn place(
    db: &impl ConnectionTrait,
    context_id: i64,
    user_id: i64,
    group_id: Option<i64>,
    now: i64,
) -> Result<(), DbErr> {
    match group_id {
        None => {
            group_member::Entity::delete_many()
                .filter(group_member::Column::ContextId.eq(context_id))
                .filter(group_member::Column::UserId.eq(user_id))
                .exec(db)
                .await?;
        }
        Some(group_id) => {
            group_member::Entity::insert(group_member::ActiveModel {
                context_id: Set(context_id),
                group_id: Set(group_id),
                user_id: Set(user_id),
                moved_at: Set(now),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([
                    group_member::Column::ContextId,
                    group_member::Column::UserId,
                ])
                .update_columns([group_member::Column::GroupId, group_member::Column::MovedAt])
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        }
    }
    Ok(())
}

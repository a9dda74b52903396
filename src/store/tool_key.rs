//! The tool's signing keys: the newest unretired key signs; retired keys stay published until
//! their `publish_until`.
use entity::tool_key;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};

/// The key that signs now, if any.
pub async fn current(db: &impl ConnectionTrait) -> Result<Option<tool_key::Model>, DbErr> {
    tool_key::Entity::find()
        .filter(tool_key::Column::RetiredAt.is_null())
        .order_by_desc(tool_key::Column::Id)
        .one(db)
        .await
}

/// Every key that belongs in the published JWKS at `now`.
pub async fn published(db: &impl ConnectionTrait, now: i64) -> Result<Vec<tool_key::Model>, DbErr> {
    tool_key::Entity::find()
        .filter(
            Condition::any()
                .add(tool_key::Column::RetiredAt.is_null())
                .add(tool_key::Column::PublishUntil.gt(now)),
        )
        .order_by_desc(tool_key::Column::Id)
        .all(db)
        .await
}

/// Stores a new key without retiring anything.
pub async fn insert(
    db: &impl ConnectionTrait,
    kid: &str,
    private_key_pem: &str,
    now: i64,
) -> Result<tool_key::Model, DbErr> {
    tool_key::Entity::insert(tool_key::ActiveModel {
        kid: Set(kid.to_owned()),
        private_key_pem: Set(private_key_pem.to_owned()),
        created_at: Set(now),
        retired_at: Set(None),
        publish_until: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

/// Retires every signing key (published for `overlap_seconds` more) and stores the new one. Run it
/// in a write transaction: there is always exactly one signing key.
pub async fn rotate(
    txn: &impl ConnectionTrait,
    kid: &str,
    private_key_pem: &str,
    now: i64,
    overlap_seconds: i64,
) -> Result<(tool_key::Model, Vec<String>), DbErr> {
    let retiring: Vec<String> = tool_key::Entity::find()
        .filter(tool_key::Column::RetiredAt.is_null())
        .all(txn)
        .await?
        .into_iter()
        .map(|key| key.kid)
        .collect();
    tool_key::Entity::update_many()
        .col_expr(tool_key::Column::RetiredAt, Expr::value(now))
        .col_expr(
            tool_key::Column::PublishUntil,
            Expr::value(now + overlap_seconds),
        )
        .filter(tool_key::Column::RetiredAt.is_null())
        .exec(txn)
        .await?;
    let new = insert(txn, kid, private_key_pem, now).await?;
    Ok((new, retiring))
}

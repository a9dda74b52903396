//! Finished logins. A login's state is a signed token that needs no row; the row is written when its
//! launch is admitted, and its unique nonce makes that happen once across every instance.
use entity::used_login;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryTrait,
    sea_query::OnConflict,
};

use super::prepared::KeptSql;

/// Records the login as used. `true` for exactly one caller per nonce, across every instance
/// sharing the database; `false` when it was used before.
pub async fn consume(
    db: &impl ConnectionTrait,
    nonce: &str,
    expires_at: i64,
) -> Result<bool, DbErr> {
    static CONSUME: KeptSql = KeptSql::new();
    let inserted = CONSUME
        .execute(
            db,
            |backend| {
                used_login::Entity::insert(used_login::ActiveModel {
                    nonce: Set(nonce.to_owned()),
                    expires_at: Set(expires_at),
                })
                .on_conflict(
                    OnConflict::column(used_login::Column::Nonce)
                        .do_nothing()
                        .to_owned(),
                )
                .build(backend)
            },
            vec![nonce.into(), expires_at.into()],
        )
        .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Whether the login with this nonce was used (a replayed post or id_token).
pub async fn is_used(db: &impl ConnectionTrait, nonce: &str) -> Result<bool, DbErr> {
    Ok(used_login::Entity::find_by_id(nonce.to_owned())
        .one(db)
        .await?
        .is_some())
}

/// Deletes the records of logins whose state expired before `cutoff`: past that, the state itself
/// is refused, so the record has nothing left to guard.
pub async fn purge_expired(db: &impl ConnectionTrait, cutoff: i64) -> Result<u64, DbErr> {
    Ok(used_login::Entity::delete_many()
        .filter(used_login::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

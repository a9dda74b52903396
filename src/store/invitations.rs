//! Registration invitations: one-time links for Dynamic Registration, kept as hashes.
use entity::registration_invitation as invitation;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};

/// What a new invitation says.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    /// SHA-256 of the link's token.
    pub token_hash: String,
    /// The organisation that owns the registration's deployments.
    pub organisation: String,
    /// Approve deployments seen later at once.
    pub auto_approve_deployments: bool,
    /// Who made it, as the audit log names them.
    pub created_by: String,
    /// When it stops working.
    pub expires_at: i64,
}

/// Stores an invitation.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewInvitation,
    now: i64,
) -> Result<invitation::Model, DbErr> {
    invitation::Entity::insert(invitation::ActiveModel {
        token_hash: Set(new.token_hash),
        organisation: Set(new.organisation),
        auto_approve_deployments: Set(new.auto_approve_deployments),
        created_by: Set(new.created_by),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        used_at: Set(None),
        platform_id: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

/// The invitation with this token hash, when it is unused and not expired.
pub async fn usable(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: i64,
) -> Result<Option<invitation::Model>, DbErr> {
    invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(token_hash))
        .filter(invitation::Column::UsedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .one(db)
        .await
}

/// Marks the invitation used by the registration `platform_id`; false when another request used
/// it first or it expired meanwhile, so exactly one registration is made with it.
pub async fn consume(
    db: &impl ConnectionTrait,
    id: i64,
    platform_id: i64,
    now: i64,
) -> Result<bool, DbErr> {
    let result = invitation::Entity::update_many()
        .col_expr(invitation::Column::UsedAt, Expr::value(now))
        .col_expr(invitation::Column::PlatformId, Expr::value(platform_id))
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::UsedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Invitations, newest first; limited to one organisation when `organisation` is given.
pub async fn list(
    db: &impl ConnectionTrait,
    organisation: Option<&str>,
    limit: u64,
) -> Result<Vec<invitation::Model>, DbErr> {
    let mut query = invitation::Entity::find().order_by_desc(invitation::Column::Id);
    if let Some(organisation) = organisation {
        query = query.filter(invitation::Column::Organisation.eq(organisation));
    }
    sea_orm::QuerySelect::limit(query, limit).all(db).await
}

//! Platform registrations.
use entity::platform;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::StoreError;

/// What a new registration needs.
#[derive(Debug, Clone)]
pub struct NewPlatform {
    /// Issuer.
    pub issuer: String,
    /// The client_id the platform gave the tool.
    pub client_id: String,
    /// A name for people.
    pub name: String,
    /// OIDC authentication endpoint.
    pub auth_login_url: String,
    /// OAuth2 token endpoint.
    pub auth_token_url: String,
    /// Key set URL.
    pub jwks_url: String,
    /// Client-assertion audience when not the token URL.
    pub token_audience: Option<String>,
    /// Approve unseen deployments at once.
    pub auto_approve_deployments: bool,
    /// The organisation that owns deployments seen later.
    pub organisation: Option<String>,
    /// The web origin the platform frames the tool from, when known apart.
    pub frame_origin: Option<String>,
}

/// Stores a registration; `Conflict` when (issuer, client_id) exists.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewPlatform,
    now: i64,
) -> Result<platform::Model, StoreError> {
    let what = format!("platform {} / {}", new.issuer, new.client_id);
    platform::Entity::insert(platform::ActiveModel {
        issuer: Set(new.issuer),
        client_id: Set(new.client_id),
        name: Set(new.name),
        auth_login_url: Set(new.auth_login_url),
        auth_token_url: Set(new.auth_token_url),
        jwks_url: Set(new.jwks_url),
        token_audience: Set(new.token_audience),
        auto_approve_deployments: Set(new.auto_approve_deployments),
        organisation: Set(new.organisation),
        frame_origin: Set(new.frame_origin),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|err| StoreError::from_insert(err, what))
}

/// Replaces the endpoints of an existing registration, or stores a new one (used by `demo`).
pub async fn upsert(
    db: &impl ConnectionTrait,
    new: NewPlatform,
    now: i64,
) -> Result<platform::Model, StoreError> {
    match find(db, &new.issuer, &new.client_id).await? {
        None => insert(db, new, now).await,
        Some(existing) => {
            let model = platform::ActiveModel {
                id: Set(existing.id),
                name: Set(new.name),
                auth_login_url: Set(new.auth_login_url),
                auth_token_url: Set(new.auth_token_url),
                jwks_url: Set(new.jwks_url),
                token_audience: Set(new.token_audience),
                auto_approve_deployments: Set(new.auto_approve_deployments),
                organisation: Set(new.organisation),
                frame_origin: Set(new.frame_origin),
                ..Default::default()
            };
            Ok(platform::Entity::update(model).exec(db).await?)
        }
    }
}

/// The registration for (issuer, client_id), of either kind (grants and contact persons name the
/// people of sign-in providers too).
pub async fn find(
    db: &impl ConnectionTrait,
    issuer: &str,
    client_id: &str,
) -> Result<Option<platform::Model>, DbErr> {
    platform::Entity::find()
        .filter(platform::Column::Issuer.eq(issuer))
        .filter(platform::Column::ClientId.eq(client_id))
        .one(db)
        .await
}

/// A learning platform's registration.
pub const KIND_LTI: &str = "lti";
/// The people of an OpenID Connect sign-in provider.
pub const KIND_SIGNIN: &str = "signin";

/// Every LMS registration of an issuer (Canvas cloud has one issuer for many registrations).
pub async fn find_by_issuer(
    db: &impl ConnectionTrait,
    issuer: &str,
) -> Result<Vec<platform::Model>, DbErr> {
    platform::Entity::find()
        .filter(platform::Column::Issuer.eq(issuer))
        .filter(platform::Column::Kind.eq(KIND_LTI))
        .order_by_asc(platform::Column::Id)
        .all(db)
        .await
}

/// One registration by its row id.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<platform::Model>, DbErr> {
    platform::Entity::find_by_id(id).one(db).await
}

/// All LMS registrations, oldest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<platform::Model>, DbErr> {
    platform::Entity::find()
        .filter(platform::Column::Kind.eq(KIND_LTI))
        .order_by_asc(platform::Column::Id)
        .all(db)
        .await
}

/// Stops approving the registration's new deployments at once.
pub async fn stop_auto_approval(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    platform::Entity::update_many()
        .col_expr(
            platform::Column::AutoApproveDeployments,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(platform::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

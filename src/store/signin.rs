//! OpenID Connect providers and cohort invitations, the two things sign-in without an LMS reads.
use entity::{cohort_invitation, deployment, oidc_provider, platform};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};

use super::StoreError;

/// A provider as an administrator configures it.
#[derive(Debug, Clone)]
pub struct NewProvider {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub organisation: Option<String>,
    pub allowed_tenants: String,
    pub allowed_domains: String,
    pub created_by: String,
}

/// Stores a provider with the platform row (kind `signin`) and deployment its people and sessions
/// belong to. Run in a transaction.
pub async fn insert_provider(
    db: &impl ConnectionTrait,
    new: NewProvider,
    now: i64,
) -> Result<oidc_provider::Model, StoreError> {
    let what = format!("sign-in provider {}", new.name);
    let identity = platform::Entity::insert(platform::ActiveModel {
        issuer: Set(new.issuer.clone()),
        client_id: Set(new.client_id.clone()),
        name: Set(format!("sign-in: {}", new.name)),
        auth_login_url: Set(String::new()),
        auth_token_url: Set(String::new()),
        jwks_url: Set(String::new()),
        token_audience: Set(None),
        auto_approve_deployments: Set(false),
        organisation: Set(new.organisation.clone()),
        frame_origin: Set(None),
        kind: Set(super::platform::KIND_SIGNIN.to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|err| StoreError::from_insert(err, what.clone()))?;
    let sessions = deployment::Entity::insert(deployment::ActiveModel {
        platform_id: Set(identity.id),
        lti_deployment_id: Set("signin".to_owned()),
        organisation: Set(new.organisation.clone()),
        status: Set(super::deployment::APPROVED.to_owned()),
        created_at: Set(now),
        approved_at: Set(Some(now)),
        default_locale: Set(None),
        grade_mode: Set("course_fraction".to_owned()),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?;
    oidc_provider::Entity::insert(oidc_provider::ActiveModel {
        name: Set(new.name),
        issuer: Set(new.issuer),
        client_id: Set(new.client_id),
        client_secret: Set(new.client_secret),
        organisation: Set(new.organisation),
        allowed_tenants: Set(new.allowed_tenants),
        allowed_domains: Set(new.allowed_domains),
        platform_id: Set(identity.id),
        deployment_id: Set(sessions.id),
        created_by: Set(new.created_by),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|err| StoreError::from_insert(err, what))
}

/// Every provider, by name.
pub async fn providers(db: &impl ConnectionTrait) -> Result<Vec<oidc_provider::Model>, DbErr> {
    oidc_provider::Entity::find()
        .order_by_asc(oidc_provider::Column::Name)
        .all(db)
        .await
}

/// The provider named `name`.
pub async fn provider(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<oidc_provider::Model>, DbErr> {
    oidc_provider::Entity::find()
        .filter(oidc_provider::Column::Name.eq(name))
        .one(db)
        .await
}

/// The provider whose people are platform row `platform_id`.
pub async fn provider_of_platform(
    db: &impl ConnectionTrait,
    platform_id: i64,
) -> Result<Option<oidc_provider::Model>, DbErr> {
    oidc_provider::Entity::find()
        .filter(oidc_provider::Column::PlatformId.eq(platform_id))
        .one(db)
        .await
}

/// Removes a provider: nobody signs in through it any more, and its sessions end (its deployment
/// is disabled); its people's records stay. True when it existed.
pub async fn remove_provider(
    db: &impl ConnectionTrait,
    name: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let Some(found) = provider(db, name).await? else {
        return Ok(false);
    };
    super::deployment::set_status(
        db,
        found.deployment_id,
        super::deployment::DISABLED,
        None,
        now,
    )
    .await?;
    oidc_provider::Entity::delete_by_id(found.id)
        .exec(db)
        .await?;
    Ok(true)
}

/// An invitation that makes its users participants.
pub const ROLE_PARTICIPANT: &str = "participant";
/// An invitation that makes its user a course leader of the cohort.
pub const ROLE_LEADER: &str = "leader";

/// What a new invitation says.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub cohort_id: i64,
    pub organisation: String,
    pub role: String,
    pub token_hash: String,
    pub max_uses: i32,
    pub expires_at: i64,
    pub created_by: String,
}

/// Stores an invitation.
pub async fn insert_invitation(
    db: &impl ConnectionTrait,
    new: NewInvitation,
    now: i64,
) -> Result<cohort_invitation::Model, DbErr> {
    cohort_invitation::Entity::insert(cohort_invitation::ActiveModel {
        cohort_id: Set(new.cohort_id),
        organisation: Set(new.organisation),
        role: Set(new.role),
        token_hash: Set(new.token_hash),
        max_uses: Set(new.max_uses),
        uses: Set(0),
        expires_at: Set(new.expires_at),
        created_by: Set(new.created_by),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

/// The invitation with this token hash while it can still be used.
pub async fn usable_invitation(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: i64,
) -> Result<Option<cohort_invitation::Model>, DbErr> {
    Ok(cohort_invitation::Entity::find()
        .filter(cohort_invitation::Column::TokenHash.eq(token_hash))
        .filter(cohort_invitation::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .filter(|row| row.uses < row.max_uses))
}

/// Takes one use of an invitation; false when it was used up or expired meanwhile (one statement,
/// so concurrent sign-ins never take more uses than there are).
pub async fn use_invitation(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<bool, DbErr> {
    let result = cohort_invitation::Entity::update_many()
        .col_expr(
            cohort_invitation::Column::Uses,
            Expr::col(cohort_invitation::Column::Uses).add(1),
        )
        .filter(cohort_invitation::Column::Id.eq(id))
        .filter(
            Expr::col(cohort_invitation::Column::Uses)
                .lt(Expr::col(cohort_invitation::Column::MaxUses)),
        )
        .filter(cohort_invitation::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The LMS-less course of a cohort for a provider's people (a context under the provider's
/// deployment, linked to the cohort, running its course version), made at its first use.
pub async fn direct_context(
    db: &impl ConnectionTrait,
    provider: &oidc_provider::Model,
    run: &entity::cohort::Model,
    now: i64,
) -> Result<i64, DbErr> {
    use entity::context;
    use sea_orm::sea_query::OnConflict;
    let row = context::Entity::insert(context::ActiveModel {
        deployment_id: Set(provider.deployment_id),
        lti_context_id: Set(format!("cohort:{}", run.id)),
        label: Set(None),
        title: Set(Some(run.name.clone())),
        created_at: Set(now),
        updated_at: Set(now),
        cohort_id: Set(Some(run.id)),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([context::Column::DeploymentId, context::Column::LtiContextId])
            .update_column(context::Column::UpdatedAt)
            .to_owned(),
    )
    .exec_with_returning(db)
    .await?;
    super::course::pin_context(db, row.id, run.course_version_id, now).await?;
    Ok(row.id)
}

/// Makes a person a participant of an LMS-less course.
pub async fn add_participant(
    db: &impl ConnectionTrait,
    context_id: i64,
    user_id: i64,
    now: i64,
) -> Result<(), DbErr> {
    use entity::membership;
    use sea_orm::sea_query::OnConflict;
    membership::Entity::insert(membership::ActiveModel {
        context_id: Set(context_id),
        user_id: Set(user_id),
        lti_roles: Set(String::new()),
        role: Set("participant".to_owned()),
        updated_at: Set(now),
        opened_at: Set(Some(now)),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([membership::Column::ContextId, membership::Column::UserId])
            .update_columns([membership::Column::UpdatedAt, membership::Column::OpenedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The LMS-less course a signed-in person takes part in (the latest they joined).
pub async fn direct_context_of(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Option<i64>, DbErr> {
    use entity::{context, membership};
    use sea_orm::QuerySelect;
    let deployments: Vec<i64> = oidc_provider::Entity::find()
        .select_only()
        .column(oidc_provider::Column::DeploymentId)
        .into_tuple()
        .all(db)
        .await?;
    let contexts: Vec<i64> = membership::Entity::find()
        .select_only()
        .column(membership::Column::ContextId)
        .filter(membership::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(context::Entity::find()
        .filter(context::Column::Id.is_in(contexts))
        .filter(context::Column::DeploymentId.is_in(deployments))
        .order_by_desc(context::Column::Id)
        .one(db)
        .await?
        .map(|c| c.id))
}

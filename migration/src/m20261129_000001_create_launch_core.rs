//! The tables of the LTI launch core: registrations, deployments, the tool's keys, login states,
//! and what a launch records about people, contexts and resource links.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Platform {
    Table,
    Id,
    Issuer,
    ClientId,
    Name,
    AuthLoginUrl,
    AuthTokenUrl,
    JwksUrl,
    TokenAudience,
    AutoApproveDeployments,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Deployment {
    Table,
    Id,
    PlatformId,
    LtiDeploymentId,
    Organisation,
    Status,
    CreatedAt,
    ApprovedAt,
}

#[derive(DeriveIden)]
enum ToolKey {
    Table,
    Id,
    Kid,
    PrivateKeyPem,
    CreatedAt,
    RetiredAt,
    PublishUntil,
}

#[derive(DeriveIden)]
enum ToolSetting {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum LaunchState {
    Table,
    Id,
    State,
    Nonce,
    BrowserBinding,
    PlatformId,
    TargetLinkUri,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum LtiUser {
    Table,
    Id,
    PlatformId,
    Sub,
    Name,
    GivenName,
    FamilyName,
    Email,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Context {
    Table,
    Id,
    DeploymentId,
    LtiContextId,
    Label,
    Title,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ResourceLink {
    Table,
    Id,
    DeploymentId,
    ContextId,
    LtiResourceLinkId,
    Title,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    Id,
    ContextId,
    UserId,
    LtiRoles,
    Role,
    UpdatedAt,
}

fn foreign_key(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

fn unique_index(name: &str, table: impl IntoIden, cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create().name(name).table(table).unique().take();
    for col in cols {
        index.col(Alias::new(*col));
    }
    index
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Platform::Table)
                    .col(big_pk_auto(Platform::Id))
                    .col(string(Platform::Issuer))
                    .col(string(Platform::ClientId))
                    .col(string(Platform::Name))
                    .col(string(Platform::AuthLoginUrl))
                    .col(string(Platform::AuthTokenUrl))
                    .col(string(Platform::JwksUrl))
                    .col(string_null(Platform::TokenAudience))
                    .col(boolean(Platform::AutoApproveDeployments))
                    .col(big_integer(Platform::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "platform_issuer_client_id",
                Platform::Table,
                &["issuer", "client_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Deployment::Table)
                    .col(big_pk_auto(Deployment::Id))
                    .col(big_integer(Deployment::PlatformId))
                    .col(string(Deployment::LtiDeploymentId))
                    .col(string_null(Deployment::Organisation))
                    .col(string(Deployment::Status))
                    .col(big_integer(Deployment::CreatedAt))
                    .col(big_integer_null(Deployment::ApprovedAt))
                    .foreign_key(&mut foreign_key(
                        Deployment::Table,
                        Deployment::PlatformId,
                        Platform::Table,
                        Platform::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "deployment_platform_lti_deployment_id",
                Deployment::Table,
                &["platform_id", "lti_deployment_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ToolKey::Table)
                    .col(big_pk_auto(ToolKey::Id))
                    .col(string_uniq(ToolKey::Kid))
                    .col(text(ToolKey::PrivateKeyPem))
                    .col(big_integer(ToolKey::CreatedAt))
                    .col(big_integer_null(ToolKey::RetiredAt))
                    .col(big_integer_null(ToolKey::PublishUntil))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ToolSetting::Table)
                    .col(string(ToolSetting::Name).primary_key())
                    .col(text(ToolSetting::Value))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LaunchState::Table)
                    .col(big_pk_auto(LaunchState::Id))
                    .col(string_uniq(LaunchState::State))
                    .col(string_uniq(LaunchState::Nonce))
                    .col(string(LaunchState::BrowserBinding))
                    .col(big_integer(LaunchState::PlatformId))
                    .col(text(LaunchState::TargetLinkUri))
                    .col(big_integer(LaunchState::CreatedAt))
                    .col(big_integer(LaunchState::ExpiresAt))
                    .col(big_integer_null(LaunchState::ConsumedAt))
                    .foreign_key(&mut foreign_key(
                        LaunchState::Table,
                        LaunchState::PlatformId,
                        Platform::Table,
                        Platform::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("launch_state_expires_at")
                    .table(LaunchState::Table)
                    .col(LaunchState::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LtiUser::Table)
                    .col(big_pk_auto(LtiUser::Id))
                    .col(big_integer(LtiUser::PlatformId))
                    .col(string(LtiUser::Sub))
                    .col(string_null(LtiUser::Name))
                    .col(string_null(LtiUser::GivenName))
                    .col(string_null(LtiUser::FamilyName))
                    .col(string_null(LtiUser::Email))
                    .col(big_integer(LtiUser::CreatedAt))
                    .col(big_integer(LtiUser::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        LtiUser::Table,
                        LtiUser::PlatformId,
                        Platform::Table,
                        Platform::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "lti_user_platform_sub",
                LtiUser::Table,
                &["platform_id", "sub"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Context::Table)
                    .col(big_pk_auto(Context::Id))
                    .col(big_integer(Context::DeploymentId))
                    .col(string(Context::LtiContextId))
                    .col(string_null(Context::Label))
                    .col(string_null(Context::Title))
                    .col(big_integer(Context::CreatedAt))
                    .col(big_integer(Context::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        Context::Table,
                        Context::DeploymentId,
                        Deployment::Table,
                        Deployment::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "context_deployment_lti_context_id",
                Context::Table,
                &["deployment_id", "lti_context_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ResourceLink::Table)
                    .col(big_pk_auto(ResourceLink::Id))
                    .col(big_integer(ResourceLink::DeploymentId))
                    .col(big_integer_null(ResourceLink::ContextId))
                    .col(string(ResourceLink::LtiResourceLinkId))
                    .col(string_null(ResourceLink::Title))
                    .col(big_integer(ResourceLink::CreatedAt))
                    .col(big_integer(ResourceLink::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        ResourceLink::Table,
                        ResourceLink::DeploymentId,
                        Deployment::Table,
                        Deployment::Id,
                    ))
                    .foreign_key(&mut foreign_key(
                        ResourceLink::Table,
                        ResourceLink::ContextId,
                        Context::Table,
                        Context::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "resource_link_deployment_lti_resource_link_id",
                ResourceLink::Table,
                &["deployment_id", "lti_resource_link_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Membership::Table)
                    .col(big_pk_auto(Membership::Id))
                    .col(big_integer(Membership::ContextId))
                    .col(big_integer(Membership::UserId))
                    .col(text(Membership::LtiRoles))
                    .col(string(Membership::Role))
                    .col(big_integer(Membership::UpdatedAt))
                    .foreign_key(&mut foreign_key(
                        Membership::Table,
                        Membership::ContextId,
                        Context::Table,
                        Context::Id,
                    ))
                    .foreign_key(&mut foreign_key(
                        Membership::Table,
                        Membership::UserId,
                        LtiUser::Table,
                        LtiUser::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "membership_context_user",
                Membership::Table,
                &["context_id", "user_id"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Forward-only: a rollback is a new migration, never a drop of participants' data.
        Err(DbErr::Migration(
            "coursebridge migrations are forward-only".into(),
        ))
    }
}

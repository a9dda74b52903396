//! Dynamic Registration only by invitation: an administrator's one-time link names the
//! organisation that owns the registration's deployments, and whether they are approved at once.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RegistrationInvitation {
    Table,
    Id,
    TokenHash,
    Organisation,
    AutoApproveDeployments,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    PlatformId,
}

#[derive(DeriveIden)]
enum Platform {
    Table,
    Organisation,
    FrameOrigin,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RegistrationInvitation::Table)
                    .col(big_pk_auto(RegistrationInvitation::Id))
                    .col(string_uniq(RegistrationInvitation::TokenHash))
                    .col(string(RegistrationInvitation::Organisation))
                    .col(boolean(RegistrationInvitation::AutoApproveDeployments))
                    .col(string(RegistrationInvitation::CreatedBy))
                    .col(big_integer(RegistrationInvitation::CreatedAt))
                    .col(big_integer(RegistrationInvitation::ExpiresAt))
                    .col(big_integer_null(RegistrationInvitation::UsedAt))
                    .col(big_integer_null(RegistrationInvitation::PlatformId))
                    .to_owned(),
            )
            .await?;
        // The organisation that owns deployments seen later for this registration, and the web
        // origin its administrator registered from (Canvas frames the tool from the institution's
        // host, which is neither its issuer nor its login URL). One column per statement: SQLite's
        // ALTER TABLE adds one at a time.
        for column in [Platform::Organisation, Platform::FrameOrigin] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Platform::Table)
                        .add_column(string_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "coursebridge migrations are forward-only".into(),
        ))
    }
}

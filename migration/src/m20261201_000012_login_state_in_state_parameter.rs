//! Logins no longer write a row: the `state` parameter itself carries what the launch needs,
//! signed with the installation's key. What stays in the database is the one fact a signature
//! cannot carry: that a login was used. `used_login` holds the nonce of every finished login until
//! its state would have expired anyway, so a second post of the same launch is refused on every
//! instance.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsedLogin {
    Table,
    Nonce,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum LaunchState {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UsedLogin::Table)
                    .if_not_exists()
                    .col(string(UsedLogin::Nonce).primary_key())
                    .col(big_integer(UsedLogin::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("used_login_expires_at")
                    .table(UsedLogin::Table)
                    .col(UsedLogin::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        // Logins in flight while the upgrade runs were stored rows; they fail as unknown states and
        // the person's next click in the LMS starts a new one.
        manager
            .drop_table(
                Table::drop()
                    .table(LaunchState::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "coursebridge migrations are forward-only".into(),
        ))
    }
}

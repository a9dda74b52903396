//! Launches without third-party cookies: where the platform keeps the login's proof (its
//! `lti_storage_target`), and the login initiation itself, to start it again in a new window.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LaunchState {
    Table,
    StorageTarget,
    LoginQuery,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one column at a time.
        for column in [LaunchState::StorageTarget, LaunchState::LoginQuery] {
            manager
                .alter_table(
                    Table::alter()
                        .table(LaunchState::Table)
                        .add_column(text_null(column))
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

//! Sessions that can be ended: sessions of a person that began before `sessions_revoked_at` are no
//! longer accepted (`coursebridge session revoke --person ID`).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LtiUser {
    Table,
    SessionsRevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LtiUser::Table)
                    .add_column(big_integer_null(LtiUser::SessionsRevokedAt))
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

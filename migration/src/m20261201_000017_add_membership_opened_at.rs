//! When a person last opened the course of a context (a launch or a sign-in): a member the roster
//! lists who never opened it has not started, whatever their group answered. Rows from before
//! count as opened, as the dashboard treated them until now.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Membership {
    Table,
    OpenedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Membership::Table)
                    .add_column(big_integer_null(Membership::OpenedAt))
                    .to_owned(),
            )
            .await?;
        let backfill = Query::update()
            .table(Membership::Table)
            .value(Membership::OpenedAt, Expr::col(Membership::UpdatedAt))
            .to_owned();
        manager.exec_stmt(backfill).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "coursebridge migrations are forward-only".into(),
        ))
    }
}

//! Feedback sent from the accessibility statement page (DOS-lagen requires a way to report problems).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccessibilityFeedback {
    Table,
    Id,
    DeploymentId,
    Lang,
    Page,
    Message,
    Contact,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccessibilityFeedback::Table)
                    .col(big_pk_auto(AccessibilityFeedback::Id))
                    .col(big_integer_null(AccessibilityFeedback::DeploymentId))
                    .col(string(AccessibilityFeedback::Lang))
                    .col(text(AccessibilityFeedback::Page))
                    .col(text(AccessibilityFeedback::Message))
                    .col(text_null(AccessibilityFeedback::Contact))
                    .col(big_integer(AccessibilityFeedback::CreatedAt))
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

//! Completion into the LMS gradebook: each deployment's grade mode, the AGS endpoints launches
//! carried, the line items the tool knows, and the durable score outbox.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deployment {
    Table,
    GradeMode,
}

#[derive(DeriveIden)]
enum Context {
    Table,
    Id,
    AgsLineitemsUrl,
    AgsScopes,
}

#[derive(DeriveIden)]
enum ResourceLink {
    Table,
    AgsLineitemUrl,
    ModuleSlug,
}

#[derive(DeriveIden)]
enum LineItem {
    Table,
    Id,
    ContextId,
    ResourceId,
    Url,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LtiUser {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ScoreOutbox {
    Table,
    Id,
    ContextId,
    UserId,
    ResourceId,
    Label,
    ScoreMaximum,
    Score,
    ScoredAtMs,
    State,
    Attempts,
    NextAttemptAtMs,
    ClaimedBy,
    ClaimedUntilMs,
    LastError,
    SentAtMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Deployment::Table)
                    .add_column(string(Deployment::GradeMode).default("course_fraction"))
                    .to_owned(),
            )
            .await?;
        for column in [Context::AgsLineitemsUrl, Context::AgsScopes] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Context::Table)
                        .add_column(text_null(column))
                        .to_owned(),
                )
                .await?;
        }
        for column in [ResourceLink::AgsLineitemUrl, ResourceLink::ModuleSlug] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ResourceLink::Table)
                        .add_column(text_null(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(LineItem::Table)
                    .col(big_pk_auto(LineItem::Id))
                    .col(big_integer(LineItem::ContextId))
                    .col(string(LineItem::ResourceId))
                    .col(text(LineItem::Url))
                    .col(big_integer(LineItem::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LineItem::Table, LineItem::ContextId)
                            .to(Context::Table, Context::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("line_item_context_resource")
                    .table(LineItem::Table)
                    .col(LineItem::ContextId)
                    .col(LineItem::ResourceId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScoreOutbox::Table)
                    .col(big_pk_auto(ScoreOutbox::Id))
                    .col(big_integer(ScoreOutbox::ContextId))
                    .col(big_integer(ScoreOutbox::UserId))
                    .col(string(ScoreOutbox::ResourceId))
                    .col(text(ScoreOutbox::Label))
                    .col(double(ScoreOutbox::ScoreMaximum))
                    .col(text(ScoreOutbox::Score))
                    .col(big_integer(ScoreOutbox::ScoredAtMs))
                    .col(string(ScoreOutbox::State))
                    .col(integer(ScoreOutbox::Attempts).default(0))
                    .col(big_integer(ScoreOutbox::NextAttemptAtMs))
                    .col(string_null(ScoreOutbox::ClaimedBy))
                    .col(big_integer_null(ScoreOutbox::ClaimedUntilMs))
                    .col(text_null(ScoreOutbox::LastError))
                    .col(big_integer_null(ScoreOutbox::SentAtMs))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScoreOutbox::Table, ScoreOutbox::ContextId)
                            .to(Context::Table, Context::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScoreOutbox::Table, ScoreOutbox::UserId)
                            .to(LtiUser::Table, LtiUser::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The worker's claim walks this index in order and stops after one batch.
        manager
            .create_index(
                Index::create()
                    .name("score_outbox_due")
                    .table(ScoreOutbox::Table)
                    .col(ScoreOutbox::State)
                    .col(ScoreOutbox::NextAttemptAtMs)
                    .col(ScoreOutbox::Id)
                    .to_owned(),
            )
            .await?;
        // Latest score per person and line item (collapse, "does the LMS have it").
        manager
            .create_index(
                Index::create()
                    .name("score_outbox_person_item")
                    .table(ScoreOutbox::Table)
                    .col(ScoreOutbox::ContextId)
                    .col(ScoreOutbox::UserId)
                    .col(ScoreOutbox::ResourceId)
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

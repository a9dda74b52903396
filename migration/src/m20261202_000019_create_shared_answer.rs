//! Group answers a group shared with the other municipalities of its course run, the comments on
//! them, and the course leaders' pins for the next workshop. A shared answer points at its
//! submission (the text is read from there, so a revision after a return shows); `scope` is the
//! run (`cohort:<id>`) or, for an LMS course in no run, the LMS course (`context:<id>`).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SharedAnswer {
    Table,
    Id,
    SubmissionId,
    Scope,
    ContextId,
    ModuleSlug,
    TaskSlug,
    Organisation,
    SharedBy,
    SignedName,
    SharedAt,
    PinnedBy,
    PinnedAt,
}

#[derive(DeriveIden)]
enum SharedComment {
    Table,
    Id,
    SharedAnswerId,
    UserId,
    Organisation,
    SignedName,
    Body,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SharedAnswer::Table)
                    .col(big_pk_auto(SharedAnswer::Id))
                    .col(big_integer_uniq(SharedAnswer::SubmissionId))
                    .col(string(SharedAnswer::Scope))
                    .col(big_integer(SharedAnswer::ContextId))
                    .col(string(SharedAnswer::ModuleSlug))
                    .col(string(SharedAnswer::TaskSlug))
                    .col(string(SharedAnswer::Organisation))
                    .col(big_integer(SharedAnswer::SharedBy))
                    .col(string_null(SharedAnswer::SignedName))
                    .col(big_integer(SharedAnswer::SharedAt))
                    .col(big_integer_null(SharedAnswer::PinnedBy))
                    .col(big_integer_null(SharedAnswer::PinnedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shared_answer_task")
                    .table(SharedAnswer::Table)
                    .col(SharedAnswer::Scope)
                    .col(SharedAnswer::ModuleSlug)
                    .col(SharedAnswer::TaskSlug)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SharedComment::Table)
                    .col(big_pk_auto(SharedComment::Id))
                    .col(big_integer(SharedComment::SharedAnswerId))
                    .col(big_integer(SharedComment::UserId))
                    .col(string(SharedComment::Organisation))
                    .col(string_null(SharedComment::SignedName))
                    .col(text(SharedComment::Body))
                    .col(big_integer(SharedComment::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shared_comment_answer")
                    .table(SharedComment::Table)
                    .col(SharedComment::SharedAnswerId)
                    .col(SharedComment::Id)
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

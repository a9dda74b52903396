//! The review trail: every status change of a submission (who, when, from, to), and the workshop
//! occasions instructors set for their LMS course.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Submission {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Context {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SubmissionEvent {
    Table,
    Id,
    SubmissionId,
    ActorId,
    FromStatus,
    ToStatus,
    Feedback,
    At,
}

#[derive(DeriveIden)]
enum WorkshopOccasion {
    Table,
    Id,
    ContextId,
    ModuleSlug,
    StartsAt,
    Place,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SubmissionEvent::Table)
                    .col(big_pk_auto(SubmissionEvent::Id))
                    .col(big_integer(SubmissionEvent::SubmissionId))
                    .col(big_integer(SubmissionEvent::ActorId))
                    .col(string(SubmissionEvent::FromStatus))
                    .col(string(SubmissionEvent::ToStatus))
                    .col(text_null(SubmissionEvent::Feedback))
                    .col(big_integer(SubmissionEvent::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SubmissionEvent::Table, SubmissionEvent::SubmissionId)
                            .to(Submission::Table, Submission::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("submission_event_submission")
                    .table(SubmissionEvent::Table)
                    .col(SubmissionEvent::SubmissionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WorkshopOccasion::Table)
                    .col(big_pk_auto(WorkshopOccasion::Id))
                    .col(big_integer(WorkshopOccasion::ContextId))
                    .col(string(WorkshopOccasion::ModuleSlug))
                    .col(big_integer(WorkshopOccasion::StartsAt))
                    .col(text(WorkshopOccasion::Place))
                    .col(big_integer(WorkshopOccasion::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WorkshopOccasion::Table, WorkshopOccasion::ContextId)
                            .to(Context::Table, Context::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("workshop_occasion_context_module")
                    .table(WorkshopOccasion::Table)
                    .col(WorkshopOccasion::ContextId)
                    .col(WorkshopOccasion::ModuleSlug)
                    .unique()
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

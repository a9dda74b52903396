//! Reports on shared answers and comments, and the course leaders' hiding of them with a reason.
//! A hidden item stays (with who hid it, when and why) so the decision can be read back; only
//! readers stop seeing it. One report per person and item.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SharedAnswer {
    Table,
}

#[derive(DeriveIden)]
enum SharedComment {
    Table,
}

/// The columns both tables get; their names are the columns' own.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Moderation {
    HiddenAt,
    HiddenBy,
    HiddenReason,
}

#[derive(DeriveIden)]
enum ContentReport {
    Table,
    Id,
    Kind,
    TargetId,
    Scope,
    ReportedBy,
    Reason,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SharedAnswer::Table.into_iden(),
            SharedComment::Table.into_iden(),
        ] {
            for column in [
                big_integer_null(Moderation::HiddenAt),
                big_integer_null(Moderation::HiddenBy),
                text_null(Moderation::HiddenReason),
            ] {
                let mut column = column;
                manager
                    .alter_table(
                        Table::alter()
                            .table(table.clone())
                            .add_column(&mut column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        manager
            .create_table(
                Table::create()
                    .table(ContentReport::Table)
                    .col(big_pk_auto(ContentReport::Id))
                    .col(string(ContentReport::Kind))
                    .col(big_integer(ContentReport::TargetId))
                    .col(string(ContentReport::Scope))
                    .col(big_integer(ContentReport::ReportedBy))
                    .col(text(ContentReport::Reason))
                    .col(big_integer(ContentReport::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("content_report_once")
                    .table(ContentReport::Table)
                    .col(ContentReport::Kind)
                    .col(ContentReport::TargetId)
                    .col(ContentReport::ReportedBy)
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

//! Contact persons: granted per organisation inside the tool, never derived from LMS roles.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Platform {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ContactPerson {
    Table,
    Id,
    PlatformId,
    Sub,
    Organisation,
    GrantedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContactPerson::Table)
                    .col(big_pk_auto(ContactPerson::Id))
                    .col(big_integer(ContactPerson::PlatformId))
                    .col(string(ContactPerson::Sub))
                    .col(string(ContactPerson::Organisation))
                    .col(big_integer(ContactPerson::GrantedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContactPerson::Table, ContactPerson::PlatformId)
                            .to(Platform::Table, Platform::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("contact_person_person_organisation")
                    .table(ContactPerson::Table)
                    .col(ContactPerson::PlatformId)
                    .col(ContactPerson::Sub)
                    .col(ContactPerson::Organisation)
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

//! Groups that instructors make inside an LMS course, and who is in them. Everyone not placed in a
//! group belongs to the municipality's group (the deployment's organisation).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Context {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum LtiUser {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum LearnerGroup {
    Table,
    Id,
    ContextId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GroupMember {
    Table,
    Id,
    ContextId,
    GroupId,
    UserId,
    MovedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LearnerGroup::Table)
                    .col(big_pk_auto(LearnerGroup::Id))
                    .col(big_integer(LearnerGroup::ContextId))
                    .col(string(LearnerGroup::Name))
                    .col(big_integer(LearnerGroup::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LearnerGroup::Table, LearnerGroup::ContextId)
                            .to(Context::Table, Context::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMember::Table)
                    .col(big_pk_auto(GroupMember::Id))
                    .col(big_integer(GroupMember::ContextId))
                    .col(big_integer(GroupMember::GroupId))
                    .col(big_integer(GroupMember::UserId))
                    .col(big_integer(GroupMember::MovedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMember::Table, GroupMember::GroupId)
                            .to(LearnerGroup::Table, LearnerGroup::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMember::Table, GroupMember::UserId)
                            .to(LtiUser::Table, LtiUser::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("group_member_context_user")
                    .table(GroupMember::Table)
                    .col(GroupMember::ContextId)
                    .col(GroupMember::UserId)
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

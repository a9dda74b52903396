//! Network spaces: places an administrator opens for people in one role across course runs and
//! municipalities ("Kanslichefer i Västerbotten"), with members (invited by an administrator, or
//! granted by their contact person), threads of posts with replies, and attachments. A post keeps
//! who wrote it for erasure and export; moderation columns as on shared answers, and reports go to
//! `content_report` (kind `post`, scope `space:<id>`).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NetworkSpace {
    Table,
    Id,
    Name,
    Description,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SpaceMember {
    Table,
    Id,
    SpaceId,
    UserId,
    Organisation,
    Role,
    Status,
    AddedBy,
    AddedAt,
}

#[derive(DeriveIden)]
enum SpacePost {
    Table,
    Id,
    SpaceId,
    ThreadId,
    Title,
    UserId,
    AuthorName,
    Organisation,
    Body,
    CreatedAt,
    LastActivityAt,
    HiddenAt,
    HiddenBy,
    HiddenReason,
}

#[derive(DeriveIden)]
enum SpaceAttachment {
    Table,
    Id,
    PostId,
    SpaceId,
    UserId,
    FileName,
    ContentType,
    Size,
    Bytes,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NetworkSpace::Table)
                    .col(big_pk_auto(NetworkSpace::Id))
                    .col(string_uniq(NetworkSpace::Name))
                    .col(text(NetworkSpace::Description))
                    .col(string(NetworkSpace::CreatedBy))
                    .col(big_integer(NetworkSpace::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SpaceMember::Table)
                    .col(big_pk_auto(SpaceMember::Id))
                    .col(big_integer(SpaceMember::SpaceId))
                    .col(big_integer(SpaceMember::UserId))
                    .col(string(SpaceMember::Organisation))
                    .col(string(SpaceMember::Role))
                    .col(string(SpaceMember::Status))
                    .col(string(SpaceMember::AddedBy))
                    .col(big_integer(SpaceMember::AddedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("space_member_once")
                    .table(SpaceMember::Table)
                    .col(SpaceMember::SpaceId)
                    .col(SpaceMember::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("space_member_person")
                    .table(SpaceMember::Table)
                    .col(SpaceMember::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SpacePost::Table)
                    .col(big_pk_auto(SpacePost::Id))
                    .col(big_integer(SpacePost::SpaceId))
                    .col(big_integer_null(SpacePost::ThreadId))
                    .col(string_null(SpacePost::Title))
                    .col(big_integer(SpacePost::UserId))
                    .col(string_null(SpacePost::AuthorName))
                    .col(string(SpacePost::Organisation))
                    .col(text(SpacePost::Body))
                    .col(big_integer(SpacePost::CreatedAt))
                    .col(big_integer(SpacePost::LastActivityAt))
                    .col(big_integer_null(SpacePost::HiddenAt))
                    .col(big_integer_null(SpacePost::HiddenBy))
                    .col(text_null(SpacePost::HiddenReason))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("space_post_thread")
                    .table(SpacePost::Table)
                    .col(SpacePost::SpaceId)
                    .col(SpacePost::ThreadId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("space_post_author")
                    .table(SpacePost::Table)
                    .col(SpacePost::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SpaceAttachment::Table)
                    .col(big_pk_auto(SpaceAttachment::Id))
                    .col(big_integer(SpaceAttachment::PostId))
                    .col(big_integer(SpaceAttachment::SpaceId))
                    .col(big_integer(SpaceAttachment::UserId))
                    .col(string(SpaceAttachment::FileName))
                    .col(string(SpaceAttachment::ContentType))
                    .col(big_integer(SpaceAttachment::Size))
                    .col(blob(SpaceAttachment::Bytes))
                    .col(big_integer(SpaceAttachment::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("space_attachment_post")
                    .table(SpaceAttachment::Table)
                    .col(SpaceAttachment::PostId)
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

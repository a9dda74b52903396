//! Course files in chunks: a download reads one chunk at a time, so it holds neither the whole
//! file in memory nor the database for the whole transfer, and a range request reads only the
//! chunks it needs. Files imported before this keep their bytes in `course_file.bytes` (served
//! whole, as before); new imports leave that empty and record the size.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CourseFileChunk {
    Table,
    Id,
    CourseFileId,
    Seq,
    Bytes,
}

#[derive(DeriveIden)]
enum CourseFile {
    Table,
    Size,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CourseFileChunk::Table)
                    .col(big_pk_auto(CourseFileChunk::Id))
                    .col(big_integer(CourseFileChunk::CourseFileId))
                    .col(integer(CourseFileChunk::Seq))
                    .col(blob(CourseFileChunk::Bytes))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("course_file_chunk_file_seq")
                    .table(CourseFileChunk::Table)
                    .col(CourseFileChunk::CourseFileId)
                    .col(CourseFileChunk::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CourseFile::Table)
                    .add_column(big_integer_null(CourseFile::Size))
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

//! A file carried by a course version (downloads, captions, videos).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "course_file")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub course_version_id: i64,
    pub path: String,
    pub content_type: String,
    /// The whole file, for files imported before chunks; empty for newer ones.
    pub bytes: Vec<u8>,
    /// The size in bytes, for files stored in `course_file_chunk`.
    pub size: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A file attached to a post in a network space, in one of the allowed formats.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "space_attachment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    pub space_id: i64,
    pub user_id: i64,
    /// The file's name as uploaded, cleaned to a safe name.
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub bytes: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

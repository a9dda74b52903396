//! A gradebook column of an LMS course the tool posts scores to, found or created once.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "line_item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub context_id: i64,
    /// The tool's name for the column: `course`, `course-pass` or a module slug.
    pub resource_id: String,
    /// The line item URL at the platform.
    pub url: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

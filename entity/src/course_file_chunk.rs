//! One chunk of a course file, in order by `seq`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "course_file_chunk")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub course_file_id: i64,
    pub seq: i32,
    pub bytes: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

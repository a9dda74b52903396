//! Earlier versions of a submission, and texts that lost a simultaneous save (`conflict`), kept so
//! that nothing anyone typed is lost.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "submission_revision")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub submission_id: i64,
    pub version: i64,
    pub answers: String,
    pub status: String,
    pub author_id: i64,
    pub conflict: bool,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

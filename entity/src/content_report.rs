//! A participant's report of a shared answer or a comment, for the course leaders to look at.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "content_report")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `answer` or `comment`.
    pub kind: String,
    /// The shared answer's or the comment's id.
    pub target_id: i64,
    /// The course run (or LMS course) it was reported in.
    pub scope: String,
    pub reported_by: i64,
    /// What the reporter said, possibly nothing.
    pub reason: String,
    /// Unix seconds.
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! One answer to a reflection task: a participant's own (`owner_key` `u:<user>`) or a group's
//! (`g:<group>`), with its status and a version number for conflict-free saving.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "submission")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub context_id: i64,
    pub module_slug: String,
    pub task_slug: String,
    pub owner_key: String,
    /// `draft`, `submitted`, `returned`, `approved`.
    pub status: String,
    /// JSON array of answer texts, one per prompt.
    pub answers: String,
    /// Increases with every save; a save names the version it was based on.
    pub version: i64,
    /// The person who saved last.
    pub updated_by: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
    pub feedback: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A group answer its group shared with the other municipalities of its course run.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shared_answer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The group's answer (its text is read from there).
    pub submission_id: i64,
    /// Who may read it: `cohort:<id>` (the run) or `context:<id>` (an LMS course in no run).
    pub scope: String,
    pub context_id: i64,
    pub module_slug: String,
    pub task_slug: String,
    /// The group's municipality, as the others see it.
    pub organisation: String,
    /// The member who shared it (the group sees who).
    pub shared_by: i64,
    /// The sharer's name, only when they chose to sign.
    pub signed_name: Option<String>,
    /// Unix seconds.
    pub shared_at: i64,
    /// The course leader who pinned it for the next workshop.
    pub pinned_by: Option<i64>,
    pub pinned_at: Option<i64>,
    /// Hidden by a course leader (Unix seconds), who, and why; readers no longer see it.
    pub hidden_at: Option<i64>,
    pub hidden_by: Option<i64>,
    pub hidden_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A participant's short comment on a shared answer.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shared_comment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub shared_answer_id: i64,
    /// Who wrote it (for erasure and export; not shown).
    pub user_id: i64,
    /// The writer's municipality, as the others see it.
    pub organisation: String,
    /// The writer's name, only when they chose to sign.
    pub signed_name: Option<String>,
    pub body: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Hidden by a course leader (Unix seconds), who, and why; readers no longer see it.
    pub hidden_at: Option<i64>,
    pub hidden_by: Option<i64>,
    pub hidden_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

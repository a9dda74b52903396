//! A participant's self-assessment of their own organisation in one round (baseline or final).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "self_assessment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub context_id: i64,
    pub user_id: i64,
    /// `baseline` or `final`.
    pub round: String,
    /// JSON object: sub-area slug → {current, target}.
    pub ratings: String,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

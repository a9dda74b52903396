//! A report of an accessibility problem, sent from the accessibility statement page.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accessibility_feedback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The deployment the sender launched through, when known.
    pub deployment_id: Option<i64>,
    pub lang: String,
    /// Which page the problem is on, in the sender's words.
    pub page: String,
    pub message: String,
    /// How to reach the sender, only if they chose to give it.
    pub contact: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

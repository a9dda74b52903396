//! A person in a network space: invited (until they accept) or a member, as a member or a
//! moderator.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "space_member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub space_id: i64,
    pub user_id: i64,
    /// Their municipality when they were added, as the others see it.
    pub organisation: String,
    /// `member` or `moderator`.
    pub role: String,
    /// `invited` or `member`.
    pub status: String,
    /// Who added them, as the audit log names them.
    pub added_by: String,
    /// Unix seconds.
    pub added_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

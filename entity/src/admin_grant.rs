//! A role granted inside the tool to a person (platform and `sub`): `system` or `organisation`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "admin_grant")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub platform_id: i64,
    pub sub: String,
    /// `system` or `organisation`.
    pub role: String,
    /// The organisation's name; `*` for a system administrator.
    pub organisation: String,
    pub granted_at: i64,
    /// Who granted it (`cli` or an audit actor).
    pub granted_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! One administrative action: who, what, when, from where. Never holds personal content.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at_ms: i64,
    /// `cli:<account>` (or `cli`), `token:<id>`, `person:<platform>:<user id>` or `retention`.
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The organisation the action concerns, when one does.
    pub organisation: Option<String>,
    /// The client address, or `cli` / `worker`.
    pub origin: String,
    /// JSON with the action's parameters.
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

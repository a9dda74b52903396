//! A municipality or region: the data controller of its people's records. Deployments and contact
//! persons name it; its webhook and retention rule live here.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    /// Where completion changes are pushed, when set.
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 key the webhook's receiver checks signatures with.
    pub webhook_secret: Option<String>,
    /// Months after a cohort closes before its people's data is anonymised or deleted.
    pub retention_months: Option<i32>,
    /// `anonymise` or `delete`.
    pub retention_action: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! An OpenID Connect provider people sign in through without an LMS (Microsoft Entra ID, …).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_provider")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The name in `/signin/<name>`: lower-case letters, digits and dashes.
    #[sea_orm(unique)]
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The organisation its people belong to, when it is one organisation's.
    pub organisation: Option<String>,
    /// Tenants (`tid`) whose people may sign in, space separated; empty: any.
    pub allowed_tenants: String,
    /// Email domains whose people may sign in, space separated; empty: any.
    pub allowed_domains: String,
    /// The platform row (kind `signin`) its people belong to.
    pub platform_id: i64,
    /// The deployment row their sessions name.
    pub deployment_id: i64,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A platform registration: one (issuer, client_id) pair with the platform's endpoints.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "platform")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub issuer: String,
    pub client_id: String,
    pub name: String,
    pub auth_login_url: String,
    pub auth_token_url: String,
    pub jwks_url: String,
    /// The `aud` for client assertions when the platform wants something other than the token URL
    /// (Brightspace).
    pub token_audience: Option<String>,
    /// Deployments seen for the first time are approved at once instead of waiting for an administrator.
    pub auto_approve_deployments: bool,
    pub created_at: i64,
    /// The organisation that owns deployments seen later (set by a registration invitation).
    pub organisation: Option<String>,
    /// The web origin the platform frames the tool from, when it is neither the issuer's nor the
    /// login URL's (recorded from a dynamic registration's configuration URL).
    pub frame_origin: Option<String>,
    /// `lti` for a learning platform; `signin` for an OpenID Connect provider people sign in
    /// through (never accepted for an LTI launch).
    pub kind: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

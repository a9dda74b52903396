//! One OIDC login in flight: the `state` and `nonce` handed to the platform, bound to the browser
//! that started it. Single use: `consumed_at` is set exactly once.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "launch_state")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub state: String,
    #[sea_orm(unique)]
    pub nonce: String,
    /// SHA-256 (hex) of the secret held by the browser (in a cookie, or in platform storage).
    pub browser_binding: String,
    pub platform_id: i64,
    pub target_link_uri: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    /// The platform's `lti_storage_target`, when it offered platform storage at login.
    pub storage_target: Option<String>,
    /// The login initiation's parameters (query string), to start the launch again first-party.
    pub login_query: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

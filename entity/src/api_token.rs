//! A machine's API token. Only the SHA-256 of the token is kept; the token is shown once.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The first characters of the token, so people can tell tokens apart.
    pub prefix: String,
    pub label: String,
    /// `completions:read` or `admin`.
    pub scope: String,
    /// The organisation the token is limited to; none for a system token.
    pub organisation: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

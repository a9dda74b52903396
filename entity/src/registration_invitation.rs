//! A one-time link with which a platform administrator registers the tool by Dynamic
//! Registration. Only the SHA-256 of the link's token is kept.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registration_invitation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The organisation that owns the deployments of the registration made with it.
    pub organisation: String,
    /// Deployments seen later for that registration are approved at once.
    pub auto_approve_deployments: bool,
    /// The audit log's name of whoever made it.
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// The registration made with it.
    pub platform_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

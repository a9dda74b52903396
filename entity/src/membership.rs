//! A person's place in a context: the roles the platform sent and the role the tool derived.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "membership")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub context_id: i64,
    pub user_id: i64,
    /// The role URIs as sent, space separated.
    pub lti_roles: String,
    /// `participant` or `instructor`.
    pub role: String,
    pub updated_at: i64,
    /// When the person last opened the course here (launch or sign-in); `None` for someone only
    /// the roster lists.
    pub opened_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A person as one platform knows them (`sub`). Name and email only when the platform sends them
//! (email only when the operator enables storing it).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lti_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub platform_id: i64,
    pub sub: String,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Sessions of this person that began before this are no longer accepted.
    pub sessions_revoked_at: Option<i64>,
    /// For a person who signs in without an LMS: the LMS person an administrator linked them to,
    /// whom they sign in as.
    pub linked_to: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

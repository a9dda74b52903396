//! The organisation (municipality) a person belongs to, when it is not simply their deployment's,
//! and where that came from: a placement by an administrator or contact person (which wins), the
//! LMS's custom parameter, or the person's own choice.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person_organisation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The person (`lti_user` row).
    #[sea_orm(unique)]
    pub user_id: i64,
    pub organisation: String,
    /// `placement`, `lms` or `choice`.
    pub source: String,
    /// Who placed the person, for a placement.
    pub set_by: Option<String>,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

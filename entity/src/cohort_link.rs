//! An LMS course linked to a cohort by an administrator, by its registration and LTI context id,
//! so that it joins the cohort at its first launch.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cohort_link")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cohort_id: i64,
    pub platform_id: i64,
    pub lti_context_id: String,
    pub linked_by: String,
    pub linked_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A cohort: one run of a course for a region, which LMS courses of many platforms join.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cohort")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// What an instructor enters, or an LTI link carries (`cohort=<code>`), to link an LMS course.
    #[sea_orm(unique)]
    pub code: String,
    /// The course version row every linked LMS course runs.
    pub course_version_id: i64,
    /// First and last day, `YYYY-MM-DD`.
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// Who made it, as the audit log names them.
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

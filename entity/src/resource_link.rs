//! A placement of the tool inside an LMS course (LTI resource link).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resource_link")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub deployment_id: i64,
    pub context_id: Option<i64>,
    pub lti_resource_link_id: String,
    pub title: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The AGS `lineitem` of this link, when the platform made one for it.
    pub ags_lineitem_url: Option<String>,
    /// The module the link opens (custom parameter `module`).
    pub module_slug: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

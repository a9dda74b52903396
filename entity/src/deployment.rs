//! A deployment of the tool inside a platform (`deployment_id` claim); the tenant key of a customer.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deployment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub platform_id: i64,
    pub lti_deployment_id: String,
    pub organisation: Option<String>,
    /// `pending` (seen in a launch, waiting for an administrator) or `approved`.
    pub status: String,
    pub created_at: i64,
    pub approved_at: Option<i64>,
    /// UI language when a launch names none (`sv` or `en`).
    pub default_locale: Option<String>,
    /// How completion reaches the gradebook: `course_fraction`, `course_pass` or `per_module`.
    pub grade_mode: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

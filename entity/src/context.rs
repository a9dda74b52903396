//! An LMS course (LTI context) inside one deployment.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "context")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub deployment_id: i64,
    pub lti_context_id: String,
    pub label: Option<String>,
    pub title: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The NRPS membership URL the latest launch carried.
    pub memberships_url: Option<String>,
    /// When the roster was last read from the platform.
    pub roster_synced_at: Option<i64>,
    /// The AGS `lineitems` URL the latest launch carried.
    pub ags_lineitems_url: Option<String>,
    /// The AGS scopes the latest launch granted, space separated.
    pub ags_scopes: Option<String>,
    /// When the cohort (this LMS course) closed; retention counts from here.
    pub closed_at: Option<i64>,
    /// When the organisation's retention rule was applied to the cohort's people.
    pub retained_at: Option<i64>,
    /// The cohort (course run) this LMS course is part of; none: it is a cohort of its own.
    pub cohort_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A participant's completion in one LMS course (cohort), kept up to date in the transaction of
//! every change that moves it. `sequence` grows in commit order, which makes incremental sync exact.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "completion_record")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub context_id: i64,
    pub user_id: i64,
    /// The organisation of the context's deployment when the record last changed.
    pub organisation: Option<String>,
    pub sequence: i64,
    pub updated_at_ms: i64,
    /// JSON: course version, module completion dates, self-assessments, course completion.
    pub record: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! An invitation to a cohort for one organisation: a link a person without an LMS (or a course
//! leader) signs in through, usable a limited number of times until it expires. Kept as a hash.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cohort_invitation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cohort_id: i64,
    pub organisation: String,
    /// `participant` or `leader`.
    pub role: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub max_uses: i32,
    pub uses: i32,
    pub expires_at: i64,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! One score waiting to reach (or having reached) an LMS gradebook. Written in the same transaction
//! as the progress change that moved it; posted by the grade worker.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "score_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub context_id: i64,
    /// The participant (`lti_user.id`).
    pub user_id: i64,
    /// Which line item: `course`, `course-pass` or a module slug.
    pub resource_id: String,
    /// The line item's label, should it have to be created.
    pub label: String,
    /// The line item's `scoreMaximum`, should it have to be created.
    pub score_maximum: f64,
    /// The AGS score JSON without its timestamp.
    pub score: String,
    /// When the change happened, Unix milliseconds (the score's `timestamp`).
    pub scored_at_ms: i64,
    /// `pending`, `sent`, `not_gradable` or `superseded`.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at_ms: i64,
    /// The worker holding the row, until `claimed_until_ms`.
    pub claimed_by: Option<String>,
    pub claimed_until_ms: Option<i64>,
    /// The platform's last answer when it was not a success.
    pub last_error: Option<String>,
    pub sent_at_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

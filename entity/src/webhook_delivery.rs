//! A completion event waiting for, or delivered to, an organisation's webhook.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation: String,
    /// The person the event is about (for erasure).
    pub user_id: i64,
    /// The JSON body, exactly as it is signed and sent.
    pub event: String,
    /// `pending`, `claimed`, `sent`, `failed` or `superseded`.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at_ms: i64,
    pub claimed_by: Option<String>,
    pub claimed_until_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub sent_at_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

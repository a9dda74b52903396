//! A mail waiting for, or handed to, the mail server.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What the mail is about, once: `feedback:<submission>:<event>`, `reminder:<context>:…`.
    pub dedupe_key: String,
    /// The person it goes to (for opt-out and erasure).
    pub user_id: i64,
    pub recipient: String,
    pub subject: String,
    /// The text, without the opt-out footer (added when it is sent).
    pub body: String,
    /// `pending`, `sent`, `failed` or `opted_out`.
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

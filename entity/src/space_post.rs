//! A post in a network space: a thread's opening post (`thread_id` none, with a title) or a reply
//! in a thread.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "space_post")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub space_id: i64,
    /// The opening post of the thread this replies in; none for an opening post.
    pub thread_id: Option<i64>,
    /// The thread's title (opening posts).
    pub title: Option<String>,
    /// Who wrote it; 0 once they were erased.
    pub user_id: i64,
    /// Their name as the members see it (none once erased).
    pub author_name: Option<String>,
    /// Their municipality.
    pub organisation: String,
    pub body: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The newest reply's time (opening posts; threads are listed by it).
    pub last_activity_at: i64,
    /// Hidden by a moderator (Unix seconds), who, and why.
    pub hidden_at: Option<i64>,
    pub hidden_by: Option<i64>,
    pub hidden_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

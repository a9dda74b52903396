//! Login states: created by the login initiation, consumed exactly once by the launch.
use entity::launch_state;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::Expr,
};

/// A new login state.
#[derive(Debug, Clone)]
pub struct NewLaunchState {
    /// The `state` parameter.
    pub state: String,
    /// The `nonce` parameter.
    pub nonce: String,
    /// SHA-256 hex of the browser's binding secret.
    pub browser_binding: String,
    /// The registration the login is for.
    pub platform_id: i64,
    /// The login's target link URI.
    pub target_link_uri: String,
    /// Now.
    pub created_at: i64,
    /// When the state stops being accepted.
    pub expires_at: i64,
    /// The platform's storage target, when it offered platform storage.
    pub storage_target: Option<String>,
    /// The login initiation's parameters, as a query string.
    pub login_query: Option<String>,
}

/// Stores a login state.
pub async fn insert(db: &impl ConnectionTrait, new: NewLaunchState) -> Result<(), DbErr> {
    launch_state::Entity::insert(launch_state::ActiveModel {
        state: Set(new.state),
        nonce: Set(new.nonce),
        browser_binding: Set(new.browser_binding),
        platform_id: Set(new.platform_id),
        target_link_uri: Set(new.target_link_uri),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
        consumed_at: Set(None),
        storage_target: Set(new.storage_target),
        login_query: Set(new.login_query),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// The state row, consumed or not.
pub async fn find(
    db: &impl ConnectionTrait,
    state: &str,
) -> Result<Option<launch_state::Model>, DbErr> {
    launch_state::Entity::find()
        .filter(launch_state::Column::State.eq(state))
        .one(db)
        .await
}

/// Whether a state with this nonce was already consumed (a replayed id_token).
pub async fn nonce_consumed(db: &impl ConnectionTrait, nonce: &str) -> Result<bool, DbErr> {
    Ok(launch_state::Entity::find()
        .filter(launch_state::Column::Nonce.eq(nonce))
        .filter(launch_state::Column::ConsumedAt.is_not_null())
        .one(db)
        .await?
        .is_some())
}

/// Marks the state used when it is unexpired, unused and bound to `browser_binding`, and returns it.
/// One statement, so exactly one caller across every instance sharing the database gets the row;
/// `None` for everyone else (the caller then asks [`find`] why).
pub async fn consume(
    db: &impl ConnectionTrait,
    state: &str,
    browser_binding: &str,
    now: i64,
) -> Result<Option<launch_state::Model>, DbErr> {
    let mut consumed = launch_state::Entity::update_many()
        .col_expr(launch_state::Column::ConsumedAt, Expr::value(now))
        .filter(launch_state::Column::State.eq(state))
        .filter(launch_state::Column::BrowserBinding.eq(browser_binding))
        .filter(launch_state::Column::ConsumedAt.is_null())
        .filter(launch_state::Column::ExpiresAt.gt(now))
        .exec_with_returning(db)
        .await?;
    Ok(consumed.pop())
}

/// Deletes states that expired before `cutoff`. Consumed rows are kept until then so that a
/// replayed token is recognised as such for as long as it could be valid.
pub async fn purge_expired(db: &impl ConnectionTrait, cutoff: i64) -> Result<u64, DbErr> {
    Ok(launch_state::Entity::delete_many()
        .filter(launch_state::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

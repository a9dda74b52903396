//! API tokens for machines: random, shown once, stored as a SHA-256 hash, limited in scope,
//! organisation and time, revocable.
use sea_orm::{ConnectionTrait, DbErr};

use super::{
    access::{Principal, Scope},
    directory::AdminError,
};
use crate::store::{self, admin::NewToken};

/// Every token starts with this, so secret scanners and people can recognise one.
pub const TOKEN_PREFIX: &str = "cbt_";

/// Why a presented token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    /// No `Authorization: Bearer` header.
    #[error("no API token was sent; send it as 'Authorization: Bearer <token>'")]
    Missing,
    /// Not a token this service issues, or not one it knows.
    #[error("the API token is not valid")]
    Unknown,
    /// Past its expiry.
    #[error("the API token has expired; create a new one")]
    Expired,
    /// Revoked by an administrator.
    #[error("the API token has been revoked")]
    Revoked,
}

/// SHA-256 of a token, hex.
pub fn hash(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A token just created: the secret (shown once) and its row.
pub struct CreatedToken {
    /// The token itself. Not stored anywhere.
    pub secret: String,
    /// Its row.
    pub row: entity::api_token::Model,
}

/// Creates a token.
pub async fn create(
    db: &impl ConnectionTrait,
    scope: Scope,
    organisation: Option<&str>,
    label: &str,
    expires_at: i64,
    now: i64,
) -> Result<CreatedToken, DbErr> {
    let secret = format!("{TOKEN_PREFIX}{}", crate::lti::random_token(30));
    let row = store::admin::insert_token(
        db,
        NewToken {
            token_hash: &hash(&secret),
            prefix: &secret[..TOKEN_PREFIX.len() + 6],
            label,
            scope: scope.as_str(),
            organisation,
            created_at: now,
            expires_at,
        },
    )
    .await?;
    Ok(CreatedToken { secret, row })
}

/// Issues a token for machines (system administrators), with its audit entry; the organisation, if
/// any, must exist.
pub async fn issue(
    db: &sea_orm::DatabaseConnection,
    principal: &Principal,
    scope: Scope,
    organisation: Option<&str>,
    label: &str,
    expires_at: i64,
) -> Result<CreatedToken, AdminError> {
    principal.require_system()?;
    if label.chars().count() > 200 {
        return Err(AdminError::Invalid(
            "the label is longer than 200 characters".into(),
        ));
    }
    if let Some(organisation) = organisation
        && store::organisations::find(db, organisation)
            .await?
            .is_none()
    {
        return Err(AdminError::NotFound("organisation"));
    }
    let txn = store::begin_write(db).await?;
    let created = create(
        &txn,
        scope,
        organisation,
        label,
        expires_at,
        principal.now_unix(),
    )
    .await?;
    principal
        .audit(
            &txn,
            "token.create",
            &format!("token:{}", created.row.id),
            organisation,
            serde_json::json!({ "scope": scope.as_str(), "expires_at": expires_at }),
        )
        .await?;
    txn.commit().await?;
    Ok(created)
}

/// Every token, newest first, without secrets (system administrators).
pub async fn list(
    db: &sea_orm::DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<entity::api_token::Model>, AdminError> {
    principal.require_system()?;
    Ok(store::admin::tokens(db).await?)
}

/// Revokes a live token (system administrators).
pub async fn revoke(
    db: &sea_orm::DatabaseConnection,
    principal: &Principal,
    id: i64,
) -> Result<(), AdminError> {
    principal.require_system()?;
    let txn = store::begin_write(db).await?;
    if !store::admin::revoke_token(&txn, id, principal.now_unix()).await? {
        return Err(AdminError::NotFound("active token"));
    }
    principal
        .audit(
            &txn,
            "token.revoke",
            &format!("token:{id}"),
            None,
            serde_json::json!({}),
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The principal a presented token stands for.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    presented: Option<&str>,
    origin: &str,
    clock: &crate::lti::clock::Clock,
) -> Result<Result<Principal, TokenRefused>, DbErr> {
    let now = clock.now_unix();
    let Some(presented) = presented else {
        return Ok(Err(TokenRefused::Missing));
    };
    if !presented.starts_with(TOKEN_PREFIX) || presented.len() > 200 {
        return Ok(Err(TokenRefused::Unknown));
    }
    let Some(row) = store::admin::token_by_hash(db, &hash(presented)).await? else {
        return Ok(Err(TokenRefused::Unknown));
    };
    if row.revoked_at.is_some() {
        return Ok(Err(TokenRefused::Revoked));
    }
    if row.expires_at <= now {
        return Ok(Err(TokenRefused::Expired));
    }
    let Some(scope) = Scope::parse(&row.scope) else {
        return Ok(Err(TokenRefused::Unknown));
    };
    store::admin::touch_token(db, row.id, now).await?;
    Ok(Ok(Principal {
        actor: format!("token:{}", row.id),
        origin: origin.to_owned(),
        scope,
        organisation: row.organisation,
        clock: clock.clone(),
    }))
}

/// Parses an expiry: a number of days (`90d`), hours (`12h`) or a date (`2027-06-30`, end of day
/// UTC). Returns Unix seconds.
pub fn parse_expiry(value: &str, now: i64) -> Option<i64> {
    let value = value.trim();
    if let Some(days) = value.strip_suffix('d') {
        let days: i64 = days.parse().ok().filter(|d| (1..=3650).contains(d))?;
        return Some(now + days * 86_400);
    }
    if let Some(hours) = value.strip_suffix('h') {
        let hours: i64 = hours.parse().ok().filter(|h| (1..=87_600).contains(h))?;
        return Some(now + hours * 3_600);
    }
    let day = crate::i18n::time::parse_rfc3339(&format!("{value}T23:59:59Z"))?;
    (day > now).then_some(day)
}

//! The tool's own keys as the rest of the service uses them: the key it signs with now (client
//! assertions for platform services, deep-linking responses), and the key set it publishes.
use sea_orm::DatabaseConnection;

use crate::{lti::keys::SigningKey, store};

/// The tool's public keys as a JWK set, every key still published at `now`: platforms fetch it to
/// check what the tool signs (deep-linking responses, client assertions).
pub async fn published_jwks(
    db: &DatabaseConnection,
    now: i64,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut jwks = Vec::new();
    for key in store::tool_key::published(db, now).await? {
        let signing = SigningKey::from_pem(&key.kid, &key.private_key_pem)?;
        jwks.push(serde_json::to_value(signing.public_jwk()?)?);
    }
    Ok(jwks)
}

/// Why there is no key to sign with.
#[derive(Debug, thiserror::Error)]
pub enum NoSigningKey {
    /// The database could not be read.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// No key is stored (the service creates one on start).
    #[error("the tool has no signing key")]
    Missing,
    /// The stored key cannot be read.
    #[error(transparent)]
    Unusable(#[from] crate::lti::keys::KeyError),
}

/// The key the tool signs with now.
pub async fn signing_key(db: &DatabaseConnection) -> Result<SigningKey, NoSigningKey> {
    let stored = store::tool_key::current(db)
        .await?
        .ok_or(NoSigningKey::Missing)?;
    Ok(SigningKey::from_pem(&stored.kid, &stored.private_key_pem)?)
}

//! Platform registrations and approved deployments, read through a short-lived in-process cache.
//!
//! Every launch needs them and they change rarely, so each instance keeps what it read for a few
//! seconds instead of asking the database on every login and launch. Only positive answers are
//! cached: a platform or deployment registered or approved a moment ago is seen at once, and a
//! change to an existing one is seen within [`TTL`] on every instance.
use std::{collections::HashMap, hash::Hash, sync::Mutex, time::Duration};

use entity::{deployment, platform};
use sea_orm::{ConnectionTrait, DbErr};

use crate::{lti::clock::Clock, store};

/// How long a cached registration or deployment is used.
pub const TTL: Duration = Duration::from_secs(30);

/// A small map whose entries expire, by the application's clock (so a test moves time past a TTL
/// instead of waiting it out).
pub struct TtlCache<K, V> {
    ttl_ms: i64,
    capacity: usize,
    clock: Clock,
    /// Each value with when it was stored (Unix ms).
    entries: Mutex<HashMap<K, (i64, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// A cache keeping entries for `ttl` of `clock`'s time, holding at most `capacity` of them.
    pub fn new(ttl: Duration, capacity: usize, clock: &Clock) -> Self {
        Self {
            ttl_ms: ttl.as_millis() as i64,
            capacity,
            clock: clock.clone(),
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (i64, V)>> {
        crate::sync::lock(&self.entries)
    }

    /// The value for `key` when it is younger than the TTL.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.lock();
        let (at, value) = entries.get(key)?;
        (self.clock.now_ms() - at < self.ttl_ms).then(|| value.clone())
    }

    /// Drops the entry for `key`.
    pub fn remove(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Stores `value`; when full, expired entries go first, then everything.
    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.lock();
        let now = self.clock.now_ms();
        if entries.len() >= self.capacity {
            let ttl_ms = self.ttl_ms;
            entries.retain(|_, (at, _)| now - *at < ttl_ms);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (now, value));
    }
}

/// Registrations and approved deployments.
pub struct Registry {
    by_issuer_client: TtlCache<(String, String), platform::Model>,
    by_id: TtlCache<i64, platform::Model>,
    approved: TtlCache<(i64, String), deployment::Model>,
}

impl Registry {
    /// An empty registry cache on `clock`, trusting what it read for [`TTL`].
    pub fn new(clock: &Clock) -> Self {
        Self::with_ttl(TTL, clock)
    }

    /// An empty registry cache that trusts what it read for `ttl` (`cache_ttl_seconds`).
    pub fn with_ttl(ttl: Duration, clock: &Clock) -> Self {
        Self {
            by_issuer_client: TtlCache::new(ttl, 10_000, clock),
            by_id: TtlCache::new(ttl, 10_000, clock),
            approved: TtlCache::new(ttl, 100_000, clock),
        }
    }
}

impl Registry {
    fn remember(&self, platform: &platform::Model) {
        self.by_id.insert(platform.id, platform.clone());
        self.by_issuer_client.insert(
            (platform.issuer.clone(), platform.client_id.clone()),
            platform.clone(),
        );
    }

    /// The registration for (issuer, client_id).
    pub async fn platform(
        &self,
        db: &impl ConnectionTrait,
        issuer: &str,
        client_id: &str,
    ) -> Result<Option<platform::Model>, DbErr> {
        let key = (issuer.to_owned(), client_id.to_owned());
        if let Some(found) = self.by_issuer_client.get(&key) {
            return Ok(Some(found));
        }
        // A sign-in provider's row names people, never an LMS that launches.
        let found = store::platform::find(db, issuer, client_id)
            .await?
            .filter(|platform| platform.kind == store::platform::KIND_LTI);
        if let Some(platform) = &found {
            self.remember(platform);
        }
        Ok(found)
    }

    /// The registration with row id `id`.
    pub async fn platform_by_id(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
    ) -> Result<Option<platform::Model>, DbErr> {
        if let Some(found) = self.by_id.get(&id) {
            return Ok(Some(found));
        }
        let found = store::platform::get(db, id).await?;
        if let Some(platform) = &found {
            self.remember(platform);
        }
        Ok(found)
    }

    /// Forgets a cached deployment after an administrator changed it (other instances see the
    /// change within [`TTL`]).
    pub fn forget_deployment(&self, platform_id: i64, lti_deployment_id: &str) {
        self.approved
            .remove(&(platform_id, lti_deployment_id.to_owned()));
    }

    /// The deployment when it exists (approved ones are cached; pending ones are always re-read, so
    /// an approval takes effect at once).
    pub async fn approved_deployment(
        &self,
        db: &impl ConnectionTrait,
        platform_id: i64,
        lti_deployment_id: &str,
    ) -> Result<Option<deployment::Model>, DbErr> {
        let key = (platform_id, lti_deployment_id.to_owned());
        if let Some(found) = self.approved.get(&key) {
            return Ok(Some(found));
        }
        let found = store::deployment::find(db, platform_id, lti_deployment_id).await?;
        if let Some(deployment) = &found
            && deployment.status == store::deployment::APPROVED
        {
            self.approved.insert(key, deployment.clone());
        }
        Ok(found)
    }
}

/// How a registration's platform is asked for access tokens.
pub fn token_endpoint(platform: &platform::Model) -> crate::lti::token::TokenEndpoint<'_> {
    crate::lti::token::TokenEndpoint {
        registration: platform.id,
        url: &platform.auth_token_url,
        audience: platform
            .token_audience
            .as_deref()
            .unwrap_or(&platform.auth_token_url),
        client_id: &platform.client_id,
    }
}

/// Who may frame the tool and receive its forms: the registered platforms' web origins (their
/// issuers, login URLs, and the hosts dynamic registrations came from) and the operator's
/// `extra` ones, sorted and without repeats. Cached for [`TTL`]; this instance's own registrations
/// forget the cache at once.
pub async fn framing_origins(
    db: &impl sea_orm::ConnectionTrait,
    cache: &TtlCache<(), std::sync::Arc<Vec<String>>>,
    extra: &[String],
) -> Result<std::sync::Arc<Vec<String>>, DbErr> {
    if let Some(found) = cache.get(&()) {
        return Ok(found);
    }
    let mut origins: std::collections::BTreeSet<String> = extra.iter().cloned().collect();
    for platform in crate::store::platform::list(db).await? {
        origins.extend(
            [
                Some(&platform.issuer),
                Some(&platform.auth_login_url),
                platform.frame_origin.as_ref(),
            ]
            .into_iter()
            .flatten()
            .filter_map(|url| crate::lti::web_origin(url)),
        );
    }
    let origins = std::sync::Arc::new(origins.into_iter().collect::<Vec<_>>());
    cache.insert((), origins.clone());
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_capacity_is_bounded() {
        let clock = Clock::default();
        let cache = TtlCache::new(Duration::from_millis(30), 2, &clock);
        cache.insert(1, "a");
        assert_eq!(cache.get(&1), Some("a"));
        clock.advance(Duration::from_millis(40));
        assert_eq!(cache.get(&1), None);
        cache.insert(2, "b");
        cache.insert(3, "c");
        cache.insert(4, "d");
        assert_eq!(cache.get(&4), Some("d"));
        assert!(cache.lock().len() <= 2);
    }
}

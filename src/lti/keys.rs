//! Keys (Security Framework §6): the tool's own RSA signing keys and the platforms' key sets.
//!
//! The tool's private keys live in the database (so every instance signs with the same key); this
//! module only creates them and turns them into signing keys and public JWKs. Platform key sets are
//! fetched over HTTPS and cached per platform: a bounded TTL, one refetch per interval when a token
//! names an unknown `kid` (the platform rotated its key), and the cached keys kept when a fetch fails.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use aws_lc_rs::encoding::AsDer;
use base64::Engine;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey,
    jwk::{Jwk, JwkSet, PublicKeyUse},
};

/// A key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// RSA key generation failed in the crypto library.
    #[error("RSA key generation failed")]
    Generate,
    /// A stored private key could not be read.
    #[error("a stored private key could not be read: {0}")]
    Read(jsonwebtoken::errors::Error),
}

/// Creates a 2048-bit RSA private key as PKCS#8 PEM.
pub fn generate_private_key_pem() -> Result<String, KeyError> {
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|_| KeyError::Generate)?;
    let der = pair.as_der().map_err(|_| KeyError::Generate)?;
    Ok(pem_encode("PRIVATE KEY", der.as_ref()))
}

/// Wraps DER bytes in PEM armour (RFC 7468), 64 characters a line.
fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// A fresh key id: random, so that a rotated key can never be confused with an earlier one.
pub fn new_kid() -> String {
    super::random_token(12)
}

/// A private key ready to sign RS256 tokens, with the `kid` that goes in their header.
#[derive(Clone)]
pub struct SigningKey {
    /// Key id published in the JWKS.
    pub kid: String,
    /// The key, for the JWK of its public half and for tokens signed other than by `sign`.
    pub key: EncodingKey,
    /// The same key, parsed and checked once: jsonwebtoken parses its DER again for every
    /// signature, which costs more than the signature itself (docs/DECISIONS.md).
    pair: Arc<aws_lc_rs::signature::RsaKeyPair>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PKCS#8 (or PKCS#1) PEM private key.
    pub fn from_pem(kid: &str, pem: &str) -> Result<Self, KeyError> {
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(KeyError::Read)?;
        let pair = aws_lc_rs::signature::RsaKeyPair::from_der(key.as_bytes()).map_err(|err| {
            KeyError::Read(jsonwebtoken::errors::ErrorKind::InvalidRsaKey(err.to_string()).into())
        })?;
        Ok(Self {
            kid: kid.to_owned(),
            key,
            pair: Arc::new(pair),
        })
    }

    /// The same private key under another `kid`, sharing the parsed key pair.
    pub fn with_kid(&self, kid: &str) -> Self {
        Self {
            kid: kid.to_owned(),
            key: self.key.clone(),
            pair: self.pair.clone(),
        }
    }

    /// The public half as a JWK with `kid`, `alg` RS256 and `use` sig.
    pub fn public_jwk(&self) -> Result<Jwk, KeyError> {
        let mut jwk =
            Jwk::from_encoding_key(&self.key, Algorithm::RS256).map_err(KeyError::Read)?;
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(jwk)
    }

    /// Signs `claims` as an RS256 JWT with this key's `kid`: the compact form jsonwebtoken's
    /// `encode` writes, signed with the kept key pair.
    pub fn sign<T: serde::Serialize>(
        &self,
        claims: &T,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut token = b64.encode(serde_json::to_vec(&header)?);
        token.push('.');
        b64.encode_string(serde_json::to_vec(claims)?, &mut token);
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|_| jsonwebtoken::errors::ErrorKind::RsaFailedSigning)?;
        token.push('.');
        b64.encode_string(&signature, &mut token);
        Ok(token)
    }
}

/// Why a platform key could not be found.
#[derive(Debug, thiserror::Error)]
pub enum PlatformKeyError {
    /// The key set was never fetched successfully.
    #[error("the platform's key set could not be fetched: {0}")]
    Unavailable(String),
    /// The key set has no key with this `kid`, even after a refetch (or a refetch was not allowed yet).
    #[error("the platform's key set has no key with kid {0:?}")]
    UnknownKid(String),
    /// The key exists but is not an RSA signing key usable for RS256.
    #[error("the platform's key {0:?} is not an RSA signature key")]
    Unusable(String),
}

/// The metric that counts fetches of platforms' key sets, by outcome (`ok`, `failed`).
pub const JWKS_FETCHES: &str = "coursebridge_platform_jwks_fetches_total";

/// Tuning of the platform key-set cache.
#[derive(Clone, Copy, Debug)]
pub struct PlatformKeyPolicy {
    /// Longest time a fetched key set is used before it is fetched again.
    pub ttl: Duration,
    /// Least time between two fetches triggered by an unknown `kid`.
    pub refetch_interval: Duration,
}

#[derive(Default)]
struct CachedKeySet {
    keys: HashMap<String, DecodingKey>,
    /// Unix milliseconds on the application's clock.
    fetched_at: Option<i64>,
    last_attempt: Option<i64>,
}

/// Platform key sets, cached per JWKS URL. Cheap to clone; shared by all requests of a process.
#[derive(Clone)]
pub struct PlatformKeyCache {
    http: crate::outbound::Outbound,
    clock: super::clock::Clock,
    policy: PlatformKeyPolicy,
    entries: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<CachedKeySet>>>>>,
}

impl PlatformKeyCache {
    /// A cache that fetches with `http` (which carries the User-Agent and timeouts).
    pub fn new(
        http: crate::outbound::Outbound,
        clock: super::clock::Clock,
        policy: PlatformKeyPolicy,
    ) -> Self {
        Self {
            http,
            clock,
            policy,
            entries: Arc::default(),
        }
    }

    fn entry(&self, jwks_url: &str) -> Arc<tokio::sync::Mutex<CachedKeySet>> {
        let mut entries = crate::sync::lock(&self.entries);
        entries.entry(jwks_url.to_owned()).or_default().clone()
    }

    /// The platform key for `kid`. Fetches when the set is missing or older than the TTL, and
    /// once per refetch interval when `kid` is unknown.
    pub async fn key(&self, jwks_url: &str, kid: &str) -> Result<DecodingKey, PlatformKeyError> {
        let entry = self.entry(jwks_url);
        // One fetch at a time per platform: concurrent launches wait for it instead of piling up.
        let mut cached = entry.lock().await;
        let now = self.clock.now_ms();
        let older_than = |at: i64, age: std::time::Duration| now - at >= age.as_millis() as i64;
        let stale = cached
            .fetched_at
            .is_none_or(|at| older_than(at, self.policy.ttl));
        let unknown = !cached.keys.contains_key(kid);
        let may_refetch = cached
            .last_attempt
            .is_none_or(|at| older_than(at, self.policy.refetch_interval));
        if stale || (unknown && may_refetch) {
            cached.last_attempt = Some(now);
            let fetched = self.fetch(jwks_url).await;
            let outcome = if fetched.is_ok() { "ok" } else { "failed" };
            metrics::counter!(JWKS_FETCHES, "outcome" => outcome).increment(1);
            match fetched {
                Ok(keys) => {
                    cached.keys = keys;
                    cached.fetched_at = Some(now);
                }
                Err(problem) if cached.keys.is_empty() => {
                    return Err(PlatformKeyError::Unavailable(problem));
                }
                Err(problem) => {
                    tracing::warn!(jwks_url, %problem, "platform key set refetch failed; keeping the cached keys");
                }
            }
        }
        cached
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| PlatformKeyError::UnknownKid(kid.to_owned()))
    }

    async fn fetch(&self, jwks_url: &str) -> Result<HashMap<String, DecodingKey>, String> {
        let response = self
            .http
            .get("jwks_url", jwks_url)
            .map_err(|err| err.to_string())?
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| err.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let body = crate::outbound::read_limited(response, crate::outbound::MAX_ANSWER_BYTES)
            .await
            .map_err(|err| err.to_string())?;
        let set: JwkSet = serde_json::from_slice(&body).map_err(|err| err.to_string())?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = &jwk.common.key_id else {
                continue;
            };
            if !matches!(
                jwk.algorithm,
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_)
            ) {
                continue;
            }
            if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
                continue;
            }
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => {
                    keys.insert(kid.clone(), key);
                }
                Err(err) => tracing::warn!(jwks_url, kid, %err, "skipping unusable platform key"),
            }
        }
        tracing::info!(jwks_url, keys = keys.len(), "fetched platform key set");
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_signs_and_its_jwk_verifies() {
        let pem = generate_private_key_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let key = SigningKey::from_pem("k1", &pem).unwrap();
        let jwk = key.public_jwk().unwrap();
        assert_eq!(jwk.common.key_id.as_deref(), Some("k1"));
        let token = key
            .sign(&serde_json::json!({"exp": 4_000_000_000u64, "x": 1}))
            .unwrap();
        let decoding = DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.validate_aud = false;
        let data =
            jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.claims["x"], 1);
        assert_eq!(data.header.kid.as_deref(), Some("k1"));
    }

    #[test]
    fn the_kept_key_pair_signs_exactly_what_jsonwebtoken_signs() {
        // RS256 (PKCS#1 v1.5) is deterministic, so the two tokens must be equal byte for byte.
        let key = SigningKey::from_pem("k2", &generate_private_key_pem().unwrap()).unwrap();
        let claims =
            serde_json::json!({"iss": "https://platform.example", "n": [1, 2], "s": "å\"<"});
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some("k2".into());
        let expected = jsonwebtoken::encode(&header, &claims, &key.key).unwrap();
        assert_eq!(key.sign(&claims).unwrap(), expected);
    }

    #[test]
    fn debug_output_never_shows_the_private_key() {
        let pem = generate_private_key_pem().unwrap();
        let key = SigningKey::from_pem("k1", &pem).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("PRIVATE"));
        assert!(shown.contains("k1"));
    }
}

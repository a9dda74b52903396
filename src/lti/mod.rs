//! The LTI 1.3 protocol, free of HTTP framework and database: what the 1EdTech specifications say,
//! as types and checks. Storage reaches this module only as plain values passed in.
//!
//! | file | specification |
//! |---|---|
//! | `claims.rs` | LTI 1.3 Core §5.3–5.4 (message claims), roles vocabulary (Core appendix A) |
//! | `login.rs` | LTI 1.3 Core §4.1 / Security Framework §5.1.1 (third-party initiated login) |
//! | `launch.rs` | Security Framework §5.1.3 (id_token validation), Core §5.3 (required claims) |
//! | `deep_linking.rs` | Deep Linking 2.0 (settings, `ltiResourceLink` items, the signed response) |
//! | `keys.rs` | Security Framework §6 (key sets, `kid`, rotation) |
//! | `ags.rs` | Assignment and Grade Services 2.0 (line items, scores) |
//! | `nrps.rs` | Names and Role Provisioning Services 2.0 (paged membership) |
//! | `registration.rs` | Dynamic Registration 1.0 (platform configuration, tool registration) |
//! | `token.rs` | Security Framework §4.1 (client_credentials with a JWT client assertion, RFC 7523) |
#![warn(missing_docs)]

pub mod ags;
pub mod claims;
pub mod clock;
pub mod deep_linking;
pub mod deep_linking_request;
pub mod keys;
pub mod launch;
pub mod login;
pub mod nrps;
pub mod registration;
pub mod token;

/// A fresh random value, base64url without padding: `bytes` of entropy from the system RNG.
pub fn random_token(bytes: usize) -> String {
    use aws_lc_rs::rand::SecureRandom;
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    // SystemRandom only fails when the OS has no entropy source at all; a zeroed buffer would be
    // guessable, so such a failure must not pass silently.
    if aws_lc_rs::rand::SystemRandom::new().fill(&mut buf).is_err() {
        tracing::error!("the system random number generator failed");
        std::process::abort();
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// The web origin (`https://host[:port]`) of an http(s) URL with a host; `None` for anything else.
pub fn web_origin(value: &str) -> Option<String> {
    url::Url::parse(value)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http") && url.host().is_some())
        .map(|url| url.origin().ascii_serialization())
}

/// SHA-256 of `value`, as lower-case hex.
pub fn sha256_hex(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest.as_ref() {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_hex_is_the_lowercase_hex_of_the_digest() {
        assert_eq!(
            super::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(super::sha256_hex("").len(), 64);
    }
}

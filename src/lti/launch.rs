//! id_token validation (Security Framework §5.1.3, LTI 1.3 Core §5.3): every refusal has its own
//! variant and a stable code, so that logs and the error page tell a platform administrator exactly
//! what to fix.
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};

use super::claims::{self, ClaimProblem, LtiClaims};

/// Why a launch was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    /// The form post had no `state`.
    #[error("the launch has no state parameter")]
    StateMissing,
    /// The state is not one this tool issued, or it expired.
    #[error("the state is unknown or expired")]
    StateUnknown,
    /// The state was already used by an earlier launch.
    #[error("the state was already used")]
    StateReused,
    /// The browser posting the launch is not the one that started the login.
    #[error("the launch does not come from the browser that started the login")]
    StateMismatch,
    /// The form post had no `id_token`.
    #[error("the launch has no id_token")]
    TokenMissing,
    /// The platform answered the authentication request with an error.
    #[error("the platform refused the login: {0}")]
    PlatformError(String),
    /// The id_token is not a JWT (or not JSON inside).
    #[error("the id_token is not a valid JWT")]
    NotAJwt,
    /// `alg` is not RS256 (e.g. `none` or HS256).
    #[error("the id_token is signed with {0:?}; only RS256 is allowed")]
    AlgorithmNotAllowed(String),
    /// The JWT header has no `kid`.
    #[error("the id_token header has no kid")]
    NoKid,
    /// The platform's key set has no key with the header's `kid`.
    #[error("the platform's key set has no key {0:?}")]
    UnknownKid(String),
    /// The platform's key set could not be fetched.
    #[error("the platform's key set could not be fetched")]
    KeySetUnavailable,
    /// The signature does not verify.
    #[error("the id_token signature is invalid")]
    BadSignature,
    /// `exp` is in the past.
    #[error("the id_token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the id_token is not valid yet")]
    NotYetValid,
    /// `iat` is later than now plus the leeway.
    #[error("the id_token was issued in the future")]
    IssuedInFuture,
    /// `iss` is not the issuer the login started with.
    #[error("the id_token issuer does not match the login")]
    WrongIssuer,
    /// `aud` does not contain the tool's client_id.
    #[error("the id_token audience does not contain the client_id")]
    WrongAudience,
    /// Several audiences without `azp` equal to the client_id, or an `azp` that differs.
    #[error("the id_token authorized party (azp) is missing or wrong")]
    WrongAuthorizedParty,
    /// No `nonce` claim.
    #[error("the id_token has no nonce")]
    NonceMissing,
    /// The nonce is not the one issued with this state.
    #[error("the id_token nonce does not belong to this login")]
    NonceMismatch,
    /// The nonce belongs to a login that was already completed: a replayed token.
    #[error("the id_token nonce was already used")]
    NonceReused,
    /// No LTI version claim.
    #[error("the id_token has no LTI version claim")]
    NoVersion,
    /// The LTI version claim is not `1.3.0`.
    #[error("the LTI version is {0:?}, not 1.3.0")]
    WrongVersion(String),
    /// A required claim is missing.
    #[error("the claim {0} is missing")]
    MissingClaim(&'static str),
    /// A claim has the wrong shape.
    #[error("the claim {0} is malformed")]
    MalformedClaim(&'static str),
    /// A message type this tool does not handle.
    #[error("the message type {0:?} is not supported")]
    UnknownMessageType(String),
    /// `target_link_uri` differs from the one in the login.
    #[error("the target_link_uri differs from the login's")]
    TargetLinkMismatch,
    /// The deployment is recorded but waits for an administrator's approval.
    #[error("the deployment {0:?} waits for approval")]
    DeploymentPending(String),
    /// An administrator has disabled the deployment.
    #[error("the deployment {0:?} is disabled")]
    DeploymentDisabled(String),
}

impl LaunchError {
    /// A stable code for logs, support and the error page.
    pub fn code(&self) -> &'static str {
        use LaunchError::*;
        match self {
            StateMissing => "LTI_STATE_MISSING",
            StateUnknown => "LTI_STATE_UNKNOWN",
            StateReused => "LTI_STATE_REUSED",
            StateMismatch => "LTI_STATE_MISMATCH",
            TokenMissing => "LTI_ID_TOKEN_MISSING",
            PlatformError(_) => "LTI_PLATFORM_ERROR",
            NotAJwt => "LTI_INVALID_MESSAGE",
            AlgorithmNotAllowed(_) => "LTI_ALG_NOT_RS256",
            NoKid => "LTI_NO_KID",
            UnknownKid(_) => "LTI_UNKNOWN_KID",
            KeySetUnavailable => "LTI_JWKS_UNAVAILABLE",
            BadSignature => "LTI_BAD_SIGNATURE",
            Expired => "LTI_TOKEN_EXPIRED",
            NotYetValid => "LTI_TOKEN_NOT_YET_VALID",
            IssuedInFuture => "LTI_IAT_IN_FUTURE",
            WrongIssuer => "LTI_WRONG_ISSUER",
            WrongAudience => "LTI_WRONG_AUDIENCE",
            WrongAuthorizedParty => "LTI_WRONG_AZP",
            NonceMissing => "LTI_NONCE_MISSING",
            NonceMismatch => "LTI_NONCE_MISMATCH",
            NonceReused => "LTI_NONCE_REUSED",
            NoVersion => "LTI_NO_VERSION",
            WrongVersion(_) => "LTI_WRONG_VERSION",
            MissingClaim(claim) => match *claim {
                claims::MESSAGE_TYPE => "LTI_NO_MESSAGE_TYPE",
                claims::ROLES => "LTI_NO_ROLES",
                claims::DEPLOYMENT_ID => "LTI_NO_DEPLOYMENT_ID",
                claims::RESOURCE_LINK => "LTI_NO_RESOURCE_LINK_ID",
                claims::TARGET_LINK_URI => "LTI_NO_TARGET_LINK_URI",
                "sub" => "LTI_NO_SUB",
                "exp" => "LTI_NO_EXP",
                "iat" => "LTI_NO_IAT",
                _ => "LTI_MISSING_CLAIM",
            },
            MalformedClaim(_) => "LTI_MALFORMED_CLAIM",
            UnknownMessageType(_) => "LTI_UNKNOWN_MESSAGE_TYPE",
            TargetLinkMismatch => "LTI_TARGET_LINK_MISMATCH",
            DeploymentPending(_) => "LTI_DEPLOYMENT_PENDING",
            DeploymentDisabled(_) => "LTI_DEPLOYMENT_DISABLED",
        }
    }

    /// The HTTP status: 403 where the request is well-formed but not allowed, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            LaunchError::DeploymentPending(_) | LaunchError::DeploymentDisabled(_) => 403,
            LaunchError::StateMismatch | LaunchError::BadSignature => 401,
            _ => 400,
        }
    }
}

/// What the JWT header says, checked: RS256 and a `kid`.
#[derive(Debug, Clone)]
pub struct TokenHeader {
    /// The key id to look up in the platform's key set.
    pub kid: String,
}

fn decode_segment(segment: &str) -> Result<Map<String, Value>, LaunchError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| LaunchError::NotAJwt)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(LaunchError::NotAJwt),
    }
}

/// Reads and checks the header without trusting anything else in the token.
pub fn read_header(id_token: &str) -> Result<TokenHeader, LaunchError> {
    let mut parts = id_token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LaunchError::NotAJwt);
    };
    let header = decode_segment(header)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != "RS256" {
        return Err(LaunchError::AlgorithmNotAllowed(
            alg.chars().take(20).collect(),
        ));
    }
    match header.get("kid").and_then(Value::as_str) {
        Some(kid) if !kid.is_empty() => Ok(TokenHeader {
            kid: kid.chars().take(200).collect(),
        }),
        _ => Err(LaunchError::NoKid),
    }
}

/// The `launch_presentation.locale` of a token, read without verification: only to pick the language
/// of an error page, never to decide anything.
pub fn unverified_locale(id_token: &str) -> Option<String> {
    let payload = decode_segment(id_token.split('.').nth(1)?).ok()?;
    payload
        .get(claims::LAUNCH_PRESENTATION)?
        .get("locale")?
        .as_str()
        .map(str::to_owned)
}

/// The nonce of a token, read without verification: to tell a replay from a stray token.
pub fn unverified_nonce(id_token: &str) -> Option<String> {
    let payload = decode_segment(id_token.split('.').nth(1)?).ok()?;
    payload.get("nonce")?.as_str().map(str::to_owned)
}

/// What the launch must match: the registration and the login that started it.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The registration's issuer.
    pub issuer: &'a str,
    /// The registration's client_id.
    pub client_id: &'a str,
    /// The nonce issued with the state.
    pub nonce: &'a str,
    /// The `target_link_uri` of the login.
    pub target_link_uri: &'a str,
    /// Now, in Unix seconds.
    pub now: i64,
    /// Allowed clock difference, seconds.
    pub leeway: u64,
}

/// Verifies signature and time with `key`, then every claim against `expected`.
pub fn verify(
    id_token: &str,
    key: &DecodingKey,
    expected: &Expected<'_>,
) -> Result<LtiClaims, LaunchError> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = expected.leeway;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    // Audience and issuer are checked below, with their own refusals.
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    let payload = match jsonwebtoken::decode::<Map<String, Value>>(id_token, key, &validation) {
        Ok(data) => data.claims,
        Err(err) => {
            return Err(match err.kind() {
                ErrorKind::InvalidSignature => LaunchError::BadSignature,
                ErrorKind::ExpiredSignature => LaunchError::Expired,
                ErrorKind::ImmatureSignature => LaunchError::NotYetValid,
                ErrorKind::MissingRequiredClaim(_) => LaunchError::MissingClaim("exp"),
                ErrorKind::InvalidClaimFormat(claim) if claim == "nbf" => {
                    LaunchError::MalformedClaim("nbf")
                }
                ErrorKind::InvalidClaimFormat(_) => LaunchError::MalformedClaim("exp"),
                ErrorKind::InvalidAlgorithm => LaunchError::AlgorithmNotAllowed("?".into()),
                _ => LaunchError::NotAJwt,
            });
        }
    };

    match payload.get("iat") {
        Some(Value::Number(iat)) => {
            let iat = iat.as_f64().unwrap_or(f64::MAX);
            if iat > (expected.now + expected.leeway as i64) as f64 {
                return Err(LaunchError::IssuedInFuture);
            }
        }
        Some(_) => return Err(LaunchError::MalformedClaim("iat")),
        None => return Err(LaunchError::MissingClaim("iat")),
    }

    if payload.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(LaunchError::WrongIssuer);
    }

    let audiences: Vec<&str> = match payload.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(LaunchError::WrongAudience);
    }
    let azp = payload.get("azp").and_then(Value::as_str);
    let azp_required = audiences.len() > 1;
    match azp {
        Some(azp) if azp != expected.client_id => return Err(LaunchError::WrongAuthorizedParty),
        None if azp_required => return Err(LaunchError::WrongAuthorizedParty),
        _ => {}
    }

    match payload.get("nonce").and_then(Value::as_str) {
        None | Some("") => return Err(LaunchError::NonceMissing),
        Some(nonce) if nonce != expected.nonce => return Err(LaunchError::NonceMismatch),
        Some(_) => {}
    }

    match payload.get(claims::VERSION) {
        None | Some(Value::Null) => return Err(LaunchError::NoVersion),
        Some(Value::String(version)) if version == "1.3.0" => {}
        Some(other) => {
            let shown = other
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| other.to_string());
            return Err(LaunchError::WrongVersion(shown.chars().take(20).collect()));
        }
    }

    let lti = claims::parse_lti_claims(&payload).map_err(|problem| match problem {
        ClaimProblem::Malformed(claims::MESSAGE_TYPE) => LaunchError::UnknownMessageType(
            payload
                .get(claims::MESSAGE_TYPE)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .chars()
                .take(60)
                .collect(),
        ),
        ClaimProblem::Missing(claim) => LaunchError::MissingClaim(claim),
        ClaimProblem::Malformed(claim) => LaunchError::MalformedClaim(claim),
    })?;

    if !same_target(&lti.target_link_uri, expected.target_link_uri) {
        return Err(LaunchError::TargetLinkMismatch);
    }
    Ok(lti)
}

/// Compares two URLs as URLs (so `https://a/x` and `https://a:443/x` agree), falling back to text.
fn same_target(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_checks_refuse_alg_none_hs256_and_a_missing_kid() {
        let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let token = |header: &str| format!("{}.{}.sig", b64(header), b64("{}"));
        assert_eq!(
            read_header(&token(r#"{"alg":"none","kid":"k"}"#)).unwrap_err(),
            LaunchError::AlgorithmNotAllowed("none".into())
        );
        assert_eq!(
            read_header(&token(r#"{"alg":"HS256","kid":"k"}"#)).unwrap_err(),
            LaunchError::AlgorithmNotAllowed("HS256".into())
        );
        assert_eq!(
            read_header(&token(r#"{"alg":"RS256"}"#)).unwrap_err(),
            LaunchError::NoKid
        );
        assert_eq!(read_header("only.two").unwrap_err(), LaunchError::NotAJwt);
        assert_eq!(
            read_header(&token(r#"{"alg":"RS256","kid":"k"}"#))
                .unwrap()
                .kid,
            "k"
        );
    }

    #[test]
    fn every_code_is_distinct_for_the_certification_cases() {
        let cases = [
            LaunchError::NoKid,
            LaunchError::UnknownKid("x".into()),
            LaunchError::WrongVersion("1.1".into()),
            LaunchError::NoVersion,
            LaunchError::NotAJwt,
            LaunchError::Expired,
            LaunchError::MissingClaim(claims::MESSAGE_TYPE),
            LaunchError::MissingClaim(claims::ROLES),
            LaunchError::MissingClaim(claims::DEPLOYMENT_ID),
            LaunchError::MissingClaim(claims::RESOURCE_LINK),
            LaunchError::MissingClaim("sub"),
        ];
        let codes: std::collections::HashSet<_> = cases.iter().map(LaunchError::code).collect();
        assert_eq!(codes.len(), cases.len());
    }

    #[test]
    fn target_links_compare_as_urls() {
        assert!(same_target(
            "https://a.example:443/x",
            "https://a.example/x"
        ));
        assert!(!same_target("https://a.example/x", "https://a.example/y"));
    }
}

//! Third-party initiated login (LTI 1.3 Core §4.1, Security Framework §5.1.1): check what the
//! platform sent, then build the authentication request that goes back to it.
use serde::Deserialize;
use url::Url;

/// The login initiation parameters, from the query string (GET) or the form body (POST).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LoginInitiation {
    /// The platform's issuer identifier.
    pub iss: Option<String>,
    /// Opaque to the tool; must be passed back unchanged.
    pub login_hint: Option<String>,
    /// Where the platform wants the launch to end up.
    pub target_link_uri: Option<String>,
    /// Opaque to the tool; passed back when present.
    pub lti_message_hint: Option<String>,
    /// Which registration of the issuer this login is for (required when an issuer has several).
    pub client_id: Option<String>,
    /// The deployment the launch will come from (informative here; the id_token claim decides).
    pub lti_deployment_id: Option<String>,
    /// The platform's frame that keeps data for the tool (Client Side postMessages), when it offers
    /// platform storage: `_parent` or the name of a frame of the platform's page.
    pub lti_storage_target: Option<String>,
}

/// A login initiation that is missing something the specification requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// A required parameter is missing or empty.
    #[error("the login request has no `{0}` parameter")]
    MissingParameter(&'static str),
    /// `target_link_uri` is not an absolute http(s) URL.
    #[error("`target_link_uri` is not an absolute http(s) URL")]
    BadTargetLinkUri,
    /// A parameter is longer than any platform sends.
    #[error("the login request's `{0}` is longer than {1} bytes")]
    TooLong(&'static str, usize),
}

/// Longest `login_hint` and `lti_message_hint` taken (platforms send short ids or a signed hint of
/// a few hundred bytes; anything longer is not a login).
pub const MAX_HINT_BYTES: usize = 4096;
/// Longest `iss`, `target_link_uri`, `client_id` and `lti_deployment_id` taken.
pub const MAX_PARAMETER_BYTES: usize = 1024;

/// The checked login request.
#[derive(Debug, Clone)]
pub struct CheckedLogin {
    /// Issuer.
    pub issuer: String,
    /// Login hint.
    pub login_hint: String,
    /// Target link URI.
    pub target_link_uri: Url,
    /// Message hint.
    pub lti_message_hint: Option<String>,
    /// Client id, when the platform sent one.
    pub client_id: Option<String>,
    /// The platform storage frame, when offered and well-formed.
    pub storage_target: Option<String>,
}

fn required(value: &Option<String>, name: &'static str) -> Result<String, LoginError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(LoginError::MissingParameter(name)),
    }
}

impl LoginInitiation {
    /// Checks presence and shape of the parameters (the registration lookup is the caller's).
    pub fn check(&self) -> Result<CheckedLogin, LoginError> {
        for (name, value, limit) in [
            ("login_hint", &self.login_hint, MAX_HINT_BYTES),
            ("lti_message_hint", &self.lti_message_hint, MAX_HINT_BYTES),
            ("iss", &self.iss, MAX_PARAMETER_BYTES),
            (
                "target_link_uri",
                &self.target_link_uri,
                MAX_PARAMETER_BYTES,
            ),
            ("client_id", &self.client_id, MAX_PARAMETER_BYTES),
            (
                "lti_deployment_id",
                &self.lti_deployment_id,
                MAX_PARAMETER_BYTES,
            ),
            (
                "lti_storage_target",
                &self.lti_storage_target,
                MAX_PARAMETER_BYTES,
            ),
        ] {
            if value.as_ref().is_some_and(|v| v.len() > limit) {
                return Err(LoginError::TooLong(name, limit));
            }
        }
        let issuer = required(&self.iss, "iss")?;
        let login_hint = required(&self.login_hint, "login_hint")?;
        let target = required(&self.target_link_uri, "target_link_uri")?;
        let target_link_uri = Url::parse(&target).map_err(|_| LoginError::BadTargetLinkUri)?;
        if !matches!(target_link_uri.scheme(), "http" | "https") {
            return Err(LoginError::BadTargetLinkUri);
        }
        Ok(CheckedLogin {
            issuer,
            login_hint,
            target_link_uri,
            lti_message_hint: self
                .lti_message_hint
                .clone()
                .filter(|hint| !hint.is_empty()),
            client_id: self.client_id.clone().filter(|id| !id.trim().is_empty()),
            storage_target: self
                .lti_storage_target
                .clone()
                .filter(|target| is_frame_name(target)),
        })
    }

    /// The parameters again, as a query string: the same login, started anew in another window.
    pub fn to_query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("iss", &self.iss),
            ("login_hint", &self.login_hint),
            ("target_link_uri", &self.target_link_uri),
            ("lti_message_hint", &self.lti_message_hint),
            ("client_id", &self.client_id),
            ("lti_deployment_id", &self.lti_deployment_id),
        ] {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        query.finish()
    }
}

/// The storage target recorded when the platform named none: the page finds the platform's
/// storage frame by asking `lti.capabilities`, and goes on without storage when nobody answers.
pub const DISCOVER_STORAGE: &str = "_capabilities";

/// A frame name the page may address: `_parent`, or a plain name (letters, digits, `_`, `-`).
fn is_frame_name(target: &str) -> bool {
    !target.is_empty()
        && target.len() <= 64
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The OIDC authentication request (Security Framework §5.1.1.2) as a URL on the platform.
pub fn authentication_request(
    auth_login_url: &Url,
    login: &CheckedLogin,
    client_id: &str,
    redirect_uri: &Url,
    state: &str,
    nonce: &str,
) -> Url {
    let mut url = auth_login_url.clone();
    {
        // Appending keeps any query the platform's auth URL already has (Moodle's do).
        let mut query = url.query_pairs_mut();
        query
            .append_pair("scope", "openid")
            .append_pair("response_type", "id_token")
            .append_pair("response_mode", "form_post")
            .append_pair("prompt", "none")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("login_hint", &login.login_hint)
            .append_pair("state", state)
            .append_pair("nonce", nonce);
        if let Some(hint) = &login.lti_message_hint {
            query.append_pair("lti_message_hint", hint);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn initiation() -> LoginInitiation {
        LoginInitiation {
            iss: Some("https://lms.example".into()),
            login_hint: Some("u1".into()),
            target_link_uri: Some("https://tool.example/lti/launch".into()),
            lti_message_hint: Some("m1".into()),
            client_id: Some("c1".into()),
            lti_deployment_id: None,
            lti_storage_target: None,
        }
    }

    #[test]
    fn a_storage_target_must_be_a_plain_frame_name_and_the_login_can_be_repeated() {
        let mut login = initiation();
        login.lti_storage_target = Some("_parent".into());
        assert_eq!(
            login.check().unwrap().storage_target.as_deref(),
            Some("_parent")
        );
        login.lti_storage_target = Some("post_message_forwarding".into());
        assert!(login.check().unwrap().storage_target.is_some());
        login.lti_storage_target = Some("x\"><script>".into());
        assert_eq!(login.check().unwrap().storage_target, None);
        assert_eq!(
            initiation().to_query(),
            "iss=https%3A%2F%2Flms.example&login_hint=u1&target_link_uri=https%3A%2F%2Ftool.example%2Flti%2Flaunch&lti_message_hint=m1&client_id=c1"
        );
    }

    #[test]
    fn each_required_parameter_is_named_when_missing() {
        let mut no_iss = initiation();
        no_iss.iss = None;
        assert_eq!(
            no_iss.check().unwrap_err(),
            LoginError::MissingParameter("iss")
        );
        let mut no_hint = initiation();
        no_hint.login_hint = Some(" ".into());
        assert_eq!(
            no_hint.check().unwrap_err(),
            LoginError::MissingParameter("login_hint")
        );
        let mut bad_target = initiation();
        bad_target.target_link_uri = Some("javascript:alert(1)".into());
        assert_eq!(
            bad_target.check().unwrap_err(),
            LoginError::BadTargetLinkUri
        );
    }

    #[test]
    fn hints_and_parameters_longer_than_any_platform_sends_are_refused() {
        let mut long = initiation();
        long.login_hint = Some("x".repeat(MAX_HINT_BYTES));
        assert!(long.check().is_ok());
        long.login_hint = Some("x".repeat(MAX_HINT_BYTES + 1));
        assert_eq!(
            long.check().unwrap_err(),
            LoginError::TooLong("login_hint", MAX_HINT_BYTES)
        );
        let mut long = initiation();
        long.lti_message_hint = Some("x".repeat(200_000));
        assert_eq!(
            long.check().unwrap_err(),
            LoginError::TooLong("lti_message_hint", MAX_HINT_BYTES)
        );
        let mut long = initiation();
        long.target_link_uri = Some(format!("https://tool.example/{}", "a".repeat(2000)));
        assert!(matches!(
            long.check().unwrap_err(),
            LoginError::TooLong("target_link_uri", _)
        ));
    }

    #[test]
    fn authentication_request_carries_every_parameter_and_keeps_the_platform_query() {
        let login = initiation().check().unwrap();
        let auth = Url::parse("https://lms.example/auth?site=7").unwrap();
        let redirect = Url::parse("https://tool.example/lti/launch").unwrap();
        let url = authentication_request(&auth, &login, "c1", &redirect, "S", "N");
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        for (key, value) in [
            ("site", "7"),
            ("scope", "openid"),
            ("response_type", "id_token"),
            ("response_mode", "form_post"),
            ("prompt", "none"),
            ("client_id", "c1"),
            ("redirect_uri", "https://tool.example/lti/launch"),
            ("login_hint", "u1"),
            ("lti_message_hint", "m1"),
            ("state", "S"),
            ("nonce", "N"),
        ] {
            assert_eq!(pairs.get(key).map(String::as_str), Some(value), "{key}");
        }
    }
}

//! LTI Dynamic Registration 1.0: reading a platform's OpenID configuration, checking it, and
//! registering the tool with the platform's registration endpoint. The platform then answers with
//! the tool's `client_id` (and, on Moodle, the `deployment_id`).
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

/// The LTI block of the tool's registration (and of the platform's answer).
pub const TOOL_CONFIGURATION: &str = "https://purl.imsglobal.org/spec/lti-tool-configuration";
/// The LTI block of the platform's OpenID configuration.
pub const PLATFORM_CONFIGURATION: &str =
    "https://purl.imsglobal.org/spec/lti-platform-configuration";

/// What the tool needs from a platform's OpenID configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct PlatformConfiguration {
    /// The platform's issuer (`iss` of its launches).
    pub issuer: String,
    /// The OIDC authentication endpoint.
    pub authorization_endpoint: String,
    /// The OAuth2 token endpoint.
    pub token_endpoint: String,
    /// The platform's key set.
    pub jwks_uri: String,
    /// Where the tool registers.
    pub registration_endpoint: String,
    /// The audience of client assertions, when it is not the token endpoint (Brightspace).
    #[serde(default)]
    pub authorization_server: Option<String>,
    /// Signing algorithms of id_tokens.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// The LTI block (product, version, messages).
    #[serde(
        rename = "https://purl.imsglobal.org/spec/lti-platform-configuration",
        default
    )]
    pub lti: Option<Value>,
}

impl PlatformConfiguration {
    /// The product's name (`moodle`, `canvas`, …), when the platform says.
    pub fn product(&self) -> Option<&str> {
        self.lti
            .as_ref()
            .and_then(|lti| lti.get("product_family_code"))
            .and_then(Value::as_str)
    }
}

/// Why a registration did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// A URL is not acceptable (not https, unparseable, or an address inside).
    #[error(transparent)]
    BadUrl(#[from] crate::outbound::OutboundError),
    /// The configuration is incomplete or inconsistent.
    #[error("the platform's configuration is not usable: {0}")]
    BadConfiguration(String),
    /// The platform could not be reached.
    #[error("the platform could not be reached")]
    Transport(#[source] reqwest::Error),
    /// The platform refused (its answer is logged, never shown).
    #[error("the platform answered HTTP {status}")]
    Refused {
        /// HTTP status.
        status: u16,
    },
}

impl From<reqwest::Error> for RegistrationError {
    fn from(err: reqwest::Error) -> Self {
        Self::Transport(err)
    }
}

/// Checks the configuration: every endpoint is there and one the tool may call, the issuer is an
/// https URL (http on loopback when `http` allows it), and id_tokens can be RS256.
///
/// The issuer need not share the configuration URL's origin: Canvas's issuer is
/// `https://canvas.instructure.com` for every institution's own host. That is safe because a
/// registration only starts from an administrator's invitation, which is what vouches for the
/// platform; and the issuer is an identifier the tool compares, never a URL it calls.
pub fn validate(
    http: &crate::outbound::Outbound,
    config: &PlatformConfiguration,
) -> Result<(), RegistrationError> {
    crate::outbound::check_url("issuer", &config.issuer, http.allows_loopback())?;
    for (what, value) in [
        ("authorization_endpoint", &config.authorization_endpoint),
        ("token_endpoint", &config.token_endpoint),
        ("jwks_uri", &config.jwks_uri),
        ("registration_endpoint", &config.registration_endpoint),
    ] {
        if value.is_empty() {
            return Err(RegistrationError::BadConfiguration(format!(
                "{what} is missing"
            )));
        }
        http.check(what, value)?;
    }
    if !config.id_token_signing_alg_values_supported.is_empty()
        && !config
            .id_token_signing_alg_values_supported
            .iter()
            .any(|alg| alg == "RS256")
    {
        return Err(RegistrationError::BadConfiguration(
            "the platform does not sign id_tokens with RS256".into(),
        ));
    }
    Ok(())
}

/// Where the tool is, for its registration.
#[derive(Debug, Clone)]
pub struct ToolSite {
    /// Login initiation URL.
    pub login: Url,
    /// Launch (redirect) URL.
    pub launch: Url,
    /// The tool's key set.
    pub jwks: Url,
    /// The scopes the tool asks for.
    pub scopes: Vec<&'static str>,
    /// Ask for the email claim (only when the operator stores email).
    pub wants_email: bool,
}

/// The tool's registration request (OpenID Connect Dynamic Client Registration plus the LTI block).
pub fn registration_request(site: &ToolSite) -> Value {
    let mut claims = vec!["iss", "sub", "name", "given_name", "family_name"];
    if site.wants_email {
        claims.push("email");
    }
    json!({
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": site.login.as_str(),
        "redirect_uris": [site.launch.as_str()],
        "client_name": "coursebridge – Att leda digital omställning",
        "client_name#sv": "coursebridge – Att leda digital omställning",
        "client_name#en": "coursebridge – Leading digital change",
        "jwks_uri": site.jwks.as_str(),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": site.scopes.join(" "),
        TOOL_CONFIGURATION: {
            "domain": site.launch.host_str().unwrap_or_default(),
            "target_link_uri": site.launch.as_str(),
            "claims": claims,
            "description": "En digital kurs för chefer och ledare i kommuner: moduler, reflektioner, självskattning och återkoppling.",
            "description#sv": "En digital kurs för chefer och ledare i kommuner: moduler, reflektioner, självskattning och återkoppling.",
            "description#en": "A digital course for municipal managers and leaders: modules, reflections, self-assessment and feedback.",
            "messages": [
                { "type": "LtiResourceLinkRequest", "target_link_uri": site.launch.as_str() },
                {
                    "type": "LtiDeepLinkingRequest",
                    "target_link_uri": site.launch.as_str(),
                    "label": "Att leda digital omställning",
                    "label#sv": "Att leda digital omställning",
                    "label#en": "Leading digital change",
                    // Canvas's names for the places an instructor adds content from; Moodle
                    // and others ignore placements they do not know.
                    "placements": ["link_selection", "assignment_selection"],
                    "roles": [
                        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
                        "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper",
                    ],
                },
            ],
        },
    })
}

/// The platform's answer to a registration.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The tool's client_id at the platform.
    pub client_id: String,
    /// The deployment the platform made, when it made one (Moodle does; Canvas deploys later).
    pub deployment_id: Option<String>,
}

async fn refused(what: &str, response: reqwest::Response) -> RegistrationError {
    let status = response.status().as_u16();
    let body = crate::outbound::body_for_log(response).await;
    tracing::warn!(code = "REG_PLATFORM_REFUSED", what, status, body = %body,
        "the platform refused a dynamic registration step");
    RegistrationError::Refused { status }
}

/// An identifier platforms send as a string or a number, when it is usable.
fn identifier(value: Option<&Value>) -> Option<String> {
    value
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        })
        .filter(|id| !id.is_empty() && id.len() <= 255)
}

/// Fetches and parses a platform's OpenID configuration. The registration token goes with it as a
/// bearer token: Canvas requires it on this GET, Moodle ignores it.
pub async fn fetch_configuration(
    http: &crate::outbound::Outbound,
    url: &str,
    token: Option<&str>,
) -> Result<PlatformConfiguration, RegistrationError> {
    let mut get = http
        .get("openid_configuration", url)?
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(token) = token {
        get = get.bearer_auth(token);
    }
    let response = get.send().await?;
    if !response.status().is_success() {
        return Err(refused("openid_configuration", response).await);
    }
    crate::outbound::read_json(response)
        .await
        .map_err(|err| RegistrationError::BadConfiguration(err.to_string()))
}

/// Posts the registration, with the registration token as bearer when there is one.
pub async fn register(
    http: &crate::outbound::Outbound,
    endpoint: &str,
    token: Option<&str>,
    request: &Value,
) -> Result<Registered, RegistrationError> {
    let mut post = http
        .post("registration_endpoint", endpoint)?
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(request.to_string());
    if let Some(token) = token {
        post = post.bearer_auth(token);
    }
    let response = post.send().await?;
    if !response.status().is_success() {
        return Err(refused("registration_endpoint", response).await);
    }
    let answer: Value = crate::outbound::read_json(response)
        .await
        .map_err(|err| RegistrationError::BadConfiguration(err.to_string()))?;
    let client_id = identifier(answer.get("client_id"))
        .ok_or_else(|| RegistrationError::BadConfiguration("the answer has no client_id".into()))?;
    let deployment_id = identifier(
        answer
            .get(TOOL_CONFIGURATION)
            .and_then(|c| c.get("deployment_id")),
    );
    Ok(Registered {
        client_id,
        deployment_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(issuer: &str) -> PlatformConfiguration {
        serde_json::from_value(json!({
            "issuer": issuer,
            "authorization_endpoint": "https://moodle.example/mod/lti/auth.php",
            "token_endpoint": "https://moodle.example/mod/lti/token.php",
            "jwks_uri": "https://moodle.example/mod/lti/certs.php",
            "registration_endpoint": "https://moodle.example/mod/lti/openid-registration.php",
            "id_token_signing_alg_values_supported": ["RS256"],
            PLATFORM_CONFIGURATION: {"product_family_code": "moodle"},
        }))
        .unwrap()
    }

    fn outbound() -> crate::outbound::Outbound {
        crate::outbound::Outbound::new(std::time::Duration::from_secs(1), false).unwrap()
    }

    #[test]
    fn the_issuer_may_be_another_host_but_must_be_https() {
        let http = outbound();
        assert!(validate(&http, &config("https://moodle.example")).is_ok());
        assert_eq!(config("https://moodle.example").product(), Some("moodle"));
        // Canvas: one issuer for every institution's host.
        assert!(validate(&http, &config("https://canvas.instructure.com")).is_ok());
        assert!(validate(&http, &config("http://moodle.example")).is_err());
    }

    #[test]
    fn endpoints_inside_are_refused() {
        let http = outbound();
        let mut inside = config("https://moodle.example");
        inside.jwks_uri = "https://169.254.169.254/latest/meta-data".into();
        assert!(validate(&http, &inside).is_err());
    }

    #[test]
    fn the_request_names_the_tool_in_both_languages_and_asks_for_the_services() {
        let base = Url::parse("https://kurs.example.se/").unwrap();
        let request = registration_request(&ToolSite {
            login: base.join("lti/login").unwrap(),
            launch: base.join("lti/launch").unwrap(),
            jwks: base.join(".well-known/jwks.json").unwrap(),
            scopes: vec!["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            wants_email: false,
        });
        assert_eq!(
            request["initiate_login_uri"],
            "https://kurs.example.se/lti/login"
        );
        assert_eq!(
            request["client_name#en"],
            "coursebridge – Leading digital change"
        );
        let tool = &request[TOOL_CONFIGURATION];
        assert_eq!(tool["domain"], "kurs.example.se");
        assert!(!tool["claims"].as_array().unwrap().contains(&json!("email")));
        let types: Vec<&str> = tool["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]);
    }
}

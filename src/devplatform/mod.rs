//! A real LTI 1.3 platform for tests, benchmarks and `coursebridge demo`: its own RSA keys and
//! JWKS, an OIDC authentication endpoint that answers the tool's login with a signed id_token, an
//! OAuth2 token endpoint that verifies the tool's client assertion against the tool's JWKS, and
//! AGS and NRPS endpoints that keep what the tool sends in memory.
//!
//! Never part of `serve`. Tests shape hostile launches through [`LaunchSpec`]: claim edits and
//! signing variants (no kid, unknown kid, `alg: none`, HS256, a foreign key, a tampered payload).
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use anyhow::Context;
use axum::{
    Router,
    routing::{get, post},
};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use url::Url;

use crate::lti::{self, claims, keys::SigningKey};

mod lms;
mod services;
pub use services::Variant;

/// The role URIs the platform sends.
pub mod roles {
    /// Learner.
    pub const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
    /// Instructor.
    pub const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
}

/// Where the tool lives, as the platform registered it.
#[derive(Clone, Debug)]
pub struct ToolUrls {
    /// Login initiation URL.
    pub login: Url,
    /// Redirect (launch) URL.
    pub launch: Url,
    /// The tool's JWKS.
    pub jwks: Url,
}

impl ToolUrls {
    /// The standard URLs below a tool's public base URL.
    pub fn below(base: &Url) -> anyhow::Result<Self> {
        Ok(Self {
            login: base.join("lti/login")?,
            launch: base.join("lti/launch")?,
            jwks: base.join(".well-known/jwks.json")?,
        })
    }
}

/// How the platform signs one launch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Signing {
    /// RS256 with the platform's current key (the normal case).
    #[default]
    Platform,
    /// RS256 but no `kid` in the header.
    NoKid,
    /// RS256 with a `kid` that is in no key set.
    UnknownKid,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 with the platform's public modulus as secret (the classic key-confusion attack).
    Hs256,
    /// RS256 with a key that is not the platform's, under the platform's `kid`.
    ForeignKey,
    /// Signed correctly, then the payload is changed.
    TamperedPayload,
}

/// A change to the default claims of a launch.
#[derive(Clone, Debug)]
pub enum ClaimEdit {
    /// Set a top-level claim.
    Set(String, Value),
    /// Remove a top-level claim.
    Remove(String),
}

/// Everything about one launch the platform will produce.
#[derive(Clone, Debug)]
pub struct LaunchSpec {
    /// `sub`.
    pub sub: String,
    /// `name`, `given_name`, `family_name`.
    pub name: Option<(String, String, String)>,
    /// `email`.
    pub email: Option<String>,
    /// Role URIs.
    pub roles: Vec<String>,
    /// (id, label, title).
    pub context: Option<(String, String, String)>,
    /// Resource link id.
    pub resource_link_id: String,
    /// Message type.
    pub message_type: String,
    /// `launch_presentation.locale`.
    pub locale: Option<String>,
    /// Custom parameters.
    pub custom: Map<String, Value>,
    /// Deployment; the platform's default when `None`.
    pub deployment_id: Option<String>,
    /// Edits applied last.
    pub edits: Vec<ClaimEdit>,
    /// Signing variant.
    pub signing: Signing,
    /// `lti_storage_target` in the login initiation: the platform offers to keep data for the tool
    /// (its page answers `lti.put_data` and `lti.get_data`).
    pub storage_target: Option<String>,
    /// `login_hint` in the login initiation; the `sub` when `None` (platforms' hints are opaque).
    pub login_hint: Option<String>,
}

impl LaunchSpec {
    /// A learner in the course "Att leda digital omställning".
    pub fn learner(sub: &str) -> Self {
        Self {
            sub: sub.to_owned(),
            name: Some((
                "Astrid Lindqvist".into(),
                "Astrid".into(),
                "Lindqvist".into(),
            )),
            email: Some("astrid.lindqvist@example.se".into()),
            roles: vec![roles::LEARNER.into()],
            context: Some((
                "ctx-digital-omstallning".into(),
                "ALDO-2026".into(),
                "Att leda digital omställning".into(),
            )),
            resource_link_id: "rl-course".into(),
            message_type: "LtiResourceLinkRequest".into(),
            locale: Some("sv-SE".into()),
            custom: Map::new(),
            deployment_id: None,
            edits: Vec::new(),
            signing: Signing::Platform,
            storage_target: None,
            login_hint: None,
        }
    }

    /// An instructor of the same course.
    pub fn instructor(sub: &str) -> Self {
        Self {
            name: Some(("Erik Holm".into(), "Erik".into(), "Holm".into())),
            email: Some("erik.holm@example.se".into()),
            roles: vec![roles::INSTRUCTOR.into()],
            ..Self::learner(sub)
        }
    }

    /// Sets a top-level claim after the defaults.
    pub fn set(mut self, claim: &str, value: Value) -> Self {
        self.edits.push(ClaimEdit::Set(claim.to_owned(), value));
        self
    }

    /// Removes a top-level claim.
    pub fn remove(mut self, claim: &str) -> Self {
        self.edits.push(ClaimEdit::Remove(claim.to_owned()));
        self
    }

    /// Chooses a signing variant.
    pub fn signed(mut self, signing: Signing) -> Self {
        self.signing = signing;
        self
    }
}

struct KeyRing {
    current: SigningKey,
    retired: Vec<SigningKey>,
}

pub(crate) struct Inner {
    base: Url,
    client_id: String,
    deployment_id: String,
    tool: ToolUrls,
    keys: Mutex<KeyRing>,
    launches: Mutex<HashMap<String, LaunchSpec>>,
    jwks_requests: AtomicUsize,
    jwks_failing: std::sync::atomic::AtomicBool,
    http: reqwest::Client,
    pub(crate) services: services::ServiceState,
    /// The tool's key set handed over directly, for tools that serve no HTTP (a bare worker).
    pub(crate) trusted_tool_keys: Mutex<Option<jsonwebtoken::jwk::JwkSet>>,
}

/// A running development platform.
pub struct DevPlatform {
    inner: Arc<Inner>,
    address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DevPlatform {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) use crate::sync::lock;

impl DevPlatform {
    /// Starts the platform on `bind`. `public_url` is how browsers reach it (defaults to the bound
    /// address); the issuer is that URL without a trailing slash.
    pub async fn start(
        bind: SocketAddr,
        public_url: Option<Url>,
        client_id: &str,
        deployment_id: &str,
        tool: ToolUrls,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("the development platform cannot listen on {bind}"))?;
        let address = listener.local_addr()?;
        let base = match public_url {
            Some(url) => url,
            None => Url::parse(&format!("http://{address}/"))?,
        };
        let pem = lti::keys::generate_private_key_pem()?;
        let current = SigningKey::from_pem(&lti::keys::new_kid(), &pem)?;
        let inner = Arc::new(Inner {
            base,
            client_id: client_id.to_owned(),
            deployment_id: deployment_id.to_owned(),
            tool,
            keys: Mutex::new(KeyRing {
                current,
                retired: Vec::new(),
            }),
            launches: Mutex::default(),
            jwks_requests: AtomicUsize::new(0),
            jwks_failing: std::sync::atomic::AtomicBool::new(false),
            // The development platform calls only the tool it was started for.
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            services: services::ServiceState::default(),
            trusted_tool_keys: Mutex::default(),
        });
        let router = Router::new()
            .route("/", get(lms::show_lms))
            .route("/lms/launch", get(lms::show_launch_frame))
            .route("/jwks", get(jwks))
            .route("/auth", get(lms::authorize).post(lms::authorize_form))
            .route("/token", post(services::token))
            .route(
                "/lineitems",
                get(services::list_line_items).post(services::create_line_item),
            )
            .route(
                "/lineitems/{id}/lineitem/scores",
                post(services::post_score),
            )
            .route("/memberships", get(services::memberships))
            .route("/deep-linking/return", post(services::deep_linking_return))
            .route(
                "/openid-configuration/{variant}",
                get(services::openid_configuration),
            )
            .route("/register/{variant}", post(services::register))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::error!(error = %err, "the development platform stopped");
            }
        });
        Ok(Self {
            inner,
            address,
            task,
        })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The issuer (base URL without the trailing slash).
    pub fn issuer(&self) -> String {
        self.inner.issuer()
    }

    /// The client_id this platform gave the tool.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The default deployment id.
    pub fn deployment_id(&self) -> &str {
        &self.inner.deployment_id
    }

    /// A URL on the platform.
    pub fn url(&self, path: &str) -> Url {
        self.inner.url(path)
    }

    /// The registration the tool needs, as `platform add` takes it.
    pub fn registration(&self) -> crate::store::platform::NewPlatform {
        crate::store::platform::NewPlatform {
            organisation: None,
            frame_origin: None,
            issuer: self.issuer(),
            client_id: self.inner.client_id.clone(),
            name: "coursebridge development platform".into(),
            auth_login_url: self.url("auth").to_string(),
            auth_token_url: self.url("token").to_string(),
            jwks_url: self.url("jwks").to_string(),
            token_audience: None,
            auto_approve_deployments: false,
        }
    }

    /// Stores `spec` and returns the tool's login initiation URL that starts it (what an LMS puts
    /// in the iframe or link).
    pub fn login_url(&self, spec: LaunchSpec) -> Url {
        self.inner.login_url(spec)
    }

    /// Replaces the signing key with a new one under a new `kid`; the old key stays in the JWKS.
    pub fn rotate_key(&self) -> anyhow::Result<String> {
        let pem = lti::keys::generate_private_key_pem()?;
        let new = SigningKey::from_pem(&lti::keys::new_kid(), &pem)?;
        let kid = new.kid.clone();
        let mut keys = lock(&self.inner.keys);
        let old = std::mem::replace(&mut keys.current, new);
        keys.retired.push(old);
        Ok(kid)
    }

    /// How often the JWKS was fetched.
    pub fn jwks_requests(&self) -> usize {
        self.inner.jwks_requests.load(Ordering::SeqCst)
    }

    /// Makes the JWKS endpoint answer 503 (`true`) or serve keys again (`false`).
    pub fn set_jwks_failing(&self, failing: bool) {
        self.inner.jwks_failing.store(failing, Ordering::SeqCst);
    }

    /// What the tool sent to the services.
    pub fn received_scores(&self) -> Vec<Value> {
        lock(&self.inner.services.scores).clone()
    }

    /// How many token requests the platform answered.
    pub fn token_requests(&self) -> usize {
        self.inner.services.token_requests.load(Ordering::SeqCst)
    }

    /// Invalidates every access token it issued (the next service call gets 401).
    pub fn revoke_tokens(&self) {
        self.inner.services.revoke_tokens();
    }

    /// The User-Agent of every service request, in order.
    pub fn service_user_agents(&self) -> Vec<String> {
        lock(&self.inner.services.service_user_agents).clone()
    }

    /// Makes the next `count` score posts fail with `status` (and `Retry-After`, when given).
    pub fn fail_next_scores(&self, count: usize, status: u16, retry_after: Option<u64>) {
        let mut failures = lock(&self.inner.services.score_failures);
        failures.extend(std::iter::repeat_n((status, retry_after), count));
    }

    /// Makes the gradebook refuse every score for `sub` with `status` and `text`.
    pub fn refuse_scores_for(&self, sub: &str, status: u16, text: &str) {
        lock(&self.inner.services.refused_users).insert(sub.to_owned(), (status, text.to_owned()));
    }

    /// Takes the gradebook down (every score post answers 503) or brings it back.
    pub fn set_scores_down(&self, down: bool) {
        self.inner
            .services
            .scores_down
            .store(down, Ordering::SeqCst);
    }

    /// How many score posts arrived, answered or not.
    pub fn score_posts_total(&self) -> usize {
        self.inner.services.score_posts.load(Ordering::SeqCst)
    }

    /// Makes every score post take this long before it is answered.
    pub fn set_score_delay(&self, delay: std::time::Duration) {
        self.inner
            .services
            .score_delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Trusts these tool keys for client assertions instead of fetching the tool's JWKS.
    pub fn trust_tool_keys(&self, keys: Vec<entity::tool_key::Model>) -> anyhow::Result<()> {
        let mut set = jsonwebtoken::jwk::JwkSet { keys: Vec::new() };
        for key in keys {
            set.keys
                .push(SigningKey::from_pem(&key.kid, &key.private_key_pem)?.public_jwk()?);
        }
        *lock(&self.inner.trusted_tool_keys) = Some(set);
        Ok(())
    }

    /// The deep linking responses the platform accepted, as claims.
    pub fn deep_linking_responses(&self) -> Vec<Value> {
        lock(&self.inner.services.deep_linking_responses).clone()
    }

    /// An instructor's deep linking request (the content picker of an LMS course): resource links,
    /// several at once, back to the platform's `deep-linking/return`, with `data` to echo.
    pub fn deep_linking_request(&self, sub: &str) -> LaunchSpec {
        let mut spec = LaunchSpec::instructor(sub);
        spec.message_type = "LtiDeepLinkingRequest".into();
        spec
    }

    /// The URL this platform opens to register the tool with the tool's invitation link (what
    /// its administrator pasted), with a fresh single-use registration token.
    pub fn registration_url(&self, invitation: &Url, variant: Variant) -> Url {
        self.registration_url_from(invitation, variant, &self.url(""))
    }

    /// As [`Self::registration_url`], with the configuration fetched from `platform_base` (another
    /// name of this platform than its issuer, as an institution's own Canvas host is).
    pub fn registration_url_from(
        &self,
        invitation: &Url,
        variant: Variant,
        platform_base: &Url,
    ) -> Url {
        let token = lti::random_token(16);
        lock(&self.inner.services.registration_tokens).insert(token.clone());
        let name = match variant {
            Variant::Moodle => "moodle",
            Variant::Canvas => "canvas",
        };
        let configuration = platform_base
            .join(&format!("openid-configuration/{name}"))
            .unwrap_or_else(|_| platform_base.clone());
        let mut url = invitation.clone();
        url.query_pairs_mut()
            .append_pair("openid_configuration", configuration.as_str())
            .append_pair("registration_token", &token);
        url
    }

    /// The tool registrations this platform accepted.
    pub fn registrations(&self) -> Vec<Value> {
        lock(&self.inner.services.registrations).clone()
    }

    /// How often the tool asked for the platform's OpenID configuration.
    pub fn configuration_fetches(&self) -> usize {
        self.inner
            .services
            .configuration_fetches
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many scores the gradebook accepted.
    pub fn received_scores_count(&self) -> usize {
        lock(&self.inner.services.scores).len()
    }

    /// How many score posts arrived, accepted or not.
    pub fn score_posts(&self) -> usize {
        self.inner.services.score_posts.load(Ordering::SeqCst)
    }

    /// The line items of the gradebook.
    pub fn line_items(&self) -> Vec<Value> {
        lock(&self.inner.services.line_items).clone()
    }

    /// Makes a line item, as an LMS does for a graded activity, and returns its URL (for a launch's
    /// AGS `lineitem` claim).
    pub fn create_line_item(&self, item: Value) -> String {
        self.inner.add_line_item(item)
    }

    /// Adds a member to the roster served by NRPS.
    pub fn add_member(&self, member: Value) {
        lock(&self.inner.services.roster).push(member);
    }
}

impl Inner {
    pub(crate) fn issuer(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }

    pub(crate) fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    /// Stores a line item under a Moodle-shaped URL (with a query string) and returns the URL.
    pub(crate) fn add_line_item(&self, mut item: Value) -> String {
        let mut items = lock(&self.services.line_items);
        let number = items.len() + 1;
        let id = self.url(&format!("lineitems/{number}/lineitem?type_id={number}"));
        item["id"] = json!(id.as_str());
        items.push(item);
        id.to_string()
    }

    fn login_url(&self, spec: LaunchSpec) -> Url {
        let hint = lti::random_token(12);
        let login_hint = spec.login_hint.clone().unwrap_or_else(|| spec.sub.clone());
        let deployment = spec
            .deployment_id
            .clone()
            .unwrap_or_else(|| self.deployment_id.clone());
        let storage_target = spec.storage_target.clone();
        lock(&self.launches).insert(hint.clone(), spec);
        let mut url = self.tool.login.clone();
        url.query_pairs_mut()
            .append_pair("iss", &self.issuer())
            .append_pair("login_hint", &login_hint)
            .append_pair("target_link_uri", self.tool.launch.as_str())
            .append_pair("lti_message_hint", &hint)
            .append_pair("client_id", &self.client_id)
            .append_pair("lti_deployment_id", &deployment);
        if let Some(target) = &storage_target {
            url.query_pairs_mut()
                .append_pair("lti_storage_target", target);
        }
        url
    }

    pub(crate) fn launch_spec(&self, hint: &str) -> Option<LaunchSpec> {
        lock(&self.launches).get(hint).cloned()
    }

    /// The id_token for `spec`, answering a login with `nonce`.
    pub(crate) fn id_token(&self, spec: &LaunchSpec, nonce: &str) -> anyhow::Result<String> {
        let now = wall_unix();
        let deployment = spec
            .deployment_id
            .clone()
            .unwrap_or_else(|| self.deployment_id.clone());
        let mut payload = json!({
            "iss": self.issuer(),
            "aud": self.client_id,
            "sub": spec.sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            claims::VERSION: "1.3.0",
            claims::MESSAGE_TYPE: spec.message_type,
            claims::DEPLOYMENT_ID: deployment,
            claims::TARGET_LINK_URI: self.tool.launch.as_str(),
            claims::ROLES: spec.roles,
            claims::RESOURCE_LINK: { "id": spec.resource_link_id, "title": "Kursöversikt" },
            claims::LAUNCH_PRESENTATION: {
                "document_target": "iframe",
                "return_url": self.url("").as_str(),
            },
            claims::CUSTOM: spec.custom,
            claims::AGS_ENDPOINT: {
                "scope": [
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                ],
                "lineitems": self.url("lineitems").as_str(),
            },
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": self.url("memberships").as_str(),
                "service_versions": ["2.0"],
            },
        });
        let Some(object) = payload.as_object_mut() else {
            anyhow::bail!("claims are an object");
        };
        if let Some((name, given, family)) = &spec.name {
            object.insert("name".into(), json!(name));
            object.insert("given_name".into(), json!(given));
            object.insert("family_name".into(), json!(family));
        }
        if let Some(email) = &spec.email {
            object.insert("email".into(), json!(email));
        }
        if let Some((id, label, title)) = &spec.context {
            object.insert(
                claims::CONTEXT.into(),
                json!({ "id": id, "label": label, "title": title,
                        "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"] }),
            );
        }
        if let Some(locale) = &spec.locale
            && let Some(presentation) = object
                .get_mut(claims::LAUNCH_PRESENTATION)
                .and_then(Value::as_object_mut)
        {
            presentation.insert("locale".into(), json!(locale));
        }
        match spec.message_type.as_str() {
            "LtiDeepLinkingRequest" => {
                object.remove(claims::RESOURCE_LINK);
                object.insert(
                    claims::DEEP_LINKING_SETTINGS.into(),
                    json!({
                        "deep_link_return_url": self.url("deep-linking/return").as_str(),
                        "accept_types": ["ltiResourceLink"],
                        "accept_presentation_document_targets": ["iframe", "window"],
                        "accept_multiple": true,
                        "auto_create": true,
                        "data": "dev-platform-selection-1",
                    }),
                );
            }
            "LtiSubmissionReviewRequest" => {
                object.insert(claims::FOR_USER.into(), json!({ "user_id": "learner-1" }));
            }
            _ => {}
        }
        for edit in &spec.edits {
            match edit {
                ClaimEdit::Set(name, value) => {
                    object.insert(name.clone(), value.clone());
                }
                ClaimEdit::Remove(name) => {
                    object.remove(name);
                }
            }
        }
        self.sign_with(&payload, &spec.signing)
    }

    fn sign_with(&self, payload: &Value, signing: &Signing) -> anyhow::Result<String> {
        use base64::Engine;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let keys = lock(&self.keys);
        let token = match signing {
            Signing::Platform => keys.current.sign(payload)?,
            Signing::NoKid => {
                let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
                jsonwebtoken::encode(&header, payload, &keys.current.key)?
            }
            Signing::UnknownKid => keys.current.with_kid("no-such-kid").sign(payload)?,
            Signing::AlgNone => {
                let header = json!({ "alg": "none", "typ": "JWT", "kid": keys.current.kid });
                format!(
                    "{}.{}.",
                    b64(header.to_string().as_bytes()),
                    b64(payload.to_string().as_bytes())
                )
            }
            Signing::Hs256 => {
                let public = keys.current.public_jwk()?;
                let secret = serde_json::to_vec(&public)?;
                let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
                header.kid = Some(keys.current.kid.clone());
                jsonwebtoken::encode(
                    &header,
                    payload,
                    &jsonwebtoken::EncodingKey::from_secret(&secret)?,
                )?
            }
            Signing::ForeignKey => {
                let pem = lti::keys::generate_private_key_pem()?;
                SigningKey::from_pem(&keys.current.kid, &pem)?.sign(payload)?
            }
            Signing::TamperedPayload => {
                let token = keys.current.sign(payload)?;
                let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
                let mut changed = payload.clone();
                changed["sub"] = json!("someone-else");
                if let Some(part) = parts.get_mut(1) {
                    *part = b64(changed.to_string().as_bytes());
                }
                parts.join(".")
            }
        };
        Ok(token)
    }

    pub(crate) fn jwks(&self) -> anyhow::Result<Value> {
        self.jwks_requests.fetch_add(1, Ordering::SeqCst);
        if self.jwks_failing.load(Ordering::SeqCst) {
            anyhow::bail!("the key set is switched off for this test");
        }
        let keys = lock(&self.keys);
        let mut set = vec![serde_json::to_value(keys.current.public_jwk()?)?];
        for retired in &keys.retired {
            set.push(serde_json::to_value(retired.public_jwk()?)?);
        }
        Ok(json!({ "keys": set }))
    }

    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    pub(crate) fn tool(&self) -> &ToolUrls {
        &self.tool
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

async fn jwks(
    axum::extract::State(inner): axum::extract::State<Arc<Inner>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match inner.jwks() {
        Ok(set) => axum::Json(set).into_response(),
        Err(err) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, err.to_string()).into_response(),
    }
}

/// The hidden inputs of the platform's auto-post form (`name` → `value`), for clients that are
/// not browsers: tests and the benchmark.
pub fn form_fields(html: &str) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    for input in html.split("<input").skip(1) {
        let attribute = |name: &str| {
            let marker = format!("{name}=\"");
            let start = input.find(&marker)? + marker.len();
            let end = input[start..].find('"')? + start;
            Some(
                input[start..end]
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            )
        };
        if let (Some(name), Some(value)) = (attribute("name"), attribute("value")) {
            fields.insert(name, value);
        }
    }
    fields
}

/// The action URL of the auto-post form.
pub fn form_action(html: &str) -> Option<String> {
    let start = html.find("action=\"")? + "action=\"".len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

/// Unix seconds by the wall clock: the platform keeps its own time, as a real one does, apart from
/// the tool's clock that tests move.
fn wall_unix() -> i64 {
    crate::lti::clock::Clock::default().now_unix()
}

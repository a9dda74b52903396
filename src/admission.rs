//! The launch use case: a login initiation and the platform's id_token turned into an admitted
//! session, by combining the protocol checks of `lti` with the records in `store`.
use sea_orm::DbErr;
use url::Url;

use crate::{
    lti::{
        self,
        claims::{LtiClaims, MessageType, ToolRole},
        keys::PlatformKeyError,
        launch::{self, LaunchError},
        login::{LoginError, LoginInitiation},
    },
    session::{Session, SessionStanding},
    state::App,
    store::{self, deployment, launch_record, used_login},
};

/// What the `state` parameter carries: everything the launch needs to finish this login, signed
/// with the installation's key (shared by every instance). Starting a login therefore writes
/// nothing: an unauthenticated request costs no row, and the launch reads no row to find its login.
/// The one fact a signature cannot carry — that the login was used — is written when the launch is
/// admitted (`store::used_login`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct LoginState {
    /// Marks the token as a login state: session tokens are signed with the same key.
    #[serde(rename = "use")]
    purpose: LoginPurpose,
    /// The nonce handed to the platform, unique per login.
    nonce: String,
    /// SHA-256 hex of the browser's binding secret (cookie or platform storage).
    bnd: String,
    /// The registration the login is for.
    pid: i64,
    /// The login's target link URI.
    tlu: String,
    /// The platform's storage target, when it offered platform storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    st: Option<String>,
    /// The login initiation's parameters, to start the same login again in a window of its own;
    /// left out when they would make the state longer than [`MAX_STATE_CHARS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lq: Option<String>,
    /// When the state stops being accepted, Unix seconds.
    exp: i64,
}

impl crate::session::Expiring for LoginState {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// Longest `state` handed to a platform: every LMS takes a state of this size in its redirect.
pub const MAX_STATE_CHARS: usize = 2000;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
enum LoginPurpose {
    #[serde(rename = "login")]
    Login,
}

impl LoginState {
    /// The state a launch carries, when it is this installation's, unaltered and unexpired.
    fn read(app: &App, state: &str) -> Option<Self> {
        app.sessions.verify_claims(state, app.clock.now_unix()).ok()
    }

    /// Whether `secret` is the binding secret of the browser that started this login.
    fn bound_to(&self, secret: Option<&str>) -> bool {
        secret.is_some_and(|secret| {
            aws_lc_rs::constant_time::verify_slices_are_equal(
                lti::sha256_hex(secret).as_bytes(),
                self.bnd.as_bytes(),
            )
            .is_ok()
        })
    }
}

/// Why a login or launch did not go through.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    /// The login initiation is incomplete.
    #[error(transparent)]
    Login(#[from] LoginError),
    /// `target_link_uri` does not point at this tool.
    #[error("target_link_uri {0} is not on this tool")]
    ForeignTarget(String),
    /// No registration for this issuer (and client_id).
    #[error("no platform registered for issuer {issuer:?} and client_id {client_id:?}")]
    UnknownPlatform {
        /// What the platform sent.
        issuer: String,
        /// What the platform sent.
        client_id: Option<String>,
    },
    /// The issuer has several registrations and the login named none.
    #[error("issuer {0:?} has several registrations; the login must carry client_id")]
    AmbiguousIssuer(String),
    /// The launch itself was refused.
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] DbErr),
    /// The login state could not be signed.
    #[error("cannot sign the login state: {0}")]
    Signing(String),
}

/// The cookie that binds a login to the browser that started it. Its name is derived from the
/// state so that two launches in two tabs do not overwrite each other's binding: from the state's
/// signature, its last part, which is as unique as the whole and one SHA-256 block long instead of
/// a dozen (hashing the whole state was 3 % of a launch's instructions).
pub fn binding_cookie_name(state: &str) -> String {
    let signature = state.rsplit('.').next().unwrap_or(state);
    format!("cb_login_{}", &lti::sha256_hex(signature)[..16])
}

/// What the login initiation answers.
#[derive(Debug)]
pub struct LoginRedirect {
    /// The platform's authentication URL with every parameter.
    pub location: Url,
    /// Cookie name and value binding the state to this browser.
    pub binding_cookie: (String, String),
    /// How long the cookie should live, seconds.
    pub max_age: u64,
    /// Where the platform keeps the same secret, when it offered platform storage.
    pub storage: Option<StorageTarget>,
}

/// A platform's storage frame (1EdTech Client Side postMessages).
#[derive(Debug, Clone)]
pub struct StorageTarget {
    /// `_parent` or the name of a frame in the platform's page.
    pub frame: String,
    /// The platform's origin: messages go only there, answers count only from there.
    pub origin: String,
    /// The key the secret is kept under.
    pub key: String,
}

/// The key under which the platform keeps a login's binding secret.
pub fn storage_key(state: &str) -> String {
    format!("coursebridge_{}", &lti::sha256_hex(state)[..24])
}

fn storage_target(frame: &str, auth_url: &Url, state: &str) -> StorageTarget {
    StorageTarget {
        frame: frame.to_owned(),
        origin: auth_url.origin().ascii_serialization(),
        key: storage_key(state),
    }
}

/// A launch that came without the browser's proof (no cookie, nothing from platform storage).
#[derive(Debug, Clone)]
pub struct ProofMissing {
    /// Read the proof from the platform's storage, when the login put it there.
    pub storage: Option<StorageTarget>,
    /// The same login started again in a window of its own (first party: the cookie works).
    /// `None` when the login's parameters were too long to travel in the state.
    pub new_window: Option<Url>,
}

/// When a launch arrives without proof: what the page can still do, for a login that is waiting
/// (known, unused, unexpired). `None` for anything else; the launch then fails as usual.
pub async fn proof_missing(app: &App, state: &str) -> Result<Option<ProofMissing>, DbErr> {
    let Some(login) = LoginState::read(app, state) else {
        return Ok(None);
    };
    if used_login::is_used(&app.db, &login.nonce).await? {
        return Ok(None);
    }
    let new_window = login.lq.as_deref().map(|query| {
        let mut url = app.url("lti/login");
        url.set_query(Some(query));
        url
    });
    let storage = match &login.st {
        Some(frame) => app
            .registry
            .platform_by_id(&app.db, login.pid)
            .await?
            .and_then(|platform| Url::parse(&platform.auth_login_url).ok())
            .map(|auth| storage_target(frame, &auth, state)),
        None => None,
    };
    Ok(Some(ProofMissing {
        storage,
        new_window,
    }))
}

/// Checks the login initiation, signs state and nonce into the state, and builds the redirect to
/// the platform.
pub async fn begin_login(
    app: &App,
    initiation: &LoginInitiation,
    framed: bool,
) -> Result<LoginRedirect, AdmissionError> {
    let mut login = initiation.check()?;
    if login.storage_target.is_none() && framed {
        // Some platforms offer storage only when asked (`lti.capabilities`), without naming a
        // target at login: inside a frame, the login page asks.
        login.storage_target = Some(lti::login::DISCOVER_STORAGE.to_owned());
    }
    if login.target_link_uri.origin() != app.public_base.origin()
        || !login
            .target_link_uri
            .path()
            .starts_with(app.public_base.path())
    {
        return Err(AdmissionError::ForeignTarget(
            login.target_link_uri.to_string(),
        ));
    }
    let platform = match &login.client_id {
        Some(client_id) => {
            app.registry
                .platform(&app.db, &login.issuer, client_id)
                .await?
        }
        None => {
            let mut found = store::platform::find_by_issuer(&app.db, &login.issuer).await?;
            if found.len() > 1 {
                return Err(AdmissionError::AmbiguousIssuer(login.issuer));
            }
            found.pop()
        }
    };
    let Some(platform) = platform else {
        return Err(AdmissionError::UnknownPlatform {
            issuer: login.issuer,
            client_id: login.client_id,
        });
    };
    let auth_url = Url::parse(&platform.auth_login_url)
        .map_err(|err| DbErr::Custom(format!("stored auth_login_url is not a URL: {err}")))?;

    let nonce = lti::random_token(32);
    let binding_secret = lti::random_token(32);
    let ttl = app.config.login_state_ttl_seconds;
    let mut claims = LoginState {
        purpose: LoginPurpose::Login,
        nonce: nonce.clone(),
        bnd: lti::sha256_hex(&binding_secret),
        pid: platform.id,
        tlu: login.target_link_uri.to_string(),
        st: login.storage_target.clone(),
        lq: Some(initiation.to_query()),
        exp: app.clock.now_unix() + ttl as i64,
    };
    let sign = |claims: &LoginState| {
        app.sessions
            .issue_claims(claims)
            .map_err(|err| AdmissionError::Signing(err.to_string()))
    };
    let mut state = sign(&claims)?;
    if state.len() > MAX_STATE_CHARS {
        // Long hints: the login cannot be restarted in a new window, but it still works in a
        // browser that keeps the cookie or offers platform storage.
        claims.lq = None;
        state = sign(&claims)?;
    }
    let location = lti::login::authentication_request(
        &auth_url,
        &login,
        &platform.client_id,
        &app.url("lti/launch"),
        &state,
        &nonce,
    );
    let storage = login
        .storage_target
        .as_deref()
        .map(|frame| storage_target(frame, &auth_url, &state));
    Ok(LoginRedirect {
        location,
        binding_cookie: (binding_cookie_name(&state), binding_secret),
        max_age: ttl,
        storage,
    })
}

/// The form the platform posts to the launch URL.
#[derive(Debug, Default)]
pub struct LaunchForm {
    /// The id_token.
    pub id_token: Option<String>,
    /// The state handed out at login.
    pub state: Option<String>,
    /// Set when the platform refused the authentication request.
    pub error: Option<String>,
    /// The platform's explanation.
    pub error_description: Option<String>,
    /// The binding secret read back from platform storage (instead of the cookie).
    pub binding: Option<String>,
}

impl LaunchForm {
    /// Reads an `application/x-www-form-urlencoded` body. The id_token is some 4 KB of base64url:
    /// a value without `%` or `+` is taken as it is after one UTF-8 check, where the generic
    /// decoder went over it byte by byte four times (5 % of a launch's instructions). Unknown
    /// fields are ignored; a field given twice is refused, as the generic decoder did.
    pub fn from_urlencoded(body: &[u8]) -> Result<Self, String> {
        let mut form = Self::default();
        // memchr's vectorised scans: a byte-by-byte loop over the token was most of what was left.
        let mut rest = body;
        while !rest.is_empty() {
            let end = memchr::memchr(b'&', rest).unwrap_or(rest.len());
            let pair = &rest[..end];
            rest = rest.get(end + 1..).unwrap_or_default();
            if pair.is_empty() {
                continue;
            }
            let (name, value) = match memchr::memchr(b'=', pair) {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &pair[pair.len()..]),
            };
            let name = form_decoded(name);
            let slot = match name.as_ref() {
                "id_token" => &mut form.id_token,
                "state" => &mut form.state,
                "error" => &mut form.error,
                "error_description" => &mut form.error_description,
                "binding" => &mut form.binding,
                _ => continue,
            };
            if slot.is_some() {
                return Err(format!("duplicate field `{name}`"));
            }
            *slot = Some(form_decoded(value).into_owned());
        }
        Ok(form)
    }
}

/// One name or value of a urlencoded form: `+` is a space, `%XX` a byte, and what is not UTF-8
/// becomes U+FFFD.
fn form_decoded(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    if memchr::memchr2(b'%', b'+', raw).is_none() {
        return match std::str::from_utf8(raw) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(raw),
        };
    }
    // The rare escaped value goes through the generic decoder, as the value of a pair of its own.
    let mut pair = Vec::with_capacity(raw.len() + 2);
    pair.extend_from_slice(b"v=");
    pair.extend_from_slice(raw);
    std::borrow::Cow::Owned(
        url::form_urlencoded::parse(&pair)
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default(),
    )
}

/// A launch that passed every check.
#[derive(Debug)]
pub struct Admitted {
    /// The message type (resource link, deep linking, submission review).
    pub message_type: MessageType,
    /// The session for the pages that follow.
    pub session: Session,
    /// The module the resource link points at (custom parameter `module`).
    pub target_module: Option<String>,
    /// The self-assessment round the resource link points at (custom parameter `assessment`).
    pub target_assessment: Option<String>,
    /// The deep linking settings of an `LtiDeepLinkingRequest`.
    pub deep_linking: Option<lti::deep_linking::Settings>,
    /// Whose submission an `LtiSubmissionReviewRequest` opens (their LMS `user_id`).
    pub for_user: Option<String>,
    /// The platform's issuer, the tool's client_id there, and the launch's `deployment_id` (what a
    /// deep linking response is addressed with).
    pub addressed: (String, String, String),
    /// The organisations the person is asked to choose theirs from, before the course (empty: not
    /// asked).
    pub choose_organisation: Vec<String>,
}

/// Validates the launch end to end and records it. `binding_secret` is what the browser holds for
/// this state (the login cookie).
pub async fn complete_launch(
    app: &App,
    form: &LaunchForm,
    binding_secret: Option<&str>,
) -> Result<Admitted, AdmissionError> {
    if let Some(error) = &form.error {
        let description = form.error_description.as_deref().unwrap_or_default();
        let shown: String = format!("{error}: {description}")
            .chars()
            .take(200)
            .collect();
        return Err(LaunchError::PlatformError(shown).into());
    }
    let state_value = form
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(LaunchError::StateMissing)?;
    let id_token = form
        .id_token
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(LaunchError::TokenMissing)?;
    let now = app.clock.now_unix();

    // Forged, altered, foreign or expired states all read as unknown. A post from another browser
    // does not hold the binding secret and is refused without touching the login.
    let state = LoginState::read(app, state_value).ok_or(LaunchError::StateUnknown)?;
    if !state.bound_to(binding_secret) {
        return Err(if used_login::is_used(&app.db, &state.nonce).await? {
            LaunchError::StateReused
        } else {
            LaunchError::StateMismatch
        }
        .into());
    }
    let platform = app
        .registry
        .platform_by_id(&app.db, state.pid)
        .await?
        .ok_or(LaunchError::StateUnknown)?;
    let header = launch::read_header(id_token)?;
    let key = app
        .platform_keys
        .key(&platform.jwks_url, &header.kid)
        .await
        .map_err(|err| match err {
            PlatformKeyError::UnknownKid(kid) => LaunchError::UnknownKid(kid),
            PlatformKeyError::Unusable(kid) => LaunchError::UnknownKid(kid),
            PlatformKeyError::Unavailable(problem) => {
                tracing::warn!(jwks_url = %platform.jwks_url, %problem, "platform key set unavailable");
                LaunchError::KeySetUnavailable
            }
        })?;
    let expected = launch::Expected {
        issuer: &platform.issuer,
        client_id: &platform.client_id,
        nonce: &state.nonce,
        target_link_uri: &state.tlu,
        now,
        leeway: app.config.clock_leeway_seconds,
    };
    let claims = match launch::verify(id_token, &key, &expected) {
        Err(LaunchError::NonceMismatch) => {
            // A validly signed token whose nonce belongs to a finished login is a replay.
            let replayed = match launch::unverified_nonce(id_token) {
                Some(nonce) => used_login::is_used(&app.db, &nonce).await?,
                None => false,
            };
            return Err(if replayed {
                LaunchError::NonceReused
            } else {
                LaunchError::NonceMismatch
            }
            .into());
        }
        other => other?,
    };
    // Single use across every instance: the insert of the nonce decides which post owns the login.
    if !used_login::consume(&app.db, &state.nonce, state.exp).await? {
        return Err(LaunchError::StateReused.into());
    }

    let deployment = match app
        .registry
        .approved_deployment(&app.db, platform.id, &claims.deployment_id)
        .await?
    {
        Some(found) => found,
        None => {
            let recorded = deployment::record_seen(
                &app.db,
                platform.id,
                &claims.deployment_id,
                platform.auto_approve_deployments,
                platform.organisation.clone(),
                now,
            )
            .await?;
            tracing::info!(
                platform = %platform.issuer,
                deployment_id = %claims.deployment_id,
                status = %recorded.status,
                "recorded a deployment seen for the first time"
            );
            recorded
        }
    };
    if deployment.status == deployment::DISABLED {
        return Err(LaunchError::DeploymentDisabled(claims.deployment_id.clone()).into());
    }
    if deployment.status != deployment::APPROVED {
        return Err(LaunchError::DeploymentPending(claims.deployment_id.clone()).into());
    }

    let role = lti::claims::tool_role(&claims.roles);
    let recorded = record(app, platform.id, deployment.id, &claims, role, now).await?;
    let belonging = crate::learning::organisation::at_launch(
        &app.db,
        &app.courses,
        crate::learning::organisation::LaunchFacts {
            user_id: recorded.user_id,
            context_id: recorded.context_id,
            cohort_id: recorded.cohort_id,
            deployment_organisation: deployment.organisation.as_deref(),
            role,
            custom: &claims.custom,
            now,
        },
    )
    .await?;
    let lang = crate::i18n::Lang::from_locale(
        claims
            .locale
            .as_deref()
            .or(deployment.default_locale.as_deref()),
    );
    Ok(Admitted {
        message_type: claims.message_type,
        session: Session {
            pid: platform.id,
            did: deployment.id,
            cid: recorded.context_id,
            rid: recorded.resource_link_id,
            uid: recorded.user_id,
            role,
            lang: lang.code().to_owned(),
            iat: now,
            seen: now,
            exp: now + app.config.session_ttl_seconds as i64,
            name: display_name(&claims),
            ctx: claims
                .context
                .as_ref()
                .and_then(|c| c.title.clone().or_else(|| c.label.clone())),
            link_token: String::new(),
        },
        target_module: module_of(&claims).map(str::to_owned),
        target_assessment: claims
            .custom
            .iter()
            .find(|(key, _)| key == "assessment")
            .map(|(_, value)| value.clone()),
        addressed: (
            platform.issuer.clone(),
            platform.client_id.clone(),
            claims.deployment_id.clone(),
        ),
        deep_linking: claims.deep_linking.clone(),
        for_user: claims.for_user.clone(),
        choose_organisation: belonging.choose_from,
    })
}

/// Stores the person, context, link and membership, unless this instance recorded exactly the same
/// launch a few minutes ago (relaunching from module to module is the common case).
///
/// The four upserts run without a transaction: each is idempotent, the session is issued only
/// after all succeeded, and a launch that failed half-way is completed by the next one.
async fn record(
    app: &App,
    platform_id: i64,
    deployment_id: i64,
    claims: &LtiClaims,
    role: ToolRole,
    now: i64,
) -> Result<launch_record::Recorded, DbErr> {
    // Scores go only where the platform lets the tool post them.
    let grading = claims.ags.as_ref().filter(|ags| ags.can_score());
    let launch = launch_record::LaunchRecord {
        platform_id,
        deployment_id,
        person: launch_record::Person {
            sub: claims.sub.clone(),
            name: claims.name.clone(),
            given_name: claims.given_name.clone(),
            family_name: claims.family_name.clone(),
            email: claims.email.clone().filter(|_| app.config.store_email),
        },
        context: claims
            .context
            .as_ref()
            .map(|c| launch_record::ContextRecord {
                id: c.id.clone(),
                label: c.label.clone(),
                title: c.title.clone(),
                memberships_url: claims.memberships_url.clone(),
                ags_lineitems_url: grading.and_then(|ags| ags.lineitems.clone()),
                ags_scopes: grading.map(|ags| ags.scopes.join(" ")),
            }),
        resource_link: claims
            .resource_link
            .as_ref()
            .map(|l| launch_record::ResourceLinkRecord {
                id: l.id.clone(),
                title: l.title.clone(),
                ags_lineitem_url: grading.and_then(|ags| ags.lineitem.clone()),
                module_slug: module_of(claims).map(str::to_owned),
            }),
        lti_roles: claims.roles.join(" "),
        role: role.as_str(),
        now,
    };
    let fingerprint = format!(
        "{:?}",
        (
            launch.platform_id,
            launch.deployment_id,
            &launch.person,
            &launch.context,
            &launch.resource_link,
            &launch.lti_roles,
            launch.role
        )
    );
    if let Some(recorded) = app.recent_launches.get(&fingerprint) {
        return Ok(recorded);
    }
    // A first launch writes five rows in a row: on one held connection, one ping instead of five.
    let held = store::held::hold(&app.db).await?;
    let recorded = launch_record::record(&held, launch).await?;
    drop(held);
    app.recent_launches.insert(fingerprint, recorded);
    Ok(recorded)
}

/// The module a resource link opens (custom parameter `module`).
fn module_of(claims: &LtiClaims) -> Option<&str> {
    claims
        .custom
        .iter()
        .find(|(key, _)| key == "module")
        .map(|(_, value)| value.as_str())
}

fn display_name(claims: &LtiClaims) -> Option<String> {
    name_of(
        claims.name.clone(),
        claims.given_name.clone(),
        claims.family_name.clone(),
    )
}

/// A person's name as pages show it: the full name, else given and family name as there are.
fn name_of(name: Option<String>, given: Option<String>, family: Option<String>) -> Option<String> {
    name.or(match (given, family) {
        (Some(given), Some(family)) => Some(format!("{given} {family}")),
        (Some(one), None) | (None, Some(one)) => Some(one),
        (None, None) => None,
    })
}

/// How long an instance trusts what it read about a session's person and deployment: an erasure,
/// a disabled deployment or a revocation ends the person's sessions on every instance within this.
pub const SESSION_STANDING_TTL: std::time::Duration = std::time::Duration::from_secs(3);
/// A token older than this is replaced in the page's links by a fresh one, so that a session in use
/// does not run into its idle limit.
const SESSION_REFRESH_SECONDS: i64 = 60;

/// Why a session token is not accepted (all are answered alike: the session has ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionRefused {
    /// Not a session token of this installation, altered, or past its expiry.
    #[error("the session token is not valid")]
    Invalid,
    /// Not used for longer than `session_idle_seconds`.
    #[error("the session was not used for too long")]
    Idle,
    /// Older than `session_ttl_seconds`.
    #[error("the session is older than the longest a session lasts")]
    TooOld,
    /// The person was erased, their deployment disabled, or their sessions revoked.
    #[error("the session was ended")]
    Ended,
}

/// Why a session could not be resumed.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// The session may not go on.
    #[error(transparent)]
    Refused(#[from] SessionRefused),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] DbErr),
}

/// Resumes the session a page request carries: the token's signature and times, then whether the
/// person and deployment may still use it (read at most every [`SESSION_STANDING_TTL`] per
/// instance). The session comes back with the person's name, the context's title, and the token
/// the page's links should carry.
pub async fn resume_session(app: &App, token: &str) -> Result<Session, ResumeError> {
    let now = app.clock.now_unix();
    let mut session = app
        .sessions
        .verify(token, now)
        .map_err(|_| SessionRefused::Invalid)?;
    if now - session.seen > app.config.session_idle_seconds as i64 {
        return Err(SessionRefused::Idle.into());
    }
    if now - session.iat > app.config.session_ttl_seconds as i64 {
        return Err(SessionRefused::TooOld.into());
    }
    let key = (session.uid, session.did, session.cid);
    let standing = match app.session_standing.get(&key) {
        Some(standing) => standing,
        None => {
            let standing =
                store::people::session_standing(&app.db, session.uid, session.did, session.cid)
                    .await?
                    .map(|(person, context_title)| SessionStanding {
                        revoked_at: person.sessions_revoked_at,
                        name: name_of(person.name, person.given_name, person.family_name),
                        context_title,
                    });
            app.session_standing.insert(key, standing.clone());
            standing
        }
    };
    let Some(standing) = standing else {
        return Err(SessionRefused::Ended.into());
    };
    if standing
        .revoked_at
        .is_some_and(|revoked| session.iat <= revoked)
    {
        return Err(SessionRefused::Ended.into());
    }
    session.name = standing.name;
    session.ctx = standing.context_title;
    session.link_token = if now - session.seen >= SESSION_REFRESH_SECONDS {
        let mut fresh = session.clone();
        fresh.seen = now;
        app.sessions
            .issue(&fresh)
            .map_err(|_| SessionRefused::Invalid)?
    } else {
        token.to_owned()
    };
    Ok(session)
}

/// The grade mode of a deployment (the default when it names none it knows).
pub async fn grade_mode_of(
    db: &sea_orm::DatabaseConnection,
    deployment_id: i64,
) -> Result<crate::grades::GradeMode, DbErr> {
    Ok(store::deployment::get(db, deployment_id)
        .await?
        .and_then(|d| crate::grades::GradeMode::parse(&d.grade_mode))
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::LaunchForm;

    #[test]
    fn a_launch_form_is_read_as_a_urlencoded_decoder_reads_it() {
        let form = LaunchForm::from_urlencoded(
            b"id_token=eyJh.eyJz.c2ln&state=a.b.c&other=1&error_description=f%C3%A5r+inte%3D%26",
        )
        .unwrap();
        assert_eq!(form.id_token.as_deref(), Some("eyJh.eyJz.c2ln"));
        assert_eq!(form.state.as_deref(), Some("a.b.c"));
        assert_eq!(form.error_description.as_deref(), Some("får inte=&"));
        assert_eq!(form.error, None);
        let empty = LaunchForm::from_urlencoded(b"&&error&binding=").unwrap();
        assert_eq!(empty.error.as_deref(), Some(""));
        assert_eq!(empty.binding.as_deref(), Some(""));
        let lossy = LaunchForm::from_urlencoded(b"state=a\xffb").unwrap();
        assert_eq!(lossy.state.as_deref(), Some("a\u{fffd}b"));
        let escaped_name = LaunchForm::from_urlencoded(b"id%5Ftoken=x").unwrap();
        assert_eq!(escaped_name.id_token.as_deref(), Some("x"));
    }

    #[test]
    fn a_field_given_twice_is_refused() {
        let refused = LaunchForm::from_urlencoded(b"state=a&id_token=x&state=b").unwrap_err();
        assert_eq!(refused, "duplicate field `state`");
    }
}

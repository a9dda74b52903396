//! Sign-in without an LMS, through an organisation's own OpenID Connect provider: the
//! authorization code flow with PKCE, state and nonce (`openidconnect` validates the ID token), for
//! course leaders, contact persons, administrators and invited participants. The tool is the
//! top-level page here, so the login's state travels in a first-party cookie and the session that
//! follows is a first-party cookie too (`web::signin`). Every call to the provider goes through the
//! guarded HTTP client.
use std::sync::Arc;

use base64::Engine;
use entity::{cohort_invitation, lti_user, oidc_provider};
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    Scope, TokenResponse, core::CoreAuthenticationFlow,
};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    lti::claims::ToolRole,
    session::{Expiring, Session},
    state::App,
    store,
};

/// How long a sign-in may take between leaving for the provider and coming back.
pub const STATE_SECONDS: i64 = 600;

/// Why a sign-in did not go through. Each has a stable code for the log and the page.
#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    /// No provider by that name.
    #[error("no sign-in provider by that name")]
    UnknownProvider,
    /// The provider's configuration could not be read, or it did not answer.
    #[error("the provider could not be reached: {0}")]
    ProviderUnavailable(String),
    /// The provider sent the person back with an error.
    #[error("the provider refused: {0}")]
    ProviderRefused(String),
    /// The browser came back without the sign-in it left with (another browser, or it expired).
    #[error("no sign-in is under way in this browser")]
    StateMissing,
    /// The `state` that came back is not the one sent.
    #[error("the state does not match")]
    StateMismatch,
    /// This sign-in came back once already.
    #[error("this sign-in was completed already")]
    Replayed,
    /// The provider would not exchange the code (used already, expired, or not for us).
    #[error("the provider refused the code: {0}")]
    CodeRefused(String),
    /// The ID token is not valid (signature, issuer, audience, expiry, nonce).
    #[error("the ID token is not valid: {0}")]
    TokenInvalid(String),
    /// The person's tenant or email domain is not one this provider lets in.
    #[error("{0}")]
    NotAllowed(String),
    /// The invitation is used up, expired or unknown.
    #[error("the invitation cannot be used")]
    InvitationUnusable,
    /// Signed in, but nothing here is theirs to see (not a course leader, contact person,
    /// administrator or invited participant).
    #[error("signed in, but without access")]
    NoAccess {
        /// How the provider names them, for the administrator who can grant access.
        sub: String,
        /// The provider.
        provider: String,
    },
    /// Storage.
    #[error(transparent)]
    Db(#[from] DbErr),
    /// Signing the state or the session.
    #[error("signing failed: {0}")]
    Signing(String),
}

impl SigninError {
    /// The stable code in logs and on the page.
    pub fn code(&self) -> &'static str {
        match self {
            SigninError::UnknownProvider => "SIGNIN_UNKNOWN_PROVIDER",
            SigninError::ProviderUnavailable(_) => "SIGNIN_PROVIDER_UNAVAILABLE",
            SigninError::ProviderRefused(_) => "SIGNIN_PROVIDER_REFUSED",
            SigninError::StateMissing => "SIGNIN_STATE_MISSING",
            SigninError::StateMismatch => "SIGNIN_STATE_MISMATCH",
            SigninError::Replayed => "SIGNIN_REPLAYED",
            SigninError::CodeRefused(_) => "SIGNIN_CODE_REFUSED",
            SigninError::TokenInvalid(_) => "SIGNIN_TOKEN_INVALID",
            SigninError::NotAllowed(_) => "SIGNIN_NOT_ALLOWED",
            SigninError::InvitationUnusable => "SIGNIN_INVITATION_UNUSABLE",
            SigninError::NoAccess { .. } => "SIGNIN_NO_ACCESS",
            SigninError::Db(_) | SigninError::Signing(_) => "SIGNIN_INTERNAL",
        }
    }

    /// The HTTP status of the page.
    pub fn status(&self) -> u16 {
        match self {
            SigninError::UnknownProvider | SigninError::InvitationUnusable => 404,
            SigninError::ProviderUnavailable(_) => 502,
            SigninError::NotAllowed(_) | SigninError::NoAccess { .. } => 403,
            SigninError::Db(_) | SigninError::Signing(_) => 500,
            _ => 400,
        }
    }
}

/// The login under way, in a signed first-party cookie between `/signin/<name>` and the callback.
#[derive(Debug, Serialize, Deserialize)]
struct SigninState {
    /// Marks the token as a sign-in state (sessions are signed with the same key).
    #[serde(rename = "use")]
    purpose: String,
    /// The provider row.
    pid: i64,
    state: String,
    nonce: String,
    /// The PKCE verifier; the browser holds it, the provider only ever sees its hash.
    pkce: String,
    /// The invitation token the person came with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inv: Option<String>,
    exp: i64,
}

const STATE_PURPOSE: &str = "signin";

impl Expiring for SigninState {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// Where to send the browser, and the cookie that holds the login under way.
pub struct Begun {
    /// The provider's authorization URL.
    pub redirect: Url,
    /// The signed state for the cookie.
    pub state_cookie: String,
}

/// The redirect URI to register at every provider.
pub fn redirect_uri(app: &App) -> Url {
    app.url("signin/callback")
}

/// Sends the person to provider `name`, with an invitation when they came with one.
pub async fn begin(app: &App, name: &str, invitation: Option<&str>) -> Result<Begun, SigninError> {
    let provider = store::signin::provider(&app.db, name)
        .await?
        .ok_or(SigninError::UnknownProvider)?;
    if let Some(token) = invitation {
        usable_invitation(app, token).await?;
    }
    let client = client(app, &provider).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let claims = SigninState {
        purpose: STATE_PURPOSE.to_owned(),
        pid: provider.id,
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce: verifier.secret().clone(),
        inv: invitation.map(str::to_owned),
        exp: app.clock.now_unix() + STATE_SECONDS,
    };
    let state_cookie = app
        .sessions
        .issue_claims(&claims)
        .map_err(|err| SigninError::Signing(err.to_string()))?;
    tracing::info!(provider = %provider.name, invited = invitation.is_some(), "sign-in begun");
    Ok(Begun {
        redirect: url,
        state_cookie,
    })
}

/// What the provider sent back to the callback.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A completed sign-in: the session for the cookie.
pub struct SignedIn {
    pub session: Session,
    pub token: String,
}

/// Completes a sign-in: the state the browser holds, the code exchanged with PKCE, the ID token
/// validated with its nonce, the provider's rules, then the person and what they may do.
pub async fn complete(
    app: &App,
    callback: &Callback,
    state_cookie: Option<&str>,
    lang: &str,
) -> Result<SignedIn, SigninError> {
    if let Some(error) = &callback.error {
        let description = callback.error_description.as_deref().unwrap_or_default();
        let shown: String = format!("{error}: {description}")
            .chars()
            .take(200)
            .collect();
        return Err(SigninError::ProviderRefused(shown));
    }
    let now = app.clock.now_unix();
    let state: SigninState = state_cookie
        .and_then(|token| app.sessions.verify_claims(token, now).ok())
        .filter(|s: &SigninState| s.purpose == STATE_PURPOSE)
        .ok_or(SigninError::StateMissing)?;
    let sent = callback.state.as_deref().unwrap_or_default();
    if !constant_time_eq(sent.as_bytes(), state.state.as_bytes()) {
        return Err(SigninError::StateMismatch);
    }
    let code = callback
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(|| SigninError::CodeRefused("no code".into()))?;
    // Single use across every instance, before the code is spent.
    if !store::used_login::consume(&app.db, &state.nonce, state.exp).await? {
        return Err(SigninError::Replayed);
    }
    let provider = store::signin::providers(&app.db)
        .await?
        .into_iter()
        .find(|p| p.id == state.pid)
        .ok_or(SigninError::UnknownProvider)?;
    let client = client(app, &provider).await?;
    let http = crate::oidc::bridge(app.http.clone());
    let exchange = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|err| SigninError::ProviderUnavailable(err.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(state.pkce.clone()));
    let tokens = exchange
        .request_async(&http)
        .await
        .map_err(|err| SigninError::CodeRefused(short(&err.to_string())))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| SigninError::TokenInvalid("no ID token".into()))?;
    // The token's times are checked against the application's clock, like every other time.
    let clock = app.clock.clone();
    let verifier = client.id_token_verifier().set_time_fn(move || {
        chrono::DateTime::from_timestamp(clock.now_unix(), 0).unwrap_or_default()
    });
    let claims = id_token
        .claims(&verifier, &Nonce::new(state.nonce.clone()))
        .map_err(|err| SigninError::TokenInvalid(short(&err.to_string())))?;
    let extra = extra_claims(&id_token.to_string());
    let mut person = Person {
        sub: claims.subject().as_str().to_owned(),
        name: first_value(claims.name()),
        given: first_value(claims.given_name()),
        family: first_value(claims.family_name()),
        email: claims.email().map(|e| e.as_str().to_owned()),
    };
    let mut email_verified = claims.email_verified().or(extra.email_verified) == Some(true);
    // Providers that keep the profile out of the ID token give it at the userinfo endpoint.
    if person.name.is_none() || person.email.is_none() {
        userinfo(
            &client,
            tokens.access_token(),
            claims.subject(),
            &mut person,
            &mut email_verified,
            app,
        )
        .await;
    }
    allowed(
        &provider,
        extra.tid.as_deref(),
        person.email.as_deref(),
        email_verified,
    )?;
    person.email = person
        .email
        .filter(|_| email_verified && app.config.store_email);
    let session = admit(app, &provider, person, state.inv.as_deref(), lang, now).await?;
    let token = app
        .sessions
        .issue(&session)
        .map_err(|err| SigninError::Signing(err.to_string()))?;
    tracing::info!(provider = %provider.name, user = session.uid, "signed in");
    Ok(SignedIn { session, token })
}

/// Fills in from the userinfo endpoint what the ID token left out; a provider without one, or
/// one that fails, leaves the person as the ID token named them.
async fn userinfo(
    client: &crate::oidc::ProviderClient,
    access_token: &openidconnect::AccessToken,
    subject: &openidconnect::SubjectIdentifier,
    person: &mut Person,
    email_verified: &mut bool,
    app: &App,
) {
    let Ok(request) = client.user_info(access_token.clone(), Some(subject.clone())) else {
        return;
    };
    let http = crate::oidc::bridge(app.http.clone());
    let info: openidconnect::core::CoreUserInfoClaims = match request.request_async(&http).await {
        Ok(info) => info,
        Err(err) => {
            tracing::warn!(code = "SIGNIN_USERINFO_FAILED", error = %short(&err.to_string()), "userinfo not read");
            return;
        }
    };
    person.name = person.name.take().or_else(|| first_value(info.name()));
    person.given = person
        .given
        .take()
        .or_else(|| first_value(info.given_name()));
    person.family = person
        .family
        .take()
        .or_else(|| first_value(info.family_name()));
    if person.email.is_none() {
        person.email = info.email().map(|e| e.as_str().to_owned());
        *email_verified = info.email_verified() == Some(true);
    }
}

/// A claim's value without a language tag.
fn first_value<T: std::ops::Deref<Target = String>>(
    claim: Option<&openidconnect::LocalizedClaim<T>>,
) -> Option<String> {
    claim.and_then(|c| c.get(None)).map(|v| v.to_string())
}

struct Person {
    sub: String,
    name: Option<String>,
    given: Option<String>,
    family: Option<String>,
    email: Option<String>,
}

/// The provider's rules: a listed tenant, and a listed domain of a verified email.
fn allowed(
    provider: &oidc_provider::Model,
    tenant: Option<&str>,
    email: Option<&str>,
    email_verified: bool,
) -> Result<(), SigninError> {
    let tenants: Vec<&str> = provider.allowed_tenants.split_whitespace().collect();
    if !tenants.is_empty() && !tenant.is_some_and(|t| tenants.contains(&t)) {
        return Err(SigninError::NotAllowed(format!(
            "tenant {:?} is not allowed",
            tenant.unwrap_or("")
        )));
    }
    let domains: Vec<&str> = provider.allowed_domains.split_whitespace().collect();
    if !domains.is_empty() {
        let domain = email
            .filter(|_| email_verified)
            .and_then(|e| e.rsplit_once('@'))
            .map(|(_, domain)| domain.to_lowercase());
        if !domain.as_deref().is_some_and(|d| domains.contains(&d)) {
            return Err(SigninError::NotAllowed(
                "the email domain is not allowed, or the email is not verified".into(),
            ));
        }
    }
    Ok(())
}

/// Records the person and decides their session: an invitation is used first; then what they
/// are already (a participant of a run without an LMS, a course leader, an administrator, a
/// contact person). Nobody else gets a session.
async fn admit(
    app: &App,
    provider: &oidc_provider::Model,
    person: Person,
    invitation: Option<&str>,
    lang: &str,
    now: i64,
) -> Result<Session, SigninError> {
    let invitation = match invitation {
        Some(token) => Some(usable_invitation(app, token).await?),
        None => None,
    };
    let known = store::people::by_sub(&app.db, provider.platform_id, &person.sub).await?;
    let granted = store::admin::grants_of(&app.db, provider.platform_id, &person.sub)
        .await?
        .into_iter()
        .next()
        .is_some()
        || !store::contact::organisations_of_sub(&app.db, provider.platform_id, &person.sub)
            .await?
            .is_empty();
    let already = match &known {
        Some(row) => {
            row.linked_to.is_some()
                || store::cohorts::leads_any(&app.db, row.id).await?
                || store::signin::direct_context_of(&app.db, row.id)
                    .await?
                    .is_some()
        }
        None => false,
    };
    if invitation.is_none() && !granted && !already {
        return Err(SigninError::NoAccess {
            sub: person.sub,
            provider: provider.name.clone(),
        });
    }
    let txn = store::begin_write(&app.db).await?;
    let user = store::people::upsert_person(
        &txn,
        provider.platform_id,
        store::people::PersonFields {
            sub: &person.sub,
            name: person.name.as_deref(),
            given_name: person.given.as_deref(),
            family_name: person.family.as_deref(),
            email: person.email.as_deref(),
        },
        now,
    )
    .await?;
    if let Some(invitation) = &invitation {
        if !store::signin::use_invitation(&txn, invitation.id, now).await? {
            return Err(SigninError::InvitationUnusable);
        }
        join_by_invitation(&txn, provider, &user, invitation, now).await?;
    }
    txn.commit().await?;
    if let Some(lms_person) = user.linked_to {
        return as_linked_person(app, lms_person, lang, now).await;
    }
    let context = store::signin::direct_context_of(&app.db, user.id).await?;
    let leads = store::cohorts::leads_any(&app.db, user.id).await?;
    let place = (provider.platform_id, provider.deployment_id, context);
    Ok(cookie_session(app, &user, place, leads, (lang, now)))
}

/// The cookie session of `person`, signed in to `(platform, deployment, context)`; an instructor
/// when they lead a run or teach that course.
fn cookie_session(
    app: &App,
    person: &lti_user::Model,
    (pid, did, cid): (i64, i64, Option<i64>),
    instructor: bool,
    (lang, now): (&str, i64),
) -> Session {
    Session {
        pid,
        did,
        cid,
        rid: None,
        uid: person.id,
        role: if instructor {
            ToolRole::Instructor
        } else {
            ToolRole::Participant
        },
        lang: lang.to_owned(),
        iat: now,
        seen: now,
        exp: now + app.config.session_ttl_seconds as i64,
        name: person.name.clone(),
        ctx: None,
        link_token: String::new(),
    }
}

/// The session of a signed-in person an administrator linked to their LMS person: they are that
/// person, in the LMS course they took part in last.
async fn as_linked_person(
    app: &App,
    lms_person: i64,
    lang: &str,
    now: i64,
) -> Result<Session, SigninError> {
    let person = store::people::get(&app.db, lms_person)
        .await?
        .ok_or(SigninError::InvitationUnusable)?;
    let Some((context, deployment)) = store::people::latest_course(&app.db, person.id).await?
    else {
        return Err(SigninError::NoAccess {
            sub: person.sub,
            provider: "lms".into(),
        });
    };
    let instructor = store::cohorts::leads_any(&app.db, person.id).await?
        || store::people::memberships(&app.db, person.id, Some(&[context]))
            .await?
            .iter()
            .any(|m| m.role == ToolRole::Instructor.as_str());
    let place = (person.platform_id, deployment, Some(context));
    Ok(cookie_session(app, &person, place, instructor, (lang, now)))
}

/// What an invitation makes of its user: a participant of the run's own LMS-less course for this
/// provider, placed in the invitation's organisation; or a course leader of the run.
async fn join_by_invitation(
    db: &impl sea_orm::ConnectionTrait,
    provider: &oidc_provider::Model,
    user: &lti_user::Model,
    invitation: &cohort_invitation::Model,
    now: i64,
) -> Result<(), DbErr> {
    let setter = format!("invitation:{}", invitation.id);
    if invitation.role == store::signin::ROLE_LEADER {
        return store::cohorts::add_leader(db, invitation.cohort_id, user.id, &setter, now).await;
    }
    let run = store::cohorts::get(db, invitation.cohort_id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("cohort {}", invitation.cohort_id)))?;
    let context = store::signin::direct_context(db, provider, &run, now).await?;
    store::signin::add_participant(db, context, user.id, now).await?;
    store::organisations::set_for_person(
        db,
        user.id,
        &invitation.organisation,
        store::organisations::SOURCE_PLACEMENT,
        Some(&setter),
        now,
    )
    .await
}

async fn usable_invitation(
    app: &App,
    token: &str,
) -> Result<cohort_invitation::Model, SigninError> {
    if token.is_empty() || token.len() > 100 {
        return Err(SigninError::InvitationUnusable);
    }
    store::signin::usable_invitation(
        &app.db,
        &crate::lti::sha256_hex(token),
        app.clock.now_unix(),
    )
    .await?
    .ok_or(SigninError::InvitationUnusable)
}

/// The invitation a `/join/<token>` link carries, while usable: the run's name and the
/// organisation.
pub async fn invitation_for(app: &App, token: &str) -> Result<(String, String), SigninError> {
    let invitation = usable_invitation(app, token).await?;
    let run = store::cohorts::get(&app.db, invitation.cohort_id)
        .await?
        .ok_or(SigninError::InvitationUnusable)?;
    Ok((run.name, invitation.organisation))
}

/// The configured providers, for the sign-in page: (name, display).
pub async fn providers(app: &App) -> Result<Vec<String>, DbErr> {
    Ok(store::signin::providers(&app.db)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect())
}

/// The web origins of the providers, where a sign-out form's redirect goes.
pub async fn provider_origins(app: &App) -> Result<Vec<String>, DbErr> {
    Ok(store::signin::providers(&app.db)
        .await?
        .into_iter()
        .filter_map(|p| Url::parse(&p.issuer).ok())
        .map(|url| url.origin().ascii_serialization())
        .collect())
}

/// Ends the person's sessions everywhere, and says where the provider signs them out too.
pub async fn sign_out(app: &App, session: &Session) -> Result<Option<Url>, DbErr> {
    store::people::revoke_sessions(&app.db, session.uid, app.clock.now_unix()).await?;
    // This instance stops taking the session at once; others within the standing's few seconds.
    app.session_standing
        .remove(&(session.uid, session.did, session.cid));
    let Some(provider) = store::signin::provider_of_platform(&app.db, session.pid).await? else {
        return Ok(None);
    };
    let metadata = match metadata(app, &provider).await {
        Ok(metadata) => metadata,
        Err(err) => {
            tracing::warn!(provider = %provider.name, error = %err, "no end-session endpoint read");
            return Ok(None);
        }
    };
    let end = metadata
        .end_session
        .as_deref()
        .and_then(|url| app.http.check("the end-session endpoint", url).ok());
    Ok(end.map(|mut url| {
        url.query_pairs_mut()
            .append_pair("client_id", &provider.client_id)
            .append_pair("post_logout_redirect_uri", app.url("signin").as_str());
        url
    }))
}

/// The client of a provider, from its (cached) discovery document.
async fn client(
    app: &App,
    provider: &oidc_provider::Model,
) -> Result<crate::oidc::ProviderClient, SigninError> {
    let discovered = metadata(app, provider).await?;
    crate::oidc::client(
        &discovered,
        &provider.client_id,
        &provider.client_secret,
        redirect_uri(app).as_str(),
    )
    .map_err(SigninError::ProviderUnavailable)
}

/// The provider's discovery document, read through the guarded client and kept for a while. The
/// document must name the configured issuer; its keys are read with it.
async fn metadata(
    app: &App,
    provider: &oidc_provider::Model,
) -> Result<Arc<crate::oidc::Discovered>, SigninError> {
    if let Some(found) = app.signin_metadata.get(&provider.issuer) {
        return Ok(found);
    }
    let discovered = Arc::new(crate::oidc::discover(&app.http, &provider.issuer).await.map_err(|problem| {
        tracing::warn!(code = "SIGNIN_PROVIDER_UNAVAILABLE", provider = %provider.name, %problem, "discovery failed");
        SigninError::ProviderUnavailable(short(&problem))
    })?);
    app.signin_metadata
        .insert(provider.issuer.clone(), discovered.clone());
    Ok(discovered)
}

/// Claims openidconnect's standard set leaves out: Entra ID's tenant, and `email_verified` as some
/// providers send it (a string). Read from the ID token after the crate validated it.
#[derive(Debug, Default, Deserialize)]
struct ExtraClaims {
    tid: Option<String>,
    #[serde(default, deserialize_with = "loose_bool")]
    email_verified: Option<bool>,
}

fn loose_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(serde_json::Value::String(s)) => Some(s == "true"),
        _ => None,
    })
}

fn extra_claims(jwt: &str) -> ExtraClaims {
    jwt.split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

fn short(text: &str) -> String {
    text.chars().take(300).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

//! Registering the tool with a platform by Dynamic Registration: the platform administrator pastes
//! one URL, the platform opens it with its configuration URL, and the tool registers itself and
//! stores the registration (and the deployment, when the platform made one). The URL is an
//! administrator's one-time invitation: without one the tool fetches nothing and registers nothing,
//! and the invitation names the organisation that owns what the registration brings.
use sea_orm::{DatabaseConnection, DbErr};

use super::{
    access::{Principal, Scope},
    directory::AdminError,
    tokens,
};
use crate::{
    lti::{
        self,
        registration::{self, RegistrationError, ToolSite},
    },
    state::App,
    store::{self, StoreError, invitations::NewInvitation, platform::NewPlatform},
};

/// A registration made.
#[derive(Debug, Clone)]
pub struct Registered {
    /// A name for people (product and issuer).
    pub platform_name: String,
    /// The platform's issuer.
    pub issuer: String,
    /// The tool's client_id there.
    pub client_id: String,
    /// The deployment the platform made, when it made one.
    pub deployment_id: Option<String>,
}

/// Why no registration was made.
#[derive(Debug, thiserror::Error)]
pub enum DynamicError {
    /// No invitation, or one that is used up or expired: nothing was fetched.
    #[error("the registration link is missing, used or expired")]
    NoInvitation,
    /// A usable invitation, opened without the platform's configuration URL.
    #[error("openid_configuration is missing")]
    NoConfiguration,
    /// The platform's side failed or is unusable.
    #[error(transparent)]
    Registration(#[from] RegistrationError),
    /// The tool is already registered with this issuer and client_id.
    #[error("already registered: {0}")]
    AlreadyRegistered(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// How long an invitation works unless the administrator says otherwise: `7d`.
pub const DEFAULT_INVITATION_EXPIRY: &str = "7d";
/// The longest an invitation may work, in seconds (90 days).
pub const MAX_INVITATION_SECONDS: i64 = 90 * 86_400;

/// An invitation just made: the link (shown once, never stored) and its row.
pub struct Invitation {
    /// `<public url>/lti/register/<token>`.
    pub url: url::Url,
    /// Its row.
    pub row: entity::registration_invitation::Model,
}

/// Makes a one-time registration link for `organisation` that works until `expires_at`, with its
/// audit entry, in one transaction. An organisation's administrator may invite for their own
/// organisation only.
pub async fn invite(
    db: &DatabaseConnection,
    public_base: &url::Url,
    principal: &Principal,
    organisation: &str,
    expires_at: i64,
    auto_approve_deployments: bool,
) -> Result<Invitation, AdminError> {
    principal.require(Scope::Admin)?;
    if organisation.chars().count() > 200 || organisation.chars().any(char::is_control) {
        return Err(AdminError::Invalid(
            "the organisation's name has at most 200 characters and no control characters".into(),
        ));
    }
    let organisation = organisation.trim();
    if organisation.is_empty() {
        return Err(AdminError::Invalid(
            "an invitation needs the name of the organisation".into(),
        ));
    }
    principal.require_organisation(Some(organisation))?;
    let now = principal.now_unix();
    if expires_at <= now || expires_at > now + MAX_INVITATION_SECONDS {
        return Err(AdminError::Invalid(
            "an invitation must expire within 90 days".into(),
        ));
    }
    let token = lti::random_token(32);
    let txn = store::begin_write(db).await?;
    store::organisations::ensure(&txn, organisation, now).await?;
    let row = store::invitations::insert(
        &txn,
        NewInvitation {
            token_hash: tokens::hash(&token),
            organisation: organisation.to_owned(),
            auto_approve_deployments,
            created_by: principal.actor.clone(),
            expires_at,
        },
        now,
    )
    .await?;
    principal
        .audit(
            &txn,
            "registration.invite",
            &format!("registration_invitation:{}", row.id),
            Some(organisation),
            serde_json::json!({
                "expires_at": row.expires_at,
                "auto_approve_deployments": auto_approve_deployments,
            }),
        )
        .await?;
    txn.commit().await?;
    let url = public_base
        .join(&format!("lti/register/{token}"))
        .map_err(|err| AdminError::Invalid(err.to_string()))?;
    Ok(Invitation { url, row })
}

/// Where an invitation stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    /// A registration was made with it.
    Used,
    /// Past its expiry, unused.
    Expired,
    /// It still works.
    Open,
}

impl InvitationState {
    /// The state of `invitation` at `now` (Unix seconds).
    pub fn of(invitation: &entity::registration_invitation::Model, now: i64) -> Self {
        if invitation.used_at.is_some() {
            Self::Used
        } else if invitation.expires_at <= now {
            Self::Expired
        } else {
            Self::Open
        }
    }
}

/// The invitations the principal may see, newest first.
pub async fn invitations(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<entity::registration_invitation::Model>, AdminError> {
    principal.require(Scope::Admin)?;
    Ok(store::invitations::list(db, principal.organisation.as_deref(), 200).await?)
}

/// Runs a dynamic registration opened with an invitation's token, from the platform's
/// configuration URL and registration token. Without a usable invitation nothing is fetched, and
/// nothing else is said: the invitation is checked before the request's parameters.
pub async fn register_dynamically(
    app: &App,
    invitation_token: Option<&str>,
    configuration_url: Option<&str>,
    registration_token: Option<&str>,
) -> Result<Registered, DynamicError> {
    let now = app.clock.now_unix();
    let invitation = match invitation_token {
        // A token of another shape cannot be one the tool made; it is not even looked up.
        Some(token) if (20..=100).contains(&token.len()) => {
            store::invitations::usable(&app.db, &tokens::hash(token), now).await?
        }
        _ => None,
    }
    .ok_or(DynamicError::NoInvitation)?;
    let configuration_url = configuration_url
        .filter(|url| !url.is_empty())
        .ok_or(DynamicError::NoConfiguration)?;
    let config =
        registration::fetch_configuration(&app.http, configuration_url, registration_token).await?;
    registration::validate(&app.http, &config)?;
    let site = ToolSite {
        login: app.url("lti/login"),
        launch: app.url("lti/launch"),
        jwks: app.url(".well-known/jwks.json"),
        scopes: lti::ags::SCOPES
            .into_iter()
            .chain([lti::nrps::SCOPE])
            .collect(),
        wants_email: app.config.store_email,
    };
    let answer = registration::register(
        &app.http,
        &config.registration_endpoint,
        registration_token,
        &registration::registration_request(&site),
    )
    .await?;
    let issuer = config.issuer.trim_end_matches('/').to_owned();
    let platform_name = match config.product() {
        Some(product) => format!("{product} ({issuer})"),
        None => issuer.clone(),
    };
    let now = app.clock.now_unix();
    let conflict = |err| match err {
        StoreError::Conflict(what) => DynamicError::AlreadyRegistered(what),
        StoreError::Db(err) => DynamicError::Db(err),
    };
    let txn = crate::store::begin_write(&app.db).await?;
    let stored = store::platform::insert(
        &txn,
        NewPlatform {
            issuer: issuer.clone(),
            client_id: answer.client_id.clone(),
            name: platform_name.clone(),
            auth_login_url: config.authorization_endpoint.clone(),
            auth_token_url: config.token_endpoint.clone(),
            jwks_url: config.jwks_uri.clone(),
            token_audience: config
                .authorization_server
                .clone()
                .filter(|aud| *aud != config.token_endpoint),
            auto_approve_deployments: invitation.auto_approve_deployments,
            organisation: Some(invitation.organisation.clone()),
            frame_origin: lti::web_origin(configuration_url),
        },
        now,
    )
    .await
    .map_err(conflict)?;
    if !store::invitations::consume(&txn, invitation.id, stored.id, now).await? {
        // Another request registered with the same link first; this one stores nothing.
        return Err(DynamicError::NoInvitation);
    }
    // The deployment the platform made while its administrator registered is theirs, approved.
    if let Some(deployment_id) = &answer.deployment_id {
        store::deployment::add(
            &txn,
            stored.id,
            deployment_id,
            Some(invitation.organisation.clone()),
            None,
            now,
        )
        .await
        .map_err(conflict)?;
    }
    store::admin::audit(
        &txn,
        store::admin::AuditEntry {
            at_ms: now * 1000,
            actor: &format!("registration_invitation:{}", invitation.id),
            action: "registration.register",
            target: &format!("platform:{}", stored.id),
            organisation: Some(&invitation.organisation),
            origin: "dynamic-registration",
            detail: &serde_json::json!({
                "issuer": issuer,
                "client_id": answer.client_id,
                "deployment_id": answer.deployment_id,
                "invited_by": invitation.created_by,
            })
            .to_string(),
        },
    )
    .await?;
    txn.commit().await?;
    app.platform_origins.remove(&());
    tracing::info!(
        issuer = %issuer,
        client_id = %answer.client_id,
        deployment_id = ?answer.deployment_id,
        product = ?config.product(),
        invitation = invitation.id,
        "registered by dynamic registration"
    );
    Ok(Registered {
        platform_name,
        issuer,
        client_id: answer.client_id,
        deployment_id: answer.deployment_id,
    })
}

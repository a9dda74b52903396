//! Registering the tool with a platform by Dynamic Registration: the platform administrator pastes
//! one URL, the platform opens it with its configuration URL, and the tool registers itself and
//! stores the registration (and the deployment, when the platform made one).
use sea_orm::DbErr;

use crate::{
    lti::{
        self,
        registration::{self, RegistrationError, ToolSite},
    },
    state::App,
    store::{self, StoreError, platform::NewPlatform},
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
    /// The operator does not take registrations from this host.
    #[error("registrations from {0} are not accepted here")]
    NotAllowed(String),
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

/// Whether `host` may register, by the operator's `dynamic_registration_hosts` (`*`: any).
pub fn host_allowed(allowed: &str, host: &str) -> bool {
    allowed
        .split(',')
        .map(str::trim)
        .any(|entry| entry == "*" || entry.eq_ignore_ascii_case(host))
}

/// Runs a dynamic registration from the platform's configuration URL and registration token.
pub async fn register_dynamically(
    app: &App,
    configuration_url: &str,
    registration_token: Option<&str>,
) -> Result<Registered, DynamicError> {
    let config_url = registration::checked_url("openid_configuration", configuration_url)?;
    let host = config_url.host_str().unwrap_or_default().to_owned();
    if !host_allowed(&app.config.dynamic_registration_hosts, &host) {
        return Err(DynamicError::NotAllowed(host));
    }
    let config = registration::fetch_configuration(&app.http, &config_url).await?;
    registration::validate(&config_url, &config)?;
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
    let now = lti::now_unix();
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
            // Without a deployment in the answer (Canvas deploys later), the deployments of this
            // registration come from the administrator who just registered it.
            auto_approve_deployments: answer.deployment_id.is_none(),
        },
        now,
    )
    .await
    .map_err(|err| match err {
        StoreError::Conflict(what) => DynamicError::AlreadyRegistered(what),
        StoreError::Db(err) => DynamicError::Db(err),
    })?;
    if let Some(deployment_id) = &answer.deployment_id {
        store::deployment::add(&txn, stored.id, deployment_id, None, None, now)
            .await
            .map_err(|err| match err {
                StoreError::Conflict(what) => DynamicError::AlreadyRegistered(what),
                StoreError::Db(err) => DynamicError::Db(err),
            })?;
    }
    txn.commit().await?;
    tracing::info!(
        issuer = %issuer,
        client_id = %answer.client_id,
        deployment_id = ?answer.deployment_id,
        product = ?config.product(),
        "registered by dynamic registration"
    );
    Ok(Registered {
        platform_name,
        issuer,
        client_id: answer.client_id,
        deployment_id: answer.deployment_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_allowed_by_list_or_star() {
        assert!(host_allowed("*", "moodle.umea.se"));
        assert!(host_allowed(
            "moodle.umea.se, umea.instructure.com",
            "UMEA.instructure.com"
        ));
        assert!(!host_allowed("moodle.umea.se", "evil.example"));
        assert!(!host_allowed("", "moodle.umea.se"));
    }
}

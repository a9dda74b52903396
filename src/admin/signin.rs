//! Sign-in without an LMS, as administrators set it up: the OpenID Connect providers people sign
//! in through (Microsoft Entra ID, or any certified provider), and invitations to a cohort for a
//! person without an LMS or a course leader. Secrets and invitation tokens are never written to
//! the audit log; an invitation is kept as a hash and shown once.
use entity::{cohort_invitation, oidc_provider};
use sea_orm::DatabaseConnection;
use url::Url;

use super::{
    access::{Principal, Scope},
    directory::AdminError,
};
use crate::store::{self, StoreError};

/// What an administrator gives for a provider.
#[derive(Debug, Clone, Default)]
pub struct ProviderRequest {
    /// The name in `/signin/<name>`.
    pub name: String,
    /// The issuer URL (discovery is read from `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The organisation its people belong to.
    pub organisation: Option<String>,
    /// Tenants (`tid`, Entra ID) whose people may sign in; any when empty.
    pub allowed_tenants: Vec<String>,
    /// Email domains whose people may sign in; any when empty.
    pub allowed_domains: Vec<String>,
}

/// Adds a provider (system administrators). `allow_loopback` is the outbound development setting:
/// an issuer must be https on a public address otherwise.
pub async fn add_provider(
    db: &DatabaseConnection,
    principal: &Principal,
    request: ProviderRequest,
    allow_loopback: bool,
) -> Result<oidc_provider::Model, AdminError> {
    principal.require_system()?;
    let name = request.name.trim().to_lowercase();
    if name.is_empty()
        || name.len() > 40
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(AdminError::Invalid(
            "a provider's name is 1 to 40 lower-case letters, digits and dashes".into(),
        ));
    }
    let issuer = request.issuer.trim().trim_end_matches('/').to_owned();
    crate::outbound::check_url("the issuer", &issuer, allow_loopback)
        .map_err(|err| AdminError::Invalid(err.to_string()))?;
    let client_id = request.client_id.trim().to_owned();
    if client_id.is_empty() || client_id.len() > 255 {
        return Err(AdminError::Invalid(
            "the client id is 1 to 255 characters".into(),
        ));
    }
    let client_secret = request.client_secret.trim().to_owned();
    if client_secret.is_empty() || client_secret.len() > 4096 {
        return Err(AdminError::Invalid(
            "the client secret is 1 to 4096 characters".into(),
        ));
    }
    let organisation = request
        .organisation
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty());
    let tenants = words(&request.allowed_tenants, "tenant")?;
    let domains = words(&request.allowed_domains, "email domain")?.to_lowercase();
    let now = principal.now_unix();
    let txn = store::begin_write(db).await?;
    if let Some(organisation) = &organisation {
        store::organisations::ensure(&txn, organisation, now).await?;
    }
    let new = store::signin::NewProvider {
        name: name.clone(),
        issuer,
        client_id,
        client_secret,
        organisation: organisation.clone(),
        allowed_tenants: tenants,
        allowed_domains: domains,
        created_by: principal.actor.clone(),
    };
    let provider = store::signin::insert_provider(&txn, new, now)
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => AdminError::Conflict(format!(
                "a provider {name}, or that issuer and client id, exists"
            )),
            StoreError::Db(err) => AdminError::Db(err),
        })?;
    principal
        .audit(
            &txn,
            "signin.provider.add",
            &format!("provider:{}", provider.name),
            organisation.as_deref(),
            serde_json::json!({
                "issuer": provider.issuer,
                "client_id": provider.client_id,
                "allowed_tenants": provider.allowed_tenants,
                "allowed_domains": provider.allowed_domains,
            }),
        )
        .await?;
    txn.commit().await?;
    Ok(provider)
}

/// Space-separated values, each 1 to 255 characters of letters, digits, dots and dashes.
fn words(values: &[String], what: &str) -> Result<String, AdminError> {
    let mut kept = Vec::new();
    for value in values.iter().flat_map(|v| v.split([' ', ','])) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        if value.len() > 255
            || !value
                .chars()
                .all(|c| c.is_alphanumeric() || ".-_".contains(c))
        {
            return Err(AdminError::Invalid(format!(
                "{value:?} is not a valid {what}"
            )));
        }
        kept.push(value.to_owned());
    }
    Ok(kept.join(" "))
}

/// Every provider (administrators), secrets left out by the callers.
pub async fn providers(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<oidc_provider::Model>, AdminError> {
    principal.require(Scope::Admin)?;
    Ok(store::signin::providers(db).await?)
}

/// Removes a provider (system administrators): its sessions end and nobody signs in through it.
pub async fn remove_provider(
    db: &DatabaseConnection,
    principal: &Principal,
    name: &str,
) -> Result<(), AdminError> {
    principal.require_system()?;
    let txn = store::begin_write(db).await?;
    if !store::signin::remove_provider(&txn, name.trim(), principal.now_unix()).await? {
        return Err(AdminError::NotFound("provider"));
    }
    principal
        .audit(
            &txn,
            "signin.provider.remove",
            &format!("provider:{}", name.trim()),
            None,
            serde_json::json!({}),
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

pub use crate::store::signin::{ROLE_LEADER, ROLE_PARTICIPANT};
/// The most uses one invitation may have.
pub const MAX_INVITATION_USES: i32 = 1000;
/// The longest an invitation may stay open.
pub const MAX_INVITATION_SECONDS: i64 = 90 * 24 * 3600;

/// A new invitation and the link that carries it, shown once.
pub struct Invitation {
    pub row: cohort_invitation::Model,
    pub url: Url,
}

/// What an invitation is for.
pub struct InvitationRequest<'a> {
    pub cohort_id: i64,
    /// The organisation its users are placed in; it must take part in the cohort.
    pub organisation: &'a str,
    /// `participant` or `leader`.
    pub role: &'a str,
    /// How many sign-ins may use it.
    pub uses: i32,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Invites people of an organisation to a cohort (system administrators).
pub async fn invite(
    db: &DatabaseConnection,
    principal: &Principal,
    base: &Url,
    request: InvitationRequest<'_>,
) -> Result<Invitation, AdminError> {
    let InvitationRequest {
        cohort_id,
        organisation,
        role,
        uses,
        expires_at,
    } = request;
    principal.require_system()?;
    let now = principal.now_unix();
    if !(1..=MAX_INVITATION_USES).contains(&uses) {
        return Err(AdminError::Invalid(format!(
            "an invitation has 1 to {MAX_INVITATION_USES} uses"
        )));
    }
    if expires_at <= now || expires_at - now > MAX_INVITATION_SECONDS {
        return Err(AdminError::Invalid(
            "an invitation expires in the future, within 90 days".into(),
        ));
    }
    if role != ROLE_PARTICIPANT && role != ROLE_LEADER {
        return Err(AdminError::Invalid("unknown invitation role".into()));
    }
    let cohort = store::cohorts::get(db, cohort_id)
        .await?
        .ok_or(AdminError::NotFound("cohort"))?;
    let organisation = organisation.trim();
    if !store::cohorts::organisations(db, cohort.id)
        .await?
        .iter()
        .any(|o| o == organisation)
    {
        return Err(AdminError::Invalid(format!(
            "{organisation:?} does not take part in the cohort"
        )));
    }
    let token = crate::lti::random_token(24);
    let txn = store::begin_write(db).await?;
    let row = store::signin::insert_invitation(
        &txn,
        store::signin::NewInvitation {
            cohort_id: cohort.id,
            organisation: organisation.to_owned(),
            role: role.to_owned(),
            token_hash: crate::lti::sha256_hex(&token),
            max_uses: uses,
            expires_at,
            created_by: principal.actor.clone(),
        },
        now,
    )
    .await?;
    principal
        .audit(
            &txn,
            "cohort.invite",
            &format!("cohort:{}", cohort.id),
            Some(organisation),
            serde_json::json!({ "invitation": row.id, "role": role, "uses": uses }),
        )
        .await?;
    txn.commit().await?;
    let url = base
        .join(&format!("join/{token}"))
        .map_err(|err| AdminError::Invalid(err.to_string()))?;
    Ok(Invitation { row, url })
}

//! Roster sync: everyone enrolled in the LMS course, also those who never launched, read from the
//! platform's Names and Role Provisioning Service.
use crate::{
    lti::{
        claims::tool_role,
        nrps::{self, RosterError},
    },
    store,
};

/// What a roster sync reaches: the database, the registrations, the guarded client and the
/// platform access tokens.
pub struct RosterReach<'a> {
    /// The database.
    pub db: &'a sea_orm::DatabaseConnection,
    /// Registrations, briefly cached.
    pub registry: &'a crate::registry::Registry,
    /// The guarded client for the platform's service.
    pub http: &'a crate::outbound::Outbound,
    /// Platform access tokens.
    pub tokens: &'a crate::lti::token::TokenCache,
    /// The application's clock, which stamps the sync.
    pub clock: &'a crate::lti::clock::Clock,
}

/// Why a sync did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The context's launches never carried the NRPS claim.
    #[error("the platform offers no membership service for this course")]
    NotOffered,
    /// The platform could not be asked.
    #[error(transparent)]
    Roster(#[from] RosterError),
    /// The tool has no usable signing key or the registration is gone.
    #[error("{0}")]
    Setup(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Reads the roster of a context and records every active member. Returns how many were listed.
pub async fn sync(app: RosterReach<'_>, context_id: i64) -> Result<usize, SyncError> {
    let context = store::roster::context(app.db, context_id)
        .await?
        .ok_or_else(|| SyncError::Setup("the course is gone".into()))?;
    let url = context
        .memberships_url
        .clone()
        .ok_or(SyncError::NotOffered)?;
    let deployment = store::deployment::get(app.db, context.deployment_id)
        .await?
        .ok_or_else(|| SyncError::Setup("the deployment is gone".into()))?;
    let platform = app
        .registry
        .platform_by_id(app.db, deployment.platform_id)
        .await?
        .ok_or_else(|| SyncError::Setup("the registration is gone".into()))?;
    let key = match crate::tool_key::signing_key(app.db).await {
        Ok(key) => key,
        Err(crate::tool_key::NoSigningKey::Db(err)) => return Err(err.into()),
        Err(other) => return Err(SyncError::Setup(other.to_string())),
    };
    let endpoint = crate::registry::token_endpoint(&platform);
    let members = nrps::fetch_roster(app.http, app.tokens, &endpoint, &key, &url).await?;
    let now = app.clock.now_unix();
    let mut listed = 0;
    for member in &members {
        if matches!(member.status.as_deref(), Some("Deleted" | "Inactive"))
            || member.user_id.is_empty()
        {
            continue;
        }
        store::roster::record_member(
            app.db,
            store::roster::ListedMember {
                platform_id: platform.id,
                context_id,
                sub: &member.user_id,
                name: member.name.as_deref(),
                given_name: member.given_name.as_deref(),
                family_name: member.family_name.as_deref(),
                lti_roles: member.roles.join(" "),
                role: tool_role(&member.roles).as_str(),
                now,
            },
        )
        .await?;
        listed += 1;
    }
    store::roster::mark_synced(app.db, context_id, now).await?;
    tracing::info!(context = context_id, listed, "roster synced");
    Ok(listed)
}

/// Whether the roster of LMS course `context_id` should be read again: the platform offers the
/// service and the last sync is older than `max_age_seconds` (or there was none).
pub async fn is_stale(
    db: &sea_orm::DatabaseConnection,
    context_id: i64,
    now: i64,
    max_age_seconds: u64,
) -> bool {
    match store::roster::context(db, context_id).await {
        Ok(Some(context)) => {
            context.memberships_url.is_some()
                && context
                    .roster_synced_at
                    .is_none_or(|at| now - at >= max_age_seconds as i64)
        }
        _ => false,
    }
}

//! Roster sync: everyone enrolled in the LMS course, also those who never launched, read from the
//! platform's Names and Role Provisioning Service.
use crate::{
    lti::{
        self,
        claims::tool_role,
        keys::SigningKey,
        nrps::{self, RosterError},
    },
    state::App,
    store,
};

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
pub async fn sync(app: &App, context_id: i64) -> Result<usize, SyncError> {
    let context = store::roster::context(&app.db, context_id)
        .await?
        .ok_or_else(|| SyncError::Setup("the course is gone".into()))?;
    let url = context
        .memberships_url
        .clone()
        .ok_or(SyncError::NotOffered)?;
    let deployment = store::deployment::get(&app.db, context.deployment_id)
        .await?
        .ok_or_else(|| SyncError::Setup("the deployment is gone".into()))?;
    let platform = app
        .registry
        .platform_by_id(&app.db, deployment.platform_id)
        .await?
        .ok_or_else(|| SyncError::Setup("the registration is gone".into()))?;
    let stored_key = store::tool_key::current(&app.db)
        .await?
        .ok_or_else(|| SyncError::Setup("the tool has no signing key".into()))?;
    let key = SigningKey::from_pem(&stored_key.kid, &stored_key.private_key_pem)
        .map_err(|err| SyncError::Setup(err.to_string()))?;
    let endpoint = crate::registry::token_endpoint(&platform);
    let members = nrps::fetch_roster(&app.http, &app.tokens, &endpoint, &key, &url).await?;
    let now = lti::now_unix();
    let mut listed = 0;
    for member in &members {
        if matches!(member.status.as_deref(), Some("Deleted" | "Inactive"))
            || member.user_id.is_empty()
        {
            continue;
        }
        store::roster::record_member(
            &app.db,
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
    store::roster::mark_synced(&app.db, context_id, now).await?;
    tracing::info!(context = context_id, listed, "roster synced");
    Ok(listed)
}

/// Starts a roster sync in the background when the last one is older than the configured age, so
/// an instructor's launch never waits for the platform.
pub async fn sync_if_stale(app: &crate::state::AppState, session: &crate::session::Session) {
    let Some(context_id) = session.cid else {
        return;
    };
    let stale = match store::roster::context(&app.db, context_id).await {
        Ok(Some(context)) => {
            context.memberships_url.is_some()
                && context.roster_synced_at.is_none_or(|at| {
                    crate::lti::now_unix() - at >= app.config.roster_sync_age_seconds as i64
                })
        }
        _ => false,
    };
    if stale {
        let app = app.clone();
        tokio::spawn(async move {
            if let Err(err) = sync(&app, context_id).await {
                tracing::warn!(context = context_id, error = %err, "background roster sync failed");
            }
        });
    }
}

//! What the operator does with registrations, deployments, the tool's signing key, contact persons
//! and score deliveries: each a use case with its principal, checks and audit entry, whichever
//! adapter (command line, admin page, API) asks.
use entity::{deployment, platform, score_outbox};
use sea_orm::DatabaseConnection;

use super::{
    access::{Principal, Scope},
    directory::AdminError,
};
pub use crate::store::{grades::state as delivery_state, platform::NewPlatform};
use crate::{
    lti,
    store::{self, StoreError},
};

fn conflict_or_db(err: StoreError) -> AdminError {
    match err {
        StoreError::Conflict(what) => AdminError::Conflict(format!("{what} already exists")),
        StoreError::Db(err) => AdminError::Db(err),
    }
}

/// Registers a platform by hand (system administrators).
pub async fn register(
    db: &DatabaseConnection,
    principal: &Principal,
    new: NewPlatform,
) -> Result<platform::Model, AdminError> {
    principal.require_system()?;
    let txn = store::begin_write(db).await?;
    let created = store::platform::insert(&txn, new, principal.now_unix())
        .await
        .map_err(conflict_or_db)?;
    principal
        .audit(
            &txn,
            "platform.add",
            &format!("platform:{}", created.id),
            None,
            serde_json::json!({ "issuer": created.issuer, "client_id": created.client_id }),
        )
        .await?;
    txn.commit().await?;
    Ok(created)
}

/// Every registration (system administrators).
pub async fn registrations(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<platform::Model>, AdminError> {
    principal.require_system()?;
    Ok(store::platform::list(db).await?)
}

/// The registration of `issuer` and `client_id` (system administrators).
pub async fn registration(
    db: &DatabaseConnection,
    principal: &Principal,
    issuer: &str,
    client_id: &str,
) -> Result<platform::Model, AdminError> {
    principal.require_system()?;
    store::platform::find(db, issuer.trim_end_matches('/'), client_id)
        .await?
        .ok_or(AdminError::NotFound("registration"))
}

/// A deployment to add by hand, approved at once.
pub struct NewDeployment {
    /// The registration's row id.
    pub platform_id: i64,
    /// The platform's deployment id.
    pub deployment_id: String,
    /// The organisation that owns it.
    pub organisation: Option<String>,
    /// The interface language when a launch gives none.
    pub default_locale: Option<String>,
    /// `completion` or `progress` scores; the default when `None`.
    pub grade_mode: Option<String>,
}

/// Adds an approved deployment (system administrators).
pub async fn add_deployment(
    db: &DatabaseConnection,
    principal: &Principal,
    new: NewDeployment,
) -> Result<deployment::Model, AdminError> {
    principal.require_system()?;
    let organisation = new
        .organisation
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty());
    let now = principal.now_unix();
    let txn = store::begin_write(db).await?;
    if let Some(organisation) = &organisation {
        store::organisations::ensure(&txn, organisation, now).await?;
    }
    let mut created = store::deployment::add(
        &txn,
        new.platform_id,
        &new.deployment_id,
        organisation.clone(),
        new.default_locale,
        now,
    )
    .await
    .map_err(conflict_or_db)?;
    if let Some(mode) = new.grade_mode {
        store::grades::set_grade_mode(&txn, created.id, &mode).await?;
        created.grade_mode = mode;
    }
    principal
        .audit(
            &txn,
            "deployment.add",
            &format!("deployment:{}", created.id),
            organisation.as_deref(),
            serde_json::json!({ "deployment_id": created.lti_deployment_id, "grade_mode": created.grade_mode }),
        )
        .await?;
    txn.commit().await?;
    Ok(created)
}

/// The deployment `deployment_id` of registration `platform_id` (system administrators).
pub async fn deployment(
    db: &DatabaseConnection,
    principal: &Principal,
    platform_id: i64,
    deployment_id: &str,
) -> Result<deployment::Model, AdminError> {
    principal.require_system()?;
    store::deployment::find(db, platform_id, deployment_id)
        .await?
        .ok_or(AdminError::NotFound("deployment"))
}

/// Sets which scores a deployment sends, from its next change on.
pub async fn set_grade_mode(
    db: &DatabaseConnection,
    principal: &Principal,
    deployment: &deployment::Model,
    mode: &str,
) -> Result<(), AdminError> {
    principal.require(Scope::Admin)?;
    principal
        .require_organisation(deployment.organisation.as_deref())
        .map_err(|_| AdminError::NotFound("deployment"))?;
    let txn = store::begin_write(db).await?;
    if !store::grades::set_grade_mode(&txn, deployment.id, mode).await? {
        return Err(AdminError::NotFound("deployment"));
    }
    principal
        .audit(
            &txn,
            "deployment.grade_mode",
            &format!("deployment:{}", deployment.id),
            deployment.organisation.as_deref(),
            serde_json::json!({ "from": deployment.grade_mode, "to": mode }),
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Makes person `sub` of a registration the contact person of `organisation` (system
/// administrators).
pub async fn grant_contact(
    db: &DatabaseConnection,
    principal: &Principal,
    platform_id: i64,
    sub: &str,
    organisation: &str,
) -> Result<(), AdminError> {
    principal.require_system()?;
    let txn = store::begin_write(db).await?;
    store::contact::grant(&txn, platform_id, sub, organisation, principal.now_unix())
        .await
        .map_err(conflict_or_db)?;
    principal
        .audit(
            &txn,
            "contact.grant",
            &format!("platform:{platform_id}"),
            Some(organisation),
            serde_json::json!({}),
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

/// A new signing key for the tool; the others stay published for `overlap_seconds`. Returns the
/// new key's id and the ids of the keys it retired.
pub async fn rotate_key(
    db: &DatabaseConnection,
    principal: &Principal,
    overlap_seconds: i64,
) -> Result<(String, Vec<String>), AdminError> {
    principal.require_system()?;
    let pem = lti::keys::generate_private_key_pem()
        .map_err(|err| AdminError::Invalid(format!("cannot make a key: {err}")))?;
    let txn = store::begin_write(db).await?;
    let (new, retired) = store::tool_key::rotate(
        &txn,
        &lti::keys::new_kid(),
        &pem,
        principal.now_unix(),
        overlap_seconds,
    )
    .await?;
    principal
        .audit(
            &txn,
            "key.rotate",
            &format!("key:{}", new.kid),
            None,
            serde_json::json!({ "retired": retired }),
        )
        .await?;
    txn.commit().await?;
    Ok((new.kid, retired))
}

/// Score deliveries, newest first, optionally in one state, with the count in each state.
pub async fn deliveries(
    db: &DatabaseConnection,
    principal: &Principal,
    in_state: Option<&str>,
    limit: u64,
) -> Result<
    (
        Vec<score_outbox::Model>,
        std::collections::HashMap<String, i64>,
    ),
    AdminError,
> {
    principal.require_system()?;
    let rows = store::grades::list(db, None, in_state, limit).await?;
    Ok((rows, store::grades::counts(db).await?))
}

/// Sends every refused or waiting score again now (system administrators); one delivery is
/// [`super::directory::retry_delivery`]. Returns how many were queued.
pub async fn retry_all_deliveries(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<u64, AdminError> {
    principal.require_system()?;
    let txn = store::begin_write(db).await?;
    let queued = store::grades::retry(&txn, None, principal.now_ms()).await?;
    principal
        .audit(
            &txn,
            "grade_delivery.retry_all",
            "grade_delivery:*",
            None,
            serde_json::json!({ "queued": queued }),
        )
        .await?;
    txn.commit().await?;
    Ok(queued)
}

/// Registers the development LMS of `demo` with its one deployment, approved, owned by the demo
/// organisation; repeated on every start, so it changes only what differs.
pub async fn register_development_platform(
    db: &DatabaseConnection,
    principal: &Principal,
    registration: NewPlatform,
    deployment_id: &str,
    organisation: &str,
) -> Result<(), AdminError> {
    principal.require_system()?;
    let now = principal.now_unix();
    let txn = store::begin_write(db).await?;
    let registered = store::platform::upsert(&txn, registration, now)
        .await
        .map_err(conflict_or_db)?;
    if store::deployment::find(&txn, registered.id, deployment_id)
        .await?
        .is_none()
    {
        store::deployment::add(
            &txn,
            registered.id,
            deployment_id,
            Some(organisation.to_owned()),
            None,
            now,
        )
        .await
        .map_err(conflict_or_db)?;
    } else {
        store::deployment::approve(&txn, registered.id, deployment_id, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

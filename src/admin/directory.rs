//! Administrative changes shared by the admin API and the admin pages: approving and disabling
//! deployments, closing cohorts, retrying grade deliveries, granting roles. Each checks the
//! principal, changes, and writes its audit entry in one transaction.
use entity::{deployment, score_outbox};
use sea_orm::{DatabaseConnection, DbErr};

use super::access::{Denied, Principal, Scope};
use crate::store;

/// Why an administrative change was not made.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Not allowed.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// No such thing (or none the principal may see).
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The change conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// A value is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Storage.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Why a webhook URL is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookUrlError {
    /// Not a URL.
    NotUrl,
    /// Not https (http only on loopback, with the development setting).
    NotHttps,
    /// An address inside (loopback without the development setting, private, link-local, …).
    Inside,
}

/// A webhook URL an organisation may use (normalised), by the outbound policy the deliveries go
/// through: https to a public host; http and loopback only with `allow_loopback`.
pub fn webhook_url(value: &str, allow_loopback: bool) -> Result<String, WebhookUrlError> {
    let url = url::Url::parse(value).map_err(|_| WebhookUrlError::NotUrl)?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(WebhookUrlError::NotHttps);
    }
    match crate::outbound::check_url("webhook_url", value, allow_loopback) {
        Ok(url) => Ok(url.to_string()),
        Err(_) if url.scheme() == "http" => Err(WebhookUrlError::NotHttps),
        Err(_) => Err(WebhookUrlError::Inside),
    }
}

pub use crate::store::{
    completions::Cohort,
    deployment::{APPROVED, DISABLED},
    grades::state as delivery_state,
    lms_courses::LmsCourseSummary,
    organisations::{RETENTION_ANONYMISE, RETENTION_DELETE},
};

/// A new signing secret for a webhook.
pub fn new_webhook_secret() -> String {
    format!("whsec_{}", crate::lti::random_token(30))
}

/// How many months after a cohort closes a retention rule may wait.
pub const RETENTION_MONTHS: std::ops::RangeInclusive<i32> = 1..=240;

/// A change to an organisation's settings, as an administrator asks for it. What equals the
/// current setting is no change: the same webhook URL keeps its signing secret, so saving the
/// retention rule (or repeating a request) never breaks a receiver.
#[derive(Debug, Default)]
pub struct OrganisationSettings {
    /// `None` leaves the webhook, `Some(None)` removes it, `Some(Some(url))` sets it (the URL
    /// already checked with [`webhook_url`]).
    pub webhook_url: Option<Option<String>>,
    /// `None` leaves the retention rule, `Some(None)` removes it.
    pub retention: Option<Option<RetentionRule>>,
}

/// A retention rule as asked for; a part left out keeps the current rule's.
#[derive(Debug, Default)]
pub struct RetentionRule {
    /// Months after a cohort closes, within [`RETENTION_MONTHS`].
    pub months: Option<i32>,
    /// `anonymise` or `delete`.
    pub action: Option<String>,
}

/// Changes organisation `name`'s webhook and retention rule, with its audit entry, in one
/// transaction. A new webhook URL gets a new signing secret, returned here once and never shown
/// again. A request that changes nothing writes nothing and returns no secret.
pub async fn change_organisation(
    db: &DatabaseConnection,
    principal: &Principal,
    name: &str,
    settings: OrganisationSettings,
) -> Result<(entity::organisation::Model, Option<String>), AdminError> {
    principal.require(Scope::Admin)?;
    principal.require_organisation(Some(name))?;
    let row = store::organisations::find(db, name)
        .await?
        .ok_or(AdminError::NotFound("organisation"))?;
    let retention = match settings.retention {
        None => None,
        Some(None) => row.retention_months.is_some().then_some(None),
        Some(Some(rule)) => {
            let months = rule.months.or(row.retention_months).ok_or_else(|| {
                AdminError::Invalid("retention_months is needed with retention_action.".into())
            })?;
            let action = rule.action.unwrap_or_else(|| row.retention_action.clone());
            if !RETENTION_MONTHS.contains(&months)
                || ![
                    store::organisations::RETENTION_ANONYMISE,
                    store::organisations::RETENTION_DELETE,
                ]
                .contains(&action.as_str())
            {
                return Err(AdminError::Invalid(format!(
                    "a retention rule needs {}–{} months and anonymise or delete",
                    RETENTION_MONTHS.start(),
                    RETENTION_MONTHS.end()
                )));
            }
            let unchanged = row.retention_months == Some(months) && row.retention_action == action;
            (!unchanged).then_some(Some((months, action)))
        }
    };
    let webhook_url = match settings.webhook_url {
        None => None,
        Some(None) => row.webhook_url.is_some().then_some(None),
        Some(Some(url)) => (row.webhook_url.as_deref() != Some(url.as_str())).then_some(Some(url)),
    };
    if webhook_url.is_none() && retention.is_none() {
        return Ok((row, None));
    }
    let mut secret = None;
    let webhook = webhook_url.map(|url| {
        url.map(|url| {
            let new_secret = new_webhook_secret();
            secret = Some(new_secret.clone());
            (url, new_secret)
        })
    });
    // The audit entry names what changed, never the secret.
    let detail = serde_json::json!({
        "webhook_url": webhook.as_ref().and_then(|w| w.as_ref().map(|(url, _)| url.clone())),
        "remove_webhook": matches!(webhook, Some(None)),
        "retention_months": retention.as_ref().and_then(|r| r.as_ref().map(|(m, _)| *m)),
        "retention_action": retention.as_ref().and_then(|r| r.as_ref().map(|(_, a)| a.clone())),
        "remove_retention": matches!(retention, Some(None)),
    });
    let txn = store::begin_write(db).await?;
    let updated = store::organisations::change(
        &txn,
        row,
        store::organisations::OrganisationChange { webhook, retention },
    )
    .await?;
    principal
        .audit(
            &txn,
            "organisation.change",
            &format!("organisation:{name}"),
            Some(name),
            detail,
        )
        .await?;
    txn.commit().await?;
    Ok((updated, secret))
}

/// A cohort the principal may see.
pub async fn visible_cohort(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
) -> Result<Cohort, AdminError> {
    let cohort = store::completions::cohort(db, id)
        .await?
        .ok_or(AdminError::NotFound("cohort"))?;
    principal
        .require_organisation(cohort.deployment.organisation.as_deref())
        .map_err(|_| AdminError::NotFound("cohort"))?;
    Ok(cohort)
}

/// Approves (system administrators only, optionally naming the organisation) or disables a
/// deployment.
pub async fn set_deployment_status(
    db: &DatabaseConnection,
    registry: &crate::registry::Registry,
    principal: &Principal,
    id: i64,
    status: &str,
    organisation: Option<&str>,
) -> Result<deployment::Model, AdminError> {
    if status == store::deployment::APPROVED {
        principal.require_system()?;
    } else {
        principal.require(Scope::Admin)?;
    }
    let organisation = organisation.map(str::trim).filter(|o| !o.is_empty());
    if organisation.is_some_and(|o| o.chars().count() > 200) {
        return Err(AdminError::Invalid(
            "organisation is longer than 200 characters".into(),
        ));
    }
    let existing = store::deployment::get(db, id)
        .await?
        .ok_or(AdminError::NotFound("deployment"))?;
    principal
        .require_organisation(existing.organisation.as_deref())
        .map_err(|_| AdminError::NotFound("deployment"))?;
    let now = principal.now_unix();
    let txn = crate::store::begin_write(db).await?;
    if let Some(organisation) = organisation {
        store::organisations::ensure(&txn, organisation, now).await?;
    }
    let updated = store::deployment::set_status(&txn, id, status, organisation, now)
        .await?
        .ok_or(AdminError::NotFound("deployment"))?;
    let action = if status == store::deployment::DISABLED {
        "deployment.disable"
    } else {
        "deployment.approve"
    };
    principal
        .audit(
            &txn,
            action,
            &format!("deployment:{id}"),
            updated.organisation.as_deref(),
            serde_json::json!({ "organisation": organisation, "from": existing.status }),
        )
        .await?;
    txn.commit().await?;
    // This instance sees the change at once; others within the registry's TTL.
    registry.forget_deployment(updated.platform_id, &updated.lti_deployment_id);
    Ok(updated)
}

/// Disables a whole platform registration (system administrators): every deployment of it is
/// disabled, which ends their sessions within seconds, and deployments it sends later wait for
/// approval. Returns how many deployments were disabled.
pub async fn disable_platform(
    db: &DatabaseConnection,
    registry: &crate::registry::Registry,
    principal: &Principal,
    issuer: &str,
    client_id: &str,
) -> Result<usize, AdminError> {
    principal.require_system()?;
    let platform = store::platform::find(db, issuer, client_id)
        .await?
        .ok_or(AdminError::NotFound("registration"))?;
    let deployments: Vec<deployment::Model> = store::deployment::list(db)
        .await?
        .into_iter()
        .filter(|d| d.platform_id == platform.id && d.status != store::deployment::DISABLED)
        .collect();
    let now = principal.now_unix();
    let txn = crate::store::begin_write(db).await?;
    store::platform::stop_auto_approval(&txn, platform.id).await?;
    for d in &deployments {
        store::deployment::set_status(&txn, d.id, store::deployment::DISABLED, None, now).await?;
    }
    principal
        .audit(
            &txn,
            "platform.disable",
            &format!("platform:{}", platform.id),
            None,
            serde_json::json!({ "deployments": deployments.len() }),
        )
        .await?;
    txn.commit().await?;
    for d in &deployments {
        registry.forget_deployment(platform.id, &d.lti_deployment_id);
    }
    Ok(deployments.len())
}

/// Closes (or reopens) a cohort; retention counts from the closing.
pub async fn close_cohort(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
    closed: bool,
) -> Result<(), AdminError> {
    principal.require(Scope::Admin)?;
    let cohort = visible_cohort(db, principal, id).await?;
    let txn = crate::store::begin_write(db).await?;
    store::people::close_context(&txn, id, closed.then(|| principal.now_unix())).await?;
    principal
        .audit(
            &txn,
            if closed {
                "cohort.close"
            } else {
                "cohort.reopen"
            },
            &format!("cohort:{id}"),
            cohort.deployment.organisation.as_deref(),
            serde_json::json!({}),
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Sends a refused or waiting score again now.
pub async fn retry_delivery(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
) -> Result<score_outbox::Model, AdminError> {
    principal.require(Scope::Admin)?;
    let row = store::grades::get(db, id)
        .await?
        .ok_or(AdminError::NotFound("grade delivery"))?;
    let cohort = visible_cohort(db, principal, row.context_id)
        .await
        .map_err(|_| AdminError::NotFound("grade delivery"))?;
    let txn = crate::store::begin_write(db).await?;
    if store::grades::retry(&txn, Some(id), principal.now_ms()).await? == 0 {
        return Err(AdminError::Conflict(format!(
            "The delivery is {}; only refused or waiting ones can be retried.",
            row.state
        )));
    }
    principal
        .audit(
            &txn,
            "grade_delivery.retry",
            &format!("grade_delivery:{id}"),
            cohort.deployment.organisation.as_deref(),
            serde_json::json!({ "from": row.state }),
        )
        .await?;
    txn.commit().await?;
    store::grades::get(db, id)
        .await?
        .ok_or(AdminError::NotFound("grade delivery"))
}

/// Grants a role to a person of a registration (system administrators only).
pub async fn grant_role(
    db: &DatabaseConnection,
    principal: &Principal,
    platform_id: i64,
    sub: &str,
    role: &str,
    organisation: Option<&str>,
) -> Result<(), AdminError> {
    principal.require_system()?;
    let sub = sub.trim();
    if sub.is_empty() || sub.len() > 255 {
        return Err(AdminError::Invalid(
            "the LTI user id must be 1 to 255 characters".into(),
        ));
    }
    let organisation = match (role, organisation.map(str::trim).filter(|o| !o.is_empty())) {
        ("system", _) => "*".to_owned(),
        ("organisation", Some(org)) if org.chars().count() <= 200 => org.to_owned(),
        ("organisation", _) => {
            return Err(AdminError::Invalid(
                "the organisation role needs an organisation".into(),
            ));
        }
        _ => return Err(AdminError::Invalid("unknown role".into())),
    };
    store::platform::get(db, platform_id)
        .await?
        .ok_or(AdminError::NotFound("registration"))?;
    let now = principal.now_unix();
    let txn = crate::store::begin_write(db).await?;
    if organisation != "*" {
        store::organisations::ensure(&txn, &organisation, now).await?;
    }
    store::admin::grant(
        &txn,
        platform_id,
        sub,
        role,
        &organisation,
        &principal.actor,
        now,
    )
    .await?;
    principal
        .audit(
            &txn,
            "grant.add",
            &format!("platform:{platform_id}"),
            (organisation != "*").then_some(organisation.as_str()),
            serde_json::json!({ "role": role }),
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Every grant of a role inside the tool (system administrators).
pub async fn grants(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<entity::admin_grant::Model>, AdminError> {
    principal.require_system()?;
    Ok(store::admin::grants(db, None).await?)
}

/// Takes a granted role back (system administrators).
pub async fn revoke_grant(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
) -> Result<(), AdminError> {
    principal.require_system()?;
    let txn = store::begin_write(db).await?;
    if !store::admin::revoke_grant(&txn, id).await? {
        return Err(AdminError::NotFound("grant"));
    }
    principal
        .audit(
            &txn,
            "grant.revoke",
            &format!("grant:{id}"),
            None,
            serde_json::json!({}),
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The organisations the principal may see, by name.
pub async fn organisations(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<entity::organisation::Model>, AdminError> {
    principal.require(Scope::Admin)?;
    let all = store::organisations::list(db).await?;
    Ok(all
        .into_iter()
        .filter(|org| principal.require_organisation(Some(&org.name)).is_ok())
        .collect())
}

/// Makes sure organisation `name` exists (system administrators); audited when it is new.
pub async fn add_organisation(
    db: &DatabaseConnection,
    principal: &Principal,
    name: &str,
) -> Result<entity::organisation::Model, AdminError> {
    principal.require_system()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AdminError::Invalid(
            "an organisation's name is 1 to 200 characters".into(),
        ));
    }
    let txn = store::begin_write(db).await?;
    let existed = store::organisations::find(&txn, name).await?.is_some();
    let row = store::organisations::ensure(&txn, name, principal.now_unix()).await?;
    if !existed {
        principal
            .audit(
                &txn,
                "organisation.add",
                &format!("organisation:{name}"),
                Some(name),
                serde_json::json!({}),
            )
            .await?;
    }
    txn.commit().await?;
    Ok(row)
}

/// The deployments the principal may see, each with its registration.
pub async fn deployments(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<(deployment::Model, Option<entity::platform::Model>)>, AdminError> {
    principal.require(Scope::Admin)?;
    let platforms = store::platform::list(db).await?;
    Ok(store::deployment::list(db)
        .await?
        .into_iter()
        .filter(|d| {
            principal
                .require_organisation(d.organisation.as_deref())
                .is_ok()
        })
        .map(|d| {
            let platform = platforms.iter().find(|p| p.id == d.platform_id).cloned();
            (d, platform)
        })
        .collect())
}

/// The contact persons of an organisation the principal may see: LTI user id and name, if known.
pub async fn contact_persons(
    db: &DatabaseConnection,
    principal: &Principal,
    organisation: &str,
) -> Result<Vec<(String, Option<String>)>, AdminError> {
    principal.require(Scope::Admin)?;
    principal.require_organisation(Some(organisation))?;
    Ok(store::contact::of_organisation(db, organisation).await?)
}

/// The cohorts (LMS courses) the principal may see, with their deployments and participants.
pub async fn cohorts(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<LmsCourseSummary>, AdminError> {
    principal.require(Scope::CompletionsRead)?;
    Ok(store::lms_courses::list(db, principal.organisation.as_deref()).await?)
}

/// Score deliveries in the principal's cohorts, newest first, optionally in one state, with the
/// people they are for.
pub async fn deliveries(
    db: &DatabaseConnection,
    principal: &Principal,
    in_state: Option<&str>,
    limit: u64,
) -> Result<
    (
        Vec<score_outbox::Model>,
        std::collections::HashMap<i64, entity::lti_user::Model>,
    ),
    AdminError,
> {
    principal.require(Scope::Admin)?;
    let contexts = principal.contexts(db).await?;
    let rows = store::grades::list(db, contexts.as_deref(), in_state, limit).await?;
    let people = store::review::people(db, rows.iter().map(|r| r.user_id).collect()).await?;
    Ok((rows, people))
}

/// The audit log the principal may read (an organisation's own entries), newest first, before
/// entry `before` when given.
pub async fn audit_entries(
    db: &DatabaseConnection,
    principal: &Principal,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<entity::audit_log::Model>, AdminError> {
    principal.require(Scope::Admin)?;
    Ok(store::admin::audit_entries(db, principal.organisation.as_deref(), before, limit).await?)
}

/// The principal of a person launched into the tool: from the roles granted to them inside the
/// tool, never from LMS roles. `wanted` picks one of several organisations.
pub async fn person_principal(
    db: &DatabaseConnection,
    platform_id: i64,
    user_id: i64,
    origin: &str,
    wanted: Option<&str>,
    clock: &crate::lti::clock::Clock,
) -> Result<Option<(Principal, Vec<String>)>, DbErr> {
    let Some(user) = store::people::get(db, user_id).await? else {
        return Ok(None);
    };
    let grants = store::admin::grants_of(db, platform_id, &user.sub).await?;
    let actor = format!("person:{platform_id}:{user_id}");
    if grants.iter().any(|g| g.role == "system") {
        return Ok(Some((
            Principal {
                actor,
                origin: origin.to_owned(),
                scope: Scope::Admin,
                organisation: None,
                clock: clock.clone(),
            },
            Vec::new(),
        )));
    }
    let organisations: Vec<String> = grants
        .into_iter()
        .filter(|g| g.role == "organisation")
        .map(|g| g.organisation)
        .collect();
    let Some(first) = organisations.first() else {
        return Ok(None);
    };
    let chosen = wanted
        .filter(|w| organisations.iter().any(|o| o == w))
        .unwrap_or(first)
        .to_owned();
    Ok(Some((
        Principal {
            actor,
            origin: origin.to_owned(),
            scope: Scope::Admin,
            organisation: Some(chosen),
            clock: clock.clone(),
        },
        organisations,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_follow_the_outbound_policy() {
        assert!(webhook_url("https://umea.example/hook", false).is_ok());
        assert_eq!(
            webhook_url("http://umea.example/hook", false),
            Err(WebhookUrlError::NotHttps)
        );
        assert_eq!(
            webhook_url("https://127.0.0.1/hook", false),
            Err(WebhookUrlError::Inside)
        );
        assert!(webhook_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert_eq!(
            webhook_url("https://10.1.2.3/hook", true),
            Err(WebhookUrlError::Inside)
        );
        assert_eq!(
            webhook_url("https://169.254.169.254/", true),
            Err(WebhookUrlError::Inside)
        );
        assert_eq!(webhook_url("nope", true), Err(WebhookUrlError::NotUrl));
    }
}

//! Retention: each organisation's rule (anonymise or delete N months after a cohort closes),
//! applied by the worker. Each run that finds something to do is written to the audit log.
use sea_orm::{DatabaseConnection, DbErr};

use super::access::Principal;
use crate::store::{self, organisations::RETENTION_DELETE, people::Erasure};

/// What one run did, per organisation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RetentionRun {
    /// Organisations whose rule was applied to at least one cohort.
    pub organisations: usize,
    /// Cohorts done.
    pub cohorts: usize,
    /// People erased.
    pub people: usize,
}

/// Average month, for "N months after".
const MONTH_SECONDS: i64 = 30 * 86_400 + 10 * 3_600;

/// Applies every organisation's retention rule once.
pub async fn run(
    db: &DatabaseConnection,
    clock: &crate::lti::clock::Clock,
) -> Result<RetentionRun, DbErr> {
    let mut run = RetentionRun::default();
    let principal = Principal::retention(clock);
    let now = clock.now_unix();
    for organisation in store::organisations::list(db).await? {
        let Some(months) = organisation.retention_months else {
            continue;
        };
        let how = if organisation.retention_action == RETENTION_DELETE {
            Erasure::Delete
        } else {
            Erasure::Anonymise
        };
        let contexts: Vec<i64> = store::contact::contexts_of(db, &organisation.name)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let closed_before = now - i64::from(months) * MONTH_SECONDS;
        let (cohorts, people) =
            store::people::due_for_retention(db, &contexts, closed_before).await?;
        if cohorts.is_empty() {
            continue;
        }
        let txn = crate::store::begin_write(db).await?;
        let mut erased = 0;
        for user_id in &people {
            let Some(user) = store::people::get(&txn, *user_id).await? else {
                continue;
            };
            let pseudonym = if store::people::is_erased(&user) {
                user.sub.clone()
            } else {
                format!(
                    "{}{}",
                    store::people::ERASED_PREFIX,
                    crate::lti::random_token(12)
                )
            };
            store::people::erase(&txn, &user, Some(&cohorts), how, &pseudonym).await?;
            erased += 1;
        }
        store::people::mark_retained(&txn, &cohorts, now).await?;
        principal
            .audit(
                &txn,
                "retention.apply",
                &format!("organisation:{}", organisation.name),
                Some(&organisation.name),
                serde_json::json!({
                    "months": months,
                    "action": organisation.retention_action,
                    "cohorts": cohorts,
                    "people": erased,
                }),
            )
            .await?;
        txn.commit().await?;
        tracing::info!(organisation = %organisation.name, cohorts = cohorts.len(), people = erased,
            "retention applied");
        run.organisations += 1;
        run.cohorts += cohorts.len();
        run.people += erased;
    }
    tracing::info!(
        organisations = run.organisations,
        cohorts = run.cohorts,
        people = run.people,
        "retention run finished"
    );
    Ok(run)
}

//! Delivering completion events to organisations' webhooks, with the same leases and backoff as
//! scores. Each body is signed: `Coursebridge-Signature: t=<unix>,v1=<hex>`,
//! where `<hex>` is HMAC-SHA256 over `<unix>.<body>` with the organisation's webhook secret, so a
//! receiver can check both origin and freshness.
use std::time::Duration;

use sea_orm::DbErr;

use super::Worker;
use crate::store::{self, webhooks};

/// Attempts before a delivery is given up (an administrator can retry it).
pub const MAX_ATTEMPTS: i32 = 15;

/// The signature header's value for `body` at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, format!("{timestamp}.{body}").as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Claimed.
    pub claimed: usize,
    /// Accepted by the receiver.
    pub sent: usize,
    /// Put back for later (or given up).
    pub retried: usize,
}

/// Claims due events for `worker` and posts them, one organisation's events in order; a failed
/// one waits the worker's backoff for its attempts so far.
pub(super) async fn deliver_once(
    worker: &Worker,
    now_ms: i64,
    lease_until_ms: i64,
) -> Result<Delivered, DbErr> {
    let db = &worker.db;
    let claimant = worker.id.as_str();
    let rows = webhooks::claim(db, claimant, now_ms, lease_until_ms, worker.settings.batch).await?;
    let mut delivered = Delivered {
        claimed: rows.len(),
        ..Delivered::default()
    };
    if rows.is_empty() {
        return Ok(delivered);
    }
    let _renewal = worker.renewing::<entity::webhook_delivery::Entity>();
    // An organisation whose delivery failed in this pass gets no later event in this pass.
    let mut stalled = std::collections::HashSet::new();
    for row in rows {
        if worker.stopping() {
            break;
        }
        if stalled.contains(&row.organisation) {
            webhooks::release_one(db, claimant, row.id).await?;
            continue;
        }
        let organisation = store::organisations::find(db, &row.organisation).await?;
        let target = organisation.and_then(|org| org.webhook_url.zip(org.webhook_secret));
        let outcome = match target {
            None => Err("the organisation has no webhook any more".to_owned()),
            Some((url, secret)) => {
                post(&worker.http, &url, &secret, &row, worker.clock.now_unix()).await
            }
        };
        match outcome {
            Ok(()) => {
                webhooks::mark_sent(db, claimant, row.id, worker.clock.now_ms()).await?;
                crate::measure::delivery("webhooks", "sent");
                delivered.sent += 1;
            }
            Err(error) => {
                stalled.insert(row.organisation.clone());
                let give_up = row.attempts + 1 >= MAX_ATTEMPTS;
                crate::measure::delivery("webhooks", if give_up { "failed" } else { "retry" });
                let delay = worker.backoff(row.attempts);
                tracing::info!(delivery = row.id, organisation = %row.organisation,
                    attempts = row.attempts + 1, give_up, %error, "webhook not delivered");
                webhooks::retry_later(
                    db,
                    claimant,
                    row.id,
                    worker.clock.now_ms() + delay.as_millis() as i64,
                    &error,
                    give_up,
                )
                .await?;
                delivered.retried += 1;
            }
        }
    }
    Ok(delivered)
}

async fn post(
    http: &crate::outbound::Outbound,
    url: &str,
    secret: &str,
    row: &entity::webhook_delivery::Model,
    timestamp: i64,
) -> Result<(), String> {
    let response = http
        .post("webhook URL", url)
        .map_err(|err| err.to_string())?
        .timeout(Duration::from_secs(10))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            "coursebridge-signature",
            signature(secret, timestamp, &row.event),
        )
        .header("coursebridge-delivery", row.id.to_string())
        .body(row.event.clone())
        .send()
        .await
        .map_err(|err| format!("no answer: {err}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        // Redirects are not followed: a receiver that moved must be given its new URL.
        let body = crate::outbound::body_for_log(response).await;
        tracing::info!(code = "WEBHOOK_REFUSED", delivery = row.id, status = status.as_u16(),
            body = %body, "the webhook receiver refused the event");
        Err(format!("the receiver answered {}", status.as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_documented_scheme() {
        // Python: hmac.new(b"secret", b"1700000000.{}", hashlib.sha256).hexdigest()
        assert_eq!(
            signature("secret", 1_700_000_000, "{}"),
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }
}

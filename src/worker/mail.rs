//! Handing queued mail to the deployment's mail server, with the same leases and backoff as
//! scores and webhook events: a server that is down or answers 4xx gets the mail later; one that
//! refuses it for good (5xx, a bad address) ends it as failed. Mail to a person who opted out
//! after it was queued is not sent.
use sea_orm::DbErr;

use super::Worker;
use crate::store::{self, mail::state};

/// Attempts before a mail is given up: with the worker's backoff, about a day of trying.
pub const MAX_ATTEMPTS: i32 = 20;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Claimed.
    pub claimed: usize,
    /// Taken by the mail server.
    pub sent: usize,
    /// Put back for later.
    pub retried: usize,
}

/// Claims due mail for `worker` and sends it. Without a mailer nothing is claimed: what is
/// queued waits for a worker that has one.
pub(super) async fn send_once(
    worker: &Worker,
    now_ms: i64,
    lease_until_ms: i64,
) -> Result<Sent, DbErr> {
    let Some(mailer) = worker.mail.as_deref() else {
        return Ok(Sent::default());
    };
    let db = &worker.db;
    let claimant = worker.id.as_str();
    let rows =
        store::mail::claim(db, claimant, now_ms, lease_until_ms, worker.settings.batch).await?;
    let mut sent = Sent {
        claimed: rows.len(),
        ..Sent::default()
    };
    if rows.is_empty() {
        return Ok(sent);
    }
    let _renewal = worker.renewing::<entity::mail_outbox::Entity>();
    for row in rows {
        if worker.stopping() {
            break;
        }
        let now_ms = worker.clock.now_ms();
        if store::mail::opted_out(db, row.user_id).await? {
            store::mail::finish(db, claimant, row.id, state::OPTED_OUT, now_ms, None).await?;
            crate::measure::delivery("mail", "opted_out");
            continue;
        }
        match mailer.send(&row, worker.clock.now_unix()).await {
            Ok(()) => {
                store::mail::finish(db, claimant, row.id, state::SENT, now_ms, None).await?;
                crate::measure::delivery("mail", "sent");
                sent.sent += 1;
            }
            Err(crate::mail::SendError::Refused(error)) => {
                crate::measure::delivery("mail", "failed");
                tracing::warn!(code = "MAIL_REFUSED", mail = row.id, error = %without_addresses(&error),
                    "the mail server refused a mail for good");
                store::mail::finish(db, claimant, row.id, state::FAILED, now_ms, Some(&error))
                    .await?;
            }
            Err(crate::mail::SendError::Later(error)) => {
                let give_up = row.attempts + 1 >= MAX_ATTEMPTS;
                crate::measure::delivery("mail", if give_up { "failed" } else { "retry" });
                tracing::info!(code = "MAIL_DEFERRED", mail = row.id, attempts = row.attempts + 1,
                    give_up, error = %without_addresses(&error), "mail not sent");
                if give_up {
                    store::mail::finish(db, claimant, row.id, state::FAILED, now_ms, Some(&error))
                        .await?;
                } else {
                    let next = now_ms + worker.backoff(row.attempts).as_millis() as i64;
                    store::mail::retry_later(db, claimant, row.id, next, &error).await?;
                }
                sent.retried += 1;
            }
        }
    }
    Ok(sent)
}

/// A mail server's words without the addresses it names ("550 5.1.1 <kari@umea.se>: unknown
/// user"): a log line at info level names no person.
fn without_addresses(text: &str) -> String {
    text.split(' ')
        .map(|word| if word.contains('@') { "<…>" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_servers_words_lose_the_addresses_they_name() {
        assert_eq!(
            without_addresses("550 5.1.1 <kari.nilsson@umea.se>: Recipient address rejected"),
            "550 5.1.1 <…> Recipient address rejected"
        );
        assert_eq!(without_addresses("421 try later"), "421 try later");
    }
}

//! The worker: one loop that delivers what the service owes other systems, and keeps the
//! schedule of what it does by itself. Each pass claims due rows under a short lease that is
//! renewed while it works on them (`store::lease`, one query for both queues), so several workers
//! in several processes share the queues and a killed one holds nothing for longer than a lease:
//! - completion scores to the LMS gradebooks (`scores`);
//! - completion events to organisations' webhooks (`webhooks`);
//! - mail to the deployment's mail server (`mail`), and the workshop reminders it queues every
//!   few minutes (`learning::mail`);
//! - the retention rules, every `retention_every` (`admin::retention`), and the purge of used
//!   logins' records.
//!
//! Failed deliveries back off exponentially with jitter. Every time it reads comes from the
//! application's one clock, so tests move time instead of waiting.
use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    lti::{self, clock::Clock, token::TokenCache},
    store,
};

pub mod mail;
pub mod scores;
pub mod webhooks;

/// How the worker paces itself.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Rows claimed at once.
    pub batch: u64,
    /// Scores posted at the same time.
    pub concurrency: usize,
    /// How long a claim holds; a worker that dies releases its rows after this.
    pub lease: Duration,
    /// First retry delay; doubles with each attempt.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// The longest a failing platform waits for its next probe.
    pub probe_max: Duration,
    /// Wait between looks at an empty outbox.
    pub poll: Duration,
    /// How often retention rules are applied.
    pub retention_every: Duration,
}

impl WorkerSettings {
    /// From the configuration.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            batch: config.grade_batch_size.max(1),
            concurrency: config.grade_concurrency.max(1),
            lease: Duration::from_secs(config.grade_lease_seconds.max(1)),
            retry_base: Duration::from_millis(config.grade_retry_base_ms.max(1)),
            retry_max: Duration::from_secs(3600),
            probe_max: Duration::from_secs(config.grade_probe_max_seconds.max(1)),
            poll: Duration::from_millis(config.grade_poll_ms.max(10)),
            retention_every: Duration::from_secs(config.retention_interval_seconds.max(1)),
        }
    }
}

/// The delay before attempt `attempts + 1`, doubling from the base up to the maximum, with jitter.
fn backoff(settings: &WorkerSettings, attempts: i32) -> Duration {
    let exponent = attempts.clamp(0, 20) as u32;
    settings
        .retry_base
        .saturating_mul(1u32 << exponent)
        .min(settings.retry_max)
        .mul_f64(jitter())
}

/// A random fraction in [0.5, 1): full jitter would sometimes retry at once; half keeps a floor.
fn jitter() -> f64 {
    use aws_lc_rs::rand::SecureRandom;
    let mut byte = [0u8; 2];
    let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut byte);
    0.5 + f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX) / 2.0
}

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Rows claimed.
    pub claimed: usize,
    /// Accepted by the platform.
    pub sent: usize,
    /// Refused for good.
    pub not_gradable: usize,
    /// Put back for later.
    pub retried: usize,
    /// Webhook events claimed.
    pub events: usize,
    /// Mails claimed.
    pub mails: usize,
}

/// One worker. Several may run against one database (in several processes too).
pub struct Worker {
    db: DatabaseConnection,
    http: crate::outbound::Outbound,
    tokens: Arc<TokenCache>,
    clock: Clock,
    settings: WorkerSettings,
    id: String,
    circuits: Arc<Mutex<scores::Circuits>>,
    line_items: Mutex<HashMap<(i64, String), String>>,
    mail: Option<Arc<crate::mail::Mailer>>,
    courses: crate::learning::context::CourseCache,
    /// Set when a stop came in: no new delivery starts, those in flight finish.
    stopping: Arc<AtomicBool>,
}

/// How long a stop waits for the deliveries in flight to be answered and recorded. Long enough
/// for a gradebook that answers, so a stop repeats none of its scores; short enough that one
/// that stalls does not hold up the stop (its rows are given back for another instance).
const STOP_GRACE: Duration = Duration::from_secs(1);

impl Worker {
    /// A worker with its own name (for claims) on `db`, reading time from `clock`.
    pub fn new(
        db: DatabaseConnection,
        http: crate::outbound::Outbound,
        tokens: Arc<TokenCache>,
        clock: Clock,
        settings: WorkerSettings,
    ) -> Self {
        Self {
            db,
            http,
            tokens,
            courses: crate::learning::context::CourseCache::new(clock.clone()),
            clock,
            settings,
            id: lti::random_token(9),
            line_items: Mutex::default(),
            circuits: Arc::default(),
            mail: None,
            stopping: Arc::default(),
        }
    }

    /// This worker sending mail through `mail` (when mail is configured).
    pub fn with_mail(mut self, mail: Option<Arc<crate::mail::Mailer>>) -> Self {
        self.mail = mail;
        self
    }

    /// Queues the reminders of the workshops that start within two days. The schedule runs this
    /// every few minutes; it queues each reminder once.
    pub async fn queue_reminders(&self) -> Result<usize, crate::learning::context::CourseError> {
        if self.mail.is_none() {
            return Ok(0);
        }
        crate::learning::mail::queue_reminders(&self.db, &self.courses, self.clock.now_ms()).await
    }

    /// The name this worker claims rows under.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether a stop came in, so no new delivery should start.
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The delay before attempt `attempts + 1`, with jitter.
    pub fn backoff(&self, attempts: i32) -> Duration {
        backoff(&self.settings, attempts)
    }

    /// Runs until `shutdown` completes, then gives back whatever it still holds.
    pub async fn run_until(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        tracing::info!(worker = %self.id, "worker started");
        tokio::pin!(shutdown);
        let mut schedule = Schedule::from(self.clock.now_ms());
        loop {
            self.run_schedule(&mut schedule).await;
            let pass = self.drain_once();
            tokio::pin!(pass);
            let pass = tokio::select! {
                pass = &mut pass => pass,
                () = &mut shutdown => {
                    self.stopping.store(true, Ordering::SeqCst);
                    match tokio::time::timeout(STOP_GRACE, pass).await {
                        Ok(Err(err)) => {
                            tracing::warn!(worker = %self.id, error = %err, "worker pass failed");
                        }
                        Ok(Ok(_)) => {}
                        // What the stalled deliveries held is given back below, for another
                        // instance to deliver again (a score carries its own timestamp, so a
                        // repeat changes nothing).
                        Err(_) => tracing::info!(worker = %self.id,
                            "stopped with deliveries still waiting for an answer"),
                    }
                    break;
                }
            };
            let idle = match pass {
                Ok(drained) => drained.claimed == 0 && drained.events == 0 && drained.mails == 0,
                Err(err) => {
                    tracing::warn!(worker = %self.id, error = %err, "worker pass failed");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(self.settings.poll) => {}
                }
            } else if futures_ready(&mut shutdown).await {
                break;
            }
        }
        if let Err(err) = store::webhooks::release(&self.db, &self.id).await {
            tracing::warn!(worker = %self.id, error = %err, "releasing webhook claims failed");
        }
        if let Err(err) = store::mail::release(&self.db, &self.id).await {
            tracing::warn!(worker = %self.id, error = %err, "releasing mail claims failed");
        }
        match store::grades::release(&self.db, &self.id).await {
            Ok(released) => {
                tracing::info!(worker = %self.id, released, "worker stopped")
            }
            Err(err) => tracing::warn!(worker = %self.id, error = %err, "releasing claims failed"),
        }
    }

    /// Does what is due on the schedule: the retention rules (every `retention_every`), and
    /// deleting the records of used logins an hour after their states expired (every 5 minutes;
    /// until then a replayed id_token is named a replay rather than a mismatch).
    async fn run_schedule(&self, schedule: &mut Schedule) {
        let now_ms = self.clock.now_ms();
        if now_ms >= schedule.retention_due_ms {
            schedule.retention_due_ms = now_ms + self.settings.retention_every.as_millis() as i64;
            if let Err(err) = crate::admin::retention::run(&self.db, &self.clock).await {
                tracing::warn!(worker = %self.id, error = %err, "applying retention rules failed");
            }
        }
        if now_ms >= schedule.reminders_due_ms {
            schedule.reminders_due_ms = now_ms + REMINDERS_EVERY.as_millis() as i64;
            match self.queue_reminders().await {
                Ok(0) => {}
                Ok(queued) => tracing::info!(queued, "queued workshop reminders"),
                Err(err) => tracing::warn!(error = %err, "queueing workshop reminders failed"),
            }
        }
        if now_ms >= schedule.purge_due_ms {
            schedule.purge_due_ms = now_ms + PURGE_EVERY.as_millis() as i64;
            let kept_from = now_ms - MAIL_KEPT.as_millis() as i64;
            if let Err(err) = store::mail::purge_settled(&self.db, kept_from).await {
                tracing::warn!(error = %err, "purging settled mail failed");
            }
            let cutoff = now_ms.div_euclid(1000) - USED_LOGIN_KEPT.as_secs() as i64;
            match store::used_login::purge_expired(&self.db, cutoff).await {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(deleted, "purged records of expired logins"),
                Err(err) => {
                    tracing::warn!(error = %err, "purging records of expired logins failed")
                }
            }
        }
    }

    /// One pass: webhook events due, then a batch of scores: claim, post, record the answers.
    pub async fn drain_once(&self) -> Result<Drained, DbErr> {
        let now = self.clock.now_ms();
        let lease_until = now + self.settings.lease.as_millis() as i64;
        let events = webhooks::deliver_once(self, now, lease_until).await?;
        let mails = mail::send_once(self, now, lease_until).await?;
        let drained = self.drain_scores(now, lease_until).await?;
        Ok(Drained {
            events: events.claimed,
            mails: mails.claimed,
            ..drained
        })
    }

    /// Keeps this worker's lease on the rows of `Q` it holds while the returned guard lives.
    fn renewing<Q: store::lease::Queue>(&self) -> Renewal {
        let db = self.db.clone();
        let id = self.id.clone();
        let clock = self.clock.clone();
        let lease = self.settings.lease;
        Renewal(tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                let until = clock.now_ms() + lease.as_millis() as i64;
                if let Err(err) = store::lease::renew::<Q>(&db, &id, until).await {
                    tracing::warn!(worker = %id, error = %err, "renewing a lease failed");
                }
            }
        }))
    }
}

/// How often the schedule looks for workshops that need their reminder queued.
const REMINDERS_EVERY: Duration = Duration::from_secs(300);
/// How long a mail's copy is kept after it was sent or given up (to answer "did it go?").
const MAIL_KEPT: Duration = Duration::from_secs(30 * 86_400);
/// How often the records of used logins are purged.
const PURGE_EVERY: Duration = Duration::from_secs(300);
/// How long a used login's record is kept after its state expired.
const USED_LOGIN_KEPT: Duration = Duration::from_secs(3600);

/// When the worker's own jobs are due next (Unix ms of the application's clock).
struct Schedule {
    retention_due_ms: i64,
    reminders_due_ms: i64,
    purge_due_ms: i64,
}

impl From<i64> for Schedule {
    /// Everything due at once, at `now_ms`.
    fn from(now_ms: i64) -> Self {
        Self {
            retention_due_ms: now_ms,
            reminders_due_ms: now_ms,
            purge_due_ms: now_ms,
        }
    }
}

/// Renews a lease until dropped.
struct Renewal(tokio::task::JoinHandle<()>);

impl Drop for Renewal {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether `shutdown` has completed, without waiting for it.
async fn futures_ready(shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>) -> bool {
    tokio::select! {
        biased;
        () = shutdown.as_mut() => true,
        () = std::future::ready(()) => false,
    }
}

use crate::sync::lock;

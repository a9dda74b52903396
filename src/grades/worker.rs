//! The grade worker: claims due scores from the outbox, finds or creates their line items, posts
//! them with a cached access token, and records what each platform answered. Transient trouble (5xx,
//! 429, timeouts, refused connections) is retried with exponential backoff and jitter; a permanent
//! refusal (the person cannot be graded there) is recorded with the platform's words and not retried.
use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use entity::{platform, score_outbox};
use sea_orm::{DatabaseConnection, DbErr};
use serde_json::Value;

use super::score::{COURSE_FRACTION, COURSE_PASS, COURSE_TAG, MODULE_TAG};
use crate::{
    lti::{
        self,
        ags::{self, AgsError, LineItem},
        keys::SigningKey,
        token::{TokenCache, TokenError},
    },
    store::{self, grades::GradeTarget},
};

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

/// What became of one score.
#[derive(Debug, Clone)]
enum Outcome {
    Sent,
    NotGradable(String),
    RetryLater {
        after: Option<Duration>,
        error: String,
    },
}

/// Per platform: while it fails, one score probes it at growing intervals (at most the settings'
/// `probe_max`) and the others wait for the probe instead of each retrying on its own.
#[derive(Debug, Default)]
struct Circuits {
    open: HashMap<i64, Open>,
}

#[derive(Debug, Clone, Copy)]
struct Open {
    /// When the next probe may go.
    probe_at_ms: i64,
    /// Failures in a row.
    failures: i32,
}

impl Circuits {
    /// `None` when the platform is answering; else when its next probe may go.
    fn probe_at(&self, platform: i64) -> Option<i64> {
        self.open.get(&platform).map(|open| open.probe_at_ms)
    }

    /// A transient failure: the next probe goes after a doubling delay, at most `probe_max`.
    fn failed(
        &mut self,
        platform: i64,
        settings: &WorkerSettings,
        retry_after: Option<Duration>,
    ) -> i64 {
        let failures = self.open.get(&platform).map_or(0, |open| open.failures) + 1;
        let delay = retry_after
            .unwrap_or_else(|| backoff(settings, failures - 1))
            .min(settings.probe_max);
        let probe_at_ms = super::now_ms() + delay.as_millis() as i64;
        self.open.insert(
            platform,
            Open {
                probe_at_ms,
                failures,
            },
        );
        probe_at_ms
    }

    /// The platform answered: its scores go out as usual again.
    fn answered(&mut self, platform: i64) -> bool {
        self.open.remove(&platform).is_some()
    }
}

/// What became of the scores settled so far.
#[derive(Debug, Default, Clone, Copy)]
struct Settled {
    sent: usize,
    not_gradable: usize,
    retried: usize,
}

impl std::ops::AddAssign for Settled {
    fn add_assign(&mut self, other: Self) {
        self.sent += other.sent;
        self.not_gradable += other.not_gradable;
        self.retried += other.retried;
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

/// Records one score's outcome under the worker's claim.
async fn settle_row(
    db: &DatabaseConnection,
    worker: &str,
    settings: &WorkerSettings,
    row: &score_outbox::Model,
    outcome: Outcome,
) -> Result<Settled, DbErr> {
    match outcome {
        Outcome::Sent => {
            store::grades::mark_sent(db, worker, vec![row.id], super::now_ms()).await?;
            Ok(Settled {
                sent: 1,
                ..Settled::default()
            })
        }
        Outcome::NotGradable(message) => {
            tracing::warn!(outbox = row.id, context = row.context_id, %message,
                "the platform refused the score for good; recorded as not gradable");
            store::grades::mark_not_gradable(db, worker, row.id, &message).await?;
            Ok(Settled {
                not_gradable: 1,
                ..Settled::default()
            })
        }
        Outcome::RetryLater { after, error } => {
            let delay = after.unwrap_or_else(|| backoff(settings, row.attempts));
            tracing::info!(outbox = row.id, attempts = row.attempts + 1,
                retry_in_ms = delay.as_millis() as u64, %error, "score not delivered; will retry");
            let next = super::now_ms() + delay.as_millis() as i64;
            store::grades::retry_later(db, worker, row.id, next, &error).await?;
            Ok(Settled {
                retried: 1,
                ..Settled::default()
            })
        }
    }
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
}

/// One worker. Several may run against one database (in several processes too).
pub struct Worker {
    db: DatabaseConnection,
    http: crate::outbound::Outbound,
    tokens: Arc<TokenCache>,
    settings: WorkerSettings,
    id: String,
    circuits: Arc<Mutex<Circuits>>,
    line_items: Mutex<HashMap<(i64, String), String>>,
}

/// Everything needed to talk to one context's platform.
struct Route {
    target: GradeTarget,
    platform: platform::Model,
}

/// What a failed score post means. The platform's words are logged, never stored: the stored
/// error is shown on the admin pages, which show no part of another server's answer.
fn classify(error: AgsError) -> Outcome {
    if let AgsError::Status { status, body, .. } = &error {
        tracing::info!(code = "AGS_REFUSED", status, body = %body, "the grade service refused a call");
    }
    match error {
        AgsError::Status {
            status,
            retry_after,
            ..
        } if status == 401 || status == 408 || status == 429 || status >= 500 => {
            Outcome::RetryLater {
                after: retry_after.map(Duration::from_secs),
                error: format!("the grade service answered HTTP {status}"),
            }
        }
        // Shown after "Not accepted by the LMS:" on the pages; the log line with the code has
        // the platform's answer.
        AgsError::Status { status, .. } => {
            Outcome::NotGradable(format!("HTTP {status} (AGS_REFUSED)"))
        }
        AgsError::BadUrl(url) => {
            Outcome::NotGradable(format!("the line item URL {url:?} is not valid"))
        }
        // A URL the tool does not call will not become one by waiting.
        AgsError::Outbound(err @ crate::outbound::OutboundError::Refused(_)) => {
            Outcome::NotGradable(err.to_string())
        }
        other => Outcome::RetryLater {
            after: None,
            error: other.to_string(),
        },
    }
}

fn token_outcome(error: TokenError) -> Outcome {
    Outcome::RetryLater {
        after: None,
        error: format!("no access token: {error}"),
    }
}

fn tag_of(resource_id: &str) -> &'static str {
    if resource_id == COURSE_FRACTION || resource_id == COURSE_PASS {
        COURSE_TAG
    } else {
        MODULE_TAG
    }
}

/// A random fraction in [0.5, 1): full jitter would sometimes retry at once; half keeps a floor.
fn jitter() -> f64 {
    use aws_lc_rs::rand::SecureRandom;
    let mut byte = [0u8; 2];
    let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut byte);
    0.5 + f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX) / 2.0
}

impl Worker {
    /// A worker with its own name (for claims) on `db`.
    pub fn new(
        db: DatabaseConnection,
        http: crate::outbound::Outbound,
        tokens: Arc<TokenCache>,
        settings: WorkerSettings,
    ) -> Self {
        Self {
            db,
            http,
            tokens,
            settings,
            id: lti::random_token(9),
            line_items: Mutex::default(),
            circuits: Arc::default(),
        }
    }

    /// The name this worker claims rows under.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The delay before attempt `attempts + 1`, with jitter.
    pub fn backoff(&self, attempts: i32) -> Duration {
        backoff(&self.settings, attempts)
    }

    fn cached_line_item(&self, key: &(i64, String)) -> Option<String> {
        match self.line_items.lock() {
            Ok(map) => map.get(key).cloned(),
            Err(poisoned) => poisoned.into_inner().get(key).cloned(),
        }
    }

    fn cache_line_item(&self, key: (i64, String), url: String) {
        match self.line_items.lock() {
            Ok(mut map) => map.insert(key, url),
            Err(poisoned) => poisoned.into_inner().insert(key, url),
        };
    }

    /// Runs until `shutdown` completes, then gives back whatever it still holds.
    pub async fn run_until(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        tracing::info!(worker = %self.id, "grade worker started");
        tokio::pin!(shutdown);
        let mut retention_due = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= retention_due {
                retention_due += self.settings.retention_every;
                if let Err(err) = crate::admin::retention::run(&self.db, lti::now_unix()).await {
                    tracing::warn!(worker = %self.id, error = %err, "applying retention rules failed");
                }
            }
            let idle = match self.drain_once().await {
                Ok(drained) => drained.claimed == 0 && drained.events == 0,
                Err(err) => {
                    tracing::warn!(worker = %self.id, error = %err, "grade worker pass failed");
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
        match store::grades::release(&self.db, &self.id).await {
            Ok(released) => {
                tracing::info!(worker = %self.id, released, "grade worker stopped")
            }
            Err(err) => tracing::warn!(worker = %self.id, error = %err, "releasing claims failed"),
        }
    }

    /// One pass: webhook events due, then a batch of scores: claim, post, record the answers.
    pub async fn drain_once(&self) -> Result<Drained, DbErr> {
        let now = super::now_ms();
        let lease_until = now + self.settings.lease.as_millis() as i64;
        let events = super::webhooks::deliver_once(
            &self.id,
            &|attempts| self.backoff(attempts),
            &self.db,
            &self.http,
            now,
            lease_until,
            self.settings.batch,
        )
        .await?;
        let drained = self.drain_scores(now, lease_until).await?;
        Ok(Drained {
            events: events.claimed,
            ..drained
        })
    }

    async fn drain_scores(&self, now: i64, lease_until: i64) -> Result<Drained, DbErr> {
        let rows =
            store::grades::claim(&self.db, &self.id, now, lease_until, self.settings.batch).await?;
        let mut drained = Drained {
            claimed: rows.len(),
            ..Drained::default()
        };
        if rows.is_empty() {
            return Ok(drained);
        }
        // The claims stay short and are renewed while the batch is worked on: a killed worker's
        // scores are free again within one lease, not after the whole batch's worst case.
        let renewer = {
            let db = self.db.clone();
            let id = self.id.clone();
            let lease = self.settings.lease;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    let until = super::now_ms() + lease.as_millis() as i64;
                    if let Err(err) = store::grades::renew(&db, &id, until).await {
                        tracing::warn!(worker = %id, error = %err, "renewing score claims failed");
                    }
                }
            })
        };
        let settled = self.post_all(rows).await;
        renewer.abort();
        let settled = settled?;
        drained.sent = settled.sent;
        drained.not_gradable = settled.not_gradable;
        drained.retried = settled.retried;
        Ok(drained)
    }

    /// Records one score's outcome, as soon as it is known: a crash then repeats at most the
    /// scores in flight.
    async fn settle(&self, row: &score_outbox::Model, outcome: Outcome) -> Result<Settled, DbErr> {
        settle_row(&self.db, &self.id, &self.settings, row, outcome).await
    }

    async fn routes(
        &self,
        rows: &[score_outbox::Model],
    ) -> Result<HashMap<i64, Option<Arc<Route>>>, DbErr> {
        let mut routes = HashMap::new();
        for row in rows {
            if routes.contains_key(&row.context_id) {
                continue;
            }
            let route = match store::grades::target(&self.db, row.context_id).await? {
                None => None,
                Some(target) => store::platform::get(&self.db, target.deployment.platform_id)
                    .await?
                    .map(|platform| Arc::new(Route { target, platform })),
            };
            routes.insert(row.context_id, route);
        }
        Ok(routes)
    }

    async fn post_all(&self, rows: Vec<score_outbox::Model>) -> Result<Settled, DbErr> {
        let routes = self.routes(&rows).await?;
        let key = match crate::tool_key::signing_key(&self.db).await {
            Ok(key) => Some(key),
            Err(crate::tool_key::NoSigningKey::Db(err)) => return Err(err),
            Err(_) => None,
        };
        let mut settled = Settled::default();
        let Some(key) = key.map(Arc::new) else {
            let error = "the tool has no usable signing key".to_owned();
            for row in rows {
                let outcome = Outcome::RetryLater {
                    after: None,
                    error: error.clone(),
                };
                settled += self.settle(&row, outcome).await?;
            }
            return Ok(settled);
        };
        // Line items first, one at a time, so two scores never create the same column twice.
        let mut line_items: HashMap<(i64, String), Result<String, Outcome>> = HashMap::new();
        let mut to_post = Vec::new();
        for row in rows {
            let Some(Some(route)) = routes.get(&row.context_id) else {
                let outcome = Outcome::NotGradable(
                    "the LMS course no longer offers grade services".to_owned(),
                );
                settled += self.settle(&row, outcome).await?;
                continue;
            };
            let item_key = (row.context_id, row.resource_id.clone());
            if !line_items.contains_key(&item_key) {
                let found = self.line_item(route, &key, &row).await;
                line_items.insert(item_key.clone(), found);
            }
            match line_items.get(&item_key) {
                Some(Ok(url)) => to_post.push((row, route.clone(), url.clone())),
                Some(Err(outcome)) => settled += self.settle(&row, outcome.clone()).await?,
                None => {}
            }
        }
        // A platform that stopped answering gets one probe when it is due; its other scores wait
        // for the probe's answer instead of each trying on its own.
        let now = super::now_ms();
        let mut posting = Vec::new();
        let mut probing = std::collections::HashSet::new();
        for (row, route, url) in to_post {
            let platform = route.platform.id;
            let probe_at = lock(&self.circuits).probe_at(platform);
            match probe_at {
                None => posting.push((row, route, url)),
                Some(at) if at <= now && probing.insert(platform) => {
                    posting.push((row, route, url))
                }
                Some(at) => {
                    store::grades::postpone(&self.db, &self.id, row.id, at.max(now)).await?;
                    settled.retried += 1;
                }
            }
        }
        let limit = Arc::new(tokio::sync::Semaphore::new(self.settings.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for (row, route, url) in posting {
            let permit = limit.clone();
            let http = self.http.clone();
            let tokens = self.tokens.clone();
            let key = key.clone();
            let db = self.db.clone();
            let worker = self.id.clone();
            let settings = self.settings.clone();
            let circuits = self.circuits.clone();
            tasks.spawn(async move {
                let _permit = permit.acquire_owned().await;
                let platform = route.platform.id;
                let outcome = match post(&http, &tokens, &route, &key, &url, &row).await {
                    Outcome::RetryLater { after, error } => {
                        // The next try is the platform's next probe, not the row's own backoff.
                        let probe_at = lock(&circuits).failed(platform, &settings, after);
                        let wait = (probe_at - super::now_ms()).max(0) as u64;
                        Outcome::RetryLater {
                            after: Some(Duration::from_millis(wait)),
                            error,
                        }
                    }
                    Outcome::Sent => {
                        if lock(&circuits).answered(platform) {
                            // Back after an outage: everything waiting for it goes out now.
                            let woken =
                                store::grades::due_now_for_platform(&db, platform, super::now_ms())
                                    .await?;
                            tracing::info!(platform, woken, "the gradebook answers again");
                        }
                        Outcome::Sent
                    }
                    other => other,
                };
                settle_row(&db, &worker, &settings, &row, outcome).await
            });
        }
        let mut failed = None;
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Ok(one)) => settled += one,
                // The row stays claimed until its lease ends, then goes out again.
                Ok(Err(err)) => failed = Some(err),
                Err(err) => tracing::error!(error = %err, "a score post task failed"),
            }
        }
        match failed {
            Some(err) => Err(err),
            None => Ok(settled),
        }
    }

    /// The line item of a row: known, brought by a launch, found at the platform, or created there.
    /// The error is what becomes of the row's score (retry later, or not gradable).
    async fn line_item(
        &self,
        route: &Route,
        key: &SigningKey,
        row: &score_outbox::Model,
    ) -> Result<String, Outcome> {
        let cache_key = (row.context_id, row.resource_id.clone());
        if let Some(url) = self.cached_line_item(&cache_key) {
            return Ok(url);
        }
        let found = self.find_or_create_line_item(route, key, row).await?;
        self.cache_line_item(cache_key, found.clone());
        Ok(found)
    }

    async fn find_or_create_line_item(
        &self,
        route: &Route,
        key: &SigningKey,
        row: &score_outbox::Model,
    ) -> Result<String, Outcome> {
        let db_error = |err: DbErr| Outcome::RetryLater {
            after: None,
            error: err.to_string(),
        };
        if let Some(url) = store::grades::line_item(&self.db, row.context_id, &row.resource_id)
            .await
            .map_err(db_error)?
        {
            return Ok(url);
        }
        let module = (tag_of(&row.resource_id) == MODULE_TAG).then_some(row.resource_id.as_str());
        let remember = |url: String| async move {
            store::grades::remember_line_item(
                &self.db,
                row.context_id,
                &row.resource_id,
                &url,
                lti::now_unix(),
            )
            .await
            .map_err(db_error)?;
            // Another worker may have remembered a different one first; use what is stored.
            Ok::<String, Outcome>(
                store::grades::line_item(&self.db, row.context_id, &row.resource_id)
                    .await
                    .map_err(db_error)?
                    .unwrap_or(url),
            )
        };
        if let Some((url, _)) = store::grades::launched_line_item(&self.db, row.context_id, module)
            .await
            .map_err(db_error)?
        {
            return remember(url).await;
        }
        let Some(line_items) = route.target.context.ags_lineitems_url.clone() else {
            return Err(Outcome::NotGradable(
                "the platform gave no line item and no line item container".to_owned(),
            ));
        };
        let endpoint = crate::registry::token_endpoint(&route.platform);
        let token = self
            .tokens
            .token(&self.http, &endpoint, key, &ags::SCOPES)
            .await
            .map_err(token_outcome)?;
        let tag = tag_of(&row.resource_id);
        if let Some(url) =
            ags::find_line_item(&self.http, &token, &line_items, &row.resource_id, tag)
                .await
                .map_err(classify)?
        {
            return remember(url).await;
        }
        let resource_link_id = store::grades::any_resource_link(&self.db, row.context_id, module)
            .await
            .map_err(db_error)?;
        let item = LineItem {
            id: None,
            label: row.label.clone(),
            score_maximum: row.score_maximum,
            resource_id: Some(row.resource_id.clone()),
            tag: Some(tag.to_owned()),
            resource_link_id,
        };
        let url = ags::create_line_item(&self.http, &token, &line_items, &item)
            .await
            .map_err(classify)?;
        tracing::info!(context = row.context_id, resource = %row.resource_id, %url, "created a line item");
        remember(url).await
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

/// Posts one score; a 401 renews the token once.
async fn post(
    http: &crate::outbound::Outbound,
    tokens: &TokenCache,
    route: &Route,
    key: &SigningKey,
    line_item: &str,
    row: &score_outbox::Model,
) -> Outcome {
    let mut score: Value = match serde_json::from_str(&row.score) {
        Ok(score) => score,
        Err(err) => return Outcome::NotGradable(format!("the stored score is unreadable: {err}")),
    };
    score["timestamp"] = Value::String(crate::i18n::time::iso8601_utc_ms(row.scored_at_ms));
    let endpoint = crate::registry::token_endpoint(&route.platform);
    for renewed in [false, true] {
        let token = match tokens.token(http, &endpoint, key, &ags::SCOPES).await {
            Ok(token) => token,
            Err(err) => return token_outcome(err),
        };
        match ags::post_score(http, &token, line_item, &score).await {
            Ok(()) => return Outcome::Sent,
            Err(AgsError::Status { status: 401, .. }) if !renewed => {
                tokens.forget(endpoint.registration, &ags::SCOPES);
            }
            Err(err) => return classify(err),
        }
    }
    Outcome::RetryLater {
        after: None,
        error: "the platform refused the renewed token".to_owned(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, body: &str) -> AgsError {
        AgsError::Status {
            status,
            retry_after: None,
            body: body.into(),
        }
    }

    #[test]
    fn transient_answers_are_retried_and_refusals_are_not() {
        for transient in [500, 502, 503, 429, 408, 401] {
            assert!(
                matches!(classify(status(transient, "")), Outcome::RetryLater { .. }),
                "{transient}"
            );
        }
        // Canvas, Brightspace, Blackboard, a deleted line item.
        for (permanent, body) in [
            (422, "User not found in course or is not a student"),
            (403, "User is not enrolled in the org unit"),
            (404, "Line item does not exist"),
            (400, "User could not be found: 12"),
        ] {
            match classify(status(permanent, body)) {
                Outcome::NotGradable(message) => {
                    assert!(message.contains(&permanent.to_string()));
                    assert!(!message.contains(body), "no platform words on a page");
                }
                other => panic!("{permanent} gave {other:?}"),
            }
        }
        match classify(AgsError::Status {
            status: 429,
            retry_after: Some(7),
            body: String::new(),
        }) {
            Outcome::RetryLater { after, .. } => assert_eq!(after, Some(Duration::from_secs(7))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tags_follow_the_resource() {
        assert_eq!(tag_of(COURSE_FRACTION), COURSE_TAG);
        assert_eq!(tag_of(COURSE_PASS), COURSE_TAG);
        assert_eq!(tag_of("mobilisering"), MODULE_TAG);
    }
}

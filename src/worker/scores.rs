//! Score delivery: claims due scores from the outbox, finds or creates their line items, posts
//! them with a cached access token, and records what each platform answered. Transient trouble
//! (5xx, 429, timeouts, refused connections) is retried with exponential backoff and jitter; a
//! permanent refusal (the person cannot be graded there) is recorded with the platform's words
//! kept out of it and not retried. While a platform fails, one score probes it and the others wait.
use std::{collections::HashMap, sync::Arc, time::Duration};

use entity::{platform, score_outbox};
use sea_orm::{DatabaseConnection, DbErr};
use serde_json::Value;

use super::{Drained, Worker, WorkerSettings, backoff, lock};
use crate::{
    grades::score::{COURSE_FRACTION, COURSE_PASS, COURSE_TAG, MODULE_TAG},
    lti::{
        ags::{self, AgsError, LineItem},
        clock::Clock,
        keys::SigningKey,
        token::{TokenCache, TokenError},
    },
    store::{self, grades::GradeTarget},
};

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
pub(super) struct Circuits {
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
        now_ms: i64,
    ) -> i64 {
        let failures = self.open.get(&platform).map_or(0, |open| open.failures) + 1;
        let delay = retry_after
            .unwrap_or_else(|| backoff(settings, failures - 1))
            .min(settings.probe_max);
        let probe_at_ms = now_ms + delay.as_millis() as i64;
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

/// Records one score's outcome under the worker's claim.
async fn settle_row(
    db: &DatabaseConnection,
    worker: &str,
    settings: &WorkerSettings,
    clock: &Clock,
    row: &score_outbox::Model,
    outcome: Outcome,
) -> Result<Settled, DbErr> {
    match outcome {
        Outcome::Sent => {
            store::grades::mark_sent(db, worker, vec![row.id], clock.now_ms()).await?;
            // Counted once recorded, so a scrape that sees the count sees the row settled.
            crate::measure::delivery("scores", "sent");
            Ok(Settled {
                sent: 1,
                ..Settled::default()
            })
        }
        Outcome::NotGradable(message) => {
            tracing::warn!(outbox = row.id, context = row.context_id, %message,
                "the platform refused the score for good; recorded as not gradable");
            store::grades::mark_not_gradable(db, worker, row.id, &message).await?;
            crate::measure::delivery("scores", "failed");
            Ok(Settled {
                not_gradable: 1,
                ..Settled::default()
            })
        }
        Outcome::RetryLater { after, error } => {
            let delay = after.unwrap_or_else(|| backoff(settings, row.attempts));
            tracing::info!(outbox = row.id, attempts = row.attempts + 1,
                retry_in_ms = delay.as_millis() as u64, %error, "score not delivered; will retry");
            let next = clock.now_ms() + delay.as_millis() as i64;
            store::grades::retry_later(db, worker, row.id, next, &error).await?;
            crate::measure::delivery("scores", "retry");
            Ok(Settled {
                retried: 1,
                ..Settled::default()
            })
        }
    }
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

impl Worker {
    fn cached_line_item(&self, key: &(i64, String)) -> Option<String> {
        crate::sync::lock(&self.line_items).get(key).cloned()
    }

    fn cache_line_item(&self, key: (i64, String), url: String) {
        crate::sync::lock(&self.line_items).insert(key, url);
    }

    pub(super) async fn drain_scores(&self, now: i64, lease_until: i64) -> Result<Drained, DbErr> {
        if self.stopping() {
            return Ok(Drained::default());
        }
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
        let renewal = self.renewing::<score_outbox::Entity>();
        let settled = self.post_all(rows).await;
        drop(renewal);
        let settled = settled?;
        drained.sent = settled.sent;
        drained.not_gradable = settled.not_gradable;
        drained.retried = settled.retried;
        Ok(drained)
    }

    /// Records one score's outcome, as soon as it is known: a crash then repeats at most the
    /// scores in flight.
    async fn settle(&self, row: &score_outbox::Model, outcome: Outcome) -> Result<Settled, DbErr> {
        settle_row(
            &self.db,
            &self.id,
            &self.settings,
            &self.clock,
            row,
            outcome,
        )
        .await
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
        let now = self.clock.now_ms();
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
            let clock = self.clock.clone();
            let stopping = self.stopping.clone();
            tasks.spawn(async move {
                let _permit = permit.acquire_owned().await;
                // A score not yet posted when a stop comes stays claimed until the stop gives
                // it back.
                if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                    return Ok(Settled::default());
                }
                let platform = route.platform.id;
                let outcome = match post(&http, &tokens, &route, &key, &url, &row).await {
                    Outcome::RetryLater { after, error } => {
                        // The next try is the platform's next probe, not the row's own backoff.
                        let now_ms = clock.now_ms();
                        let probe_at = lock(&circuits).failed(platform, &settings, after, now_ms);
                        let wait = (probe_at - now_ms).max(0) as u64;
                        Outcome::RetryLater {
                            after: Some(Duration::from_millis(wait)),
                            error,
                        }
                    }
                    Outcome::Sent => {
                        if lock(&circuits).answered(platform) {
                            // Back after an outage: everything waiting for it goes out now.
                            let woken =
                                store::grades::due_now_for_platform(&db, platform, clock.now_ms())
                                    .await?;
                            tracing::info!(platform, woken, "the gradebook answers again");
                        }
                        Outcome::Sent
                    }
                    other => other,
                };
                settle_row(&db, &worker, &settings, &clock, &row, outcome).await
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
                self.clock.now_unix(),
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

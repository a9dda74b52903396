//! Completion into the LMS gradebook through AGS: the values of each grade mode in the order a
//! participant earns them, line items found, taken from the launch or created, a gradebook that is
//! down for a while, a worker killed mid-queue, two workers on one queue, and refusals for good.
use std::{collections::HashSet, sync::Arc, time::Duration};

use coursebridge::{
    devplatform::{ClaimEdit, LaunchSpec},
    lti::claims,
    store::{self, grades::NewScore},
    worker::{Worker, WorkerSettings},
};
use entity::{context, lti_user, score_outbox};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{
    Answer, Backend, TestApp, link_containing, spawn_app, spawn_app_with, version_of,
};

on_both_databases!(
    course_fraction_scores_follow_the_participant_in_order,
    course_pass_gives_one_of_one_only_on_completion,
    per_module_scores_go_to_one_line_item_per_module,
    the_launch_line_item_is_used_when_the_platform_gives_one,
    scores_wait_out_a_gradebook_that_is_down_and_all_arrive,
    a_refusal_for_good_is_recorded_as_not_gradable_and_not_retried,
    pending_scores_for_one_person_and_line_item_collapse_into_the_latest,
    two_workers_on_one_queue_post_each_score_exactly_once,
    a_stop_records_the_scores_in_flight_and_starts_no_more,
    no_scores_without_the_ags_claim_and_its_score_scope,
    moving_the_course_to_another_version_rescores_its_participants,
    moving_a_participant_to_another_group_rescores_them,
    a_worker_killed_mid_queue_loses_nothing_and_leaves_nothing_claimed,
    after_an_outage_waiting_scores_go_out_within_the_probe_interval,
    a_score_postponed_after_a_newer_one_came_in_is_retired,
);

async fn a_score_postponed_after_a_newer_one_came_in_is_retired(backend: Backend) {
    // Seen: a gradebook that was down ended on a participant's older score. The older score was
    // in flight when the newer one came in (so the enqueue left it alone), then given back
    // unattempted while the platform was probed, and sent after the newer one.
    let app = spawn_app_with(backend, |c| c.grade_worker = false).await;
    import_small_course(&app).await;
    let (context_id, _) = queue_scores(&app, 1).await;
    let now = app.clock.now_ms();
    let claimed = store::grades::claim(&app.db, "w1", now, now + 30_000, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let older = claimed[0].clone();
    store::grades::enqueue(
        &app.db,
        vec![NewScore {
            context_id,
            user_id: older.user_id,
            resource_id: older.resource_id.clone(),
            label: older.label.clone(),
            score_maximum: older.score_maximum,
            score: older.score.replace("InProgress", "Completed"),
            scored_at_ms: now + 1,
        }],
    )
    .await
    .unwrap();
    store::grades::postpone(&app.db, "w1", older.id, now + 5_000)
        .await
        .unwrap();
    let mut rows: Vec<_> = score_outbox::Entity::find()
        .filter(score_outbox::Column::UserId.eq(older.user_id))
        .all(&app.db)
        .await
        .unwrap();
    rows.sort_by_key(|r| r.id);
    let states: Vec<(&str, bool)> = rows
        .iter()
        .map(|r| (r.state.as_str(), r.claimed_by.is_some()))
        .collect();
    assert_eq!(states, [("superseded", false), ("pending", false)]);
}

async fn after_an_outage_waiting_scores_go_out_within_the_probe_interval(backend: Backend) {
    // Scores back off 100 ms, 200 ms, … doubling; the gradebook is probed at least every 2 s. The
    // worker runs a pass every 100 ms of the application's clock, which the test moves.
    let app = spawn_app_with(backend, |c| {
        c.grade_probe_max_seconds = 2;
        c.grade_worker = false;
    })
    .await;
    import_small_course(&app).await;
    app.platform.set_scores_down(true);
    let (_, subs) = queue_scores(&app, 40).await;
    let worker = app_worker(&app);
    let step = Duration::from_millis(100);
    // Down long enough that each score's own backoff would have grown past 6 s.
    for _ in 0..70 {
        worker.drain_once().await.unwrap();
        app.clock.advance(step);
    }
    let posts_while_down = app.platform.score_posts_total();
    assert!(app.platform.received_scores().is_empty());
    app.platform.set_scores_down(false);
    let mut waited = Duration::ZERO;
    let mut last = None;
    while last.is_none() {
        worker.drain_once().await.unwrap();
        let delivered: HashSet<String> = app
            .platform
            .received_scores()
            .iter()
            .map(|s| s["userId"].as_str().unwrap().to_owned())
            .collect();
        if delivered.len() == subs.len() {
            last = Some(waited);
        }
        assert!(
            waited < Duration::from_secs(20),
            "{} of {} scores after 20 s",
            delivered.len(),
            subs.len()
        );
        app.clock.advance(step);
        waited += step;
    }
    let last = last.unwrap();
    eprintln!("outage: {posts_while_down} posts while down, last score {last:?} after recovery");
    assert!(
        last < Duration::from_secs(4),
        "the last score came {last:?} after the recovery"
    );
    // While it was down, the waiting scores did not each keep trying: the first pass tried them,
    // then one probe at a time.
    assert!(
        posts_while_down <= subs.len() + 12,
        "{posts_while_down} score posts to a gradebook that was down"
    );
}

pub(crate) const COURSE: &str = r#"slug = "liten-kurs"
version = "1.0.0"
framework = "framework.toml"

[title]
sv = "Liten kurs"
en = "Small course"

[completion]
require_baseline = false
require_final = false
"#;

pub(crate) fn module(slug: &str, position: u32, task: &str, review: bool) -> String {
    format!(
        r#"+++
slug = "{slug}"
position = {position}
required = true
title = {{ sv = "Modul {slug}", en = "Module {slug}" }}
workshop = {{ sv = "Workshop {position}", en = "Workshop {position}" }}
+++

::: reflection
slug = "{task}"
kind = "individual"
review = {review}
min_length = 5
[[prompts]]
sv = "Vad tar du med dig?"
en = "What do you take with you?"
:::
"#
    )
}

/// Two modules: `forsta` needs an instructor's approval, `andra` is complete when submitted.
pub(crate) async fn import_small_course(app: &TestApp) {
    let mut files = coursebridge::course::demo_files();
    files.retain(|path, _| path == "framework.toml");
    files.insert("course.toml".into(), COURSE.as_bytes().to_vec());
    files.insert(
        "modules/1-forsta.md".into(),
        module("forsta", 1, "forsta-svar", true).into_bytes(),
    );
    files.insert(
        "modules/2-andra.md".into(),
        module("andra", 2, "andra-svar", false).into_bytes(),
    );
    coursebridge::admin::courses::import(
        &app.db,
        &coursebridge::admin::access::Principal::cli(),
        &files.clone().into(),
    )
    .await
    .unwrap();
}

pub(crate) async fn submit(app: &TestApp, launch: &Answer, module: &str, task: &str) {
    let page = app
        .get(&link_containing(
            &launch.body,
            &format!("/course/m/{module}?session="),
        ))
        .await;
    let posted = app
        .post_form(
            &link_containing(&page.body, &format!("/t/{task}?session=")),
            &[
                ("version", &version_of(&page, task)),
                ("answer_0", "Vi börjar med invånarnas behov."),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(posted.status.as_u16(), 303, "{}", posted.body);
}

/// The instructor decides on the one answer waiting for review.
pub(crate) async fn decide(app: &TestApp, decision: &str) {
    let dashboard = app.launch(LaunchSpec::instructor("grade-teacher")).await;
    let review_url = link_containing(&dashboard.body, "/instructor/submissions/");
    let review = app.get(&review_url).await;
    let decided = app
        .post_form(
            &review_url,
            &[
                ("version", &version_of(&review, "")),
                ("decision", decision),
                ("feedback", "Ge gärna ett exempel."),
            ],
        )
        .await;
    assert_eq!(decided.status.as_u16(), 303, "{}", decided.body);
}

/// Waits until the platform holds `count` scores, and returns them.
async fn scores_arrived(app: &TestApp, count: usize) -> Vec<Value> {
    for _ in 0..300 {
        let scores = app.platform.received_scores();
        if scores.len() >= count {
            return scores;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "expected {count} scores, the platform has {:?}",
        app.platform.received_scores()
    );
}

/// The part of a score that says where the participant stands.
fn standing(score: &Value) -> Value {
    let mut score = score.clone();
    let object = score.as_object_mut().unwrap();
    for volatile in ["timestamp", "lineItem"] {
        object.remove(volatile);
    }
    score
}

async fn course_fraction_scores_follow_the_participant_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    let learner = app.launch(LaunchSpec::learner("grade-1")).await;
    let expect = |given: f64, activity: &str, grading: &str| {
        json!({"userId": "grade-1", "scoreGiven": given, "scoreMaximum": 2.0,
               "activityProgress": activity, "gradingProgress": grading})
    };

    submit(&app, &learner, "andra", "andra-svar").await;
    let scores = scores_arrived(&app, 1).await;
    assert_eq!(
        standing(&scores[0]),
        expect(1.0, "InProgress", "FullyGraded")
    );

    submit(&app, &learner, "forsta", "forsta-svar").await;
    let scores = scores_arrived(&app, 2).await;
    assert_eq!(
        standing(&scores[1]),
        expect(1.0, "Submitted", "PendingManual")
    );

    decide(&app, "return").await;
    let scores = scores_arrived(&app, 3).await;
    let mut returned = expect(1.0, "InProgress", "FullyGraded");
    returned["comment"] = json!("Återsänd för komplettering / Returned for revision");
    assert_eq!(standing(&scores[2]), returned);

    submit(&app, &learner, "forsta", "forsta-svar").await;
    let scores = scores_arrived(&app, 4).await;
    assert_eq!(
        standing(&scores[3]),
        expect(1.0, "Submitted", "PendingManual")
    );

    decide(&app, "approve").await;
    let scores = scores_arrived(&app, 5).await;
    assert_eq!(
        standing(&scores[4]),
        expect(2.0, "Completed", "FullyGraded")
    );

    // One line item, made by the tool and found again for every later score.
    let items = app.platform.line_items();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["resourceId"], "course");
    assert_eq!(items[0]["tag"], "completion");
    assert_eq!(items[0]["scoreMaximum"], 2.0);
    assert_eq!(items[0]["label"], "Liten kurs");
    assert!(items[0]["resourceLinkId"].is_string());
    assert!(scores.iter().all(|s| s["lineItem"] == "1"));
    // Timestamps with milliseconds, in the order of the changes.
    let stamps: Vec<&str> = scores
        .iter()
        .map(|s| s["timestamp"].as_str().unwrap())
        .collect();
    assert!(
        stamps.iter().all(|t| t.len() == 24 && t.ends_with('Z')),
        "{stamps:?}"
    );
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{stamps:?}");
    assert!(
        app.platform
            .service_user_agents()
            .iter()
            .all(|agent| agent.starts_with("coursebridge/"))
    );
    // Nothing more: the instructor's launches and decisions give instructors no scores.
    assert_eq!(settled_scores(&app).await.len(), 5);
    assert_eq!(app.platform.received_scores().len(), 5);

    let dashboard = app.launch(LaunchSpec::instructor("grade-teacher")).await;
    assert!(
        dashboard
            .body
            .contains("<th scope=\"col\">Resultat i lärplattformen</th>"),
        "{}",
        dashboard.body
    );
    assert!(
        dashboard
            .body
            .contains("class=\"gradebook-up-to-date\">Uppdaterat<")
    );
}

async fn course_pass_gives_one_of_one_only_on_completion(backend: Backend) {
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    app.set_grade_mode("course_pass").await;
    let learner = app.launch(LaunchSpec::learner("pass-1")).await;
    submit(&app, &learner, "andra", "andra-svar").await;
    let scores = scores_arrived(&app, 1).await;
    assert_eq!(
        standing(&scores[0]),
        json!({"userId": "pass-1", "activityProgress": "InProgress", "gradingProgress": "NotReady"})
    );
    submit(&app, &learner, "forsta", "forsta-svar").await;
    let scores = scores_arrived(&app, 2).await;
    assert_eq!(
        standing(&scores[1]),
        json!({"userId": "pass-1", "activityProgress": "Submitted", "gradingProgress": "PendingManual"})
    );
    decide(&app, "approve").await;
    let scores = scores_arrived(&app, 3).await;
    assert_eq!(
        standing(&scores[2]),
        json!({"userId": "pass-1", "scoreGiven": 1.0, "scoreMaximum": 1.0,
               "activityProgress": "Completed", "gradingProgress": "FullyGraded"})
    );
    let items = app.platform.line_items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["resourceId"], "course-pass");
    assert_eq!(items[0]["scoreMaximum"], 1.0);
}

async fn per_module_scores_go_to_one_line_item_per_module(backend: Backend) {
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    app.set_grade_mode("per_module").await;
    let learner = app.launch(LaunchSpec::learner("module-1")).await;
    submit(&app, &learner, "andra", "andra-svar").await;
    let scores = scores_arrived(&app, 1).await;
    assert_eq!(
        standing(&scores[0]),
        json!({"userId": "module-1", "scoreGiven": 1.0, "scoreMaximum": 1.0,
               "activityProgress": "Completed", "gradingProgress": "FullyGraded"})
    );
    submit(&app, &learner, "forsta", "forsta-svar").await;
    let scores = scores_arrived(&app, 2).await;
    assert_eq!(
        standing(&scores[1]),
        json!({"userId": "module-1", "activityProgress": "Submitted", "gradingProgress": "PendingManual"})
    );
    decide(&app, "approve").await;
    let scores = scores_arrived(&app, 3).await;
    assert_eq!(standing(&scores[2])["activityProgress"], "Completed");

    let items = app.platform.line_items();
    let by_resource = |slug: &str| {
        items
            .iter()
            .find(|item| item["resourceId"] == slug)
            .unwrap_or_else(|| panic!("no line item {slug}: {items:?}"))
    };
    assert_eq!(items.len(), 2, "untouched modules get no column: {items:?}");
    assert_eq!(by_resource("andra")["tag"], "module");
    assert_eq!(by_resource("andra")["label"], "Modul andra");
    let number = |item: &Value| {
        item["id"]
            .as_str()
            .unwrap()
            .split("/lineitems/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        scores[0]["lineItem"].as_str().unwrap(),
        number(by_resource("andra"))
    );
    assert_eq!(
        scores[1]["lineItem"].as_str().unwrap(),
        number(by_resource("forsta"))
    );
    assert_eq!(scores[2]["lineItem"], scores[1]["lineItem"]);
}

async fn the_launch_line_item_is_used_when_the_platform_gives_one(backend: Backend) {
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    let given = app.platform.create_line_item(json!({
        "label": "Kursen (LMS)", "scoreMaximum": 100.0, "resourceLinkId": "rl-1"
    }));
    let mut spec = LaunchSpec::learner("given-1");
    spec.edits.push(ClaimEdit::Set(
        claims::AGS_ENDPOINT.into(),
        json!({
            "scope": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            ],
            "lineitems": app.platform.url("lineitems").as_str(),
            "lineitem": given,
        }),
    ));
    let learner = app.launch(spec).await;
    submit(&app, &learner, "andra", "andra-svar").await;
    let scores = scores_arrived(&app, 1).await;
    assert_eq!(scores[0]["lineItem"], "1");
    assert_eq!(
        app.platform.line_items().len(),
        1,
        "no second column was made"
    );
}

async fn scores_wait_out_a_gradebook_that_is_down_and_all_arrive(backend: Backend) {
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    app.platform.fail_next_scores(4, 503, None);
    app.platform.fail_next_scores(1, 429, Some(1));
    let first = app.launch(LaunchSpec::learner("down-1")).await;
    let second = app.launch(LaunchSpec::learner("down-2")).await;
    submit(&app, &first, "andra", "andra-svar").await;
    submit(&app, &second, "andra", "andra-svar").await;
    submit(&app, &second, "forsta", "forsta-svar").await;
    // down-2's two scores may collapse into the latest while the gradebook is down.
    for _ in 0..300 {
        let pending = score_outbox::Entity::find()
            .filter(score_outbox::Column::State.eq("pending"))
            .all(&app.db)
            .await
            .unwrap();
        if pending.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let scores = app.platform.received_scores();
    let latest = |user: &str| {
        scores
            .iter()
            .rev()
            .find(|s| s["userId"] == user)
            .cloned()
            .unwrap()
    };
    assert_eq!(latest("down-1")["activityProgress"], "InProgress");
    assert_eq!(latest("down-2")["activityProgress"], "Submitted");
    assert_eq!(latest("down-2")["gradingProgress"], "PendingManual");
    assert!(
        app.platform.score_posts() >= scores.len() + 5,
        "every failure was answered"
    );
    let rows = score_outbox::Entity::find().all(&app.db).await.unwrap();
    assert!(
        rows.iter()
            .all(|r| r.state == "sent" || r.state == "superseded"),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r.attempts > 1),
        "some score needed retries: {rows:?}"
    );
    assert!(rows.iter().all(|r| r.claimed_by.is_none()));
}

async fn a_refusal_for_good_is_recorded_as_not_gradable_and_not_retried(backend: Backend) {
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    let refusal = "User not found in course or is not a student";
    app.platform.refuse_scores_for("test-student", 422, refusal);
    let learner = app.launch(LaunchSpec::learner("test-student")).await;
    submit(&app, &learner, "andra", "andra-svar").await;
    let row = loop_until_state(&app, "not_gradable").await;
    // The admin pages show the status and where to look, never the platform's words.
    let error = row.last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("422") && error.contains("AGS_REFUSED"),
        "{row:?}"
    );
    assert!(!error.contains(refusal), "{row:?}");
    // Far longer than the retry delay (100 ms): no second attempt.
    app.clock.advance(Duration::from_secs(3600));
    app_worker(&app).drain_once().await.unwrap();
    settled_scores(&app).await;
    assert_eq!(app.platform.score_posts(), 1);
    assert!(app.platform.received_scores().is_empty());

    let dashboard = app.launch(LaunchSpec::instructor("grade-teacher")).await;
    assert!(
        dashboard.body.contains(
            "class=\"gradebook-not-gradable\">Tas inte emot av lärplattformen: HTTP 422 (AGS_REFUSED)"
        ),
        "{}",
        dashboard.body
    );
    // The administrator sees it and asks again; the platform still refuses, and it is recorded again.
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"))
            .args(args)
            .env("COURSEBRIDGE_DATABASE_URL", &app.database.url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let listed = cli(&["grades", "list", "--failed"]);
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(listing.contains("1 not gradable"), "{listing}");
    assert!(
        listing.contains(&format!("#{}\tnot_gradable", row.id)),
        "{listing}"
    );
    assert!(listing.contains("HTTP 422 (AGS_REFUSED)"), "{listing}");
    let retried = cli(&["grades", "retry", "--id", &row.id.to_string()]);
    assert!(retried.status.success());
    assert!(String::from_utf8_lossy(&retried.stdout).contains("1 score(s) queued again"));
    for _ in 0..100 {
        if app.platform.score_posts() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.platform.score_posts(), 2);
    loop_until_state(&app, "not_gradable").await;
}

/// Until a worker holds claimed scores (their posts wait on the stalled gradebook).
async fn held_by_a_worker(app: &TestApp) {
    for _ in 0..200 {
        let held = score_outbox::Entity::find()
            .filter(score_outbox::Column::ClaimedBy.is_not_null())
            .filter(score_outbox::Column::State.eq("pending"))
            .count(&app.db)
            .await
            .unwrap();
        if held > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no worker held a score in flight");
}

async fn loop_until_state(app: &TestApp, state: &str) -> score_outbox::Model {
    for _ in 0..200 {
        if let Some(row) = score_outbox::Entity::find()
            .filter(score_outbox::Column::State.eq(state))
            .one(&app.db)
            .await
            .unwrap()
        {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no score became {state}");
}

/// A launched context, and `count` people in it with a queued course score each (what hundreds of
/// participants finishing a module at once leave behind).
async fn queue_scores(app: &TestApp, count: usize) -> (i64, Vec<String>) {
    app.launch(LaunchSpec::learner("queue-owner")).await;
    let context = context::Entity::find().one(&app.db).await.unwrap().unwrap();
    let platform_id = store::platform::list(&app.db).await.unwrap()[0].id;
    let now = crate::helpers::wall_unix();
    let subs: Vec<String> = (0..count).map(|i| format!("bulk-{i:04}")).collect();
    lti_user::Entity::insert_many(subs.iter().map(|sub| lti_user::ActiveModel {
        platform_id: Set(platform_id),
        sub: Set(sub.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }))
    .exec_without_returning(&app.db)
    .await
    .unwrap();
    let users = lti_user::Entity::find()
        .filter(lti_user::Column::Sub.starts_with("bulk-"))
        .all(&app.db)
        .await
        .unwrap();
    let now_ms = app.clock.now_ms();
    store::grades::enqueue(
        &app.db,
        users
            .iter()
            .map(|user| NewScore {
                context_id: context.id,
                user_id: user.id,
                resource_id: "course".into(),
                label: "Liten kurs".into(),
                score_maximum: 2.0,
                score: json!({"userId": user.sub, "scoreGiven": 1.0, "scoreMaximum": 2.0,
                              "activityProgress": "InProgress", "gradingProgress": "FullyGraded"})
                .to_string(),
                scored_at_ms: now_ms,
            })
            .collect(),
    )
    .await
    .unwrap();
    (context.id, subs)
}

/// A worker as the service would run it, on the test's clock: a test calls its passes itself.
fn app_worker(app: &TestApp) -> Worker {
    Worker::new(
        app.db.clone(),
        coursebridge::outbound::Outbound::new(Duration::from_secs(10), true).unwrap(),
        Arc::new(coursebridge::lti::token::TokenCache::new(app.clock.clone())),
        app.clock.clone(),
        WorkerSettings::from_config(&app.config),
    )
}

/// No score is waiting or held any more, so no further post can come; the rows there are. The
/// platform has a score a moment before the worker records it as sent, so a row the worker still
/// holds is given that moment (up to 5 s) to settle.
async fn settled_scores(app: &TestApp) -> Vec<score_outbox::Model> {
    let settled = |rows: &[score_outbox::Model]| {
        rows.iter()
            .all(|r| r.state != "pending" && r.claimed_by.is_none())
    };
    let mut rows = score_outbox::Entity::find().all(&app.db).await.unwrap();
    for _ in 0..100 {
        if settled(&rows) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        rows = score_outbox::Entity::find().all(&app.db).await.unwrap();
    }
    assert!(settled(&rows), "{rows:?}");
    rows
}

fn worker_for(app: &TestApp, batch: u64) -> Arc<Worker> {
    Arc::new(Worker::new(
        app.db.clone(),
        coursebridge::outbound::Outbound::new(Duration::from_secs(10), true).unwrap(),
        Arc::new(coursebridge::lti::token::TokenCache::new(app.clock.clone())),
        app.clock.clone(),
        WorkerSettings {
            batch,
            concurrency: 8,
            lease: Duration::from_secs(30),
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_secs(1),
            probe_max: Duration::from_secs(1),
            poll: Duration::from_millis(20),
            retention_every: Duration::from_secs(3600),
        },
    ))
}

async fn pending_scores_for_one_person_and_line_item_collapse_into_the_latest(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.grade_worker = false).await;
    import_small_course(&app).await;
    app.launch(LaunchSpec::learner("collapse-1")).await;
    let context = context::Entity::find().one(&app.db).await.unwrap().unwrap();
    let user = lti_user::Entity::find()
        .filter(lti_user::Column::Sub.eq("collapse-1"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let now_ms = app.clock.now_ms();
    for (step, given) in [0.0, 1.0, 2.0].into_iter().enumerate() {
        store::grades::enqueue(
            &app.db,
            vec![NewScore {
                context_id: context.id,
                user_id: user.id,
                resource_id: "course".into(),
                label: "Liten kurs".into(),
                score_maximum: 2.0,
                score: json!({"userId": "collapse-1", "scoreGiven": given, "scoreMaximum": 2.0,
                              "activityProgress": "InProgress", "gradingProgress": "FullyGraded"})
                .to_string(),
                scored_at_ms: now_ms + step as i64,
            }],
        )
        .await
        .unwrap();
    }
    let drained = worker_for(&app, 50).drain_once().await.unwrap();
    assert_eq!((drained.claimed, drained.sent), (1, 1));
    let scores = app.platform.received_scores();
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[0]["scoreGiven"], 2.0);
    let states: Vec<String> = score_outbox::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(states, ["superseded", "superseded", "sent"]);
}

async fn two_workers_on_one_queue_post_each_score_exactly_once(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.grade_worker = false).await;
    import_small_course(&app).await;
    let (_, subs) = queue_scores(&app, 400).await;
    app.platform.set_score_delay(Duration::from_millis(2));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = (0..2)
        .map(|_| {
            tokio::spawn(
                worker_for(&app, 25).run_until(coursebridge::startup::wait_for(stopped.clone())),
            )
        })
        .collect();
    let scores = scores_arrived(&app, 400).await;
    stop.send(true).unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    settled_scores(&app).await;
    let scores_after = app.platform.received_scores();
    assert_eq!(scores_after.len(), 400, "no score posted twice");
    assert_eq!(app.platform.score_posts(), 400);
    let users: HashSet<&str> = scores
        .iter()
        .map(|s| s["userId"].as_str().unwrap())
        .collect();
    assert_eq!(users, subs.iter().map(String::as_str).collect());
    let rows = score_outbox::Entity::find().all(&app.db).await.unwrap();
    assert!(
        rows.iter()
            .all(|r| r.state == "sent" && r.claimed_by.is_none())
    );
}

async fn a_stop_records_the_scores_in_flight_and_starts_no_more(backend: Backend) {
    // Seen (CI): two workers stopped just after the gradebook had every score left one pending.
    // The stop had dropped the pass between the gradebook's answer and its record, so that
    // score would have been posted again.
    let app = spawn_app_with(backend, |c| c.grade_worker = false).await;
    import_small_course(&app).await;
    queue_scores(&app, 16).await;
    app.platform.set_score_delay(Duration::from_millis(300));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker =
        tokio::spawn(worker_for(&app, 25).run_until(coursebridge::startup::wait_for(stopped)));
    // The worker posts 8 at a time; the stop comes while the first 8 wait for their answers.
    let started = std::time::Instant::now();
    while app.platform.score_posts() < 8 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no posts began"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.send(true).unwrap();
    worker.await.unwrap();
    let rows = score_outbox::Entity::find().all(&app.db).await.unwrap();
    let sent = rows.iter().filter(|r| r.state == "sent").count();
    assert_eq!(
        app.platform.score_posts(),
        8,
        "no post began after the stop"
    );
    assert_eq!(app.platform.received_scores().len(), 8);
    assert_eq!(
        sent, 8,
        "each score the gradebook answered is recorded as sent"
    );
    assert!(rows.iter().all(|r| r.claimed_by.is_none()), "{rows:?}");
    // The next worker posts the other 8, and none of the first again.
    app.platform.set_score_delay(Duration::ZERO);
    worker_for(&app, 25).drain_once().await.unwrap();
    assert_eq!(app.platform.score_posts(), 16);
    let rows = settled_scores(&app).await;
    assert!(rows.iter().all(|r| r.state == "sent"), "{rows:?}");
}

async fn a_worker_killed_mid_queue_loses_nothing_and_leaves_nothing_claimed(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.grade_worker = false).await;
    import_small_course(&app).await;
    let (_, subs) = queue_scores(&app, 300).await;
    app.platform.set_score_delay(Duration::from_millis(10));
    let start_worker = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"))
            .arg("worker")
            .env("COURSEBRIDGE_DATABASE_URL", &app.database.url)
            .env("COURSEBRIDGE_OUTBOUND_ALLOW_LOOPBACK", "true")
            .env("COURSEBRIDGE_GRADE_BATCH_SIZE", "20")
            .env("COURSEBRIDGE_GRADE_CONCURRENCY", "4")
            .env("COURSEBRIDGE_GRADE_LEASE_SECONDS", "1")
            .env("COURSEBRIDGE_GRADE_POLL_MS", "50")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = start_worker();
    scores_arrived(&app, 60).await;
    // The gradebook stalls, so the worker is surely holding a batch in flight when it dies: a
    // post that began after the stall is held for five seconds. (A post that began before it
    // ends at once, and may end the worker's batch: killed then, it held nothing.)
    app.platform.set_score_delay(Duration::from_secs(5));
    let posts_before_the_stall = app.platform.score_posts();
    for _ in 0..200 {
        if app.platform.score_posts() > posts_before_the_stall {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        app.platform.score_posts() > posts_before_the_stall,
        "the worker posted into the stalled gradebook"
    );
    held_by_a_worker(&app).await;
    first.kill().unwrap(); // SIGKILL: no chance to give anything back.
    first.wait().unwrap();
    let at_kill = app.platform.received_scores().len();
    assert!(
        at_kill < 300,
        "killed in the middle of the queue ({at_kill} arrived)"
    );
    let claimed = score_outbox::Entity::find()
        .filter(score_outbox::Column::ClaimedBy.is_not_null())
        .all(&app.db)
        .await
        .unwrap();
    assert!(!claimed.is_empty(), "the killed worker held rows");
    app.platform.set_score_delay(Duration::from_millis(10));

    let mut second = start_worker();
    let mut delivered = HashSet::new();
    for _ in 0..400 {
        delivered = app
            .platform
            .received_scores()
            .iter()
            .map(|s| s["userId"].as_str().unwrap().to_owned())
            .collect();
        if delivered.len() == subs.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        delivered,
        subs.iter().cloned().collect::<HashSet<_>>(),
        "every score arrived"
    );
    // Each score is settled as its answer arrives: only what was in flight at the kill (at most
    // the worker's concurrency, 4) may have been posted twice, not the rest of its batch of 20.
    let repeats = app.platform.received_scores().len() - subs.len();
    eprintln!("worker killed mid-batch: {repeats} scores posted twice");
    assert!(repeats <= 4, "{repeats} scores were posted twice");
    // A graceful stop gives back whatever the worker holds.
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(second.wait().unwrap().success());
    let rows = score_outbox::Entity::find().all(&app.db).await.unwrap();
    assert!(rows.iter().all(|r| r.state == "sent"), "none stuck");
    assert!(
        rows.iter().all(|r| r.claimed_by.is_none()),
        "none left claimed"
    );
}

async fn no_scores_without_the_ags_claim_and_its_score_scope(backend: Backend) {
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    let mut without = LaunchSpec::learner("no-ags-1");
    without.context = Some(("ungraded".into(), "U".into(), "Ograderad kurs".into()));
    without
        .edits
        .push(ClaimEdit::Remove(claims::AGS_ENDPOINT.into()));
    let mut read_only = LaunchSpec::learner("no-ags-2");
    read_only.context = Some(("read-only".into(), "R".into(), "Bara läsrätt".into()));
    read_only.edits.push(ClaimEdit::Set(
        claims::AGS_ENDPOINT.into(),
        json!({
            "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"],
            "lineitems": app.platform.url("lineitems").as_str(),
        }),
    ));
    for spec in [without, read_only] {
        let learner = app.launch(spec).await;
        submit(&app, &learner, "andra", "andra-svar").await;
    }
    app_worker(&app).drain_once().await.unwrap();
    assert_eq!(app.platform.score_posts(), 0);
    assert!(
        score_outbox::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn moving_the_course_to_another_version_rescores_its_participants(backend: Backend) {
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    let learner = app.launch(LaunchSpec::learner("moved-1")).await;
    submit(&app, &learner, "andra", "andra-svar").await;
    let scores = scores_arrived(&app, 1).await;
    assert_eq!(
        (
            scores[0]["scoreGiven"].as_f64(),
            scores[0]["scoreMaximum"].as_f64()
        ),
        (Some(1.0), Some(2.0))
    );

    // Version 1.1.0 adds a third required module.
    let mut files = coursebridge::course::demo_files();
    files.retain(|path, _| path == "framework.toml");
    files.insert(
        "course.toml".into(),
        COURSE.replace("1.0.0", "1.1.0").into_bytes(),
    );
    files.insert(
        "modules/1-forsta.md".into(),
        module("forsta", 1, "forsta-svar", true).into_bytes(),
    );
    files.insert(
        "modules/2-andra.md".into(),
        module("andra", 2, "andra-svar", false).into_bytes(),
    );
    files.insert(
        "modules/3-tredje.md".into(),
        module("tredje", 3, "tredje-svar", false).into_bytes(),
    );
    let newer = coursebridge::admin::courses::import(
        &app.db,
        &coursebridge::admin::access::Principal::cli(),
        &files.clone().into(),
    )
    .await
    .unwrap();
    let dashboard = app.launch(LaunchSpec::instructor("grade-teacher")).await;
    let token = crate::helpers::token_of(&dashboard.body);
    let moved = app
        .post_form(
            &format!("/instructor/version?session={token}"),
            &[("version", &newer.id.to_string())],
        )
        .await;
    assert_eq!(moved.status.as_u16(), 303, "{}", moved.body);
    let scores = scores_arrived(&app, 2).await;
    assert_eq!(
        standing(&scores[1]),
        json!({"userId": "moved-1", "scoreGiven": 1.0, "scoreMaximum": 3.0,
               "activityProgress": "InProgress", "gradingProgress": "FullyGraded"})
    );
}

async fn moving_a_participant_to_another_group_rescores_them(backend: Backend) {
    let app = spawn_app(backend).await;
    // The demo course: `gemensam-mening` in `ledarskap` is the municipality group's answer.
    let learner = app.launch(LaunchSpec::learner("grouped-1")).await;
    submit(&app, &learner, "ledarskap", "gemensam-mening").await;
    let scores = scores_arrived(&app, 1).await;
    assert_eq!(standing(&scores[0])["activityProgress"], "InProgress");

    let dashboard = app.launch(LaunchSpec::instructor("grade-teacher")).await;
    let token = crate::helpers::token_of(&dashboard.body);
    let created = app
        .post_form(
            &format!("/instructor/groups?session={token}"),
            &[("name", "Ny grupp")],
        )
        .await;
    assert_eq!(created.status.as_u16(), 303);
    let group = entity::learner_group::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let person = lti_user::Entity::find()
        .filter(lti_user::Column::Sub.eq("grouped-1"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let moved = app
        .post_form(
            &format!("/instructor/groups/move?session={token}"),
            &[
                ("person", &person.id.to_string()),
                ("group", &group.id.to_string()),
            ],
        )
        .await;
    assert_eq!(moved.status.as_u16(), 303);
    // The new group has answered nothing: the gradebook hears that the work starts over.
    let scores = scores_arrived(&app, 2).await;
    assert_eq!(
        standing(&scores[1]),
        json!({"userId": "grouped-1", "scoreGiven": 0.0, "scoreMaximum": 6.0,
               "activityProgress": "Initialized", "gradingProgress": "FullyGraded"})
    );
}

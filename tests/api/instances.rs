//! Two `serve` processes on one database behind a round-robin proxy, as a deployment scales out:
//! requests alternate, a change made on one is seen on the other within `cache_ttl_seconds`, a
//! killed instance loses nothing it acknowledged, and a stopped one hands its scores over at once.
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use coursebridge::{
    devplatform::{DevPlatform, LaunchSpec, ToolUrls},
    store,
};
use entity::score_outbox;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use url::Url;

use crate::{
    grades::{COURSE, decide, import_small_course, module, submit},
    helpers::{Backend, TestApp, launch_and_submit, token_of},
    served::{self, parse_metrics},
};

on_both_databases!(two_serve_processes_share_one_database_behind_a_proxy);

/// Seconds each instance trusts what it read: the bound docs/OPERATIONS.md gives for a change
/// to reach every instance.
const CACHE_TTL: Duration = Duration::from_secs(2);

async fn two_serve_processes_share_one_database_behind_a_proxy(backend: Backend) {
    let env = [
        ("COURSEBRIDGE_CACHE_TTL_SECONDS", "2"),
        ("COURSEBRIDGE_GRADE_LEASE_SECONDS", "30"),
    ];
    let mut served = served::serve(backend, 2, &env).await;
    import_small_course(&served.app).await;
    alternate_launches_saves_and_reviews(&served).await;
    a_killed_instance_loses_nothing_acknowledged(&mut served, &env).await;
    a_stopped_instance_hands_its_scores_over(&mut served).await;
    changes_reach_the_other_instance_within_the_ttl(&served).await;
}

/// Requests sum per instance, over the samples whose key starts with `prefix`.
fn requests(samples: &std::collections::BTreeMap<String, f64>, prefix: &str) -> f64 {
    samples
        .iter()
        .filter(|(key, _)| key.starts_with(prefix))
        .map(|(_, value)| value)
        .sum()
}

async fn alternate_launches_saves_and_reviews(served: &served::Served) {
    let app = &served.app;
    for n in 0..4 {
        let learner = app.launch(LaunchSpec::learner(&format!("pair-{n}"))).await;
        assert_eq!(learner.status.as_u16(), 200, "{}", learner.body);
        submit(app, &learner, "andra", "andra-svar").await;
        submit(app, &learner, "forsta", "forsta-svar").await;
    }
    for _ in 0..4 {
        decide(app, "approve").await;
    }
    // Every participant's gradebook entry ends complete (a score superseded while it waited is
    // never posted, so the number of posts varies).
    let started = Instant::now();
    loop {
        let scores = app.platform.received_scores();
        let complete = (0..4).all(|n| {
            scores.iter().any(|score| {
                score["userId"] == format!("pair-{n}").as_str() && score["scoreGiven"] == 2.0
            })
        });
        if complete {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{scores:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for instance in &served.instances {
        let samples = parse_metrics(&instance.scrape().await);
        let launches = requests(
            &samples,
            r#"coursebridge_launches_admitted_total{message_type="LtiResourceLinkRequest"}"#,
        );
        let saves = requests(
            &samples,
            r#"coursebridge_http_requests_total{method="POST",route="/course/m/{module}/t/{task}",status="303"}"#,
        );
        let reviews = requests(
            &samples,
            r#"coursebridge_http_requests_total{method="POST",route="/instructor/submissions/{id}",status="303"}"#,
        );
        eprintln!(
            "{}: {launches} launches, {saves} saves, {reviews} reviews",
            instance.base
        );
        assert!(
            launches >= 1.0 && saves >= 1.0 && reviews >= 1.0,
            "{}",
            instance.base
        );
    }
}

async fn scores_arrive(app: &TestApp, count: usize) {
    let started = Instant::now();
    while app.platform.received_scores().len() < count {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} of {count} scores arrived",
            app.platform.received_scores().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One participant's launch and saved answer through the proxy; `None` when a request of it
/// failed (the instance answering it was killed).
async fn launch_and_save(app: Arc<TestApp>, n: usize) -> Option<String> {
    // The helpers assert as they go; a request to a killed instance ends the task.
    tokio::spawn(async move {
        let answer = format!("Svar {n} innan och efter att en instans dödades.");
        let posted = launch_and_submit(&app, &format!("kill-{n}"), &answer).await;
        (posted.status.as_u16() == 303).then_some(answer)
    })
    .await
    .ok()
    .flatten()
}

async fn a_killed_instance_loses_nothing_acknowledged(
    served: &mut served::Served,
    env: &[(&str, &str)],
) {
    // The traffic runs on a handle of its own: the test keeps `served` to kill and restart.
    let app = served.app.clone();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lanes: Vec<_> = (0..4)
        .map(|lane| {
            let (app, acknowledged, failed, stop) = (
                app.clone(),
                acknowledged.clone(),
                failed.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut n = lane;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match launch_and_save(app.clone(), n).await {
                        Some(answer) => acknowledged.lock().unwrap().push(answer),
                        None => {
                            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    n += 4;
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 12 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    served.instances[1].signal("KILL");
    served.instances[1].wait();
    let at_kill = acknowledged.lock().unwrap().len();
    while acknowledged.lock().unwrap().len() < at_kill + 12 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for lane in lanes {
        lane.await.unwrap();
    }
    let stored: Vec<String> = served
        .app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            served.app.db.get_database_backend(),
            "SELECT answers FROM submission",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect();
    let acknowledged = acknowledged.lock().unwrap().clone();
    for answer in &acknowledged {
        assert!(
            stored.iter().any(|row| row.contains(answer.as_str())),
            "{answer} was acknowledged but is not stored"
        );
    }
    eprintln!(
        "SIGKILL mid-traffic: {} saves acknowledged, all stored; {} flows cut off by the kill",
        acknowledged.len(),
        failed.load(std::sync::atomic::Ordering::Relaxed)
    );
    // The killed one comes back on its address, behind the same proxy.
    let port = served.instances[1].base.port().unwrap();
    served.instances[1] = served::start(&served.app.database.url, port, &served.app.base, env);
    served::ready(&served.instances[1].base).await;
}

/// Rows some worker holds, with the worker's id.
async fn claimed(app: &TestApp) -> Vec<String> {
    score_outbox::Entity::find()
        .filter(score_outbox::Column::ClaimedBy.is_not_null())
        .filter(score_outbox::Column::State.eq("pending"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|row| row.claimed_by)
        .collect()
}

async fn a_stopped_instance_hands_its_scores_over(served: &mut served::Served) {
    let app = &served.app;
    let before = app.platform.received_scores().len();
    // The gradebook stalls, so the score queued now stays claimed while its post waits. One
    // score, so that one instance holds it and the other is free to take it.
    app.platform.set_score_delay(Duration::from_secs(20));
    let learner = app.launch(LaunchSpec::learner("handover")).await;
    submit(app, &learner, "andra", "andra-svar").await;
    // The killed instance's claims wait for their lease; the one to stop is a live holder.
    let started = Instant::now();
    let (holder, holding) = loop {
        let live = claimed(app).await.into_iter().find_map(|worker| {
            served
                .instances
                .iter()
                .position(|instance| {
                    instance
                        .log_lines()
                        .iter()
                        .any(|line| line.contains(&worker))
                })
                .map(|at| (worker, at))
        });
        if let Some(live) = live {
            break live;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no live worker claimed the score"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    app.platform.set_score_delay(Duration::from_millis(5));
    let stopping = Instant::now();
    served.instances[holding].signal("TERM");
    let status = served.instances[holding].wait();
    assert!(status.success(), "{status:?}");
    let stopped_in = stopping.elapsed();
    // It does not wait for the stalled gradebook (20 s) or the outbound timeout (10 s).
    assert!(
        stopped_in < Duration::from_secs(3),
        "stopping took {stopped_in:?}"
    );
    assert!(
        claimed(app).await.iter().all(|worker| worker != &holder),
        "the stopped instance gave back its claims"
    );
    // The other instance's worker takes them at its next poll, long before the 30 s lease ends.
    let handed = Instant::now();
    scores_arrive(app, before + 1).await;
    let taken_in = handed.elapsed();
    eprintln!("SIGTERM: stopped in {stopped_in:?}; the other instance delivered in {taken_in:?}");
    assert!(taken_in < Duration::from_secs(5), "{taken_in:?}");
    let port = served.instances[holding].base.port().unwrap();
    let env = [
        ("COURSEBRIDGE_CACHE_TTL_SECONDS", "2"),
        ("COURSEBRIDGE_GRADE_LEASE_SECONDS", "30"),
    ];
    served.instances[holding] =
        served::start(&served.app.database.url, port, &served.app.base, &env);
    served::ready(&served.instances[holding].base).await;
}

/// Polls `check` on an instance until it holds, and says how long that took.
async fn seen_within<F: std::future::Future<Output = bool>>(
    what: &str,
    base: &Url,
    mut check: impl FnMut() -> F,
) -> Duration {
    let changed = Instant::now();
    loop {
        if check().await {
            let took = changed.elapsed();
            eprintln!("{what} seen on {base} after {took:?}");
            assert!(
                took <= CACHE_TTL + Duration::from_millis(1500),
                "{what} took {took:?} to reach {base}"
            );
            return took;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(20),
            "{what} never reached {base}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A whole launch from `platform`, its id_token posted to `base`: the status and the page.
async fn launch_at(
    app: &TestApp,
    platform: &DevPlatform,
    base: &Url,
    sub: &str,
) -> crate::helpers::Answer {
    let form = app.authorize_via(platform, LaunchSpec::learner(sub)).await;
    app.post_launch_to(base, &form).await
}

async fn changes_reach_the_other_instance_within_the_ttl(served: &served::Served) {
    let app = &served.app;
    let (first, second) = (&served.instances[0].base, &served.instances[1].base);

    // A course version moved on the first instance shows on the second.
    let mut files = coursebridge::course::demo_files();
    files.retain(|path, _| path == "framework.toml");
    files.insert(
        "course.toml".into(),
        COURSE.replace("1.0.0", "1.1.0").into_bytes(),
    );
    for (path, slug, position, review) in [
        ("modules/1-forsta.md", "forsta", 1, true),
        ("modules/2-andra.md", "andra", 2, false),
        ("modules/3-tredje.md", "tredje", 3, false),
    ] {
        files.insert(
            path.into(),
            module(slug, position, &format!("{slug}-svar"), review).into_bytes(),
        );
    }
    let newer = coursebridge::admin::courses::import(
        &app.db,
        &coursebridge::admin::access::Principal::cli(),
        &files.into(),
    )
    .await
    .unwrap();
    let learner = launch_at(app, &app.platform, second, "version-reader").await;
    assert_eq!(learner.status.as_u16(), 200, "{}", learner.body);
    let learner_token = token_of(&learner.body);
    let overview = second
        .join(&format!("course?session={learner_token}"))
        .unwrap();
    assert!(
        !app.get(overview.as_str())
            .await
            .body
            .contains("/course/m/tredje")
    );
    let form = app
        .authorize(LaunchSpec::instructor("version-teacher"))
        .await;
    let teacher = app.post_launch_to(first, &form).await;
    assert_eq!(teacher.status.as_u16(), 200, "{}", teacher.body);
    let moved = app
        .post_form(
            first
                .join(&format!(
                    "instructor/version?session={}",
                    token_of(&teacher.body)
                ))
                .unwrap()
                .as_str(),
            &[("version", &newer.id.to_string())],
        )
        .await;
    assert_eq!(moved.status.as_u16(), 303, "{}", moved.body);
    seen_within("the moved course version", second, || async {
        app.get(overview.as_str())
            .await
            .body
            .contains("/course/m/tredje")
    })
    .await;

    // A registration disabled elsewhere (the command line) is refused on both.
    let other = DevPlatform::start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        "coursebridge-second-client",
        "deployment-2",
        ToolUrls::below(&app.base).unwrap(),
    )
    .await
    .unwrap();
    crate::helpers::register(&app.db, &other, "deployment-2", "Skellefteå kommun").await;
    for base in [first, second] {
        let landed = launch_at(app, &other, base, "other-lms").await;
        assert_eq!(landed.status.as_u16(), 200, "{}", landed.body);
    }
    let disabled = app.cli([
        "platform",
        "disable",
        "--issuer",
        other.registration().issuer.as_str(),
        "--client-id",
        "coursebridge-second-client",
    ]);
    assert!(disabled.status.success(), "{disabled:?}");
    for base in [first, second] {
        seen_within("the disabled registration", base, || async {
            launch_at(app, &other, base, "other-lms")
                .await
                .status
                .is_client_error()
        })
        .await;
    }

    // A deployment disabled through the first instance's admin API is refused on the second.
    let created = app.cli(["token", "create", "--scope", "admin", "--expires", "1d"]);
    let token = String::from_utf8_lossy(&created.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let deployment = store::deployment::list(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|deployment| deployment.lti_deployment_id == "deployment-1")
        .unwrap();
    let answer = reqwest::Client::new()
        .post(
            first
                .join(&format!("api/v1/deployments/{}/disable", deployment.id))
                .unwrap(),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{:?}", answer.text().await);
    seen_within("the disabled deployment", second, || async {
        let refused = launch_at(app, &app.platform, second, "after-disable").await;
        refused.status.as_u16() == 403
            && refused
                .body
                .contains("data-testid=\"error-code\">LTI_DEPLOYMENT_DISABLED<")
    })
    .await;
}

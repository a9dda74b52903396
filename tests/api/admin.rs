//! The admin API: who may call what (the whole authorization matrix), completion records and their
//! incremental sync while records change, webhooks, personal data export and erasure, retention,
//! and archive packages.
use std::{collections::HashMap, io::Read, sync::Arc, time::Duration};

use coursebridge::{
    admin::{access::Scope, tokens},
    devplatform::LaunchSpec,
    lti,
    store::{self, completions::RecordChange},
};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement};
use serde_json::{Value, json};

use crate::{
    grades::{decide, import_small_course, submit},
    helpers::{Backend, TestApp, spawn_app},
};

on_both_databases!(
    every_route_refuses_missing_expired_revoked_wrong_scope_and_other_organisation_tokens,
    incremental_sync_neither_skips_nor_repeats_while_records_change,
    completion_records_follow_progress_and_download_as_csv,
    webhooks_deliver_signed_events_in_order_and_retry_after_failure,
    export_and_erasure_leave_no_personal_data_behind,
    retention_anonymises_people_after_their_cohort_closed,
    the_worker_applies_retention_rules_on_its_own,
    the_worker_purges_used_logins_an_hour_after_their_states_expire,
    archive_package_holds_what_its_manifest_claims,
    an_api_patch_with_the_same_webhook_url_keeps_its_secret,
);

const UMEA: &str = "Umeå kommun";
const SKELLEFTEA: &str = "Skellefteå kommun";

async fn token(app: &TestApp, scope: Scope, organisation: Option<&str>, expires_in: i64) -> String {
    let now = crate::helpers::wall_unix();
    if let Some(organisation) = organisation {
        store::organisations::ensure(&app.db, organisation, now)
            .await
            .unwrap();
    }
    tokens::create(&app.db, scope, organisation, "test", now + expires_in, now)
        .await
        .unwrap()
        .secret
}

struct Reply {
    status: u16,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|_| {
            panic!(
                "not JSON ({}): {}",
                self.status,
                String::from_utf8_lossy(&self.bytes)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// A problem document with this status.
    fn assert_problem(&self, status: u16, route: &str) {
        assert_eq!(self.status, status, "{route}: {}", self.text());
        assert_eq!(self.content_type, "application/problem+json", "{route}");
        let problem = self.json();
        assert_eq!(problem["status"], status, "{route}");
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:coursebridge:problem:"),
            "{route}"
        );
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{route}");
    }
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let url = app.base.join(path).unwrap();
    let mut request = match method {
        "GET" => app.client.get(url),
        "POST" => app.client.post(url),
        "PATCH" => app.client.patch(url),
        other => panic!("{other}"),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Reply {
        status,
        content_type,
        headers,
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

/// A learner of Umeå who has completed one module: a cohort, a person and a completion record.
async fn umea_with_progress(app: &TestApp, sub: &str) -> (i64, i64) {
    import_small_course(app).await;
    let learner = app.launch(LaunchSpec::learner(sub)).await;
    submit(app, &learner, "andra", "andra-svar").await;
    let context = entity::context::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let user = store::people::get(&app.db, person_id(&app.db, sub).await)
        .await
        .unwrap()
        .unwrap();
    (context.id, user.id)
}

async fn person_id(db: &DatabaseConnection, sub: &str) -> i64 {
    use sea_orm::{ColumnTrait, QueryFilter};
    entity::lti_user::Entity::find()
        .filter(entity::lti_user::Column::Sub.eq(sub))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[derive(Clone, Copy, PartialEq)]
enum Needs {
    Read,
    Admin,
    System,
}

async fn every_route_refuses_missing_expired_revoked_wrong_scope_and_other_organisation_tokens(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (cohort, person) = umea_with_progress(&app, "matrix-1").await;
    let delivery = store::grades::list(&app.db, None, None, 1).await.unwrap()[0].id;
    let deployment = store::deployment::list(&app.db).await.unwrap()[0].id;

    let system = token(&app, Scope::Admin, None, 3600).await;
    let umea = token(&app, Scope::Admin, Some(UMEA), 3600).await;
    let skelleftea = token(&app, Scope::Admin, Some(SKELLEFTEA), 3600).await;
    let reader = token(&app, Scope::CompletionsRead, Some(UMEA), 3600).await;
    let expired = token(&app, Scope::Admin, None, -1).await;

    // The revoked token goes through the command line, as an operator would.
    let created = app.cli([
        "token",
        "create",
        "--scope",
        "admin",
        "--expires",
        "1d",
        "--label",
        "ci",
    ]);
    assert!(created.status.success(), "{created:?}");
    let revoked = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert!(revoked.starts_with("cbt_"), "{revoked}");
    assert_eq!(
        call(&app, "GET", "api/v1/cohorts", Some(&revoked), None)
            .await
            .status,
        200
    );
    let stored: Vec<_> = store::admin::tokens(&app.db).await.unwrap();
    assert!(
        stored
            .iter()
            .all(|t| t.token_hash != revoked && !revoked.contains(&t.token_hash))
    );
    let revoked_id = stored
        .iter()
        .find(|t| t.label == "ci")
        .unwrap()
        .id
        .to_string();
    let revoke = app.cli(["token", "revoke", "--id", &revoked_id]);
    assert!(revoke.status.success(), "{revoke:?}");

    let close = json!({"closed": false});
    let patch = json!({"retention_months": 12});
    let erase = json!({"mode": "anonymise"});
    let invite = json!({"organisation": UMEA});
    let routes: Vec<(&str, String, Option<&Value>, Needs, bool)> = vec![
        // (method, path, body, needs, names one Umeå thing)
        ("GET", "api/v1/completions".into(), None, Needs::Read, false),
        (
            "GET",
            format!("api/v1/completions?cohort={cohort}"),
            None,
            Needs::Read,
            true,
        ),
        (
            "GET",
            "api/v1/organisations".into(),
            None,
            Needs::Admin,
            false,
        ),
        (
            "PATCH",
            format!("api/v1/organisations/{UMEA}"),
            Some(&patch),
            Needs::Admin,
            true,
        ),
        (
            "GET",
            "api/v1/registrations".into(),
            None,
            Needs::System,
            false,
        ),
        (
            "GET",
            "api/v1/registration-invitations".into(),
            None,
            Needs::Admin,
            false,
        ),
        (
            "POST",
            "api/v1/registration-invitations".into(),
            Some(&invite),
            Needs::Admin,
            true,
        ),
        (
            "GET",
            "api/v1/deployments".into(),
            None,
            Needs::Admin,
            false,
        ),
        (
            "POST",
            format!("api/v1/deployments/{deployment}/approve"),
            None,
            Needs::System,
            true,
        ),
        ("GET", "api/v1/cohorts".into(), None, Needs::Admin, false),
        (
            "POST",
            format!("api/v1/cohorts/{cohort}/close"),
            Some(&close),
            Needs::Admin,
            true,
        ),
        (
            "GET",
            format!("api/v1/cohorts/{cohort}/archive"),
            None,
            Needs::Admin,
            true,
        ),
        (
            "GET",
            "api/v1/grade-deliveries".into(),
            None,
            Needs::Admin,
            false,
        ),
        (
            "POST",
            format!("api/v1/grade-deliveries/{delivery}/retry"),
            None,
            Needs::Admin,
            true,
        ),
        (
            "GET",
            format!("api/v1/people/{person}/export"),
            None,
            Needs::Admin,
            true,
        ),
        ("GET", "api/v1/audit-log".into(), None, Needs::Admin, false),
        (
            "POST",
            format!("api/v1/deployments/{deployment}/disable"),
            None,
            Needs::Admin,
            true,
        ),
        (
            "POST",
            format!("api/v1/people/{person}/erase"),
            Some(&erase),
            Needs::Admin,
            true,
        ),
    ];
    for (method, path, body, needs, names_umea) in &routes {
        let route = format!("{method} {path}");
        let garbage = "cbt_not-a-token";
        for (bad, words) in [
            (None, "no API token"),
            (Some(garbage), "not valid"),
            (Some(expired.as_str()), "expired"),
            (Some(revoked.as_str()), "revoked"),
        ] {
            let reply = call(&app, method, path, bad, *body).await;
            reply.assert_problem(401, &route);
            assert!(
                reply.json()["detail"].as_str().unwrap().contains(words),
                "{route}"
            );
            assert!(reply.headers.contains_key("www-authenticate"), "{route}");
        }
        if *needs != Needs::Read {
            call(&app, method, path, Some(&reader), *body)
                .await
                .assert_problem(403, &route);
        }
        let other = call(&app, method, path, Some(&skelleftea), *body).await;
        match (needs, names_umea) {
            (Needs::System, _) => other.assert_problem(403, &route),
            (_, true) => other.assert_problem(404, &route),
            (_, false) => {
                // Lists answer, with nothing of Umeå in them: not even counts.
                assert_eq!(other.status, 200, "{route}: {}", other.text());
                let text = other.text();
                assert!(
                    !text.contains("matrix-1") && !text.contains(UMEA),
                    "{route}: {text}"
                );
                match other.json() {
                    Value::Array(items) => assert!(
                        items.is_empty() || path.contains("organisations"),
                        "{route}: {items:?}"
                    ),
                    page => assert_eq!(page["records"], json!([]), "{route}"),
                }
            }
        }
        if *needs == Needs::System {
            call(&app, method, path, Some(&umea), *body)
                .await
                .assert_problem(403, &route);
        }
    }
    // Those allowed get their answer: reads first, the erasure last.
    for (method, path, body, needs, _) in &routes {
        let allowed = if *needs == Needs::System {
            &system
        } else {
            &umea
        };
        let reply = call(&app, method, path, Some(allowed), *body).await;
        let expected = if path.contains("/retry") {
            [200, 409]
        } else if *method == "POST" && path.ends_with("registration-invitations") {
            [201, 201]
        } else {
            [200, 200]
        };
        assert!(
            expected.contains(&reply.status),
            "{method} {path}: {} {}",
            reply.status,
            reply.text()
        );
        if *needs == Needs::Read {
            let read = call(&app, method, path, Some(&reader), *body).await;
            assert_eq!(read.status, 200, "{method} {path} with the read token");
        }
    }
    // The disabled deployment launches no more.
    let refused = app.launch(LaunchSpec::learner("matrix-2")).await;
    refused.assert_refused(403, "LTI_DEPLOYMENT_DISABLED");
    // Every change above is in the audit log, with who and from where.
    let log = call(
        &app,
        "GET",
        "api/v1/audit-log?limit=1000",
        Some(&system),
        None,
    )
    .await
    .json();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "token.revoke",
        "organisation.change",
        "deployment.approve",
        "cohort.reopen",
        "cohort.archive",
        "person.export",
        "deployment.disable",
        "person.anonymise",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    let entry = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "person.anonymise")
        .unwrap();
    assert_eq!(entry["origin"], "127.0.0.1");
    assert!(entry["actor"].as_str().unwrap().starts_with("token:"));
    // Unknown routes under /api answer as problems too.
    call(&app, "GET", "api/v1/nothing", Some(&system), None)
        .await
        .assert_problem(404, "GET api/v1/nothing");
    call(
        &app,
        "GET",
        "api/v1/completions?cursor=zzz",
        Some(&system),
        None,
    )
    .await
    .assert_problem(400, "bad cursor");
    call(
        &app,
        "GET",
        "api/v1/completions?limit=0",
        Some(&system),
        None,
    )
    .await
    .assert_problem(400, "limit 0");
}

async fn incremental_sync_neither_skips_nor_repeats_while_records_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let (cohort, _) = umea_with_progress(&app, "sync-0").await;
    let mut people = vec![person_id(&app.db, "sync-0").await];
    for n in 1..8 {
        let sub = format!("sync-{n}");
        app.launch(LaunchSpec::learner(&sub)).await;
        people.push(person_id(&app.db, &sub).await);
    }
    let reader = token(&app, Scope::CompletionsRead, Some(UMEA), 3600).await;

    // Writers change records concurrently, each holding its transaction open a little after
    // taking its change number, so commits could land out of order if numbers did not follow them.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for (w, chunk) in people.chunks(2).enumerate() {
        let db = app.db.clone();
        let clock = app.clock.clone();
        let chunk = chunk.to_vec();
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let mut round = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                use sea_orm::TransactionTrait;
                let user_id = chunk[(round as usize) % chunk.len()];
                let txn = db.begin().await.unwrap();
                let record = format!("{{\"course_version\":\"w{w}-r{round}\"}}");
                store::completions::store(
                    &txn,
                    RecordChange {
                        context_id: cohort,
                        user_id,
                        organisation: Some(UMEA),
                        record: &record,
                        now_ms: clock.now_ms(),
                    },
                )
                .await
                .unwrap();
                tokio::time::sleep(Duration::from_millis(3 + u64::from(round % 5))).await;
                txn.commit().await.unwrap();
                round += 1;
            }
            round
        }));
    }

    let mut cursor: Option<String> = None;
    let mut seen: Vec<(i64, i64)> = Vec::new();
    let mut latest: HashMap<i64, i64> = HashMap::new();
    let sync = |cursor: Option<String>| {
        let app = &app;
        let reader = reader.clone();
        async move {
            let path = match cursor {
                Some(c) => format!("api/v1/completions?limit=3&cursor={c}"),
                None => "api/v1/completions?limit=3".to_owned(),
            };
            let reply = call(app, "GET", &path, Some(&reader), None).await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            reply.json()
        }
    };
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let page = sync(cursor.clone()).await;
        for record in page["records"].as_array().unwrap() {
            let id = record["id"].as_i64().unwrap();
            let sequence = record["sequence"].as_i64().unwrap();
            seen.push((id, sequence));
            latest.insert(id, sequence);
        }
        cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut changes = 0;
    for writer in writers {
        changes += writer.await.unwrap();
    }
    // Catch up after the writers stopped.
    loop {
        let page = sync(cursor.clone()).await;
        for record in page["records"].as_array().unwrap() {
            let id = record["id"].as_i64().unwrap();
            let sequence = record["sequence"].as_i64().unwrap();
            seen.push((id, sequence));
            latest.insert(id, sequence);
        }
        cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert!(changes > 20, "the writers made only {changes} changes");
    // Never a repeat, always forward.
    for pair in seen.windows(2) {
        assert!(
            pair[0].1 < pair[1].1,
            "sequence went {:?} → {:?}",
            pair[0],
            pair[1]
        );
    }
    // Never a skip: the reader ends with every record's current version.
    let stored =
        store::completions::page(&app.db, &store::completions::RecordFilter::default(), 1000)
            .await
            .unwrap();
    assert_eq!(stored.len(), people.len());
    for record in stored {
        assert_eq!(
            latest.get(&record.id),
            Some(&record.sequence),
            "record {} ended at {} but the reader saw {:?}",
            record.id,
            record.sequence,
            latest.get(&record.id)
        );
    }
    // A sync from the last cursor finds nothing new.
    let after = sync(cursor).await;
    assert_eq!(after["records"], json!([]));
}

async fn completion_records_follow_progress_and_download_as_csv(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = coursebridge::i18n::time::iso8601_utc_ms(app.clock.now_ms() - 1000);
    let (cohort, person) = umea_with_progress(&app, "record-1").await;
    let reader = token(&app, Scope::CompletionsRead, Some(UMEA), 3600).await;

    let page = call(
        &app,
        "GET",
        &format!("api/v1/completions?updated_since={before}"),
        Some(&reader),
        None,
    )
    .await
    .json();
    let records = page["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{page}");
    let record = &records[0];
    assert_eq!(record["person"]["sub"], "record-1");
    assert_eq!(record["person"]["id"], person);
    assert_eq!(record["person"]["name"], "Astrid Lindqvist");
    assert_eq!(record["organisation"], UMEA);
    assert_eq!(record["cohort"]["id"], cohort);
    assert_eq!(record["cohort"]["title"], "Att leda digital omställning");
    assert_eq!(record["course_version"], "liten-kurs@1.0.0");
    assert_eq!(record["modules"].as_array().unwrap().len(), 1);
    assert_eq!(record["modules"][0]["slug"], "andra");
    assert_eq!(record["course_completed_at"], Value::Null);
    assert!(
        ["on_its_way", "up_to_date"].contains(&record["gradebook"].as_str().unwrap()),
        "{record}"
    );
    let first_sequence = record["sequence"].as_i64().unwrap();

    // The second module needs a review: completion comes with the approval.
    let learner = app.launch(LaunchSpec::learner("record-1")).await;
    submit(&app, &learner, "forsta", "forsta-svar").await;
    decide(&app, "approve").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let later = call(
        &app,
        "GET",
        &format!("api/v1/completions?cursor={cursor}"),
        Some(&reader),
        None,
    )
    .await
    .json();
    let record = later["records"].as_array().unwrap().last().unwrap().clone();
    assert!(record["sequence"].as_i64().unwrap() > first_sequence);
    assert_eq!(record["modules"].as_array().unwrap().len(), 2, "{record}");
    assert!(
        record["course_completed_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let csv = call(
        &app,
        "GET",
        "api/v1/completions?format=csv",
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(csv.headers.contains_key("coursebridge-next-cursor"));
    let text = csv.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("record_id,sequence,updated_at,organisation"));
    assert!(
        lines[1].contains("record-1")
            && lines[1].contains("andra=")
            && lines[1].contains("forsta=")
    );

    // Nothing changed after a time in the future.
    let none = call(
        &app,
        "GET",
        "api/v1/completions?updated_since=2999-01-01T00:00:00Z",
        Some(&reader),
        None,
    )
    .await
    .json();
    assert_eq!(none["records"], json!([]));
    call(
        &app,
        "GET",
        "api/v1/completions?updated_since=yesterday",
        Some(&reader),
        None,
    )
    .await
    .assert_problem(400, "bad updated_since");
}

/// A webhook receiver that answers 500 to its first `failures` calls.
async fn receiver(
    failures: usize,
) -> (
    url::Url,
    Arc<std::sync::Mutex<Vec<(HashMap<String, String>, String)>>>,
) {
    use axum::{extract::State, http::HeaderMap, http::StatusCode, routing::post};
    type Seen = Arc<std::sync::Mutex<Vec<(HashMap<String, String>, String)>>>;
    let seen: Seen = Arc::default();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new()
        .route(
            "/hook",
            post(
                move |State((seen, calls)): State<(Seen, Arc<std::sync::atomic::AtomicUsize>)>,
                      headers: HeaderMap,
                      body: String| async move {
                    if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < failures {
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let headers = headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
                        .collect();
                    seen.lock().unwrap().push((headers, body));
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state((seen.clone(), calls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (
        url::Url::parse(&format!("http://{address}/hook")).unwrap(),
        seen,
    )
}

async fn an_api_patch_with_the_same_webhook_url_keeps_its_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = token(&app, Scope::Admin, Some(UMEA), 3600).await;
    let path = format!("api/v1/organisations/{UMEA}");
    let hook = json!({"webhook_url": "https://umea.example/hooks/completions"});
    let set = call(&app, "PATCH", &path, Some(&admin), Some(&hook)).await;
    assert_eq!(set.status, 200, "{}", set.text());
    let secret = set.json()["webhook_secret"].as_str().unwrap().to_owned();
    let stored_secret = || async {
        store::organisations::find(&app.db, UMEA)
            .await
            .unwrap()
            .unwrap()
            .webhook_secret
    };

    // The same URL again, alone and beside a retention rule: the receiver keeps working.
    let again = call(&app, "PATCH", &path, Some(&admin), Some(&hook)).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert!(again.json()["webhook_secret"].is_null(), "{}", again.text());
    let with_rule = json!({
        "webhook_url": "https://umea.example/hooks/completions",
        "retention_months": 18,
    });
    let ruled = call(&app, "PATCH", &path, Some(&admin), Some(&with_rule)).await;
    assert_eq!(ruled.status, 200, "{}", ruled.text());
    assert!(ruled.json()["webhook_secret"].is_null(), "{}", ruled.text());
    assert_eq!(ruled.json()["retention_months"], 18);
    assert_eq!(stored_secret().await.as_deref(), Some(secret.as_str()));

    // A new URL gets a new secret.
    let moved = json!({"webhook_url": "https://umea.example/hooks/v2"});
    let changed = call(&app, "PATCH", &path, Some(&admin), Some(&moved)).await;
    let new_secret = changed.json()["webhook_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(stored_secret().await.as_deref(), Some(new_secret.as_str()));
}

async fn webhooks_deliver_signed_events_in_order_and_retry_after_failure(backend: Backend) {
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    let admin = token(&app, Scope::Admin, Some(UMEA), 3600).await;
    let (hook, seen) = receiver(2).await;
    let set = call(
        &app,
        "PATCH",
        &format!("api/v1/organisations/{UMEA}"),
        Some(&admin),
        Some(&json!({"webhook_url": hook.as_str()})),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.text());
    let secret = set.json()["webhook_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    // The secret is shown once: a listing does not have it.
    let listed = call(&app, "GET", "api/v1/organisations", Some(&admin), None).await;
    assert!(!listed.text().contains(&secret));
    call(
        &app,
        "PATCH",
        &format!("api/v1/organisations/{UMEA}"),
        Some(&admin),
        Some(&json!({"webhook_url": "http://example.org/hook"})),
    )
    .await
    .assert_problem(400, "plain http elsewhere than loopback");

    let learner = app.launch(LaunchSpec::learner("hook-1")).await;
    submit(&app, &learner, "andra", "andra-svar").await;
    submit(&app, &learner, "forsta", "forsta-svar").await;
    decide(&app, "approve").await;

    let mut events = Vec::new();
    for _ in 0..200 {
        events = seen.lock().unwrap().clone();
        if events.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(events.len(), 2, "{events:?}");
    let mut sequences = Vec::new();
    for (headers, body) in &events {
        let signature = &headers["coursebridge-signature"];
        let timestamp: i64 = signature
            .strip_prefix("t=")
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((crate::helpers::wall_unix() - timestamp).abs() < 60);
        assert_eq!(
            signature,
            &coursebridge::worker::webhooks::signature(&secret, timestamp, body)
        );
        assert_ne!(
            signature,
            &coursebridge::worker::webhooks::signature("whsec_other", timestamp, body)
        );
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["type"], "completion.changed");
        assert_eq!(event["record"]["person"]["sub"], "hook-1");
        sequences.push(event["record"]["sequence"].as_i64().unwrap());
    }
    assert!(sequences[0] < sequences[1], "{sequences:?}");
    let last: Value = serde_json::from_str(&events[1].1).unwrap();
    assert!(last["record"]["course_completed_at"].is_string(), "{last}");
    // The two failures were retried, not lost.
    // The worker records a delivery after the receiver answered.
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = store::webhooks::list(&app.db, Some(UMEA), None, 10)
            .await
            .unwrap();
        if rows.iter().all(|r| r.state == "sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(rows.iter().all(|r| r.state == "sent"), "{rows:?}");
    assert_eq!(rows.iter().map(|r| r.attempts).sum::<i32>(), 4, "{rows:?}");
}

/// Every text value in every table of the database.
async fn all_text(db: &DatabaseConnection, backend: Backend) -> String {
    let (tables_sql, columns_sql): (&str, fn(&str) -> String) = match backend {
        Backend::Sqlite => ("SELECT name FROM sqlite_master WHERE type = 'table'", |t| {
            format!(
                "SELECT name FROM pragma_table_info('{t}') WHERE upper(type) LIKE '%CHAR%' OR upper(type) LIKE '%TEXT%' OR upper(type) LIKE '%CLOB%' OR type = ''"
            )
        }),
        Backend::Postgres => (
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()",
            |t| {
                format!(
                    "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{t}' AND data_type IN ('text', 'character varying')"
                )
            },
        ),
    };
    let backend_kind = db.get_database_backend();
    let names = |sql: String| async move {
        db.query_all_raw(Statement::from_string(backend_kind, sql))
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.try_get::<String>("", "name").unwrap())
            .collect::<Vec<_>>()
    };
    let mut all = String::new();
    for table in names(tables_sql.to_owned()).await {
        for column in names(columns_sql(&table)).await {
            let sql = format!("SELECT \"{column}\" AS v FROM \"{table}\"");
            for row in db
                .query_all_raw(Statement::from_string(backend_kind, sql))
                .await
                .unwrap()
            {
                if let Ok(Some(value)) = row.try_get::<Option<String>>("", "v") {
                    all.push_str(&format!("{table}.{column}: {value}\n"));
                }
            }
        }
    }
    all
}

async fn export_and_erasure_leave_no_personal_data_behind(backend: Backend) {
    let app = spawn_app_with_email(backend).await;
    import_small_course(&app).await;
    let mut spec = LaunchSpec::learner("erase-me-4711");
    spec.name = Some((
        "Greta Raderasdotter".into(),
        "Greta".into(),
        "Raderasdotter".into(),
    ));
    spec.email = Some("greta.raderas@example.se".into());
    let learner = app.launch(spec).await;
    submit(&app, &learner, "andra", "andra-svar").await;
    submit(&app, &learner, "forsta", "forsta-svar").await;
    decide(&app, "return").await;
    // Another person's data must survive.
    let other = app.launch(LaunchSpec::learner("keep-me-0815")).await;
    submit(&app, &other, "andra", "andra-svar").await;
    let person = person_id(&app.db, "erase-me-4711").await;
    let admin = token(&app, Scope::Admin, Some(UMEA), 3600).await;

    let export = call(
        &app,
        "GET",
        &format!("api/v1/people/{person}/export"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(export.status, 200, "{}", export.text());
    let export = export.json();
    assert_eq!(export["person"]["sub"], "erase-me-4711");
    assert_eq!(export["person"]["name"], "Greta Raderasdotter");
    assert_eq!(export["person"]["email"], "greta.raderas@example.se");
    assert_eq!(export["answers"].as_array().unwrap().len(), 2, "{export}");
    assert!(
        export
            .to_string()
            .contains("Vi börjar med invånarnas behov.")
    );
    assert!(export.to_string().contains("Ge gärna ett exempel."));
    assert_eq!(export["memberships"][0]["role"], "participant");
    assert!(!export["completion_records"].as_array().unwrap().is_empty());

    let before = all_text(&app.db, backend).await;
    for needle in ["erase-me-4711", "Raderasdotter", "greta.raderas@example.se"] {
        assert!(
            before.contains(needle),
            "{needle} should be stored before erasure"
        );
    }
    let erased = call(
        &app,
        "POST",
        &format!("api/v1/people/{person}/erase"),
        Some(&admin),
        Some(&json!({"mode": "anonymise"})),
    )
    .await;
    assert_eq!(erased.status, 200, "{}", erased.text());
    let report = erased.json();
    assert_eq!(report["answers"], 2);
    assert_eq!(report["identity_removed"], true);

    let after = all_text(&app.db, backend).await;
    for needle in [
        "erase-me-4711",
        "Raderasdotter",
        "Greta",
        "greta.raderas@example.se",
        "Ge gärna ett exempel.",
    ] {
        let found: Vec<&str> = after.lines().filter(|l| l.contains(needle)).collect();
        assert!(found.is_empty(), "{needle} left behind: {found:?}");
    }
    // The other person's answer and identity stay; the erased person's record stays as a count.
    assert!(after.contains("keep-me-0815"));
    assert!(after.contains("Vi börjar med invånarnas behov."));
    let page = call(&app, "GET", "api/v1/completions", Some(&admin), None)
        .await
        .json();
    assert_eq!(page["records"].as_array().unwrap().len(), 2);
    // Erasure is in the audit log, naming the person only by id.
    let log = call(&app, "GET", "api/v1/audit-log", Some(&admin), None).await;
    let log_text = log.text();
    assert!(
        log_text.contains("person.anonymise") && log_text.contains(&format!("person:{person}"))
    );
    assert!(!log_text.contains("erase-me-4711"));

    // Deleting removes the counts too.
    let deleted = call(
        &app,
        "POST",
        &format!("api/v1/people/{person}/erase"),
        Some(&admin),
        Some(&json!({"mode": "delete"})),
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let page = call(&app, "GET", "api/v1/completions", Some(&admin), None)
        .await
        .json();
    assert_eq!(page["records"].as_array().unwrap().len(), 1);
    call(
        &app,
        "POST",
        &format!("api/v1/people/{person}/erase"),
        Some(&admin),
        Some(&json!({"mode": "shred"})),
    )
    .await
    .assert_problem(400, "unknown mode");
}

async fn spawn_app_with_email(backend: Backend) -> TestApp {
    crate::helpers::spawn_app_with(backend, |c| c.store_email = true).await
}

async fn retention_anonymises_people_after_their_cohort_closed(backend: Backend) {
    let app = spawn_app(backend).await;
    let (cohort, person) = umea_with_progress(&app, "retain-1").await;
    let admin = token(&app, Scope::Admin, Some(UMEA), 3600).await;
    let set = call(
        &app,
        "PATCH",
        &format!("api/v1/organisations/{UMEA}"),
        Some(&admin),
        Some(&json!({"retention_months": 6, "retention_action": "anonymise"})),
    )
    .await;
    assert_eq!(set.json()["retention_months"], 6);
    let closed = call(
        &app,
        "POST",
        &format!("api/v1/cohorts/{cohort}/close"),
        Some(&admin),
        Some(&json!({"closed": true})),
    )
    .await;
    assert!(closed.json()["closed_at"].is_string());
    let run = || app.cli(["retention", "run"]);
    // Closed today: not yet.
    let early = run();
    assert!(
        String::from_utf8_lossy(&early.stdout).contains("0 organisations"),
        "{early:?}"
    );
    assert_eq!(
        store::people::get(&app.db, person)
            .await
            .unwrap()
            .unwrap()
            .sub,
        "retain-1"
    );
    // Closed seven months ago: anonymised, once.
    store::people::close_context(
        &app.db,
        cohort,
        Some(crate::helpers::wall_unix() - 7 * 31 * 86_400),
    )
    .await
    .unwrap();
    let due = run();
    assert!(
        String::from_utf8_lossy(&due.stdout).contains("1 cohorts, 1 people"),
        "{due:?}"
    );
    let user = store::people::get(&app.db, person).await.unwrap().unwrap();
    assert!(store::people::is_erased(&user), "{user:?}");
    assert_eq!(user.name, None);
    let again = run();
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 organisations"),
        "{again:?}"
    );
    let log = call(&app, "GET", "api/v1/audit-log", Some(&admin), None)
        .await
        .json();
    let runs: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "retention.apply")
        .collect();
    assert_eq!(runs.len(), 1, "{log}");
    assert_eq!(runs[0]["detail"]["people"], 1);
    assert_eq!(runs[0]["origin"], "worker");
}

async fn the_worker_purges_used_logins_an_hour_after_their_states_expire(backend: Backend) {
    use sea_orm::PaginatorTrait;
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    app.launch(LaunchSpec::learner("purged-login")).await;
    let used = || async {
        entity::used_login::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(used().await, 1, "the admitted login is recorded");
    // Two hours on the service's clock: past the state's expiry and the hour after it. The worker
    // inside the server purges on its own schedule, every five minutes of that clock.
    app.clock.advance(Duration::from_secs(2 * 3600 + 600));
    for _ in 0..100 {
        if used().await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(used().await, 0, "the expired login's record is still there");
}

async fn the_worker_applies_retention_rules_on_its_own(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |c| c.retention_interval_seconds = 1).await;
    let (cohort, person) = umea_with_progress(&app, "retain-worker").await;
    let umea = store::organisations::ensure(&app.db, UMEA, crate::helpers::wall_unix())
        .await
        .unwrap();
    store::organisations::change(
        &app.db,
        umea,
        store::organisations::OrganisationChange {
            webhook: None,
            retention: Some(Some((1, "delete".to_owned()))),
        },
    )
    .await
    .unwrap();
    store::people::close_context(
        &app.db,
        cohort,
        Some(crate::helpers::wall_unix() - 2 * 31 * 86_400),
    )
    .await
    .unwrap();
    // No command: the worker inside the server gets there within its interval.
    for _ in 0..100 {
        if store::completions::get(&app.db, cohort, person)
            .await
            .unwrap()
            .is_none()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        store::completions::get(&app.db, cohort, person)
            .await
            .unwrap()
            .is_none(),
        "the completion record is still there"
    );
    let user = store::people::get(&app.db, person).await.unwrap().unwrap();
    assert!(store::people::is_erased(&user), "{user:?}");
    let log = store::admin::audit_entries(&app.db, Some(UMEA), None, 10)
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "retention.apply" && e.origin == "worker")
    );
}

async fn archive_package_holds_what_its_manifest_claims(backend: Backend) {
    let app = spawn_app(backend).await;
    let (cohort, _) = umea_with_progress(&app, "archive-1").await;
    let learner = app.launch(LaunchSpec::learner("archive-1")).await;
    submit(&app, &learner, "forsta", "forsta-svar").await;
    decide(&app, "return").await;
    let admin = token(&app, Scope::Admin, Some(UMEA), 3600).await;
    let reply = call(
        &app,
        "GET",
        &format!("api/v1/cohorts/{cohort}/archive"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.content_type, "application/zip");
    check_package(&reply.bytes);

    // The command line writes the same kind of package.
    let folder = std::env::temp_dir().join(format!("cb-archive-{}", lti::random_token(6)));
    std::fs::create_dir_all(&folder).unwrap();
    let output = app.cli_with(
        ["export", "cohort", "--cohort", &cohort.to_string(), "--out"],
        &folder,
    );
    assert!(output.status.success(), "{output:?}");
    let written = std::fs::read_dir(&folder)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    check_package(&std::fs::read(&written).unwrap());
    std::fs::remove_dir_all(&folder).unwrap();
    let missing = app.cli(["export", "cohort", "--cohort", "999999"]);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
}

fn check_package(bytes: &[u8]) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = zip
        .file_names()
        .map(|name| name.unwrap().into_owned())
        .collect();
    let root = names[0].split('/').next().unwrap().to_owned();
    assert!(root.starts_with("coursebridge-cohort-"), "{names:?}");
    assert!(
        names.iter().all(|n| n.starts_with(&format!("{root}/"))),
        "{names:?}"
    );
    let mut read = |name: &str| {
        let mut text = Vec::new();
        zip.by_name(&format!("{root}/{name}"))
            .unwrap_or_else(|_| panic!("{name} missing from {names:?}"))
            .read_to_end(&mut text)
            .unwrap();
        text
    };
    let mets = String::from_utf8(read("METS.xml")).unwrap();
    assert!(mets.contains("PROFILE=\"https://earksip.dilcis.eu/profile/E-ARK-SIP.xml\""));
    assert!(mets.contains(&format!("OBJID=\"{root}\"")));
    assert!(mets.contains("csip:OAISPACKAGETYPE=\"SIP\""));
    // Every file the manifest lists is there with the checksum and size it states.
    let mut listed = 0;
    for entry in mets.split("<mets:file ").skip(1) {
        let attr = |name: &str| {
            let at = entry.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            entry[at..at + entry[at..].find('"').unwrap()].to_owned()
        };
        let bytes = read(&attr("xlink:href"));
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(attr("CHECKSUM"), hex);
        assert_eq!(attr("SIZE"), bytes.len().to_string());
        listed += 1;
    }
    assert_eq!(listed, 5);
    let completions: Value =
        serde_json::from_slice(&read("representations/rep1/data/completions.json")).unwrap();
    assert_eq!(completions[0]["person"]["sub"], "archive-1");
    let csv = String::from_utf8(read("representations/rep1/data/completions.csv")).unwrap();
    assert!(csv.lines().nth(1).unwrap().contains("archive-1"));
    let reflections: Value =
        serde_json::from_slice(&read("representations/rep1/data/reflections.json")).unwrap();
    assert_eq!(reflections.as_array().unwrap().len(), 2);
    let html = String::from_utf8(read("representations/rep1/data/reflections.html")).unwrap();
    assert!(html.contains("Vi börjar med invånarnas behov."));
    assert!(html.contains("Ge gärna ett exempel."));
    assert!(html.contains("Astrid Lindqvist"));
    assert!(html.starts_with("<!DOCTYPE html>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_documents_itself_without_any_other_site() {
    let app = spawn_app(Backend::Sqlite).await;
    let docs = app.get("api/docs").await;
    assert_eq!(docs.status.as_u16(), 200);
    assert!(docs.body.contains("<code>GET /api/v1/completions</code>"));
    assert!(docs.body.contains("CompletionView"));
    // Nothing is loaded from elsewhere: every src and href stays on this service.
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in docs.body.match_indices(attribute) {
            let value = &docs.body[at + attribute.len()..];
            assert!(
                value.starts_with('/') || value.starts_with('#'),
                "{}",
                &value[..value.len().min(80)]
            );
        }
    }
    let spec = app.get("api/v1/openapi.json").await;
    assert_eq!(spec.body, coursebridge::web::api::openapi_json());
}

#[test]
fn the_committed_openapi_document_is_current() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed");
    assert!(
        committed == coursebridge::web::api::openapi_json(),
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

on_both_databases!(
    admin_pages_follow_roles_granted_in_the_tool_and_stay_within_the_organisation,
    the_admin_page_sets_an_organisations_webhook_and_retention_rule,
    registration_links_come_from_the_api_and_the_admin_page_within_the_organisation
);

async fn registration_links_come_from_the_api_and_the_admin_page_within_the_organisation(
    backend: Backend,
) {
    use crate::helpers::link_containing;
    use reqwest::StatusCode;
    let app = spawn_app(backend).await;
    let umea = token(&app, Scope::Admin, Some(UMEA), 3600).await;
    let reader = token(&app, Scope::CompletionsRead, Some(UMEA), 3600).await;
    let path = "api/v1/registration-invitations";

    // The API: the link once in the answer, never in a listing; another organisation is not theirs.
    let made = call(
        &app,
        "POST",
        path,
        Some(&umea),
        Some(&json!({"organisation": UMEA, "expires_in_days": 2})),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let link = made.json()["url"].as_str().unwrap().to_owned();
    assert!(
        link.starts_with(app.base.join("lti/register/").unwrap().as_str()),
        "{link}"
    );
    assert_eq!(made.json()["auto_approve_deployments"], false);
    let listed = call(&app, "GET", path, Some(&umea), None).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json().as_array().unwrap().len(), 1);
    assert!(!listed.text().contains(link.rsplit('/').next().unwrap()));
    call(
        &app,
        "POST",
        path,
        Some(&umea),
        Some(&json!({"organisation": SKELLEFTEA})),
    )
    .await
    .assert_problem(404, "another organisation");
    call(
        &app,
        "POST",
        path,
        Some(&reader),
        Some(&json!({"organisation": UMEA})),
    )
    .await
    .assert_problem(403, "read-only token");
    call(
        &app,
        "POST",
        path,
        Some(&umea),
        Some(&json!({"organisation": UMEA, "expires_in_days": 91})),
    )
    .await
    .assert_problem(400, "too long");
    call(
        &app,
        "POST",
        path,
        None,
        Some(&json!({"organisation": UMEA})),
    )
    .await
    .assert_problem(401, "no token");

    // The admin page: a form, an answer page that shows the link once, audited.
    grant(&app, "umea-inviter", "organisation", Some(UMEA));
    let launched = app.launch(LaunchSpec::learner("umea-inviter")).await;
    let home_url = link_containing(&launched.body, "/admin?session=");
    let session = home_url.split("session=").nth(1).unwrap().to_owned();
    let home = app.get(&home_url).await;
    assert!(
        home.body.contains("data-testid=\"invitation-form\""),
        "{}",
        home.body
    );
    let action = format!("admin/invitations?session={session}");
    let refused = app
        .post_form(&action, &[("organisation", UMEA), ("days", "tolv")])
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("heltal från 1 till 90"),
        "{}",
        refused.body
    );
    let other = app
        .post_form(&action, &[("organisation", SKELLEFTEA), ("days", "7")])
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);
    let answer = app
        .post_form(
            &action,
            &[
                ("organisation", UMEA),
                ("days", "7"),
                ("auto_approve_deployments", "true"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.headers["cache-control"], "no-store");
    let shown = answer
        .body
        .split("data-testid=\"invitation-url\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(shown.contains("/lti/register/"), "{shown}");
    let rows = store::invitations::list(&app.db, Some(UMEA), 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].auto_approve_deployments);
    assert!(rows[0].created_by.starts_with("person:"), "{:?}", rows[0]);
    let again = app.get(&home_url).await;
    assert!(!again.body.contains(shown.rsplit('/').next().unwrap()));
    assert!(again.body.contains("Oanvänd"), "{}", again.body);
    let audit = store::admin::audit_entries(&app.db, Some(UMEA), None, 50)
        .await
        .unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "registration.invite")
            .count(),
        2,
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .all(|e| !e.detail.contains(shown.rsplit('/').next().unwrap()))
    );
}

pub(crate) fn grant(app: &TestApp, sub: &str, role: &str, organisation: Option<&str>) {
    let mut args = vec![
        "admin".to_owned(),
        "grant".to_owned(),
        "--issuer".to_owned(),
        app.platform.issuer().to_owned(),
        "--client-id".to_owned(),
        "coursebridge-test-client".to_owned(),
        "--sub".to_owned(),
        sub.to_owned(),
        "--role".to_owned(),
        role.to_owned(),
    ];
    if let Some(organisation) = organisation {
        args.push("--organisation".to_owned());
        args.push(organisation.to_owned());
    }
    let output = app.cli(&args);
    assert!(output.status.success(), "{output:?}");
}

async fn the_admin_page_sets_an_organisations_webhook_and_retention_rule(backend: Backend) {
    use crate::helpers::link_containing;
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    store::organisations::ensure(&app.db, SKELLEFTEA, crate::helpers::wall_unix())
        .await
        .unwrap();
    grant(&app, "umea-admin", "organisation", Some(UMEA));
    let launched = app.launch(LaunchSpec::learner("umea-admin")).await;
    let home_url = link_containing(&launched.body, "/admin?session=");
    let token = home_url.split("session=").nth(1).unwrap().to_owned();
    let home = app.get(&home_url).await;
    assert!(home.body.contains("data-testid=\"organisation-form\""));
    let action = format!("admin/organisations?session={token}");
    let umea = || async {
        store::organisations::find(&app.db, UMEA)
            .await
            .unwrap()
            .unwrap()
    };
    let form = |url: &'static str, months: &'static str, what: &'static str| {
        [
            ("organisation", UMEA),
            ("webhook_url", url),
            ("retention_months", months),
            ("retention_action", what),
        ]
    };

    // Values that cannot be used are refused in the page's language, and change nothing.
    for (fields, words) in [
        (
            form("http://umea.example/hook", "", "anonymise"),
            "måste börja med https://",
        ),
        (
            form("inte en adress", "", "anonymise"),
            "inte en giltig webbadress",
        ),
        (form("", "0", "anonymise"), "mellan 1 och 240"),
        (form("", "tolv", "anonymise"), "mellan 1 och 240"),
    ] {
        let refused = app.post_form(&action, &fields).await;
        assert_eq!(refused.status.as_u16(), 400, "{fields:?}: {}", refused.body);
        assert!(refused.body.contains(words), "{words}: {}", refused.body);
        // Said as the page's message, not as a login problem or a technical detail.
        assert!(
            !refused.body.contains("Inloggningsbegäran"),
            "{}",
            refused.body
        );
        assert!(!refused.body.contains("<p><code>"), "{}", refused.body);
    }
    // A form that is not the page's (no organisation named) gets the error page, not a bare 422.
    let malformed = app
        .post_form(&action, &[("webhook_url", "https://umea.example/hook")])
        .await;
    assert_eq!(malformed.status.as_u16(), 400, "{}", malformed.body);
    assert!(
        malformed.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(malformed.body.contains("lang=\"sv\""), "{}", malformed.body);
    assert!(
        malformed
            .body
            .contains("Det som skickades kunde inte tas emot.")
    );
    let untouched = umea().await;
    assert!(untouched.webhook_url.is_none() && untouched.retention_months.is_none());

    // A new webhook: its secret is on the answer page once, and it is what events are signed with.
    let saved = app
        .post_form(
            &action,
            &form("https://umea.example/hooks/completions", "18", "delete"),
        )
        .await;
    assert_eq!(saved.status.as_u16(), 200, "{}", saved.body);
    assert_eq!(saved.headers["cache-control"], "no-store");
    let secret = saved
        .body
        .split("data-testid=\"webhook-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let row = umea().await;
    assert_eq!(
        row.webhook_url.as_deref(),
        Some("https://umea.example/hooks/completions")
    );
    assert_eq!(row.webhook_secret.as_deref(), Some(secret.as_str()));
    assert_eq!(
        (row.retention_months, row.retention_action.as_str()),
        (Some(18), "delete")
    );
    let home = app.get(&home_url).await;
    assert!(home.body.contains("value=\"18\"") && !home.body.contains(&secret));

    // Saving the same URL keeps its secret (a receiver keeps working); an empty month count removes
    // the rule; an empty URL removes the webhook.
    let kept = app
        .post_form(
            &action,
            &form("https://umea.example/hooks/completions", "", "anonymise"),
        )
        .await;
    assert_eq!(kept.status.as_u16(), 303, "{}", kept.body);
    let row = umea().await;
    assert_eq!(row.webhook_secret.as_deref(), Some(secret.as_str()));
    assert_eq!(row.retention_months, None);
    let removed = app.post_form(&action, &form("", "", "anonymise")).await;
    assert_eq!(removed.status.as_u16(), 303);
    assert_eq!(umea().await.webhook_url, None);

    // Another organisation's settings are out of reach.
    let other = app
        .post_form(
            &action,
            &[
                ("organisation", SKELLEFTEA),
                ("webhook_url", "https://evil.example/hook"),
            ],
        )
        .await;
    assert_eq!(other.status.as_u16(), 404);
    let skelleftea = store::organisations::find(&app.db, SKELLEFTEA)
        .await
        .unwrap()
        .unwrap();
    assert!(skelleftea.webhook_url.is_none());

    // Every change is in the audit log; the secret never is.
    let audit = app.get(&format!("admin/audit?session={token}")).await;
    assert_eq!(
        audit.body.matches("organisation.change").count(),
        3,
        "{}",
        audit.body
    );
    assert!(!audit.body.contains(&secret));
}

async fn admin_pages_follow_roles_granted_in_the_tool_and_stay_within_the_organisation(
    backend: Backend,
) {
    use crate::helpers::link_containing;
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    // Skellefteå has its own deployment and LMS course on the same platform.
    let platform = store::platform::list(&app.db).await.unwrap().remove(0);
    store::organisations::ensure(&app.db, SKELLEFTEA, crate::helpers::wall_unix())
        .await
        .unwrap();
    store::deployment::add(
        &app.db,
        platform.id,
        "deployment-skelleftea",
        Some(SKELLEFTEA.into()),
        None,
        crate::helpers::wall_unix(),
    )
    .await
    .unwrap();
    let mut skelleftea = LaunchSpec::learner("skelleftea-learner");
    skelleftea.deployment_id = Some("deployment-skelleftea".into());
    skelleftea.context = Some((
        "ctx-skelleftea".into(),
        "SKE".into(),
        "Skellefteås omgång".into(),
    ));
    let learner = app.launch(skelleftea).await;
    submit(&app, &learner, "andra", "andra-svar").await;
    let umea_learner = app.launch(LaunchSpec::learner("umea-learner")).await;
    submit(&app, &umea_learner, "andra", "andra-svar").await;
    let skelleftea_cohort = entity::context::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.lti_context_id == "ctx-skelleftea")
        .unwrap()
        .id;

    // An LMS instructor is not an administrator: every admin page and action refuses them, and
    // everyone without a session.
    let teacher = app.launch(LaunchSpec::instructor("plain-teacher")).await;
    assert!(!teacher.body.contains("data-testid=\"admin-link\""));
    let session = link_containing(&teacher.body, "?session=");
    let token = session
        .split("session=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let delivery = store::grades::list(&app.db, None, None, 1).await.unwrap()[0].id;
    let pages = [
        ("GET", "admin".to_owned()),
        ("GET", "admin/completions".to_owned()),
        ("GET", "admin/completions.csv".to_owned()),
        ("GET", "admin/completions.json".to_owned()),
        ("GET", "admin/deliveries".to_owned()),
        ("GET", "admin/audit".to_owned()),
        ("GET", format!("admin/cohorts/{skelleftea_cohort}/archive")),
        ("POST", format!("admin/cohorts/{skelleftea_cohort}/close")),
        ("POST", format!("admin/deliveries/{delivery}/retry")),
        ("POST", "admin/deployments/1/approve".to_owned()),
        ("POST", "admin/deployments/1/disable".to_owned()),
        ("POST", "admin/grants".to_owned()),
        ("POST", "admin/organisations".to_owned()),
    ];
    let fields = [
        ("registration", "1"),
        ("sub", "x"),
        ("role", "system"),
        ("organisation", UMEA),
        ("webhook_url", "https://evil.example/hook"),
    ];
    for (method, path) in &pages {
        for (query, expected, who) in [
            (path.clone(), 401, "without a session"),
            (
                format!("{path}?session=not-a-token"),
                401,
                "with a forged session",
            ),
            (
                format!("{path}?session={token}"),
                403,
                "as an LMS instructor",
            ),
        ] {
            let status = if *method == "GET" {
                app.get(&query).await.status.as_u16()
            } else {
                app.post_form(&query, &fields).await.status.as_u16()
            };
            assert_eq!(status, expected, "{method} {path} {who}");
        }
    }

    // An organisation administrator of Umeå, granted in the tool.
    grant(&app, "umea-admin", "organisation", Some(UMEA));
    let launched = app.launch(LaunchSpec::learner("umea-admin")).await;
    let home_url = link_containing(&launched.body, "/admin?session=");
    let home = app.get(&home_url).await;
    assert_eq!(home.status.as_u16(), 200, "{}", home.body);
    assert!(
        home.body.contains("Umeå kommun") && home.body.contains("Att leda digital omställning")
    );
    assert!(
        !home.body.contains("Skellefteå"),
        "another organisation shows: {}",
        home.body
    );
    assert!(!home.body.contains("data-testid=\"grant-form\""));
    let token = home_url.split("session=").nth(1).unwrap().to_owned();
    let report = app.get(&format!("admin/completions?session={token}")).await;
    assert!(report.body.contains("umea-learner") && !report.body.contains("skelleftea-learner"));
    let csv = app
        .get(&format!("admin/completions.csv?session={token}"))
        .await;
    assert!(csv.body.contains("umea-learner") && !csv.body.contains("skelleftea-learner"));
    for path in [
        format!("admin/completions?session={token}&cohort={skelleftea_cohort}"),
        format!("admin/cohorts/{skelleftea_cohort}/archive?session={token}"),
    ] {
        assert_eq!(app.get(&path).await.status.as_u16(), 404, "{path}");
    }
    let skelleftea_deployment = store::deployment::list(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.lti_deployment_id == "deployment-skelleftea")
        .unwrap()
        .id;
    let skelleftea_delivery = store::grades::list(&app.db, None, None, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.context_id == skelleftea_cohort)
        .unwrap()
        .id;
    for path in [
        format!("admin/cohorts/{skelleftea_cohort}/close?session={token}"),
        format!("admin/deliveries/{skelleftea_delivery}/retry?session={token}"),
    ] {
        assert_eq!(
            app.post_form(&path, &[]).await.status.as_u16(),
            404,
            "{path}"
        );
    }
    let deliveries = app.get(&format!("admin/deliveries?session={token}")).await;
    assert!(
        !deliveries.body.contains("Skellefteå"),
        "{}",
        deliveries.body
    );
    let audit = app.get(&format!("admin/audit?session={token}")).await;
    assert_eq!(audit.status.as_u16(), 200);
    let json = app
        .get(&format!("admin/completions.json?session={token}"))
        .await;
    assert!(json.body.contains("umea-learner") && !json.body.contains("skelleftea-learner"));
    let disable_other = app
        .post_form(
            &format!("admin/deployments/{skelleftea_deployment}/disable?session={token}"),
            &[],
        )
        .await;
    assert_eq!(disable_other.status.as_u16(), 404);
    let approve = app
        .post_form(
            &format!("admin/deployments/{skelleftea_deployment}/approve?session={token}"),
            &[("organisation", UMEA)],
        )
        .await;
    assert_eq!(approve.status.as_u16(), 403);
    let grant_refused = app
        .post_form(
            &format!("admin/grants?session={token}"),
            &[
                ("registration", &platform.id.to_string()),
                ("sub", "x"),
                ("role", "system"),
            ],
        )
        .await;
    assert_eq!(grant_refused.status.as_u16(), 403);

    // A system administrator sees both, approves a pending deployment and grants a role.
    grant(&app, "region-admin", "system", None);
    let mut pending = LaunchSpec::learner("new-place");
    pending.deployment_id = Some("deployment-new".into());
    app.launch(pending)
        .await
        .assert_refused(403, "LTI_DEPLOYMENT_PENDING");
    let launched = app.launch(LaunchSpec::instructor("region-admin")).await;
    let home_url = link_containing(&launched.body, "/admin?session=");
    let token = home_url.split("session=").nth(1).unwrap().to_owned();
    let home = app.get(&home_url).await;
    assert!(home.body.contains("Skellefteå") && home.body.contains("Umeå kommun"));
    assert!(home.body.contains("data-testid=\"grant-form\""));
    let new_deployment = store::deployment::list(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.lti_deployment_id == "deployment-new")
        .unwrap()
        .id;
    let approved = app
        .post_form(
            &format!("admin/deployments/{new_deployment}/approve?session={token}"),
            &[("organisation", "Vännäs kommun")],
        )
        .await;
    assert_eq!(approved.status.as_u16(), 303, "{}", approved.body);
    let mut now_approved = LaunchSpec::learner("new-place");
    now_approved.deployment_id = Some("deployment-new".into());
    app.launch(now_approved).await.assert_landed_as("deltagare");
    let granted = app
        .post_form(
            &format!("admin/grants?session={token}"),
            &[
                ("registration", &platform.id.to_string()),
                ("sub", "vannas-admin"),
                ("role", "organisation"),
                ("organisation", "Vännäs kommun"),
            ],
        )
        .await;
    assert_eq!(granted.status.as_u16(), 303, "{}", granted.body);
    let vannas = app.launch(LaunchSpec::learner("vannas-admin")).await;
    let vannas_home = app
        .get(&link_containing(&vannas.body, "/admin?session="))
        .await;
    assert!(vannas_home.body.contains("Vännäs kommun"));
    let audit = app.get(&format!("admin/audit?session={token}")).await;
    assert!(audit.body.contains("deployment.approve") && audit.body.contains("grant.add"));
    assert!(audit.body.contains("person:"));
    let archive = app
        .client
        .get(
            app.base
                .join(&format!(
                    "admin/cohorts/{skelleftea_cohort}/archive?session={token}"
                ))
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(archive.status().as_u16(), 200);
    let bytes = archive.bytes().await.unwrap();
    let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert!(
        zip.file_names()
            .any(|name| name.unwrap().ends_with("/METS.xml"))
    );
}

//! What a municipality's IT runs the service with: `/metrics`, JSON logs with request ids,
//! backups and restores, `migrate --check`, the systemd unit.
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use coursebridge::devplatform::LaunchSpec;
use sea_orm::{ConnectionTrait, Database};

use crate::{
    grades::{import_small_course, submit},
    helpers::{Backend, TestApp, launch_and_submit, link_containing, spawn_app, token_of},
    served::{self, parse_metrics, sample},
};

on_both_databases!(
    metrics_and_json_logs_follow_launches_refusals_and_scores,
    a_backup_taken_during_a_burst_of_saves_holds_every_save_acknowledged_before_it,
    migrate_check_tells_current_behind_and_ahead_and_serve_refuses_ahead,
    instances_started_together_on_a_new_database_migrate_one_after_another,
    sigterm_finishes_a_download_in_flight_and_takes_no_new_connection,
);

/// SIGTERM while a large download is half sent: the listener closes at once, the download ends
/// whole, and the process exits cleanly.
async fn sigterm_finishes_a_download_in_flight_and_takes_no_new_connection(backend: Backend) {
    use std::io::{Read, Write};
    const FILE_BYTES: usize = 8 * 1024 * 1024;
    let mut served = served::serve(backend, 1, &[]).await;
    let app = served.app.clone();
    let mut files = coursebridge::course::demo_files();
    let toml = String::from_utf8(files["course.toml"].clone()).unwrap();
    files.insert(
        "course.toml".into(),
        toml.replacen("version = \"1.0.0\"", "version = \"1.0.3\"", 1)
            .into_bytes(),
    );
    files.insert("files/arbetsblad.txt".into(), vec![b'a'; FILE_BYTES]);
    coursebridge::admin::courses::import(
        &app.db,
        &coursebridge::admin::access::Principal::cli(),
        &files.into(),
    )
    .await
    .unwrap();
    let launch = app.launch(LaunchSpec::learner("stopping-1")).await;
    let module = app
        .get(&link_containing(
            &launch.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    let path = link_containing(&module.body, "/course/files/arbetsblad.txt?session=");
    let address = (
        app.base.host_str().unwrap().to_owned(),
        app.base.port().unwrap(),
    );
    let mut stream = std::net::TcpStream::connect(address.clone()).unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut received = stream.read(&mut buffer).unwrap();
    assert!(received > 0);
    // The client reads no further for now: the rest of the file waits in the server.
    served.instances[0].signal("TERM");
    let stopping = Instant::now();
    while std::net::TcpStream::connect(address.clone()).is_ok() {
        assert!(
            stopping.elapsed() < Duration::from_secs(5),
            "the stopping server still takes connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let received = tokio::task::spawn_blocking(move || {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        loop {
            match stream.read(&mut buffer).unwrap() {
                0 => break received,
                read => received += read,
            }
        }
    })
    .await
    .unwrap();
    assert!(
        received > FILE_BYTES,
        "{received} bytes of a {FILE_BYTES}-byte download"
    );
    let status = served.instances[0].wait();
    assert!(status.success(), "{status:?}");
}

/// Two processes migrating a new database at once both succeed: before the migration lock, one
/// failed with "duplicate key value violates unique constraint" on PostgreSQL.
async fn instances_started_together_on_a_new_database_migrate_one_after_another(backend: Backend) {
    let database = crate::helpers::TestDatabase::create(backend).await;
    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"))
            .arg("migrate")
            .env("COURSEBRIDGE_DATABASE_URL", &database.url)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let together: Vec<_> = (0..3).map(|_| start()).collect();
    for process in together {
        let output = process.wait_with_output().unwrap();
        assert!(output.status.success(), "{output:?}");
    }
    let db = coursebridge::store::connect(&database.url).await.unwrap();
    assert_eq!(
        coursebridge::store::schema_state(&db).await.unwrap(),
        coursebridge::store::SchemaState::Current
    );
    db.close().await.unwrap();
}

/// The text between `data-testid="{id}">` and the next `<`.
fn test_id(body: &str, id: &str) -> String {
    let marker = format!("data-testid=\"{id}\">");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id}: {body}"))
        + marker.len();
    body[at..].split('<').next().unwrap().to_owned()
}

/// Scrapes until `done` holds for the samples (the worker counts a delivery a moment after the
/// gradebook has it), and returns them.
async fn scrape_until(
    instance: &served::Instance,
    done: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    let started = Instant::now();
    loop {
        let samples = parse_metrics(&instance.scrape().await);
        if done(&samples) || started.elapsed() > Duration::from_secs(15) {
            return samples;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn metrics_and_json_logs_follow_launches_refusals_and_scores(backend: Backend) {
    let served = served::serve(backend, 1, &[("COURSEBRIDGE_LOG_FORMAT", "json")]).await;
    let (app, instance) = (&served.app, &served.instances[0]);
    import_small_course(app).await;
    assert_eq!(
        app.get("metrics").await.status.as_u16(),
        404,
        "/metrics is not served beside the LTI routes"
    );
    let before = parse_metrics(&instance.scrape().await);

    let learner = app.launch(LaunchSpec::learner("metrics-1")).await;
    assert_eq!(learner.status.as_u16(), 200, "{}", learner.body);
    submit(app, &learner, "andra", "andra-svar").await;
    let refused = app
        .post_form("lti/launch", &[("state", "forged"), ("id_token", "x.y.z")])
        .await;
    refused.assert_refused(400, "LTI_STATE_UNKNOWN");
    let request_id = test_id(&refused.body, "request-id");
    assert_eq!(refused.headers["x-request-id"], request_id.as_str());

    let sent = r#"coursebridge_deliveries_total{kind="scores",outcome="sent"}"#;
    let depth = r#"coursebridge_outbox_depth{kind="scores"}"#;
    // One scrape reads the queues first and the counters last, so a score sent in between shows
    // as still waiting and as sent in the same scrape (seen in 3 runs of 30); the next scrape
    // agrees.
    let after = scrape_until(instance, |samples| {
        sample(samples, sent) > sample(&before, sent) && sample(samples, depth) == 0.0
    })
    .await;
    let moved = |key: &str| sample(&after, key) - sample(&before, key);
    assert_eq!(
        moved(r#"coursebridge_launches_admitted_total{message_type="LtiResourceLinkRequest"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"coursebridge_launches_refused_total{code="LTI_STATE_UNKNOWN"}"#),
        1.0
    );
    assert_eq!(moved(sent), 1.0);
    assert_eq!(app.platform.received_scores().len(), 1);
    assert!(
        sample(
            &after,
            r#"coursebridge_platform_jwks_fetches_total{outcome="ok"}"#
        ) >= 1.0
    );
    assert_eq!(
        moved(
            r#"coursebridge_http_requests_total{method="POST",route="/lti/launch",status="400"}"#
        ),
        1.0
    );
    assert_eq!(
        moved(
            r#"coursebridge_http_requests_total{method="POST",route="/course/m/{module}/t/{task}",status="303"}"#
        ),
        1.0
    );
    assert!(
        moved(
            r#"coursebridge_http_request_duration_seconds_count{method="GET",route="/course/m/{module}"}"#
        ) >= 1.0
    );
    assert_eq!(sample(&after, depth), 0.0);
    assert!(after.contains_key(r#"coursebridge_outbox_oldest_age_seconds{kind="mail"}"#));
    assert!(sample(&after, "coursebridge_db_write_wait_seconds_count{}") >= 1.0);
    assert!(after.contains_key(r#"coursebridge_db_pool_connections{state="idle"}"#));

    // Every log line is one JSON object; the refusal's line carries the id its page showed.
    let lines = instance.log_lines();
    assert!(lines.len() > 3, "{lines:?}");
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
        })
        .collect();
    let refusal = parsed
        .iter()
        .find(|line| line["code"] == "LTI_STATE_UNKNOWN")
        .unwrap_or_else(|| panic!("no refusal line: {lines:?}"));
    assert_eq!(refusal["span"]["request_id"], request_id.as_str());
    assert_eq!(refusal["span"]["route"], "/lti/launch");
    assert_eq!(refusal["level"], "WARN");
    // At info level: no name, address, answer, session token or id_token.
    let session = token_of(&learner.body);
    let log = lines.join("\n");
    for personal in [
        "Astrid",
        "Lindqvist",
        "astrid.lindqvist@example.se",
        "Vi börjar med invånarnas behov",
        session.as_str(),
        "eyJ",
    ] {
        assert!(!log.contains(personal), "the log holds {personal}: {log}");
    }
}

/// One participant's launch and saved answer; the answer text is theirs alone.
async fn launch_and_save(app: &TestApp, n: usize) -> String {
    let answer = format!("Svar nummer {n} om invånarnas behov.");
    let posted = launch_and_submit(app, &format!("burst-{n}"), &answer).await;
    assert_eq!(posted.status.as_u16(), 303, "{}", posted.body);
    answer
}

async fn a_backup_taken_during_a_burst_of_saves_holds_every_save_acknowledged_before_it(
    backend: Backend,
) {
    let app = Arc::new(spawn_app(backend).await);
    let folder =
        std::env::temp_dir().join(format!("cb-backup-{}", coursebridge::lti::random_token(6)));
    std::fs::create_dir_all(&folder).unwrap();
    let copy = folder.join("copy.db");
    if backend == Backend::Postgres {
        let refused = app.cli_with(["backup", "--out"], &copy);
        assert_eq!(refused.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("pg_dump"));
        assert!(!copy.exists());
        return;
    }
    import_small_course(&app).await;
    // Acknowledged saves with the moment their answer came back.
    let acknowledged = Arc::new(Mutex::new(Vec::<(Instant, String)>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let savers: Vec<_> = (0..3)
        .map(|lane| {
            let (app, acknowledged, stop) = (app.clone(), acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = lane;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let answer = launch_and_save(&app, n).await;
                    acknowledged.lock().unwrap().push((Instant::now(), answer));
                    n += 3;
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 15 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let began = Instant::now();
    let backup = {
        let app = app.clone();
        let copy = copy.clone();
        tokio::task::spawn_blocking(move || app.cli_with(["backup", "--out"], &copy))
            .await
            .unwrap()
    };
    // Saves go on after the backup too, so it ran in the middle of the burst.
    let at_backup = acknowledged.lock().unwrap().len();
    while acknowledged.lock().unwrap().len() < at_backup + 6 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for saver in savers {
        saver.await.unwrap();
    }
    assert!(backup.status.success(), "{backup:?}");
    assert!(String::from_utf8_lossy(&backup.stdout).contains("integrity ok"));
    let before: Vec<String> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, _)| *at < began)
        .map(|(_, answer)| answer.clone())
        .collect();
    assert!(before.len() >= 15);

    // The running server holds the database: a restore over it is refused and changes nothing.
    let over_live = app.cli_with(["restore"], &copy);
    assert_eq!(over_live.status.code(), Some(2), "{over_live:?}");
    assert!(String::from_utf8_lossy(&over_live.stderr).contains("stop every one first"));

    // Restored as a database of its own, it holds every save acknowledged before the backup.
    let restored = folder.join("restored.db");
    let restored_url = format!("sqlite://{}?mode=rwc", restored.display());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"))
        .arg("restore")
        .arg(&copy)
        .env("COURSEBRIDGE_DATABASE_URL", &restored_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let db = Database::connect(restored_url.as_str()).await.unwrap();
    let integrity = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap();
    assert_eq!(integrity, "ok");
    let answers: Vec<String> = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT answers FROM submission",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect();
    for answer in &before {
        assert!(
            answers
                .iter()
                .any(|stored| stored.contains(answer.as_str())),
            "{answer} was acknowledged before the backup but is not in it"
        );
    }
    let restore_entry = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT action FROM audit_log WHERE action = 'database.restore'",
        ))
        .await
        .unwrap();
    assert!(restore_entry.is_some(), "the restore is in the audit log");
    db.close().await.unwrap();
    eprintln!(
        "backup during a burst: {} saves acknowledged before it, {} in all",
        before.len(),
        acknowledged.lock().unwrap().len()
    );
    let _ = std::fs::remove_dir_all(folder);
}

async fn migrate_check_tells_current_behind_and_ahead_and_serve_refuses_ahead(backend: Backend) {
    let database = crate::helpers::TestDatabase::create(backend).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"))
            .args(args)
            .env("COURSEBRIDGE_DATABASE_URL", &database.url)
            .env("COURSEBRIDGE_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let behind = run(&["migrate", "--check"]);
    assert_eq!(behind.status.code(), Some(3), "{behind:?}");
    assert!(String::from_utf8_lossy(&behind.stderr).starts_with("error: behind:"));
    // Asking wrote nothing: still behind, by every migration.
    assert_eq!(run(&["migrate", "--check"]).status.code(), Some(3));
    assert!(run(&["migrate"]).status.success());
    let current = run(&["migrate", "--check"]);
    assert!(current.status.success(), "{current:?}");
    assert!(String::from_utf8_lossy(&current.stdout).starts_with("current:"));

    let db = coursebridge::store::connect(&database.url).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29990101_000001_from_a_newer_version', 0)",
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let ahead = run(&["migrate", "--check"]);
    assert_eq!(ahead.status.code(), Some(4), "{ahead:?}");
    assert!(
        String::from_utf8_lossy(&ahead.stderr).contains("m29990101_000001_from_a_newer_version")
    );
    let serve = run(&["serve"]);
    assert_eq!(serve.status.code(), Some(1), "{serve:?}");
    assert!(
        String::from_utf8_lossy(&serve.stderr).contains("migrated by a newer coursebridge"),
        "{serve:?}"
    );
}

/// The unit in deploy/ is one systemd accepts, hardened as docs/OPERATIONS.md says.
#[test]
fn the_systemd_unit_passes_systemd_analyze() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/coursebridge.service"
    ))
    .unwrap();
    for directive in [
        "DynamicUser=yes",
        "StateDirectory=coursebridge",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=\n",
        "KillSignal=SIGTERM",
    ] {
        assert!(unit.contains(directive), "the unit lacks {directive}");
    }
    // verify checks that the binary exists: this build's stands in for the installed one.
    let folder =
        std::env::temp_dir().join(format!("cb-unit-{}", coursebridge::lti::random_token(6)));
    std::fs::create_dir_all(&folder).unwrap();
    let binary = env!("CARGO_BIN_EXE_coursebridge");
    let path = folder.join("coursebridge.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/coursebridge", binary)).unwrap();
    // The key rotation and the nightly backup, each a service with its timer, beside it.
    let others = [
        "coursebridge-key-rotate.service",
        "coursebridge-key-rotate.timer",
        "coursebridge-backup.service",
        "coursebridge-backup.timer",
    ];
    for name in others {
        let text = std::fs::read_to_string(format!("{}/deploy/{name}", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
        std::fs::write(
            folder.join(name),
            text.replace("/usr/local/bin/coursebridge", binary),
        )
        .unwrap();
    }
    let verify = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .args(others.map(|name| folder.join(name)))
        .output()
        .expect("systemd-analyze (scripts/test installs systemd)");
    assert!(verify.status.success(), "{verify:?}");
    assert_eq!(String::from_utf8_lossy(&verify.stderr), "", "verify warned");
    let security = std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&path)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&security.stdout);
    let exposure: f64 = report
        .lines()
        .find_map(|line| {
            line.split("Overall exposure level for coursebridge.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|level| level.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level: {report}"));
    eprintln!("systemd-analyze security: exposure {exposure}");
    assert!(exposure <= 2.0, "exposure {exposure}: {report}");
    let _ = std::fs::remove_dir_all(folder);
}

/// `bench start` starts `serve` on new, empty SQLite databases and says how long each took to
/// answer `/readyz`; the databases are gone afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_start_times_serve_on_an_empty_database() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"))
        .args(["bench", "start", "--runs", "2"])
        .env("RUST_LOG", "warn")
        .env_remove("COURSEBRIDGE_DATABASE_URL")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed} {output:?}");
    assert!(printed.contains("runs                 2"), "{printed}");
    let median_ms: f64 = printed
        .lines()
        .find_map(|line| line.trim().strip_prefix("start to ready"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("no start-to-ready figure in {printed}"));
    assert!(median_ms > 0.0 && median_ms < 30_000.0, "{printed}");
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("coursebridge-start-")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// `bench launch` drives full launches against a server it starts: every person launches once in
/// the warm-up, and with `--module` each launch lands on that module's page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_launch_warms_up_every_person_and_lands_where_asked() {
    let folder = std::env::temp_dir().join(format!("cb-bench-launch-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    for (landing, extra) in [
        ("the course overview", vec![]),
        ("module mobilisering", vec!["--module", "mobilisering"]),
    ] {
        let url = format!(
            "sqlite://{}?mode=rwc",
            folder.join(format!("{}.db", extra.len())).display()
        );
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"))
            .args(["bench", "launch", "--concurrency", "2", "--launches", "6"])
            .args(["--warmup", "1", "--users", "3"])
            .args(&extra)
            .env("COURSEBRIDGE_DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{printed} {output:?}");
        assert!(printed.contains("6 (after 3 warm-up)"), "{printed}");
        assert!(
            printed.contains(&format!("lands on             {landing}")),
            "{printed}"
        );
        assert!(printed.contains("generator CPU/launch"), "{printed}");
    }
    let _ = std::fs::remove_dir_all(folder);
}

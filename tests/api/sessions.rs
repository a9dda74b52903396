//! Sessions that can be ended, with nothing personal in a URL: the token in links holds ids and
//! times only; erasure, a disabled deployment or platform and `session revoke` end it on every
//! instance within seconds; it ends after two hours unused and eight hours at most; and no log
//! line holds a session token or an id_token.
use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::Engine;
use coursebridge::{devplatform::LaunchSpec, session, store};
use reqwest::StatusCode;

use crate::helpers::{Answer, Backend, TestApp, spawn_app, token_of};

on_both_databases!(
    the_session_in_links_carries_ids_and_times_only,
    erasure_revocation_and_disabling_end_sessions_on_every_instance_within_seconds,
    sessions_end_when_idle_or_too_old_and_stay_alive_while_used,
);

fn claims_of(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn the_session_in_links_carries_ids_and_times_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let landed = app.launch(LaunchSpec::learner("ids-only")).await;
    assert!(
        landed.body.contains("Astrid"),
        "the page still greets by name"
    );
    let token = token_of(&landed.body);
    let claims = claims_of(&token);
    let mut keys: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "cid", "did", "exp", "iat", "lang", "pid", "rid", "role", "seen", "uid"
        ]
    );
    let text = claims.to_string();
    assert!(
        !text.contains("Astrid") && !text.contains("Lindqvist"),
        "{text}"
    );
    assert!(!text.contains("omställning"), "{text}");
}

/// Asks for a page with an old session, moving the service's clock 200 ms at a time, until it is
/// refused; how much time had to pass.
async fn refused_within(app: &TestApp, url: &str) -> Duration {
    let step = Duration::from_millis(200);
    let mut waited = Duration::ZERO;
    loop {
        let page = app.get(url).await;
        if page.status == StatusCode::UNAUTHORIZED {
            page.assert_refused(401, "SESSION_INVALID");
            return waited;
        }
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            waited < Duration::from_secs(6),
            "the session still works after 6 s"
        );
        app.clock.advance(step);
        waited += step;
    }
}

fn overview_of(landed: &Answer) -> String {
    format!("/course?session={}", token_of(&landed.body))
}

async fn person_id(app: &TestApp, sub: &str) -> i64 {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::lti_user::Entity::find()
        .filter(entity::lti_user::Column::Sub.eq(sub))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn erasure_revocation_and_disabling_end_sessions_on_every_instance_within_seconds(
    backend: Backend,
) {
    let mut app = spawn_app(backend).await;
    crate::grades::import_small_course(&app).await;
    let second = app.second_instance().await;

    // Revocation from the command line, seen by the other instance too.
    let revoked = app.launch(LaunchSpec::learner("revoke-me")).await;
    let url = overview_of(&revoked);
    let on_second = second.join(url.trim_start_matches('/')).unwrap();
    assert_eq!(app.get(on_second.as_str()).await.status, StatusCode::OK);
    let id = person_id(&app, "revoke-me").await;
    let output = app.cli(["session", "revoke", "--person", &id.to_string()]);
    assert!(output.status.success(), "{output:?}");
    assert!(refused_within(&app, &url).await < Duration::from_secs(5));
    assert!(refused_within(&app, on_second.as_str()).await < Duration::from_secs(5));
    // A new launch works again.
    app.launch(LaunchSpec::learner("revoke-me"))
        .await
        .assert_landed_as("deltagare");

    // Erasure: the erased person's old session saves nothing.
    let erased = app.launch(LaunchSpec::learner("erase-me")).await;
    let url = overview_of(&erased);
    // The form of a task, read while the session still works.
    let module = app
        .get(&crate::helpers::link_containing(
            &erased.body,
            "/course/m/andra?session=",
        ))
        .await;
    let action = crate::helpers::link_containing(&module.body, "/t/andra-svar?session=");
    let version = crate::helpers::version_of(&module, "andra-svar");
    let id = person_id(&app, "erase-me").await;
    let output = app.cli([
        "person",
        "erase",
        "--id",
        &id.to_string(),
        "--mode",
        "anonymise",
    ]);
    assert!(output.status.success(), "{output:?}");
    assert!(refused_within(&app, &url).await < Duration::from_secs(5));
    let save = app
        .post_form(
            &action,
            &[
                ("version", &version),
                ("answer_0", "Ett svar efter raderingen"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(save.status, StatusCode::UNAUTHORIZED, "{}", save.body);
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::submission::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0,
        "nothing was saved"
    );

    // Disabling the deployment: the instructor's dashboard no longer loads.
    let teacher = app.launch(LaunchSpec::instructor("disable-teacher")).await;
    let dashboard = format!("/instructor?session={}", token_of(&teacher.body));
    assert_eq!(app.get(&dashboard).await.status, StatusCode::OK);
    let output = app.cli([
        "platform",
        "disable",
        "--issuer",
        &app.platform.issuer(),
        "--client-id",
        "coursebridge-test-client",
    ]);
    assert!(output.status.success(), "{output:?}");
    assert!(refused_within(&app, &dashboard).await < Duration::from_secs(5));
    // A launch in the registry cache's 30 s may still be admitted, but its page is not served.
    let after = app.launch(LaunchSpec::learner("after-disable")).await;
    assert!(
        matches!(after.status.as_u16(), 401 | 403),
        "{}: {}",
        after.status,
        after.body
    );
}

async fn sessions_end_when_idle_or_too_old_and_stay_alive_while_used(backend: Backend) {
    let app = spawn_app(backend).await;
    let landed = app.launch(LaunchSpec::learner("idle-1")).await;
    let token = token_of(&landed.body);
    let secret = store::tool_setting::get_or_create(&app.db, session::SETTING_NAME, || {
        unreachable!("the server made the key")
    })
    .await
    .unwrap();
    let keys = session::SessionKeys::from_secret(&secret).unwrap();
    let now = app.clock.now_unix();
    let real = keys.verify(&token, now).unwrap();
    let forged = |iat: i64, seen: i64, exp: i64| {
        let mut claims = real.clone();
        claims.iat = iat;
        claims.seen = seen;
        claims.exp = exp;
        keys.issue(&claims).unwrap()
    };
    // Unused for more than two hours.
    let idle = forged(now - 3 * 3600, now - 2 * 3600 - 5, now + 3600);
    app.get(&format!("/course?session={idle}"))
        .await
        .assert_refused(401, "SESSION_INVALID");
    // Begun more than eight hours ago, whatever its own expiry says.
    let old = forged(now - 8 * 3600 - 5, now, now + 3600);
    app.get(&format!("/course?session={old}"))
        .await
        .assert_refused(401, "SESSION_INVALID");
    // Used a while ago: accepted, and the page's links carry a fresh token.
    let used = forged(now - 3600, now - 1800, now + 3600);
    let page = app.get(&format!("/course?session={used}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let fresh = token_of(&page.body);
    assert_ne!(fresh, used);
    let fresh = keys.verify(&fresh, now).unwrap();
    assert!(fresh.seen >= now, "{fresh:?}");
    assert_eq!(fresh.iat, now - 3600, "the session's start stays");
}

/// A writer the test's own log subscriber writes into.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_at_any_level_holds_a_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(move || writer.clone())
        .try_init()
        .expect("this test runs in a process of its own (cargo nextest), with its own log");
    let app = spawn_app(Backend::Sqlite).await;
    crate::grades::import_small_course(&app).await;
    let form = app.authorize(LaunchSpec::learner("logged-1")).await;
    let id_token = form.fields["id_token"].clone();
    let landed = app.post_launch(&form).await;
    landed.assert_landed_as("deltagare");
    let token = token_of(&landed.body);
    crate::grades::submit(&app, &landed, "andra", "andra-svar").await;
    // The grade worker asks for an access token with a client assertion; wait for the score.
    let started = Instant::now();
    while app.platform.received_scores_count() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no score arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(log.contains("/course"), "the requests were logged at all");
    for (what, secret) in [
        ("a session token", token.as_str()),
        (
            "the session token's signature",
            token.rsplit('.').next().unwrap(),
        ),
        ("an id_token", id_token.as_str()),
        (
            "the id_token's signature",
            id_token.rsplit('.').next().unwrap(),
        ),
        ("the login state", form.fields["state"].as_str()),
    ] {
        assert!(!log.contains(secret), "the log holds {what}");
    }
    assert!(
        !log.contains("client_assertion="),
        "the log holds a client assertion"
    );
}

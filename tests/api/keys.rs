//! The tool's key set and rotation; platform key sets, their cache and the platform's rotation.
use std::time::Duration;

use coursebridge::{devplatform::LaunchSpec, store};
use serde_json::Value;

use crate::helpers::{Backend, spawn_app, spawn_app_with};

on_both_databases!(
    jwks_publishes_the_tool_key,
    tool_key_rotation_keeps_the_old_kid_published_through_the_overlap,
    platform_key_rotation_with_a_new_kid_is_accepted,
    unknown_kid_refetches_at_most_once_per_interval,
    failed_key_set_fetch_keeps_the_cached_keys,
);

async fn published_kids(app: &crate::helpers::TestApp) -> Vec<String> {
    let answer = app.get("/.well-known/jwks.json").await;
    assert_eq!(answer.status.as_u16(), 200);
    let set: Value = serde_json::from_str(&answer.body).unwrap();
    set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| {
            assert_eq!(key["alg"], "RS256");
            assert_eq!(key["use"], "sig");
            assert_eq!(key["kty"], "RSA");
            assert!(key.get("d").is_none(), "no private parts");
            key["kid"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn jwks_publishes_the_tool_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let kids = published_kids(&app).await;
    let current = store::tool_key::current(&app.db).await.unwrap().unwrap();
    assert_eq!(kids, vec![current.kid]);
}

async fn tool_key_rotation_keeps_the_old_kid_published_through_the_overlap(backend: Backend) {
    let app = spawn_app(backend).await;
    let old = store::tool_key::current(&app.db)
        .await
        .unwrap()
        .unwrap()
        .kid;
    let rotate = |overlap_hours: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"))
            .args(["key", "rotate"])
            .env("COURSEBRIDGE_DATABASE_URL", &app.database.url)
            .env("COURSEBRIDGE_KEY_OVERLAP_HOURS", overlap_hours)
            .output()
            .unwrap()
    };
    // The CLI rotates while the server runs on the same database.
    let output = rotate("72");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains(&format!("retired key {old}")), "{printed}");
    let new = store::tool_key::current(&app.db)
        .await
        .unwrap()
        .unwrap()
        .kid;
    assert_ne!(new, old);
    let kids = published_kids(&app).await;
    assert!(kids.contains(&old) && kids.contains(&new), "{kids:?}");

    // With no overlap the key retired now leaves the set at once; the one still in its overlap stays.
    let output = rotate("0");
    assert!(output.status.success());
    let newest = store::tool_key::current(&app.db)
        .await
        .unwrap()
        .unwrap()
        .kid;
    let kids = published_kids(&app).await;
    assert!(kids.contains(&newest));
    assert!(
        kids.contains(&old),
        "old key is still inside its 72 h overlap"
    );
    assert!(!kids.contains(&new), "{kids:?}");
}

async fn platform_key_rotation_with_a_new_kid_is_accepted(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.platform_jwks_refetch_seconds = 1).await;
    app.launch(LaunchSpec::learner("rot-1"))
        .await
        .assert_landed_as("deltagare");
    assert_eq!(app.platform.jwks_requests(), 1);
    app.platform.rotate_key().unwrap();
    app.clock.advance(Duration::from_secs(2));
    app.launch(LaunchSpec::learner("rot-1"))
        .await
        .assert_landed_as("deltagare");
    assert_eq!(
        app.platform.jwks_requests(),
        2,
        "one refetch for the new kid"
    );
    // Cached now: more launches fetch nothing.
    app.launch(LaunchSpec::learner("rot-1"))
        .await
        .assert_landed_as("deltagare");
    assert_eq!(app.platform.jwks_requests(), 2);
}

async fn unknown_kid_refetches_at_most_once_per_interval(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.platform_jwks_refetch_seconds = 60).await;
    app.launch(LaunchSpec::learner("kid-1"))
        .await
        .assert_landed_as("deltagare");
    let fetched = app.platform.jwks_requests();
    for _ in 0..3 {
        app.launch(
            LaunchSpec::learner("kid-1").signed(coursebridge::devplatform::Signing::UnknownKid),
        )
        .await
        .assert_refused(400, "LTI_UNKNOWN_KID");
    }
    assert_eq!(
        app.platform.jwks_requests(),
        fetched,
        "no refetch inside the interval"
    );
}

async fn failed_key_set_fetch_keeps_the_cached_keys(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.platform_jwks_ttl_seconds = 1;
        config.platform_jwks_refetch_seconds = 0;
    })
    .await;
    app.launch(LaunchSpec::learner("cache-1"))
        .await
        .assert_landed_as("deltagare");
    app.platform.set_jwks_failing(true);
    app.clock.advance(Duration::from_secs(2));
    app.launch(LaunchSpec::learner("cache-1"))
        .await
        .assert_landed_as("deltagare");
    assert!(
        app.platform.jwks_requests() >= 2,
        "the stale set was refetched and failed"
    );
    let _ = crate::helpers::wall_unix();
}

//! The participant's pages in a real browser: Debian's Chromium driven by playwright-core, axe-core
//! on every page (tests/browser/participant.mjs), against the real server and the development LMS
//! served from another site.
use std::{process::Command, time::Duration};

use crate::helpers::{Backend, spawn_app_with_lms_at_localhost};

on_both_databases!(participant_journey_in_chromium_with_third_party_cookies_blocked);

async fn participant_journey_in_chromium_with_third_party_cookies_blocked(backend: Backend) {
    let app = spawn_app_with_lms_at_localhost(backend).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        root.join("node_modules/playwright-core").exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "browser tests need Chromium and tests/browser/node_modules: run scripts/test (it installs them)"
    );
    // A contact person for the organisation of the development LMS's deployment.
    let platform = coursebridge::store::platform::list(&app.db)
        .await
        .unwrap()
        .remove(0);
    coursebridge::store::contact::grant(
        &app.db,
        platform.id,
        "browser-contact",
        "Umeå kommun",
        coursebridge::lti::now_unix(),
    )
    .await
    .unwrap();
    let lms = app.platform.url("").to_string();
    let output = tokio::time::timeout(
        Duration::from_secs(180),
        tokio::task::spawn_blocking(move || {
            Command::new("node")
                .arg(root.join("participant.mjs"))
                .env("LMS_URL", lms)
                .output()
        }),
    )
    .await
    .expect("the browser journey finishes within 3 minutes")
    .unwrap()
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("0 violations"), "{stdout}");
    println!("{stdout}");
}

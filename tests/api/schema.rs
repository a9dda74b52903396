//! Every admin API answer checked against the generated OpenAPI document by schemathesis (from
//! PyPI, installed by scripts/test): status codes, content types, headers and bodies as
//! documented, no 5xx, and no route that answers without a token.
use std::{process::Command, time::Duration};

use coursebridge::{admin::access::Scope, devplatform::LaunchSpec};

use crate::{
    grades::{decide, import_small_course, submit},
    helpers::{Backend, spawn_app},
};

on_both_databases!(every_api_answer_matches_the_openapi_document);

async fn every_api_answer_matches_the_openapi_document(backend: Backend) {
    let schemathesis = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/schemathesis/bin/schemathesis"
        )
        .to_owned()
    });
    assert!(
        std::path::Path::new(&schemathesis).exists(),
        "schemathesis is missing at {schemathesis}: run scripts/test (it installs it)"
    );
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    for sub in ["schema-1", "schema-2"] {
        let learner = app.launch(LaunchSpec::learner(sub)).await;
        submit(&app, &learner, "andra", "andra-svar").await;
    }
    let learner = app.launch(LaunchSpec::learner("schema-1")).await;
    submit(&app, &learner, "forsta", "forsta-svar").await;
    decide(&app, "return").await;
    let now = crate::helpers::wall_unix();
    let token =
        coursebridge::admin::tokens::create(&app.db, Scope::Admin, None, "schema", now + 3600, now)
            .await
            .unwrap()
            .secret;
    let spec = app.base.join("api/v1/openapi.json").unwrap().to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(schemathesis)
            .args(["run", &spec, "--header"])
            .arg(format!("Authorization: Bearer {token}"))
            // Business rules JSON Schema cannot say (https-only webhook URLs, cursors only this
            // service issues) make some schema-valid requests a 400 by design.
            .args([
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--workers",
                "1",
                "--max-examples",
                "15",
                "--seed",
                "20261129",
                "--max-time",
                "40",
                "--no-color",
                "--generation-database",
                "none",
            ])
            .env("NO_COLOR", "1")
            // Its caches and reports stay out of the checkout.
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap()
    });
    let output = tokio::time::timeout(Duration::from_secs(240), output)
        .await
        .expect("schemathesis finishes")
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    assert!(report.contains("passed"), "{report}");
}

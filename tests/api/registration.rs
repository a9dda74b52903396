//! Dynamic Registration: the development platform playing Moodle (which names the deployment) and
//! Canvas (which deploys later) registers the tool from one URL; a launch from it then works.
use coursebridge::{
    devplatform::{DevPlatform, LaunchSpec, ToolUrls, Variant},
    store,
};
use reqwest::StatusCode;

use crate::helpers::{Answer, Backend, TestApp, spawn_app, spawn_app_with};

on_both_databases!(
    moodle_registers_the_tool_with_its_deployment_and_launches_work,
    canvas_registers_the_tool_and_its_later_deployments_are_approved,
    registration_refuses_bad_configurations_reused_tokens_and_other_hosts,
);

async fn other_platform(app: &TestApp, client_id: &str, deployment_id: &str) -> DevPlatform {
    DevPlatform::start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        client_id,
        deployment_id,
        ToolUrls::below(&app.base).unwrap(),
    )
    .await
    .unwrap()
}

async fn open(app: &TestApp, url: &str) -> Answer {
    let response = app.client.get(url).send().await.unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

async fn moodle_registers_the_tool_with_its_deployment_and_launches_work(backend: Backend) {
    let app = spawn_app(backend).await;
    let moodle = other_platform(&app, "dyn-moodle-client", "dyn-moodle-1").await;
    let done = open(
        &app,
        moodle.registration_url(&app.base, Variant::Moodle).as_str(),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains(&format!(
            "coursebridge är nu registrerat hos moodle ({})",
            moodle.issuer()
        )),
        "{}",
        done.body
    );
    assert!(done.body.contains("assets/registered.js"));
    let script = app.get("/assets/registered.js").await;
    assert!(script.body.contains("org.imsglobal.lti.close"));

    // What the tool told the platform.
    let sent = moodle.registrations().pop().unwrap();
    assert_eq!(
        sent["initiate_login_uri"],
        app.base.join("lti/login").unwrap().as_str()
    );
    assert_eq!(
        sent["redirect_uris"][0],
        app.base.join("lti/launch").unwrap().as_str()
    );
    assert_eq!(
        sent["jwks_uri"],
        app.base.join(".well-known/jwks.json").unwrap().as_str()
    );
    let scope = sent["scope"].as_str().unwrap();
    for wanted in [
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    ] {
        assert!(scope.contains(wanted), "{scope}");
    }
    let tool = &sent["https://purl.imsglobal.org/spec/lti-tool-configuration"];
    assert_eq!(tool["messages"][1]["type"], "LtiDeepLinkingRequest");
    assert!(tool["description#en"].is_string() && tool["description#sv"].is_string());

    // What the tool stored: the registration and Moodle's deployment, approved.
    let stored = store::platform::find(&app.db, &moodle.issuer(), "dyn-moodle-client")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.auth_login_url, moodle.url("auth").as_str());
    assert_eq!(stored.jwks_url, moodle.url("jwks").as_str());
    assert!(!stored.auto_approve_deployments);
    let deployment = store::deployment::find(&app.db, stored.id, "dyn-moodle-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deployment.status, "approved");

    let launched = app
        .launch_via(&moodle, LaunchSpec::learner("dyn-learner"))
        .await;
    assert_eq!(launched.status, StatusCode::OK, "{}", launched.body);
    assert!(
        launched.body.contains("/course/m/ledarskap?session="),
        "{}",
        launched.body
    );
}

async fn canvas_registers_the_tool_and_its_later_deployments_are_approved(backend: Backend) {
    let app = spawn_app(backend).await;
    let canvas = other_platform(&app, "dyn-canvas-client", "canvas-deployment-7").await;
    let mut url = canvas.registration_url(&app.base, Variant::Canvas);
    url.query_pairs_mut().append_pair("ignored", "1");
    let done = app
        .client
        .get(url)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("coursebridge is now registered with canvas")
    );
    let stored = store::platform::find(&app.db, &canvas.issuer(), "dyn-canvas-client")
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.auto_approve_deployments,
        "Canvas names no deployment"
    );
    let launched = app
        .launch_via(&canvas, LaunchSpec::learner("canvas-learner"))
        .await;
    assert_eq!(launched.status, StatusCode::OK, "{}", launched.body);
}

async fn registration_refuses_bad_configurations_reused_tokens_and_other_hosts(backend: Backend) {
    let app = spawn_app(backend).await;
    let platform = other_platform(&app, "dyn-refused", "d-1").await;

    let missing = app.get("/lti/register").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body.contains("REG_NO_CONFIGURATION"));

    // The configuration is fetched from `localhost` but names 127.0.0.1 as its issuer.
    let url = platform.registration_url(&app.base, Variant::Moodle);
    let elsewhere = url.as_str().replace(
        "openid_configuration=http%3A%2F%2F127.0.0.1",
        "openid_configuration=http%3A%2F%2Flocalhost",
    );
    assert_ne!(elsewhere, url.as_str());
    let mismatch = open(&app, &elsewhere).await;
    assert_eq!(
        mismatch.status,
        StatusCode::BAD_REQUEST,
        "{}",
        mismatch.body
    );
    assert!(mismatch.body.contains("REG_BAD_CONFIGURATION"));
    assert!(mismatch.body.contains("issuer"), "{}", mismatch.body);

    let insecure = app
        .get("/lti/register?openid_configuration=http%3A%2F%2Fmoodle.example%2Fconfig")
        .await;
    assert_eq!(insecure.status, StatusCode::BAD_REQUEST);

    // The token of the first attempt was used up by nothing (the mismatch stopped before the
    // platform was asked), so it still works once; a second use is the platform's refusal.
    let first = open(&app, url.as_str()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let again = open(&app, url.as_str()).await;
    assert_eq!(again.status, StatusCode::BAD_GATEWAY, "{}", again.body);
    assert!(again.body.contains("REG_PLATFORM_FAILED"));
    // A fresh token, but the registration exists.
    let twice = open(
        &app,
        platform
            .registration_url(&app.base, Variant::Moodle)
            .as_str(),
    )
    .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    assert_eq!(platform.registrations().len(), 2);

    let closed = spawn_app_with(backend, |c| {
        c.dynamic_registration_hosts = "moodle.umea.se".into()
    })
    .await;
    let other = other_platform(&closed, "dyn-closed", "d-2").await;
    let refused = open(
        &closed,
        other
            .registration_url(&closed.base, Variant::Moodle)
            .as_str(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("REG_HOST_NOT_ALLOWED"));
    assert!(other.registrations().is_empty());
}

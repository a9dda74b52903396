//! The "known bad payloads" of the LTI Advantage tool certification (guide §4.1.1), one test each,
//! named after the case. Each must be refused with a 4xx page and its own error code.
use coursebridge::{
    devplatform::{LaunchSpec, Signing},
    lti::claims,
};
use serde_json::json;

use crate::helpers::{Backend, spawn_app};

on_both_databases!(
    no_kid_sent_in_jwt_header,
    incorrect_kid_in_jwt_header,
    wrong_lti_version,
    no_lti_version,
    invalid_lti_message,
    missing_lti_claims,
    timestamps_incorrect,
    message_type_claim_missing,
    role_claim_missing,
    deployment_id_claim_missing,
    resource_link_id_claim_missing,
    user_claim_missing,
);

fn learner() -> LaunchSpec {
    LaunchSpec::learner("cert-learner")
}

async fn no_kid_sent_in_jwt_header(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.launch(learner().signed(Signing::NoKid)).await;
    answer.assert_refused(400, "LTI_NO_KID");
}

async fn incorrect_kid_in_jwt_header(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.launch(learner().signed(Signing::UnknownKid)).await;
    answer.assert_refused(400, "LTI_UNKNOWN_KID");
}

async fn wrong_lti_version(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app
        .launch(learner().set(claims::VERSION, json!("1.1.0")))
        .await;
    answer.assert_refused(400, "LTI_WRONG_VERSION");
}

async fn no_lti_version(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.launch(learner().remove(claims::VERSION)).await;
    answer.assert_refused(400, "LTI_NO_VERSION");
}

async fn invalid_lti_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut form = app.authorize(learner()).await;
    form.fields.insert(
        "id_token".into(),
        "{\"not\": \"a JWT launch\", \"iss\": \"https://lms.example\"}".into(),
    );
    app.post_launch(&form)
        .await
        .assert_refused(400, "LTI_INVALID_MESSAGE");
}

async fn missing_lti_claims(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = learner();
    for claim in [
        claims::VERSION,
        claims::MESSAGE_TYPE,
        claims::DEPLOYMENT_ID,
        claims::ROLES,
        claims::RESOURCE_LINK,
        claims::TARGET_LINK_URI,
        claims::CONTEXT,
        claims::LAUNCH_PRESENTATION,
    ] {
        spec = spec.remove(claim);
    }
    // The first missing claim in checking order is the version.
    app.launch(spec).await.assert_refused(400, "LTI_NO_VERSION");
}

async fn timestamps_incorrect(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = crate::helpers::wall_unix();
    let spec = learner()
        .set("iat", json!(now - 7200))
        .set("exp", json!(now - 3600));
    app.launch(spec)
        .await
        .assert_refused(400, "LTI_TOKEN_EXPIRED");
}

async fn message_type_claim_missing(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.launch(learner().remove(claims::MESSAGE_TYPE)).await;
    answer.assert_refused(400, "LTI_NO_MESSAGE_TYPE");
}

async fn role_claim_missing(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.launch(learner().remove(claims::ROLES)).await;
    answer.assert_refused(400, "LTI_NO_ROLES");
}

async fn deployment_id_claim_missing(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.launch(learner().remove(claims::DEPLOYMENT_ID)).await;
    answer.assert_refused(400, "LTI_NO_DEPLOYMENT_ID");
}

async fn resource_link_id_claim_missing(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app
        .launch(learner().set(claims::RESOURCE_LINK, json!({ "title": "no id" })))
        .await;
    answer.assert_refused(400, "LTI_NO_RESOURCE_LINK_ID");
}

async fn user_claim_missing(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.launch(learner().remove("sub")).await;
    answer.assert_refused(400, "LTI_NO_SUB");
}

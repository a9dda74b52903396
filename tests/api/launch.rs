//! Valid launches the certification requires the tool to accept (guide 4.1.2/4.1.3), and what they
//! leave behind.
use coursebridge::devplatform::{LaunchSpec, roles};
use entity::{lti_user, membership};
use sea_orm::EntityTrait;

use crate::helpers::{Backend, link_containing, session_link, spawn_app};

on_both_databases!(
    a_launch_redirects_to_a_page_that_can_be_reloaded,
    a_launch_without_locale_uses_the_deployments_default_language,
    valid_launch_as_instructor,
    valid_launch_as_learner,
    valid_launch_with_multiple_roles,
    valid_launch_with_short_role_value,
    valid_launch_with_unknown_role,
    valid_launch_with_no_role,
    valid_launch_email_only,
    valid_launch_names_only,
    valid_launch_no_pii,
    valid_launch_email_without_context,
    valid_launch_new_resource_link_id,
    launch_in_english_follows_launch_presentation_locale,
    session_token_reopens_the_landing_page_without_cookies,
    tampered_or_missing_session_token_is_refused,
    health_and_readiness_answer,
);

async fn valid_launch_as_instructor(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.launch(LaunchSpec::instructor("teacher-1")).await;
    answer.assert_landed_as("kursledare");
    assert!(answer.body.contains("Att leda digital omställning"));
    assert!(answer.body.contains("Välkommen, Erik Holm!"));
    assert!(answer.body.contains("<html lang=\"sv\">"));
    let memberships = membership::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].role, "instructor");
    assert_eq!(memberships[0].lti_roles, roles::INSTRUCTOR);
}

async fn valid_launch_as_learner(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.launch(LaunchSpec::learner("learner-1")).await;
    answer.assert_landed_as("deltagare");
    let cleared = answer.headers["set-cookie"].to_str().unwrap();
    assert!(
        cleared.contains("Max-Age=0"),
        "the login binding is removed: {cleared}"
    );
    let users = lti_user::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].sub, "learner-1");
    assert_eq!(users[0].name.as_deref(), Some("Astrid Lindqvist"));
    // Email is sent but not stored: the course does not need it.
    assert_eq!(users[0].email, None);
}

async fn valid_launch_with_multiple_roles(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = LaunchSpec::learner("multi-1");
    spec.roles = vec![
        roles::LEARNER.into(),
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Staff".into(),
        roles::INSTRUCTOR.into(),
    ];
    app.launch(spec).await.assert_landed_as("kursledare");
}

async fn valid_launch_with_short_role_value(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = LaunchSpec::learner("short-1");
    spec.roles = vec!["Instructor".into()];
    app.launch(spec).await.assert_landed_as("kursledare");
}

async fn valid_launch_with_unknown_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = LaunchSpec::learner("unknown-role-1");
    spec.roles = vec!["http://purl.imsglobal.org/vocab/lis/v2/membership#Chef".into()];
    app.launch(spec).await.assert_landed_as("deltagare");
}

async fn valid_launch_with_no_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = LaunchSpec::learner("no-role-1");
    spec.roles = vec![];
    app.launch(spec).await.assert_landed_as("deltagare");
}

async fn valid_launch_email_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = LaunchSpec::learner("email-only-1");
    spec.name = None;
    let answer = app.launch(spec).await;
    answer.assert_landed_as("deltagare");
    assert!(answer.body.contains(">Välkommen!<"), "{}", answer.body);
}

async fn valid_launch_names_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = LaunchSpec::learner("names-only-1");
    spec.email = None;
    let answer = app.launch(spec).await;
    answer.assert_landed_as("deltagare");
    assert!(answer.body.contains("Astrid Lindqvist"));
}

async fn valid_launch_no_pii(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = LaunchSpec::learner("anonymous-1");
    spec.name = None;
    spec.email = None;
    app.launch(spec).await.assert_landed_as("deltagare");
    let user = lti_user::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user.name, user.given_name, user.email), (None, None, None));
}

async fn valid_launch_email_without_context(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = LaunchSpec::learner("no-context-1");
    spec.name = None;
    spec.context = None;
    let answer = app.launch(spec).await;
    answer.assert_landed_as("deltagare");
    assert!(answer.body.contains("Ingen kurs angiven"));
    assert!(
        membership::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn valid_launch_new_resource_link_id(backend: Backend) {
    let app = spawn_app(backend).await;
    app.launch(LaunchSpec::learner("rl-1"))
        .await
        .assert_landed_as("deltagare");
    let mut spec = LaunchSpec::learner("rl-1");
    spec.resource_link_id = "a-brand-new-link".into();
    app.launch(spec).await.assert_landed_as("deltagare");
    let links = entity::resource_link::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(links.len(), 2);
}

async fn launch_in_english_follows_launch_presentation_locale(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = LaunchSpec::instructor("en-1");
    spec.locale = Some("en-GB".into());
    let answer = app.launch(spec).await;
    answer.assert_landed_as("instructor");
    assert!(answer.body.contains("<html lang=\"en\">"));
    assert!(answer.body.contains("Welcome, Erik Holm!"));
}

async fn session_token_reopens_the_landing_page_without_cookies(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.launch(LaunchSpec::learner("session-1")).await;
    answer.assert_landed_as("deltagare");
    // The client keeps no cookies: the token in the links is all the page has.
    let module = app.get(&session_link(&answer.body)).await;
    assert_eq!(module.status.as_u16(), 200);
    let again = app
        .get(&link_containing(&module.body, "/course?session="))
        .await;
    again.assert_landed_as("deltagare");
    assert!(again.body.contains("Astrid Lindqvist"));
}

async fn tampered_or_missing_session_token_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.launch(LaunchSpec::learner("session-2")).await;
    let link = session_link(&answer.body);
    let tampered = format!("{}x", link);
    app.get(&tampered)
        .await
        .assert_refused(401, "SESSION_INVALID");
    app.get("/home")
        .await
        .assert_refused(401, "SESSION_INVALID");
    app.get("/home?session=not.a.token")
        .await
        .assert_refused(401, "SESSION_INVALID");
}

async fn health_and_readiness_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app.get("/healthz").await;
    assert_eq!((health.status.as_u16(), health.body.as_str()), (200, "ok"));
    let ready = app.get("/readyz").await;
    assert_eq!((ready.status.as_u16(), ready.body.as_str()), (200, "ready"));
    let index = app.get("/").await;
    assert!(
        index
            .body
            .contains(app.base.join("lti/login").unwrap().as_str())
    );
    assert!(
        index
            .body
            .contains(app.base.join(".well-known/jwks.json").unwrap().as_str())
    );
}

async fn a_launch_without_locale_uses_the_deployments_default_language(backend: Backend) {
    let app = spawn_app(backend).await;
    let platform = coursebridge::store::platform::list(&app.db)
        .await
        .unwrap()
        .remove(0);
    coursebridge::store::deployment::add(
        &app.db,
        platform.id,
        "english-by-default",
        None,
        Some("en".into()),
        crate::helpers::wall_unix(),
    )
    .await
    .unwrap();
    let mut spec = LaunchSpec::learner("locale-1");
    spec.locale = None;
    app.launch(spec.clone()).await.assert_landed_as("deltagare");
    spec.deployment_id = Some("english-by-default".into());
    let answer = app.launch(spec.clone()).await;
    answer.assert_landed_as("participant");
    assert!(answer.body.contains("<html lang=\"en\">"));
    // A launch that names a locale wins over the default.
    spec.locale = Some("sv-SE".into());
    app.launch(spec).await.assert_landed_as("deltagare");
}

async fn a_launch_redirects_to_a_page_that_can_be_reloaded(backend: Backend) {
    let app = spawn_app(backend).await;
    let form = app.authorize(LaunchSpec::learner("reload-1")).await;
    let response = app
        .client
        .post(app.base.join("lti/launch").unwrap())
        .header("cookie", form.cookie.clone().unwrap())
        .form(&form.fields)
        .send()
        .await
        .unwrap();
    // Post/Redirect/Get: the browser's reload repeats the GET, never the id_token post.
    assert_eq!(response.status().as_u16(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("/course?session="), "{location}");
    for _ in 0..2 {
        app.get(&location).await.assert_landed_as("deltagare");
    }
}

//! Dynamic Registration by invitation: an administrator's one-time link, which the development
//! platform playing Moodle (which names the deployment) and Canvas (which deploys later, wants the
//! registration token on the configuration GET, and has an issuer on another host than its
//! configuration) opens to register the tool. Without a usable link nothing is fetched.
use coursebridge::{
    admin::{access::Principal, registrations},
    devplatform::{DevPlatform, LaunchSpec, ToolUrls, Variant},
    lti, store,
};
use reqwest::StatusCode;
use url::Url;

use crate::helpers::{Answer, Backend, TestApp, spawn_app};

on_both_databases!(
    moodle_registers_the_tool_by_invitation_and_its_later_deployments_wait,
    canvas_registers_with_its_token_and_issuer_and_approves_when_invited_to,
    registration_without_a_usable_invitation_is_refused_and_fetches_nothing,
    invitations_come_from_the_command_line,
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

pub async fn open(app: &TestApp, url: &str) -> Answer {
    let response = app.client.get(url).send().await.unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// A registration link for `organisation`, as an administrator makes it.
pub async fn invitation(app: &TestApp, organisation: &str, auto_approve: bool) -> Url {
    registrations::invite(
        &app.db,
        &app.base,
        &Principal::cli(),
        organisation,
        crate::helpers::wall_unix() + 7 * 86_400,
        auto_approve,
    )
    .await
    .unwrap()
    .url
}

async fn moodle_registers_the_tool_by_invitation_and_its_later_deployments_wait(backend: Backend) {
    let app = spawn_app(backend).await;
    let moodle = other_platform(&app, "dyn-moodle-client", "dyn-moodle-1").await;
    let link = invitation(&app, "Skellefteå kommun", false).await;
    assert!(
        link.as_str()
            .starts_with(app.base.join("lti/register/").unwrap().as_str())
    );
    let done = open(
        &app,
        moodle.registration_url(&link, Variant::Moodle).as_str(),
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

    // What the tool stored: the registration, owned by the invited organisation, and Moodle's
    // deployment, approved, in that organisation.
    let stored = store::platform::find(&app.db, &moodle.issuer(), "dyn-moodle-client")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.auth_login_url, moodle.url("auth").as_str());
    assert_eq!(stored.jwks_url, moodle.url("jwks").as_str());
    assert!(!stored.auto_approve_deployments);
    assert_eq!(stored.organisation.as_deref(), Some("Skellefteå kommun"));
    let deployment = store::deployment::find(&app.db, stored.id, "dyn-moodle-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deployment.status, "approved");
    assert_eq!(
        deployment.organisation.as_deref(),
        Some("Skellefteå kommun")
    );

    let launched = app
        .launch_via(&moodle, LaunchSpec::learner("dyn-learner"))
        .await;
    assert_eq!(launched.status, StatusCode::OK, "{}", launched.body);
    assert!(
        launched.body.contains("/course/m/ledarskap?session="),
        "{}",
        launched.body
    );

    // A deployment the platform makes later waits for an administrator, in the organisation.
    let mut later = LaunchSpec::learner("dyn-later");
    later.deployment_id = Some("dyn-moodle-2".into());
    app.launch_via(&moodle, later)
        .await
        .assert_refused(403, "LTI_DEPLOYMENT_PENDING");
    let pending = store::deployment::find(&app.db, stored.id, "dyn-moodle-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.status, "pending");
    assert_eq!(pending.organisation.as_deref(), Some("Skellefteå kommun"));

    // The link worked once: the platform's fresh token does not make it work again, and the
    // platform is not asked.
    let again = open(
        &app,
        moodle.registration_url(&link, Variant::Moodle).as_str(),
    )
    .await;
    again.assert_refused(403, "REG_NO_INVITATION");
    assert_eq!(moodle.registrations().len(), 1);

    // The registration is in the audit log under the invitation.
    let audit = store::admin::audit_entries(&app.db, None, None, 50)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.action == "registration.register"
            && e.organisation.as_deref() == Some("Skellefteå kommun")),
        "{audit:?}"
    );
}

async fn canvas_registers_with_its_token_and_issuer_and_approves_when_invited_to(backend: Backend) {
    let app = spawn_app(backend).await;
    let canvas = other_platform(&app, "dyn-canvas-client", "canvas-deployment-7").await;
    // The configuration comes from the platform's `localhost` name, while its issuer is the
    // `127.0.0.1` one: an institution's own Canvas host and canvas.instructure.com.
    let issuer = Url::parse(&canvas.issuer()).unwrap();
    let mut elsewhere = issuer.clone();
    elsewhere.set_host(Some("localhost")).unwrap();
    assert_ne!(elsewhere.origin(), issuer.origin());
    let link = invitation(&app, "Lycksele kommun", true).await;
    let mut url = canvas.registration_url_from(&link, Variant::Canvas, &elsewhere);
    url.query_pairs_mut().append_pair("ignored", "1");
    let done = app
        .client
        .get(url)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let status = done.status();
    let body = done.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("coursebridge is now registered with canvas"),
        "{body}"
    );
    // Canvas took the placements (it refuses names it does not know).
    let sent = canvas.registrations().pop().unwrap();
    let placements = &sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]["messages"][1]
        ["placements"];
    assert!(
        !placements.to_string().contains("ContentArea"),
        "{placements}"
    );

    let stored = store::platform::find(&app.db, &canvas.issuer(), "dyn-canvas-client")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.auto_approve_deployments, "the invitation said so");
    let launched = app
        .launch_via(&canvas, LaunchSpec::learner("canvas-learner"))
        .await;
    assert_eq!(launched.status, StatusCode::OK, "{}", launched.body);
    let deployment = store::deployment::find(&app.db, stored.id, "canvas-deployment-7")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deployment.organisation.as_deref(), Some("Lycksele kommun"));

    // Canvas refuses the configuration GET without the registration token as bearer.
    let bare = app
        .client
        .get(canvas.url("openid-configuration/canvas"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
}

async fn registration_without_a_usable_invitation_is_refused_and_fetches_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let platform = other_platform(&app, "dyn-refused", "d-1").await;
    let no_link = app.base.join("lti/register").unwrap();

    // No link at all, a made-up one, an expired one: 403, and the platform sees no request.
    let plain = open(
        &app,
        platform
            .registration_url(&no_link, Variant::Moodle)
            .as_str(),
    )
    .await;
    plain.assert_refused(403, "REG_NO_INVITATION");
    assert!(plain.body.contains("administratör"), "{}", plain.body);
    let bare = app.get("/lti/register").await;
    bare.assert_refused(403, "REG_NO_INVITATION");
    let made_up = app
        .base
        .join(&format!("lti/register/{}", lti::random_token(32)))
        .unwrap();
    open(
        &app,
        platform
            .registration_url(&made_up, Variant::Moodle)
            .as_str(),
    )
    .await
    .assert_refused(403, "REG_NO_INVITATION");
    // A made-up link opened without the platform's parameters says no more than that.
    app.get(&format!("/lti/register/{}", lti::random_token(32)))
        .await
        .assert_refused(403, "REG_NO_INVITATION");
    let expired = registrations::invite(
        &app.db,
        &app.base,
        &Principal::cli(),
        "Umeå kommun",
        crate::helpers::wall_unix() + 3600,
        true,
    )
    .await
    .unwrap();
    {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        entity::registration_invitation::ActiveModel {
            id: Set(expired.row.id),
            expires_at: Set(crate::helpers::wall_unix() - 1),
            ..Default::default()
        }
        .update(&app.db)
        .await
        .unwrap();
    }
    let english = app
        .client
        .get(platform.registration_url(&expired.url, Variant::Moodle))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(english.status(), StatusCode::FORBIDDEN);
    let text = english.text().await.unwrap();
    assert!(text.contains("administrator"), "{text}");
    assert!(platform.registrations().is_empty());
    assert_eq!(platform.configuration_fetches(), 0, "nothing was fetched");

    // A valid link without the platform's parameters.
    let link = invitation(&app, "Umeå kommun", false).await;
    let missing = open(&app, link.as_str()).await;
    missing.assert_refused(400, "REG_NO_CONFIGURATION");

    // The link survives a failed attempt (the platform's configuration is unusable) and works once.
    let mut broken = link.clone();
    broken
        .query_pairs_mut()
        .append_pair("openid_configuration", platform.url("jwks").as_str());
    open(&app, broken.as_str())
        .await
        .assert_refused(400, "REG_BAD_CONFIGURATION");
    let first = open(
        &app,
        platform.registration_url(&link, Variant::Moodle).as_str(),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    // A second link for the same platform and client_id: the registration exists.
    let twice = open(
        &app,
        platform
            .registration_url(
                &invitation(&app, "Umeå kommun", false).await,
                Variant::Moodle,
            )
            .as_str(),
    )
    .await;
    twice.assert_refused(409, "REG_EXISTS");
}

async fn invitations_come_from_the_command_line(backend: Backend) {
    let app = spawn_app(backend).await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"))
        .args([
            "registration",
            "invite",
            "--organisation",
            "Vindelns kommun",
            "--expires",
            "3d",
        ])
        .env("COURSEBRIDGE_DATABASE_URL", &app.database.url)
        .env("COURSEBRIDGE_PUBLIC_URL", app.base.as_str())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    let link = printed
        .lines()
        .find(|l| l.contains("/lti/register/"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        link.starts_with(app.base.join("lti/register/").unwrap().as_str()),
        "{link}"
    );
    let token = link.rsplit('/').next().unwrap();
    assert!(token.len() >= 40, "{link}");
    // Only the hash is stored.
    let rows = store::invitations::list(&app.db, None, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].token_hash, token);
    assert!(!rows[0].token_hash.contains(token));
    assert_eq!(rows[0].organisation, "Vindelns kommun");
    let days = (rows[0].expires_at - crate::helpers::wall_unix()) as f64 / 86_400.0;
    assert!((2.9..=3.0).contains(&days), "{days}");
    let listed = app.cli(["registration", "list"]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains("Vindelns kommun") && listed.contains("open"),
        "{listed}"
    );
    assert!(!listed.contains(token));
    let too_long = app.cli([
        "registration",
        "invite",
        "--organisation",
        "Vindelns kommun",
        "--expires",
        "120d",
    ]);
    assert_eq!(too_long.status.code(), Some(2), "{too_long:?}");
    // The link works with the platform.
    let platform = other_platform(&app, "dyn-cli", "cli-1").await;
    let done = open(
        &app,
        platform
            .registration_url(&Url::parse(&link).unwrap(), Variant::Moodle)
            .as_str(),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let listed = app.cli(["registration", "list"]);
    assert!(
        String::from_utf8(listed.stdout)
            .unwrap()
            .contains("used by platform #")
    );
}

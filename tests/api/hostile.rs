//! Hostile launches beyond the certification list (Security Framework §5.1.3, OIDC Core ID token
//! validation): forged signatures, wrong algorithms, wrong parties, replays, lost or foreign state.
use coursebridge::{
    devplatform::{LaunchSpec, Signing},
    lti::{self, claims},
    store,
};
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{Backend, spawn_app, spawn_app_with};

on_both_databases!(
    signature_from_another_key_is_refused,
    tampered_payload_is_refused,
    alg_none_is_refused,
    alg_hs256_is_refused,
    missing_exp_is_refused,
    iat_in_the_future_beyond_leeway_is_refused,
    iat_within_the_leeway_is_accepted,
    wrong_issuer_is_refused,
    audience_without_client_id_is_refused,
    several_audiences_without_azp_are_refused,
    several_audiences_with_wrong_azp_are_refused,
    several_audiences_with_our_azp_are_accepted,
    missing_nonce_is_refused,
    unknown_nonce_is_refused,
    nonce_of_a_completed_launch_is_refused_as_replay,
    replayed_launch_post_is_refused,
    missing_state_is_refused,
    unknown_state_is_refused,
    altered_or_foreign_state_is_refused_as_unknown,
    expired_state_is_refused_as_unknown,
    a_login_writes_nothing_and_its_launch_is_recorded_once,
    thousands_of_logins_write_no_row_and_oversized_hints_are_refused,
    the_state_stays_short_with_the_longest_hints_and_the_launch_still_works,
    launch_without_the_login_cookie_is_not_admitted,
    launch_with_another_logins_cookie_is_refused,
    target_link_uri_that_differs_from_the_login_is_refused,
    unknown_message_type_is_refused,
    unregistered_deployment_is_recorded_pending_until_approved,
    auto_approving_registration_admits_a_new_deployment,
    platform_error_answer_is_shown,
    a_launch_post_that_is_no_form_or_names_a_field_twice_is_refused,
    login_from_unknown_issuer_gets_an_error_page,
    login_without_required_parameters_gets_an_error_page,
    login_by_form_post_works,
    nonce_replay_across_two_instances_sharing_the_database,
);

fn learner() -> LaunchSpec {
    LaunchSpec::learner("hostile-learner")
}

async fn signature_from_another_key_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.launch(learner().signed(Signing::ForeignKey))
        .await
        .assert_refused(401, "LTI_BAD_SIGNATURE");
}

async fn tampered_payload_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.launch(learner().signed(Signing::TamperedPayload))
        .await
        .assert_refused(401, "LTI_BAD_SIGNATURE");
}

async fn alg_none_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.launch(learner().signed(Signing::AlgNone))
        .await
        .assert_refused(400, "LTI_ALG_NOT_RS256");
}

async fn alg_hs256_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.launch(learner().signed(Signing::Hs256))
        .await
        .assert_refused(400, "LTI_ALG_NOT_RS256");
}

async fn missing_exp_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.launch(learner().remove("exp"))
        .await
        .assert_refused(400, "LTI_NO_EXP");
}

async fn iat_in_the_future_beyond_leeway_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = crate::helpers::wall_unix();
    app.launch(learner().set("iat", json!(now + 60)))
        .await
        .assert_refused(400, "LTI_IAT_IN_FUTURE");
}

async fn iat_within_the_leeway_is_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = crate::helpers::wall_unix();
    // A platform clock 3 s ahead is within the default 5 s leeway.
    app.launch(learner().set("iat", json!(now + 3)))
        .await
        .assert_landed_as("deltagare");
}

async fn wrong_issuer_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.launch(learner().set("iss", json!("https://evil.example")))
        .await
        .assert_refused(400, "LTI_WRONG_ISSUER");
}

async fn audience_without_client_id_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.launch(learner().set("aud", json!(["someone-else"])))
        .await
        .assert_refused(400, "LTI_WRONG_AUDIENCE");
}

async fn several_audiences_without_azp_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let client_id = app.platform.client_id().to_owned();
    app.launch(learner().set("aud", json!([client_id, "another-party"])))
        .await
        .assert_refused(400, "LTI_WRONG_AZP");
}

async fn several_audiences_with_wrong_azp_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let client_id = app.platform.client_id().to_owned();
    let spec = learner()
        .set("aud", json!([client_id, "another-party"]))
        .set("azp", json!("another-party"));
    app.launch(spec).await.assert_refused(400, "LTI_WRONG_AZP");
}

async fn several_audiences_with_our_azp_are_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let client_id = app.platform.client_id().to_owned();
    let spec = learner()
        .set("aud", json!([client_id.clone(), "another-party"]))
        .set("azp", json!(client_id));
    app.launch(spec).await.assert_landed_as("deltagare");
}

async fn missing_nonce_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.launch(learner().remove("nonce"))
        .await
        .assert_refused(400, "LTI_NONCE_MISSING");
}

async fn unknown_nonce_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.launch(learner().set("nonce", json!("a-nonce-never-issued")))
        .await
        .assert_refused(400, "LTI_NONCE_MISMATCH");
}

async fn nonce_of_a_completed_launch_is_refused_as_replay(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.authorize(learner()).await;
    app.post_launch(&first).await.assert_landed_as("deltagare");
    // An attacker starts a fresh login, then posts the captured id_token with the new state.
    let mut second = app.authorize(learner()).await;
    second
        .fields
        .insert("id_token".into(), first.fields["id_token"].clone());
    app.post_launch(&second)
        .await
        .assert_refused(400, "LTI_NONCE_REUSED");
}

async fn replayed_launch_post_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let form = app.authorize(learner()).await;
    app.post_launch(&form).await.assert_landed_as("deltagare");
    app.post_launch(&form)
        .await
        .assert_refused(400, "LTI_STATE_REUSED");
}

async fn missing_state_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut form = app.authorize(learner()).await;
    form.fields.remove("state");
    app.post_launch(&form)
        .await
        .assert_refused(400, "LTI_STATE_MISSING");
}

async fn unknown_state_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut form = app.authorize(learner()).await;
    form.fields.insert("state".into(), "made-up-state".into());
    app.post_launch(&form)
        .await
        .assert_refused(400, "LTI_STATE_UNKNOWN");
}

/// The form with another `state`, and the browser's binding secret under that state's cookie name
/// (so that what is refused is the state itself, not a missing cookie).
fn with_state(form: &crate::helpers::LaunchForm, state: &str) -> crate::helpers::LaunchForm {
    let secret = form.cookie.as_ref().unwrap().split_once('=').unwrap().1;
    let mut fields = form.fields.clone();
    fields.insert("state".into(), state.to_owned());
    crate::helpers::LaunchForm {
        fields,
        cookie: Some(format!(
            "{}={secret}",
            coursebridge::admission::binding_cookie_name(state)
        )),
    }
}

async fn altered_or_foreign_state_is_refused_as_unknown(backend: Backend) {
    let app = spawn_app(backend).await;
    // A session token is signed with the same key, but it is not a login state.
    let landed = app.launch(learner()).await;
    let session = crate::helpers::token_of(&landed.body);
    let form = app.authorize(learner()).await;
    let state = form.fields["state"].clone();
    // One character of the signed part changed (the platform id, the nonce or the binding, say).
    let (header, rest) = state.split_once('.').unwrap();
    let mut payload: Vec<char> = rest.chars().collect();
    payload[10] = if payload[10] == 'A' { 'B' } else { 'A' };
    let altered = format!("{header}.{}", payload.into_iter().collect::<String>());
    for forged in [altered.as_str(), session.as_str(), "a.b.c"] {
        app.post_launch(&with_state(&form, forged))
            .await
            .assert_refused(400, "LTI_STATE_UNKNOWN");
    }
    // None of it used up the real login.
    app.post_launch(&form).await.assert_landed_as("deltagare");
}

async fn expired_state_is_refused_as_unknown(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.login_state_ttl_seconds = 1).await;
    let form = app.authorize(learner()).await;
    app.clock.advance(std::time::Duration::from_secs(2));
    app.post_launch(&form)
        .await
        .assert_refused(400, "LTI_STATE_UNKNOWN");
    // Without the cookie too: an expired login is not waiting for its proof, so the launch gets
    // the refusal rather than the page that reads platform storage or offers a new window.
    let mut without = form.clone();
    without.cookie = None;
    let answer = app.post_launch(&without).await;
    assert!(!answer.body.contains("data-testid=\"new-window\""));
    answer.assert_refused(400, "LTI_STATE_UNKNOWN");
}

async fn a_login_writes_nothing_and_its_launch_is_recorded_once(backend: Backend) {
    let app = spawn_app(backend).await;
    // Login initiations are unauthenticated: however many arrive, none writes a row.
    let mut forms = Vec::new();
    for _ in 0..5 {
        forms.push(app.authorize(learner()).await);
    }
    let used = entity::used_login::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(used.is_empty(), "{used:?}");
    app.post_launch(&forms[2])
        .await
        .assert_landed_as("deltagare");
    let used = entity::used_login::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let nonce = lti::launch::unverified_nonce(&forms[2].fields["id_token"]).unwrap();
    assert_eq!(used.len(), 1, "{used:?}");
    assert_eq!(used[0].nonce, nonce);
    assert!(used[0].expires_at > crate::helpers::wall_unix());
    // The other logins are still open.
    app.post_launch(&forms[4])
        .await
        .assert_landed_as("deltagare");
}

async fn launch_without_the_login_cookie_is_not_admitted(backend: Backend) {
    let app = spawn_app(backend).await;
    let form = app.authorize(learner()).await;
    let mut without = form.clone();
    without.cookie = None;
    // What a browser blocking third-party cookies gets: no session, the choice of a new window.
    let answer = app.post_launch(&without).await;
    assert_eq!(answer.status.as_u16(), 200, "{}", answer.body);
    assert!(answer.body.contains("data-testid=\"new-window\""));
    assert!(
        !answer.body.contains("session="),
        "no session without proof"
    );
    // A made-up proof is refused, and does not use up the login.
    let mut forged = without.clone();
    forged.fields.insert("binding".into(), "guessed".into());
    app.post_launch(&forged)
        .await
        .assert_refused(401, "LTI_STATE_MISMATCH");
    // The browser that logged in still can.
    assert_eq!(app.post_launch(&form).await.status.as_u16(), 200);
}

async fn launch_with_another_logins_cookie_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let victim = app.authorize(learner()).await;
    let attacker = app.authorize(learner()).await;
    // The attacker's browser holds its own binding secret, under the victim's cookie name.
    let secret = attacker
        .cookie
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let name = victim
        .cookie
        .as_ref()
        .unwrap()
        .split_once('=')
        .unwrap()
        .0
        .to_owned();
    let forged = crate::helpers::LaunchForm {
        fields: victim.fields.clone(),
        cookie: Some(format!("{name}={secret}")),
    };
    app.post_launch(&forged)
        .await
        .assert_refused(401, "LTI_STATE_MISMATCH");
    // The refused attempt does not burn the login: the browser that started it still gets in.
    app.post_launch(&victim).await.assert_landed_as("deltagare");
}

async fn target_link_uri_that_differs_from_the_login_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app.base.join("somewhere-else").unwrap().to_string();
    app.launch(learner().set(claims::TARGET_LINK_URI, json!(other)))
        .await
        .assert_refused(400, "LTI_TARGET_LINK_MISMATCH");
}

async fn unknown_message_type_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.launch(learner().set(claims::MESSAGE_TYPE, json!("LtiStartProctoring")))
        .await
        .assert_refused(400, "LTI_UNKNOWN_MESSAGE_TYPE");
}

async fn unregistered_deployment_is_recorded_pending_until_approved(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = learner();
    spec.deployment_id = Some("skelleftea-new".into());
    app.launch(spec.clone())
        .await
        .assert_refused(403, "LTI_DEPLOYMENT_PENDING");
    let platform = store::platform::list(&app.db).await.unwrap().remove(0);
    let pending = store::deployment::find(&app.db, platform.id, "skelleftea-new")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.status, "pending");
    // Still pending on a second try; nothing about the person was stored.
    app.launch(spec.clone())
        .await
        .assert_refused(403, "LTI_DEPLOYMENT_PENDING");
    assert!(
        entity::lti_user::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );

    store::deployment::approve(
        &app.db,
        platform.id,
        "skelleftea-new",
        crate::helpers::wall_unix(),
    )
    .await
    .unwrap();
    app.launch(spec).await.assert_landed_as("deltagare");
}

async fn auto_approving_registration_admits_a_new_deployment(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut registration = app.platform.registration();
    registration.auto_approve_deployments = true;
    store::platform::upsert(&app.db, registration, crate::helpers::wall_unix())
        .await
        .unwrap();
    let mut spec = learner();
    spec.deployment_id = Some("vannas".into());
    app.launch(spec).await.assert_landed_as("deltagare");
}

async fn platform_error_answer_is_shown(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut form = app.authorize(learner()).await;
    form.fields.clear();
    form.fields.insert("error".into(), "login_required".into());
    form.fields.insert(
        "error_description".into(),
        "<script>alert(1)</script>".into(),
    );
    let answer = app.post_launch(&form).await;
    answer.assert_refused(400, "LTI_PLATFORM_ERROR");
    assert!(
        !answer.body.contains("<script>alert(1)"),
        "output is escaped"
    );
    assert!(
        answer.body.contains("alert(1)"),
        "the platform's words are shown, as text"
    );
}

async fn a_launch_post_that_is_no_form_or_names_a_field_twice_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let form = app.authorize(learner()).await;
    let launch = app.base.join("lti/launch").unwrap();
    let body = |fields: &std::collections::HashMap<String, String>| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish()
    };
    let post = |body: String, content_type: &'static str| {
        app.client
            .post(launch.clone())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header(reqwest::header::ACCEPT_LANGUAGE, "en")
            .header(reqwest::header::COOKIE, form.cookie.clone().unwrap())
            .body(body)
            .send()
    };
    // The same fields, each once, and the launch goes through: the refusals below are the shape's.
    let twice = format!("{}&state=other", body(&form.fields));
    let answer = post(twice, "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    let page = answer.text().await.unwrap();
    assert!(page.contains("duplicate field `state`"), "{page}");
    assert!(page.contains("lang=\"en\""), "{page}");
    let as_json = serde_json::to_string(&form.fields).unwrap();
    let answer = post(as_json, "application/json").await.unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    let answer = post(body(&form.fields), "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(
        answer.status().as_u16(),
        303,
        "the same form, well formed, is admitted"
    );
}

async fn login_from_unknown_issuer_gets_an_error_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let target = app.base.join("lti/launch").unwrap();
    let mut url = app.base.join("lti/login").unwrap();
    url.query_pairs_mut()
        .append_pair("iss", "https://unknown.example")
        .append_pair("login_hint", "x")
        .append_pair("target_link_uri", target.as_str())
        .append_pair("client_id", "nobody");
    let response = app
        .client
        .get(url)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("LTI_UNKNOWN_PLATFORM"));
    assert!(body.contains("is not registered in coursebridge"), "{body}");
}

async fn login_without_required_parameters_gets_an_error_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.get("/lti/login?iss=https%3A%2F%2Fx.example").await;
    answer.assert_refused(400, "LTI_LOGIN_INVALID");
    assert!(answer.body.contains("login_hint"));
    let foreign = format!(
        "/lti/login?iss={}&login_hint=x&client_id={}&target_link_uri=https%3A%2F%2Fevil.example%2F",
        app.platform.issuer(),
        app.platform.client_id()
    );
    app.get(&foreign)
        .await
        .assert_refused(400, "LTI_LOGIN_FOREIGN_TARGET");
}

async fn login_by_form_post_works(backend: Backend) {
    let app = spawn_app(backend).await;
    let login = app.platform.login_url(learner());
    let pairs: Vec<(String, String)> = login.query_pairs().into_owned().collect();
    let response = app
        .client
        .post(app.base.join("lti/login").unwrap())
        .form(&pairs)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(app.platform.url("auth").as_str()));
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("Secure; SameSite=None; Partitioned"),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly"));
}

async fn nonce_replay_across_two_instances_sharing_the_database(backend: Backend) {
    let mut app = spawn_app_with(backend, |_| {}).await;
    let second = app.second_instance().await;
    let form = app.authorize(learner()).await;
    // The launch lands on the second instance, then the same post is replayed to the first.
    app.post_launch_to(&second, &form)
        .await
        .assert_landed_as("deltagare");
    app.post_launch(&form)
        .await
        .assert_refused(400, "LTI_STATE_REUSED");
    // Two racing posts of one fresh launch: exactly one is admitted.
    let form = app.authorize(learner()).await;
    let (a, b) = tokio::join!(app.post_launch(&form), app.post_launch_to(&second, &form));
    let admitted = [&a, &b].iter().filter(|r| r.status.as_u16() == 200).count();
    assert_eq!(admitted, 1, "first: {} second: {}", a.status, b.status);
}

/// Rows in every table of the database.
async fn rows_everywhere(db: &sea_orm::DatabaseConnection, backend: Backend) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let tables_sql = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
        }
    };
    let backend_kind = db.get_database_backend();
    let tables = db
        .query_all_raw(Statement::from_string(backend_kind, tables_sql))
        .await
        .unwrap();
    let mut total = 0;
    for table in tables {
        let name: String = table.try_get("", "name").unwrap();
        let count = db
            .query_one_raw(Statement::from_string(
                backend_kind,
                format!("SELECT COUNT(*) AS n FROM \"{name}\""),
            ))
            .await
            .unwrap()
            .unwrap();
        total += count.try_get::<i64>("", "n").unwrap();
    }
    total
}

async fn thousands_of_logins_write_no_row_and_oversized_hints_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = rows_everywhere(&app.db, backend).await;
    let login_url = |hint: &str| {
        let mut url = app.base.join("lti/login").unwrap();
        url.query_pairs_mut()
            .append_pair("iss", &app.platform.issuer())
            .append_pair("login_hint", hint)
            .append_pair(
                "target_link_uri",
                app.base.join("lti/launch").unwrap().as_str(),
            )
            .append_pair("client_id", "coursebridge-test-client");
        url
    };
    for n in 0..2000 {
        let answer = app
            .client
            .get(login_url(&format!("stranger-{n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), reqwest::StatusCode::FOUND);
    }
    // A 200 KB hint is refused in the page's language, and nothing is kept of it.
    let huge = app
        .client
        .post(app.base.join("lti/login").unwrap())
        .header("accept-language", "en")
        .form(&[
            ("iss", app.platform.issuer().as_str()),
            ("login_hint", &"x".repeat(200_000)),
            (
                "target_link_uri",
                app.base.join("lti/launch").unwrap().as_str(),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), reqwest::StatusCode::BAD_REQUEST);
    let page = huge.text().await.unwrap();
    assert!(
        page.contains("LTI_LOGIN_TOO_LONG"),
        "{}",
        &page[..page.len().min(3000)]
    );
    assert!(page.contains("longer than any learning platform sends"));
    let posted = app
        .client
        .post(app.base.join("lti/login").unwrap())
        .form(&[
            ("iss", app.platform.issuer().as_str()),
            ("login_hint", "u"),
            ("lti_message_hint", &"m".repeat(4097)),
            (
                "target_link_uri",
                app.base.join("lti/launch").unwrap().as_str(),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(rows_everywhere(&app.db, backend).await, before);
}

async fn the_state_stays_short_with_the_longest_hints_and_the_launch_still_works(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = learner();
    spec.login_hint = Some("h".repeat(4096));
    let form = app.authorize(spec).await;
    let state = &form.fields["state"];
    assert!(
        state.len() <= coursebridge::admission::MAX_STATE_CHARS,
        "{}",
        state.len()
    );
    app.post_launch(&form).await.assert_landed_as("deltagare");
    // Without the cookie the login cannot be repeated from the state; the page says how to go on.
    let mut again = app.authorize(learner()).await;
    again.cookie = None;
    let page = app.post_launch(&again).await;
    assert!(
        page.body.contains("data-testid=\"new-window\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("/lti/login?iss="),
        "short hints: the login can be repeated"
    );
    let mut long = learner();
    long.login_hint = Some("h".repeat(4096));
    let mut without = app.authorize(long).await;
    without.cookie = None;
    let page = app.post_launch(&without).await;
    assert!(!page.body.contains("/lti/login?iss="), "{}", page.body);
    assert!(
        page.body.contains("direkt från lärplattformen"),
        "{}",
        page.body
    );
}

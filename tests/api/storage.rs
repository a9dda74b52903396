//! Launches without a third-party cookie: the login's proof kept in platform storage and read back
//! at the launch, and, where the platform keeps nothing, the course opened in a window of its own.
//! (The postMessage exchange itself runs in Chromium: tests/browser/participant.mjs.)
use coursebridge::devplatform::{self, LaunchSpec};
use reqwest::{StatusCode, header};

use crate::helpers::{Backend, LaunchForm, TestApp, spawn_app};

on_both_databases!(
    a_launch_proves_itself_with_what_the_platform_kept,
    without_cookie_or_storage_the_course_opens_in_a_new_window,
);

/// `name="…"` attribute value of the element carrying `data-testid`/`data-platform-storage`.
fn attribute(body: &str, name: &str) -> String {
    let marker = format!("{name}=\"");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name}: {body}"))
        + marker.len();
    body[at..at + body[at..].find('"').unwrap()]
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

async fn platform_form(app: &TestApp, auth_url: &str) -> std::collections::HashMap<String, String> {
    let page = app.client.get(auth_url).send().await.unwrap();
    let status = page.status();
    let text = page.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{auth_url}: {text}");
    devplatform::form_fields(&text)
}

async fn a_launch_proves_itself_with_what_the_platform_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = LaunchSpec::learner("storage-1");
    spec.storage_target = Some("_parent".into());
    let login = app
        .client
        .get(app.platform.login_url(spec))
        .send()
        .await
        .unwrap();
    // A page that puts the proof into the platform's frame, then goes on to the platform; the
    // cookie is set as well.
    assert_eq!(login.status(), StatusCode::OK);
    assert!(login.headers().get(header::SET_COOKIE).is_some());
    let page = login.text().await.unwrap();
    assert_eq!(attribute(&page, "data-platform-storage"), "put");
    assert_eq!(attribute(&page, "data-storage-target"), "_parent");
    assert_eq!(
        attribute(&page, "data-platform-origin"),
        app.platform.url("").origin().ascii_serialization()
    );
    let key = attribute(&page, "data-key");
    let kept = attribute(&page, "data-value");
    let next = attribute(&page, "data-next");
    assert!(
        next.starts_with(app.platform.url("auth").as_str()),
        "{next}"
    );
    assert!(page.contains("assets/platform-storage.js"));

    // The launch comes without the cookie (blocked): a page that reads the proof back.
    let fields = platform_form(&app, &next).await;
    let without = LaunchForm {
        fields: fields.clone(),
        cookie: None,
    };
    let proof = app.post_launch(&without).await;
    assert_eq!(proof.status.as_u16(), 200, "{}", proof.body);
    assert_eq!(attribute(&proof.body, "data-platform-storage"), "get");
    assert_eq!(attribute(&proof.body, "data-key"), key);
    assert!(
        proof.body.contains("hidden>"),
        "the new-window choice waits behind the storage"
    );
    assert!(!proof.body.contains("session="));

    // What the platform kept is the proof: the launch is admitted, once.
    let mut proven = without.clone();
    proven.fields.insert("binding".into(), kept);
    let admitted = app.post_launch(&proven).await;
    assert_eq!(admitted.status.as_u16(), 200, "{}", admitted.body);
    assert!(admitted.body.contains("/course/m/ledarskap?session="));
    app.post_launch(&proven)
        .await
        .assert_refused(400, "LTI_STATE_REUSED");
}

async fn without_cookie_or_storage_the_course_opens_in_a_new_window(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut form = app.authorize(LaunchSpec::learner("new-window-1")).await;
    form.cookie = None;
    let offer = app.post_launch(&form).await;
    assert_eq!(offer.status.as_u16(), 200);
    assert!(
        !offer.body.contains("data-platform-storage"),
        "nothing was kept"
    );
    assert!(offer.body.contains("Öppna kursen i ett nytt fönster"));
    let start = attribute(
        &offer.body[offer.body.find("id=\"new-window\"").unwrap()..],
        "href",
    );
    assert!(
        start.starts_with(app.base.join("lti/login").unwrap().as_str()),
        "{start}"
    );
    assert!(start.contains("target_link_uri="));

    // The new window is first party: the same login again, with its cookie, and the course opens.
    let login = app.client.get(&start).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::FOUND);
    let cookie = login.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let auth = login.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let fields = platform_form(&app, &auth).await;
    let admitted = app
        .post_launch(&LaunchForm {
            fields,
            cookie: Some(cookie),
        })
        .await;
    assert_eq!(admitted.status.as_u16(), 200, "{}", admitted.body);
    assert!(admitted.body.contains("/course/m/ledarskap?session="));
}

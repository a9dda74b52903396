//! Outbound calls cannot be aimed inside: URLs that came from a platform's answer, an id_token or
//! an administrator's form are called only through the guarded client. A server on this machine
//! plays the "inside" service: it counts every request and keeps a secret in its error answers.
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use std::time::Duration;

use axum::{
    Router,
    http::{StatusCode as AxumStatus, header},
    response::IntoResponse,
    routing::any,
};
use coursebridge::{devplatform::LaunchSpec, lti::claims, store};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use url::Url;

use crate::{
    grades::{import_small_course, submit},
    helpers::{Backend, TestApp, spawn_app, spawn_app_with},
    registration::{invitation, open},
};

on_both_databases!(
    registration_calls_nothing_inside_and_shows_no_answer_of_another_server,
    without_the_development_setting_loopback_is_never_called,
    grade_services_named_in_a_launch_are_not_called_inside,
    webhook_deliveries_follow_no_redirect,
);

const SECRET: &str = "internal-secret-4711";

/// The inside service: every request counted; `/secret` answers 500 with the secret, `/moved`
/// sends a 307 to `/target`, whose requests are counted apart.
struct Inside {
    base: Url,
    hits: Arc<AtomicUsize>,
    target_hits: Arc<AtomicUsize>,
}

async fn inside() -> Inside {
    let hits = Arc::new(AtomicUsize::new(0));
    let target_hits = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let (counted, target) = (hits.clone(), target_hits.clone());
    let moved_to = base.join("target").unwrap().to_string();
    let app = Router::new()
        .route(
            "/target",
            any(move || {
                target.fetch_add(1, Ordering::SeqCst);
                async { (AxumStatus::OK, "{}") }
            }),
        )
        .route(
            "/moved",
            any(move || {
                let moved_to = moved_to.clone();
                async move {
                    (
                        AxumStatus::TEMPORARY_REDIRECT,
                        [(header::LOCATION, moved_to)],
                    )
                        .into_response()
                }
            }),
        )
        .fallback(any(|| async {
            (
                AxumStatus::INTERNAL_SERVER_ERROR,
                format!("{SECRET}: db=10.0.0.5"),
            )
        }))
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                counted.fetch_add(1, Ordering::SeqCst);
                next.run(request)
            },
        ));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Inside {
        base,
        hits,
        target_hits,
    }
}

fn with_configuration(link: &Url, configuration: &str) -> String {
    let mut url = link.clone();
    url.query_pairs_mut()
        .append_pair("openid_configuration", configuration)
        .append_pair("registration_token", "t");
    url.to_string()
}

async fn registration_calls_nothing_inside_and_shows_no_answer_of_another_server(backend: Backend) {
    // The development setting (loopback allowed) is on, as in the rest of the suite.
    let app = spawn_app(backend).await;
    let service = inside().await;
    let link = invitation(&app, "Umeå kommun", false).await;

    // An error answer: the page has its status and a code, never its words.
    let failed = open(
        &app,
        &with_configuration(&link, service.base.join("secret").unwrap().as_str()),
    )
    .await;
    failed.assert_refused(502, "REG_PLATFORM_FAILED");
    assert!(!failed.body.contains(SECRET), "{}", failed.body);
    assert!(!failed.body.contains("10.0.0.5"), "{}", failed.body);
    assert!(failed.body.contains("500"), "{}", failed.body);
    assert_eq!(service.hits.load(Ordering::SeqCst), 1);

    // A redirect is not followed.
    let moved = open(
        &app,
        &with_configuration(&link, service.base.join("moved").unwrap().as_str()),
    )
    .await;
    moved.assert_refused(502, "REG_PLATFORM_FAILED");
    assert_eq!(service.target_hits.load(Ordering::SeqCst), 0);

    // Addresses that stay refused even in development: unspecified (which Linux would connect
    // to this machine) and IPv4-mapped forms of it; nothing is sent.
    let before = service.hits.load(Ordering::SeqCst);
    let port = service.base.port().unwrap();
    for inside_url in [
        format!("http://0.0.0.0:{port}/config"),
        format!("https://0.0.0.0:{port}/config"),
        format!("https://[::ffff:0.0.0.0]:{port}/config"),
        format!("https://[::]:{port}/config"),
        format!("ftp://127.0.0.1:{port}/config"),
    ] {
        open(&app, &with_configuration(&link, &inside_url))
            .await
            .assert_refused(400, "REG_BAD_CONFIGURATION");
    }
    assert_eq!(service.hits.load(Ordering::SeqCst), before);
}

async fn without_the_development_setting_loopback_is_never_called(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.outbound_allow_loopback = false).await;
    let service = inside().await;
    let link = invitation(&app, "Umeå kommun", false).await;
    let port = service.base.port().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    for refused in [
        format!("http://127.0.0.1:{port}/config"),
        format!("https://127.0.0.1:{port}/config"),
        format!("https://[::1]:{port}/config"),
        format!("https://[::ffff:127.0.0.1]:{port}/config"),
    ] {
        open(&app, &with_configuration(&link, &refused))
            .await
            .assert_refused(400, "REG_BAD_CONFIGURATION");
    }
    // A name that resolves to loopback: the resolver drops the address, so an open port and a
    // closed one answer alike.
    let open_port = open(
        &app,
        &with_configuration(&link, &format!("https://localhost:{port}/config")),
    )
    .await;
    let closed_port = open(
        &app,
        &with_configuration(&link, &format!("https://localhost:{closed}/config")),
    )
    .await;
    open_port.assert_refused(502, "REG_PLATFORM_FAILED");
    closed_port.assert_refused(502, "REG_PLATFORM_FAILED");
    let detail = |body: &str| {
        body.split("data-testid=\"error-detail\"").nth(1).map(|d| {
            d.replace(&port.to_string(), "")
                .replace(&closed.to_string(), "")
        })
    };
    assert_eq!(detail(&open_port.body), detail(&closed_port.body));
    assert_eq!(service.hits.load(Ordering::SeqCst), 0, "nothing reached it");

    // The platform's key set on loopback is not fetched either: the launch is refused.
    let launched = app.launch(LaunchSpec::learner("strict-1")).await;
    launched.assert_refused(400, "LTI_JWKS_UNAVAILABLE");
    assert_eq!(app.platform.jwks_requests(), 0);
}

async fn grade_services_named_in_a_launch_are_not_called_inside(backend: Backend) {
    let app = spawn_app(backend).await;
    import_small_course(&app).await;
    let service = inside().await;
    let port = service.base.port().unwrap();
    let mut spec = LaunchSpec::learner("ags-inside");
    spec.edits.push(coursebridge::devplatform::ClaimEdit::Set(
        claims::AGS_ENDPOINT.into(),
        json!({
            "scope": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            ],
            "lineitems": format!("https://0.0.0.0:{port}/lineitems"),
            "lineitem": format!("https://0.0.0.0:{port}/lineitems/1/lineitem"),
        }),
    ));
    let learner = app.launch(spec).await;
    assert_eq!(learner.status, StatusCode::OK, "{}", learner.body);
    submit(&app, &learner, "andra", "andra-svar").await;
    let mut row = None;
    for _ in 0..200 {
        row = entity::score_outbox::Entity::find()
            .filter(entity::score_outbox::Column::State.eq("not_gradable"))
            .one(&app.db)
            .await
            .unwrap();
        if row.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let row = row.expect("the score was refused as not gradable");
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.contains("inside")),
        "{row:?}"
    );
    assert_eq!(service.hits.load(Ordering::SeqCst), 0);
}

async fn webhook_deliveries_follow_no_redirect(backend: Backend) {
    let app: TestApp = spawn_app(backend).await;
    import_small_course(&app).await;
    let service = inside().await;
    let row = store::organisations::ensure(&app.db, "Umeå kommun", crate::helpers::wall_unix())
        .await
        .unwrap();
    coursebridge::admin::directory::change_organisation(
        &app.db,
        &coursebridge::admin::access::Principal::cli(),
        &row.name,
        coursebridge::admin::directory::OrganisationSettings {
            webhook_url: Some(Some(service.base.join("moved").unwrap().to_string())),
            retention: None,
        },
    )
    .await
    .unwrap();
    let learner = app.launch(LaunchSpec::learner("hook-moved")).await;
    submit(&app, &learner, "andra", "andra-svar").await;
    let mut delivery = None;
    for _ in 0..200 {
        delivery = entity::webhook_delivery::Entity::find()
            .one(&app.db)
            .await
            .unwrap()
            .filter(|d| d.attempts > 0);
        if delivery.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivery = delivery.expect("a delivery was tried");
    assert_ne!(delivery.state, "sent");
    assert!(
        delivery
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("307")),
        "{delivery:?}"
    );
    assert!(service.hits.load(Ordering::SeqCst) >= 1);
    assert_eq!(service.target_hits.load(Ordering::SeqCst), 0);
}

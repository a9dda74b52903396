//! What strangers can make the service do is bounded: forms reachable without a session are
//! rate-limited per client, and a body over the limit gets a page that says so.
use entity::accessibility_feedback;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::{Backend, spawn_app_with};

on_both_databases!(
    public_forms_past_the_limit_answer_429_in_the_page_language,
    a_body_over_the_limit_answers_413_with_a_page,
);

async fn public_forms_past_the_limit_answer_429_in_the_page_language(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.public_form_requests_per_minute = 3).await;
    let feedback = app.base.join("accessibility").unwrap();
    let send = |lang: &'static str| {
        app.client
            .post(feedback.clone())
            .header("accept-language", lang)
            .form(&[
                ("message", "Knappen syns inte med skärmläsare"),
                ("page", "/course"),
            ])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(send("sv").await.unwrap().status(), StatusCode::SEE_OTHER);
    }
    let refused = send("sv").await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let page = refused.text().await.unwrap();
    assert!(page.contains("RATE_LIMITED"), "{page}");
    assert!(page.contains("för många förfrågningar"), "{page}");
    let english = send("en").await.unwrap();
    assert_eq!(english.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(english.text().await.unwrap().contains("Too many requests"));
    // Nothing past the limit was stored.
    assert_eq!(
        accessibility_feedback::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        3
    );
    // The registration pages share the limit; reading the statement and launching do not.
    let register = app.get("/lti/register").await;
    assert_eq!(register.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.get("/accessibility").await.status, StatusCode::OK);
    app.launch(coursebridge::devplatform::LaunchSpec::learner("limited-1"))
        .await
        .assert_landed_as("deltagare");
}

async fn a_body_over_the_limit_answers_413_with_a_page(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    // Just over the 256 KiB limit: a client that sent far more may see the connection close
    // before it reads the answer, since the server stops reading at the limit.
    let big = "x".repeat(260 * 1024);
    for path in ["accessibility", "lti/launch", "lti/login"] {
        let answer = app
            .client
            .post(app.base.join(path).unwrap())
            .form(&[("message", big.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let page = answer.text().await.unwrap();
        assert!(
            page.contains("BODY_TOO_LARGE"),
            "{path}: {}",
            &page[..page.len().min(2000)]
        );
        assert!(page.contains("större än tjänsten tar emot"), "{path}");
    }
    assert_eq!(
        accessibility_feedback::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

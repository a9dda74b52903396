//! The development platform's service side, driven by the tool's own client-credentials code.
use coursebridge::{
    lti::{self, keys::SigningKey, token},
    store,
};
use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_app};

on_both_databases!(platform_services_accept_the_tools_signed_assertion);

async fn platform_services_accept_the_tools_signed_assertion(backend: Backend) {
    let app = spawn_app(backend).await;
    for n in 1..=5 {
        app.platform.add_member(json!({
            "user_id": format!("member-{n}"),
            "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            "status": "Active",
        }));
    }
    let stored = store::tool_key::current(&app.db).await.unwrap().unwrap();
    let key = SigningKey::from_pem(&stored.kid, &stored.private_key_pem).unwrap();
    let http =
        coursebridge::outbound::Outbound::new(std::time::Duration::from_secs(5), true).unwrap();
    let token_url = app.platform.url("token").to_string();
    let scopes = [
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    ];
    let granted = token::request_access_token(
        &http,
        &token_url,
        &token_url,
        app.platform.client_id(),
        &key,
        &scopes,
        crate::helpers::wall_unix(),
    )
    .await
    .unwrap();
    assert!(granted.token_type.eq_ignore_ascii_case("bearer"));

    // A key the tool does not publish is refused.
    let foreign =
        SigningKey::from_pem(&stored.kid, &lti::keys::generate_private_key_pem().unwrap()).unwrap();
    let refused = token::request_access_token(
        &http,
        &token_url,
        &token_url,
        app.platform.client_id(),
        &foreign,
        &scopes,
        crate::helpers::wall_unix(),
    )
    .await;
    assert!(
        matches!(refused, Err(token::TokenError::Refused { status: 401, .. })),
        "{refused:?}"
    );

    // The roster comes in pages linked with rel="next".
    let mut next = Some(app.platform.url("memberships").to_string());
    let mut members = Vec::new();
    let mut pages = 0;
    while let Some(url) = next.take() {
        let response = http
            .get("url", &url)
            .unwrap()
            .bearer_auth(&granted.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        next = response
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix('<'))
            .and_then(|v| v.split_once(">; rel=\"next\""))
            .map(|(url, _)| url.to_owned());
        let body: Value = response.json().await.unwrap();
        members.extend(body["members"].as_array().unwrap().clone());
        pages += 1;
    }
    assert_eq!((members.len(), pages), (5, 3));

    // A score reaches a Moodle-shaped line item URL (with a query string); without a valid token
    // it is refused.
    let score = json!({
        "userId": "member-1", "scoreGiven": 1, "scoreMaximum": 6,
        "activityProgress": "InProgress", "gradingProgress": "FullyGraded",
        "timestamp": "2026-11-29T08:00:00.000Z",
    });
    let line_item = app
        .platform
        .create_line_item(json!({"label": "Kursen", "scoreMaximum": 6.0}));
    assert!(
        line_item.ends_with("/lineitems/1/lineitem?type_id=1"),
        "{line_item}"
    );
    let unauthorised = lti::ags::post_score(&http, "not-a-token", &line_item, &score).await;
    assert!(
        matches!(
            unauthorised,
            Err(lti::ags::AgsError::Status { status: 401, .. })
        ),
        "{unauthorised:?}"
    );
    lti::ags::post_score(&http, &granted.access_token, &line_item, &score)
        .await
        .unwrap();
    let received = app.platform.received_scores();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["userId"], "member-1");
    assert_eq!(received[0]["lineItem"], "1");
}

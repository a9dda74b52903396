//! Deep Linking 2.0: an instructor picks parts of the course in the tool, the choice goes back to
//! the LMS as a signed response the development platform verifies against the tool's JWKS.
use coursebridge::{devplatform::LaunchSpec, lti::claims};
use serde_json::{Value, json};

use crate::helpers::{Answer, Backend, TestApp, spawn_app, token_of};

on_both_databases!(
    an_instructor_places_modules_with_line_items_and_the_platform_accepts_the_response,
    the_course_fraction_mode_gives_the_overview_its_gradebook_column,
    a_platform_that_takes_one_item_gets_radio_buttons_and_one_item,
    deep_linking_is_refused_to_participants_without_links_and_with_a_forged_picker,
    placed_links_open_their_module_and_self_assessment,
);

/// The `value` of the first input named `name`, unescaped.
fn input_value(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no input {name}: {body}"))
        + marker.len();
    body[at..at + body[at..].find('"').unwrap()].replace("&amp;", "&")
}

fn form_action(body: &str, testid: &str) -> String {
    let at = body.find(&format!("data-testid=\"{testid}\"")).unwrap();
    let start = body[..at].rfind("action=\"").unwrap() + "action=\"".len();
    body[start..start + body[start..].find('"').unwrap()].replace("&amp;", "&")
}

async fn choose(app: &TestApp, picker: &Answer, items: &[&str]) -> Answer {
    let token = input_value(&picker.body, "dl");
    let mut fields = vec![("dl", token.as_str())];
    fields.extend(items.iter().map(|item| ("item", *item)));
    app.post_form(&form_action(&picker.body, "deep-linking-form"), &fields)
        .await
}

/// Posts the auto-posted return form to the platform, as the browser would, and returns the
/// claims the platform accepted.
async fn hand_to_platform(app: &TestApp, returned: &Answer) -> Value {
    assert_eq!(returned.status.as_u16(), 200, "{}", returned.body);
    let action = form_action(&returned.body, "deep-linking-return");
    assert_eq!(action, app.platform.url("deep-linking/return").as_str());
    assert!(returned.body.contains("assets/autopost.js"));
    let jwt = input_value(&returned.body, "JWT");
    let accepted = app
        .client
        .post(action)
        .form(&[("JWT", jwt.as_str())])
        .send()
        .await
        .unwrap();
    let status = accepted.status();
    let text = accepted.text().await.unwrap();
    assert_eq!(status.as_u16(), 200, "the platform refused: {text}");
    app.platform.deep_linking_responses().pop().unwrap()
}

fn items(claims: &Value) -> Vec<Value> {
    claims[coursebridge::lti::deep_linking::CONTENT_ITEMS]
        .as_array()
        .unwrap()
        .clone()
}

async fn an_instructor_places_modules_with_line_items_and_the_platform_accepts_the_response(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.set_grade_mode("per_module").await;
    let picker = app
        .launch(app.platform.deep_linking_request("dl-teacher"))
        .await;
    assert_eq!(picker.status.as_u16(), 200, "{}", picker.body);
    assert!(
        picker
            .body
            .contains("<h1>Välj innehåll att lägga till i kursen</h1>")
    );
    assert_eq!(picker.body.matches("type=\"checkbox\"").count(), 1 + 6 + 2);
    assert!(picker.body.contains("<legend>Kursens delar</legend>"));

    let returned = choose(&app, &picker, &["course", "m:ledarskap", "a:baseline"]).await;
    let claims = hand_to_platform(&app, &returned).await;
    assert_eq!(claims["iss"], app.platform.client_id());
    assert_eq!(claims["aud"], app.platform.issuer());
    assert_eq!(claims[claims::DEPLOYMENT_ID], "deployment-1");
    assert_eq!(
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"],
        "dev-platform-selection-1"
    );
    let items = items(&claims);
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|item| item["type"] == "ltiResourceLink"));
    assert_eq!(items[0]["title"], "Leda digital omställning – demokurs");
    assert!(
        items[0].get("lineItem").is_none(),
        "per module: no course column"
    );
    assert_eq!(items[1]["custom"]["module"], "ledarskap");
    assert_eq!(
        items[1]["lineItem"],
        json!({"scoreMaximum": 1.0, "label": items[1]["title"], "resourceId": "ledarskap", "tag": "module"})
    );
    assert_eq!(items[2]["custom"]["assessment"], "baseline");
    assert!(items[2].get("lineItem").is_none());
}

async fn the_course_fraction_mode_gives_the_overview_its_gradebook_column(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = app.platform.deep_linking_request("dl-teacher-2");
    spec.locale = Some("en".into());
    let picker = app.launch(spec).await;
    assert!(
        picker
            .body
            .contains("<h1>Choose content to add to the course</h1>")
    );
    let returned = choose(&app, &picker, &["course", "m:mobilisering"]).await;
    assert!(
        returned
            .body
            .contains("2 links are sent to the learning platform.")
    );
    let items = items(&hand_to_platform(&app, &returned).await);
    assert_eq!(
        items[0]["lineItem"],
        json!({"scoreMaximum": 6.0, "label": "Leading digital change – demo course",
               "resourceId": "course", "tag": "completion"})
    );
    assert!(items[1].get("lineItem").is_none());
}

async fn a_platform_that_takes_one_item_gets_radio_buttons_and_one_item(backend: Backend) {
    let app = spawn_app(backend).await;
    let spec = app.platform.deep_linking_request("dl-teacher-3").set(
        claims::DEEP_LINKING_SETTINGS,
        json!({
            "deep_link_return_url": app.platform.url("deep-linking/return").as_str(),
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe"],
        }),
    );
    let picker = app.launch(spec).await;
    assert_eq!(picker.body.matches("type=\"radio\"").count(), 9);
    assert!(!picker.body.contains("type=\"checkbox\""));
    let two = choose(&app, &picker, &["m:ledarskap", "m:mobilisering"]).await;
    assert_eq!(two.status.as_u16(), 400);
    let none = choose(&app, &picker, &[]).await;
    assert_eq!(none.status.as_u16(), 422);
    assert!(none.body.contains("Välj minst en del av kursen."));
    let unknown = choose(&app, &picker, &["m:no-such-module"]).await;
    assert_eq!(unknown.status.as_u16(), 400);
    let one = choose(&app, &picker, &["m:ledarskap"]).await;
    let claims = hand_to_platform(&app, &one).await;
    assert_eq!(items(&claims).len(), 1);
    assert!(
        claims
            .get("https://purl.imsglobal.org/spec/lti-dl/claim/data")
            .is_none(),
        "no data sent, none echoed"
    );
}

async fn deep_linking_is_refused_to_participants_without_links_and_with_a_forged_picker(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let mut learner = LaunchSpec::learner("dl-learner");
    learner.message_type = "LtiDeepLinkingRequest".into();
    let refused = app.launch(learner).await;
    assert_eq!(refused.status.as_u16(), 403, "{}", refused.body);

    let files_only = app.platform.deep_linking_request("dl-teacher-4").set(
        claims::DEEP_LINKING_SETTINGS,
        json!({
            "deep_link_return_url": app.platform.url("deep-linking/return").as_str(),
            "accept_types": ["file", "html"],
        }),
    );
    let unsupported = app.launch(files_only).await;
    assert_eq!(unsupported.status.as_u16(), 400);
    assert!(
        unsupported.body.contains("ltiResourceLink"),
        "{}",
        unsupported.body
    );

    // A session token is not a picker token, and a changed picker token is refused.
    let course = app.launch(LaunchSpec::instructor("dl-teacher-5")).await;
    let session = token_of(&course.body);
    let forged = app
        .post_form(
            "/lti/deep-linking",
            &[("dl", session.as_str()), ("item", "course")],
        )
        .await;
    assert_eq!(forged.status.as_u16(), 401);
    let picker = app
        .launch(app.platform.deep_linking_request("dl-teacher-6"))
        .await;
    let mut token = input_value(&picker.body, "dl");
    token.insert(token.len() / 2, 'x');
    let tampered = app
        .post_form(
            "/lti/deep-linking",
            &[("dl", token.as_str()), ("item", "course")],
        )
        .await;
    assert_eq!(tampered.status.as_u16(), 401);
    assert!(app.platform.deep_linking_responses().is_empty());
}

async fn placed_links_open_their_module_and_self_assessment(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut custom = serde_json::Map::new();
    custom.insert("assessment".into(), json!("baseline"));
    let mut spec = LaunchSpec::learner("placed-1");
    spec.custom = custom;
    let assessment = app.launch(spec).await;
    assert_eq!(assessment.status.as_u16(), 200);
    assert!(
        assessment
            .body
            .contains("<h1>Självskattning: baslinje</h1>"),
        "{}",
        assessment.body
    );
}

//! Cohorts as course runs for a region: made on the command line and in the API, LMS courses of
//! two platforms linked by an administrator before their first launch, by a link's `cohort`
//! parameter and by an instructor typing the code; a person's organisation from the LMS's
//! `kommun`, their own choice, or an administrator's placement, which wins.
use coursebridge::{devplatform::LaunchSpec, store};
use entity::{completion_record, context, deployment, lti_user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    grades::{import_small_course, submit},
    helpers::{Backend, TestApp, link_containing, spawn_app, token_of, wall_unix},
};

on_both_databases!(
    lms_courses_of_two_platforms_join_one_cohort_by_link_parameter_and_code,
    a_regional_lms_course_puts_each_person_in_their_own_municipality,
);

const UMEA: &str = "Umeå kommun";
const SKELLEFTEA: &str = "Skellefteå kommun";
const REGION: &str = "Region Västerbotten";

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `cohort create` on the command line: (id, code).
fn create_cohort(app: &TestApp, version_id: i64) -> (i64, String) {
    let version = format!("#{version_id}");
    let printed = stdout(&app.cli([
        "cohort",
        "create",
        "--name",
        "Att leda digital omställning HT27",
        "--course-version",
        &version,
        "--starts",
        "2027-09-01",
        "--ends",
        "2028-01-31",
        "--organisation",
        UMEA,
        "--organisation",
        SKELLEFTEA,
    ]));
    // "cohort 3 created, code ABCD-EFGH"
    let words: Vec<&str> = printed.split_whitespace().collect();
    assert_eq!(words[0], "cohort", "{printed}");
    (words[1].parse().unwrap(), words[4].to_owned())
}

async fn small_course_version(app: &TestApp) -> i64 {
    import_small_course(app).await;
    store::course::latest(&app.db).await.unwrap().unwrap().id
}

async fn context_by_lti_id(app: &TestApp, lti_context_id: &str) -> Vec<context::Model> {
    context::Entity::find()
        .filter(context::Column::LtiContextId.eq(lti_context_id))
        .all(&app.db)
        .await
        .unwrap()
}

fn in_course(sub: &str, context_id: &str, role: LaunchSpec) -> LaunchSpec {
    let mut spec = role;
    spec.sub = sub.to_owned();
    spec.context = Some((
        context_id.to_owned(),
        context_id.to_uppercase(),
        format!("Kurs {context_id}"),
    ));
    spec
}

async fn api(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = app.base.join(path).unwrap();
    let mut request = match method {
        "GET" => app.client.get(url),
        _ => app.client.post(url),
    }
    .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn system_token(app: &TestApp) -> String {
    let now = wall_unix();
    coursebridge::admin::tokens::create(
        &app.db,
        coursebridge::admin::access::Scope::Admin,
        None,
        "test",
        now + 3600,
        now,
    )
    .await
    .unwrap()
    .secret
}

async fn lms_courses_of_two_platforms_join_one_cohort_by_link_parameter_and_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let version = small_course_version(&app).await;
    let (cohort, code) = create_cohort(&app, version);

    // A second LMS, Skellefteå's; its course is linked before anyone launched it.
    let skelleftea = coursebridge::devplatform::DevPlatform::start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        "skelleftea-client",
        "deployment-s",
        coursebridge::devplatform::ToolUrls::below(&app.base).unwrap(),
    )
    .await
    .unwrap();
    let registered = store::platform::insert(&app.db, skelleftea.registration(), wall_unix())
        .await
        .unwrap();
    store::deployment::add(
        &app.db,
        registered.id,
        "deployment-s",
        Some(SKELLEFTEA.into()),
        None,
        wall_unix(),
    )
    .await
    .unwrap();
    let issuer = skelleftea.registration().issuer.clone();
    let cohort_arg = cohort.to_string();
    let linked = app.cli([
        "cohort",
        "link",
        "--cohort",
        &cohort_arg,
        "--issuer",
        &issuer,
        "--client-id",
        "skelleftea-client",
        "--context-id",
        "ctx-skelleftea",
    ]);
    assert!(stdout(&linked).contains("is linked to cohort"));
    let learner = app
        .launch_via(
            &skelleftea,
            in_course("s-learner", "ctx-skelleftea", LaunchSpec::learner("x")),
        )
        .await;
    assert_eq!(learner.status.as_u16(), 200, "{}", learner.body);
    let joined = context_by_lti_id(&app, "ctx-skelleftea").await;
    assert_eq!(
        joined[0].cohort_id,
        Some(cohort),
        "linked before its first launch"
    );
    assert_eq!(
        store::course::pinned(&app.db, joined[0].id).await.unwrap(),
        Some(version),
        "it runs the cohort's course version"
    );

    // Umeå's LMS sends the code, typed in lower case, as the link's custom parameter.
    let mut spec = in_course("u-teacher", "ctx-umea", LaunchSpec::instructor("x"));
    spec.custom
        .insert("cohort".into(), json!(code.to_lowercase()));
    let teacher = app.launch(spec).await;
    assert_eq!(teacher.status.as_u16(), 200, "{}", teacher.body);
    assert!(
        teacher.body.contains("Att leda digital omställning HT27"),
        "{}",
        teacher.body
    );
    assert_eq!(
        context_by_lti_id(&app, "ctx-umea").await[0].cohort_id,
        Some(cohort)
    );

    // A third course: the instructor types a wrong code, then the right one.
    let third = app
        .launch(in_course(
            "t-teacher",
            "ctx-third",
            LaunchSpec::instructor("x"),
        ))
        .await;
    let action = link_containing(&third.body, "/instructor/cohort?session=");
    let wrong = app.post_form(&action, &[("code", "AAAA-BBBB")]).await;
    assert_eq!(wrong.status.as_u16(), 303);
    let shown = app.get(wrong.headers["location"].to_str().unwrap()).await;
    assert!(
        shown.body.contains("Ingen kursomgång har den koden"),
        "{}",
        shown.body
    );
    assert_eq!(
        context_by_lti_id(&app, "ctx-third").await[0].cohort_id,
        None
    );
    let right = app
        .post_form(&action, &[("code", &code.replace('-', " "))])
        .await;
    let shown = app.get(right.headers["location"].to_str().unwrap()).await;
    assert!(
        shown.body.contains("LMS-kursen ingår nu i kursomgången"),
        "{}",
        shown.body
    );
    assert_eq!(
        context_by_lti_id(&app, "ctx-third").await[0].cohort_id,
        Some(cohort)
    );

    // A participant cannot join a course to a cohort, whatever they post.
    let learner_token = token_of(
        &app.launch(in_course("p-4", "ctx-fourth", LaunchSpec::learner("x")))
            .await
            .body,
    );
    let refused = app
        .post_form(
            &format!("/instructor/cohort?session={learner_token}"),
            &[("code", &code)],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403);
    assert_eq!(
        context_by_lti_id(&app, "ctx-fourth").await[0].cohort_id,
        None
    );

    // The API lists the run with its three LMS courses; a course stays in its run.
    let token = system_token(&app).await;
    let (status, runs) = api(&app, "GET", "api/v1/course-runs", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(runs[0]["code"], code.as_str());
    assert_eq!(runs[0]["lms_courses"].as_array().unwrap().len(), 3);
    assert_eq!(runs[0]["participants"], 1);
    assert_eq!(runs[0]["organisations"], json!([SKELLEFTEA, UMEA]));
    let (status, other) = api(
        &app,
        "POST",
        "api/v1/course-runs",
        &token,
        Some(json!({ "name": "Vårens omgång", "course_version": format!("#{version}") })),
    )
    .await;
    assert_eq!(status, 201, "{other}");
    let other_id = other["id"].as_i64().unwrap();
    let umea_course = context_by_lti_id(&app, "ctx-umea").await[0].id;
    let (status, problem) = api(
        &app,
        "POST",
        &format!("api/v1/course-runs/{other_id}/lms-courses"),
        &token,
        Some(json!({ "lms_course": umea_course })),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    let (status, _) = api(
        &app,
        "POST",
        &format!("api/v1/course-runs/{other_id}/lms-courses"),
        &token,
        Some(json!({ "lms_course": umea_course, "context_id": "x" })),
    )
    .await;
    assert_eq!(status, 400);
    let (_, lms_courses) = api(&app, "GET", "api/v1/cohorts", &token, None).await;
    let umea = lms_courses
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["context_id"] == "ctx-umea")
        .unwrap();
    assert_eq!(umea["course_run"], cohort);
    let bad = app.cli([
        "cohort",
        "create",
        "--name",
        "X",
        "--course-version",
        "9.9.9",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no stored course version"));
}

async fn person(app: &TestApp, sub: &str) -> lti_user::Model {
    lti_user::Entity::find()
        .filter(lti_user::Column::Sub.eq(sub))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn organisation_of(app: &TestApp, sub: &str) -> Option<String> {
    let id = person(app, sub).await.id;
    store::organisations::of_person(&app.db, id)
        .await
        .unwrap()
        .map(|row| row.organisation)
}

fn learner_from(sub: &str, kommun: Option<&str>) -> LaunchSpec {
    let mut spec = LaunchSpec::learner(sub);
    if let Some(kommun) = kommun {
        spec.custom.insert("kommun".into(), json!(kommun));
    }
    spec
}

async fn a_regional_lms_course_puts_each_person_in_their_own_municipality(backend: Backend) {
    let app = spawn_app(backend).await;
    // The region's own LMS: its deployment belongs to the region, not to a municipality.
    let row = deployment::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut region: deployment::ActiveModel = row.into();
    region.organisation = Set(Some(REGION.to_owned()));
    region.update(&app.db).await.unwrap();
    let version = small_course_version(&app).await;
    let (cohort, code) = create_cohort(&app, version);
    let mut first = LaunchSpec::instructor("region-teacher");
    first.custom.insert("cohort".into(), json!(code));
    assert_eq!(app.launch(first).await.status.as_u16(), 200);
    let linked = context::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(linked.cohort_id, Some(cohort));

    // The LMS names the municipality: "Umeå" names "Umeå kommun", in any case.
    let umea = app.launch(learner_from("from-umea", Some("umeå"))).await;
    assert_eq!(umea.status.as_u16(), 200, "{}", umea.body);
    assert!(!umea.body.contains("Vilken organisation hör du till?"));
    assert_eq!(
        organisation_of(&app, "from-umea").await.as_deref(),
        Some(UMEA)
    );
    let skelleftea = app
        .launch(learner_from("from-skelleftea", Some("Skellefteå kommun")))
        .await;
    assert_eq!(skelleftea.status.as_u16(), 200);
    assert_eq!(
        organisation_of(&app, "from-skelleftea").await.as_deref(),
        Some(SKELLEFTEA)
    );

    // Without it (or with a name nobody knows), the participant is asked, once.
    let asked = app.launch(learner_from("unnamed", Some("Atlantis"))).await;
    assert_eq!(asked.status.as_u16(), 200);
    assert!(
        asked.body.contains("Vilken organisation hör du till?"),
        "{}",
        asked.body
    );
    assert!(asked.body.contains(&format!("value=\"{SKELLEFTEA}\"")));
    let action = link_containing(&asked.body, "/course/organisation?session=");
    let nothing = app.post_form(&action, &[]).await;
    assert_eq!(nothing.status.as_u16(), 422);
    assert!(nothing.body.contains("data-testid=\"error-summary\""));
    assert!(nothing.body.contains("href=\"#organisation-0\""));
    let foreign = app.post_form(&action, &[("organisation", REGION)]).await;
    assert_eq!(
        foreign.status.as_u16(),
        422,
        "only the cohort's organisations"
    );
    assert_eq!(organisation_of(&app, "unnamed").await, None);
    let chosen = app
        .post_form(&action, &[("organisation", SKELLEFTEA)])
        .await;
    assert_eq!(chosen.status.as_u16(), 303);
    assert!(
        chosen.headers["location"]
            .to_str()
            .unwrap()
            .contains("/course?session=")
    );
    assert_eq!(
        organisation_of(&app, "unnamed").await.as_deref(),
        Some(SKELLEFTEA)
    );
    let again = app.launch(learner_from("unnamed", None)).await;
    assert!(!again.body.contains("Vilken organisation hör du till?"));

    // The completion record carries the person's municipality and the course run.
    submit(&app, &umea, "andra", "andra-svar").await;
    let umea_id = person(&app, "from-umea").await.id;
    let record = completion_record::Entity::find()
        .filter(completion_record::Column::UserId.eq(umea_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.organisation.as_deref(), Some(UMEA));
    let token = system_token(&app).await;
    let (_, page) = api(&app, "GET", "api/v1/completions", &token, None).await;
    let listed = &page["records"][0];
    assert_eq!(listed["organisation"], UMEA, "{page}");
    assert_eq!(listed["cohort"]["course_run"]["id"], cohort);

    // The LMS was wrong: an administrator's placement wins, now and at every later launch, and the
    // record moves with a new change number.
    let placed = app.cli([
        "cohort",
        "place",
        "--person",
        &umea_id.to_string(),
        "--organisation",
        SKELLEFTEA,
    ]);
    stdout(&placed);
    app.launch(learner_from("from-umea", Some("Umeå"))).await;
    assert_eq!(
        organisation_of(&app, "from-umea").await.as_deref(),
        Some(SKELLEFTEA)
    );
    let moved = completion_record::Entity::find_by_id(record.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.organisation.as_deref(), Some(SKELLEFTEA));
    assert!(moved.sequence > record.sequence);
    let unknown = app.cli([
        "cohort",
        "place",
        "--person",
        &umea_id.to_string(),
        "--organisation",
        "Atlantis",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
}

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
    group_answers_and_contact_persons_follow_each_person_s_municipality,
    a_course_leader_sees_and_reviews_every_participant_of_the_run,
    administrators_create_runs_and_link_lms_courses_on_the_admin_page,
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
pub(crate) fn create_cohort(app: &TestApp, version_id: i64) -> (i64, String) {
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

pub(crate) fn in_course(sub: &str, context_id: &str, role: LaunchSpec) -> LaunchSpec {
    let mut spec = role;
    spec.sub = sub.to_owned();
    spec.context = Some((
        context_id.to_owned(),
        context_id.to_uppercase(),
        format!("Kurs {context_id}"),
    ));
    spec
}

pub(crate) async fn api(
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

pub(crate) async fn system_token(app: &TestApp) -> String {
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
    let skelleftea = second_lms(&app, "skelleftea-client", SKELLEFTEA).await;
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

    // A launched course with answers in another version is not linked by its LTI id: it is
    // refused as a whole, and stays a cohort of its own on its own version.
    let other_version = import_course_with_assessment(&app).await;
    let old = app
        .launch(in_course("o-1", "ctx-old", LaunchSpec::learner("x")))
        .await;
    submit(&app, &old, "forsta", "forsta-svar").await;
    let registration = app.platform.registration();
    let lms_platform =
        store::platform::find(&app.db, &registration.issuer, &registration.client_id)
            .await
            .unwrap()
            .unwrap();
    let refused = app.cli([
        "cohort",
        "link",
        "--cohort",
        &cohort_arg,
        "--issuer",
        &registration.issuer,
        "--client-id",
        &registration.client_id,
        "--context-id",
        "ctx-old",
    ]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let kept = &context_by_lti_id(&app, "ctx-old").await[0];
    assert_eq!(kept.cohort_id, None);
    assert_eq!(
        store::course::pinned(&app.db, kept.id).await.unwrap(),
        Some(other_version)
    );
    assert_eq!(
        store::cohorts::linked_before_launch(&app.db, lms_platform.id, "ctx-old")
            .await
            .unwrap(),
        None
    );
}

pub(crate) async fn person(app: &TestApp, sub: &str) -> lti_user::Model {
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

/// Makes the development LMS's deployment belong to `organisation` (a region's own LMS, say).
pub(crate) async fn set_deployment_organisation(app: &TestApp, organisation: &str) {
    let row = deployment::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut changed: deployment::ActiveModel = row.into();
    changed.organisation = Set(Some(organisation.to_owned()));
    changed.update(&app.db).await.unwrap();
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
    set_deployment_organisation(&app, REGION).await;
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

pub(crate) fn named(mut spec: LaunchSpec, full: &str) -> LaunchSpec {
    let (given, family) = full.split_once(' ').unwrap();
    spec.name = Some((full.into(), given.into(), family.into()));
    spec
}

async fn group_answer_page(
    app: &TestApp,
    launch: &crate::helpers::Answer,
) -> crate::helpers::Answer {
    app.get(&link_containing(
        &launch.body,
        "/course/m/ledarskap?session=",
    ))
    .await
}

async fn save_group_answer(app: &TestApp, page: &crate::helpers::Answer, text: &str) -> u16 {
    app.post_form(
        &link_containing(&page.body, "/t/gemensam-mening?session="),
        &[("version", "0"), ("answer_0", text), ("action", "save")],
    )
    .await
    .status
    .as_u16()
}

async fn group_answers_and_contact_persons_follow_each_person_s_municipality(backend: Backend) {
    let app = spawn_app(backend).await;
    set_deployment_organisation(&app, REGION).await;
    let demo = store::course::latest(&app.db).await.unwrap().unwrap();
    let (_, code) = create_cohort(&app, demo.id);
    let mut teacher = LaunchSpec::instructor("region-teacher");
    teacher.custom.insert("cohort".into(), json!(code));
    assert_eq!(app.launch(teacher.clone()).await.status.as_u16(), 200);

    let anna = app
        .launch(named(learner_from("anna", Some("Umeå")), "Anna Umeå"))
        .await;
    let bo = app
        .launch(named(learner_from("bo", Some("Umeå")), "Bo Umeå"))
        .await;
    let sara = app
        .launch(named(
            learner_from("sara", Some("Skellefteå")),
            "Sara Skellefteå",
        ))
        .await;

    // Umeå's two share one group answer; Skellefteå's is another, in the same LMS course.
    let anna_page = group_answer_page(&app, &anna).await;
    assert_eq!(
        save_group_answer(&app, &anna_page, "Umeås gemensamma mening.").await,
        303
    );
    let bo_page = group_answer_page(&app, &bo).await;
    assert!(
        bo_page
            .body
            .contains(">Umeås gemensamma mening.</textarea>")
    );
    let sara_page = group_answer_page(&app, &sara).await;
    assert!(
        !sara_page.body.contains("Umeås gemensamma mening"),
        "another municipality's answer"
    );
    assert_eq!(
        save_group_answer(&app, &sara_page, "Skellefteås gemensamma mening.").await,
        303,
        "a group answer of her own municipality, not a conflict with Umeå's"
    );
    assert!(
        group_answer_page(&app, &anna)
            .await
            .body
            .contains(">Umeås gemensamma mening.</textarea>")
    );

    // The instructor sees a group per municipality, and filters on one.
    let dashboard = app.launch(teacher).await;
    assert!(
        dashboard
            .body
            .contains("<strong>Umeå kommun</strong>: Anna Umeå, Bo Umeå"),
        "{}",
        dashboard.body
    );
    assert!(
        dashboard
            .body
            .contains("<strong>Skellefteå kommun</strong>: Sara Skellefteå")
    );
    let token = token_of(&dashboard.body);
    let filtered = app
        .get(&format!(
            "/instructor?session={token}&group=o%3ASkellefte%C3%A5%20kommun"
        ))
        .await;
    assert_eq!(filtered.status.as_u16(), 200);
    let grid = &filtered.body[filtered.body.find("data-testid=\"grid\"").unwrap()..];
    let grid = &grid[..grid.find("</table>").unwrap()];
    assert!(grid.contains("Sara Skellefteå"));
    assert!(!grid.contains("Anna Umeå"), "{grid}");

    // Skellefteå's contact person follows Sara in the regional course, and nobody else.
    let platform = app.platform.registration();
    stdout(&app.cli([
        "contact",
        "grant",
        "--issuer",
        &platform.issuer,
        "--client-id",
        &platform.client_id,
        "--sub",
        "contact-skelleftea",
        "--organisation",
        SKELLEFTEA,
    ]));
    let contact = app
        .launch(named(
            learner_from("contact-skelleftea", Some("Skellefteå")),
            "Siv Kontakt",
        ))
        .await;
    let page = app
        .get(&format!(
            "/organisation?session={}",
            token_of(&contact.body)
        ))
        .await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    assert!(
        page.body.contains("<th scope=\"row\">Sara Skellefteå</th>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Anna Umeå"));
    assert!(!page.body.contains("Bo Umeå"));

    // The contact person corrects Sara's organisation for good; someone of Umeå is not theirs.
    let contact_token = token_of(&contact.body);
    let sara_id = person(&app, "sara").await.id;
    let anna_id = person(&app, "anna").await.id;
    let not_theirs = app
        .post_form(
            &format!("/organisation/place?session={contact_token}"),
            &[
                ("person", &anna_id.to_string()),
                ("organisation", SKELLEFTEA),
            ],
        )
        .await;
    assert_eq!(not_theirs.status.as_u16(), 404);
    assert_eq!(organisation_of(&app, "anna").await.as_deref(), Some(UMEA));
    let placed = app
        .post_form(
            &format!("/organisation/place?session={contact_token}"),
            &[("person", &sara_id.to_string()), ("organisation", UMEA)],
        )
        .await;
    assert_eq!(placed.status.as_u16(), 303, "{}", placed.body);
    let told = app.get(placed.headers["location"].to_str().unwrap()).await;
    assert!(
        told.body.contains("Deltagaren är flyttad."),
        "{}",
        told.body
    );
    app.launch(named(
        learner_from("sara", Some("Skellefteå")),
        "Sara Skellefteå",
    ))
    .await;
    assert_eq!(
        organisation_of(&app, "sara").await.as_deref(),
        Some(UMEA),
        "the placement wins"
    );
    let after = app
        .get(&format!("/organisation?session={contact_token}"))
        .await;
    assert!(
        !after
            .body
            .contains("<th scope=\"row\">Sara Skellefteå</th>"),
        "{}",
        after.body
    );
}

/// A second development LMS with a deployment of `organisation`.
pub(crate) async fn second_lms(
    app: &TestApp,
    client_id: &str,
    organisation: &str,
) -> coursebridge::devplatform::DevPlatform {
    let lms = coursebridge::devplatform::DevPlatform::start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        client_id,
        "deployment-2",
        coursebridge::devplatform::ToolUrls::below(&app.base).unwrap(),
    )
    .await
    .unwrap();
    let registered = store::platform::insert(&app.db, lms.registration(), wall_unix())
        .await
        .unwrap();
    store::deployment::add(
        &app.db,
        registered.id,
        "deployment-2",
        Some(organisation.into()),
        None,
        wall_unix(),
    )
    .await
    .unwrap();
    lms
}

pub(crate) async fn scores_at(
    lms: &coursebridge::devplatform::DevPlatform,
    count: usize,
) -> Vec<Value> {
    for _ in 0..300 {
        let scores = lms.received_scores();
        if scores.len() >= count {
            return scores;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "expected {count} scores, the LMS has {:?}",
        lms.received_scores()
    );
}

/// A course of one module with a reviewed reflection and the baseline self-assessment.
async fn import_course_with_assessment(app: &TestApp) -> i64 {
    let mut files = coursebridge::course::demo_files();
    files.retain(|path, _| path == "framework.toml");
    files.insert(
        "course.toml".into(),
        br#"slug = "kurs-med-skattning"
version = "1.0.0"
framework = "framework.toml"

[title]
sv = "Kurs med skattning"
en = "Course with an assessment"

[completion]
require_baseline = false
require_final = false
"#
        .to_vec(),
    );
    files.insert(
        "modules/1-forsta.md".into(),
        br#"+++
slug = "forsta"
position = 1
required = true
title = { sv = "Modul forsta", en = "Module forsta" }
workshop = { sv = "Workshop 1", en = "Workshop 1" }
+++

::: reflection
slug = "forsta-svar"
kind = "individual"
review = true
min_length = 5
[[prompts]]
sv = "Vad tar du med dig?"
en = "What do you take with you?"
:::

::: self-assessment
round = "baseline"
:::
"#
        .to_vec(),
    );
    coursebridge::admin::courses::import(
        &app.db,
        &coursebridge::admin::access::Principal::cli(),
        &files.into(),
    )
    .await
    .unwrap();
    store::course::latest(&app.db).await.unwrap().unwrap().id
}

async fn a_course_leader_sees_and_reviews_every_participant_of_the_run(backend: Backend) {
    let app = spawn_app(backend).await;
    let version = import_course_with_assessment(&app).await;
    let (cohort, code) = create_cohort(&app, version);
    let skelleftea = second_lms(&app, "skelleftea-client", SKELLEFTEA).await;

    let mut leader_spec = named(
        in_course("region-leader", "ctx-umea", LaunchSpec::instructor("x")),
        "Lena Ledare",
    );
    leader_spec.custom.insert("cohort".into(), json!(code));
    let first = app.launch(leader_spec.clone()).await;
    assert!(
        !first.body.contains("data-testid=\"leader-link\""),
        "not a leader yet"
    );
    let mut linked = LaunchSpec::instructor("s-teacher");
    linked.custom.insert("cohort".into(), json!(code));
    let s_teacher = app
        .launch_via(
            &skelleftea,
            in_course("s-teacher", "ctx-skelleftea", linked),
        )
        .await;

    let umea = app
        .launch(named(
            in_course("u-1", "ctx-umea", LaunchSpec::learner("x")),
            "Ulla Umeå",
        ))
        .await;
    let sara = app
        .launch_via(
            &skelleftea,
            named(
                in_course("s-1", "ctx-skelleftea", LaunchSpec::learner("x")),
                "Sara Skellefteå",
            ),
        )
        .await;
    submit(&app, &umea, "forsta", "forsta-svar").await;
    submit(&app, &sara, "forsta", "forsta-svar").await;

    // An instructor who leads no run is refused the run's page.
    let teacher_token = token_of(&first.body);
    app.get(&format!("/leader?session={teacher_token}"))
        .await
        .assert_refused(403, "FORBIDDEN");

    let leader_id = person(&app, "region-leader").await.id;
    stdout(&app.cli([
        "cohort",
        "add-leader",
        "--cohort",
        &cohort.to_string(),
        "--person",
        &leader_id.to_string(),
    ]));
    let dashboard = app.launch(leader_spec).await;
    // Umeå's own dashboard, as before: only Umeå's LMS course.
    assert!(dashboard.body.contains("Ulla Umeå"));
    assert!(!dashboard.body.contains("Sara Skellefteå"));
    let run = app
        .get(&link_containing(&dashboard.body, "/leader?session="))
        .await;
    assert_eq!(run.status.as_u16(), 200, "{}", run.body);
    assert!(
        run.body
            .contains("<th scope=\"row\">Ulla Umeå</th><td>Umeå kommun</td><td>Kurs ctx-umea</td>"),
        "{}",
        run.body
    );
    assert!(run.body.contains("<th scope=\"row\">Sara Skellefteå</th><td>Skellefteå kommun</td><td>Kurs ctx-skelleftea</td>"));
    let token = token_of(&dashboard.body);
    let filtered = app
        .get(&format!(
            "/leader?session={token}&organisation=Skellefte%C3%A5%20kommun"
        ))
        .await;
    let grid = &filtered.body[filtered.body.find("data-testid=\"run-grid\"").unwrap()..];
    let grid = &grid[..grid.find("</table>").unwrap()];
    assert!(grid.contains("Sara Skellefteå"));
    assert!(!grid.contains("Ulla Umeå"));

    // The same rows as CSV, for the leader's own records.
    let csv = app
        .get(&format!(
            "/leader/participants.csv?session={token}&organisation=Skellefte%C3%A5%20kommun"
        ))
        .await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        csv.body.starts_with("Deltagare,Organisation,LMS-kurs,"),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains("Sara Skellefteå,Skellefteå kommun,Kurs ctx-skelleftea,"),
        "{}",
        csv.body
    );
    assert!(!csv.body.contains("Ulla Umeå"));

    // Both answers wait in the run; the leader approves Sara's, from the other LMS.
    let waiting = &run.body[run.body.find("data-testid=\"run-waiting\"").unwrap()..];
    assert!(waiting.contains("Ulla Umeå – ") && waiting.contains("Sara Skellefteå – "));
    let sara_at = waiting.find("Sara Skellefteå – ").unwrap();
    let start = waiting[..sara_at].rfind("href=\"").unwrap() + 6;
    let review_url =
        waiting[start..start + waiting[start..].find('"').unwrap()].replace("&#38;", "&");
    assert!(review_url.contains("&course="), "{review_url}");
    let review = app.get(&review_url).await;
    assert_eq!(review.status.as_u16(), 200, "{}", review.body);
    assert!(review.body.contains("Sara Skellefteå"));
    let decided = app
        .post_form(
            &link_containing(&review.body, "course=").replace("&#38;", "&"),
            &[
                ("version", &crate::helpers::version_of(&review, "")),
                ("decision", "approve"),
                ("feedback", "Tydligt och konkret."),
            ],
        )
        .await;
    assert_eq!(decided.status.as_u16(), 303, "{}", decided.body);
    assert!(
        decided.headers["location"]
            .to_str()
            .unwrap()
            .contains("/leader?session=")
    );
    // Her score goes to her own LMS, Skellefteå's; Umeå's LMS gets nothing of hers.
    let scores = scores_at(&skelleftea, 1).await;
    assert!(scores.iter().any(|s| s["userId"] == "s-1"), "{scores:?}");
    assert!(
        app.platform
            .received_scores()
            .iter()
            .all(|s| s["userId"] != "s-1")
    );

    // Self-assessments: three people across the two LMSes. Umeå's course alone has two, fewer
    // than k = 3, and shows nothing; the run has three, and shows them.
    let third = app
        .launch(named(
            in_course("u-2", "ctx-umea", LaunchSpec::learner("x")),
            "Urban Umeå",
        ))
        .await;
    for launched in [&umea, &sara, &third] {
        baseline(&app, &token_of(&launched.body), "koordination").await;
    }
    let own = app
        .get(&format!(
            "/instructor/assessments?session={}",
            token_of(&dashboard.body)
        ))
        .await;
    assert_eq!(own.status.as_u16(), 200, "{}", own.body);
    assert!(
        own.body.contains("data-testid=\"suppressed-baseline\""),
        "{}",
        own.body
    );
    let run_id = cohort.to_string();
    let figures = app
        .get(&format!("/leader/assessments?session={token}&run={run_id}"))
        .await;
    assert_eq!(figures.status.as_u16(), 200, "{}", figures.body);
    assert!(
        figures.body.contains("3 personer har svarat."),
        "{}",
        figures.body
    );
    assert!(!figures.body.contains("data-testid=\"suppressed-baseline\""));
    let one = app
        .get(&format!(
            "/leader/assessments?session={token}&run={run_id}&organisation=Skellefte%C3%A5%20kommun"
        ))
        .await;
    assert!(
        one.body.contains("data-testid=\"suppressed-baseline\""),
        "one municipality's one answer stays withheld"
    );
    let csv = app
        .get(&format!(
            "/leader/assessments.csv?session={token}&run={run_id}"
        ))
        .await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let csv_teacher = app
        .get(&format!(
            "/leader/assessments?session={}&run={run_id}",
            token_of(&s_teacher.body)
        ))
        .await;
    assert_eq!(
        csv_teacher.status.as_u16(),
        403,
        "not for an instructor who leads no run"
    );

    // A workshop occasion for the whole run reaches a participant of the other LMS.
    let occasion = app
        .post_form(
            &format!("/leader/occasions?session={token}&run={run_id}"),
            &[
                ("module", "forsta"),
                ("date", "2027-10-05"),
                ("time", "09:30"),
                ("place", "Regionens hus, sal Norrsken"),
            ],
        )
        .await;
    assert_eq!(occasion.status.as_u16(), 303, "{}", occasion.body);
    let newcomer = app
        .launch_via(
            &skelleftea,
            named(
                in_course("s-2", "ctx-skelleftea", LaunchSpec::learner("x")),
                "Sven Skellefteå",
            ),
        )
        .await;
    let overview = app
        .get(&format!("/course?session={}", token_of(&newcomer.body)))
        .await;
    assert!(
        overview.body.contains("Regionens hus, sal Norrsken"),
        "{}",
        overview.body
    );
    let refused = app
        .post_form(
            &format!(
                "/leader/occasions?session={}&run={run_id}",
                token_of(&s_teacher.body)
            ),
            &[
                ("module", "forsta"),
                ("date", "2027-10-05"),
                ("time", "09:30"),
                ("place", "X"),
            ],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403);

    // A submission id from outside the run is not found, even for a leader.
    let outside = app
        .launch(in_course("o-1", "ctx-outside", LaunchSpec::learner("x")))
        .await;
    submit(&app, &outside, "forsta", "forsta-svar").await;
    let outside_context = context_by_lti_id(&app, "ctx-outside").await[0].id;
    let row = entity::submission::Entity::find()
        .filter(entity::submission::Column::ContextId.eq(outside_context))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let probe = app
        .get(&format!(
            "/instructor/submissions/{}?session={token}&course={outside_context}",
            row.id
        ))
        .await;
    assert_eq!(probe.status.as_u16(), 404);
}

async fn administrators_create_runs_and_link_lms_courses_on_the_admin_page(backend: Backend) {
    let app = spawn_app(backend).await;
    crate::admin::grant(&app, "region-admin", "system", None);
    let admin = app.launch(LaunchSpec::instructor("region-admin")).await;
    let token = token_of(&admin.body);
    let page = app.get(&format!("/admin/runs?session={token}")).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    assert!(page.body.contains("Ny kursomgång"));
    let action = link_containing(&page.body, "/admin/runs?session=");
    let demo = store::course::latest(&app.db).await.unwrap().unwrap();
    let version = format!("#{}", demo.id);

    // Two mistakes: both named next to their fields, what was typed kept, nothing made.
    let refused = app
        .post_form(
            &action,
            &[
                ("name", " "),
                ("course_version", &version),
                ("starts_on", "2027-09-01"),
                ("ends_on", "2027-08-01"),
                ("organisations", "Umeå kommun\nSkellefteå kommun"),
            ],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422);
    assert!(refused.body.contains("data-testid=\"error-summary\""));
    assert!(refused.body.contains("href=\"#run-name\""));
    assert!(refused.body.contains("href=\"#run-ends\""));
    assert!(
        refused
            .body
            .contains("Sista dagen kan inte vara före den första.")
    );
    assert!(
        refused
            .body
            .contains("aria-invalid=\"true\" aria-describedby=\"run-name-error\"")
    );
    assert!(
        refused
            .body
            .contains(">Umeå kommun\nSkellefteå kommun</textarea>")
    );
    assert!(
        entity::cohort::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );

    let made = app
        .post_form(
            &action,
            &[
                ("name", "Att leda digital omställning VT28"),
                ("course_version", &version),
                ("starts_on", "2028-01-15"),
                ("ends_on", "2028-06-10"),
                ("organisations", "Umeå kommun\nSkellefteå kommun\n"),
            ],
        )
        .await;
    assert_eq!(made.status.as_u16(), 303, "{}", made.body);
    let shown = app.get(made.headers["location"].to_str().unwrap()).await;
    assert!(shown.body.contains("Kursomgången är skapad"));
    let run = entity::cohort::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        shown
            .body
            .contains(&format!("data-testid=\"run-code\">{}<", run.code))
    );
    assert!(shown.body.contains("Skellefteå kommun, Umeå kommun"));

    // A launched LMS course is offered for linking, and linked.
    let course = context::Entity::find().one(&app.db).await.unwrap().unwrap();
    let link = link_containing(
        &shown.body,
        &format!("/admin/runs/{}/link?session=", run.id),
    );
    let linked = app
        .post_form(&link, &[("lms_course", &course.id.to_string())])
        .await;
    assert_eq!(linked.status.as_u16(), 303, "{}", linked.body);
    let course = context::Entity::find_by_id(course.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(course.cohort_id, Some(run.id));

    // An organisation administrator sees the runs their organisation takes part in, and cannot
    // make one.
    crate::admin::grant(&app, "norsjo-admin", "organisation", Some("Norsjö kommun"));
    let norsjo = app.launch(LaunchSpec::learner("norsjo-admin")).await;
    let norsjo_token = token_of(&norsjo.body);
    let theirs = app
        .get(&format!("/admin/runs?session={norsjo_token}"))
        .await;
    assert_eq!(theirs.status.as_u16(), 200);
    assert!(
        !theirs.body.contains(&run.code),
        "not a run Norsjö takes part in"
    );
    assert!(!theirs.body.contains("Ny kursomgång"));
    let forbidden = app
        .post_form(
            &format!("/admin/runs?session={norsjo_token}"),
            &[("name", "X"), ("course_version", &version)],
        )
        .await;
    assert_eq!(forbidden.status.as_u16(), 403);
}

/// Submits a baseline self-assessment for the session's person: `current` for every sub-area,
/// acceleration as the target.
pub(crate) async fn baseline(app: &TestApp, token: &str, current: &str) {
    let framework = coursebridge::course::load(&coursebridge::course::demo_files())
        .unwrap()
        .framework;
    let mut fields: Vec<(String, String)> = Vec::new();
    for subarea in framework.subareas {
        fields.push((format!("current_{}", subarea.slug), current.to_owned()));
        fields.push((
            format!("target_{}", subarea.slug),
            "acceleration".to_owned(),
        ));
    }
    fields.push(("action".into(), "submit".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let done = app
        .post_form(
            &format!("/course/assessment/baseline?session={token}"),
            &pairs,
        )
        .await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.body);
}

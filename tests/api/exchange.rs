//! Exchange between municipalities in one course run across two LMSes: a group shares its
//! submitted answer, the other municipality reads it once its own group has submitted, comments,
//! a course leader pins it for the workshop, the group withdraws it; nobody outside the run reads
//! it; erasing a commenter removes their comments.
use coursebridge::{devplatform::LaunchSpec, store};
use serde_json::json;

use crate::{
    cohorts::{
        api, create_cohort, in_course, named, person, second_lms, set_deployment_organisation,
        system_token,
    },
    course::{module_page, submit_assessment},
    helpers::{Answer, Backend, TestApp, link_containing, spawn_app, spawn_app_with, token_of},
};

on_both_databases!(
    group_answers_cross_municipalities_inside_the_run_and_nowhere_else,
    organisations_compare_with_the_run_only_from_k_respondents,
);

const UMEA_ANSWER: &str = "Omställningen gör att Umeås invånare får service på sina villkor.";

/// The group task's form on the module page, submitted with `text`.
async fn submit_group_answer(app: &TestApp, launch: &Answer, text: &str) -> Answer {
    let module = app
        .get(&link_containing(
            &launch.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    let posted = app
        .post_form(
            &link_containing(&module.body, "/t/gemensam-mening?session="),
            &[("version", "0"), ("answer_0", text), ("action", "submit")],
        )
        .await;
    assert_eq!(posted.status.as_u16(), 303, "{}", posted.body);
    app.get(posted.headers["location"].to_str().unwrap()).await
}

/// A course run of the demo course with Umeå's LMS course (the development LMS, joined by the
/// run's code at its instructor's launch) and Skellefteå's (a second LMS, linked on the command
/// line). Returns the instructor's launch and Skellefteå's LMS.
pub(crate) async fn two_lms_run(
    app: &TestApp,
    leader: &str,
) -> (LaunchSpec, coursebridge::devplatform::DevPlatform) {
    set_deployment_organisation(app, "Umeå kommun").await;
    let demo = store::course::latest(&app.db).await.unwrap().unwrap();
    let (cohort, code) = create_cohort(app, demo.id);
    let mut teacher = in_course(leader, "ctx-umea", LaunchSpec::instructor("x"));
    teacher.custom.insert("cohort".into(), json!(code));
    assert_eq!(app.launch(teacher.clone()).await.status.as_u16(), 200);
    let skelleftea = second_lms(app, "skelleftea-client", "Skellefteå kommun").await;
    let issuer = skelleftea.registration().issuer.clone();
    let cohort = cohort.to_string();
    let linked = app.cli([
        "cohort",
        "link",
        "--cohort",
        &cohort,
        "--issuer",
        &issuer,
        "--client-id",
        "skelleftea-client",
        "--context-id",
        "ctx-skelleftea",
    ]);
    assert!(linked.status.success(), "{linked:?}");
    (teacher, skelleftea)
}

async fn others_page(app: &TestApp, module_page: &Answer) -> Answer {
    app.get(&link_containing(
        &module_page.body,
        "/t/gemensam-mening/others?session=",
    ))
    .await
}

async fn group_answers_cross_municipalities_inside_the_run_and_nowhere_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let (teacher, skelleftea) = two_lms_run(&app, "u-leader").await;

    let anna = app
        .launch(named(
            in_course("u-anna", "ctx-umea", LaunchSpec::learner("x")),
            "Anna Lind",
        ))
        .await;
    let sture = app
        .launch_via(
            &skelleftea,
            named(
                in_course("s-sture", "ctx-skelleftea", LaunchSpec::learner("x")),
                "Sture Berg",
            ),
        )
        .await;

    // Umeå's group submits and shares, signed; the page says who shared.
    let module = submit_group_answer(&app, &anna, UMEA_ANSWER).await;
    let shared = app
        .post_form(
            &link_containing(&module.body, "/t/gemensam-mening/share?session="),
            &[("action", "share"), ("sign", "on")],
        )
        .await;
    assert_eq!(shared.status.as_u16(), 303, "{}", shared.body);
    let module = app.get(shared.headers["location"].to_str().unwrap()).await;
    assert!(
        module
            .body
            .contains("Svaret är delat med de andra kommunerna av Anna Lind."),
        "{}",
        module.body
    );

    // Skellefteå reads it only after its own group submitted.
    let sture_module = app
        .get(&link_containing(
            &sture.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    let closed = others_page(&app, &sture_module).await;
    assert_eq!(closed.status.as_u16(), 200);
    assert!(
        closed.body.contains("data-testid=\"others-closed\""),
        "{}",
        closed.body
    );
    assert!(!closed.body.contains(UMEA_ANSWER));
    let sture_module = submit_group_answer(
        &app,
        &sture,
        "Vi i Skellefteå vill att ärenden går snabbare för alla.",
    )
    .await;
    let open = others_page(&app, &sture_module).await;
    assert!(open.body.contains(UMEA_ANSWER), "{}", open.body);
    assert!(
        open.body
            .contains("Umeå kommun <span class=\"meta\">(Anna Lind)</span>"),
        "{}",
        open.body
    );
    assert!(
        !open.body.contains("Vi i Skellefteå"),
        "not their own group's answer"
    );

    // Comments: refused when empty or too long, with the reason at the field; taken otherwise,
    // under the writer's municipality and without their name.
    let comment_url = link_containing(&open.body, "/comments?session=");
    let empty = app.post_form(&comment_url, &[("body", "  ")]).await;
    assert_eq!(empty.status.as_u16(), 422);
    assert!(
        empty.body.contains("Skriv en kommentar innan du skickar."),
        "{}",
        empty.body
    );
    let long = "x".repeat(1001);
    let too_long = app
        .post_form(&comment_url, &[("body", long.as_str())])
        .await;
    assert_eq!(too_long.status.as_u16(), 422);
    let commented = app
        .post_form(
            &comment_url,
            &[("body", "Hur når ni dem som inte är digitala?")],
        )
        .await;
    assert_eq!(commented.status.as_u16(), 303, "{}", commented.body);
    let after = app
        .get(commented.headers["location"].to_str().unwrap())
        .await;
    assert!(after.body.contains("Din kommentar är publicerad."));
    assert!(
        after.body.contains(
            "<p>Hur når ni dem som inte är digitala?</p><p class=\"meta\">Skellefteå kommun</p>"
        ),
        "{}",
        after.body
    );

    // Umeå's group reads the comment on its own shared answer, on its module page.
    let umea_module = app
        .get(&link_containing(&anna.body, "/course/m/ledarskap?session="))
        .await;
    let ours = &umea_module.body[umea_module
        .body
        .find("data-testid=\"our-comments-gemensam-mening\"")
        .expect("the comments on Umeå's answer")..];
    assert!(
        ours.contains(
            "<p>Hur når ni dem som inte är digitala?</p><p class=\"meta\">Skellefteå kommun</p>"
        ),
        "{ours}"
    );

    // An LMS course outside the run sees nothing of it, even by the answer's address.
    let outsider = app
        .launch(in_course("o-olle", "ctx-outside", LaunchSpec::learner("x")))
        .await;
    let outside_module =
        submit_group_answer(&app, &outsider, "En mening från en annan kurs helt.").await;
    let outside = others_page(&app, &outside_module).await;
    assert!(
        outside.body.contains("data-testid=\"others-none\""),
        "{}",
        outside.body
    );
    let comment_path = comment_url.split('?').next().unwrap().to_owned();
    let foreign_url = format!("{comment_path}?session={}", token_of(&outside_module.body));
    let foreign = app.post_form(&foreign_url, &[("body", "Hej!")]).await;
    assert_eq!(foreign.status.as_u16(), 404, "{}", foreign.body);

    // Umeå's course leader pins it for the workshop; it shows on the module page in Skellefteå.
    let leader = app.launch(teacher).await;
    let leader_view = app
        .get(&link_containing(
            &leader.body,
            "/course/m/ledarskap/t/gemensam-mening/others?session=",
        ))
        .await;
    let leader_others = link_containing(
        &leader.body,
        "/course/m/ledarskap/t/gemensam-mening/others?session=",
    );
    assert!(leader_view.body.contains(UMEA_ANSWER));
    assert!(
        !leader_view.body.contains("comment-form"),
        "leaders pin, they do not comment here"
    );
    let pinned = app
        .post_form(
            &link_containing(&leader_view.body, "/pin?session="),
            &[("pinned", "1")],
        )
        .await;
    assert_eq!(pinned.status.as_u16(), 303, "{}", pinned.body);
    let participant_pin = app
        .post_form(
            &format!(
                "{}?session={}",
                comment_path.replace("/comments", "/pin"),
                token_of(&sture_module.body)
            ),
            &[("pinned", "1")],
        )
        .await;
    assert_eq!(
        participant_pin.status.as_u16(),
        403,
        "participants do not pin"
    );
    let sture_module = app
        .get(&link_containing(
            &sture.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    let pinned_part = &sture_module.body[sture_module
        .body
        .find("data-testid=\"pinned\"")
        .expect("the pinned answers")..];
    assert!(
        pinned_part.contains("Att diskutera på Workshop 1"),
        "{pinned_part}"
    );
    assert!(pinned_part.contains(UMEA_ANSWER), "{pinned_part}");

    // Skellefteå reports the answer (once counts once); the course leader sees the report and
    // hides Skellefteå's comment with a reason, which is audited; participants no longer see it.
    let answer_id = open.body[open.body.find("data-testid=\"shared-answer-").unwrap() + 27..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let sture_token = token_of(&sture_module.body);
    for _ in 0..2 {
        let reported = app
            .post_form(
                &format!("/course/reports?session={sture_token}"),
                &[
                    ("kind", "answer"),
                    ("id", &answer_id),
                    ("reason", "Stämmer inte"),
                ],
            )
            .await;
        assert_eq!(reported.status.as_u16(), 303, "{}", reported.body);
    }
    let leader_view = app.get(&leader_others).await;
    assert!(
        leader_view.body.contains(&format!(
            "data-testid=\"reports-{answer_id}\">Anmälningar: 1<"
        )),
        "{}",
        leader_view.body
    );
    let comment_id = leader_view.body[leader_view
        .body
        .find("data-testid=\"hide-comment-")
        .unwrap()
        + 26..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let leader_token = token_of(&leader_view.body);
    let hide = |token: String, reason: &'static str| {
        let app = &app;
        let comment_id = comment_id.clone();
        async move {
            app.post_form(
                &format!("/course/hidden?session={token}"),
                &[("kind", "comment"), ("id", &comment_id), ("reason", reason)],
            )
            .await
        }
    };
    assert_eq!(
        hide(sture_token.clone(), "Mitt eget").await.status.as_u16(),
        403
    );
    assert_eq!(hide(leader_token.clone(), " ").await.status.as_u16(), 400);
    assert_eq!(
        hide(leader_token, "Personuppgifter").await.status.as_u16(),
        303
    );
    let leader_view = app.get(&leader_others).await;
    assert!(
        leader_view.body.contains("Dolt: Personuppgifter"),
        "{}",
        leader_view.body
    );
    let sture_view = others_page(&app, &sture_module).await;
    assert!(
        !sture_view.body.contains("Hur når ni dem"),
        "{}",
        sture_view.body
    );
    let token = system_token(&app).await;
    let (_, audit) = api(&app, "GET", "api/v1/audit-log", &token, None).await;
    assert!(audit.to_string().contains("comment.hide"), "{audit}");

    // Erasing the commenter removes the comment; the export had it.
    let sture_id = person(&app, "s-sture").await.id;
    let (status, export) = api(
        &app,
        "GET",
        &format!("api/v1/people/{sture_id}/export"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        export["comments"][0]["body"],
        "Hur når ni dem som inte är digitala?"
    );
    assert_eq!(export["comments"][0]["organisation"], "Skellefteå kommun");
    let (status, _) = api(
        &app,
        "POST",
        &format!("api/v1/people/{sture_id}/erase"),
        &token,
        Some(json!({"mode": "anonymise"})),
    )
    .await;
    assert_eq!(status, 200);
    let anna_module = app
        .get(&link_containing(&anna.body, "/course/m/ledarskap?session="))
        .await;
    let leader_view = app.get(&leader_others).await;
    assert!(
        !leader_view.body.contains("Hur når ni dem"),
        "{}",
        leader_view.body
    );

    // Umeå withdraws its answer: it is gone for the others.
    let unshared = app
        .post_form(
            &link_containing(&anna_module.body, "/t/gemensam-mening/share?session="),
            &[("action", "unshare")],
        )
        .await;
    assert_eq!(unshared.status.as_u16(), 303);
    let leader_view = app.get(&leader_others).await;
    assert!(
        !leader_view.body.contains(UMEA_ANSWER),
        "{}",
        leader_view.body
    );
}

/// A participant's baseline self-assessment, every sub-area at `current` aiming at `target`.
async fn baseline(app: &TestApp, launch: &Answer, current: &str, target: &str) {
    let module = module_page(app, launch, "mobilisering").await;
    let url = link_containing(&module.body, "/course/assessment/baseline?session=");
    let saved = submit_assessment(app, &url, current, target).await;
    assert_eq!(saved.status.as_u16(), 303, "{}", saved.body);
}

async fn organisations_compare_with_the_run_only_from_k_respondents(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.aggregate_min_respondents = 2).await;
    let (teacher, skelleftea) = two_lms_run(&app, "c-leader").await;

    // Two in Umeå, one in Skellefteå (k = 2).
    let mut umea = Vec::new();
    for sub in ["c-u1", "c-u2"] {
        let launch = app
            .launch(in_course(sub, "ctx-umea", LaunchSpec::learner("x")))
            .await;
        umea.push(launch);
    }
    baseline(&app, &umea[0], "mobilisering", "acceleration").await;
    baseline(&app, &umea[1], "koordination", "acceleration").await;
    let sture = app
        .launch_via(
            &skelleftea,
            in_course("c-s1", "ctx-skelleftea", LaunchSpec::learner("x")),
        )
        .await;
    baseline(&app, &sture, "acceleration", "acceleration").await;

    // Umeå's participant: Umeå beside the run, both shown.
    let comparison_of =
        |launch: &Answer| link_containing(&launch.body, "/course/comparison?session=");
    let seen = app.get(&comparison_of(&umea[0])).await;
    assert_eq!(seen.status.as_u16(), 200);
    let table = &seen.body[seen
        .body
        .find("data-testid=\"comparison-baseline\"")
        .expect("a table")..];
    assert!(
        table
            .contains("<th scope=\"col\">Umeå kommun</th><th scope=\"col\">Hela kursomgången</th>"),
        "{table}"
    );
    assert!(
        !table.contains("Skellefteå kommun"),
        "a participant sees their own organisation only"
    );
    // Umeå's median of mobilisering (1) and koordination (2) is 1.5; the run's of 1, 2, 3 is 2.
    let first_row = &table[table.find("<tbody>").unwrap()..];
    let cells: Vec<&str> = first_row.split("<td>").skip(1).take(2).collect();
    assert!(
        cells[0].starts_with("Nu: Mobilisering–Koordination"),
        "{cells:?}"
    );
    assert!(cells[1].starts_with("Nu: Koordination"), "{cells:?}");

    // Skellefteå's participant: too few there, so only the run shows.
    let seen = app.get(&comparison_of(&sture)).await;
    assert!(
        seen.body
            .contains("Skellefteå kommun: visas inte, 1 av minst 2 personer har svarat."),
        "{}",
        seen.body
    );

    // The course leader: every organisation side by side, under the same rule.
    let leader = app.launch(teacher).await;
    let seen = app
        .get(&link_containing(
            &leader.body,
            "/course/comparison?session=",
        ))
        .await;
    let table = &seen.body[seen
        .body
        .find("data-testid=\"comparison-baseline\"")
        .expect("a table")..];
    assert!(
        table.contains("<th scope=\"col\">Skellefteå kommun</th><th scope=\"col\">Umeå kommun</th><th scope=\"col\">Hela kursomgången</th>"),
        "{table}"
    );
    assert!(
        seen.body.contains("Skellefteå kommun: visas inte"),
        "{}",
        seen.body
    );
    let row = &table[table.find("<tbody>").unwrap()..];
    assert!(
        row.contains("<td>–</td>"),
        "Skellefteå's figures are withheld: {row}"
    );
}

//! Instructors: the dashboard, the review loop with its trail, workshop occasions, and who may see
//! what (participants get 403; instructors of another LMS course, deployment or platform see nothing).
use coursebridge::{devplatform::LaunchSpec, store};
use entity::submission;
use sea_orm::EntityTrait;

use crate::helpers::{Answer, Backend, TestApp, link_containing, spawn_app, token_of, version_of};

on_both_databases!(
    callers_that_miss_the_token_together_share_one_request,
    the_review_loop_returns_revises_and_approves_with_a_trail,
    a_participant_gets_403_on_every_instructor_route_and_action,
    an_instructor_of_another_course_deployment_or_platform_sees_and_changes_nothing,
    workshop_occasions_reach_the_participants,
    the_dashboard_filters_by_module_and_status,
    the_roster_lists_everyone_enrolled_with_a_cached_token_renewed_once_on_401,
    self_assessment_aggregates_appear_from_k_respondents_with_csv,
    a_contact_person_sees_only_their_own_organisation,
    instructors_make_groups_and_moved_members_answer_with_their_new_group,
    placing_a_member_of_another_course_is_refused_by_the_use_case,
    an_instructor_moves_the_course_to_a_new_version_and_answers_stay,
    every_waiting_answer_names_its_author,
    view_submission_from_the_gradebook_opens_that_participants_answer,
);

/// A Submission Review launch for `lms_user` by `launcher` (an instructor, or not), in English.
fn submission_review(launcher: LaunchSpec, lms_user: &str) -> LaunchSpec {
    let mut review = launcher;
    review.message_type = "LtiSubmissionReviewRequest".into();
    review.locale = Some("en".into());
    review.set(
        coursebridge::lti::claims::FOR_USER,
        serde_json::json!({ "user_id": lms_user }),
    )
}

/// "View submission" in Moodle's, Canvas's or Brightspace's gradebook sends an
/// `LtiSubmissionReviewRequest`: the instructor lands on that participant's waiting answer, a
/// participant on their own course, and nobody on an answer of another LMS course.
async fn view_submission_from_the_gradebook_opens_that_participants_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let nothing = app
        .launch(submission_review(
            LaunchSpec::instructor("sr-teacher"),
            "sr-learner",
        ))
        .await;
    assert_eq!(nothing.status.as_u16(), 200);
    assert!(
        nothing
            .body
            .contains("The participant has no answer to show here yet."),
        "{}",
        nothing.body
    );

    submit_first_task(&app, "sr-learner").await;
    let opened = app
        .launch(submission_review(
            LaunchSpec::instructor("sr-teacher"),
            "sr-learner",
        ))
        .await;
    assert_eq!(opened.status.as_u16(), 200, "{}", opened.body);
    assert!(
        opened.body.contains("data-testid=\"submission-status\"")
            && opened
                .body
                .contains("Invånarna får svar snabbare och enklare.")
            && opened
                .body
                .contains("button type=\"submit\" name=\"decision\""),
        "{}",
        opened.body
    );

    // A gradebook column of one module (the link's `module` parameter) opens that module only.
    let mut per_module = submission_review(LaunchSpec::instructor("sr-teacher"), "sr-learner");
    per_module
        .custom
        .insert("module".into(), serde_json::json!("mobilisering"));
    let other_module = app.launch(per_module).await;
    assert!(
        other_module
            .body
            .contains("The participant has no answer to show here yet."),
        "{}",
        other_module.body
    );

    // The participant opening "view submission" themselves gets their course, not a review page.
    let own = app
        .launch(submission_review(
            LaunchSpec::learner("sr-learner"),
            "sr-learner",
        ))
        .await;
    own.assert_landed_as("participant");
    assert!(!own.body.contains("data-testid=\"submission-status\""));

    // An instructor of another LMS course of the same platform finds nothing of this one.
    let mut elsewhere = LaunchSpec::instructor("sr-other-teacher");
    elsewhere.context = Some(("another-course".into(), "X".into(), "En annan kurs".into()));
    let other = app.launch(submission_review(elsewhere, "sr-learner")).await;
    assert!(
        other
            .body
            .contains("The participant has no answer to show here yet."),
        "{}",
        other.body
    );
}

async fn submit_first_task(app: &TestApp, learner: &str) -> Answer {
    let launch = app.launch(LaunchSpec::learner(learner)).await;
    let module = app
        .get(&link_containing(
            &launch.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    let action = link_containing(&module.body, "/t/vad-betyder?session=");
    let posted = app
        .post_form(
            &action,
            &[
                ("version", "0"),
                ("answer_0", "Invånarna får svar snabbare och enklare."),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(posted.status.as_u16(), 303, "{}", posted.body);
    launch
}

async fn every_waiting_answer_names_its_author(backend: Backend) {
    let app = spawn_app(backend).await;
    let learner = submit_first_task(&app, "two-answers").await;
    let module = app
        .get(&link_containing(
            &learner.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    let second = link_containing(&module.body, "/t/vems-beslut?session=");
    let posted = app
        .post_form(
            &second,
            &[
                ("version", "0"),
                ("answer_0", "Förvaltningen och nämnden tillsammans."),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(posted.status.as_u16(), 303, "{}", posted.body);
    let dashboard = app
        .launch(LaunchSpec::instructor("two-answers-teacher"))
        .await;
    assert!(
        dashboard.body.contains("2 svar väntar på granskning."),
        "{}",
        dashboard.body
    );
    // One person, two answers waiting: both name her.
    assert_eq!(
        dashboard.body.matches("Astrid Lindqvist – ").count(),
        2,
        "{}",
        dashboard.body
    );
    // The grid's cell for the module opens her waiting answer; a module with nothing opens none.
    let grid = &dashboard.body[dashboard
        .body
        .find("data-testid=\"grid\"")
        .unwrap_or_else(|| panic!("{}", dashboard.body))..];
    let cell = "<td class=\"status-in-progress\"><a href=\"";
    let cell_at = grid.find(cell).unwrap_or_else(|| panic!("{grid}"));
    let opened = link_containing(&grid[cell_at..], "/instructor/submissions/");
    assert_eq!(
        opened,
        first_waiting(&dashboard.body),
        "the cell opens her first waiting answer"
    );
    assert!(
        grid.contains("<td class=\"status-not-started\">Inte påbörjad</td>"),
        "{grid}"
    );
    // From one waiting answer straight to the next, and back (as in SpeedGrader).
    let first_url = link_containing(&dashboard.body, "/instructor/submissions/");
    let first = app.get(&first_url).await;
    assert!(!first.body.contains("data-testid=\"queue-previous\""));
    let next_url = queue_link(&first.body, "queue-next");
    assert_ne!(next_url, first_url);
    let next = app.get(&next_url).await;
    assert!(next.body.contains("Förvaltningen och nämnden tillsammans."));
    assert!(!next.body.contains("data-testid=\"queue-next\""));
    assert_eq!(queue_link(&next.body, "queue-previous"), first_url);
}

/// The first answer of the dashboard's waiting list.
fn first_waiting(dashboard: &str) -> String {
    let list = &dashboard[dashboard.find("id=\"waiting-heading\"").unwrap()..];
    link_containing(list, "/instructor/submissions/")
}

/// The address of the review queue's link marked `testid` on a submission page.
fn queue_link(body: &str, testid: &str) -> String {
    let at = body
        .find(&format!("data-testid=\"{testid}\""))
        .unwrap_or_else(|| panic!("no {testid} link: {body}"));
    let start = body[..at].rfind("href=\"").unwrap() + "href=\"".len();
    let end = start + body[start..].find('"').unwrap();
    body[start..end].replace("&amp;", "&")
}

async fn the_review_loop_returns_revises_and_approves_with_a_trail(backend: Backend) {
    let app = spawn_app(backend).await;
    let learner = submit_first_task(&app, "loop-learner").await;
    let dashboard = app.launch(LaunchSpec::instructor("loop-teacher")).await;
    assert_eq!(dashboard.status.as_u16(), 200);
    assert!(
        dashboard.body.contains("<h1>Kursledarens översikt</h1>"),
        "{}",
        dashboard.body
    );
    assert!(dashboard.body.contains("Ett svar väntar på granskning."));
    // What needs doing now comes first, and every part of the page is named at its top.
    let parts = dashboard
        .body
        .find("data-testid=\"page-parts\"")
        .expect("the page's parts");
    let waiting = dashboard.body.find("id=\"waiting-heading\"").unwrap();
    assert!(parts < waiting && waiting < dashboard.body.find("id=\"grid-heading\"").unwrap());
    assert!(dashboard.body[parts..waiting].contains("href=\"#occasions-heading\""));
    assert!(
        dashboard
            .body
            .contains("<th scope=\"row\">Astrid Lindqvist</th>")
    );

    let review_url = link_containing(&dashboard.body, "/instructor/submissions/");
    let review = app.get(&review_url).await;
    assert!(
        review
            .body
            .contains("Invånarna får svar snabbare och enklare.")
    );
    let version = version_of(&review, "");
    let no_feedback = app
        .post_form(
            &review_url,
            &[("version", &version), ("decision", "return")],
        )
        .await;
    assert_eq!(no_feedback.status.as_u16(), 422);
    let returned = app
        .post_form(
            &review_url,
            &[
                ("version", &version),
                ("decision", "return"),
                (
                    "feedback",
                    "Beskriv gärna ett exempel från din förvaltning.",
                ),
            ],
        )
        .await;
    assert_eq!(returned.status.as_u16(), 303);

    // The participant sees the feedback at once, revises and resubmits.
    let module = app
        .get(&link_containing(
            &learner.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    assert!(
        module
            .body
            .contains("Beskriv gärna ett exempel från din förvaltning.")
    );
    assert!(module.body.contains(">Återsänd för komplettering<"));
    let participant_version = version_of(&module, "vad-betyder");
    let resubmitted = app
        .post_form(
            &link_containing(&module.body, "/t/vad-betyder?session="),
            &[
                ("version", &participant_version),
                (
                    "answer_0",
                    "Som i bygglovsärenden, där vi nu svarar inom en vecka.",
                ),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(resubmitted.status.as_u16(), 303);

    // The instructor approves; a stale form is refused. The form starts empty, with the earlier
    // feedback shown beside it: approving does not send the return's feedback again.
    let review = app.get(&review_url).await;
    assert!(
        review
            .body
            .contains("name=\"feedback\" rows=\"5\"></textarea>"),
        "{}",
        review.body
    );
    assert!(
        review.body.contains("data-testid=\"earlier-feedback\"")
            && review
                .body
                .contains("Beskriv gärna ett exempel från din förvaltning."),
        "{}",
        review.body
    );
    let stale = app
        .post_form(
            &review_url,
            &[("version", &version), ("decision", "approve")],
        )
        .await;
    assert_eq!(stale.status.as_u16(), 409);
    let approved = app
        .post_form(
            &review_url,
            &[
                ("version", &version_of(&review, "")),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(approved.status.as_u16(), 303);
    let review = app.get(&review_url).await;
    let history = &review.body[review.body.find("data-testid=\"history\"").unwrap()..];
    let events: Vec<_> = history
        .split("<li>")
        .skip(1)
        .map(|li| li.split("</li>").next().unwrap())
        .collect();
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(
        events[0].contains("Astrid Lindqvist – Utkast sparat → Inskickad"),
        "{events:?}"
    );
    assert!(events[1].contains("Erik Holm – Inskickad → Återsänd för komplettering"));
    assert!(events[2].contains("Astrid Lindqvist – Återsänd för komplettering → Inskickad"));
    assert!(events[3].contains("Erik Holm – Inskickad → Godkänd"));
    let module = app
        .get(&link_containing(
            &learner.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    assert!(module.body.contains("data-testid=\"task-status-vad-betyder\"><span class=\"visually-hidden\">Status: </span>Godkänd<"));
    // An approval with no feedback leaves none: the return's is history, not shown as current.
    assert!(
        !module
            .body
            .contains("Beskriv gärna ett exempel från din förvaltning."),
        "{}",
        module.body
    );
}

async fn a_participant_gets_403_on_every_instructor_route_and_action(backend: Backend) {
    let app = spawn_app(backend).await;
    let learner = submit_first_task(&app, "sneaky-learner").await;
    let token = token_of(&learner.body);
    let id = submission::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let gets = [
        format!("/instructor?session={token}"),
        format!("/instructor/submissions/{id}?session={token}"),
    ];
    for url in gets {
        app.get(&url).await.assert_refused(403, "FORBIDDEN");
    }
    let review = app
        .post_form(
            &format!("/instructor/submissions/{id}?session={token}"),
            &[("version", "2"), ("decision", "approve")],
        )
        .await;
    review.assert_refused(403, "FORBIDDEN");
    let occasion = app
        .post_form(
            &format!("/instructor/occasions?session={token}"),
            &[
                ("module", "ledarskap"),
                ("date", "2026-12-03"),
                ("time", "09:00"),
                ("place", "X"),
            ],
        )
        .await;
    occasion.assert_refused(403, "FORBIDDEN");
    let row = submission::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "submitted", "nothing changed");
}

async fn an_instructor_of_another_course_deployment_or_platform_sees_and_changes_nothing(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    submit_first_task(&app, "tenant-learner").await;
    let row = submission::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();

    // Another LMS course, another deployment of the same platform (same context id string), and
    // another platform registration.
    let platform = store::platform::list(&app.db).await.unwrap().remove(0);
    store::deployment::add(
        &app.db,
        platform.id,
        "deployment-2",
        None,
        None,
        crate::helpers::wall_unix(),
    )
    .await
    .unwrap();
    let mut other_course = LaunchSpec::instructor("other-teacher");
    other_course.context = Some(("another-course".into(), "B".into(), "Kurs B".into()));
    let mut other_deployment = LaunchSpec::instructor("other-teacher");
    other_deployment.deployment_id = Some("deployment-2".into());
    for spec in [other_course, other_deployment] {
        let dashboard = app.launch(spec).await;
        assert!(
            dashboard.body.contains("Inga svar väntar på granskning."),
            "{}",
            dashboard.body
        );
        assert!(!dashboard.body.contains("Astrid Lindqvist"));
        let token = token_of(&dashboard.body);
        let url = format!("/instructor/submissions/{}?session={token}", row.id);
        assert_eq!(app.get(&url).await.status.as_u16(), 404);
        let changed = app
            .post_form(
                &url,
                &[
                    ("version", &row.version.to_string()),
                    ("decision", "approve"),
                ],
            )
            .await;
        assert_eq!(changed.status.as_u16(), 404, "{}", changed.body);
    }
    let other_platform = second_platform_instructor_token(&app).await;
    let url = format!(
        "/instructor/submissions/{}?session={other_platform}",
        row.id
    );
    assert_eq!(app.get(&url).await.status.as_u16(), 404);
    let unchanged = submission::Entity::find_by_id(row.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.status, "submitted");
}

/// An instructor token from a second platform registration whose deployment and context carry the
/// same ids as the first one's.
async fn second_platform_instructor_token(app: &TestApp) -> String {
    let other = coursebridge::devplatform::DevPlatform::start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        "second-client",
        "deployment-1",
        coursebridge::devplatform::ToolUrls::below(&app.base).unwrap(),
    )
    .await
    .unwrap();
    let registered =
        store::platform::insert(&app.db, other.registration(), crate::helpers::wall_unix())
            .await
            .unwrap();
    store::deployment::add(
        &app.db,
        registered.id,
        "deployment-1",
        None,
        None,
        crate::helpers::wall_unix(),
    )
    .await
    .unwrap();
    let page = app
        .launch_via(&other, LaunchSpec::instructor("other-platform-teacher"))
        .await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    token_of(&page.body)
}

async fn workshop_occasions_reach_the_participants(backend: Backend) {
    let app = spawn_app(backend).await;
    let learner = app.launch(LaunchSpec::learner("occasion-learner")).await;
    let dashboard = app.launch(LaunchSpec::instructor("occasion-teacher")).await;
    let action = link_containing(&dashboard.body, "/instructor/occasions?session=");
    let bad = app
        .post_form(
            &action,
            &[
                ("module", "ledarskap"),
                ("date", "2026-13-03"),
                ("time", "09:00"),
                ("place", "Kommunhuset"),
            ],
        )
        .await;
    bad.assert_refused(400, "BAD_REQUEST");
    let saved = app
        .post_form(
            &action,
            &[
                ("module", "ledarskap"),
                ("date", "2026-12-03"),
                ("time", "09:00"),
                ("place", "Kommunhuset, sal 2"),
            ],
        )
        .await;
    assert_eq!(saved.status.as_u16(), 303);
    let overview = app
        .get(
            &link_containing(&learner.body, "/course/m/ledarskap?session=")
                .replace("/course/m/ledarskap", "/course"),
        )
        .await;
    assert!(
        overview
            .body
            .contains("Den hålls 2026-12-03 kl. 09:00, Kommunhuset, sal 2."),
        "{}",
        overview.body
    );

    // The workshops as iCalendar: a download with the session, and a feed address without one.
    let download = app
        .get(&link_containing(
            &overview.body,
            "/course/calendar.ics?session=",
        ))
        .await;
    assert_eq!(download.status.as_u16(), 200);
    assert_eq!(
        download.headers["content-type"],
        "text/calendar; charset=utf-8"
    );
    let event = calendar_event(&download.body);
    assert!(event.contains("DTSTART:20261203T080000Z"), "{event}");
    assert!(event.contains("LOCATION:Kommunhuset\\, sal 2"), "{event}");
    assert!(
        event.contains("SUMMARY:Workshop 1 – Leda digital omställning – demokurs"),
        "{event}"
    );
    let uid = event
        .lines()
        .find(|l| l.starts_with("UID:"))
        .unwrap()
        .to_owned();
    let feed = link_value(&overview.body, "data-testid=\"calendar-feed\"");
    assert!(!feed.contains("session="), "{feed}");
    let read = app.client.get(&feed).send().await.unwrap();
    assert_eq!(read.status().as_u16(), 200);
    assert_eq!(calendar_event(&read.text().await.unwrap()), event);

    // The course leader moves the workshop: the feed shows the same event, moved.
    app.post_form(
        &action,
        &[
            ("module", "ledarskap"),
            ("date", "2026-12-04"),
            ("time", "13:00"),
            ("place", "Kommunhuset, sal 2"),
        ],
    )
    .await;
    let moved = app
        .client
        .get(&feed)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let moved = calendar_event(&moved);
    assert!(moved.contains("DTSTART:20261204T120000Z"), "{moved}");
    assert!(moved.contains(&uid), "{moved}");
    // A feed address that was not issued reads nothing.
    let forged = feed.replace("/calendar/", "/calendar/x");
    assert_eq!(
        app.client
            .get(&forged)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
}

/// The first event of an iCalendar text, its folded lines joined.
fn calendar_event(ics: &str) -> String {
    let unfolded = ics.replace("\r\n ", "").replace("\r\n", "\n");
    let start = unfolded.find("BEGIN:VEVENT").expect("an event");
    let end = unfolded[start..].find("END:VEVENT").unwrap() + start;
    unfolded[start..end]
        .lines()
        .filter(|line| !line.starts_with("DTSTAMP:"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `value` of the element marked by `marker` (an attribute) on a page.
fn link_value(body: &str, marker: &str) -> String {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker}: {body}"));
    let tag_start = body[..at].rfind('<').unwrap();
    let tag = &body[tag_start..at + body[at..].find('>').unwrap()];
    let value = &tag[tag.find("value=\"").unwrap() + 7..];
    value[..value.find('"').unwrap()].replace("&amp;", "&")
}

async fn the_dashboard_filters_by_module_and_status(backend: Backend) {
    let app = spawn_app(backend).await;
    submit_first_task(&app, "filter-a").await;
    let mut other = LaunchSpec::learner("filter-b");
    other.name = Some(("Bo Berg".into(), "Bo".into(), "Berg".into()));
    app.launch(other).await;
    let dashboard = app.launch(LaunchSpec::instructor("filter-teacher")).await;
    let token = token_of(&dashboard.body);
    let filtered = app
        .get(&format!(
            "/instructor?session={token}&module=ledarskap&status=in-progress"
        ))
        .await;
    assert!(
        filtered
            .body
            .contains("<th scope=\"row\">Astrid Lindqvist</th>"),
        "{}",
        filtered.body
    );
    assert!(!filtered.body.contains("<th scope=\"row\">Bo Berg</th>"));
    let not_started = app
        .get(&format!(
            "/instructor?session={token}&module=ledarskap&status=not-started"
        ))
        .await;
    assert!(not_started.body.contains("<th scope=\"row\">Bo Berg</th>"));
    assert!(
        !not_started
            .body
            .contains("<th scope=\"row\">Astrid Lindqvist</th>")
    );
}

async fn the_roster_lists_everyone_enrolled_with_a_cached_token_renewed_once_on_401(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    for (sub, name, status) in [
        ("never-1", Some("Karin Nyström"), "Active"),
        ("never-2", Some("Olle Berg"), "Active"),
        ("never-3", None, "Active"),
        ("gone-1", Some("Borttagen Person"), "Deleted"),
        ("teacher-2", Some("Lärare Två"), "Active"),
    ] {
        let roles = if sub.starts_with("teacher") {
            serde_json::json!(["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"])
        } else {
            serde_json::json!(["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"])
        };
        let mut member = serde_json::json!({ "user_id": sub, "roles": roles, "status": status });
        if let Some(name) = name {
            member["name"] = serde_json::json!(name);
        }
        app.platform.add_member(member);
    }
    // A launched participant of the same municipality writes their group's answer.
    let learner = app.launch(LaunchSpec::learner("roster-learner")).await;
    let module = app
        .get(&link_containing(
            &learner.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    let saved = app
        .post_form(
            &link_containing(&module.body, "/t/gemensam-mening?session="),
            &[
                ("version", "0"),
                ("answer_0", "Vår gemensamma mening."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status.as_u16(), 303);
    let dashboard = app.launch(LaunchSpec::instructor("roster-teacher")).await;
    let token = token_of(&dashboard.body);
    let sync_url = format!("/instructor/roster?session={token}");
    let synced = app.post_form(&sync_url, &[]).await;
    assert_eq!(synced.status.as_u16(), 303);
    let page = app.get(synced.headers["location"].to_str().unwrap()).await;
    assert!(
        page.body.contains("Deltagarlistan är hämtad: 4 personer."),
        "{}",
        page.body
    );
    for name in ["Karin Nyström", "Olle Berg", "(namn saknas)"] {
        assert!(
            page.body
                .contains(&format!("<th scope=\"row\">{name}</th>")),
            "{name}: {}",
            page.body
        );
        // Listed, never opened: not started, though their group has an answer.
        assert!(
            page.body.contains(&format!(
                "<th scope=\"row\">{name}</th><td class=\"status-not-started\">"
            )),
            "{name}: {}",
            page.body
        );
    }
    assert!(
        page.body
            .contains("<th scope=\"row\">Astrid Lindqvist</th><td class=\"status-in-progress\">")
    );
    assert!(!page.body.contains("Borttagen Person"));
    assert!(
        !page.body.contains("<th scope=\"row\">Lärare Två</th>"),
        "instructors are not participants"
    );

    // The token is reused; after the platform revokes it, one renewal and the sync still succeeds.
    let tokens_before = app.platform.token_requests();
    assert!(tokens_before >= 1);
    app.post_form(&sync_url, &[]).await;
    assert_eq!(
        app.platform.token_requests(),
        tokens_before,
        "the cached token was reused"
    );
    app.platform.revoke_tokens();
    let renewed = app.post_form(&sync_url, &[]).await;
    let page = app.get(renewed.headers["location"].to_str().unwrap()).await;
    assert!(
        page.body.contains("Deltagarlistan är hämtad: 4 personer."),
        "{}",
        page.body
    );
    assert_eq!(
        app.platform.token_requests(),
        tokens_before + 1,
        "renewed once after the 401"
    );
    let agents = app.platform.service_user_agents();
    assert!(
        !agents.is_empty() && agents.iter().all(|a| a.starts_with("coursebridge/")),
        "{agents:?}"
    );
}

async fn submit_baseline(app: &TestApp, learner: &str, current: &str) {
    let launch = app.launch(LaunchSpec::learner(learner)).await;
    crate::cohorts::baseline(app, &token_of(&launch.body), current).await;
}

async fn self_assessment_aggregates_appear_from_k_respondents_with_csv(backend: Backend) {
    let app = spawn_app(backend).await;
    submit_baseline(&app, "agg-1", "mobilisering").await;
    submit_baseline(&app, "agg-2", "mobilisering").await;
    let dashboard = app.launch(LaunchSpec::instructor("agg-teacher")).await;
    let token = token_of(&dashboard.body);
    let page = app
        .get(&format!("/instructor/assessments?session={token}"))
        .await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.body.contains("data-testid=\"suppressed-baseline\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Mobilisering 2"));
    let csv = app
        .get(&format!("/instructor/assessments.csv?session={token}"))
        .await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(csv.body.contains("baseline,,,suppressed,,,"));
    assert!(!csv.body.contains("mobilisering,2"));

    submit_baseline(&app, "agg-3", "koordination").await;
    let page = app
        .get(&format!("/instructor/assessments?session={token}"))
        .await;
    assert!(
        page.body.contains("3 personer har svarat."),
        "{}",
        page.body
    );
    assert!(page.body.contains("<th scope=\"row\">Samverkan</th><td>Mobilisering 2, Koordination 1</td><td>Mobilisering</td><td>Acceleration</td>"), "{}", page.body);
    let csv = app
        .get(&format!("/instructor/assessments.csv?session={token}"))
        .await;
    assert!(
        csv.body
            .contains("baseline,samverkan,3,current,mobilisering,2,1"),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains("baseline,samverkan,3,target,acceleration,3,3")
    );
    assert!(csv.body.contains("final,,,suppressed,,,"));
}

async fn a_contact_person_sees_only_their_own_organisation(backend: Backend) {
    let app = spawn_app(backend).await;
    let platform = store::platform::list(&app.db).await.unwrap().remove(0);
    store::deployment::add(
        &app.db,
        platform.id,
        "skelleftea",
        Some("Skellefteå kommun".into()),
        None,
        crate::helpers::wall_unix(),
    )
    .await
    .unwrap();
    let mut umea = LaunchSpec::learner("umea-learner");
    umea.name = Some(("Ulla Umeå".into(), "Ulla".into(), "Umeå".into()));
    app.launch(umea).await;
    let mut skelleftea = LaunchSpec::learner("skelleftea-learner");
    skelleftea.name = Some(("Sven Skellefteå".into(), "Sven".into(), "Skellefteå".into()));
    skelleftea.deployment_id = Some("skelleftea".into());
    app.launch(skelleftea).await;

    // Not a contact person: 403, and no link.
    let plain = app.launch(LaunchSpec::learner("plain-learner")).await;
    assert!(!plain.body.contains("/organisation?session="));
    app.get(&format!("/organisation?session={}", token_of(&plain.body)))
        .await
        .assert_refused(403, "FORBIDDEN");

    let granted = std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"))
        .args([
            "contact",
            "grant",
            "--issuer",
            &platform.issuer,
            "--client-id",
            &platform.client_id,
            "--sub",
            "contact-umea",
            "--organisation",
            "Umeå kommun",
        ])
        .env("COURSEBRIDGE_DATABASE_URL", &app.database.url)
        .output()
        .unwrap();
    assert!(
        granted.status.success(),
        "{}",
        String::from_utf8_lossy(&granted.stderr)
    );
    for learner in ["umea-a", "umea-b", "umea-c"] {
        submit_baseline(&app, learner, "koordination").await;
    }
    let contact = app.launch(LaunchSpec::learner("contact-umea")).await;
    let page = app
        .get(&link_containing(&contact.body, "/organisation?session="))
        .await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    assert!(
        page.body
            .contains("data-testid=\"organisation\">Umeå kommun<")
    );
    assert!(
        page.body.contains("<th scope=\"row\">Ulla Umeå</th>"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Sven Skellefteå"),
        "another organisation is never shown"
    );
    assert!(!page.body.contains("Skellefteå kommun"));
    assert!(
        page.body.contains("3 personer har svarat."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Samverkan Koordination → Acceleration"),
        "{}",
        page.body
    );
}

async fn placing_a_member_of_another_course_is_refused_by_the_use_case(backend: Backend) {
    use coursebridge::learning::review::{PlaceError, place_member};
    let app = spawn_app(backend).await;
    app.launch(LaunchSpec::learner("place-here")).await;
    let mut elsewhere = LaunchSpec::learner("place-there");
    elsewhere.context = Some(("other-course".into(), "Y".into(), "En annan kurs".into()));
    app.launch(elsewhere).await;
    let mut other_teacher = LaunchSpec::instructor("place-teacher");
    other_teacher.context = Some(("other-course".into(), "Y".into(), "En annan kurs".into()));
    let other_dashboard = app.launch(other_teacher).await;
    let created = app
        .post_form(
            &format!(
                "/instructor/groups?session={}",
                token_of(&other_dashboard.body)
            ),
            &[("name", "Deras grupp")],
        )
        .await;
    assert_eq!(created.status.as_u16(), 303);

    let contexts = entity::context::Entity::find().all(&app.db).await.unwrap();
    let here = contexts
        .iter()
        .find(|c| c.lti_context_id != "other-course")
        .unwrap();
    let people = entity::lti_user::Entity::find().all(&app.db).await.unwrap();
    let person = |sub: &str| people.iter().find(|u| u.sub == sub).unwrap().id;
    let their_group = entity::learner_group::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let version = store::course::latest(&app.db).await.unwrap().unwrap();
    let course = coursebridge::learning::context::ContextCourse {
        context_id: here.id,
        version_id: version.id,
        package: std::sync::Arc::new(serde_json::from_str(&version.package).unwrap()),
    };

    let foreign_person = place_member(
        &app.db,
        &course,
        person("place-there"),
        None,
        app.clock.now_ms(),
    )
    .await;
    assert!(
        matches!(foreign_person, Err(PlaceError::NotInCourse)),
        "{foreign_person:?}"
    );
    let foreign_group = place_member(
        &app.db,
        &course,
        person("place-here"),
        Some(their_group.id),
        app.clock.now_ms(),
    )
    .await;
    assert!(
        matches!(foreign_group, Err(PlaceError::NotInCourse)),
        "{foreign_group:?}"
    );
    let members = entity::group_member::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(members.is_empty(), "{members:?}");
    // One of this course's own is placed.
    place_member(
        &app.db,
        &course,
        person("place-here"),
        None,
        app.clock.now_ms(),
    )
    .await
    .unwrap();
}

async fn instructors_make_groups_and_moved_members_answer_with_their_new_group(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut anna = LaunchSpec::learner("group-anna");
    anna.name = Some(("Anna Ek".into(), "Anna".into(), "Ek".into()));
    let anna_launch = app.launch(anna).await;
    let mut bo = LaunchSpec::learner("group-bo");
    bo.name = Some(("Bo Ask".into(), "Bo".into(), "Ask".into()));
    let bo_launch = app.launch(bo).await;
    let dashboard = app.launch(LaunchSpec::instructor("group-teacher")).await;
    let token = token_of(&dashboard.body);
    assert!(
        dashboard
            .body
            .contains("<strong>Umeå kommun</strong>: Anna Ek, Bo Ask"),
        "{}",
        dashboard.body
    );

    let created = app
        .post_form(
            &format!("/instructor/groups?session={token}"),
            &[("name", "Blandad grupp")],
        )
        .await;
    assert_eq!(created.status.as_u16(), 303);
    let group = entity::learner_group::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let anna_id = entity::lti_user::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.sub == "group-anna")
        .unwrap()
        .id;
    let moved = app
        .post_form(
            &format!("/instructor/groups/move?session={token}"),
            &[
                ("person", &anna_id.to_string()),
                ("group", &group.id.to_string()),
            ],
        )
        .await;
    assert_eq!(moved.status.as_u16(), 303);
    let page = app.get(moved.headers["location"].to_str().unwrap()).await;
    assert!(
        page.body
            .contains("<strong>Blandad grupp</strong>: Anna Ek"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<strong>Umeå kommun</strong>: Bo Ask"));
    let filtered = app
        .get(&format!("/instructor?session={token}&group={}", group.id))
        .await;
    assert!(filtered.body.contains("<th scope=\"row\">Anna Ek</th>"));
    assert!(!filtered.body.contains("<th scope=\"row\">Bo Ask</th>"));
    let municipality = app
        .get(&format!("/instructor?session={token}&group=municipality"))
        .await;
    assert!(municipality.body.contains("<th scope=\"row\">Bo Ask</th>"));
    assert!(!municipality.body.contains("<th scope=\"row\">Anna Ek</th>"));

    // Bo writes the municipality group's answer; Anna, now in another group, does not see it.
    let bo_module = app
        .get(&link_containing(
            &bo_launch.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    app.post_form(
        &link_containing(&bo_module.body, "/t/gemensam-mening?session="),
        &[
            ("version", "0"),
            ("answer_0", "Kommungruppens mening."),
            ("action", "save"),
        ],
    )
    .await;
    let anna_module = app
        .get(&link_containing(
            &anna_launch.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    assert!(!anna_module.body.contains("Kommungruppens mening."));

    // A group or person of another LMS course is not found.
    let foreign = app
        .post_form(
            &format!("/instructor/groups/move?session={token}"),
            &[("person", &anna_id.to_string()), ("group", "999999")],
        )
        .await;
    assert_eq!(foreign.status.as_u16(), 404);
    let empty = app
        .post_form(
            &format!("/instructor/groups?session={token}"),
            &[("name", "  ")],
        )
        .await;
    empty.assert_refused(400, "BAD_REQUEST");
}

async fn an_instructor_moves_the_course_to_a_new_version_and_answers_stay(backend: Backend) {
    let app = spawn_app(backend).await;
    let learner = submit_first_task(&app, "version-learner").await;
    let mut files = coursebridge::course::demo_files();
    let course_toml = String::from_utf8(files["course.toml"].clone())
        .unwrap()
        .replace("version = \"1.0.0\"", "version = \"1.1.0\"");
    files.insert("course.toml".into(), course_toml.into_bytes());
    let module = String::from_utf8(files["modules/1-ledarskap.md"].clone())
        .unwrap()
        .replace(
            "title = { sv = \"Digital omställning är ledarskap – inte en IT-fråga\"",
            "title = { sv = \"Digital omställning är ledarskap (reviderad)\"",
        );
    files.insert("modules/1-ledarskap.md".into(), module.into_bytes());
    let stored = coursebridge::admin::courses::import(
        &app.db,
        &coursebridge::admin::access::Principal::cli(),
        &files.clone().into(),
    )
    .await
    .unwrap();

    let dashboard = app.launch(LaunchSpec::instructor("version-teacher")).await;
    assert!(
        dashboard
            .body
            .contains("Den här kursen använder version: 1.0.0"),
        "{}",
        dashboard.body
    );
    let token = token_of(&dashboard.body);
    let moved = app
        .post_form(
            &format!("/instructor/version?session={token}"),
            &[("version", &stored.id.to_string())],
        )
        .await;
    assert_eq!(moved.status.as_u16(), 303);
    let page = app.get(moved.headers["location"].to_str().unwrap()).await;
    assert!(page.body.contains("Den här kursen använder version: 1.1.0"));
    let module = app
        .get(&link_containing(
            &learner.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    assert!(
        module
            .body
            .contains("<h1>Digital omställning är ledarskap (reviderad)</h1>"),
        "{}",
        module.body
    );
    assert!(
        module
            .body
            .contains("Invånarna får svar snabbare och enklare."),
        "the answer followed the stable slugs"
    );
    let unknown = app
        .post_form(
            &format!("/instructor/version?session={token}"),
            &[("version", "999999")],
        )
        .await;
    assert_eq!(unknown.status.as_u16(), 404);
}

/// A launch's background roster sync and the instructor's own sync can ask for the same token at
/// once: they share one request to the platform (seen as a second token request in CI).
async fn callers_that_miss_the_token_together_share_one_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let platform = entity::platform::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let endpoint = coursebridge::registry::token_endpoint(&platform);
    let key = coursebridge::tool_key::signing_key(&app.db).await.unwrap();
    let http = app.config.outbound_client().unwrap();
    let tokens = coursebridge::lti::token::TokenCache::new(app.clock.clone());
    let scopes = ["https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"];
    let before = app.platform.token_requests();
    let asked = futures_util::future::join_all(
        (0..4).map(|_| tokens.token(&http, &endpoint, &key, &scopes)),
    )
    .await;
    let granted: Vec<String> = asked.into_iter().map(Result::unwrap).collect();
    assert!(
        granted.iter().all(|token| token == &granted[0]),
        "{granted:?}"
    );
    assert_eq!(app.platform.token_requests(), before + 1);
}

//! Network spaces across two LMSes of one course run: an administrator opens a space and invites
//! Umeå's participant and the course leader (as moderator); Skellefteå's contact person grants
//! their own participant a place. Members write threads and replies with allow-listed files, a
//! reply mails the others in the thread through the outbox, a report leads to a moderator's
//! audited hiding, nobody outside the space reads anything of it, and erasing a poster empties or
//! deletes their posts as the retention rule says.
use coursebridge::{config::Config, devplatform::LaunchSpec};
use entity::mail_outbox;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;

use crate::{
    cohorts::{api, in_course, named, person, system_token},
    exchange::two_lms_run,
    helpers::{Answer, Backend, TestApp, link_containing, spawn_app_with, token_of},
};

on_both_databases!(
    a_network_space_spans_municipalities_with_files_mail_and_moderation,
    erasing_a_poster_deletes_or_empties_their_posts,
);

const SPACE: &str = "Kanslichefer i Västerbotten";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// Mail configured at a port where nothing listens: the outbox keeps what would be sent.
fn with_mail(config: &mut Config) {
    config.grade_worker = false;
    config.store_email = true;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    config.mail_smtp_url = format!("smtp://127.0.0.1:{port}");
    config.mail_from = "Att leda digital omställning <kurs@region.example.se>".into();
}

/// Posts a multipart form (fields, then files as (name, bytes)) to an absolute URL.
async fn post_multipart(
    app: &TestApp,
    url: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> Answer {
    let boundary = "----coursebridge-test-boundary-7c1d";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let response = app
        .client
        .post(app.base.join(url).unwrap())
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// Follows a 303.
async fn follow(app: &TestApp, answer: &Answer) -> Answer {
    assert_eq!(answer.status.as_u16(), 303, "{}", answer.body);
    app.get(answer.headers["location"].to_str().unwrap()).await
}

/// The region's administrator opens the space; returns its id and the admin page's session.
async fn open_space(app: &TestApp) -> (i64, String) {
    crate::admin::grant(app, "region-admin", "system", None);
    let admin = app.launch(LaunchSpec::instructor("region-admin")).await;
    let token = token_of(&admin.body);
    let page = app.get(&format!("/admin/spaces?session={token}")).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    let create = link_containing(&page.body, "/admin/spaces?session=");
    let refused = app
        .post_form(&create, &[("name", " "), ("description", "")])
        .await;
    assert_eq!(refused.status.as_u16(), 422);
    assert!(refused.body.contains("data-testid=\"error-summary\""));
    assert!(refused.body.contains("href=\"#space-name\""));
    let created = app
        .post_form(
            &create,
            &[
                ("name", SPACE),
                ("description", "För kanslichefer i regionens kommuner."),
            ],
        )
        .await;
    let page = follow(app, &created).await;
    assert!(page.body.contains("Nätverket är skapat."), "{}", page.body);
    let taken = app
        .post_form(&create, &[("name", SPACE), ("description", "")])
        .await;
    assert_eq!(taken.status.as_u16(), 422);
    assert!(
        taken
            .body
            .contains("Det finns redan ett nätverk med det namnet.")
    );
    let id = space_id(&page.body);
    (id, token)
}

fn space_id(admin_page: &str) -> i64 {
    let url = link_containing(admin_page, "/members?session=");
    let id = url.split("/admin/spaces/").nth(1).unwrap();
    id.split('/').next().unwrap().parse().unwrap()
}

async fn invite(app: &TestApp, token: &str, space: i64, sub: &str, role: &str) {
    let id = person(app, sub).await.id.to_string();
    let invited = app
        .post_form(
            &format!("/admin/spaces/{space}/members?session={token}"),
            &[("person", &id), ("role", role)],
        )
        .await;
    let page = follow(app, &invited).await;
    assert!(page.body.contains("Inbjudan är sparad."), "{}", page.body);
}

/// Accepts the invitation from the person's list of spaces.
async fn accept(app: &TestApp, launch: &Answer) {
    let list = app
        .get(&format!("/spaces?session={}", token_of(&launch.body)))
        .await;
    assert!(
        list.body.contains("data-testid=\"invitation\""),
        "{}",
        list.body
    );
    let action = link_containing(&list.body, "/membership?session=");
    let accepted = app.post_form(&action, &[("action", "accept")]).await;
    let list = follow(app, &accepted).await;
    assert!(
        list.body.contains("Du är nu med i nätverket."),
        "{}",
        list.body
    );
}

fn space_url(space: i64, launch: &Answer) -> String {
    format!("/spaces/{space}?session={}", token_of(&launch.body))
}

async fn a_network_space_spans_municipalities_with_files_mail_and_moderation(backend: Backend) {
    let app = spawn_app_with(backend, with_mail).await;
    let (_, skelleftea) = two_lms_run(&app, "u-leader").await;
    // Everyone launches once, so the administrator can find them.
    app.launch(named(
        in_course("u-leader", "ctx-umea", LaunchSpec::instructor("x")),
        "Lena Ledare",
    ))
    .await;
    app.launch(named(
        in_course("u-anna", "ctx-umea", LaunchSpec::learner("x")),
        "Anna Lind",
    ))
    .await;
    let sture_spec = named(
        in_course("s-sture", "ctx-skelleftea", LaunchSpec::learner("x")),
        "Sture Berg",
    );
    let sture = app.launch_via(&skelleftea, sture_spec.clone()).await;
    let olle = app
        .launch(in_course("o-olle", "ctx-outside", LaunchSpec::learner("x")))
        .await;

    let (space, admin) = open_space(&app).await;
    invite(&app, &admin, space, "u-anna", "member").await;
    invite(&app, &admin, space, "u-leader", "moderator").await;

    // Skellefteå's contact person gives Sture a place; not Anna, who is Umeå's.
    let registration = skelleftea.registration();
    let granted = app.cli([
        "contact",
        "grant",
        "--issuer",
        &registration.issuer,
        "--client-id",
        "skelleftea-client",
        "--sub",
        "s-contact",
        "--organisation",
        "Skellefteå kommun",
    ]);
    assert!(granted.status.success(), "{granted:?}");
    let contact = app
        .launch_via(
            &skelleftea,
            named(
                in_course("s-contact", "ctx-skelleftea", LaunchSpec::instructor("x")),
                "Siv Kontakt",
            ),
        )
        .await;
    let organisation = app
        .get(&format!(
            "/organisation?session={}",
            token_of(&contact.body)
        ))
        .await;
    assert_eq!(organisation.status.as_u16(), 200, "{}", organisation.body);
    let grant_url = link_containing(&organisation.body, "/organisation/spaces?session=");
    let (sture_id, anna_id) = (
        person(&app, "s-sture").await.id.to_string(),
        person(&app, "u-anna").await.id.to_string(),
    );
    let space_field = space.to_string();
    let not_theirs = app
        .post_form(&grant_url, &[("person", &anna_id), ("space", &space_field)])
        .await;
    assert_eq!(not_theirs.status.as_u16(), 404);
    let granted = app
        .post_form(
            &grant_url,
            &[("person", &sture_id), ("space", &space_field)],
        )
        .await;
    let page = follow(&app, &granted).await;
    assert!(page.body.contains("Personen är nu med i nätverket."));

    // Anna sees the invitation on her overview; the space opens once she accepts.
    let anna = app
        .launch(named(
            in_course("u-anna", "ctx-umea", LaunchSpec::learner("x")),
            "Anna Lind",
        ))
        .await;
    assert!(anna.body.contains("1 inbjudan väntar"), "{}", anna.body);
    assert!(anna.body.contains("data-testid=\"spaces-link\""));
    assert_eq!(app.get(&space_url(space, &anna)).await.status.as_u16(), 404);
    accept(&app, &anna).await;
    let leader = app
        .launch(named(
            in_course("u-leader", "ctx-umea", LaunchSpec::instructor("x")),
            "Lena Ledare",
        ))
        .await;
    accept(&app, &leader).await;
    let space_page = app.get(&space_url(space, &anna)).await;
    assert_eq!(space_page.status.as_u16(), 200, "{}", space_page.body);
    assert!(
        space_page
            .body
            .contains("3 medlemmar från Skellefteå kommun, Umeå kommun"),
        "{}",
        space_page.body
    );

    // A new thread: refused at its field with what was typed kept, and for a file that is not
    // what its name says; then taken, with a PDF.
    let post_url = link_containing(
        &space_page.body,
        &format!("/spaces/{space}/threads?session="),
    );
    let no_title = post_multipart(
        &app,
        &post_url,
        &[
            ("title", ""),
            ("body", "Hur ordnar ni den digitala nämndadministrationen?"),
        ],
        &[],
    )
    .await;
    assert_eq!(no_title.status.as_u16(), 422);
    assert!(
        no_title.body.contains("href=\"#post-title\""),
        "{}",
        no_title.body
    );
    assert!(no_title.body.contains("Skriv en rubrik för tråden."));
    assert!(
        no_title
            .body
            .contains("Hur ordnar ni den digitala nämndadministrationen?")
    );
    let disguised = post_multipart(
        &app,
        &post_url,
        &[("title", "Nämndadministration"), ("body", "Se bifogat.")],
        &[("plan.pdf", b"MZ\x90\x00 not a pdf")],
    )
    .await;
    assert_eq!(disguised.status.as_u16(), 422);
    assert!(disguised.body.contains("href=\"#post-files\""));
    let script = post_multipart(
        &app,
        &post_url,
        &[("title", "Nämndadministration"), ("body", "Se bifogat.")],
        &[("plan.html", b"<script>alert(1)</script>")],
    )
    .await;
    assert_eq!(script.status.as_u16(), 422);
    let posted = post_multipart(
        &app,
        &post_url,
        &[
            ("title", "Nämndadministration"),
            ("body", "Hur ordnar ni den digitala nämndadministrationen?"),
        ],
        &[("Umeås plan för nämnder.pdf", PDF)],
    )
    .await;
    let thread = follow(&app, &posted).await;
    assert!(
        thread.body.contains("Tråden är publicerad."),
        "{}",
        thread.body
    );
    let thread_path = posted.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();

    // Sture, from the other LMS, reads it with its writer's name and municipality, and the file.
    let sture_thread = app
        .get(&format!("{thread_path}?session={}", token_of(&sture.body)))
        .await;
    assert_eq!(sture_thread.status.as_u16(), 200, "{}", sture_thread.body);
    assert!(
        sture_thread
            .body
            .contains("<strong>Anna Lind, Umeå kommun</strong>")
    );
    let file_url = link_containing(&sture_thread.body, "/spaces/files/");
    let file = app
        .client
        .get(app.base.join(&file_url).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(file.status().as_u16(), 200);
    assert_eq!(file.headers()["content-type"], "application/pdf");
    let disposition = file.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"Ume_s_plan_f_r_n_mnder.pdf\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename*=UTF-8''Ume%C3%A5s%20plan"),
        "{disposition}"
    );
    assert_eq!(file.bytes().await.unwrap().as_ref(), PDF);

    // Nobody outside the space reads the space, the thread or the file.
    let olle_token = token_of(&olle.body);
    for path in [
        format!("/spaces/{space}?session={olle_token}"),
        format!("{thread_path}?session={olle_token}"),
        format!(
            "{}?session={olle_token}",
            file_url.split('?').next().unwrap()
        ),
    ] {
        assert_eq!(app.get(&path).await.status.as_u16(), 404, "{path}");
    }

    // Sture replies: Anna, who wrote in the thread, gets a mail; Sture does not.
    let reply_url = link_containing(&sture_thread.body, "/threads/");
    let reply_url = reply_url.replace("&amp;", "&");
    let replied = post_multipart(
        &app,
        &reply_url,
        &[(
            "body",
            "Vi har gått över till digitala handlingar för alla nämnder.",
        )],
        &[],
    )
    .await;
    let after = follow(&app, &replied).await;
    assert!(after.body.contains("Ditt svar är publicerat."));
    let mails: Vec<mail_outbox::Model> = mail_outbox::Entity::find()
        .order_by_asc(mail_outbox::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let replies: Vec<_> = mails
        .iter()
        .filter(|m| m.dedupe_key.starts_with("reply:"))
        .collect();
    assert_eq!(replies.len(), 1, "{mails:?}");
    assert_eq!(replies[0].user_id, person(&app, "u-anna").await.id);
    assert!(
        replies[0].subject.contains("Nämndadministration"),
        "{}",
        replies[0].subject
    );
    assert!(
        replies[0]
            .body
            .contains("Sture Berg (Skellefteå kommun) svarade")
    );

    // Anna reports the reply; the course leader, a moderator, sees the report and hides it.
    let anna_thread = app
        .get(&format!("{thread_path}?session={}", token_of(&anna.body)))
        .await;
    let report_url = link_containing(&anna_thread.body, "/spaces/reports?session=");
    let reply_id = anna_thread
        .body
        .split("data-testid=\"report-post-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let reported = app
        .post_form(&report_url, &[("id", &reply_id), ("reason", "Fel tråd")])
        .await;
    let after = follow(&app, &reported).await;
    assert!(
        after
            .body
            .contains("Nätverkets moderatorer får se din anmälan.")
    );
    let sture_hide = app
        .post_form(
            &format!("/spaces/hidden?session={}", token_of(&sture.body)),
            &[("id", &reply_id), ("reason", "Vill inte")],
        )
        .await;
    assert_eq!(sture_hide.status.as_u16(), 403);
    let leader_thread = app
        .get(&format!("{thread_path}?session={}", token_of(&leader.body)))
        .await;
    assert!(
        leader_thread
            .body
            .contains(&format!("data-testid=\"reports-post-{reply_id}\"")),
        "{}",
        leader_thread.body
    );
    let hide_url = link_containing(&leader_thread.body, "/spaces/hidden?session=");
    let no_reason = app
        .post_form(&hide_url, &[("id", &reply_id), ("reason", " ")])
        .await;
    assert_eq!(no_reason.status.as_u16(), 400);
    assert!(
        no_reason
            .body
            .contains("Skriv ett skäl på högst 500 tecken.")
    );
    let hidden = app
        .post_form(
            &hide_url,
            &[("id", &reply_id), ("reason", "Hör hemma i en annan tråd")],
        )
        .await;
    let after = follow(&app, &hidden).await;
    assert!(
        after
            .body
            .contains(&format!("data-testid=\"hidden-post-{reply_id}\""))
    );
    let anna_thread = app
        .get(&format!("{thread_path}?session={}", token_of(&anna.body)))
        .await;
    assert!(
        !anna_thread.body.contains("digitala handlingar"),
        "{}",
        anna_thread.body
    );
    let token = system_token(&app).await;
    let (_, audit) = api(&app, "GET", "api/v1/audit-log", &token, None).await;
    let audit = audit.to_string();
    for action in [
        "space.create",
        "space.invite",
        "space.grant",
        "space.accept",
        "post.hide",
    ] {
        assert!(audit.contains(action), "{action} in {audit}");
    }
    assert!(audit.contains("Hör hemma i en annan tråd"));

    // Sture's export has his reply; Anna's has her thread with its file.
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
        export["posts"][0]["body"],
        "Vi har gått över till digitala handlingar för alla nämnder."
    );
    assert_eq!(
        export["posts"][0]["hidden_reason"],
        "Hör hemma i en annan tråd"
    );
    let (_, export) = api(
        &app,
        "GET",
        &format!("api/v1/people/{anna_id}/export"),
        &token,
        None,
    )
    .await;
    assert_eq!(export["posts"][0]["title"], "Nämndadministration");
    assert_eq!(
        export["posts"][0]["attachments"][0],
        json!({"file_name": "Umeås plan för nämnder.pdf", "content_type": "application/pdf", "size": PDF.len()})
    );

    // Leaving: the space is closed to Sture again.
    let list = app
        .get(&format!("/spaces?session={}", token_of(&sture.body)))
        .await;
    let left = app
        .post_form(
            &link_containing(&list.body, "/membership?session="),
            &[("action", "leave")],
        )
        .await;
    follow(&app, &left).await;
    assert_eq!(
        app.get(&space_url(space, &sture)).await.status.as_u16(),
        404
    );
}

/// Erases a person through the admin API; returns the erasure's report.
async fn erase(app: &TestApp, token: &str, id: i64, mode: &str) -> serde_json::Value {
    let path = format!("api/v1/people/{id}/erase");
    let (status, report) = api(app, "POST", &path, token, Some(json!({ "mode": mode }))).await;
    assert_eq!(status, 200, "{report}");
    report
}

async fn erasing_a_poster_deletes_or_empties_their_posts(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let (_, skelleftea) = two_lms_run(&app, "e-leader").await;
    let anna = app
        .launch(named(
            in_course("e-anna", "ctx-umea", LaunchSpec::learner("x")),
            "Anna Lind",
        ))
        .await;
    let sture = app
        .launch_via(
            &skelleftea,
            named(
                in_course("e-sture", "ctx-skelleftea", LaunchSpec::learner("x")),
                "Sture Berg",
            ),
        )
        .await;
    let (space, admin) = open_space(&app).await;
    invite(&app, &admin, space, "e-anna", "member").await;
    invite(&app, &admin, space, "e-sture", "member").await;
    accept(&app, &anna).await;
    accept(&app, &sture).await;

    let new_thread = |launch: &Answer, title: &'static str, body: &'static str| {
        let url = format!("/spaces/{space}/threads?session={}", token_of(&launch.body));
        let app = &app;
        async move {
            let posted = post_multipart(app, &url, &[("title", title), ("body", body)], &[]).await;
            assert_eq!(posted.status.as_u16(), 303, "{}", posted.body);
            posted.headers["location"]
                .to_str()
                .unwrap()
                .split('?')
                .next()
                .unwrap()
                .to_owned()
        }
    };
    let reply = |launch: &Answer, thread: &str, body: &'static str| {
        let url = format!("{thread}?session={}", token_of(&launch.body));
        let app = &app;
        async move {
            let posted = post_multipart(app, &url, &[("body", body)], &[]).await;
            assert_eq!(posted.status.as_u16(), 303, "{}", posted.body);
        }
    };
    // Anna's thread with Sture's reply; Sture's thread with Anna's reply; Sture's own thread.
    let annas = new_thread(&anna, "Annas fråga", "Hur gör ni med e-arkiv?").await;
    reply(&sture, &annas, "Sture svarar om e-arkiv.").await;
    let stures = new_thread(&sture, "Stures fråga", "Vem äger informationen?").await;
    reply(&anna, &stures, "Anna svarar om informationsägarskap.").await;
    new_thread(&sture, "Stures ensamma tråd", "Ingen har svarat här.").await;

    // Sture erased with delete: his reply and his unanswered thread go; his answered thread stays,
    // emptied, with Anna's reply in it.
    let token = system_token(&app).await;
    let sture_id = person(&app, "e-sture").await.id;
    let report = erase(&app, &token, sture_id, "delete").await;
    assert_eq!(report["posts"], 3, "{report}");
    let space_page = app.get(&space_url(space, &anna)).await;
    assert!(
        !space_page.body.contains("Stures ensamma tråd"),
        "{}",
        space_page.body
    );
    assert!(!space_page.body.contains("Stures fråga"));
    assert!(space_page.body.contains("(rubriken är borttagen)"));
    let annas_thread = app
        .get(&format!("{annas}?session={}", token_of(&anna.body)))
        .await;
    assert!(
        !annas_thread.body.contains("Sture svarar"),
        "{}",
        annas_thread.body
    );
    let stures_thread = app
        .get(&format!("{stures}?session={}", token_of(&anna.body)))
        .await;
    assert_eq!(stures_thread.status.as_u16(), 200);
    assert!(!stures_thread.body.contains("Vem äger informationen?"));
    assert!(!stures_thread.body.contains("Sture Berg"));
    assert!(
        stures_thread
            .body
            .contains("Inlägget är borttaget på skribentens begäran.")
    );
    assert!(
        stures_thread
            .body
            .contains("Anna svarar om informationsägarskap.")
    );

    // Anna erased with anonymise: her posts stay in place with nothing of her in them.
    let anna_id = person(&app, "e-anna").await.id;
    let report = erase(&app, &token, anna_id, "anonymise").await;
    assert_eq!(report["posts"], 2, "{report}");
    let (_, export) = api(
        &app,
        "GET",
        &format!("api/v1/people/{anna_id}/export"),
        &token,
        None,
    )
    .await;
    assert_eq!(export["posts"], json!([]), "{export}");
    let remaining = entity::space_post::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(remaining.len(), 3, "{remaining:?}");
    assert!(
        remaining
            .iter()
            .all(|p| p.user_id == 0 && p.body.is_empty() && p.author_name.is_none())
    );
}

//! The participant's course, end to end through a real launch: overview, modules, drafts, submits,
//! group answers saved at once by two people, bad input, downloads, and packages on the CLI.
use std::io::Write;

use coursebridge::devplatform::LaunchSpec;
use entity::submission_revision;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{
    Answer, Backend, TestApp, TestDatabase, link_containing, spawn_app, spawn_app_with, version_of,
};

/// A line of /proc/self/status in KiB (`VmRSS`, `VmHWM`).
fn memory_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn importing_a_large_package_holds_a_chunk_of_it_not_the_package(backend: Backend) {
    const FILM_BYTES: usize = 96 * 1024 * 1024;
    let app = spawn_app(backend).await;
    // The demo package with a 96 MiB film under files/, as a .zip on disk.
    let zip_path = std::env::temp_dir().join(format!(
        "cb-large-{}.zip",
        coursebridge::lti::random_token(6)
    ));
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (path, bytes) in coursebridge::course::demo_files() {
            let bytes = if path == "course.toml" {
                String::from_utf8(bytes)
                    .unwrap()
                    .replace("version = \"1.0.0\"", "version = \"3.0.0\"")
                    .into_bytes()
            } else {
                bytes
            };
            zip.start_file(path, options).unwrap();
            zip.write_all(&bytes).unwrap();
        }
        zip.start_file("files/film.mp4", options).unwrap();
        let pattern: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        for _ in 0..FILM_BYTES / pattern.len() {
            zip.write_all(&pattern).unwrap();
        }
        zip.finish().unwrap();
    }

    let before = memory_kib("VmRSS");
    // Writing 5 resets this process's peak (VmHWM) to what it holds now.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let package = coursebridge::admin::courses::read_package(&zip_path).unwrap();
    let stored = coursebridge::admin::courses::import(
        &app.db,
        &coursebridge::admin::access::Principal::cli(),
        &package,
    )
    .await
    .unwrap();
    let grown_mib = memory_kib("VmHWM").saturating_sub(before) / 1024;
    drop(package);
    let _ = std::fs::remove_file(&zip_path);
    assert!(
        grown_mib < 32,
        "importing a package with a 96 MiB file grew the peak by {grown_mib} MiB"
    );

    // All of it was stored, in chunks, and it is what the package held.
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    let film = entity::course_file::Entity::find()
        .filter(entity::course_file::Column::CourseVersionId.eq(stored.id))
        .filter(entity::course_file::Column::Path.eq("files/film.mp4"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(film.size, Some(FILM_BYTES as i64));
    let chunks = entity::course_file_chunk::Entity::find()
        .filter(entity::course_file_chunk::Column::CourseFileId.eq(film.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(chunks, (FILM_BYTES / (256 * 1024)) as u64);
    let last = entity::course_file_chunk::Entity::find()
        .filter(entity::course_file_chunk::Column::CourseFileId.eq(film.id))
        .filter(entity::course_file_chunk::Column::Seq.eq(chunks as i32 - 1))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let offset = FILM_BYTES - 256 * 1024;
    let expected: Vec<u8> = (offset..FILM_BYTES)
        .map(|i| (i % (1024 * 1024) % 251) as u8)
        .collect();
    assert!(
        last.bytes == expected,
        "the last chunk differs from the package's bytes"
    );
}

on_both_databases!(
    overview_lists_the_six_modules_with_their_status,
    a_resource_link_naming_a_module_opens_it,
    a_draft_survives_a_reload_and_a_submit_locks_the_answer,
    a_too_short_answer_is_kept_as_a_draft_with_the_problem_at_its_field,
    an_over_long_answer_is_refused_and_cut_at_the_limit,
    answers_with_html_are_shown_as_text,
    two_group_members_saving_at_once_keep_both_texts,
    autosave_returns_the_new_version_and_refuses_a_stale_one,
    an_unknown_module_is_a_clear_404,
    downloads_come_from_the_package_with_format_and_size,
    large_files_are_stored_in_chunks_and_served_whole_or_in_ranges,
    another_lms_course_does_not_see_these_answers,
    course_check_and_import_on_the_command_line,
    importing_a_large_package_holds_a_chunk_of_it_not_the_package,
    parallel_downloads_of_a_large_file_hold_a_few_chunks_of_it,
);

pub(crate) async fn module_page(app: &TestApp, launch: &Answer, slug: &str) -> Answer {
    app.get(&link_containing(
        &launch.body,
        &format!("/course/m/{slug}?session="),
    ))
    .await
}

fn task_action(page: &Answer, task: &str) -> String {
    link_containing(&page.body, &format!("/t/{task}?session="))
}

async fn overview_lists_the_six_modules_with_their_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.launch(LaunchSpec::learner("ov-1")).await;
    page.assert_landed_as("deltagare");
    assert!(page.body.contains("Leda digital omställning – demokurs"));
    for slug in [
        "ledarskap",
        "mobilisering",
        "koordination",
        "acceleration",
        "leda-forandring",
        "nasta-steg",
    ] {
        assert!(
            page.body.contains(&format!("data-testid=\"status-{slug}\"><span class=\"visually-hidden\">Status: </span>Inte påbörjad<")),
            "{slug}: {}",
            page.body
        );
    }
    assert!(page.body.contains("0 av 6 obligatoriska moduler klara"));
    assert!(page.body.contains("Nästa workshop: Workshop 1, som modulen ”Digital omställning är ledarskap – inte en IT-fråga” förbereder."), "{}", page.body);
}

async fn a_resource_link_naming_a_module_opens_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut spec = LaunchSpec::learner("rl-module-1");
    spec.custom.insert("module".into(), json!("koordination"));
    let page = app.launch(spec).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.body
            .contains("<h1>Koordination – från enskilda initiativ till gemensam styrning</h1>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Reflektionsuppgift 3"));
}

async fn a_draft_survives_a_reload_and_a_submit_locks_the_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let launch = app.launch(LaunchSpec::learner("draft-1")).await;
    let page = module_page(&app, &launch, "ledarskap").await;
    // The first module leads on to the second, and the second back to the first.
    let neighbours = &page.body[page.body.find("data-testid=\"module-neighbours\"").unwrap()..];
    assert!(!neighbours.contains("rel=\"prev\""));
    assert!(
        neighbours.contains("/course/m/mobilisering?session="),
        "{neighbours}"
    );
    let second = app
        .get(&link_containing(
            neighbours,
            "/course/m/mobilisering?session=",
        ))
        .await;
    let back = &second.body[second
        .body
        .find("data-testid=\"module-neighbours\"")
        .unwrap()..];
    assert!(back.contains("/course/m/ledarskap?session=") && back.contains("rel=\"prev\""));
    // The length rule is there before anyone writes, tied to the field.
    assert!(
        page.body
            .contains("<p class=\"meta\" id=\"answer-vad-betyder-0-hint\">Skriv minst 20 tecken."),
        "{}",
        page.body
    );
    let action = task_action(&page, "vad-betyder");
    let text = "Att invånarna kan göra ärenden när det passar dem.";
    let saved = app
        .post_form(
            &action,
            &[("version", "0"), ("answer_0", text), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status.as_u16(), 303, "{}", saved.body);
    let location = saved.headers["location"].to_str().unwrap().to_owned();
    let reloaded = app.get(&location).await;
    assert!(reloaded.body.contains("Utkastet är sparat."));
    assert!(
        reloaded.body.contains(text),
        "the draft is back after a reload"
    );
    assert!(reloaded.body.contains("data-testid=\"task-status-vad-betyder\"><span class=\"visually-hidden\">Status: </span>Utkast sparat<"));

    let version = version_of(&reloaded, "vad-betyder");
    let submitted = app
        .post_form(
            &action,
            &[
                ("version", &version),
                ("answer_0", text),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(submitted.status.as_u16(), 303);
    let after = app
        .get(submitted.headers["location"].to_str().unwrap())
        .await;
    assert!(after.body.contains("Ditt svar är inskickat."));
    assert!(after.body.contains(">Inskickad<"));
    assert!(
        after.body.contains(" readonly"),
        "a submitted answer is read-only"
    );
    // And says so, apart from how an editable one looks.
    assert!(after.body.contains(
        "data-testid=\"locked-vad-betyder\">Inskickat. Svaret kan inte ändras medan kursledaren granskar det.<"
    ));

    // A later change is refused, and the text sent with it is kept.
    let version = version_of(&after, "vad-betyder");
    let late = app
        .post_form(
            &action,
            &[
                ("version", &version),
                ("answer_0", "ändrat"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(late.status.as_u16(), 409);
    assert!(late.body.contains("redan inskickat"));
    let overview = app
        .get(&link_containing(&after.body, "/course?session="))
        .await;
    assert!(overview.body.contains("data-testid=\"status-ledarskap\"><span class=\"visually-hidden\">Status: </span>Påbörjad<"), "{}", overview.body);
}

async fn a_too_short_answer_is_kept_as_a_draft_with_the_problem_at_its_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let launch = app.launch(LaunchSpec::learner("short-answer-1")).await;
    let page = module_page(&app, &launch, "ledarskap").await;
    let action = task_action(&page, "vems-beslut");
    let refused = app
        .post_form(
            &action,
            &[("version", "0"), ("answer_0", "IT"), ("action", "submit")],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422);
    assert!(
        refused
            .body
            .contains("Svaret behöver vara minst 20 tecken.")
    );
    assert!(
        refused
            .body
            .contains("aria-invalid=\"true\" aria-describedby=\"answer-vems-beslut-0-error answer-vems-beslut-0-hint\"")
    );
    assert!(
        refused.body.contains(">IT</textarea>"),
        "what was typed stays in the field"
    );
    // The outcome is at the top, where focus lands, and links to the field.
    let summary = refused
        .body
        .find("data-testid=\"error-summary\"")
        .expect("an error summary");
    assert!(summary < refused.body.find("id=\"task-vad-betyder\"").unwrap());
    assert!(
        refused.body[summary..].contains(
            "<a href=\"#answer-vems-beslut-0\">Reflektionsuppgift 2 – Svaret behöver vara minst 20 tecken.</a>"
        ),
        "{}",
        refused.body
    );
    let again = module_page(&app, &launch, "ledarskap").await;
    assert!(
        again.body.contains(">IT</textarea>"),
        "and it was stored as a draft"
    );
}

async fn an_over_long_answer_is_refused_and_cut_at_the_limit(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.max_answer_chars = 100).await;
    let launch = app.launch(LaunchSpec::learner("long-1")).await;
    let page = module_page(&app, &launch, "ledarskap").await;
    let action = task_action(&page, "vad-betyder");
    let long = "å".repeat(150);
    let refused = app
        .post_form(
            &action,
            &[("version", "0"), ("answer_0", &long), ("action", "save")],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422);
    assert!(refused.body.contains("högst 100 tecken"));
    let again = module_page(&app, &launch, "ledarskap").await;
    assert!(
        again
            .body
            .contains(&format!(">{}</textarea>", "å".repeat(100)))
    );
}

async fn answers_with_html_are_shown_as_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let launch = app.launch(LaunchSpec::learner("xss-1")).await;
    let page = module_page(&app, &launch, "ledarskap").await;
    let action = task_action(&page, "vad-betyder");
    let hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    app.post_form(
        &action,
        &[("version", "0"), ("answer_0", hostile), ("action", "save")],
    )
    .await;
    let again = module_page(&app, &launch, "ledarskap").await;
    assert!(!again.body.contains("<script>alert"));
    assert!(!again.body.contains("<img src=x"));
    assert!(
        again.body.contains("&lt;script&gt;") || again.body.contains("&#60;script&#62;"),
        "{}",
        again.body
    );
}

async fn two_group_members_saving_at_once_keep_both_texts(backend: Backend) {
    let app = spawn_app(backend).await;
    let anna = app.launch(LaunchSpec::learner("group-anna")).await;
    let bo = app.launch(LaunchSpec::learner("group-bo")).await;
    let anna_page = module_page(&app, &anna, "ledarskap").await;
    let bo_page = module_page(&app, &bo, "ledarskap").await;
    assert!(anna_page.body.contains("Gruppuppgift"));
    // Both opened the empty group answer (version 0); Anna saves first.
    let first = app
        .post_form(
            &task_action(&anna_page, "gemensam-mening"),
            &[
                ("version", "0"),
                ("answer_0", "Annas mening om varför."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(first.status.as_u16(), 303);
    let second = app
        .post_form(
            &task_action(&bo_page, "gemensam-mening"),
            &[
                ("version", "0"),
                ("answer_0", "Bos mening om varför."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(second.status.as_u16(), 409, "{}", second.body);
    assert!(
        second
            .body
            .contains("Någon annan sparade samma svar samtidigt")
    );
    assert!(
        second.body.contains(">Annas mening om varför.</textarea>"),
        "the stored text is shown"
    );
    assert!(
        second.body.contains("Bos mening om varför."),
        "and Bo's own text is kept on the page"
    );
    // Bo's text is stored too, as a conflict revision.
    let revisions = submission_revision::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        revisions
            .iter()
            .any(|r| r.conflict && r.answers.contains("Bos mening")),
        "{revisions:?}"
    );
    // Bo sees the group answer Anna wrote: one shared answer for the group.
    let bo_again = module_page(&app, &bo, "ledarskap").await;
    assert!(
        bo_again
            .body
            .contains(">Annas mening om varför.</textarea>")
    );
}

async fn autosave_returns_the_new_version_and_refuses_a_stale_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let launch = app.launch(LaunchSpec::learner("auto-1")).await;
    let page = module_page(&app, &launch, "mobilisering").await;
    let url = link_containing(&page.body, "/t/konkret-fall/draft?session=");
    let first = app
        .post_form(
            &url,
            &[
                ("version", "0"),
                ("answer_0", "Väntetider"),
                ("action", "autosave"),
            ],
        )
        .await;
    assert_eq!(first.status.as_u16(), 200, "{}", first.body);
    let body: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(body["version"], 1);
    assert!(body["saved_at"].as_str().unwrap().contains(':'));
    let next = app
        .post_form(
            &url,
            &[
                ("version", "1"),
                ("answer_0", "Väntetider i bygglov"),
                ("action", "autosave"),
            ],
        )
        .await;
    assert_eq!(
        serde_json::from_str::<Value>(&next.body).unwrap()["version"],
        2
    );
    let stale = app
        .post_form(
            &url,
            &[
                ("version", "1"),
                ("answer_0", "gammal flik"),
                ("action", "autosave"),
            ],
        )
        .await;
    assert_eq!(stale.status.as_u16(), 409);
    let again = module_page(&app, &launch, "mobilisering").await;
    assert!(again.body.contains(">Väntetider i bygglov</textarea>"));
}

async fn an_unknown_module_is_a_clear_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let launch = app.launch(LaunchSpec::learner("404-1")).await;
    let link = link_containing(&launch.body, "/course/m/ledarskap?session=")
        .replace("/m/ledarskap", "/m/finns-inte");
    let page = app.get(&link).await;
    page.assert_refused(404, "COURSE_NOT_FOUND");
    assert!(page.body.contains("Modulen eller uppgiften finns inte"));
    // The technical detail (in English) is folded away for the platform's administrator, marked
    // as English, with no heading larger than the message.
    let technical = &page.body[page
        .body
        .find("<details class=\"technical\">")
        .expect("folded")..];
    assert!(technical.contains("<p lang=\"en\"><code data-testid=\"error-detail\">"));
    assert!(!page.body.contains("<h2"), "{}", page.body);
    let no_session = app.get("/course/m/ledarskap").await;
    no_session.assert_refused(401, "SESSION_INVALID");
}

async fn downloads_come_from_the_package_with_format_and_size(backend: Backend) {
    let app = spawn_app(backend).await;
    let launch = app.launch(LaunchSpec::learner("dl-1")).await;
    let page = module_page(&app, &launch, "ledarskap").await;
    assert!(
        page.body
            .contains("Arbetsblad inför workshop 1</a> <span class=\"meta\">(TXT, "),
        "{}",
        page.body
    );
    let file = app
        .get(&link_containing(
            &page.body,
            "/course/files/arbetsblad.txt?session=",
        ))
        .await;
    assert_eq!(file.status.as_u16(), 200);
    assert_eq!(file.headers["content-type"], "text/plain; charset=utf-8");
    assert!(
        file.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("arbetsblad.txt")
    );
    assert!(file.body.starts_with("Arbetsblad"));
    assert_eq!(file.headers["accept-ranges"], "bytes");
    // A player seeking asks for a range and gets just that.
    let url = app
        .base
        .join(
            link_containing(&page.body, "/course/files/arbetsblad.txt?session=")
                .trim_start_matches('/'),
        )
        .unwrap();
    let part = app
        .client
        .get(url.clone())
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status().as_u16(), 206);
    let total = file.body.len();
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 0-9/{total}").as_str()
    );
    assert_eq!(part.text().await.unwrap(), file.body[..10]);
    let past = app
        .client
        .get(url)
        .header("range", format!("bytes={total}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(past.status().as_u16(), 416);
    assert_eq!(
        past.headers()["content-range"],
        format!("bytes */{total}").as_str()
    );
}

async fn large_files_are_stored_in_chunks_and_served_whole_or_in_ranges(backend: Backend) {
    let app = spawn_app(backend).await;
    // The demo course again as version 1.0.1, with a worksheet of 700 KB: three chunks.
    let mut files = coursebridge::course::demo_files();
    let toml = String::from_utf8(files["course.toml"].clone()).unwrap();
    files.insert(
        "course.toml".into(),
        toml.replacen("version = \"1.0.0\"", "version = \"1.0.1\"", 1)
            .into_bytes(),
    );
    let mut big = b"Arbetsblad ".to_vec();
    let mut state = 7u32;
    while big.len() < 700 * 1024 {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        big.push(b'a' + (state >> 16) as u8 % 26);
    }
    files.insert("files/arbetsblad.txt".into(), big.clone());
    coursebridge::admin::courses::import(
        &app.db,
        &coursebridge::admin::access::Principal::cli(),
        &files.clone().into(),
    )
    .await
    .unwrap();
    use sea_orm::{EntityTrait, PaginatorTrait};
    let chunks = entity::course_file_chunk::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert!(chunks >= 3, "{chunks} chunks");

    let launch = app.launch(LaunchSpec::learner("chunks-1")).await;
    let page = module_page(&app, &launch, "ledarskap").await;
    let url = app
        .base
        .join(
            link_containing(&page.body, "/course/files/arbetsblad.txt?session=")
                .trim_start_matches('/'),
        )
        .unwrap();
    let whole = app.client.get(url.clone()).send().await.unwrap();
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(whole.bytes().await.unwrap().as_ref(), big.as_slice());
    // A range across the first chunk boundary (256 KiB) and one at the very end.
    for (first, last) in [
        (262_000u64, 263_000u64),
        (big.len() as u64 - 5, big.len() as u64 - 1),
    ] {
        let part = app
            .client
            .get(url.clone())
            .header("range", format!("bytes={first}-{last}"))
            .send()
            .await
            .unwrap();
        assert_eq!(part.status().as_u16(), 206);
        assert_eq!(
            part.bytes().await.unwrap().as_ref(),
            &big[first as usize..=last as usize]
        );
    }
}

async fn parallel_downloads_of_a_large_file_hold_a_few_chunks_of_it(backend: Backend) {
    const FILE_BYTES: usize = 64 * 1024 * 1024;
    let app = spawn_app(backend).await;
    {
        let mut files = coursebridge::course::demo_files();
        let toml = String::from_utf8(files["course.toml"].clone()).unwrap();
        files.insert(
            "course.toml".into(),
            toml.replacen("version = \"1.0.0\"", "version = \"1.0.2\"", 1)
                .into_bytes(),
        );
        let big: Vec<u8> = (0..FILE_BYTES).map(|i| (i % 251) as u8).collect();
        files.insert("files/arbetsblad.txt".into(), big);
        coursebridge::admin::courses::import(
            &app.db,
            &coursebridge::admin::access::Principal::cli(),
            &files.into(),
        )
        .await
        .unwrap();
    }
    let launch = app.launch(LaunchSpec::learner("parallel-1")).await;
    let page = module_page(&app, &launch, "ledarskap").await;
    let url = app
        .base
        .join(
            link_containing(&page.body, "/course/files/arbetsblad.txt?session=")
                .trim_start_matches('/'),
        )
        .unwrap();

    let before = memory_kib("VmRSS");
    // Writing 5 resets this process's peak (VmHWM) to what it holds now.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let downloads = (0..4).map(|_| {
        let client = app.client.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let mut response = client.get(url).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let mut received = 0;
            while let Some(chunk) = response.chunk().await.unwrap() {
                received += chunk.len();
            }
            received
        })
    });
    for download in downloads.collect::<Vec<_>>() {
        assert_eq!(download.await.unwrap(), FILE_BYTES);
    }
    let grown_mib = memory_kib("VmHWM").saturating_sub(before) / 1024;
    // The server and its client are this process: what it grew by is what four downloads held,
    // mapped database pages included.
    assert!(
        grown_mib < 32,
        "4 downloads of a 64 MiB file at once grew the peak by {grown_mib} MiB"
    );
}

async fn another_lms_course_does_not_see_these_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.launch(LaunchSpec::learner("tenant-1")).await;
    let page = module_page(&app, &first, "ledarskap").await;
    let saved = app
        .post_form(
            &task_action(&page, "gemensam-mening"),
            &[
                ("version", "0"),
                ("answer_0", "Hemlig gruppmening."),
                ("action", "save"),
            ],
        )
        .await;
    // The answer is saved and shown in its own course, so its absence below means something.
    assert_eq!(saved.status.as_u16(), 303, "{}", saved.body);
    let reloaded = module_page(&app, &first, "ledarskap").await;
    assert!(
        reloaded.body.contains("Hemlig gruppmening."),
        "{}",
        reloaded.body
    );
    let mut other = LaunchSpec::learner("tenant-1");
    other.context = Some(("another-course".into(), "X".into(), "En annan kurs".into()));
    let second = app.launch(other).await;
    let other_page = module_page(&app, &second, "ledarskap").await;
    assert_eq!(other_page.status.as_u16(), 200, "{}", other_page.body);
    assert!(
        other_page.body.contains("gemensam-mening"),
        "{}",
        other_page.body
    );
    assert!(!other_page.body.contains("Hemlig gruppmening."));
}

async fn course_check_and_import_on_the_command_line(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"))
            .args(args)
            .env("COURSEBRIDGE_DATABASE_URL", &database.url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let root =
        std::env::temp_dir().join(format!("cb-package-{}", coursebridge::lti::random_token(6)));
    // A .zip of the demo package with version 2.0.0, wrapped in one top folder as zip tools make it.
    let zip_path = root.with_extension("zip");
    {
        let file = std::fs::File::create(&zip_path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (path, bytes) in coursebridge::course::demo_files() {
            let bytes = if path == "course.toml" {
                String::from_utf8(bytes)
                    .unwrap()
                    .replace("version = \"1.0.0\"", "version = \"2.0.0\"")
                    .into_bytes()
            } else {
                bytes
            };
            zip.start_file(format!("kurs/{path}"), options).unwrap();
            zip.write_all(&bytes).unwrap();
        }
        zip.finish().unwrap();
    }
    let zip_arg = zip_path.to_str().unwrap();
    let checked = run(&["course", "check", zip_arg]);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        String::from_utf8_lossy(&checked.stdout)
            .contains("2.0.0: valid — 6 modules, 18 reflection tasks")
    );
    let imported = run(&["course", "import", zip_arg]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let again = run(&["course", "import", zip_arg]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already imported"));

    // A broken folder package: every problem with file and line, exit 2, nothing stored.
    std::fs::create_dir_all(root.join("modules")).unwrap();
    for (path, bytes) in coursebridge::course::demo_files() {
        let target = root.join(&path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    let broken = std::fs::read_to_string(root.join("modules/3-koordination.md"))
        .unwrap()
        .replace("kind = \"group\"", "kind = \"alla\"");
    std::fs::write(root.join("modules/3-koordination.md"), broken).unwrap();
    let checked = run(&["course", "check", root.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&checked.stderr);
    assert!(
        stderr.contains("modules/3-koordination.md:43: unknown variant `alla`"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_file(&zip_path);
}

on_both_databases!(
    my_answers_gather_the_answers_and_results_on_one_printable_page,
    the_baseline_self_assessment_needs_every_answer_then_shows_the_result,
    the_final_round_shows_the_baseline_beside_it,
    a_returned_answer_shows_the_feedback_and_can_be_resubmitted,
    the_course_completes_with_approved_tasks_and_both_self_assessments,
);

fn all_ratings(current: &str, target: &str) -> Vec<(String, String)> {
    let framework = coursebridge::course::load(&coursebridge::course::demo_files())
        .unwrap()
        .framework;
    let mut fields = Vec::new();
    for subarea in framework.subareas {
        fields.push((format!("current_{}", subarea.slug), current.to_owned()));
        fields.push((format!("target_{}", subarea.slug), target.to_owned()));
    }
    fields
}

pub(crate) async fn submit_assessment(
    app: &TestApp,
    url: &str,
    current: &str,
    target: &str,
) -> Answer {
    let mut fields = all_ratings(current, target);
    fields.push(("action".into(), "submit".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.post_form(url, &pairs).await
}

/// "Mina svar": the participant's own answers and submitted self-assessment on one page, with a
/// print stylesheet; another participant's answers are not on it.
async fn my_answers_gather_the_answers_and_results_on_one_printable_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app.launch(LaunchSpec::learner("mine-other")).await;
    let page = module_page(&app, &other, "ledarskap").await;
    app.post_form(
        &task_action(&page, "vad-betyder"),
        &[
            ("version", "0"),
            ("answer_0", "Någon annans svar, långt nog."),
            ("action", "save"),
        ],
    )
    .await;
    let launch = app.launch(LaunchSpec::learner("mine-1")).await;
    let page = module_page(&app, &launch, "ledarskap").await;
    let answer_text = "Att invånarna kan göra ärenden när det passar dem.";
    let text = answer_text;
    app.post_form(
        &task_action(&page, "vad-betyder"),
        &[("version", "0"), ("answer_0", text), ("action", "submit")],
    )
    .await;
    let module = module_page(&app, &launch, "mobilisering").await;
    let url = link_containing(&module.body, "/course/assessment/baseline?session=");
    submit_assessment(&app, &url, "mobilisering", "acceleration").await;
    let overview = app
        .get(&link_containing(&module.body, "/course?session="))
        .await;
    // The overview ticks what is handed in, self-assessments among the tasks, and starts with
    // where the participant left off.
    let items = &overview.body[overview
        .body
        .find("data-testid=\"items-ledarskap\"")
        .unwrap()..];
    assert!(
        items.starts_with("data-testid=\"items-ledarskap\"><li class=\"item-done\"><span aria-hidden=\"true\">✓ </span>Reflektionsuppgift 1<"),
        "{items}"
    );
    assert!(items.contains("<li class=\"item-open\">"));
    let later = &overview.body[overview
        .body
        .find("data-testid=\"items-mobilisering\"")
        .unwrap()..];
    assert!(
        later.contains("✓ </span>Självskattning: baslinje<"),
        "{later}"
    );
    assert!(
        overview.body.contains(
            "data-testid=\"resume\">Fortsätt där du slutade: Digital omställning är ledarskap"
        ),
        "{}",
        overview.body
    );
    let mine = app
        .get(&link_containing(
            &overview.body,
            "/course/my-answers?session=",
        ))
        .await;
    assert_eq!(mine.status.as_u16(), 200);
    assert!(mine.body.contains("<h1>Mina svar</h1>"), "{}", mine.body);
    assert!(
        mine.body.contains(&format!("<pre>{text}</pre>")),
        "{}",
        mine.body
    );
    assert!(mine.body.contains("(Inskickad)"));
    assert!(!mine.body.contains("Någon annans svar"));
    let baseline = &mine.body[mine
        .body
        .find("data-testid=\"my-round-1\"")
        .expect("the baseline")..];
    assert!(
        baseline.contains("<td>Mobilisering</td><td>Acceleration</td>"),
        "{baseline}"
    );
    let css = app.get("/assets/app.css").await;
    assert!(css.body.contains("@media print"));

    // The same document as a PDF, read back by poppler's pdftotext and pdfinfo.
    let pdf_url = link_containing(&mine.body, "/course/my-answers.pdf?session=");
    let response = app
        .client
        .get(app.base.join(&pdf_url).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"mina-svar.pdf\""
    );
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let file = std::env::temp_dir().join(format!("mina-svar-{}.pdf", std::process::id()));
    std::fs::write(&file, &bytes).unwrap();
    let read = |tool: &str| {
        let output = std::process::Command::new(tool)
            .arg(&file)
            .args(if tool == "pdftotext" {
                &["-"][..]
            } else {
                &[][..]
            })
            .output()
            .unwrap_or_else(|e| panic!("{tool} (poppler-utils, installed by scripts/test): {e}"));
        assert!(output.status.success(), "{tool}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let text = read("pdftotext");
    let info = read("pdfinfo");
    std::fs::remove_file(&file).unwrap();
    for expected in [
        "Mina svar",
        answer_text,
        "Reflektionsuppgift 1 (Inskickad)",
        "Nuläge: Mobilisering. Mål: Acceleration.",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    assert!(!text.contains("Någon annans svar"), "{text}");
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(info.contains("Title:           Mina svar – "), "{info}");
}

async fn the_baseline_self_assessment_needs_every_answer_then_shows_the_result(backend: Backend) {
    let app = spawn_app(backend).await;
    let launch = app.launch(LaunchSpec::learner("sa-1")).await;
    let module = module_page(&app, &launch, "mobilisering").await;
    let url = link_containing(&module.body, "/course/assessment/baseline?session=");
    let form = app.get(&url).await;
    assert_eq!(form.status.as_u16(), 200);
    assert!(form.body.contains("<legend>Riktning och mål</legend>"));
    assert!(
        form.body
            .contains("<option value=\"not-relevant\">Ej aktuellt</option>")
    );

    let partial = app
        .post_form(
            &url,
            &[("current_samverkan", "koordination"), ("action", "submit")],
        )
        .await;
    assert_eq!(partial.status.as_u16(), 422);
    assert!(
        partial
            .body
            .contains("aria-invalid=\"true\" aria-describedby=\"current-riktning-och-mal-error\"")
    );
    assert!(
        partial
            .body
            .contains("<option value=\"koordination\" selected>"),
        "the chosen answer stays"
    );

    let hostile = app
        .post_form(
            &url,
            &[("current_samverkan", "<script>"), ("action", "save")],
        )
        .await;
    hostile.assert_refused(400, "BAD_REQUEST");

    let done = submit_assessment(&app, &url, "mobilisering", "acceleration").await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.body);
    let result = app.get(done.headers["location"].to_str().unwrap()).await;
    assert!(result.body.contains("Självskattningen är inskickad."));
    assert!(result.body.contains("data-testid=\"result-table\""));
    assert!(
        result
            .body
            .contains("<th scope=\"row\">Samverkan</th><td>Mobilisering</td><td>Acceleration</td>"),
        "{}",
        result.body
    );
    assert!(
        result
            .body
            .contains("role=\"img\" aria-labelledby=\"chart-caption\"")
    );
    let locked = submit_assessment(&app, &url, "acceleration", "acceleration").await;
    assert_eq!(locked.status.as_u16(), 409);
    let module = module_page(&app, &launch, "mobilisering").await;
    assert!(module.body.contains("Inskickad</span>"));
}

async fn the_final_round_shows_the_baseline_beside_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let launch = app.launch(LaunchSpec::learner("sa-2")).await;
    let baseline = link_containing(
        &module_page(&app, &launch, "mobilisering").await.body,
        "/course/assessment/baseline?session=",
    );
    submit_assessment(&app, &baseline, "not-started", "koordination").await;
    let final_url = link_containing(
        &module_page(&app, &launch, "nasta-steg").await.body,
        "/course/assessment/final?session=",
    );
    let done = submit_assessment(&app, &final_url, "koordination", "acceleration").await;
    let result = app.get(done.headers["location"].to_str().unwrap()).await;
    assert!(result.body.contains("Nuläge vid baslinjen"));
    assert!(result.body.contains("<th scope=\"row\">Samverkan</th><td>Ej påbörjat</td><td>Koordination</td><td>Acceleration</td>"), "{}", result.body);
}

async fn set_status(app: &TestApp, task: &str, status: &str, feedback: Option<&str>) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter};
    let row = entity::submission::Entity::find()
        .filter(entity::submission::Column::TaskSlug.eq(task))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: entity::submission::ActiveModel = row.into();
    active.status = Set(status.into());
    active.feedback = Set(feedback.map(str::to_owned));
    active.update(&app.db).await.unwrap();
}

async fn a_returned_answer_shows_the_feedback_and_can_be_resubmitted(backend: Backend) {
    let app = spawn_app(backend).await;
    let launch = app.launch(LaunchSpec::learner("ret-1")).await;
    let page = module_page(&app, &launch, "ledarskap").await;
    let action = task_action(&page, "vad-betyder");
    let text = "Invånarna slipper fylla i samma uppgifter flera gånger.";
    app.post_form(
        &action,
        &[("version", "0"), ("answer_0", text), ("action", "submit")],
    )
    .await;
    // The instructor returns it (the review pages come with the instructor issue).
    set_status(
        &app,
        "vad-betyder",
        "returned",
        Some("Ge gärna ett konkret exempel."),
    )
    .await;
    let returned = module_page(&app, &launch, "ledarskap").await;
    assert!(returned.body.contains(">Återsänd för komplettering<"));
    assert!(returned.body.contains("Ge gärna ett konkret exempel."));
    assert!(!returned.body.contains(" readonly"));
    let version = version_of(&returned, "vad-betyder");
    let better = format!("{text} Till exempel vid ansökan om bygglov.");
    let again = app
        .post_form(
            &action,
            &[
                ("version", &version),
                ("answer_0", &better),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(again.status.as_u16(), 303, "{}", again.body);
    let after = module_page(&app, &launch, "ledarskap").await;
    assert!(after.body.contains(&better));
    assert!(after.body.contains("data-testid=\"task-status-vad-betyder\"><span class=\"visually-hidden\">Status: </span>Inskickad<"));
}

async fn the_course_completes_with_approved_tasks_and_both_self_assessments(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let app = spawn_app(backend).await;
    let launch = app.launch(LaunchSpec::learner("complete-1")).await;
    let course = coursebridge::course::load(&coursebridge::course::demo_files()).unwrap();
    for module in &course.modules {
        let page = module_page(&app, &launch, &module.slug).await;
        for task in module.tasks() {
            let answer = "Ett genomtänkt svar som är tillräckligt långt.";
            let posted = app
                .post_form(
                    &task_action(&page, &task.slug),
                    &[("version", "0"), ("answer_0", answer), ("action", "submit")],
                )
                .await;
            assert_eq!(
                posted.status.as_u16(),
                303,
                "{}: {}",
                task.slug,
                posted.body
            );
        }
    }
    let overview = app
        .get(&link_containing(
            &module_page(&app, &launch, "ledarskap").await.body,
            "/course?session=",
        ))
        .await;
    assert!(overview.body.contains("data-testid=\"status-ledarskap\"><span class=\"visually-hidden\">Status: </span>Inskickad<"), "reviews pending");
    assert!(overview.body.contains("0 av 6 obligatoriska moduler klara"));
    app.db
        .execute_unprepared("UPDATE submission SET status = 'approved'")
        .await
        .unwrap();
    let overview = app
        .get(&link_containing(
            &module_page(&app, &launch, "ledarskap").await.body,
            "/course?session=",
        ))
        .await;
    assert!(overview.body.contains("6 av 6 obligatoriska moduler klara"));
    assert!(
        !overview.body.contains("data-testid=\"course-complete\""),
        "self-assessments still missing"
    );
    let baseline = link_containing(
        &module_page(&app, &launch, "mobilisering").await.body,
        "/course/assessment/baseline?session=",
    );
    submit_assessment(&app, &baseline, "mobilisering", "koordination").await;
    let final_url = link_containing(
        &module_page(&app, &launch, "nasta-steg").await.body,
        "/course/assessment/final?session=",
    );
    submit_assessment(&app, &final_url, "koordination", "acceleration").await;
    let overview = app
        .get(&link_containing(
            &module_page(&app, &launch, "ledarskap").await.body,
            "/course?session=",
        ))
        .await;
    assert!(
        overview.body.contains("data-testid=\"course-complete\""),
        "{}",
        overview.body
    );
}

on_both_databases!(the_accessibility_statement_names_the_organisation_and_takes_feedback);

async fn the_accessibility_statement_names_the_organisation_and_takes_feedback(backend: Backend) {
    let app = spawn_app(backend).await;
    let launch = app.launch(LaunchSpec::learner("a11y-1")).await;
    let url = link_containing(&launch.body, "/accessibility?session=");
    let statement = app.get(&url).await;
    assert_eq!(statement.status.as_u16(), 200);
    assert!(
        statement
            .body
            .contains("<h1>Tillgänglighetsredogörelse</h1>")
    );
    assert!(
        statement
            .body
            .contains("Umeå kommun använder kurstjänsten coursebridge"),
        "{}",
        statement.body
    );
    let empty = app.post_form(&url, &[("message", "  ")]).await;
    assert_eq!(empty.status.as_u16(), 422);
    assert!(
        empty
            .body
            .contains("aria-describedby=\"feedback-message-error\"")
    );
    let sent = app
        .post_form(
            &url,
            &[
                ("message", "Diagrammet saknar mönster i utskrift."),
                ("page", "Självskattning"),
            ],
        )
        .await;
    assert_eq!(sent.status.as_u16(), 303);
    let thanked = app.get(sent.headers["location"].to_str().unwrap()).await;
    assert!(thanked.body.contains("Tack! Din rapport är mottagen."));
    let stored = entity::accessibility_feedback::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].page, "Självskattning");
    assert!(stored[0].deployment_id.is_some());
    // Public too, without a launch, in the browser's language.
    let public = app
        .client
        .get(app.base.join("accessibility").unwrap())
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(public.contains("<h1>Accessibility statement</h1>"));
}

on_both_databases!(the_default_accessibility_statement_is_correct_and_complete_in_both_languages);

/// Without the operator's values the statement still reads right: no circular operator, no
/// sentence starting in lower case, no Swedish on the English page, no "email" with no address.
async fn the_default_accessibility_statement_is_correct_and_complete_in_both_languages(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    for (accept, intro, wrong) in [
        (
            "sv-SE,sv;q=0.9",
            "<p>Det här är kurstjänsten coursebridge.",
            ["den organisation som driver tjänsten", "eller mejla</p>"],
        ),
        (
            "en-GB,en;q=0.9",
            "<p>This is the course service coursebridge.",
            ["den organisation", "or email</p>"],
        ),
    ] {
        let page = app
            .client
            .get(app.base.join("accessibility").unwrap())
            .header("accept-language", accept)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(intro), "{page}");
        for wrong in wrong {
            assert!(!page.contains(wrong), "{wrong:?} in {page}");
        }
    }
    // A launch names its deployment's organisation, and the operator when one is configured.
    let launch = app.launch(LaunchSpec::learner("a11y-default")).await;
    let statement = app
        .get(&link_containing(&launch.body, "/accessibility?session="))
        .await;
    assert!(
        statement
            .body
            .contains("<p>Umeå kommun använder kurstjänsten coursebridge. Vi vill"),
        "{}",
        statement.body
    );
    let configured = crate::helpers::spawn_app_with(backend, |config| {
        config.accessibility_operator = "Region Västerbotten".into();
        config.accessibility_contact = "tillganglighet@regionvasterbotten.se".into();
    })
    .await;
    let launch = configured.launch(LaunchSpec::learner("a11y-set")).await;
    let statement = configured
        .get(&link_containing(&launch.body, "/accessibility?session="))
        .await;
    assert!(
        statement.body.contains(
            "Umeå kommun använder kurstjänsten coursebridge, som drivs av Region Västerbotten."
        ),
        "{}",
        statement.body
    );
    assert!(
        statement
            .body
            .contains("mejla <a href=\"mailto:tillganglighet@regionvasterbotten.se\">")
    );
}

on_both_databases!(a_new_version_with_a_video_reaches_new_lms_courses_while_old_ones_keep_theirs);

async fn a_new_version_with_a_video_reaches_new_lms_courses_while_old_ones_keep_theirs(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let old_course = app.launch(LaunchSpec::learner("video-1")).await;
    let mut files = coursebridge::course::demo_files();
    let course_toml = String::from_utf8(files["course.toml"].clone())
        .unwrap()
        .replace("version = \"1.0.0\"", "version = \"1.1.0\"");
    files.insert("course.toml".into(), course_toml.into_bytes());
    files.insert("files/intro.mp4".into(), vec![0u8; 2048]);
    files.insert(
        "files/intro.vtt".into(),
        b"WEBVTT\n\n00:00.000 --> 00:02.000\nHej och v\xc3\xa4lkommen.\n".to_vec(),
    );
    let module = String::from_utf8(files["modules/1-ledarskap.md"].clone()).unwrap();
    let video = "\n::: video\ntitle = { sv = \"Introduktion\", en = \"Introduction\" }\nsource = \"files/intro.mp4\"\ncaptions = \"files/intro.vtt\"\ntranscript = { sv = \"Hej och välkommen.\", en = \"Hello and welcome.\" }\n:::\n";
    files.insert(
        "modules/1-ledarskap.md".into(),
        format!("{module}{video}").into_bytes(),
    );
    coursebridge::admin::courses::import(
        &app.db,
        &coursebridge::admin::access::Principal::cli(),
        &files.clone().into(),
    )
    .await
    .unwrap();

    // A new LMS course starts on 1.1.0 and shows the video with captions and a transcript.
    let mut spec = LaunchSpec::learner("video-1");
    spec.context = Some(("newer-course".into(), "N".into(), "Ny kurs".into()));
    let new_course = app.launch(spec).await;
    let page = module_page(&app, &new_course, "ledarskap").await;
    assert!(
        page.body.contains("<video controls preload=\"metadata\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("<track kind=\"captions\""));
    assert!(page.body.contains("Hej och välkommen."));
    let captions = app
        .get(&link_containing(
            &page.body,
            "/course/files/intro.vtt?session=",
        ))
        .await;
    assert_eq!(captions.headers["content-type"], "text/vtt; charset=utf-8");
    // The course that started on 1.0.0 stays on it.
    let page = module_page(&app, &old_course, "ledarskap").await;
    assert!(!page.body.contains("<video"));
}

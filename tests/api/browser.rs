//! The participant's, instructor's and administrator's pages in a real browser: Debian's Chromium driven by playwright-core, axe-core
//! on every page (tests/browser/participant.mjs), against the real server and the development LMS
//! served from another site.
use std::{process::Command, time::Duration};

use crate::helpers::{Backend, spawn_app_with_lms_at_localhost};

on_both_databases!(
    participant_journey_in_chromium_with_third_party_cookies_blocked,
    sign_in_journey_in_chromium,
);

async fn participant_journey_in_chromium_with_third_party_cookies_blocked(backend: Backend) {
    let app = spawn_app_with_lms_at_localhost(backend).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        root.join("node_modules/playwright-core").exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "browser tests need Chromium and tests/browser/node_modules: run scripts/test (it installs them)"
    );
    // A contact person for the organisation of the development LMS's deployment.
    let platform = coursebridge::store::platform::list(&app.db)
        .await
        .unwrap()
        .remove(0);
    coursebridge::store::contact::grant(
        &app.db,
        platform.id,
        "browser-contact",
        "Umeå kommun",
        crate::helpers::wall_unix(),
    )
    .await
    .unwrap();
    // Umeå's organisation (its settings are edited on the admin page).
    coursebridge::store::organisations::ensure(&app.db, "Umeå kommun", crate::helpers::wall_unix())
        .await
        .unwrap();
    // Administrators, granted in the tool: one for the whole service, one for Umeå.
    for (sub, role, organisation) in [
        ("browser-admin", "system", "*"),
        ("browser-orgadmin", "organisation", "Umeå kommun"),
    ] {
        coursebridge::store::admin::grant(
            &app.db,
            platform.id,
            sub,
            role,
            organisation,
            "test",
            crate::helpers::wall_unix(),
        )
        .await
        .unwrap();
    }
    seed_network_space(&app).await;
    let lms = app.platform.url("").to_string();
    // The links two mails end with, one per language (the page reads only the signed token).
    let keys = coursebridge::startup::session_keys(&app.db).await.unwrap();
    let opt_out_urls: Vec<String> = [1, 2]
        .map(|user| {
            let token = coursebridge::mail::opt_out_token(&keys, user, app.clock.now_unix());
            let path = format!("mail/opt-out/{}", token.unwrap());
            app.base.join(&path).unwrap().to_string()
        })
        .to_vec();
    run_journey(
        "participant.mjs",
        vec![("LMS_URL", lms), ("OPT_OUT_URLS", opt_out_urls.join(" "))],
        Duration::from_secs(320),
    )
    .await;
}

/// A network space for the journey: `space-sv` moderates it and opened "Informationsägare",
/// `space-en` is a member and opened "E-arkiv".
async fn seed_network_space(app: &crate::helpers::TestApp) {
    use coursebridge::{devplatform::LaunchSpec, store::spaces};
    let now = crate::helpers::wall_unix();
    let space = spaces::create(&app.db, ("Kanslichefer i Västerbotten", ""), "test", now)
        .await
        .unwrap();
    for (sub, name, role, title) in [
        (
            "space-sv",
            "Sara Svensson",
            spaces::role::MODERATOR,
            "Informationsägare",
        ),
        ("space-en", "Eric English", spaces::role::MEMBER, "E-arkiv"),
    ] {
        let launch = app
            .launch(crate::cohorts::named(LaunchSpec::learner(sub), name))
            .await;
        assert_eq!(launch.status.as_u16(), 200, "{}", launch.body);
        let person = crate::cohorts::person(app, sub).await;
        let member = spaces::NewMember {
            space_id: space.id,
            user_id: person.id,
            organisation: "Umeå kommun",
            role,
            status: spaces::status::MEMBER,
            added_by: "test",
            now,
        };
        spaces::add(&app.db, member).await.unwrap();
        let post = spaces::NewPost {
            space_id: space.id,
            thread_id: None,
            title: Some(title),
            user_id: person.id,
            author_name: Some(name),
            organisation: "Umeå kommun",
            body: "Hur gör ni?",
            now,
        };
        spaces::add_post(&app.db, post).await.unwrap();
    }
}

/// Sign-in without an LMS in Chromium (tests/browser/signin.mjs): an invited participant and a
/// course leader who is also a system administrator, against the real OpenID Connect provider.
async fn sign_in_journey_in_chromium(backend: Backend) {
    use crate::signin::{add_provider, create_cohort, invitation, start_provider};
    let app = crate::helpers::spawn_app(backend).await;
    let provider = start_provider(&app);
    add_provider(&app, &provider);
    crate::grades::import_small_course(&app).await;
    let version = coursebridge::store::course::latest(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let (cohort, code) = create_cohort(&app, version);
    let join = invitation(&app, cohort, "Norsjö kommun", &[]);
    // The question a participant of a regional LMS course answers once, in both languages: the
    // development LMS's deployment belongs to none of the run's organisations.
    crate::cohorts::set_deployment_organisation(&app, "Region Norrbotten").await;
    let mut choice = Vec::new();
    for (sub, locale) in [("choose-sv", "sv-SE"), ("choose-en", "en-GB")] {
        let mut spec = coursebridge::devplatform::LaunchSpec::learner(sub);
        spec.locale = Some(locale.to_owned());
        spec.custom.insert("cohort".into(), serde_json::json!(code));
        let asked = app.launch(spec).await;
        assert!(
            asked.body.contains("/course/organisation?session="),
            "{}",
            asked.body
        );
        choice.push(format!(
            "{}course/organisation?session={}",
            app.base,
            crate::helpers::token_of(&asked.body)
        ));
    }
    let leader = invitation(&app, cohort, "Region Västerbotten", &["--leader"]);
    let granted = app.cli([
        "admin",
        "grant",
        "--issuer",
        provider.issuer.as_str().trim_end_matches('/'),
        "--client-id",
        "coursebridge",
        "--sub",
        "lena",
        "--role",
        "system",
    ]);
    assert!(granted.status.success(), "{granted:?}");
    let tool = app.base.to_string();
    let env = vec![
        ("TOOL_URL", tool.clone()),
        ("JOIN_URL", format!("{tool}join/{join}")),
        ("LEADER_JOIN_URL", format!("{tool}join/{leader}")),
        ("CHOICE_URL_SV", choice[0].clone()),
        ("CHOICE_URL_EN", choice[1].clone()),
    ];
    run_journey("signin.mjs", env, Duration::from_secs(150)).await;
}

/// Runs a journey of tests/browser in node with `env`, killed when it outlasts `limit`, and fails
/// the test unless it succeeded with no accessibility violation. Output goes to a file, not a
/// pipe: a full pipe would stall the journey, and a killed journey still tells how far it got.
async fn run_journey(script: &'static str, env: Vec<(&'static str, String)>, limit: Duration) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let log = std::env::temp_dir().join(format!(
        "coursebridge-{script}-{}.log",
        coursebridge::lti::random_token(6)
    ));
    let log_for_node = log.clone();
    let status = tokio::task::spawn_blocking(move || {
        let out = std::fs::File::create(&log_for_node).expect("a log file");
        let err = out.try_clone().expect("a log file");
        let mut child = Command::new("node")
            .arg(root.join(script))
            .envs(env)
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("node runs");
        let deadline = std::time::Instant::now() + limit;
        while child.try_wait().expect("node can be waited for").is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        child.wait().expect("node's exit status")
    })
    .await
    .unwrap();
    let printed = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    if status.success() && printed.contains(", 0 violations") {
        println!("{printed}");
        return;
    }
    // The journey's own account goes last, with no backtrace after it: the end of a long run's
    // output is what a CI summary keeps, above the server log of the same test.
    eprintln!("the browser journey {script} failed ({status}); what it printed:\n{printed}");
    std::panic::resume_unwind(Box::new(format!("the browser journey {script} failed")));
}

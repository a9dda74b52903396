//! The command line against a real database: each command prints what it did; bad input exits 2
//! and writes nothing.
use std::process::{Command, Output};

use crate::helpers::{Backend, TestDatabase};

on_both_databases!(
    platform_and_deployment_commands_register_list_and_approve,
    bad_configuration_value_fails_naming_the_key,
    every_administrative_command_writes_an_audit_entry_naming_the_operator,
);

fn coursebridge(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coursebridge"))
        .args(args)
        .env("COURSEBRIDGE_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const ADD: [&str; 12] = [
    "platform",
    "add",
    "--issuer",
    "https://moodle.umea.example",
    "--client-id",
    "abc123",
    "--auth-login-url",
    "https://moodle.umea.example/mod/lti/auth.php",
    "--auth-token-url",
    "https://moodle.umea.example/mod/lti/token.php",
    "--jwks-url",
    "https://moodle.umea.example/mod/lti/certs.php",
];

async fn platform_and_deployment_commands_register_list_and_approve(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let url = database.url.as_str();

    let added = coursebridge(url, &ADD);
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(
        stdout(&added).contains("registered platform #1"),
        "{}",
        stdout(&added)
    );

    let again = coursebridge(url, &ADD);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    let mut insecure = ADD;
    insecure[3] = "http://moodle.example";
    insecure[5] = "other";
    let refused = coursebridge(url, &insecure);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("--issuer"),
        "{}",
        stderr(&refused)
    );

    let listed = coursebridge(url, &["platform", "list"]);
    assert!(stdout(&listed).contains("client_id=abc123"));
    assert_eq!(
        stdout(&listed).lines().count(),
        1,
        "the refused platform was not stored"
    );

    let target = [
        "--issuer",
        "https://moodle.umea.example",
        "--client-id",
        "abc123",
        "--deployment-id",
        "umea-1",
    ];
    let mut add = vec!["deployment", "add"];
    add.extend(target);
    add.extend(["--organisation", "Umeå kommun", "--default-locale", "en"]);
    let output = coursebridge(url, &add);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("added approved deployment umea-1"));

    let mut approve = vec!["deployment", "approve"];
    approve.extend(target);
    approve[7] = "nobody";
    let output = coursebridge(url, &approve);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no deployment nobody"),
        "{}",
        stderr(&output)
    );

    let listed = coursebridge(url, &["deployment", "list"]);
    let listing = stdout(&listed);
    assert!(listing.contains("approved\tumea-1"), "{listing}");
    assert!(
        listing.contains("Umeå kommun\tcourse_fraction"),
        "{listing}"
    );

    // The grade mode: a bad one is refused and nothing changes; a good one is kept.
    let mut mode = vec!["deployment", "grade-mode"];
    mode.extend(target);
    mode.extend(["--mode", "letters"]);
    let refused = coursebridge(url, &mode);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("course_fraction"),
        "{}",
        stderr(&refused)
    );
    let mode_at = mode.len() - 1;
    mode[mode_at] = "per_module";
    let set = coursebridge(url, &mode);
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(stdout(&set).contains("now sends per_module scores"));
    let listing = stdout(&coursebridge(url, &["deployment", "list"]));
    assert!(listing.contains("Umeå kommun\tper_module"), "{listing}");

    // Scores on their way: none yet; retrying one that does not exist is a usage error.
    let grades = coursebridge(url, &["grades", "list", "--failed"]);
    assert!(grades.status.success(), "{}", stderr(&grades));
    assert!(
        stdout(&grades).contains("0 sent, 0 pending, 0 not gradable"),
        "{}",
        stdout(&grades)
    );
    let retry = coursebridge(url, &["grades", "retry", "--id", "99"]);
    assert_eq!(retry.status.code(), Some(2));
    assert!(stderr(&retry).contains("no refused or waiting score #99"));
    let both = coursebridge(url, &["grades", "list", "--failed", "--pending"]);
    assert_eq!(both.status.code(), Some(2));

    let unknown = coursebridge(
        url,
        &[
            "deployment",
            "add",
            "--issuer",
            "https://nowhere.example",
            "--client-id",
            "x",
            "--deployment-id",
            "y",
        ],
    );
    assert_eq!(unknown.status.code(), Some(2));
}

async fn bad_configuration_value_fails_naming_the_key(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let output = Command::new(env!("CARGO_BIN_EXE_coursebridge"))
        .args(["platform", "list"])
        .env("COURSEBRIDGE_DATABASE_URL", &database.url)
        .env("COURSEBRIDGE_BIND", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("COURSEBRIDGE_BIND"), "{message}");

    let output = Command::new(env!("CARGO_BIN_EXE_coursebridge"))
        .args(["platform", "list"])
        .env("COURSEBRIDGE_DATABASE_URL", "mysql://nope")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("database_url"));
}

async fn every_administrative_command_writes_an_audit_entry_naming_the_operator(backend: Backend) {
    use sea_orm::{EntityTrait, QueryOrder};
    let database = TestDatabase::create(backend).await;
    let url = database.url.as_str();
    let db = coursebridge::store::connect(url).await.unwrap();
    let as_kari = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_coursebridge"))
            .args(args)
            .env("COURSEBRIDGE_DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .env("USER", "kari")
            .env_remove("SUDO_USER")
            .output()
            .unwrap()
    };
    let package =
        std::env::temp_dir().join(format!("cb-audit-{}", coursebridge::lti::random_token(6)));
    for (path, bytes) in coursebridge::course::demo_files() {
        let target = package.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    let platform = [
        "--issuer",
        "https://moodle.umea.example",
        "--client-id",
        "abc123",
    ];
    let with = |command: &[&'static str], rest: &[&'static str]| -> Vec<&'static str> {
        command.iter().chain(rest).copied().collect()
    };
    let deployment = with(&platform, &["--deployment-id", "umea-1"]);
    let package_path: &'static str =
        Box::leak(package.to_str().unwrap().to_owned().into_boxed_str());
    let commands: Vec<(Vec<&str>, &str)> = vec![
        (ADD.to_vec(), "platform.add"),
        (
            with(
                &with(&["deployment", "add"], &deployment),
                &["--organisation", "Umeå kommun"],
            ),
            "deployment.add",
        ),
        (
            with(
                &with(&["deployment", "grade-mode"], &deployment),
                &["--mode", "per_module"],
            ),
            "deployment.grade_mode",
        ),
        (
            with(&["deployment", "approve"], &deployment),
            "deployment.approve",
        ),
        (vec!["grades", "retry"], "grade_delivery.retry_all"),
        (
            with(
                &with(&["contact", "grant"], &platform),
                &["--sub", "anna", "--organisation", "Umeå kommun"],
            ),
            "contact.grant",
        ),
        (vec!["key", "rotate"], "key.rotate"),
        (
            with(
                &with(&["admin", "grant"], &platform),
                &["--sub", "olle", "--role", "system"],
            ),
            "grant.add",
        ),
        (vec!["admin", "revoke", "--id", "1"], "grant.revoke"),
        (
            vec!["organisation", "add", "--name", "Skellefteå kommun"],
            "organisation.add",
        ),
        (
            vec![
                "organisation",
                "webhook",
                "--name",
                "Skellefteå kommun",
                "--url",
                "https://hooks.skelleftea.example/completions",
            ],
            "organisation.change",
        ),
        (
            vec![
                "organisation",
                "retention",
                "--name",
                "Skellefteå kommun",
                "--months",
                "12",
                "--action",
                "delete",
            ],
            "organisation.change",
        ),
        (
            vec!["token", "create", "--scope", "admin", "--expires", "1d"],
            "token.create",
        ),
        (vec!["token", "revoke", "--id", "1"], "token.revoke"),
        (
            vec![
                "registration",
                "invite",
                "--organisation",
                "Skellefteå kommun",
            ],
            "registration.invite",
        ),
        (vec!["course", "import", package_path], "course.import"),
        (
            with(&["platform", "disable"], &platform),
            "platform.disable",
        ),
    ];
    let mut seen = 0;
    for (args, action) in commands {
        let output = as_kari(&args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let entries = entity::audit_log::Entity::find()
            .order_by_asc(entity::audit_log::Column::Id)
            .all(&db)
            .await
            .unwrap();
        assert_eq!(
            entries.len(),
            seen + 1,
            "{args:?} wrote {} entries",
            entries.len() - seen
        );
        seen = entries.len();
        let entry = entries.last().unwrap();
        assert_eq!(entry.action, action, "{args:?}");
        assert_eq!(entry.actor, "cli:kari", "{args:?}");
        assert_eq!(entry.origin, "cli", "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&package);
}

//! The command line against a real database: each command prints what it did; bad input exits 2
//! and writes nothing.
use std::process::{Command, Output};

use crate::helpers::{Backend, TestDatabase};

on_both_databases!(
    platform_and_deployment_commands_register_list_and_approve,
    bad_configuration_value_fails_naming_the_key,
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

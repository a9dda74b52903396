//! Mail: feedback on a reflection and workshop reminders go through the durable outbox to a real
//! SMTP server (aiosmtpd, installed by scripts/test), wait out a server that is down, and stop at
//! the one-click opt-out. Nothing is queued without a mail server or without an address.
use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use coursebridge::{
    config::Config,
    devplatform::LaunchSpec,
    worker::{Worker, WorkerSettings},
};
use entity::mail_outbox;
use sea_orm::{EntityTrait, QueryOrder};

use crate::helpers::{Backend, TestApp, link_containing, spawn_app, spawn_app_with, version_of};
use crate::served::free_port;

on_both_databases!(
    feedback_and_reminders_wait_out_a_mail_server_that_is_down_and_stop_at_opt_out,
    nothing_is_queued_without_a_mail_server_or_an_address,
    a_mail_server_that_takes_the_connection_and_never_answers_does_not_hold_the_worker,
);

/// The Python that has aiosmtpd.
fn aiosmtpd_python() -> String {
    let python = std::env::var("AIOSMTPD_PYTHON").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/aiosmtpd/bin/python").to_owned()
    });
    assert!(
        Path::new(&python).exists(),
        "aiosmtpd is missing at {python}: run scripts/test (it installs it)"
    );
    python
}

/// aiosmtpd on `port`, keeping what it receives in a Maildir.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start(port: u16, dir: &Path) -> Self {
        // aiosmtpd makes the Maildir (and its new/, cur/, tmp/) only where nothing is yet.
        let maildir = dir.join("box");
        let child = Command::new(aiosmtpd_python())
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("aiosmtpd starts");
        // Ready when it takes connections (it starts in well under a second).
        let ready = (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(ready, "aiosmtpd did not listen on {port}");
        Self { child, maildir }
    }

    /// Every mail received, decoded by Python's email package: headers as `Name: value` lines,
    /// a blank line, then the text.
    fn messages(&self) -> Vec<String> {
        let new = self.maildir.join("new");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&new)
            .map(|dir| dir.map(|entry| entry.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|path| std::fs::metadata(path).unwrap().modified().unwrap());
        files
            .iter()
            .map(|file| {
                let script = "import sys, email; from email import policy\n\
                    m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)\n\
                    for k in ('From', 'To', 'Subject', 'List-Unsubscribe', 'List-Unsubscribe-Post'):\n\
                    \x20   print(f'{k}: {m[k]}')\n\
                    print()\n\
                    print(m.get_content())";
                let output = Command::new(aiosmtpd_python())
                    .args(["-c", script])
                    .arg(file)
                    .output()
                    .unwrap();
                assert!(output.status.success(), "{output:?}");
                String::from_utf8(output.stdout).unwrap()
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn with_mail(port: u16) -> impl FnOnce(&mut Config) {
    move |config| {
        config.grade_worker = false;
        config.store_email = true;
        config.mail_smtp_url = format!("smtp://127.0.0.1:{port}");
        config.mail_from = "Att leda digital omställning <kurs@region.example.se>".into();
    }
}

/// A worker of this test's service with its mailer (the same signing keys, from the database).
async fn mail_worker(app: &TestApp) -> Worker {
    let keys = coursebridge::startup::session_keys(&app.db).await.unwrap();
    let mailer = coursebridge::mail::Mailer::from_config(&app.config, &app.base, &keys).unwrap();
    assert!(mailer.is_some());
    Worker::new(
        app.db.clone(),
        coursebridge::outbound::Outbound::new(Duration::from_secs(10), true).unwrap(),
        Arc::new(coursebridge::lti::token::TokenCache::new(app.clock.clone())),
        app.clock.clone(),
        WorkerSettings::from_config(&app.config),
    )
    .with_mail(mailer)
}

/// `learner` submits the first task; a course leader returns it with `feedback`.
async fn return_with_feedback(app: &TestApp, learner: LaunchSpec, feedback: &str) {
    let launch = app.launch(learner).await;
    let module = app
        .get(&link_containing(
            &launch.body,
            "/course/m/ledarskap?session=",
        ))
        .await;
    let posted = app
        .post_form(
            &link_containing(&module.body, "/t/vad-betyder?session="),
            &[
                ("version", "0"),
                ("answer_0", "Invånarna får svar snabbare och enklare."),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(posted.status.as_u16(), 303, "{}", posted.body);
    let dashboard = app.launch(LaunchSpec::instructor("mail-teacher")).await;
    let review_url = link_containing(&dashboard.body, "/instructor/submissions/");
    let review = app.get(&review_url).await;
    let version = version_of(&review, "");
    let returned = app
        .post_form(
            &review_url,
            &[
                ("version", &version),
                ("decision", "return"),
                ("feedback", feedback),
            ],
        )
        .await;
    assert_eq!(returned.status.as_u16(), 303, "{}", returned.body);
}

async fn outbox(app: &TestApp) -> Vec<mail_outbox::Model> {
    mail_outbox::Entity::find()
        .order_by_asc(mail_outbox::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

async fn feedback_and_reminders_wait_out_a_mail_server_that_is_down_and_stop_at_opt_out(
    backend: Backend,
) {
    let port = free_port();
    let app = spawn_app_with(backend, with_mail(port)).await;
    let worker = mail_worker(&app).await;
    let feedback = "Beskriv gärna ett exempel från din förvaltning.";
    return_with_feedback(&app, LaunchSpec::learner("mail-learner"), feedback).await;

    // The mail server is down: the mail waits in the outbox, with the reason.
    let queued = outbox(&app).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].recipient, "astrid.lindqvist@example.se");
    let pass = worker.drain_once().await.unwrap();
    assert_eq!(pass.mails, 1);
    let waiting = &outbox(&app).await[0];
    assert_eq!((waiting.state.as_str(), waiting.attempts), ("pending", 1));
    assert!(waiting.last_error.is_some());

    // It comes back; the mail goes at its retry, once.
    let maildir = tempdir("mail");
    let server = SmtpServer::start(port, &maildir);
    app.clock.advance(Duration::from_secs(3600));
    worker.drain_once().await.unwrap();
    worker.drain_once().await.unwrap();
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let mail = &messages[0];
    for expected in [
        "From: Att leda digital omställning <kurs@region.example.se>",
        "To: astrid.lindqvist@example.se",
        "Subject: Återkoppling på din reflektion – ",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Reflektionsuppgift 1 i modulen ”Digital omställning är ledarskap – inte en IT-fråga”",
        feedback,
        "Your answer to Reflection task 1 in the module “Digital change is leadership",
    ] {
        assert!(mail.contains(expected), "{expected:?} in {mail}");
    }
    assert_eq!(outbox(&app).await[0].state, "sent");
    let opt_out_url = mail
        .lines()
        .find_map(|line| line.strip_prefix("List-Unsubscribe: <"))
        .and_then(|rest| rest.strip_suffix('>'))
        .expect("a List-Unsubscribe header")
        .to_owned();
    assert!(opt_out_url.starts_with(app.base.as_str()), "{opt_out_url}");
    assert!(
        mail.contains(&format!("Avsluta dem här: {opt_out_url}")),
        "{mail}"
    );

    // Another participant, who keeps their mail, and a workshop three days ahead.
    let mut other = LaunchSpec::learner("mail-learner-2");
    other.email = Some("erik.holm@example.se".into());
    app.launch(other).await;
    let dashboard = app.launch(LaunchSpec::instructor("mail-teacher")).await;
    let starts = app.clock.now_unix() + 3 * 86_400;
    let saved = app
        .post_form(
            &link_containing(&dashboard.body, "/instructor/occasions?session="),
            &[
                ("module", "ledarskap"),
                ("date", &coursebridge::i18n::time::format_date(starts)),
                ("time", &coursebridge::i18n::time::format_time(starts)),
                ("place", "Kommunhuset, sal 3"),
            ],
        )
        .await;
    assert_eq!(saved.status.as_u16(), 303, "{}", saved.body);

    // The link opts out with one click and no login; the page asks first.
    let page = app.get(&opt_out_url).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.body.contains("data-testid=\"opt-out-button\""),
        "{}",
        page.body
    );
    let response = app
        .client
        .post(&opt_out_url)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Du får inga fler mejl från kursen."),
        "{body}"
    );
    assert!(
        app.get(&opt_out_url)
            .await
            .body
            .contains("data-testid=\"opt-out-done\"")
    );
    let forged = format!("{}x", opt_out_url);
    assert_eq!(app.get(&forged).await.status.as_u16(), 404);

    // Three days ahead is too early; two days ahead the reminder goes, once, and only to the one
    // who kept their mail.
    assert_eq!(worker.queue_reminders().await.unwrap(), 0);
    app.clock.advance(Duration::from_secs(86_400 + 600));
    assert_eq!(worker.queue_reminders().await.unwrap(), 1);
    assert_eq!(worker.queue_reminders().await.unwrap(), 0);
    worker.drain_once().await.unwrap();
    let messages = server.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let reminder = &messages[1];
    for expected in [
        "To: erik.holm@example.se",
        "Subject: Workshop 1 om två dagar: förbered ”Digital omställning är ledarskap – inte en IT-fråga”",
        "Plats: Kommunhuset, sal 3",
        &coursebridge::i18n::time::format_date(starts),
        "Work through the module “Digital change is leadership, not an IT issue”",
    ] {
        assert!(reminder.contains(expected), "{expected:?} in {reminder}");
    }
    let astrid = outbox(&app)
        .await
        .into_iter()
        .filter(|row| row.recipient == "astrid.lindqvist@example.se")
        .count();
    assert_eq!(astrid, 1, "no reminder for the one who opted out");
    drop(server);
    std::fs::remove_dir_all(&maildir).unwrap();
}

async fn nothing_is_queued_without_a_mail_server_or_an_address(backend: Backend) {
    // No mail server configured: the review goes through, no mail is queued.
    let app = spawn_app(backend).await;
    return_with_feedback(&app, LaunchSpec::learner("no-mail"), "Utveckla gärna.").await;
    assert!(outbox(&app).await.is_empty());

    // A mail server, but a launch that carries no address.
    let app = spawn_app_with(backend, with_mail(free_port())).await;
    let mut learner = LaunchSpec::learner("no-address");
    learner.email = None;
    return_with_feedback(&app, learner, "Utveckla gärna.").await;
    let rows = outbox(&app).await;
    assert!(rows.is_empty(), "{rows:?}");

    // Mail needs the addresses kept.
    let mut config = Config::default();
    with_mail(25)(&mut config);
    config.store_email = false;
    let error = config.validate().unwrap_err().to_string();
    assert!(error.contains("store_email"), "{error}");
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "coursebridge-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn a_mail_server_that_takes_the_connection_and_never_answers_does_not_hold_the_worker(
    backend: Backend,
) {
    // Seen: a test's mail server port went to a listener that never spoke SMTP, and the worker's
    // pass waited on it for good: lettre's timeout bounds the connect only.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().collect();
        drop(held);
    });
    let app = spawn_app_with(backend, with_mail(port)).await;
    let worker = mail_worker(&app).await;
    return_with_feedback(&app, LaunchSpec::learner("mail-learner"), "Ge ett exempel.").await;
    let started = std::time::Instant::now();
    let pass = worker.drain_once().await.unwrap();
    let took = started.elapsed();
    assert_eq!(pass.mails, 1);
    assert!(took < Duration::from_secs(30), "the pass took {took:?}");
    let waiting = &outbox(&app).await[0];
    assert_eq!((waiting.state.as_str(), waiting.attempts), ("pending", 1));
    assert!(
        waiting
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("did not answer")),
        "{waiting:?}"
    );
}

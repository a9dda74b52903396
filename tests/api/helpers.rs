//! Starting the service and the development platform, and driving launches like a browser.
use std::collections::HashMap;

use coursebridge::{
    config::Config,
    devplatform::{self, DevPlatform, LaunchSpec, ToolUrls},
    lti,
    startup::Application,
    store,
};
use reqwest::{StatusCode, header};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use url::Url;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database made for one test and removed afterwards.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm", ".lock", ".migrating.lock"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let admin_url = admin_url.clone();
                let name = name.clone();
                // Drop runs outside async; a small runtime of its own does the one statement.
                let _ = std::thread::spawn(move || {
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Unix seconds by the wall clock, for what the test harness itself stamps (as an LMS or an
/// operator outside the service would); the service's own time is `TestApp::clock`.
pub fn wall_unix() -> i64 {
    coursebridge::lti::clock::Clock::default().now_unix()
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        let id = lti::random_token(9)
            .to_ascii_lowercase()
            .replace(['-', '_'], "x");
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("coursebridge-test-{id}.db"));
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    cleanup: Cleanup::File(path),
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("cbtest_{id}");
                let admin = Database::connect(admin_url.clone())
                    .await
                    .expect("PostgreSQL must be running for the tests (see README)");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create the test database");
                let mut url = Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
        }
    }
}

/// A running tool with its development platform registered and its deployment approved.
pub struct TestApp {
    pub base: Url,
    pub db: DatabaseConnection,
    pub platform: DevPlatform,
    pub client: reqwest::Client,
    pub config: Config,
    /// The clock every instance of this test's service reads; move it instead of sleeping.
    pub clock: coursebridge::lti::clock::Clock,
    _servers: Vec<tokio::task::JoinHandle<()>>,
    // Last: dropped after the servers stop using it.
    pub database: TestDatabase,
}

pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: database_url.to_owned(),
        bind: "127.0.0.1:0".parse().unwrap(),
        // Scores reach the development platform within a test's patience.
        grade_poll_ms: 50,
        grade_retry_base_ms: 100,
        // The development platform and webhook receivers run on this machine.
        outbound_allow_loopback: true,
        ..Config::default()
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// The app with its development LMS addressed as `localhost`: another site than the tool's
/// `127.0.0.1`, as a real LMS framing a tool is (for browser tests).
pub async fn spawn_app_with_lms_at_localhost(backend: Backend) -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let lms = Url::parse(&format!("http://localhost:{port}/")).unwrap();
    spawn(
        backend,
        |_| {},
        (format!("127.0.0.1:{port}").parse().unwrap(), Some(lms)),
    )
    .await
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn(backend, adjust, ("127.0.0.1:0".parse().unwrap(), None)).await
}

async fn spawn(
    backend: Backend,
    adjust: impl FnOnce(&mut Config),
    (platform_bind, platform_url): (std::net::SocketAddr, Option<Url>),
) -> TestApp {
    coursebridge::telemetry::init();
    let database = TestDatabase::create(backend).await;
    let mut config = test_config(&database.url);
    adjust(&mut config);
    let clock = coursebridge::lti::clock::Clock::default();
    let (base, db, server) = start_instance(config.clone(), clock.clone()).await;
    let platform = DevPlatform::start(
        platform_bind,
        platform_url,
        "coursebridge-test-client",
        "deployment-1",
        ToolUrls::below(&base).unwrap(),
    )
    .await
    .unwrap();
    register(&db, &platform, "deployment-1", "Umeå kommun").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        db,
        platform,
        client,
        config,
        clock,
        _servers: vec![server],
        database,
    }
}

impl TestApp {
    /// A test app whose service runs outside this process (`serve` processes).
    pub fn outside(
        base: Url,
        db: DatabaseConnection,
        platform: DevPlatform,
        client: reqwest::Client,
        config: Config,
        database: TestDatabase,
    ) -> Self {
        TestApp {
            base,
            db,
            platform,
            client,
            config,
            clock: coursebridge::lti::clock::Clock::default(),
            _servers: Vec::new(),
            database,
        }
    }
}

/// Registers a development platform with one approved deployment of `organisation`.
pub async fn register(
    db: &DatabaseConnection,
    platform: &DevPlatform,
    deployment: &str,
    organisation: &str,
) {
    let registered = store::platform::insert(db, platform.registration(), wall_unix())
        .await
        .unwrap();
    store::deployment::add(
        db,
        registered.id,
        deployment,
        Some(organisation.into()),
        None,
        wall_unix(),
    )
    .await
    .unwrap();
}

/// Builds and starts one instance of the real service.
pub async fn start_instance(
    config: Config,
    clock: coursebridge::lti::clock::Clock,
) -> (Url, DatabaseConnection, tokio::task::JoinHandle<()>) {
    let app = Application::build_with_clock(config, clock)
        .await
        .expect("the service starts");
    let base = app.public_base().clone();
    let db = app.state().db.clone();
    let server = tokio::spawn(async move {
        let _ = app.run_until(std::future::pending()).await;
    });
    (base, db, server)
}

/// The platform's answer to the login, ready to post.
#[derive(Clone, Debug)]
pub struct LaunchForm {
    pub fields: HashMap<String, String>,
    /// `name=value` of the login-binding cookie.
    pub cookie: Option<String>,
}

/// What the tool answered to the launch post.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// Asserts a refusal page with this status and error code.
    #[track_caller]
    pub fn assert_refused(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "status; page: {}", self.body);
        assert!(
            self.body
                .contains(&format!("data-testid=\"error-code\">{code}<")),
            "expected error code {code}; page: {}",
            self.body
        );
    }

    /// Asserts the landing page with this role label.
    #[track_caller]
    pub fn assert_landed_as(&self, role_label: &str) {
        assert_eq!(self.status, StatusCode::OK, "page: {}", self.body);
        assert!(
            self.body
                .contains(&format!("data-testid=\"role\">{role_label}<")),
            "expected role {role_label}; page: {}",
            self.body
        );
    }
}

/// The session token in the first link of a page that carries one.
pub fn token_of(body: &str) -> String {
    let at = body.find("session=").expect("a link with a session token") + "session=".len();
    body[at..].split(['"', '&', '#']).next().unwrap().to_owned()
}

impl TestApp {
    /// Login initiation → platform auth; returns the form the platform would auto-post.
    pub async fn authorize(&self, spec: LaunchSpec) -> LaunchForm {
        self.authorize_via(&self.platform, spec).await
    }

    /// A whole launch from another platform.
    pub async fn launch_via(&self, platform: &DevPlatform, spec: LaunchSpec) -> Answer {
        let form = self.authorize_via(platform, spec).await;
        self.post_launch(&form).await
    }

    pub async fn authorize_via(&self, platform: &DevPlatform, spec: LaunchSpec) -> LaunchForm {
        let login = self
            .client
            .get(platform.login_url(spec))
            .send()
            .await
            .unwrap();
        assert_eq!(
            login.status(),
            StatusCode::FOUND,
            "{}",
            login.text().await.unwrap()
        );
        let cookie = login
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        let location = login.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        let page = self.client.get(&location).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert_eq!(
            devplatform::form_action(&html).as_deref(),
            Some(self.base.join("lti/launch").unwrap().as_str())
        );
        LaunchForm {
            fields: devplatform::form_fields(&html),
            cookie,
        }
    }

    /// Posts a launch form to an instance and, as a browser does, follows the redirect to the
    /// page the launch lands on. The answer keeps the launch's own `Set-Cookie`.
    pub async fn post_launch_to(&self, base: &Url, form: &LaunchForm) -> Answer {
        let mut request = self
            .client
            .post(base.join("lti/launch").unwrap())
            .form(&form.fields);
        if let Some(cookie) = &form.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        if response.status() != StatusCode::SEE_OTHER {
            return Answer {
                status: response.status(),
                headers: response.headers().clone(),
                body: response.text().await.unwrap(),
            };
        }
        let cookie = response.headers().get(header::SET_COOKIE).cloned();
        let location = response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        let landed = self.client.get(&location).send().await.unwrap();
        let mut headers = landed.headers().clone();
        if let Some(cookie) = cookie {
            headers.insert(header::SET_COOKIE, cookie);
        }
        Answer {
            status: landed.status(),
            headers,
            body: landed.text().await.unwrap(),
        }
    }

    pub async fn post_launch(&self, form: &LaunchForm) -> Answer {
        self.post_launch_to(&self.base, form).await
    }

    /// A whole launch, as a browser does it.
    pub async fn launch(&self, spec: LaunchSpec) -> Answer {
        let form = self.authorize(spec).await;
        self.post_launch(&form).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        let response = self
            .client
            .get(self.base.join(path).unwrap())
            .send()
            .await
            .unwrap();
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// Posts a form to an absolute URL (or a path).
    pub async fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Answer {
        let response = self
            .client
            .post(self.base.join(url).unwrap())
            .form(fields)
            .send()
            .await
            .unwrap();
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// Sets how completion reaches the development platform's gradebook.
    pub async fn set_grade_mode(&self, mode: &str) {
        let deployments = store::deployment::list(&self.db).await.unwrap();
        assert!(
            store::grades::set_grade_mode(&self.db, deployments[0].id, mode)
                .await
                .unwrap()
        );
    }

    /// Runs the command line against this app's database.
    pub fn cli<S: AsRef<std::ffi::OsStr>>(
        &self,
        args: impl IntoIterator<Item = S>,
    ) -> std::process::Output {
        self.cli_with(args, std::ffi::OsStr::new(""))
    }

    /// Runs the command line with one more argument (a path) after `args`; an empty one is left out.
    pub fn cli_with<S: AsRef<std::ffi::OsStr>>(
        &self,
        args: impl IntoIterator<Item = S>,
        last: impl AsRef<std::ffi::OsStr>,
    ) -> std::process::Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_coursebridge"));
        command.args(args);
        if !last.as_ref().is_empty() {
            command.arg(last);
        }
        command
            .env("COURSEBRIDGE_DATABASE_URL", &self.database.url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }

    /// Starts a second instance of the service on the same database.
    pub async fn second_instance(&mut self) -> Url {
        let (base, _db, server) = start_instance(self.config.clone(), self.clock.clone()).await;
        self._servers.push(server);
        base
    }
}

/// A participant's launch, then `answer` submitted to the small course's `andra` task: the
/// submission's answer (303 when it was taken).
pub async fn launch_and_submit(app: &TestApp, sub: &str, answer: &str) -> Answer {
    let learner = app.launch(LaunchSpec::learner(sub)).await;
    let page = app
        .get(&link_containing(&learner.body, "/course/m/andra?session="))
        .await;
    app.post_form(
        &link_containing(&page.body, "/t/andra-svar?session="),
        &[
            ("version", &version_of(&page, "andra-svar")),
            ("answer_0", answer),
            ("action", "submit"),
        ],
    )
    .await
}

/// The first link of a page that carries the session token.
pub fn session_link(body: &str) -> String {
    link_containing(body, "?session=")
}

/// The first `href`/`action` URL of a page that contains `needle`, unescaped.
pub fn link_containing(body: &str, needle: &str) -> String {
    let at = body
        .find(needle)
        .unwrap_or_else(|| panic!("no link with {needle}: {body}"));
    let start = body[..at].rfind('"').unwrap() + 1;
    let end = body[at..].find('"').unwrap() + at;
    body[start..end].replace("&amp;", "&")
}

/// The `version` hidden field of a form: of task `task` on a module page, or the page's first one
/// when `task` is empty (the instructor's submission page has one form).
pub fn version_of(page: &Answer, task: &str) -> String {
    let start = if task.is_empty() {
        0
    } else {
        page.body.find(&format!("id=\"task-{task}\"")).unwrap()
    };
    let section = &page.body[start..];
    let at = section.find("name=\"version\" value=\"").unwrap() + "name=\"version\" value=\"".len();
    section[at..at + section[at..].find('"').unwrap()].to_owned()
}

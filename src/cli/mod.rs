//! The command line: `serve` (default), `migrate`, registrations, keys, `demo`, `bench`, and the
//! administrators' commands (`admin`, `token`, `organisation`, `person`, `export`, `retention`).
//! Every command prints what it did. Bad input exits with code 2 and writes nothing.
mod admin;

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};
use url::Url;

use crate::{
    admin::{
        access::Principal,
        directory::AdminError,
        platforms::{self, NewPlatform},
    },
    config::{Config, redact_url},
    devplatform::{DevPlatform, ToolUrls},
    startup::{self, Application},
};

/// coursebridge — an LTI 1.3 Advantage tool for fully digital courses.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// A TOML configuration file (read after the defaults, before the environment).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The database URL; overrides COURSEBRIDGE_DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Platform registrations.
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// Deployments of registered platforms.
    #[command(subcommand)]
    Deployment(DeploymentCommand),
    /// The tool's signing keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Course packages.
    #[command(subcommand)]
    Course(CourseCommand),
    /// Contact persons: people who follow their own organisation's progress.
    #[command(subcommand)]
    Contact(ContactCommand),
    /// Post queued scores to LMS gradebooks until stopped (for operators who run it apart from
    /// `serve`; set COURSEBRIDGE_GRADE_WORKER=false on the servers then).
    Worker,
    /// Scores on their way to LMS gradebooks.
    #[command(subcommand)]
    Grades(GradesCommand),
    /// Roles granted inside the tool: system and organisation administrators.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// API tokens for the admin API.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Dynamic Registration links for platform administrators.
    #[command(subcommand)]
    Registration(admin::RegistrationCommand),
    /// Organisations: webhooks and retention rules.
    #[command(subcommand)]
    Organisation(admin::OrganisationCommand),
    /// Sessions of launched pages.
    #[command(subcommand)]
    Session(admin::SessionCommand),
    /// Personal data: export and erasure.
    #[command(subcommand)]
    Person(admin::PersonCommand),
    /// Archive packages.
    #[command(subcommand)]
    Export(admin::ExportCommand),
    /// Retention rules.
    #[command(subcommand)]
    Retention(admin::RetentionCommand),
    /// Print the admin API's OpenAPI document (as committed in openapi/openapi.json).
    Openapi,
    /// Run the tool together with a development LMS and print where to click.
    Demo(DemoArgs),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `platform …`
#[derive(Debug, Subcommand)]
pub enum PlatformCommand {
    /// Register a platform (issuer + client_id).
    Add(PlatformAdd),
    /// List registered platforms.
    List,
    /// Disable a registration: all its deployments (their sessions end within seconds), and the
    /// deployments it sends later wait for approval.
    Disable {
        /// The platform's issuer.
        #[arg(long)]
        issuer: String,
        /// The registration's client_id.
        #[arg(long)]
        client_id: String,
    },
}

/// `platform add` arguments.
#[derive(Debug, Args)]
pub struct PlatformAdd {
    /// The platform's issuer (iss).
    #[arg(long)]
    pub issuer: String,
    /// The client_id the platform gave this tool.
    #[arg(long)]
    pub client_id: String,
    /// The platform's OIDC authentication URL.
    #[arg(long)]
    pub auth_login_url: String,
    /// The platform's OAuth2 token URL.
    #[arg(long)]
    pub auth_token_url: String,
    /// The platform's public key set URL.
    #[arg(long)]
    pub jwks_url: String,
    /// The `aud` for client assertions when it differs from the token URL (Brightspace).
    #[arg(long)]
    pub token_audience: Option<String>,
    /// A name for people.
    #[arg(long)]
    pub name: Option<String>,
    /// Approve deployments seen for the first time without waiting for an administrator.
    #[arg(long)]
    pub auto_approve_deployments: bool,
}

/// `deployment …`
#[derive(Debug, Subcommand)]
pub enum DeploymentCommand {
    /// Add an approved deployment.
    Add {
        #[command(flatten)]
        target: DeploymentTarget,
        /// The organisation (municipality) behind the deployment.
        #[arg(long)]
        organisation: Option<String>,
        /// UI language when a launch names none: sv (default) or en.
        #[arg(long, value_parser = ["sv", "en"])]
        default_locale: Option<String>,
        /// How completion reaches the gradebook.
        #[arg(long, value_parser = GRADE_MODES)]
        grade_mode: Option<String>,
    },
    /// Set how completion reaches the deployment's gradebooks.
    GradeMode {
        #[command(flatten)]
        target: DeploymentTarget,
        /// course_fraction (one column: completed of required modules), course_pass (1/1 on
        /// completion) or per_module (one column per module).
        #[arg(long, value_parser = GRADE_MODES)]
        mode: String,
    },
    /// List deployments with their status.
    List,
    /// Approve a pending deployment.
    Approve {
        #[command(flatten)]
        target: DeploymentTarget,
    },
}

const GRADE_MODES: [&str; 3] = ["course_fraction", "course_pass", "per_module"];

/// `grades …`
#[derive(Debug, Subcommand)]
pub enum GradesCommand {
    /// List scores, newest first: all, refused ones, or those still on their way.
    List {
        /// Only scores the platform refused for good (not gradable there).
        #[arg(long, conflicts_with = "pending")]
        failed: bool,
        /// Only scores not delivered yet.
        #[arg(long)]
        pending: bool,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// Queue refused and waiting scores again, due now (all, or one by its number).
    Retry {
        /// The score's number from `grades list`.
        #[arg(long)]
        id: Option<i64>,
    },
}

/// Which deployment.
#[derive(Debug, Args)]
pub struct DeploymentTarget {
    /// The platform's issuer.
    #[arg(long)]
    pub issuer: String,
    /// The registration's client_id.
    #[arg(long)]
    pub client_id: String,
    /// The deployment_id.
    #[arg(long)]
    pub deployment_id: String,
}

/// `course …`
#[derive(Debug, Subcommand)]
pub enum CourseCommand {
    /// Validate a package (a folder or a .zip) and print every problem with file and line.
    Check {
        /// The package.
        path: PathBuf,
    },
    /// Validate and store a package as a new published version.
    Import {
        /// The package.
        path: PathBuf,
    },
}

/// `contact …`
#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Make a person (by platform and LTI `sub`) contact person for an organisation.
    Grant {
        /// The platform's issuer.
        #[arg(long)]
        issuer: String,
        /// The registration's client_id.
        #[arg(long)]
        client_id: String,
        /// The person's LTI user id (`sub`).
        #[arg(long)]
        sub: String,
        /// The organisation, as its deployments name it.
        #[arg(long)]
        organisation: String,
    },
}

/// `key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a new signing key; the previous one stays published for the overlap.
    Rotate,
}

/// `demo` arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the development LMS listens.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub platform_bind: SocketAddr,
    /// How browsers reach the development LMS. Defaults to http://localhost:PORT — another site
    /// than the tool's 127.0.0.1, as a real LMS framing a tool is.
    #[arg(long)]
    pub platform_url: Option<Url>,
}

/// `bench …`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Full launches (login → auth → id_token post → landing page) against a running instance.
    Launch(crate::bench::LaunchBenchArgs),
    /// How fast the score outbox drains into a gradebook (worker processes on the database).
    Grades(crate::bench::GradesBenchArgs),
    /// Several learners downloading one large course file at once: time and the server's memory.
    Downloads(crate::bench::DownloadsBenchArgs),
}

/// A failed command: bad input (exit 2) or a failure while doing it (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The input is not acceptable.
    #[error("{0}")]
    Usage(String),
    /// Something failed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

impl From<crate::config::ConfigError> for CliError {
    fn from(err: crate::config::ConfigError) -> Self {
        CliError::Usage(err.to_string())
    }
}

impl From<sea_orm::DbErr> for CliError {
    fn from(err: sea_orm::DbErr) -> Self {
        CliError::Failed(err.into())
    }
}

/// Loads the configuration with the command line's overrides.
pub fn load_config(cli: &Cli) -> Result<Config, CliError> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(url) = &cli.database_url {
        config.database_url = url.clone();
        config.validate()?;
    }
    Ok(config)
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let config = load_config(&cli)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            startup::open_database(&config.database_url).await?;
            println!("migrated {}", redact_url(&config.database_url));
            Ok(())
        }
        Command::Platform(command) => platform(config, command).await,
        Command::Deployment(command) => deployment(config, command).await,
        Command::Key(KeyCommand::Rotate) => rotate_key(config).await,
        Command::Course(command) => course(config, command).await,
        Command::Contact(ContactCommand::Grant {
            issuer,
            client_id,
            sub,
            organisation,
        }) => {
            let sub = non_empty("sub", &sub)?;
            let organisation = non_empty("organisation", &organisation)?;
            let db = startup::open_database(&config.database_url).await?;
            let operator = Principal::cli();
            let platform = registration_of(&db, &operator, &issuer, &client_id).await?;
            platforms::grant_contact(&db, &operator, platform.id, &sub, &organisation)
                .await
                .map_err(refused)?;
            println!("{sub} is contact person for {organisation}");
            Ok(())
        }
        Command::Admin(command) => admin::admin(config, command).await,
        Command::Token(command) => admin::token(config, command).await,
        Command::Organisation(command) => admin::organisation(config, command).await,
        Command::Registration(command) => admin::registration(config, command).await,
        Command::Session(command) => admin::session(config, command).await,
        Command::Person(command) => admin::person(config, command).await,
        Command::Export(command) => admin::export(config, command).await,
        Command::Retention(command) => admin::retention(config, command).await,
        Command::Openapi => {
            print!("{}", crate::web::api::openapi_json());
            Ok(())
        }
        Command::Worker => worker(config).await,
        Command::Grades(command) => grades(config, command).await,
        Command::Demo(args) => demo(config, args).await,
        Command::Bench(BenchCommand::Downloads(args)) => {
            crate::bench::run_downloads_bench(config, args)
                .await
                .map_err(CliError::from)
        }
        Command::Bench(BenchCommand::Launch(args)) => crate::bench::run_launch_bench(config, args)
            .await
            .map_err(CliError::from),
        Command::Bench(BenchCommand::Grades(args)) => crate::bench::run_grades_bench(config, args)
            .await
            .map_err(CliError::from),
    }
}

async fn serve(config: Config) -> Result<(), CliError> {
    let database = redact_url(&config.database_url);
    let app = Application::build(config).await?;
    println!(
        "coursebridge listening on http://{} (public URL {}), database {}",
        app.address(),
        app.public_base(),
        database
    );
    app.run_until(startup::shutdown_signal()).await?;
    Ok(())
}

/// An absolute http(s) URL; plain http only for loopback hosts (development platforms).
fn checked_url(name: &str, value: &str) -> Result<String, CliError> {
    let url = Url::parse(value)
        .map_err(|err| CliError::Usage(format!("--{name}: `{value}` is not a URL ({err})")))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(CliError::Usage(format!(
                "--{name}: `{value}` must be an https URL (http only on localhost)"
            )));
        }
    }
    Ok(value.to_owned())
}

async fn platform(config: Config, command: PlatformCommand) -> Result<(), CliError> {
    match command {
        PlatformCommand::Add(add) => {
            let new = NewPlatform {
                organisation: None,
                frame_origin: None,
                issuer: checked_url("issuer", add.issuer.trim_end_matches('/'))?,
                client_id: non_empty("client-id", &add.client_id)?,
                name: add.name.clone().unwrap_or_else(|| add.issuer.clone()),
                auth_login_url: checked_url("auth-login-url", &add.auth_login_url)?,
                auth_token_url: checked_url("auth-token-url", &add.auth_token_url)?,
                jwks_url: checked_url("jwks-url", &add.jwks_url)?,
                token_audience: add
                    .token_audience
                    .as_deref()
                    .map(|aud| non_empty("token-audience", aud))
                    .transpose()?,
                auto_approve_deployments: add.auto_approve_deployments,
            };
            let db = startup::open_database(&config.database_url).await?;
            let created = platforms::register(&db, &Principal::cli(), new)
                .await
                .map_err(refused)?;
            println!(
                "registered platform #{}: issuer {} client_id {}",
                created.id, created.issuer, created.client_id
            );
        }
        PlatformCommand::Disable { issuer, client_id } => {
            let db = startup::open_database(&config.database_url).await?;
            let disabled = crate::admin::directory::disable_platform(
                &db,
                &crate::registry::Registry::default(),
                &Principal::cli(),
                issuer.trim_end_matches('/'),
                &client_id,
            )
            .await
            .map_err(|err| match err {
                crate::admin::directory::AdminError::NotFound(_) => CliError::Usage(format!(
                    "there is no registration with issuer {issuer} and client_id {client_id}"
                )),
                other => CliError::Failed(other.into()),
            })?;
            println!("disabled the registration and {disabled} deployment(s)");
        }
        PlatformCommand::List => {
            let db = startup::open_database(&config.database_url).await?;
            let registered = platforms::registrations(&db, &Principal::cli())
                .await
                .map_err(refused)?;
            if registered.is_empty() {
                println!("no platforms registered");
            }
            for p in registered {
                println!(
                    "#{}\t{}\tissuer={}\tclient_id={}\tauth={}\ttoken={}\tjwks={}{}",
                    p.id,
                    p.name,
                    p.issuer,
                    p.client_id,
                    p.auth_login_url,
                    p.auth_token_url,
                    p.jwks_url,
                    p.token_audience
                        .map(|aud| format!("\ttoken_audience={aud}"))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

fn non_empty(name: &str, value: &str) -> Result<String, CliError> {
    let value = value.trim();
    if value.is_empty() || value.len() > 255 {
        return Err(CliError::Usage(format!(
            "--{name} must be 1 to 255 characters"
        )));
    }
    Ok(value.to_owned())
}

async fn deployment(config: Config, command: DeploymentCommand) -> Result<(), CliError> {
    let db = startup::open_database(&config.database_url).await?;
    let operator = Principal::cli();
    let no_deployment = |target: &DeploymentTarget, platform: &entity::platform::Model| {
        CliError::Usage(format!(
            "no deployment {} for {} ({})",
            target.deployment_id, platform.issuer, platform.client_id
        ))
    };
    match command {
        DeploymentCommand::Add {
            target,
            organisation,
            default_locale,
            grade_mode,
        } => {
            let deployment_id = non_empty("deployment-id", &target.deployment_id)?;
            let platform =
                registration_of(&db, &operator, &target.issuer, &target.client_id).await?;
            let created = platforms::add_deployment(
                &db,
                &operator,
                platforms::NewDeployment {
                    platform_id: platform.id,
                    deployment_id,
                    organisation,
                    default_locale,
                    grade_mode,
                },
            )
            .await
            .map_err(refused)?;
            println!(
                "added approved deployment {} for {} ({}), grade mode {}",
                created.lti_deployment_id, platform.issuer, platform.client_id, created.grade_mode
            );
        }
        DeploymentCommand::GradeMode { target, mode } => {
            let platform =
                registration_of(&db, &operator, &target.issuer, &target.client_id).await?;
            let deployment =
                platforms::deployment(&db, &operator, platform.id, &target.deployment_id)
                    .await
                    .map_err(|_| no_deployment(&target, &platform))?;
            platforms::set_grade_mode(&db, &operator, &deployment, &mode)
                .await
                .map_err(refused)?;
            println!(
                "deployment {} now sends {mode} scores (from the next change on)",
                deployment.lti_deployment_id
            );
        }
        DeploymentCommand::Approve { target } => {
            let platform =
                registration_of(&db, &operator, &target.issuer, &target.client_id).await?;
            let deployment =
                platforms::deployment(&db, &operator, platform.id, &target.deployment_id)
                    .await
                    .map_err(|_| no_deployment(&target, &platform))?;
            let approved = crate::admin::directory::set_deployment_status(
                &db,
                &crate::registry::Registry::default(),
                &operator,
                deployment.id,
                crate::admin::directory::APPROVED,
                None,
            )
            .await
            .map_err(refused)?;
            println!(
                "approved deployment {} for {} ({})",
                approved.lti_deployment_id, platform.issuer, platform.client_id
            );
        }
        DeploymentCommand::List => {
            let deployments = crate::admin::directory::deployments(&db, &operator)
                .await
                .map_err(refused)?;
            if deployments.is_empty() {
                println!("no deployments");
            }
            for (d, platform) in deployments {
                let platform = platform
                    .map(|p| format!("{} ({})", p.issuer, p.client_id))
                    .unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    d.status,
                    d.lti_deployment_id,
                    platform,
                    d.organisation.unwrap_or_default(),
                    d.grade_mode
                );
            }
        }
    }
    Ok(())
}

/// The registration a command names, or the usage error that says there is none.
async fn registration_of(
    db: &sea_orm::DatabaseConnection,
    operator: &Principal,
    issuer: &str,
    client_id: &str,
) -> Result<entity::platform::Model, CliError> {
    platforms::registration(db, operator, issuer, client_id)
        .await
        .map_err(|err| match err {
            AdminError::NotFound(_) => CliError::Usage(format!(
                "no platform registered with issuer {} and client_id {client_id}",
                issuer.trim_end_matches('/')
            )),
            other => refused(other),
        })
}

/// A use case's refusal as the command line says it: what the operator asked for is not
/// possible (exit 2), or something failed (exit 1).
pub(crate) fn refused(err: AdminError) -> CliError {
    match err {
        AdminError::Db(err) => CliError::Failed(err.into()),
        other => CliError::Usage(other.to_string()),
    }
}

async fn worker(config: Config) -> Result<(), CliError> {
    let db = startup::open_database(&config.database_url).await?;
    let http = config.outbound_client().map_err(anyhow::Error::from)?;
    let worker = std::sync::Arc::new(crate::grades::worker::Worker::new(
        db,
        http,
        std::sync::Arc::default(),
        crate::grades::worker::WorkerSettings::from_config(&config),
    ));
    println!(
        "grade worker {} on {}; stop with Ctrl-C",
        worker.id(),
        redact_url(&config.database_url)
    );
    worker.run_until(startup::shutdown_signal()).await;
    Ok(())
}

async fn grades(config: Config, command: GradesCommand) -> Result<(), CliError> {
    use crate::admin::platforms::delivery_state as state;
    let db = startup::open_database(&config.database_url).await?;
    match command {
        GradesCommand::List {
            failed,
            pending,
            limit,
        } => {
            let only = if failed {
                Some(state::NOT_GRADABLE)
            } else if pending {
                Some(state::PENDING)
            } else {
                None
            };
            let (rows, counts) = platforms::deliveries(&db, &Principal::cli(), only, limit)
                .await
                .map_err(refused)?;
            let count = |name: &str| counts.get(name).copied().unwrap_or(0);
            println!(
                "{} sent, {} pending, {} not gradable, {} superseded",
                count(state::SENT),
                count(state::PENDING),
                count(state::NOT_GRADABLE),
                count(state::SUPERSEDED)
            );
            for row in rows {
                println!(
                    "#{}\t{}\tcontext {}\tperson {}\t{}\tattempts {}\t{}\t{}",
                    row.id,
                    row.state,
                    row.context_id,
                    row.user_id,
                    row.resource_id,
                    row.attempts,
                    crate::i18n::time::iso8601_utc_ms(row.scored_at_ms),
                    row.last_error.unwrap_or_default()
                );
            }
        }
        GradesCommand::Retry { id } => {
            let operator = Principal::cli();
            let queued = match id {
                None => platforms::retry_all_deliveries(&db, &operator)
                    .await
                    .map_err(refused)?,
                Some(id) => {
                    crate::admin::directory::retry_delivery(&db, &operator, id)
                        .await
                        .map_err(|err| match err {
                            AdminError::NotFound(_) | AdminError::Conflict(_) => {
                                CliError::Usage(format!("no refused or waiting score #{id}"))
                            }
                            other => refused(other),
                        })?;
                    1
                }
            };
            println!("{queued} score(s) queued again");
        }
    }
    Ok(())
}

fn import_error(err: crate::admin::courses::ImportError) -> CliError {
    use crate::admin::courses::ImportError;
    match err {
        ImportError::Invalid(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            CliError::Usage(format!("the package has {} problem(s)", problems.len()))
        }
        ImportError::Db(err) => CliError::Failed(err.into()),
        other => CliError::Usage(other.to_string()),
    }
}

async fn course(config: Config, command: CourseCommand) -> Result<(), CliError> {
    use crate::admin::courses;
    match command {
        CourseCommand::Check { path } => {
            let files = courses::read_package(&path).map_err(import_error)?;
            let package = courses::check(&files).map_err(import_error)?;
            let tasks: usize = package.modules.iter().map(|m| m.tasks().count()).sum();
            println!(
                "{} {}: valid — {} modules, {} reflection tasks, framework {} ({} phases × {} sub-areas)",
                package.slug,
                package.version,
                package.modules.len(),
                tasks,
                package.framework.slug,
                package.framework.phases.len(),
                package.framework.subareas.len()
            );
        }
        CourseCommand::Import { path } => {
            let files = courses::read_package(&path).map_err(import_error)?;
            let db = startup::open_database(&config.database_url).await?;
            let stored = courses::import(&db, &Principal::cli(), &files)
                .await
                .map_err(import_error)?;
            println!(
                "imported {} version {} as #{}; new LMS courses start on it",
                stored.slug, stored.version, stored.id
            );
        }
    }
    Ok(())
}

async fn rotate_key(config: Config) -> Result<(), CliError> {
    let db = startup::open_database(&config.database_url).await?;
    let overlap = config.key_overlap_hours as i64 * 3600;
    let (new, retired) = platforms::rotate_key(&db, &Principal::cli(), overlap)
        .await
        .map_err(refused)?;
    println!("new signing key {new}");
    for kid in retired {
        println!(
            "retired key {kid}; it stays published for {} hours",
            config.key_overlap_hours
        );
    }
    Ok(())
}

async fn demo(mut config: Config, args: DemoArgs) -> Result<(), CliError> {
    // The development LMS runs on this machine.
    config.outbound_allow_loopback = true;
    let app = Application::build(config).await?;
    let tool = ToolUrls::below(app.public_base())?;
    let platform_url = match args.platform_url {
        Some(url) => url,
        None => Url::parse(&format!("http://localhost:{}/", args.platform_bind.port()))
            .map_err(|err| CliError::Usage(err.to_string()))?,
    };
    let platform = DevPlatform::start(
        args.platform_bind,
        Some(platform_url),
        "coursebridge-demo",
        "demo-deployment",
        tool,
    )
    .await?;
    let state = app.state();
    platforms::register_development_platform(
        &state.db,
        &Principal::cli(),
        platform.registration(),
        platform.deployment_id(),
        "Region Västerbotten (demo)",
    )
    .await
    .map_err(refused)?;
    println!("coursebridge demo");
    println!("  tool:                 {}", app.public_base());
    println!("  development LMS:      {}", platform.url(""));
    println!();
    println!(
        "Open {} and click \"Starta som deltagare\" / \"Launch as participant\".",
        platform.url("")
    );
    println!("Stop with Ctrl-C.");
    app.run_until(startup::shutdown_signal()).await?;
    drop(platform);
    Ok(())
}

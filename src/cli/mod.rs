//! The command line: `serve` (default), `migrate`, registrations, keys, `demo`, `bench`, and the
//! administrators' commands (`admin`, `token`, `organisation`, `person`, `export`, `retention`).
//! Every command prints what it did. Bad input exits with code 2 and writes nothing.
mod admin;
mod cohort;
mod course;
mod grades;
mod lms;
mod oidc;
mod operations;

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};
pub use course::CourseCommand;
pub use grades::GradesCommand;
use lms::registration_of;
pub use lms::{
    ContactCommand, DeploymentCommand, DeploymentTarget, KeyCommand, PlatformAdd, PlatformCommand,
};
use url::Url;

use crate::{
    admin::{
        access::Principal,
        directory::AdminError,
        platforms::{self},
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
    /// Apply pending database migrations and exit; with --check, only say where the schema stands.
    Migrate(MigrateArgs),
    /// Copy a running SQLite database to a new file in one consistent snapshot.
    Backup(BackupArgs),
    /// Put an SQLite backup back in the database's place (every server and worker stopped).
    Restore(RestoreArgs),
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
    /// Cohorts: course runs that LMS courses of many platforms join, and where people belong.
    #[command(subcommand)]
    Cohort(cohort::CohortCommand),
    /// OpenID Connect providers people sign in through without an LMS.
    #[command(subcommand)]
    Oidc(oidc::OidcCommand),
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

/// `migrate` arguments.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Apply nothing: say whether the database is current, behind this version (exit 3), or
    /// ahead of it, migrated by a newer version (exit 4).
    #[arg(long)]
    pub check: bool,
}

/// `backup` arguments.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new file to write; an existing one is not overwritten.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `restore` arguments.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file written by `backup`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
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
    /// From `serve`'s start to a `/readyz` that answers, on a new empty SQLite database.
    Start(crate::bench::StartBenchArgs),
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
    /// Not a failure, but a state the caller tells apart by the exit code (`migrate --check`).
    #[error("{message}")]
    State {
        /// What is so.
        message: String,
        /// The exit code that says it.
        code: u8,
    },
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) => 1,
            CliError::State { code, .. } => *code,
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
        Command::Migrate(args) if args.check => operations::check_schema(config).await,
        Command::Migrate(_) => {
            startup::open_database(&config.database_url).await?;
            println!("migrated {}", redact_url(&config.database_url));
            Ok(())
        }
        Command::Backup(args) => operations::backup(config, args).await,
        Command::Restore(args) => operations::restore(config, args).await,
        Command::Platform(command) => lms::platform(config, command).await,
        Command::Deployment(command) => lms::deployment(config, command).await,
        Command::Key(KeyCommand::Rotate) => lms::rotate_key(config).await,
        Command::Course(command) => course::course(config, command).await,
        Command::Cohort(command) => cohort::cohort(config, command).await,
        Command::Oidc(command) => oidc::oidc(config, command).await,
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
        Command::Grades(command) => grades::grades(config, command).await,
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
        Command::Bench(BenchCommand::Start(args)) => crate::bench::run_start_bench(config, args)
            .await
            .map_err(CliError::from),
    }
}

async fn serve(config: Config) -> Result<(), CliError> {
    let database = redact_url(&config.database_url);
    let missing = config.missing_statement_values();
    if !missing.is_empty() {
        tracing::warn!(
            code = "STATEMENT_DEFAULTS",
            missing = missing.join(", "),
            "the accessibility statement names no operator or contact address: set these keys"
        );
    }
    if config.mail_smtp_url.trim().is_empty() {
        tracing::info!(
            code = "MAIL_OFF",
            "no mail_smtp_url: no mail is queued or sent"
        );
    } else if config.public_url.is_none() {
        tracing::warn!(
            code = "MAIL_LINKS_LOCAL",
            "mail is on but public_url is not set: opt-out links in mail name the bound address"
        );
    }
    let app = Application::build(config).await?;
    println!(
        "coursebridge listening on http://{} (public URL {}), database {}",
        app.address(),
        app.public_base(),
        database
    );
    if let Some(metrics) = app.metrics_address() {
        println!("metrics on http://{metrics}/metrics");
    }
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

fn non_empty(name: &str, value: &str) -> Result<String, CliError> {
    let value = value.trim();
    if value.is_empty() || value.len() > 255 {
        return Err(CliError::Usage(format!(
            "--{name} must be 1 to 255 characters"
        )));
    }
    Ok(value.to_owned())
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
    let _held = startup::hold_database(&config.database_url)?;
    let db = startup::open_database(&config.database_url).await?;
    let http = config.outbound_client().map_err(anyhow::Error::from)?;
    let keys = startup::session_keys(&db).await?;
    let public_base = config
        .public_base(config.bind)
        .map_err(anyhow::Error::from)?;
    let mail = crate::mail::Mailer::from_config(&config, &public_base, &keys)
        .map_err(anyhow::Error::from)?;
    let worker = std::sync::Arc::new(
        crate::worker::Worker::new(
            db,
            http,
            std::sync::Arc::default(),
            crate::lti::clock::Clock::default(),
            crate::worker::WorkerSettings::from_config(&config),
        )
        .with_mail(mail),
    );
    println!(
        "worker {} on {}; stop with Ctrl-C",
        worker.id(),
        redact_url(&config.database_url)
    );
    worker.run_until(startup::shutdown_signal()).await;
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

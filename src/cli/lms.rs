//! Commands for what a platform administrator sets up: registrations, deployments, contact
//! persons and the tool's signing key.
use clap::{Args, Subcommand};

use super::{CliError, checked_url, non_empty, refused};
use crate::{
    admin::{
        access::Principal,
        directory::AdminError,
        platforms::{self, NewPlatform},
    },
    config::Config,
    startup::{self},
};

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

pub(super) async fn platform(config: Config, command: PlatformCommand) -> Result<(), CliError> {
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
                &crate::registry::Registry::new(&crate::lti::clock::Clock::default()),
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

pub(super) async fn deployment(config: Config, command: DeploymentCommand) -> Result<(), CliError> {
    let db = startup::open_database(&config.database_url).await?;
    let operator = Principal::cli();
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
            let (_, deployment) = deployment_of(&db, &operator, &target).await?;
            platforms::set_grade_mode(&db, &operator, &deployment, &mode)
                .await
                .map_err(refused)?;
            println!(
                "deployment {} now sends {mode} scores (from the next change on)",
                deployment.lti_deployment_id
            );
        }
        DeploymentCommand::Approve { target } => {
            let (platform, deployment) = deployment_of(&db, &operator, &target).await?;
            let approved = crate::admin::directory::set_deployment_status(
                &db,
                &crate::registry::Registry::new(&crate::lti::clock::Clock::default()),
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
pub(super) async fn registration_of(
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

/// The registration and deployment a command names, or the usage error that says which is missing.
async fn deployment_of(
    db: &sea_orm::DatabaseConnection,
    operator: &Principal,
    target: &DeploymentTarget,
) -> Result<(entity::platform::Model, entity::deployment::Model), CliError> {
    let platform = registration_of(db, operator, &target.issuer, &target.client_id).await?;
    let deployment = platforms::deployment(db, operator, platform.id, &target.deployment_id)
        .await
        .map_err(|err| match err {
            AdminError::NotFound(_) => CliError::Usage(format!(
                "no deployment {} for {} ({})",
                target.deployment_id, platform.issuer, platform.client_id
            )),
            other => refused(other),
        })?;
    Ok((platform, deployment))
}

pub(super) async fn rotate_key(config: Config) -> Result<(), CliError> {
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

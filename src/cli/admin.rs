//! Administrators' commands: roles granted inside the tool, API tokens, organisations, personal
//! data, retention, archive packages and the OpenAPI document. Each prints what it did; bad input
//! exits 2 and writes nothing. Changes are written to the audit log as the actor `cli`.
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{CliError, refused};
use crate::{
    admin::{
        self,
        access::{Principal, Scope},
        people::Erasure,
        registrations::InvitationState,
    },
    config::Config,
    startup,
};

/// `admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Grant a person (by platform and LTI `sub`) a role inside the tool.
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
        /// `system` (everything) or `organisation` (their own organisation).
        #[arg(long)]
        role: String,
        /// The organisation, for the `organisation` role.
        #[arg(long)]
        organisation: Option<String>,
    },
    /// List granted roles.
    List,
    /// Take a granted role back.
    Revoke {
        /// The grant's id (from `admin list`).
        #[arg(long)]
        id: i64,
    },
}

/// `token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token. It is printed once; only its hash is kept.
    Create {
        /// `completions:read` or `admin`.
        #[arg(long)]
        scope: String,
        /// Limit the token to one organisation (a system token when left out).
        #[arg(long)]
        organisation: Option<String>,
        /// When it expires: `90d`, `12h` or a date (`2027-06-30`).
        #[arg(long)]
        expires: String,
        /// What it is for (shown in `token list`).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token.
    Revoke {
        /// The token's id (from `token list`).
        #[arg(long)]
        id: i64,
    },
}

/// `registration …`
#[derive(Debug, Subcommand)]
pub enum RegistrationCommand {
    /// Make a one-time Dynamic Registration link for a platform administrator. It is printed
    /// once; only its hash is kept.
    Invite {
        /// The organisation that owns the registration's deployments.
        #[arg(long)]
        organisation: String,
        /// When it expires: `7d`, `12h` or a date (`2027-06-30`); at most 90 days.
        #[arg(long, default_value = admin::registrations::DEFAULT_INVITATION_EXPIRY)]
        expires: String,
        /// Approve the registration's later deployments at once (otherwise they wait for
        /// `deployment approve`).
        #[arg(long)]
        auto_approve_deployments: bool,
    },
    /// List invitations (never the links themselves).
    List,
}

/// `organisation …`
#[derive(Debug, Subcommand)]
pub enum OrganisationCommand {
    /// Add an organisation (deployments and grants name it).
    Add {
        /// Its name.
        #[arg(long)]
        name: String,
    },
    /// List organisations.
    List,
    /// Set the URL completion changes are pushed to; prints the new signing secret once.
    Webhook {
        /// The organisation.
        #[arg(long)]
        name: String,
        /// https URL (http only on loopback); empty removes the webhook.
        #[arg(long)]
        url: String,
    },
    /// Anonymise or delete people's data N months after their cohort closes.
    Retention {
        /// The organisation.
        #[arg(long)]
        name: String,
        /// Months after closing (1–240); 0 removes the rule.
        #[arg(long)]
        months: i32,
        /// `anonymise` or `delete`.
        #[arg(long, default_value = "anonymise")]
        action: String,
    },
}

/// `session …`
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// End every open session of a person on every instance within seconds (their next launch
    /// from the LMS starts a new one).
    Revoke {
        /// The person's id (`person.id` in completion records).
        #[arg(long)]
        person: i64,
    },
}

/// `person …`
#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Print everything stored about a person as JSON.
    Export {
        /// The person's id (`person.id` in completion records).
        #[arg(long)]
        id: i64,
    },
    /// Make a person who signs in through a provider one person with an LMS person: from their
    /// next sign-in they act as the LMS person (never done on an email alone).
    Link {
        /// The LMS person's id.
        #[arg(long)]
        person: i64,
        /// The sign-in provider's issuer.
        #[arg(long)]
        issuer: String,
        /// The tool's client id at the provider.
        #[arg(long)]
        client_id: String,
        /// How the provider names the person (shown to them when they signed in without a role).
        #[arg(long)]
        sub: String,
    },
    /// Erase a person.
    Erase {
        /// The person's id.
        #[arg(long)]
        id: i64,
        /// `anonymise` (identity and personal content removed, counts kept) or `delete`.
        #[arg(long)]
        mode: String,
    },
}

/// `export …`
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write a cohort's archive package (E-ARK SIP, FGS Paketstruktur 2.0) as a ZIP.
    Cohort(ExportCohortArgs),
}

/// `export cohort` arguments.
#[derive(Debug, Args)]
pub struct ExportCohortArgs {
    /// The cohort's id (from the API's `/api/v1/cohorts`).
    #[arg(long)]
    pub cohort: i64,
    /// Where to write the ZIP (a folder takes the package's own file name).
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

/// `retention …`
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Apply every organisation's retention rule now (the worker does this hourly).
    Run,
}

fn non_empty(name: &str, value: &str) -> Result<String, CliError> {
    super::non_empty(name, value)
}

/// `admin …`
pub async fn admin(config: Config, command: AdminCommand) -> Result<(), CliError> {
    match command {
        AdminCommand::Grant {
            issuer,
            client_id,
            sub,
            role,
            organisation,
        } => {
            let sub = non_empty("sub", &sub)?;
            let organisation = match (role.as_str(), organisation) {
                ("system", None) => "*".to_owned(),
                ("system", Some(_)) => {
                    return Err(CliError::Usage(
                        "--organisation is only for the organisation role".into(),
                    ));
                }
                ("organisation", Some(org)) => non_empty("organisation", &org)?,
                ("organisation", None) => {
                    return Err(CliError::Usage(
                        "the organisation role needs --organisation".into(),
                    ));
                }
                _ => {
                    return Err(CliError::Usage(
                        "--role must be 'system' or 'organisation'".into(),
                    ));
                }
            };
            let db = startup::open_database(&config.database_url).await?;
            let operator = Principal::cli();
            let platform = super::registration_of(&db, &operator, &issuer, &client_id).await?;
            admin::directory::grant_role(
                &db,
                &operator,
                platform.id,
                &sub,
                &role,
                Some(&organisation)
                    .filter(|o| *o != "*")
                    .map(String::as_str),
            )
            .await
            .map_err(refused)?;
            if role == "system" {
                println!("{sub} is now a system administrator");
            } else {
                println!("{sub} is now organisation administrator for {organisation}");
            }
        }
        AdminCommand::List => {
            let db = startup::open_database(&config.database_url).await?;
            for grant in admin::directory::grants(&db, &Principal::cli())
                .await
                .map_err(refused)?
            {
                println!(
                    "{}\tplatform {}\t{}\t{}\t{}",
                    grant.id, grant.platform_id, grant.sub, grant.role, grant.organisation
                );
            }
        }
        AdminCommand::Revoke { id } => {
            let db = startup::open_database(&config.database_url).await?;
            admin::directory::revoke_grant(&db, &Principal::cli(), id)
                .await
                .map_err(|err| match err {
                    admin::directory::AdminError::NotFound(_) => {
                        CliError::Usage(format!("there is no grant {id}"))
                    }
                    other => refused(other),
                })?;
            println!("grant {id} revoked");
        }
    }
    Ok(())
}

/// `token …`
pub async fn token(config: Config, command: TokenCommand) -> Result<(), CliError> {
    let now = Principal::cli().now_unix();
    match command {
        TokenCommand::Create {
            scope,
            organisation,
            expires,
            label,
        } => {
            let scope = Scope::parse(&scope).ok_or_else(|| {
                CliError::Usage("--scope must be 'completions:read' or 'admin'".into())
            })?;
            let expires_at = admin::tokens::parse_expiry(&expires, now).ok_or_else(|| {
                CliError::Usage(
                    "--expires must be days (90d), hours (12h) or a future date (2027-06-30)"
                        .into(),
                )
            })?;
            let organisation = organisation
                .map(|o| non_empty("organisation", &o))
                .transpose()?;
            if label.chars().count() > 200 {
                return Err(CliError::Usage(
                    "--label is longer than 200 characters".into(),
                ));
            }
            let db = startup::open_database(&config.database_url).await?;
            let created = admin::tokens::issue(
                &db,
                &Principal::cli(),
                scope,
                organisation.as_deref(),
                &label,
                expires_at,
            )
            .await
            .map_err(|err| match err {
                admin::directory::AdminError::NotFound(_) => CliError::Usage(format!(
                    "there is no organisation {:?}; add it with `coursebridge organisation add`",
                    organisation.as_deref().unwrap_or_default()
                )),
                other => refused(other),
            })?;
            eprintln!(
                "token {} ({}, {}) expires {}; it is shown once, store it now:",
                created.row.id,
                scope.as_str(),
                organisation.as_deref().unwrap_or("every organisation"),
                crate::i18n::time::iso8601_utc_ms(expires_at * 1000),
            );
            println!("{}", created.secret);
        }
        TokenCommand::List => {
            let db = startup::open_database(&config.database_url).await?;
            for token in admin::tokens::list(&db, &Principal::cli())
                .await
                .map_err(refused)?
            {
                let state = if token.revoked_at.is_some() {
                    "revoked"
                } else if token.expires_at <= now {
                    "expired"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}…\t{}\t{}\t{}\t{}",
                    token.id,
                    token.prefix,
                    token.scope,
                    token.organisation.as_deref().unwrap_or("*"),
                    state,
                    token.label
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let db = startup::open_database(&config.database_url).await?;
            admin::tokens::revoke(&db, &Principal::cli(), id)
                .await
                .map_err(|err| match err {
                    admin::directory::AdminError::NotFound(_) => {
                        CliError::Usage(format!("there is no active token {id}"))
                    }
                    other => refused(other),
                })?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}

/// `organisation …`
pub async fn organisation(config: Config, command: OrganisationCommand) -> Result<(), CliError> {
    use admin::directory::{AdminError, OrganisationSettings, RetentionRule};
    let db = startup::open_database(&config.database_url).await?;
    let operator = Principal::cli();
    let change = |name: String, settings: OrganisationSettings| {
        let (db, operator) = (db.clone(), operator.clone());
        async move {
            admin::directory::change_organisation(&db, &operator, &name, settings)
                .await
                .map_err(|err| match err {
                    AdminError::NotFound(_) => {
                        CliError::Usage(format!("there is no organisation {name:?}"))
                    }
                    other => refused(other),
                })
        }
    };
    match command {
        OrganisationCommand::Add { name } => {
            let name = non_empty("name", &name)?;
            admin::directory::add_organisation(&db, &operator, &name)
                .await
                .map_err(refused)?;
            println!("organisation {name} exists");
        }
        OrganisationCommand::List => {
            for org in admin::directory::organisations(&db, &operator)
                .await
                .map_err(refused)?
            {
                println!(
                    "{}\twebhook {}\tretention {}",
                    org.name,
                    org.webhook_url.as_deref().unwrap_or("-"),
                    org.retention_months
                        .map(|m| format!("{} after {m} months", org.retention_action))
                        .unwrap_or_else(|| "-".into())
                );
            }
        }
        OrganisationCommand::Webhook { name, url } => {
            let url = if url.trim().is_empty() {
                None
            } else {
                Some(
                    admin::directory::webhook_url(url.trim(), config.outbound_allow_loopback)
                        .map_err(|err| {
                            CliError::Usage(match err {
                                admin::directory::WebhookUrlError::NotUrl => {
                                    "--url is not a valid URL".into()
                                }
                                admin::directory::WebhookUrlError::NotHttps => {
                                    "--url must use https (http only on loopback)".into()
                                }
                                admin::directory::WebhookUrlError::Inside => {
                                    "--url points at an address inside (loopback, private or link-local)"
                                        .into()
                                }
                            })
                        })?,
                )
            };
            let removing = url.is_none();
            let settings = OrganisationSettings {
                webhook_url: Some(url),
                retention: None,
            };
            let (_, secret) = change(name.clone(), settings).await?;
            match secret {
                Some(secret) => {
                    eprintln!("webhook set for {name}; its signing secret (shown once):");
                    println!("{secret}");
                }
                None if removing => println!("webhook removed for {name}"),
                None => println!("webhook for {name} unchanged; its signing secret stays"),
            }
        }
        OrganisationCommand::Retention {
            name,
            months,
            action,
        } => {
            if !(0..=240).contains(&months) {
                return Err(CliError::Usage("--months must be 0 to 240".into()));
            }
            if action != admin::directory::RETENTION_ANONYMISE
                && action != admin::directory::RETENTION_DELETE
            {
                return Err(CliError::Usage(
                    "--action must be 'anonymise' or 'delete'".into(),
                ));
            }
            let rule = (months > 0).then(|| RetentionRule {
                months: Some(months),
                action: Some(action.clone()),
            });
            let settings = OrganisationSettings {
                webhook_url: None,
                retention: Some(rule),
            };
            change(name.clone(), settings).await?;
            if months > 0 {
                println!("{name}: {action} {months} months after a cohort closes");
            } else {
                println!("{name}: no retention rule");
            }
        }
    }
    Ok(())
}

/// `person …`
pub async fn person(config: Config, command: PersonCommand) -> Result<(), CliError> {
    let db = startup::open_database(&config.database_url).await?;
    let principal = Principal::cli();
    let not_found = |id: i64| CliError::Usage(format!("there is no person {id}"));
    match command {
        PersonCommand::Export { id } => {
            let export =
                admin::people::export(&db, &principal, id)
                    .await
                    .map_err(|err| match err {
                        admin::people::PersonError::Db(err) => err.into(),
                        _ => not_found(id),
                    })?;
            println!(
                "{}",
                serde_json::to_string_pretty(&export).map_err(anyhow::Error::from)?
            );
        }
        PersonCommand::Link {
            person,
            issuer,
            client_id,
            sub,
        } => {
            let linked = admin::people::link(&db, &principal, person, (&issuer, &client_id, &sub))
                .await
                .map_err(super::refused)?;
            println!("person {linked} ({sub} at {issuer}) signs in as person {person}");
        }
        PersonCommand::Erase { id, mode } => {
            let how = match mode.as_str() {
                "anonymise" => Erasure::Anonymise,
                "delete" => Erasure::Delete,
                _ => {
                    return Err(CliError::Usage(
                        "--mode must be 'anonymise' or 'delete'".into(),
                    ));
                }
            };
            let report = admin::people::erase(&db, &principal, id, how)
                .await
                .map_err(|err| match err {
                    admin::people::PersonError::Db(err) => err.into(),
                    _ => not_found(id),
                })?;
            println!(
                "person {id}: {} answers {}, {} self-assessments deleted, {} deliveries removed, identity {}",
                report.answers,
                if how == Erasure::Anonymise {
                    "emptied"
                } else {
                    "deleted"
                },
                report.self_assessments,
                report.deliveries,
                if report.identity_removed {
                    "removed"
                } else {
                    "kept (other organisations)"
                },
            );
        }
    }
    Ok(())
}

/// `export cohort`
pub async fn export(config: Config, command: ExportCommand) -> Result<(), CliError> {
    let ExportCommand::Cohort(args) = command;
    let db = startup::open_database(&config.database_url).await?;
    let package = admin::archive::build(&db, &Principal::cli(), args.cohort)
        .await
        .map_err(|err| match err {
            admin::archive::ArchiveError::NotFound => {
                CliError::Usage(format!("there is no cohort {}", args.cohort))
            }
            other => CliError::Failed(anyhow::anyhow!(other.to_string())),
        })?;
    let path = if args.out.is_dir() {
        args.out.join(format!("{}.zip", package.id))
    } else {
        args.out
    };
    std::fs::write(&path, &package.zip)
        .map_err(|err| CliError::Usage(format!("cannot write {}: {err}", path.display())))?;
    println!(
        "wrote {} ({} bytes), package {}",
        path.display(),
        package.zip.len(),
        package.id
    );
    Ok(())
}

/// `retention run`
pub async fn retention(config: Config, command: RetentionCommand) -> Result<(), CliError> {
    let RetentionCommand::Run = command;
    let db = startup::open_database(&config.database_url).await?;
    let run = admin::retention::run(&db, &Principal::cli().clock).await?;
    println!(
        "retention applied: {} organisations, {} cohorts, {} people",
        run.organisations, run.cohorts, run.people
    );
    Ok(())
}

pub(super) async fn registration(
    config: Config,
    command: RegistrationCommand,
) -> Result<(), CliError> {
    let db = startup::open_database(&config.database_url).await?;
    let now = Principal::cli().now_unix();
    match command {
        RegistrationCommand::Invite {
            organisation,
            expires,
            auto_approve_deployments,
        } => {
            let expires_at = admin::tokens::parse_expiry(&expires, now).ok_or_else(|| {
                CliError::Usage(
                    "--expires must be days (7d), hours (12h) or a future date (2027-06-30)".into(),
                )
            })?;
            let base = config.public_base(config.bind)?;
            let invitation = admin::registrations::invite(
                &db,
                &base,
                &Principal::cli(),
                &organisation,
                expires_at,
                auto_approve_deployments,
            )
            .await
            .map_err(|err| match err {
                admin::directory::AdminError::Invalid(problem) => CliError::Usage(problem),
                other => CliError::Failed(other.into()),
            })?;
            println!(
                "registration link #{} for {} (deployments {}), works once until {}:",
                invitation.row.id,
                invitation.row.organisation,
                if auto_approve_deployments {
                    "approved at once"
                } else {
                    "wait for approval"
                },
                crate::i18n::time::iso8601_utc_ms(expires_at * 1000),
            );
            println!("{}", invitation.url);
        }
        RegistrationCommand::List => {
            for row in admin::registrations::invitations(&db, &Principal::cli())
                .await
                .map_err(|err| CliError::Failed(err.into()))?
            {
                let state = match (InvitationState::of(&row, now), row.platform_id) {
                    (InvitationState::Used, Some(platform)) => {
                        format!("used by platform #{platform}")
                    }
                    (InvitationState::Used, None) => "used".to_owned(),
                    (InvitationState::Expired, _) => "expired".to_owned(),
                    (InvitationState::Open, _) => "open".to_owned(),
                };
                println!(
                    "#{}\t{}\t{}\texpires {}\tby {}",
                    row.id,
                    row.organisation,
                    state,
                    crate::i18n::time::iso8601_utc_ms(row.expires_at * 1000),
                    row.created_by
                );
            }
        }
    }
    Ok(())
}

pub(super) async fn session(config: Config, command: SessionCommand) -> Result<(), CliError> {
    let db = startup::open_database(&config.database_url).await?;
    match command {
        SessionCommand::Revoke { person } => {
            admin::people::revoke_sessions(&db, &Principal::cli(), person)
                .await
                .map_err(|err| match err {
                    admin::people::PersonError::Db(err) => CliError::Failed(err.into()),
                    _ => CliError::Usage(format!("there is no person {person}")),
                })?;
            println!("person {person}: every open session ends within seconds");
        }
    }
    Ok(())
}

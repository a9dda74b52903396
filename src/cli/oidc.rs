//! `oidc …`: the OpenID Connect providers people sign in through without an LMS.
use std::path::PathBuf;

use clap::Subcommand;

use super::{CliError, non_empty, refused};
use crate::{
    admin::{
        access::Principal,
        signin::{self, ProviderRequest},
    },
    config::Config,
    startup,
};

/// `oidc …`
#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    /// Add a provider; prints the redirect URI to register at it.
    Add {
        /// The name in `/signin/<name>`: lower-case letters, digits and dashes.
        #[arg(long)]
        name: String,
        /// The issuer URL (`https://login.microsoftonline.com/<tenant>/v2.0` for Entra ID).
        #[arg(long)]
        issuer: String,
        /// The tool's client id at the provider.
        #[arg(long)]
        client_id: String,
        /// A file holding the client secret (never on the command line, where `ps` shows it).
        #[arg(long)]
        client_secret_file: PathBuf,
        /// The organisation its people belong to.
        #[arg(long)]
        organisation: Option<String>,
        /// A tenant (`tid`) whose people may sign in (repeat for each); any when left out.
        #[arg(long = "allowed-tenant")]
        allowed_tenants: Vec<String>,
        /// An email domain whose people may sign in with a verified email (repeat for each).
        #[arg(long = "allowed-domain")]
        allowed_domains: Vec<String>,
    },
    /// Every provider (never the secrets).
    List,
    /// Remove a provider: nobody signs in through it any more, and its sessions end.
    Remove {
        /// Its name.
        #[arg(long)]
        name: String,
    },
}

/// Runs an `oidc` command.
pub async fn oidc(config: Config, command: OidcCommand) -> Result<(), CliError> {
    let db = startup::open_database(&config.database_url).await?;
    let operator = Principal::cli();
    let base = config.public_base(config.bind)?;
    let redirect = base
        .join("signin/callback")
        .map_err(|err| CliError::Usage(err.to_string()))?;
    match command {
        OidcCommand::Add {
            name,
            issuer,
            client_id,
            client_secret_file,
            organisation,
            allowed_tenants,
            allowed_domains,
        } => {
            let secret = std::fs::read_to_string(&client_secret_file).map_err(|err| {
                CliError::Usage(format!(
                    "--client-secret-file {}: {err}",
                    client_secret_file.display()
                ))
            })?;
            let request = ProviderRequest {
                name: non_empty("name", &name)?,
                issuer: non_empty("issuer", &issuer)?,
                client_id: non_empty("client-id", &client_id)?,
                client_secret: secret.trim().to_owned(),
                organisation,
                allowed_tenants,
                allowed_domains,
            };
            let provider =
                signin::add_provider(&db, &operator, request, config.outbound_allow_loopback)
                    .await
                    .map_err(refused)?;
            println!(
                "provider {} added; people sign in at {}",
                provider.name,
                base.join(&format!("signin/{}", provider.name))
                    .map(|u| u.to_string())
                    .unwrap_or_default()
            );
            println!("redirect URI to register at the provider: {redirect}");
        }
        OidcCommand::List => {
            for provider in signin::providers(&db, &operator).await.map_err(refused)? {
                println!(
                    "{}\t{}\t{}\t{}\ttenants: {}\tdomains: {}",
                    provider.name,
                    provider.issuer,
                    provider.client_id,
                    provider.organisation.as_deref().unwrap_or("-"),
                    if provider.allowed_tenants.is_empty() {
                        "any"
                    } else {
                        &provider.allowed_tenants
                    },
                    if provider.allowed_domains.is_empty() {
                        "any"
                    } else {
                        &provider.allowed_domains
                    },
                );
            }
            println!("redirect URI to register at each provider: {redirect}");
        }
        OidcCommand::Remove { name } => {
            signin::remove_provider(&db, &operator, &name)
                .await
                .map_err(refused)?;
            println!("provider {} removed", name.trim());
        }
    }
    Ok(())
}

//! `migrate --check`, `backup` and `restore`: the operator's commands for upgrades and copies.
use super::{CliError, refused};
use crate::{
    admin::{
        access::Principal,
        operations::{self, SchemaState},
    },
    config::{Config, redact_url},
    startup,
};

/// Exit code of `migrate --check` when migrations wait.
const BEHIND: u8 = 3;
/// Exit code of `migrate --check` when a newer version migrated the database.
const AHEAD: u8 = 4;

pub(super) async fn check_schema(config: Config) -> Result<(), CliError> {
    let db = startup::connect_database(&config.database_url).await?;
    let state = operations::schema_state(&db, &Principal::cli())
        .await
        .map_err(refused)?;
    let database = redact_url(&config.database_url);
    match state {
        SchemaState::Current => {
            println!("current: {database} has every migration of this version");
            Ok(())
        }
        SchemaState::Behind(pending) => Err(CliError::State {
            message: format!(
                "behind: {database} waits for {} migration(s): {} (run `coursebridge migrate`)",
                pending.len(),
                pending.join(", ")
            ),
            code: BEHIND,
        }),
        SchemaState::Ahead(unknown) => Err(CliError::State {
            message: format!(
                "ahead: {database} was migrated by a newer version ({}); this one will not serve it",
                unknown.join(", ")
            ),
            code: AHEAD,
        }),
    }
}

pub(super) async fn backup(config: Config, args: super::BackupArgs) -> Result<(), CliError> {
    let db = startup::open_database(&config.database_url).await?;
    let copy = operations::backup(&db, &Principal::cli(), &config.database_url, &args.out)
        .await
        .map_err(refused)?;
    if copy.integrity != "ok" {
        return Err(CliError::Failed(anyhow::anyhow!(
            "the copy {} fails SQLite's integrity check: {}",
            args.out.display(),
            copy.integrity
        )));
    }
    println!(
        "backed up {} to {} ({} bytes, integrity ok)",
        redact_url(&config.database_url),
        args.out.display(),
        copy.bytes
    );
    Ok(())
}

pub(super) async fn restore(config: Config, args: super::RestoreArgs) -> Result<(), CliError> {
    let restored = operations::restore(&Principal::cli(), &config.database_url, &args.file)
        .await
        .map_err(refused)?;
    println!(
        "restored {} from {} ({} migration(s) applied to it)",
        redact_url(&config.database_url),
        args.file.display(),
        restored.migrated
    );
    Ok(())
}

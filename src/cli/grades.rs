//! `grades …`: scores on their way to the LMS gradebooks, and sending refused ones again.
use clap::Subcommand;

use super::{CliError, refused};
use crate::{
    admin::{
        access::Principal,
        directory::AdminError,
        platforms::{self},
    },
    config::Config,
    startup::{self},
};

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

pub(super) async fn grades(config: Config, command: GradesCommand) -> Result<(), CliError> {
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

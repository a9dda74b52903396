//! `course …`: checking and importing course packages.
use std::path::PathBuf;

use clap::Subcommand;

use super::CliError;
use crate::{
    admin::access::Principal,
    config::Config,
    startup::{self},
};

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

pub(super) fn import_error(err: crate::admin::courses::ImportError) -> CliError {
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

pub(super) async fn course(config: Config, command: CourseCommand) -> Result<(), CliError> {
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

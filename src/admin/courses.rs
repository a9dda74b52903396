//! Importing course packages: from a folder or a .zip, validated, stored as a new version.
use std::{io::Read, path::Path};

use entity::course_version;
use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    course::{self, CoursePackage, PackageFiles, Problem},
    lti,
    store::{self, StoreError},
};

/// Why a package was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The package could not be read at all.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// What was given.
        path: String,
        /// Why.
        reason: String,
    },
    /// The package has problems; each names file and line.
    #[error("the package has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    /// That course version is already stored.
    #[error("course {slug} version {version} is already imported; give the package a new version")]
    Exists {
        /// Course slug.
        slug: String,
        /// Version.
        version: String,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Largest package accepted, all files together.
const MAX_PACKAGE_BYTES: u64 = 512 * 1024 * 1024;

/// Reads a package from a folder or a .zip file.
pub fn read_package(path: &Path) -> Result<PackageFiles, ImportError> {
    let shown = path.display().to_string();
    let read_error = |reason: String| ImportError::Read {
        path: shown.clone(),
        reason,
    };
    if path.is_dir() {
        return course::read_folder(path).map_err(|err| read_error(err.to_string()));
    }
    let file = std::fs::File::open(path).map_err(|err| read_error(err.to_string()))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|err| read_error(format!("not a folder or a .zip: {err}")))?;
    let mut files = PackageFiles::new();
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|err| read_error(err.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        // enclosed_name refuses absolute paths and `..`, so nothing escapes the package.
        let Some(name) = entry.enclosed_name() else {
            return Err(read_error(format!(
                "unsafe path in the archive: {:?}",
                entry.name_raw()
            )));
        };
        total += entry.size();
        if total > MAX_PACKAGE_BYTES {
            return Err(read_error("larger than 512 MiB".into()));
        }
        let key = name
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|err| read_error(err.to_string()))?;
        files.insert(key, bytes);
    }
    // A zip made of the folder itself has one top folder; the package is inside it.
    if !files.contains_key("course.toml") {
        let tops: std::collections::HashSet<_> = files
            .keys()
            .filter_map(|k| k.split_once('/').map(|(top, _)| top.to_owned()))
            .collect();
        if tops.len() == 1 {
            let top = tops.into_iter().next().unwrap_or_default();
            let prefix = format!("{top}/");
            files = files
                .into_iter()
                .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|rest| (rest.to_owned(), v)))
                .collect();
        }
    }
    Ok(files)
}

/// Validates a package.
pub fn check(files: &PackageFiles) -> Result<CoursePackage, ImportError> {
    course::load(files).map_err(ImportError::Invalid)
}

/// Validates and stores a package as a new version.
pub async fn import(
    db: &DatabaseConnection,
    files: &PackageFiles,
) -> Result<course_version::Model, ImportError> {
    let package = check(files)?;
    let json = serde_json::to_string(&package).map_err(|err| DbErr::Custom(err.to_string()))?;
    let stored_files = files
        .iter()
        .filter(|(path, _)| path.starts_with("files/"))
        .map(|(path, bytes)| store::course::NewFile {
            path,
            content_type: course::content_type(path),
            bytes,
        })
        .collect();
    store::course::import(
        db,
        &package.slug,
        &package.version,
        (&package.title.sv, &package.title.en),
        json,
        stored_files,
        lti::now_unix(),
    )
    .await
    .map_err(|err| match err {
        StoreError::Conflict(_) => ImportError::Exists {
            slug: package.slug.clone(),
            version: package.version.clone(),
        },
        StoreError::Db(err) => ImportError::Db(err),
    })
}

/// Imports the embedded demo course unless this version of it is stored already.
pub async fn ensure_demo(db: &DatabaseConnection) -> Result<(), ImportError> {
    let files = course::demo_files();
    let package = check(&files)?;
    if store::course::find_version(db, &package.slug, &package.version)
        .await?
        .is_none()
    {
        match import(db, &files).await {
            Ok(stored) => {
                tracing::info!(slug = %stored.slug, version = %stored.version, "imported the demo course")
            }
            // Another instance imported it at the same moment.
            Err(ImportError::Exists { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

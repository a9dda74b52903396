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
/// Largest single file accepted (a recorded lecture fits; a whole film does not).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

fn file_too_large(name: &str, bytes: u64) -> String {
    format!(
        "{name} is {} MiB; a file in a package may be at most {} MiB (shorten or compress it, or link to it)",
        bytes.div_ceil(1024 * 1024),
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

/// Reads a package from a folder or a .zip file.
pub fn read_package(path: &Path) -> Result<PackageFiles, ImportError> {
    let shown = path.display().to_string();
    let read_error = |reason: String| ImportError::Read {
        path: shown.clone(),
        reason,
    };
    if path.is_dir() {
        let files = course::read_folder(path).map_err(|err| read_error(err.to_string()))?;
        if let Some((name, bytes)) = files
            .iter()
            .find(|(_, bytes)| bytes.len() as u64 > MAX_FILE_BYTES)
        {
            return Err(read_error(file_too_large(name, bytes.len() as u64)));
        }
        return Ok(files);
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
        let key = name
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if entry.size() > MAX_FILE_BYTES {
            return Err(read_error(file_too_large(&key, entry.size())));
        }
        total += entry.size();
        if total > MAX_PACKAGE_BYTES {
            return Err(read_error("larger than 512 MiB".into()));
        }
        // The declared size may lie: never read more than the limit allows.
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        (&mut entry)
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| read_error(err.to_string()))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(read_error(file_too_large(&key, bytes.len() as u64)));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_with_its_name_and_size() {
        use std::io::Write;
        let path = std::env::temp_dir().join(format!("cb-big-{}.zip", lti::random_token(6)));
        {
            let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .large_file(true);
            zip.start_file("files/film.mp4", options).unwrap();
            let chunk = vec![0u8; 1024 * 1024];
            for _ in 0..=(MAX_FILE_BYTES / (1024 * 1024)) {
                zip.write_all(&chunk).unwrap();
            }
            zip.finish().unwrap();
        }
        let refused = read_package(&path);
        let _ = std::fs::remove_file(&path);
        let message = match refused {
            Err(err) => err.to_string(),
            Ok(_) => panic!("a 257 MiB file was taken"),
        };
        assert!(message.contains("files/film.mp4 is 257 MiB"), "{message}");
        assert!(message.contains("at most 256 MiB"), "{message}");
    }
}

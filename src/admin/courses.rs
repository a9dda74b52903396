//! Importing course packages: from a folder or a .zip, validated, stored as a new version.
use std::{
    collections::BTreeMap,
    io::Read,
    path::{Path, PathBuf},
};

use entity::course_version;
use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    admin::access::Principal,
    course::{self, CoursePackage, PackageFiles, Problem},
    lti::clock::Clock,
    store::{
        self, StoreError,
        course::{CHUNK_BYTES, VersionImport},
    },
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
    /// The principal may not import courses.
    #[error("{0}")]
    Denied(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Largest package accepted, all files together.
const MAX_PACKAGE_BYTES: u64 = 512 * 1024 * 1024;
/// Largest single file accepted (a recorded lecture fits; a whole film does not).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// Largest file outside `files/`. Those are read whole to be parsed (course.toml, the framework,
/// the module texts), so their limit is what bounds an import's memory; a module text is far below.
pub const MAX_TEXT_BYTES: u64 = 8 * 1024 * 1024;
/// Largest sum of the files outside `files/`.
const MAX_TEXTS_BYTES: u64 = 32 * 1024 * 1024;

fn file_too_large(name: &str, bytes: u64) -> String {
    format!(
        "{name} is {} MiB; a file in a package may be at most {} MiB (shorten or compress it, or link to it)",
        bytes.div_ceil(1024 * 1024),
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

fn text_too_large(name: &str, bytes: u64) -> String {
    format!(
        "{name} is {} MiB; a file outside files/ is read as text and may be at most {} MiB (put downloads and media under files/)",
        bytes.div_ceil(1024 * 1024),
        MAX_TEXT_BYTES / (1024 * 1024)
    )
}

/// A package read for import: the files outside `files/` in memory, the attachments (under
/// `files/`) known by size only and read a chunk at a time while they are stored. Memory is
/// bounded by the text limits and one chunk, whatever the size of the package.
pub struct Package {
    texts: PackageFiles,
    attachments: BTreeMap<String, Attachment>,
    /// The .zip the attachments are entries of, when the package is one.
    archive: Option<PathBuf>,
}

struct Attachment {
    size: u64,
    origin: Origin,
}

enum Origin {
    Memory(Vec<u8>),
    Disk(PathBuf),
    /// Entry `index` of the package's archive.
    ZipEntry(usize),
}

impl From<PackageFiles> for Package {
    /// A package built in memory (the demo course, tests, benchmarks).
    fn from(files: PackageFiles) -> Self {
        let (attachments, texts): (PackageFiles, PackageFiles) = files
            .into_iter()
            .partition(|(path, _)| path.starts_with(course::ATTACHMENTS));
        let attachments = attachments
            .into_iter()
            .map(|(path, bytes)| {
                let size = bytes.len() as u64;
                let origin = Origin::Memory(bytes);
                (path, Attachment { size, origin })
            })
            .collect();
        Package {
            texts,
            attachments,
            archive: None,
        }
    }
}

/// Keeps the running totals of a package being read and refuses it at the first limit passed.
struct Limits {
    package: u64,
    texts: u64,
}

impl Limits {
    fn admit(&mut self, name: &str, size: u64, is_attachment: bool) -> Result<(), String> {
        if is_attachment && size > MAX_FILE_BYTES {
            return Err(file_too_large(name, size));
        }
        if !is_attachment {
            if size > MAX_TEXT_BYTES {
                return Err(text_too_large(name, size));
            }
            self.texts += size;
            if self.texts > MAX_TEXTS_BYTES {
                return Err(format!(
                    "the files outside files/ are more than {} MiB together",
                    MAX_TEXTS_BYTES / (1024 * 1024)
                ));
            }
        }
        self.package += size;
        if self.package > MAX_PACKAGE_BYTES {
            return Err("larger than 512 MiB".into());
        }
        Ok(())
    }
}

/// A path inside a package, with `/` separators.
fn package_key(relative: &Path) -> String {
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads a package from a folder or a .zip file: the texts whole, the attachments by size.
pub fn read_package(path: &Path) -> Result<Package, ImportError> {
    let shown = path.display().to_string();
    let read_error = |reason: String| ImportError::Read {
        path: shown.clone(),
        reason,
    };
    let mut limits = Limits {
        package: 0,
        texts: 0,
    };
    if path.is_dir() {
        return read_folder(path, &mut limits).map_err(read_error);
    }
    let file = std::fs::File::open(path).map_err(|err| read_error(err.to_string()))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|err| read_error(format!("not a folder or a .zip: {err}")))?;
    // First the names, so that a zip made of the folder itself (one top folder holding
    // course.toml) is read as the folder: whether an entry is an attachment depends on its path below that folder.
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
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
        entries.push((package_key(&name), index, entry.size()));
    }
    if !entries.iter().any(|(key, _, _)| key == "course.toml") {
        let tops: std::collections::HashSet<_> = entries
            .iter()
            .filter_map(|(key, _, _)| key.split_once('/').map(|(top, _)| top.to_owned()))
            .collect();
        let prefix = match tops.into_iter().collect::<Vec<_>>().as_slice() {
            [top] => format!("{top}/"),
            _ => String::new(),
        };
        let course_inside = format!("{prefix}course.toml");
        if !prefix.is_empty() && entries.iter().any(|(key, _, _)| *key == course_inside) {
            entries = entries
                .into_iter()
                .filter_map(|(key, index, size)| {
                    key.strip_prefix(&prefix)
                        .map(|rest| (rest.to_owned(), index, size))
                })
                .collect();
        }
    }
    let mut package = Package {
        texts: PackageFiles::new(),
        attachments: BTreeMap::new(),
        archive: Some(path.to_path_buf()),
    };
    for (key, index, size) in entries {
        let is_attachment = key.starts_with(course::ATTACHMENTS);
        limits
            .admit(&key, size, is_attachment)
            .map_err(&read_error)?;
        if is_attachment {
            let origin = Origin::ZipEntry(index);
            package.attachments.insert(key, Attachment { size, origin });
            continue;
        }
        let entry = archive
            .by_index(index)
            .map_err(|err| read_error(err.to_string()))?;
        // The declared size may lie: never read more than the limit allows.
        let mut bytes = Vec::with_capacity(size as usize);
        entry
            .take(MAX_TEXT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| read_error(format!("{key}: {err}")))?;
        if bytes.len() as u64 > MAX_TEXT_BYTES {
            return Err(read_error(text_too_large(&key, bytes.len() as u64)));
        }
        package.texts.insert(key, bytes);
    }
    Ok(package)
}

fn read_folder(root: &Path, limits: &mut Limits) -> Result<Package, String> {
    fn walk(
        root: &Path,
        dir: &Path,
        limits: &mut Limits,
        package: &mut Package,
    ) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|err| err.to_string())?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|err| err.to_string())?;
            if kind.is_dir() {
                walk(root, &path, limits, package)?;
                continue;
            }
            let Ok(relative) = path.strip_prefix(root) else {
                continue;
            };
            let key = package_key(relative);
            let size = entry.metadata().map_err(|err| err.to_string())?.len();
            let is_attachment = key.starts_with(course::ATTACHMENTS);
            limits.admit(&key, size, is_attachment)?;
            if is_attachment {
                let origin = Origin::Disk(path);
                package.attachments.insert(key, Attachment { size, origin });
            } else {
                let bytes = std::fs::read(&path).map_err(|err| format!("{key}: {err}"))?;
                package.texts.insert(key, bytes);
            }
        }
        Ok(())
    }
    let mut package = Package {
        texts: PackageFiles::new(),
        attachments: BTreeMap::new(),
        archive: None,
    };
    walk(root, root, limits, &mut package)?;
    Ok(package)
}

/// Validates a package.
pub fn check(package: &Package) -> Result<CoursePackage, ImportError> {
    let sizes = package
        .attachments
        .iter()
        .map(|(path, attachment)| (path.clone(), attachment.size))
        .collect();
    course::load_outline(&package.texts, &sizes).map_err(ImportError::Invalid)
}

/// Validates and stores a package as a new version, its attachments read and stored a chunk at a
/// time in the one transaction of the version.
pub async fn import(
    db: &DatabaseConnection,
    principal: &Principal,
    package: &Package,
) -> Result<course_version::Model, ImportError> {
    principal
        .require_system()
        .map_err(|err| ImportError::Denied(err.to_string()))?;
    let course = check(package)?;
    let json = serde_json::to_string(&course).map_err(|err| DbErr::Custom(err.to_string()))?;
    let version = VersionImport::begin(
        db,
        &course.slug,
        &course.version,
        (&course.title.sv, &course.title.en),
        json,
        principal.now_unix(),
    )
    .await
    .map_err(|err| match err {
        StoreError::Conflict(_) => ImportError::Exists {
            slug: course.slug.clone(),
            version: course.version.clone(),
        },
        StoreError::Db(err) => ImportError::Db(err),
    })?;
    let unreadable = |path: &str, reason: String| ImportError::Read {
        path: path.to_owned(),
        reason,
    };
    let mut archive = match &package.archive {
        None => None,
        Some(zip) => {
            let file = std::fs::File::open(zip)
                .map_err(|err| unreadable(path_of(zip), err.to_string()))?;
            Some(
                zip::ZipArchive::new(file)
                    .map_err(|err| unreadable(path_of(zip), err.to_string()))?,
            )
        }
    };
    for (path, attachment) in &package.attachments {
        let file_id = version
            .add_file(path, course::content_type(path), attachment.size)
            .await?;
        match &attachment.origin {
            Origin::Memory(bytes) => {
                store_chunks(&version, file_id, path, attachment.size, &bytes[..]).await?
            }
            Origin::Disk(on_disk) => {
                let file = std::fs::File::open(on_disk)
                    .map_err(|err| unreadable(path, err.to_string()))?;
                store_chunks(&version, file_id, path, attachment.size, file).await?
            }
            Origin::ZipEntry(index) => {
                let Some(archive) = archive.as_mut() else {
                    return Err(unreadable(path, "the package's archive is gone".into()));
                };
                let entry = archive
                    .by_index(*index)
                    .map_err(|err| unreadable(path, err.to_string()))?;
                store_chunks(&version, file_id, path, attachment.size, entry).await?
            }
        }
    }
    principal
        .audit(
            version.transaction(),
            "course.import",
            &format!("course:{}:{}", course.slug, course.version),
            None,
            serde_json::json!({ "files": package.attachments.len() }),
        )
        .await?;
    Ok(version.commit().await?)
}

fn path_of(path: &Path) -> &str {
    path.to_str().unwrap_or("the package")
}

/// Stores what `content` holds as chunks of file `file_id`, refusing content that is not the
/// `size` bytes the package declared for it (a zip entry's header can lie; a file can change).
async fn store_chunks(
    version: &VersionImport,
    file_id: i64,
    path: &str,
    size: u64,
    mut content: impl Read,
) -> Result<(), ImportError> {
    let unreadable = |reason: String| ImportError::Read {
        path: path.to_owned(),
        reason,
    };
    let mut stored = 0u64;
    for seq in 0.. {
        let mut chunk = Vec::with_capacity(CHUNK_BYTES);
        // A local file or a zip entry: a read of one chunk is short enough to do on this thread.
        (&mut content)
            .take(CHUNK_BYTES as u64)
            .read_to_end(&mut chunk)
            .map_err(|err| unreadable(err.to_string()))?;
        if chunk.is_empty() {
            break;
        }
        stored += chunk.len() as u64;
        if stored > size {
            return Err(unreadable(format!(
                "holds more than the {size} bytes its entry declares"
            )));
        }
        version.add_chunk(file_id, seq, chunk).await?;
    }
    if stored != size {
        return Err(unreadable(format!(
            "holds {stored} bytes, not the {size} its entry declares"
        )));
    }
    Ok(())
}

/// Imports the embedded demo course unless this version of it is stored already.
pub async fn ensure_demo(db: &DatabaseConnection, clock: &Clock) -> Result<(), ImportError> {
    let files = Package::from(course::demo_files());
    let package = check(&files)?;
    if store::course::find_version(db, &package.slug, &package.version)
        .await?
        .is_none()
    {
        match import(db, &Principal::service("startup", clock), &files).await {
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

/// Every stored course version, newest first (administrators choose one for a course run).
pub async fn versions(
    db: &DatabaseConnection,
    principal: &crate::admin::access::Principal,
) -> Result<Vec<entity::course_version::Model>, crate::admin::directory::AdminError> {
    principal.require(crate::admin::access::Scope::Admin)?;
    Ok(crate::store::course::all_versions(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_with_its_name_and_size() {
        use std::io::Write;
        let path = std::env::temp_dir().join(format!("cb-big-{}.zip", crate::lti::random_token(6)));
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

    #[test]
    fn a_large_file_outside_files_is_refused_as_text_with_the_advice_to_move_it() {
        let root = std::env::temp_dir().join(format!("cb-text-{}", crate::lti::random_token(6)));
        for (path, bytes) in course::demo_files() {
            let target = root.join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, bytes).unwrap();
        }
        std::fs::write(root.join("poster.png"), vec![0u8; 9 * 1024 * 1024]).unwrap();
        let refused = read_package(&root);
        std::fs::remove_file(root.join("poster.png")).unwrap();
        let accepted = read_package(&root).map(|package| check(&package).is_ok());
        let _ = std::fs::remove_dir_all(&root);
        let message = match refused {
            Err(err) => err.to_string(),
            Ok(_) => panic!("a 9 MiB file outside files/ was taken"),
        };
        assert!(message.contains("poster.png is 9 MiB"), "{message}");
        assert!(
            message.contains("put downloads and media under files/"),
            "{message}"
        );
        assert!(
            matches!(accepted, Ok(true)),
            "the demo folder itself was not accepted"
        );
    }
}

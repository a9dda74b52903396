//! Copies of an SQLite database: a consistent backup while servers write to it (`VACUUM INTO`
//! reads one snapshot), putting a copy back, and the lock file that lets a restore see that a
//! server or worker has the database open. PostgreSQL has pg_dump and pg_restore for this.
use std::{
    fs::{File, TryLockError},
    io,
    path::{Path, PathBuf},
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use super::SchemaState;

/// A lock on a database's lock file, held for as long as this lives.
#[derive(Debug)]
pub struct Held {
    _file: File,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it the other way.
    #[error("{0} is in use")]
    Busy(PathBuf),
    /// The lock file could not be opened.
    #[error("cannot open the lock file {0}: {1}")]
    Io(PathBuf, io::Error),
}

/// The lock file beside an SQLite database file.
fn lock_file_of(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn open_lock(database: &Path) -> Result<(File, PathBuf), LockError> {
    let path = lock_file_of(database);
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(|err| LockError::Io(path.clone(), err))?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|err| LockError::Io(path.clone(), err))?;
    Ok((file, path))
}

/// What servers and workers hold while they run: any number of them share it. `None` for a
/// database that is not an SQLite file.
pub fn hold_shared(database_url: &str) -> Result<Option<Held>, LockError> {
    let Some(database) = super::sqlite_file(database_url) else {
        return Ok(None);
    };
    let (file, path) = open_lock(&database)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(Held { _file: file })),
        Err(TryLockError::WouldBlock) => Err(LockError::Busy(path)),
        Err(TryLockError::Error(err)) => Err(LockError::Io(path, err)),
    }
}

/// Waits for, then holds, the lock of migrating an SQLite database, so that processes started
/// together migrate one after another. `None` for a database that is not an SQLite file.
pub fn hold_for_migration(database_url: &str) -> Result<Option<Held>, LockError> {
    let Some(database) = super::sqlite_file(database_url) else {
        return Ok(None);
    };
    let mut name = database.into_os_string();
    name.push(".migrating");
    let (file, path) = open_lock(Path::new(&name))?;
    file.lock().map_err(|err| LockError::Io(path, err))?;
    Ok(Some(Held { _file: file }))
}

/// What a restore holds: only when no server or worker has the database.
pub fn hold_exclusive(database: &Path) -> Result<Held, LockError> {
    let (file, path) = open_lock(database)?;
    match file.try_lock() {
        Ok(()) => Ok(Held { _file: file }),
        Err(TryLockError::WouldBlock) => Err(LockError::Busy(path)),
        Err(TryLockError::Error(err)) => Err(LockError::Io(path, err)),
    }
}

/// Writes a consistent copy of the database to `out`, which must not exist.
pub async fn copy_into(db: &DatabaseConnection, out: &Path) -> Result<(), DbErr> {
    let out = out.to_string_lossy().replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{out}'"))
        .await
        .map(|_| ())
}

/// What a copy holds, read from the copy itself.
#[derive(Debug, Clone)]
pub struct CopyCheck {
    /// `ok`, or the first problem SQLite's `integrity_check` found.
    pub integrity: String,
    /// Its schema against this binary's migrations.
    pub schema: SchemaState,
}

/// Opens a copy of a database and checks it, then closes it again.
pub async fn check_copy(copy: &Path) -> Result<CopyCheck, DbErr> {
    let url = format!("sqlite://{}?mode=rw", copy.display());
    let db = super::connect(&url).await?;
    let integrity = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "PRAGMA integrity_check",
        ))
        .await?
        .map(|row| row.try_get_by_index::<String>(0))
        .transpose()?
        .unwrap_or_else(|| "no answer".to_owned());
    let schema = super::schema_state(&db).await?;
    db.close().await?;
    Ok(CopyCheck { integrity, schema })
}

/// A file next to the database for the copy on its way in.
pub fn incoming_file_of(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".restoring");
    PathBuf::from(name)
}

/// Copies `from` to the incoming file beside `database`, flushed to disk.
pub fn stage(from: &Path, database: &Path) -> io::Result<PathBuf> {
    let incoming = incoming_file_of(database);
    std::fs::copy(from, &incoming)?;
    File::open(&incoming)?.sync_all()?;
    Ok(incoming)
}

/// Puts the staged copy in the database's place: the old write-ahead log and shared memory go
/// (they belong to the old file), then a rename, which is atomic on one file system.
pub fn put_in_place(incoming: &Path, database: &Path) -> io::Result<()> {
    for suffix in ["-wal", "-shm"] {
        for file in [database, incoming] {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            match std::fs::remove_file(PathBuf::from(name)) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(err),
            }
        }
    }
    std::fs::rename(incoming, database)?;
    if let Some(folder) = database.parent().filter(|f| !f.as_os_str().is_empty()) {
        // The rename itself reaches the disk with the folder's entry.
        File::open(folder)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_and_incoming_files_sit_beside_the_database() {
        let database = Path::new("data/coursebridge.db");
        assert_eq!(
            lock_file_of(database),
            PathBuf::from("data/coursebridge.db.lock")
        );
        assert_eq!(
            incoming_file_of(database),
            PathBuf::from("data/coursebridge.db.restoring")
        );
    }

    #[test]
    fn shared_holders_coexist_and_keep_an_exclusive_one_out() {
        let folder = std::env::temp_dir().join(format!("cb-lock-{}", std::process::id()));
        let database = folder.join("one.db");
        let url = format!("sqlite://{}?mode=rwc", database.display());
        let first = hold_shared(&url).ok().flatten();
        let second = hold_shared(&url).ok().flatten();
        assert!(first.is_some() && second.is_some());
        assert!(matches!(hold_exclusive(&database), Err(LockError::Busy(_))));
        drop((first, second));
        let exclusive = hold_exclusive(&database);
        assert!(exclusive.is_ok());
        assert!(matches!(hold_shared(&url), Err(LockError::Busy(_))));
        drop(exclusive);
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn postgres_has_no_lock_file() {
        assert!(matches!(hold_shared("postgres://x@h/db"), Ok(None)));
    }
}

//! Course versions, their files, and which version each context runs.
use entity::{context_course, course_file, course_file_chunk, course_version};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, sea_query::OnConflict,
};

use super::StoreError;

/// Bytes per stored chunk of a course file: what one download holds in memory at a time.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// A stored file without its content.
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// Row id.
    pub id: i64,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes; `None` for a file imported before chunks (its bytes are in the row).
    pub size: Option<i64>,
}

/// A course version being stored: the version row, then each file chunk by chunk, all in one
/// transaction, so that a package whose files are read as they are stored is never half-imported
/// and never held whole in memory.
pub struct VersionImport {
    txn: DatabaseTransaction,
    version: course_version::Model,
}

impl VersionImport {
    /// Starts storing a validated package (as JSON). `Conflict` when that slug and version exist.
    pub async fn begin(
        db: &DatabaseConnection,
        slug: &str,
        version: &str,
        titles: (&str, &str),
        package_json: String,
        now: i64,
    ) -> Result<Self, StoreError> {
        let txn = crate::store::begin_write(db).await?;
        let stored = course_version::Entity::insert(course_version::ActiveModel {
            slug: Set(slug.to_owned()),
            version: Set(version.to_owned()),
            title_sv: Set(titles.0.to_owned()),
            title_en: Set(titles.1.to_owned()),
            package: Set(package_json),
            imported_at: Set(now),
            ..Default::default()
        })
        .exec_with_returning(&txn)
        .await
        .map_err(|err| StoreError::from_insert(err, format!("course {slug} version {version}")))?;
        Ok(Self {
            txn,
            version: stored,
        })
    }

    /// Adds a file of `size` bytes; its content follows with [`Self::add_chunk`]. Returns its id.
    pub async fn add_file(&self, path: &str, content_type: &str, size: u64) -> Result<i64, DbErr> {
        let row = course_file::Entity::insert(course_file::ActiveModel {
            course_version_id: Set(self.version.id),
            path: Set(path.to_owned()),
            content_type: Set(content_type.to_owned()),
            bytes: Set(Vec::new()),
            size: Set(Some(size as i64)),
            ..Default::default()
        })
        .exec_with_returning(&self.txn)
        .await?;
        Ok(row.id)
    }

    /// Stores chunk `seq` (from 0, each [`CHUNK_BYTES`] but the last) of file `file_id`.
    pub async fn add_chunk(&self, file_id: i64, seq: i32, bytes: Vec<u8>) -> Result<(), DbErr> {
        course_file_chunk::Entity::insert(course_file_chunk::ActiveModel {
            course_file_id: Set(file_id),
            seq: Set(seq),
            bytes: Set(bytes),
            ..Default::default()
        })
        .exec_without_returning(&self.txn)
        .await?;
        Ok(())
    }

    /// The import's transaction, for what must be written with it (its audit entry).
    pub fn transaction(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Makes the version and its files visible. Dropping the import instead stores nothing.
    pub async fn commit(self) -> Result<course_version::Model, DbErr> {
        self.txn.commit().await?;
        Ok(self.version)
    }
}

/// The version `version` of course `slug`.
pub async fn find_version(
    db: &impl ConnectionTrait,
    slug: &str,
    version: &str,
) -> Result<Option<course_version::Model>, DbErr> {
    course_version::Entity::find()
        .filter(course_version::Column::Slug.eq(slug))
        .filter(course_version::Column::Version.eq(version))
        .one(db)
        .await
}

/// The most recently imported version of any course.
pub async fn latest(db: &impl ConnectionTrait) -> Result<Option<course_version::Model>, DbErr> {
    course_version::Entity::find()
        .order_by_desc(course_version::Column::Id)
        .one(db)
        .await
}

/// A version by row id.
pub async fn get(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<course_version::Model>, DbErr> {
    course_version::Entity::find_by_id(id).one(db).await
}

/// A file of a version, without reading its content.
pub async fn file_info(
    db: &impl ConnectionTrait,
    course_version_id: i64,
    path: &str,
) -> Result<Option<FileInfo>, DbErr> {
    use sea_orm::QuerySelect;
    let found: Option<(i64, String, Option<i64>)> = course_file::Entity::find()
        .select_only()
        .column(course_file::Column::Id)
        .column(course_file::Column::ContentType)
        .column(course_file::Column::Size)
        .filter(course_file::Column::CourseVersionId.eq(course_version_id))
        .filter(course_file::Column::Path.eq(path))
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.map(|(id, content_type, size)| FileInfo {
        id,
        content_type,
        size,
    }))
}

/// Chunk `seq` of a file stored in chunks.
pub async fn chunk(
    db: &impl ConnectionTrait,
    course_file_id: i64,
    seq: i32,
) -> Result<Option<Vec<u8>>, DbErr> {
    use sea_orm::QuerySelect;
    course_file_chunk::Entity::find()
        .select_only()
        .column(course_file_chunk::Column::Bytes)
        .filter(course_file_chunk::Column::CourseFileId.eq(course_file_id))
        .filter(course_file_chunk::Column::Seq.eq(seq))
        .into_tuple()
        .one(db)
        .await
}

/// The whole content of a file imported before chunks.
pub async fn legacy_bytes(
    db: &impl ConnectionTrait,
    course_file_id: i64,
) -> Result<Option<Vec<u8>>, DbErr> {
    use sea_orm::QuerySelect;
    course_file::Entity::find_by_id(course_file_id)
        .select_only()
        .column(course_file::Column::Bytes)
        .into_tuple()
        .one(db)
        .await
}

/// The version a context runs, pinning `candidate` when the context has none yet. Concurrent first
/// launches agree: the first pin wins.
pub async fn pin_context(
    db: &impl ConnectionTrait,
    context_id: i64,
    candidate: i64,
    now: i64,
) -> Result<i64, DbErr> {
    if let Some(pinned) = pinned(db, context_id).await? {
        return Ok(pinned);
    }
    context_course::Entity::insert(context_course::ActiveModel {
        context_id: Set(context_id),
        course_version_id: Set(candidate),
        pinned_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(context_course::Column::ContextId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    pinned(db, context_id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("course pin of context {context_id}")))
}

/// The version a context runs, if pinned.
pub async fn pinned(db: &impl ConnectionTrait, context_id: i64) -> Result<Option<i64>, DbErr> {
    Ok(context_course::Entity::find()
        .filter(context_course::Column::ContextId.eq(context_id))
        .one(db)
        .await?
        .map(|row| row.course_version_id))
}

/// Every stored version of a course, newest first.
pub async fn versions_of(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Vec<course_version::Model>, DbErr> {
    course_version::Entity::find()
        .filter(course_version::Column::Slug.eq(slug))
        .order_by_desc(course_version::Column::Id)
        .all(db)
        .await
}

/// Moves a context to another version (an instructor's decision).
pub async fn repin_context(
    db: &impl ConnectionTrait,
    context_id: i64,
    version_id: i64,
    now: i64,
) -> Result<(), DbErr> {
    context_course::Entity::update_many()
        .col_expr(
            context_course::Column::CourseVersionId,
            sea_orm::sea_query::Expr::value(version_id),
        )
        .col_expr(
            context_course::Column::PinnedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(context_course::Column::ContextId.eq(context_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Every stored version `version` of any course.
pub async fn with_version(
    db: &impl ConnectionTrait,
    version: &str,
) -> Result<Vec<course_version::Model>, DbErr> {
    course_version::Entity::find()
        .filter(course_version::Column::Version.eq(version))
        .all(db)
        .await
}

/// Every stored version of every course, newest first.
pub async fn all_versions(db: &impl ConnectionTrait) -> Result<Vec<course_version::Model>, DbErr> {
    course_version::Entity::find()
        .order_by_desc(course_version::Column::Id)
        .all(db)
        .await
}

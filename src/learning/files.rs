//! The files of a participant's course version (downloads, captions, videos), read a chunk at a
//! time: a download holds one chunk in memory and the database only for one short read at a time.
use sea_orm::{DatabaseConnection, DbErr};

use super::context::ContextCourse;
use crate::store;

/// A file of the course version, found but not yet read.
pub struct CourseFile {
    /// Its MIME type.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    content: Content,
}

enum Content {
    /// A file imported before chunks: one blob in its row.
    Whole(Vec<u8>),
    /// Chunks of [`store::course::CHUNK_BYTES`], read as they are sent.
    Chunked { file_id: i64 },
}

/// The file at `path` (`files/…`) of the course the person's LMS course runs, if it has one.
pub async fn find(
    db: &DatabaseConnection,
    course: &ContextCourse,
    path: &str,
) -> Result<Option<CourseFile>, DbErr> {
    let Some(file) = store::course::file_info(db, course.version_id, path).await? else {
        return Ok(None);
    };
    let (size, content) = match file.size {
        Some(size) => (size.max(0) as u64, Content::Chunked { file_id: file.id }),
        None => {
            let bytes = store::course::legacy_bytes(db, file.id)
                .await?
                .unwrap_or_default();
            (bytes.len() as u64, Content::Whole(bytes))
        }
    };
    Ok(Some(CourseFile {
        content_type: file.content_type,
        size,
        content,
    }))
}

impl CourseFile {
    /// The bytes `first..=last`, as a stream that reads one chunk per step.
    pub fn bytes(
        self,
        db: DatabaseConnection,
        (first, last): (u64, u64),
    ) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
        let size = store::course::CHUNK_BYTES as u64;
        let content = std::sync::Arc::new(self.content);
        futures_util::stream::unfold(first, move |at| {
            let db = db.clone();
            let content = content.clone();
            async move {
                if at > last {
                    return None;
                }
                let file_id = match content.as_ref() {
                    Content::Whole(bytes) => {
                        let piece = bytes
                            .get(at as usize..=last as usize)
                            .unwrap_or_default()
                            .to_vec();
                        return Some((Ok(piece), last + 1));
                    }
                    Content::Chunked { file_id } => *file_id,
                };
                let seq = (at / size) as i32;
                let chunk = match store::course::chunk(&db, file_id, seq).await {
                    Ok(Some(chunk)) => chunk,
                    Ok(None) => {
                        let missing = std::io::Error::other(format!("chunk {seq} is missing"));
                        return Some((Err(missing), last + 1));
                    }
                    Err(err) => return Some((Err(std::io::Error::other(err)), last + 1)),
                };
                let start = (at - u64::from(seq as u32) * size) as usize;
                let end = ((last - u64::from(seq as u32) * size) as usize + 1).min(chunk.len());
                let piece = chunk[start.min(end)..end].to_vec();
                Some((Ok(piece), u64::from(seq as u32 + 1) * size))
            }
        })
    }
}

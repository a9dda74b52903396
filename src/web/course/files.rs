//! `GET /course/files/{*path}`: a file of the context's course package, whole or the one byte range
//! asked for.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    state::{App, AppState},
    web::{
        error::{AppError, InLang},
        launched::Launched,
    },
};

/// `GET /course/files/{*path}`: a file of the context's course package.
pub async fn download(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<String>,
    Launched { session, lang }: Launched,
) -> Result<Response, AppError> {
    let course = app
        .courses
        .for_session(&app.db, &session)
        .await
        .in_lang(lang)?;
    let path = format!("files/{path}");
    let file = crate::learning::files::find(&app.db, &course, &path)
        .await
        .in_lang(lang)?
        .ok_or(AppError::NotFound { lang })?;
    let range = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    Ok(file_response(&app, &path, file, range))
}

/// A course file as an attachment: whole, or the one range asked for (a video player seeking).
fn file_response(
    app: &App,
    path: &str,
    file: crate::learning::files::CourseFile,
    range: Option<&str>,
) -> Response {
    let name = path.rsplit('/').next().unwrap_or("file").replace('"', "");
    let total = file.size;
    let (status, content_range, span) = match byte_range(range, total) {
        ByteRange::Whole => (StatusCode::OK, None, (total > 0).then(|| (0, total - 1))),
        ByteRange::Part { first, last } => (
            StatusCode::PARTIAL_CONTENT,
            Some(format!("bytes {first}-{last}/{total}")),
            Some((first, last)),
        ),
        ByteRange::Unsatisfiable => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            Some(format!("bytes */{total}")),
            None,
        ),
    };
    let content_type = file.content_type.clone();
    let body = match span {
        None => axum::body::Body::empty(),
        Some(span) => axum::body::Body::from_stream(file.bytes(app.db.clone(), span)),
    };
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
            (header::ACCEPT_RANGES, "bytes".to_owned()),
        ],
        body,
    )
        .into_response();
    if let Some(content_range) = content_range
        && let Ok(value) = header::HeaderValue::from_str(&content_range)
    {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

/// Which bytes of a file a request asks for (RFC 9110 §14): one range is served as 206 (a video
/// player seeking), several or a malformed header as the whole file.
#[derive(Debug, PartialEq, Eq)]
enum ByteRange {
    Whole,
    Part { first: u64, last: u64 },
    Unsatisfiable,
}

fn byte_range(header: Option<&str>, total: u64) -> ByteRange {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return ByteRange::Whole;
    };
    if spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return ByteRange::Whole;
    };
    let (first, last) = match (first.trim(), last.trim()) {
        ("", "") => return ByteRange::Whole,
        // The last N bytes.
        ("", suffix) => match suffix.parse::<u64>() {
            Ok(0) => return ByteRange::Unsatisfiable,
            Ok(n) => (total.saturating_sub(n), total.saturating_sub(1)),
            Err(_) => return ByteRange::Whole,
        },
        (first, "") => match first.parse::<u64>() {
            Ok(first) => (first, total.saturating_sub(1)),
            Err(_) => return ByteRange::Whole,
        },
        (first, last) => match (first.parse::<u64>(), last.parse::<u64>()) {
            (Ok(first), Ok(last)) if first <= last => (first, last.min(total.saturating_sub(1))),
            _ => return ByteRange::Whole,
        },
    };
    if total == 0 || first >= total {
        return ByteRange::Unsatisfiable;
    }
    ByteRange::Part { first, last }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_follow_rfc_9110() {
        assert_eq!(byte_range(None, 100), ByteRange::Whole);
        assert_eq!(
            byte_range(Some("bytes=0-9"), 100),
            ByteRange::Part { first: 0, last: 9 }
        );
        assert_eq!(
            byte_range(Some("bytes=90-"), 100),
            ByteRange::Part {
                first: 90,
                last: 99
            }
        );
        assert_eq!(
            byte_range(Some("bytes=-10"), 100),
            ByteRange::Part {
                first: 90,
                last: 99
            }
        );
        assert_eq!(
            byte_range(Some("bytes=95-200"), 100),
            ByteRange::Part {
                first: 95,
                last: 99
            }
        );
        assert_eq!(
            byte_range(Some("bytes=100-"), 100),
            ByteRange::Unsatisfiable
        );
        assert_eq!(byte_range(Some("bytes=-0"), 100), ByteRange::Unsatisfiable);
        assert_eq!(byte_range(Some("bytes=0-1,5-6"), 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("bytes=9-3"), 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("items=0-9"), 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("bytes=0-0"), 0), ByteRange::Unsatisfiable);
    }
}

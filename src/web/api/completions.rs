//! Completion records with incremental sync: a cursor over the commit-ordered change sequence, so
//! paging neither skips nor repeats a change while records change underneath. JSON or CSV.
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, ApiPrincipal, ApiQuery, Problem, page_limit};
use crate::{
    admin::access::Scope, admin::reports::RecordFilter, learning::records::CompletionView,
    state::AppState,
};

/// Which records.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompletionQuery {
    /// Only records changed at or after this time (RFC 3339, e.g. `2026-11-01T00:00:00Z`).
    #[param(format = DateTime)]
    pub updated_since: Option<String>,
    /// The `next_cursor` of the previous page: records changed after it.
    pub cursor: Option<String>,
    /// Only this cohort's records.
    pub cohort: Option<i64>,
    /// At most this many (1–1000, default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// `json` (default) or `csv`. `Accept: text/csv` also asks for CSV.
    pub format: Option<ResponseFormat>,
}

/// The form of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResponseFormat {
    /// A JSON page.
    Json,
    /// CSV, one line per record.
    Csv,
}

/// One page of completion records.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CompletionPage {
    /// Records in change order.
    pub records: Vec<CompletionView>,
    /// Pass as `cursor` for the next page, and keep it for the next sync: it continues after the
    /// last change this page returned.
    pub next_cursor: String,
    /// Whether more records wait after this page right now.
    pub has_more: bool,
}

fn encode_cursor(sequence: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("c1:{sequence}"))
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("c1:")?
        .parse()
        .ok()
        .filter(|n: &i64| *n >= 0)
}

fn wants_csv(query: &CompletionQuery, headers: &HeaderMap) -> Result<bool, ApiError> {
    match query.format {
        Some(ResponseFormat::Csv) => Ok(true),
        Some(ResponseFormat::Json) => Ok(false),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv"))),
    }
}

/// Completion records changed since a time or a cursor, in change order.
#[utoipa::path(get, path = "/api/v1/completions", tag = "completions",
    security(("token" = [])),
    params(CompletionQuery),
    responses(
        (status = 200, description = "A page of records (JSON) or a CSV download; the CSV's next cursor is in the `Coursebridge-Next-Cursor` header",
            content((CompletionPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the completions:read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cohort", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_completions(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<CompletionQuery>,
) -> Result<Response, ApiError> {
    principal.require(Scope::CompletionsRead)?;
    let csv = wants_csv(&query, &headers)?;
    let limit = page_limit(query.limit, 200, 1_000)?;
    let filter = record_filter(&principal, &query)?;
    if let Some(cohort) = query.cohort {
        super::directory::visible_cohort(&app, &principal, cohort).await?;
    }
    let after_sequence = filter.after_sequence;
    let (records, has_more, last) =
        crate::admin::reports::page(&app.db, &principal, filter, limit).await?;
    let next_cursor = encode_cursor(last.unwrap_or(after_sequence));
    if csv {
        return Ok(csv_page(&records, &next_cursor));
    }
    Ok(Json(CompletionPage {
        records,
        next_cursor,
        has_more,
    })
    .into_response())
}

/// Which records the query asks for, within the principal's organisation.
fn record_filter(
    principal: &crate::admin::access::Principal,
    query: &CompletionQuery,
) -> Result<RecordFilter, ApiError> {
    let after_sequence = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(cursor) => decode_cursor(cursor).ok_or_else(|| {
            ApiError::bad_request(
                "cursor is not one this service gave out; start again without it.",
            )
        })?,
    };
    let updated_since_ms = match &query.updated_since {
        None => None,
        Some(since) => Some(crate::i18n::time::parse_rfc3339_ms(since).ok_or_else(|| {
            ApiError::bad_request(
                "updated_since must be an RFC 3339 time, e.g. 2026-11-01T00:00:00Z.",
            )
        })?),
    };
    Ok(RecordFilter {
        organisation: principal.organisation.clone(),
        context_id: query.cohort,
        updated_since_ms,
        after_sequence,
    })
}

/// A page of records as CSV; the next page's cursor in a header.
fn csv_page(records: &[crate::learning::records::CompletionView], next_cursor: &str) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"completions.csv\"",
            ),
        ],
        crate::admin::reports::completions_csv(records),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(next_cursor) {
        response
            .headers_mut()
            .insert("coursebridge-next-cursor", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_foreign_values() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("42"), None);
        assert_eq!(decode_cursor(""), None);
        assert_eq!(decode_cursor(&encode_cursor(-1)), None);
    }
}

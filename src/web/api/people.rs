//! Personal data: a person's subject access export, and erasure.
use axum::{Json, extract::State};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ApiError, ApiId, ApiJson, ApiPrincipal, Problem};
use crate::{
    admin::people::{self, Erasure, ErasureReport, PersonError, PersonExport},
    state::AppState,
};

impl From<PersonError> for ApiError {
    fn from(error: PersonError) -> Self {
        match error {
            PersonError::Denied(denied) => denied.into(),
            PersonError::NotFound => ApiError::not_found("such person"),
            PersonError::Db(err) => err.into(),
        }
    }
}

/// Everything stored about a person, as JSON (within the token's organisation).
#[utoipa::path(get, path = "/api/v1/people/{id}/export", tag = "personal data",
    security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The person's id (`person.id` in completion records)")),
    responses(
        (status = 400, description = "The id is not a whole number in range", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Everything stored about the person", body = PersonExport),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export_person(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiId(id): ApiId,
) -> Result<Json<PersonExport>, ApiError> {
    Ok(Json(people::export(&app.db, &principal, id).await?))
}

/// How to erase.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// `anonymise`: identity and personal content removed, statuses and completion kept as
    /// anonymous counts. `delete`: everything of the person removed.
    pub mode: ErasureMode,
}

/// How thoroughly to erase.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ErasureMode {
    /// Identity and personal content removed, counts kept.
    Anonymise,
    /// Everything removed.
    Delete,
}

/// Erase a person (within the token's organisation). Recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/people/{id}/erase", tag = "personal data",
    security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The person's id")),
    request_body = ErasureRequest,
    responses(
        (status = 200, description = "What was removed", body = ErasureReport),
        (status = 400, description = "The mode is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn erase_person(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiId(id): ApiId,
    ApiJson(request): ApiJson<ErasureRequest>,
) -> Result<Json<ErasureReport>, ApiError> {
    let how = match request.mode {
        ErasureMode::Anonymise => Erasure::Anonymise,
        ErasureMode::Delete => Erasure::Delete,
    };
    Ok(Json(people::erase(&app.db, &principal, id, how).await?))
}

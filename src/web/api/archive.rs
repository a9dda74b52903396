//! Archive packages over the API.
use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use super::{ApiError, ApiId, ApiPrincipal, Problem};
use crate::{
    admin::archive::{self, ArchiveError},
    state::AppState,
};

/// A cohort's archive package (E-ARK SIP / FGS Paketstruktur 2.0) as a ZIP.
#[utoipa::path(get, path = "/api/v1/cohorts/{id}/archive", tag = "archive",
    security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Cohort row id")),
    responses(
        (status = 400, description = "The id is not a whole number in range", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "The package", content_type = "application/zip", body = Vec<u8>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cohort", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn download_archive(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiId(id): ApiId,
) -> Result<Response, ApiError> {
    match archive::build(&app.db, &principal, id).await {
        Ok(package) => Ok((
            [
                (header::CONTENT_TYPE, "application/zip".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.zip\"", package.id),
                ),
            ],
            package.zip,
        )
            .into_response()),
        Err(ArchiveError::Denied(denied)) => Err(denied.into()),
        Err(ArchiveError::NotFound) => Err(ApiError::not_found("such cohort")),
        Err(ArchiveError::Db(err)) => Err(err.into()),
        Err(ArchiveError::Zip(err)) => {
            tracing::error!(error = %err, "writing an archive package failed");
            Err(sea_orm::DbErr::Custom(err).into())
        }
    }
}
